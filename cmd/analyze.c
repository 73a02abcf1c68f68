/* kf analyze: data statistics, schema inference, validation and drift
 * (the data half of TensorFlow Data Validation). */
#include "config.h"

#include "analyze_model.h"
#include "kf_cmd.h"
#include "kf_print.h"
#include "data/kf_drift.h"
#include "data/kf_record.h"
#include "data/kf_report.h"
#include "data/kf_schema.h"
#include "data/kf_stats.h"
#include "data/kf_validate.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_ZERO_OPT \
	{ 0, "exit-zero", KF_OPT_NONE, NULL, "exit 0 even when something is found (report only)", NULL }
#define SKIP_BAD_ROWS_OPT \
	{ 0, "skip-bad-rows", KF_OPT_NONE, NULL, "count and skip malformed rows instead of failing", NULL }

static bool want(const struct kf_ctx *ctx, const char *format)
{
	return ctx->output && !strcmp(ctx->output, format);
}

static bool table_output(const struct kf_ctx *ctx)
{
	return !ctx->output || !strcmp(ctx->output, "table");
}

static int print_owned(char *text, struct kf_err *err)
{
	int rc = kf_print_outs(text, err);

	free(text);
	return rc;
}

static void note_bad_rows(const struct kf_ctx *ctx, const struct kf_stats_result *res)
{
	if (res->bad_rows)
		kf_print_warning(ctx, "%llu malformed row%s skipped; the first: %s",
				 (unsigned long long)res->bad_rows, res->bad_rows == 1 ? "" : "s",
				 res->first_bad ? res->first_bad : "?");
}

/* ---- recording in the store ------------------------------------------------ */

/* Record the execution; the analysis is done and printed by then, so a
 * store that cannot be written is a warning. */
static void record(const struct kf_ctx *ctx, const char *exec_type, const struct kf_store_props *exec_props,
		   const struct kf_record_input *in, size_t nin, const struct kf_record_output *out)
{
	char *dir = kf_ctx_store_dir(ctx);
	struct kf_err err;
	int64_t id = 0;

	kf_err_clear(&err);
	if (kf_record_analysis(dir, exec_type, ctx->cmd_path, exec_props, in, nin, out, &id, &err) < 0)
		kf_print_warning(ctx, "not recorded in the store: %s", err.msg);
	else if (ctx->verbose)
		kf_print_info(ctx, "recorded execution %lld in \"%s\"", (long long)id, dir);
	free(dir);
}

static void record_json(const struct kf_ctx *ctx, const char *exec_type, const struct kf_store_props *eprops,
			const struct kf_record_input *in, size_t nin, const char *event, const char *type,
			const cJSON *doc, const struct kf_store_props *oprops)
{
	char *text = cJSON_PrintUnformatted(doc);
	struct kf_record_output out = { event, type, text, strlen(text), oprops };

	record(ctx, exec_type, eprops, in, nin, &out);
	cJSON_free(text);
}

/* ---- stats ---------------------------------------------------------------- */

static void fmt_num(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.6g", v);
}

