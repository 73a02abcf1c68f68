/* kf_schema: a data schema with TFDV's model (tensorflow_metadata Schema),
 * the fields kf uses: features (name, type, presence, value_count,
 * domains: named or inline string domain, int/float ranges, bool domain,
 * disallow_nan/inf), top-level string domains, environments, and drift
 * thresholds. Read and written as TFDV's text format (schema.pbtxt) and as
 * kf YAML/JSON, which use proto3's JSON field names (minFraction,
 * stringDomain, ...). Unknown fields are ignored when reading, so a real
 * TFDV schema loads as is. */
#ifndef KF_SCHEMA_H
#define KF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/kf_str.h"

struct kf_buf;
struct kf_err;
struct kf_stats;

enum kf_schema_type { KF_SCHEMA_TYPE_UNKNOWN = 0, KF_SCHEMA_BYTES, KF_SCHEMA_INT, KF_SCHEMA_FLOAT };

struct kf_schema_feature {
	char *name;
	enum kf_schema_type type;
	bool has_min_fraction, has_min_count;
	double min_fraction;
	int64_t min_count;
	bool has_value_count;
	int64_t value_count_min, value_count_max;
	char *domain;                   /* name of a top-level string domain, or NULL */
	bool has_string_domain;         /* inline string_domain */
	struct kf_strv values;          /* its values */
	bool has_int_domain, has_int_min, has_int_max;
	int64_t int_min, int_max;
	bool has_float_domain, has_float_min, has_float_max, disallow_nan, disallow_inf;
	double float_min, float_max;
	bool bool_domain;
	struct kf_strv in_env, not_in_env;
	bool has_linf, has_jsd;         /* drift_comparator thresholds */
	double linf, jsd;
};

struct kf_schema_domain {
	char *name;
	struct kf_strv values;
};

struct kf_schema {
	struct kf_schema_feature *f;
	size_t n;
	struct kf_schema_domain *d;
	size_t nd;
	struct kf_strv default_env;
};

/* Load a schema: TFDV text format (.pbtxt, .textproto, .txt, or text that
 * starts like one), JSON (.json, or '{'), else YAML. */
int kf_schema_load(struct kf_schema *s, const char *path, struct kf_err *err);
int kf_schema_parse_pbtxt(struct kf_schema *s, const char *text, size_t len, const char *file,
			  struct kf_err *err);
int kf_schema_from_json(struct kf_schema *s, const cJSON *doc, const char *file, struct kf_err *err);
void kf_schema_release(struct kf_schema *s);

cJSON *kf_schema_to_json(const struct kf_schema *s);
void kf_schema_to_pbtxt(const struct kf_schema *s, struct kf_buf *out);

struct kf_schema_infer_opts {
	size_t max_domain;     /* string domain when at most this many distinct values; 0 = 100 */
	bool ranges;           /* also pin int/float ranges to the observed min and max */
};

/* Infer a schema from statistics with TFDV's rules. */
void kf_schema_infer(struct kf_schema *s, struct kf_stats *st, const struct kf_schema_infer_opts *opts);

const struct kf_schema_feature *kf_schema_find(const struct kf_schema *s, const char *name);
/* The feature's string domain values (inline or named), or NULL. */
const struct kf_strv *kf_schema_domain_of(const struct kf_schema *s, const struct kf_schema_feature *f);
/* Is the feature checked in environment env (NULL: every feature is)? */
bool kf_schema_in_env(const struct kf_schema *s, const struct kf_schema_feature *f, const char *env);
const char *kf_schema_type_name(enum kf_schema_type t);   /* "INT", "FLOAT", "BYTES", "TYPE_UNKNOWN" */

#endif
