/* kf_validate: anomalies of data statistics against a schema, with TFDV's
 * anomaly types and meaning (tensorflow_metadata AnomalyInfo.Type):
 *   SCHEMA_MISSING_COLUMN, SCHEMA_NEW_COLUMN, FEATURE_TYPE_NOT_PRESENT,
 *   FEATURE_TYPE_LOW_NUMBER_PRESENT, FEATURE_TYPE_LOW_FRACTION_PRESENT,
 *   UNEXPECTED_DATA_TYPE, ENUM_TYPE_UNEXPECTED_STRING_VALUES,
 *   BOOL_TYPE_UNEXPECTED_STRING, BOOL_TYPE_SMALL_INT, BOOL_TYPE_BIG_INT,
 *   INT_TYPE_SMALL_INT, INT_TYPE_BIG_INT, FLOAT_TYPE_SMALL_FLOAT,
 *   FLOAT_TYPE_BIG_FLOAT, FLOAT_TYPE_HAS_NAN, FLOAT_TYPE_HAS_INF.
 * The statistics should be computed with the schema's BYTES features in
 * kf_stats_opts.as_strings (kf_validate_string_features), so that every
 * value of a string domain is counted. */
#ifndef KF_VALIDATE_H
#define KF_VALIDATE_H

#include <cjson/cJSON.h>

struct kf_schema;
struct kf_stats;
struct kf_strv;

/* The BYTES features of the schema, to count as strings. */
void kf_validate_string_features(const struct kf_schema *schema, struct kf_strv *out);

/* {"kind": "AnomalyList", "items": [{"kind": "Anomaly", "name": FEATURE,
 * "type", "severity", "shortDescription", "description", ...}]}: one item
 * per anomaly, in schema order, new columns last. env: NULL = every
 * feature. */
cJSON *kf_validate(const struct kf_schema *schema, struct kf_stats *st, const char *env);

#endif