/* One table row per feature, numbers rounded for reading. */
static cJSON *feature_rows(struct kf_stats *s)
{
	cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
	size_t i;

	cJSON_AddStringToObject(doc, "kind", "FeatureStatisticsList");
	for (i = 0; i < s->n; i++) {
		struct kf_stats_feature *f = &s->f[i];
		cJSON *o = cJSON_CreateObject();
		char b[64];

		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddStringToObject(o, "type", kf_stats_type_name(f->type));
		snprintf(b, sizeof b, "%llu", (unsigned long long)f->present);
		cJSON_AddStringToObject(o, "count", b);
		snprintf(b, sizeof b, "%llu", (unsigned long long)(s->rows - f->present));
		cJSON_AddStringToObject(o, "missing", b);
		if (kf_stats_is_numeric(f) && f->finite) {
			fmt_num(b, sizeof b, f->mean);
			cJSON_AddStringToObject(o, "mean", b);
			fmt_num(b, sizeof b, kf_stats_stddev(f));
			cJSON_AddStringToObject(o, "std", b);
			snprintf(b, sizeof b, "%llu", (unsigned long long)f->zeros);
			cJSON_AddStringToObject(o, "zeros", b);
			fmt_num(b, sizeof b, f->min);
			cJSON_AddStringToObject(o, "min", b);
			fmt_num(b, sizeof b, kf_quant_query(&f->quant, 0.5));
			cJSON_AddStringToObject(o, "median", b);
			fmt_num(b, sizeof b, f->max);
			cJSON_AddStringToObject(o, "max", b);
		} else if (f->freq.total) {
			const struct kf_freq_item **top;
			size_t n;

			snprintf(b, sizeof b, "%s%.0f", f->freq.exact ? "" : "~", kf_freq_unique(&f->freq));
			cJSON_AddStringToObject(o, "unique", b);
			top = kf_freq_top(&f->freq, 1, &n);
			if (n) {
				char *t = kf_xasprintf("%s (%llu)", top[0]->s, (unsigned long long)top[0]->count);

				cJSON_AddStringToObject(o, "top", t);
				free(t);
			}
			free(top);
			fmt_num(b, sizeof b, (double)f->freq.str_bytes / (double)f->freq.total);
			cJSON_AddStringToObject(o, "avgLen", b);
		}
		cJSON_AddItemToArray(items, o);
	}
	return doc;
}

static int print_stats_table(const struct kf_ctx *ctx, struct kf_stats_result *res, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "FEATURE", "name" }, { "TYPE", "type" }, { "COUNT", "count" }, { "MISSING", "missing" },
		{ "MEAN", "mean" }, { "STD", "std" }, { "ZEROS", "zeros" }, { "MIN", "min" },
		{ "MEDIAN", "median" }, { "MAX", "max" }, { "UNIQUE", "unique" }, { "TOP", "top" },
		{ "AVG_LEN", "avgLen" }, { NULL, NULL },
	};
	struct kf_buf out = KF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i <= res->nslices && rc == 0; i++) {
		struct kf_stats *s = i == 0 ? res->all : res->slices[i - 1];
		cJSON *doc = feature_rows(s);

		if (res->nslices)
			kf_buf_printf(&out, "%s%s (%llu examples)\n", i ? "\n" : "", s->name, (unsigned long long)s->rows);
		rc = kf_output_render(&out, "table", doc, cols, err);
		cJSON_Delete(doc);
	}
	if (rc == 0)
		rc = kf_print_buf(&out, err);
	kf_buf_release(&out);
	return rc;
}

static int compute(const struct kf_ctx *ctx, struct kf_args *args, const char *const *paths, size_t n,
		   const struct kf_strv *as_strings, struct kf_stats_result *res, struct kf_err *err)
{
	struct kf_stats_opts opts = { 0 };
	int rc;

	opts.skip_bad_rows = kf_args_has(args, "skip-bad-rows");
	opts.slice = kf_args_get(args, "slice");
	opts.as_strings = as_strings;
	rc = kf_stats_compute(res, paths, n, &opts, err);
	if (rc == 0)
		note_bad_rows(ctx, res);
	return rc;
}

static void record_stats(const struct kf_ctx *ctx, struct kf_args *args, const struct kf_record_digests *dg,
			 struct kf_stats_result *res, cJSON *doc)
{
	struct kf_store_props ep = KF_STORE_PROPS_INIT, op = KF_STORE_PROPS_INIT;
	struct kf_record_input *in = kf_xcalloc((size_t)args->argc + 1, sizeof *in);
	size_t n = 0;
	int i;

	for (i = 0; i < args->argc; i++)
		in[n++] = (struct kf_record_input){ "data", "Dataset", args->argv[i], kf_record_digest(dg, (size_t)i) };
	kf_store_props_int(&op, "num_examples", (int64_t)res->all->rows);
	kf_store_props_int(&op, "num_features", (int64_t)res->all->n);
	kf_store_props_int(&ep, "bad_rows", (int64_t)res->bad_rows);
	if (kf_args_get(args, "slice"))
		kf_store_props_str(&ep, "slice", kf_args_get(args, "slice"));
	record_json(ctx, "kf.AnalyzeStats", &ep, in, n, "statistics", "Statistics", doc, &op);
	free(in);
	kf_store_props_release(&ep);
	kf_store_props_release(&op);
}

