/* kf_validate: statistics against a schema -> TFDV anomalies (see kf_validate.h). */
#include "config.h"

#include "data/kf_schema.h"
#include "data/kf_stats.h"
#include "data/kf_validate.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void kf_validate_string_features(const struct kf_schema *schema, struct kf_strv *out)
{
	size_t i;

	for (i = 0; i < schema->n; i++) {
		if (schema->f[i].type == KF_SCHEMA_BYTES)
			kf_strv_push(out, schema->f[i].name);
	}
}

static cJSON *anomaly(cJSON *items, const char *feature, const char *type, const char *short_desc,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static cJSON *anomaly(cJSON *items, const char *feature, const char *type, const char *short_desc,
		      const char *fmt, ...)
{
	cJSON *a = cJSON_CreateObject();
	char desc[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof desc, fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(a, "kind", "Anomaly");
	cJSON_AddStringToObject(a, "name", feature);
	cJSON_AddStringToObject(a, "type", type);
	cJSON_AddStringToObject(a, "severity", "ERROR");
	cJSON_AddStringToObject(a, "shortDescription", short_desc);
	cJSON_AddStringToObject(a, "description", desc);
	cJSON_AddItemToArray(items, a);
	return a;
}

/* TFDV's share notation: "<1%" or "~N%". */
static void share_text(char *buf, size_t n, double frac)
{
	if (frac * 100 < 1)
		snprintf(buf, n, "<1%%");
	else
		snprintf(buf, n, "~%.0f%%", floor(frac * 100 + 0.5));
}

static int by_count_desc(const void *a, const void *b)
{
	const struct kf_freq_item *x = *(const struct kf_freq_item *const *)a;
	const struct kf_freq_item *y = *(const struct kf_freq_item *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->s, y->s);
}

static void check_domain(cJSON *items, const struct kf_schema_feature *f, const struct kf_stats_feature *sf,
			 const struct kf_strv *domain)
{
	const struct kf_freq_item **bad = kf_xmalloc((sf->freq.n + 1) * sizeof *bad);
	struct kf_buf desc = KF_BUF_INIT;
	size_t nbad = 0, i;
	cJSON *a, *arr;
	char share[32];

	for (i = 0; i < sf->freq.n; i++) {
		if (!kf_strv_has(domain, sf->freq.items[i].s))
			bad[nbad++] = &sf->freq.items[i];
	}
	if (!nbad)
		goto out;
	qsort(bad, nbad, sizeof *bad, by_count_desc);
	kf_buf_adds(&desc, "Examples contain values missing from the schema: ");
	for (i = 0; i < nbad; i++) {
		share_text(share, sizeof share, (double)bad[i]->count / (double)sf->freq.total);
		kf_buf_printf(&desc, "%s%s (%s)", i ? ", " : "", bad[i]->s, share);
	}
	kf_buf_adds(&desc, ".");
	a = anomaly(items, f->name, "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "Unexpected string values", "%s",
		    kf_buf_str(&desc));
	arr = cJSON_AddArrayToObject(a, "unexpectedValues");
	for (i = 0; i < nbad; i++) {
		cJSON *v = cJSON_CreateObject();

		cJSON_AddStringToObject(v, "value", bad[i]->s);
		cJSON_AddNumberToObject(v, "count", (double)bad[i]->count);
		cJSON_AddNumberToObject(v, "fraction", (double)bad[i]->count / (double)sf->freq.total);
		cJSON_AddItemToArray(arr, v);
	}
	if (!sf->freq.exact)
		cJSON_AddBoolToObject(a, "approximate", 1);
out:
	kf_buf_release(&desc);
	free(bad);
}

static void check_bool(cJSON *items, const struct kf_schema_feature *f, const struct kf_stats_feature *sf)
{
	size_t i;

	if (f->type == KF_SCHEMA_INT) {
		if (sf->finite && sf->min < 0)
			anomaly(items, f->name, "BOOL_TYPE_SMALL_INT", "Non-boolean values",
				"Integers (such as %.17g) not in {0, 1}: converting to a boolean", sf->min);
		if (sf->finite && sf->max > 1)
			anomaly(items, f->name, "BOOL_TYPE_BIG_INT", "Non-boolean values",
				"Integers (such as %.17g) not in {0, 1}: converting to a boolean", sf->max);
		return;
	}
	for (i = 0; i < sf->freq.n; i++) {
		const char *v = sf->freq.items[i].s;

		if (strcasecmp(v, "true") && strcasecmp(v, "false")) {
			anomaly(items, f->name, "BOOL_TYPE_UNEXPECTED_STRING", "Unexpected string values",
				"Saw unexpected value: %s", v);
			return;
		}
	}
}

static void check_numbers(cJSON *items, const struct kf_schema_feature *f, const struct kf_stats_feature *sf)
{
	if (f->has_int_domain && sf->finite) {
		if (f->has_int_min && sf->min < (double)f->int_min)
			anomaly(items, f->name, "INT_TYPE_SMALL_INT", "Out-of-range values",
				"Unexpectedly small value: %.17g.", sf->min);
		if (f->has_int_max && sf->max > (double)f->int_max)
			anomaly(items, f->name, "INT_TYPE_BIG_INT", "Out-of-range values",
				"Unexpectedly large value: %.17g.", sf->max);
	}
	if (!f->has_float_domain)
		return;
	if (sf->finite && f->has_float_min && sf->min < f->float_min)
		anomaly(items, f->name, "FLOAT_TYPE_SMALL_FLOAT", "Out-of-range values",
			"Unexpectedly low value: %.17g.", sf->min);
	if (sf->finite && f->has_float_max && sf->max > f->float_max)
		anomaly(items, f->name, "FLOAT_TYPE_BIG_FLOAT", "Out-of-range values",
			"Unexpectedly high value: %.17g.", sf->max);
	if (f->disallow_nan && sf->nan)
		anomaly(items, f->name, "FLOAT_TYPE_HAS_NAN", "Invalid values", "Float feature has NaN values.");
	if (f->disallow_inf && (sf->pinf || sf->ninf))
		anomaly(items, f->name, "FLOAT_TYPE_HAS_INF", "Invalid values", "Float feature has Inf values.");
}

static void check_feature(cJSON *items, const struct kf_schema *schema, const struct kf_schema_feature *f,
			  const struct kf_stats *st, const struct kf_stats_feature *sf)
{
	bool required = (f->has_min_count && f->min_count > 0) || (f->has_min_fraction && f->min_fraction > 0);
	const struct kf_strv *domain;
	double frac;

	if (!sf) {
		if (required)
			anomaly(items, f->name, "SCHEMA_MISSING_COLUMN", "Column dropped",
				"Column is completely missing");
		return;
	}
	if (!sf->present) {
		if (required && st->rows)
			anomaly(items, f->name, "FEATURE_TYPE_NOT_PRESENT", "Column dropped",
				"The feature was not present in any examples.");
		return;
	}
	if (f->has_min_count && (int64_t)sf->present < f->min_count)
		anomaly(items, f->name, "FEATURE_TYPE_LOW_NUMBER_PRESENT", "Column dropped",
			"The feature was present in fewer examples than expected: minimum = %lld, actual = %llu",
			(long long)f->min_count, (unsigned long long)sf->present);
	frac = st->rows ? (double)sf->present / (double)st->rows : 1.0;
	if (f->has_min_fraction && frac < f->min_fraction)
		anomaly(items, f->name, "FEATURE_TYPE_LOW_FRACTION_PRESENT", "Column dropped",
			"The feature was present in fewer examples than expected: minimum fraction = %f, actual = %f",
			f->min_fraction, frac);
	if (f->type == KF_SCHEMA_INT && (sf->n_float || sf->n_string || sf->n_bool))
		anomaly(items, f->name, "UNEXPECTED_DATA_TYPE", "Unexpected data type",
			"Expected data of type: INT but got %s", sf->n_string || sf->n_bool ? "BYTES" : "FLOAT");
	else if (f->type == KF_SCHEMA_FLOAT && (sf->n_string || sf->n_bool))
		anomaly(items, f->name, "UNEXPECTED_DATA_TYPE", "Unexpected data type",
			"Expected data of type: FLOAT but got BYTES");
	if ((domain = kf_schema_domain_of(schema, f)))
		check_domain(items, f, sf, domain);
	if (f->bool_domain)
		check_bool(items, f, sf);
	check_numbers(items, f, sf);
}

cJSON *kf_validate(const struct kf_schema *schema, struct kf_stats *st, const char *env)
{
	cJSON *doc = cJSON_CreateObject(), *items;
	size_t i;

	cJSON_AddStringToObject(doc, "kind", "AnomalyList");
	if (env)
		cJSON_AddStringToObject(doc, "environment", env);
	items = cJSON_AddArrayToObject(doc, "items");
	for (i = 0; i < schema->n; i++) {
		const struct kf_schema_feature *f = &schema->f[i];

		if (!kf_schema_in_env(schema, f, env))
			continue;
		check_feature(items, schema, f, st, kf_stats_find(st, f->name));
	}
	for (i = 0; i < st->n; i++) {
		if (!kf_schema_find(schema, st->f[i].name))
			anomaly(items, st->f[i].name, "SCHEMA_NEW_COLUMN", "New column",
				"New column (column in data but not in schema)");
	}
	return doc;
}