static int run_stats(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_stats_result res;
	struct kf_record_digests dg;
	cJSON *doc = NULL;
	int rc;

	if ((rc = kf_output_check(ctx->output, "table|json|yaml|html", err)) < 0)
		return rc;
	kf_record_digests_start(&dg, args->argv, (size_t)args->argc);
	rc = compute(ctx, args, (const char *const *)args->argv, (size_t)args->argc, NULL, &res, err);
	if (rc < 0)
		goto out;
	doc = kf_stats_to_json(&res);
	if (want(ctx, "html"))
		rc = print_owned(kf_report_stats_html(&res, NULL, "kf analyze stats"), err);
	else if (table_output(ctx))
		rc = print_stats_table(ctx, &res, err);
	else
		rc = kf_print_records(ctx, doc, NULL, "table|json|yaml|html", err);
	if (rc == 0) {
		kf_record_digests_join(&dg);
		record_stats(ctx, args, &dg, &res, doc);
	}
out:
	kf_record_digests_release(&dg);
	cJSON_Delete(doc);
	kf_stats_result_release(&res);
	return rc;
}

static const struct kf_opt stats_opts[] = {
	{ 0, "slice", KF_OPT_REQUIRED, "COL", "also compute the statistics of each value of COL", NULL },
	SKIP_BAD_ROWS_OPT,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static const struct kf_cmd kf_cmd_analyze_stats = {
	.name = "stats",
	.summary = "per-feature statistics of CSV or JSON Lines data",
	.usage = "analyze stats [--slice COL] [--skip-bad-rows] [-o table|json|yaml|html] DATA...",
	.description = "DATA is a CSV file (RFC 4180, header row), JSON Lines (.jsonl), either\n"
		       "gzip-compressed, or - for standard input; several inputs make one dataset.",
	.opts = stats_opts,
	.formats = "table|json|yaml|html",
	.min_args = 1,
	.max_args = -1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_stats,
};

/* ---- schema ---------------------------------------------------------------- */

static int print_schema(const struct kf_ctx *ctx, const struct kf_schema *schema, const char *source,
			struct kf_err *err)
{
	struct kf_buf out = KF_BUF_INIT;
	cJSON *doc;
	int rc = 0;

	if (want(ctx, "pbtxt")) {
		kf_schema_to_pbtxt(schema, &out);
	} else {
		doc = kf_schema_to_json(schema);
		if (source)
			cJSON_AddStringToObject(doc, "name", source);
		rc = kf_output_render(&out, want(ctx, "json") ? "json" : "yaml", doc, NULL, err);
		cJSON_Delete(doc);
	}
	if (rc == 0)
		rc = kf_print_buf(&out, err);
	kf_buf_release(&out);
	return rc;
}

/* The schema is stored in TFDV's text format, whatever was printed. */
static void record_schema(const struct kf_ctx *ctx, struct kf_args *args, const struct kf_record_digests *dg,
			  const struct kf_schema *schema)
{
	struct kf_store_props op = KF_STORE_PROPS_INIT;
	struct kf_buf text = KF_BUF_INIT;
	struct kf_record_input in = { "data", "Dataset", args->argv[0], kf_record_digest(dg, 0) };
	struct kf_record_output out = { "schema", "Schema", NULL, 0, &op };

	kf_schema_to_pbtxt(schema, &text);
	out.content = kf_buf_str(&text);
	out.len = text.len;
	kf_store_props_int(&op, "num_features", (int64_t)schema->n);
	kf_store_props_str(&op, "format", "pbtxt");
	record(ctx, "kf.AnalyzeSchema", NULL, &in, 1, &out);
	kf_store_props_release(&op);
	kf_buf_release(&text);
}

static int run_schema(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_schema_infer_opts iopts = { 0 };
	struct kf_stats_result res;
	struct kf_schema schema;
	struct kf_record_digests dg;
	const char *v;
	long n;
	int rc;

	if ((rc = kf_output_check(ctx->output, "yaml|json|pbtxt", err)) < 0)
		return rc;
	if ((v = kf_args_get(args, "max-domain"))) {
		if (!kf_str_to_long(v, &n) || n < 0)
			return kf_err_set(err, KF_EUSAGE, "--max-domain: \"%s\" is not a count", v);
		iopts.max_domain = (size_t)n;
	}
	iopts.ranges = kf_args_has(args, "infer-ranges");
	kf_record_digests_start(&dg, args->argv, 1);
	rc = compute(ctx, args, (const char *const *)args->argv, 1, NULL, &res, err);
	if (rc == 0) {
		kf_schema_infer(&schema, res.all, &iopts);
		rc = print_schema(ctx, &schema, res.source, err);
		kf_record_digests_join(&dg);
		if (rc == 0)
			record_schema(ctx, args, &dg, &schema);
		kf_schema_release(&schema);
	}
	kf_record_digests_release(&dg);
	kf_stats_result_release(&res);
	return rc;
}

static const struct kf_opt schema_opts[] = {
	{ 0, "max-domain", KF_OPT_REQUIRED, "N", "a string domain when at most N distinct values (default 100)", NULL },
	{ 0, "infer-ranges", KF_OPT_NONE, NULL, "pin int and float ranges to the observed min and max", NULL },
	SKIP_BAD_ROWS_OPT,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static const struct kf_cmd kf_cmd_analyze_schema = {
	.name = "schema",
	.summary = "infer a schema (TFDV rules) from data",
	.usage = "analyze schema [--max-domain N] [--infer-ranges] [--skip-bad-rows] [-o yaml|json|pbtxt] DATA",
	.opts = schema_opts,
	.formats = "yaml|json|pbtxt",
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_schema,
};

/* ---- validate -------------------------------------------------------------- */

static int run_validate(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "FEATURE", "name" }, { "ANOMALY", "type" }, { "DESCRIPTION", "description" }, { NULL, NULL },
	};
	struct kf_strv strings = KF_STRV_INIT;
	struct kf_stats_result res;
	struct kf_schema schema;
	cJSON *anomalies = NULL;
	struct kf_record_digests dg = { 0 };
	int rc, n;

	memset(&res, 0, sizeof res);
	if ((rc = kf_output_check(ctx->output, "table|json|yaml|html", err)) < 0)
		return rc;
	rc = kf_schema_load(&schema, kf_args_get(args, "schema"), err);
	if (rc < 0)
		goto out;
	kf_validate_string_features(&schema, &strings);
	kf_record_digests_start(&dg, args->argv, 1);
	rc = compute(ctx, args, (const char *const *)args->argv, 1, &strings, &res, err);
	if (rc < 0)
		goto out;
	anomalies = kf_validate(&schema, res.all, kf_args_get(args, "environment"));
	cJSON_AddStringToObject(anomalies, "name", res.source);
	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(anomalies, "items"));
	if (want(ctx, "html"))
		rc = print_owned(kf_report_stats_html(&res, anomalies, "kf analyze validate"), err);
	else if (table_output(ctx) && n == 0)
		rc = kf_print_outs("no anomalies\n", err);
	else
		rc = kf_print_records(ctx, anomalies, cols, "table|json|yaml|html", err);
	if (rc == 0) {
		struct kf_store_props ep = KF_STORE_PROPS_INIT, op = KF_STORE_PROPS_INIT;
		struct kf_record_input in[2] = {
			{ "data", "Dataset", args->argv[0], NULL },
			{ "schema", "Schema", kf_args_get(args, "schema"), NULL },
		};

		kf_record_digests_join(&dg);
		in[0].digest = kf_record_digest(&dg, 0);

		if (kf_args_get(args, "environment"))
			kf_store_props_str(&ep, "environment", kf_args_get(args, "environment"));
		kf_store_props_int(&op, "num_anomalies", n);
		record_json(ctx, "kf.AnalyzeValidate", &ep, in, 2, "anomalies", "Anomalies", anomalies, &op);
		kf_store_props_release(&ep);
		kf_store_props_release(&op);
	}
	if (rc == 0 && n > 0 && kf_args_has(args, "exit-zero"))
		kf_print_info(ctx, "kf: %d anomal%s found in \"%s\" (--exit-zero)", n, n == 1 ? "y" : "ies",
			      res.source);
	else if (rc == 0 && n > 0)
		rc = kf_err_set(err, KF_EFAIL, "%d anomal%s found in \"%s\"", n, n == 1 ? "y" : "ies", res.source);
out:
	kf_record_digests_release(&dg);
	cJSON_Delete(anomalies);
	kf_stats_result_release(&res);
	kf_schema_release(&schema);
	kf_strv_release(&strings);
	return rc;
}

static const struct kf_opt validate_opts[] = {
	{ 's', "schema", KF_OPT_REQUIRED, "FILE", "the schema: kf YAML/JSON or TFDV schema.pbtxt (required)", "file" },
	{ 'e', "environment", KF_OPT_REQUIRED, "NAME", "check only the features of this environment (TRAINING, SERVING, ...)", NULL },
	EXIT_ZERO_OPT,
	SKIP_BAD_ROWS_OPT,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_validate_checked(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	if (!kf_args_get(args, "schema"))
		return kf_err_set(err, KF_EUSAGE, "analyze validate: --schema FILE is required");
	return run_validate(ctx, args, err);
}

static const struct kf_cmd kf_cmd_analyze_validate = {
	.name = "validate",
	.summary = "check data against a schema; exit 1 when anomalies are found",
	.usage = "analyze validate --schema FILE [--environment NAME] [--exit-zero] [--skip-bad-rows] [-o table|json|yaml|html] DATA",
	.opts = validate_opts,
	.formats = "table|json|yaml|html",
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_validate_checked,
};

/* ---- drift ----------------------------------------------------------------- */

static int parse_thresholds(const struct kf_strv *vals, struct kf_drift_threshold **out, size_t *n,
			    struct kf_err *err)
{
	struct kf_drift_threshold *th;
	size_t i;

	*n = vals ? vals->n : 0;
	th = kf_xcalloc(*n + 1, sizeof *th);
	*out = th;
	for (i = 0; i < *n; i++) {
		char *s = vals->v[i], *eq = strrchr(s, '=');
		const char *num = eq ? eq + 1 : s;

		if (!kf_str_to_double(num, &th[i].value) || th[i].value < 0)
			return kf_err_set(err, KF_EUSAGE, "--threshold: \"%s\" is not [COL=]NUMBER", s);
		if (eq) {
			*eq = '\0';   /* argv is ours to cut */
			th[i].feature = s;
		}
	}
	return 0;
}

/* The schema's drift_comparator thresholds, after those of the command line
 * (which win): infinity_norm for string features, jensen_shannon_divergence
 * for numeric ones, as kf_drift measures them. */
static void schema_thresholds(const struct kf_schema *schema, struct kf_drift_threshold **th, size_t *n)
{
	size_t i;

	*th = kf_xrealloc(*th, (*n + schema->n + 1) * sizeof **th);
	for (i = 0; i < schema->n; i++) {
		const struct kf_schema_feature *f = &schema->f[i];

		if (f->type == KF_SCHEMA_BYTES && f->has_linf)
			(*th)[(*n)++] = (struct kf_drift_threshold){ f->name, f->linf };
		else if ((f->type == KF_SCHEMA_INT || f->type == KF_SCHEMA_FLOAT) && f->has_jsd)
			(*th)[(*n)++] = (struct kf_drift_threshold){ f->name, f->jsd };
	}
}

static int run_drift(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "FEATURE", "name" }, { "MEASURE", "measure" }, { "DISTANCE", "distance" },
		{ "THRESHOLD", "threshold" }, { "DRIFTED", "drifted" }, { NULL, NULL },
	};
	struct kf_stats_result base, cur;
	struct kf_drift_threshold *th = NULL;
	struct kf_schema schema;
	struct kf_record_digests dg = { 0 };
	cJSON *doc = NULL, *it;
	bool drifted = false;
	size_t nth;
	int rc, over = 0;

	memset(&base, 0, sizeof base);
	memset(&cur, 0, sizeof cur);
	memset(&schema, 0, sizeof schema);
	if ((rc = kf_output_check(ctx->output, "table|json|yaml|html", err)) < 0)
		return rc;
	if ((rc = parse_thresholds(kf_args_all(args, "threshold"), &th, &nth, err)) < 0)
		goto out;
	if (kf_args_get(args, "schema")) {
		if ((rc = kf_schema_load(&schema, kf_args_get(args, "schema"), err)) < 0)
			goto out;
		schema_thresholds(&schema, &th, &nth);
	}
	kf_record_digests_start(&dg, args->argv, 2);
	if ((rc = compute(ctx, args, (const char *const *)args->argv, 1, NULL, &base, err)) < 0)
		goto out;
	if ((rc = compute(ctx, args, (const char *const *)args->argv + 1, 1, NULL, &cur, err)) < 0)
		goto out;
	doc = kf_drift_compare(base.all, cur.all, th, nth, &drifted);
	cJSON_AddStringToObject(doc, "name", cur.source);
	cJSON_AddStringToObject(doc, "baseline", base.source);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items"))
		over += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "drifted"));
	if (want(ctx, "html"))
		rc = print_owned(kf_report_drift_html(doc, "kf analyze drift"), err);
	else
		rc = kf_print_records(ctx, doc, cols, "table|json|yaml|html", err);
	if (rc == 0) {
		struct kf_store_props op = KF_STORE_PROPS_INIT;
		struct kf_record_input in[2] = {
			{ "baseline", "Dataset", args->argv[0], NULL }, { "current", "Dataset", args->argv[1], NULL },
		};

		kf_record_digests_join(&dg);
		in[0].digest = kf_record_digest(&dg, 0);
		in[1].digest = kf_record_digest(&dg, 1);

		kf_store_props_int(&op, "num_drifted", over);
		record_json(ctx, "kf.AnalyzeDrift", NULL, in, 2, "drift", "Anomalies", doc, &op);
		kf_store_props_release(&op);
	}
	if (rc == 0 && drifted && kf_args_has(args, "exit-zero"))
		kf_print_info(ctx, "kf: %d feature%s drifted above the threshold (--exit-zero)", over,
			      over == 1 ? "" : "s");
	else if (rc == 0 && drifted)
		rc = kf_err_set(err, KF_EFAIL, "%d feature%s drifted above the threshold", over, over == 1 ? "" : "s");
out:
	cJSON_Delete(doc);
	kf_record_digests_release(&dg);
	kf_stats_result_release(&base);
	kf_stats_result_release(&cur);
	kf_schema_release(&schema);
	free(th);
	return rc;
}

static const struct kf_opt drift_opts[] = {
	{ 't', "threshold", KF_OPT_REQUIRED, "[COL=]X", "fail when COL's distance (every feature's, without COL=) is above X", NULL },
	{ 's', "schema", KF_OPT_REQUIRED, "FILE", "take thresholds from the schema's drift_comparator", "file" },
	EXIT_ZERO_OPT,
	SKIP_BAD_ROWS_OPT,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static const struct kf_cmd kf_cmd_analyze_drift = {
	.name = "drift",
	.summary = "distribution drift between two datasets, per feature",
	.usage = "analyze drift [--threshold [COL=]X]... [--schema FILE] [--exit-zero] [--skip-bad-rows] [-o table|json|yaml|html] BASELINE CURRENT",
	.opts = drift_opts,
	.formats = "table|json|yaml|html",
	.min_args = 2,
	.max_args = 2,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_drift,
};

/* ---- the parent ------------------------------------------------------------- */

const struct kf_cmd kf_cmd_analyze = {
	.name = "analyze",
	.summary = "data statistics, schema, validation and drift; model evaluation and blessing",
	.usage = "analyze stats|schema|validate|drift|model ...",
	.subs = (const struct kf_cmd *const[]){
		&kf_cmd_analyze_stats, &kf_cmd_analyze_schema, &kf_cmd_analyze_validate,
		&kf_cmd_analyze_drift, &kf_cmd_analyze_model, NULL,
	},
	.min_args = 0,
	.max_args = -1,
};
