/* kf analyze model: evaluate model bundles (or a predictions file) on
 * labelled data, overall and per slice, compare them, and bless the
 * candidate against value and change thresholds. */
#include "config.h"

#include "analyze_model.h"
#include "kf_cmd.h"
#include "kf_print.h"
#include "ml/kf_bless.h"
#include "ml/kf_eval.h"
#include "ml/kf_eval_html.h"
#include "ml/kf_evaluate.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct kf_opt opts[] = {
	{ 0, "model", KF_OPT_REQUIRED, "DIR", "a model bundle to evaluate (repeat to compare)", "dir" },
	{ 0, "data", KF_OPT_REQUIRED, "CSV", "the labelled rows to evaluate on", "file" },
	{ 0, "label", KF_OPT_REQUIRED, "COL", "the label column (default: the model's)", NULL },
	{ 0, "label-expr", KF_OPT_REQUIRED, "EXPR", "derive the label, e.g. 'tips > 0.2 * fare'", NULL },
	{ 0, "predictions", KF_OPT_REQUIRED, "CSV", "scores of a model trained elsewhere (row i is row i of --data)", "file" },
	{ 0, "prediction-column", KF_OPT_REQUIRED, "COL", "a score column of --predictions (one per class)", NULL },
	{ 0, "task", KF_OPT_REQUIRED, "TASK", "binary, multiclass or regression (for --predictions)",
	  "binary|multiclass|regression" },
	{ 0, "slice", KF_OPT_REQUIRED, "SPEC", "slice by COL, COL=VALUE, or crossed COL,COL[=VALUE] (repeatable)", NULL },
	{ 0, "min-slice-size", KF_OPT_REQUIRED, "N", "hide slices with fewer than N rows", NULL },
	{ 0, "confusion-at", KF_OPT_REQUIRED, "LIST", "confusion counts at these thresholds (default 0.5)", NULL },
	{ 0, "metrics", KF_OPT_REQUIRED, "LIST", "the metrics the table and report show", NULL },
	{ 0, "threshold", KF_OPT_REQUIRED, "CHECK", "bless only if [SLICE:]METRIC>=X or <=X holds (repeatable)", NULL },
	{ 0, "baseline", KF_OPT_REQUIRED, "DIR", "the current model: reference of diffs and --change", "dir" },
	{ 0, "change", KF_OPT_REQUIRED, "CHECK", "bless only if the change against --baseline holds: 'auc>=-0.01', 'auc>=-1%'", NULL },
	{ 0, "bless-to", KF_OPT_REQUIRED, "DIR", "write BLESSED or NOT_BLESSED (with the reasons) into DIR", "dir" },
	{ 0, "push-to", KF_OPT_REQUIRED, "REPO", "judge the best --model against REPO's newest version and, if blessed, copy it there as the next", "dir" },
	{ 0, NULL, KF_OPT_NONE, NULL, NULL, NULL },
};

struct cli {
	struct kf_evaluate_opts eo;
	double *confusion;
	struct kf_bless_check *checks;
	size_t n_checks;
	struct kf_strv shown;   /* --metrics, or the defaults */
};

static void cli_release(struct cli *c)
{
	size_t i;

	free(c->confusion);
	for (i = 0; i < c->n_checks; i++)
		kf_bless_release(&c->checks[i]);
	free(c->checks);
	kf_strv_release(&c->shown);
}

static int parse_confusion(struct cli *c, const char *list, struct kf_err *err)
{
	char *copy = kf_xstrdup(list), *tok, *save = NULL;
	size_t n = 0;
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		double t;

		if (!kf_str_to_double(tok, &t) || !isfinite(t)) {
			rc = kf_err_set(err, KF_EUSAGE, "--confusion-at: \"%s\" is not a number", tok);
			break;
		}
		c->confusion = kf_xrealloc(c->confusion, (n + 1) * sizeof *c->confusion);
		c->confusion[n++] = t;
	}
	free(copy);
	c->eo.confusion_at = c->confusion;
	c->eo.n_confusion = n;
	return rc;
}

static int parse_checks(struct cli *c, const struct kf_args *args, struct kf_err *err)
{
	const struct kf_strv *val = kf_args_all(args, "threshold"), *chg = kf_args_all(args, "change");
	size_t i;
	int rc;

	c->checks = kf_xcalloc(val->n + chg->n + 1, sizeof *c->checks);
	for (i = 0; i < val->n + chg->n; i++) {
		bool change = i >= val->n;

		rc = kf_bless_parse(&c->checks[i], change ? chg->v[i - val->n] : val->v[i], change, err);
		if (rc < 0)
			return rc;
		c->n_checks++;
	}
	return 0;
}

static int parse_args(struct cli *c, const struct kf_args *args, struct kf_err *err)
{
	struct kf_evaluate_opts *eo = &c->eo;
	const char *v;
	long n;
	int rc;

	eo->data = kf_args_get(args, "data");
	eo->models = (const char *const *)kf_args_all(args, "model")->v;
	eo->n_models = kf_args_all(args, "model")->n;
	eo->baseline = kf_args_get(args, "baseline");
	eo->predictions = kf_args_get(args, "predictions");
	eo->pred_cols = (const char *const *)kf_args_all(args, "prediction-column")->v;
	eo->n_pred_cols = kf_args_all(args, "prediction-column")->n;
	eo->task = kf_args_get(args, "task");
	eo->label = kf_args_get(args, "label");
	eo->label_expr = kf_args_get(args, "label-expr");
	eo->slices = (const char *const *)kf_args_all(args, "slice")->v;
	eo->n_slices = kf_args_all(args, "slice")->n;
	if (!eo->data && !eo->predictions)
		return kf_err_set(err, KF_EUSAGE, "--data is required");
	if (!eo->n_models && !eo->predictions)
		return kf_err_set(err, KF_EUSAGE, "give --model DIR (or --predictions CSV)");
	if (eo->n_pred_cols && !eo->predictions)
		return kf_err_set(err, KF_EUSAGE, "--prediction-column needs --predictions");
	if (eo->label && eo->label_expr)
		return kf_err_set(err, KF_EUSAGE, "give --label or --label-expr, not both");
	if (eo->task && kf_eval_task_parse(eo->task) < 0)
		return kf_err_set(err, KF_EUSAGE, "--task: \"%s\" is not binary, multiclass or regression",
				  eo->task);
	v = kf_args_get(args, "min-slice-size");
	if (v) {
		if (!kf_str_to_long(v, &n) || n < 0)
			return kf_err_set(err, KF_EUSAGE, "--min-slice-size: \"%s\" is not a count", v);
		eo->min_slice_size = (uint64_t)n;
	}
	rc = parse_confusion(c, kf_args_has(args, "confusion-at") ? kf_args_get(args, "confusion-at") : "0.5",
			     err);
	if (rc < 0)
		return rc;
	return parse_checks(c, args, err);
}

/* The metrics the table shows: --metrics, else all of the task's for one
 * model and the main ones when comparing. */
static int pick_metrics(struct cli *c, const struct kf_args *args, const cJSON *doc, size_t nm,
			struct kf_err *err)
{
	static const char *const few_binary[] = { "auc", "auc_pr", "log_loss", "accuracy", NULL };
	static const char *const few_multi[] = { "accuracy", "log_loss", NULL };
	static const char *const few_reg[] = { "rmse", "mae", "r2", NULL };
	static const char *const few_rank[] = { "precision@10", "recall@10", "ndcg@10", NULL };
	const char *task = cJSON_GetObjectItemCaseSensitive(doc, "task")->valuestring;
	enum kf_eval_task t = (enum kf_eval_task)kf_eval_task_parse(task);
	const char *const *all = kf_eval_metric_names(t), *const *few;
	const char *list = kf_args_get(args, "metrics");
	size_t n_all = 0, i;

	while (all[n_all])
		n_all++;
	if (list) {
		char *copy = kf_xstrdup(list), *tok, *save = NULL;
		int rc = 0;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			for (i = 0; i < n_all && strcmp(all[i], tok); i++)
				;
			if (i == n_all) {
				const char *hint = kf_str_suggest(tok, all, n_all);

				rc = kf_err_set(err, KF_EUSAGE, "--metrics: no %s metric \"%s\"%s%s%s", task, tok,
						hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
				break;
			}
			kf_strv_push(&c->shown, tok);
		}
		free(copy);
		return rc;
	}
	few = t == KF_EVAL_BINARY ? few_binary : t == KF_EVAL_MULTICLASS ? few_multi :
	      t == KF_EVAL_RANKING ? few_rank : few_reg;
	/* N is the rows; a recommender's example_count is its users, shown */
	for (i = 0; (nm > 1 ? few : all)[i]; i++)
		if (t == KF_EVAL_RANKING || strcmp((nm > 1 ? few : all)[i], "example_count"))
			kf_strv_push(&c->shown, (nm > 1 ? few : all)[i]);
	return 0;
}

/* Checks name metrics the task has. */
static int check_metric_names(const struct cli *c, const cJSON *doc, struct kf_err *err)
{
	const char *task = cJSON_GetObjectItemCaseSensitive(doc, "task")->valuestring;
	const char *const *all = kf_eval_metric_names((enum kf_eval_task)kf_eval_task_parse(task));
	size_t n_all = 0, i, j;

	while (all[n_all])
		n_all++;
	for (i = 0; i < c->n_checks; i++) {
		const char *hint;

		for (j = 0; j < n_all && strcmp(all[j], c->checks[i].metric); j++)
			;
		if (j < n_all)
			continue;
		hint = kf_str_suggest(c->checks[i].metric, all, n_all);
		return kf_err_set(err, KF_EUSAGE, "%s \"%s\": no %s metric \"%s\"%s%s%s",
				  c->checks[i].change ? "--change" : "--threshold", c->checks[i].text, task,
				  c->checks[i].metric, hint ? " (did you mean \"" : "", hint ? hint : "",
				  hint ? "\"?)" : "");
	}
	return 0;
}

/* ---- the table ------------------------------------------------------------ */

/* Counts as integers, other metrics with 4 decimals. */
static char *fmt_num(const cJSON *v, const char *metric, bool sign)
{
	bool count = !strcmp(metric, "example_count");

	if (!cJSON_IsNumber(v))
		return kf_xstrdup("-");
	if (count)
		return kf_xasprintf(sign ? "%+.0f" : "%.0f", v->valuedouble);
	return kf_xasprintf(sign ? "%+.4f" : "%.4f", v->valuedouble);
}

static const cJSON *metric_of(const cJSON *slice, const char *part, const char *model,
			      const char *metric)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(slice, part);

	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, model), metric);
}

static void table_header(struct kf_buf *out, const cJSON *doc)
{
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models"), *m;
	int i = 1;

	kf_buf_printf(out, "%s evaluation of %.0f rows of %s, label %s\n",
		      cJSON_GetObjectItemCaseSensitive(doc, "task")->valuestring,
		      cJSON_GetObjectItemCaseSensitive(doc, "rows")->valuedouble,
		      cJSON_GetObjectItemCaseSensitive(doc, "data")->valuestring,
		      cJSON_GetObjectItemCaseSensitive(doc, "label")->valuestring);
	if (cJSON_GetArraySize(models) < 2)
		return;
	kf_buf_adds(out, "models:");
	cJSON_ArrayForEach(m, models)
		kf_buf_printf(out, "  [%d] %s (%s)", i++,
			      cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring,
			      cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring);
	kf_buf_adds(out, "\n");
}

/* One row per slice; per metric a column per model and, comparing, a
 * "d" column per model against the reference. */
static int render_table(const struct cli *c, const cJSON *doc, const cJSON *verdict,
			struct kf_buf *out, struct kf_err *err)
{
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models"), *s;
	int nm = cJSON_GetArraySize(models), i;
	size_t k, ncol = 0, cap = 2 + c->shown.n * (size_t)nm * 2;
	struct kf_column *cols = kf_xcalloc(cap + 1, sizeof *cols);
	cJSON *tab = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(tab, "items");
	int rc;

	table_header(out, doc);
	kf_buf_adds(out, "\n");
	cols[ncol++] = (struct kf_column){ kf_xstrdup("SLICE"), kf_xstrdup("slice") };
	cols[ncol++] = (struct kf_column){ kf_xstrdup("N"), kf_xstrdup("n") };
	for (k = 0; k < c->shown.n; k++)
		for (i = 0; i < nm; i++) {
			const char *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(models, i), "name")->valuestring;
			bool has_diff = false;
			char *up = kf_xstrdup(c->shown.v[k]), *p;

			for (p = up; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			cols[ncol++] = (struct kf_column){
				nm > 1 ? kf_xasprintf("%s[%d]", up, i + 1) : kf_xstrdup(up),
				kf_xasprintf("m%zu_%d", k, i) };
			cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "slices"))
				if (metric_of(s, "diff", name, c->shown.v[k]))
					has_diff = true;
			if (has_diff)
				cols[ncol++] = (struct kf_column){ kf_xasprintf("d%s[%d]", up, i + 1),
								   kf_xasprintf("d%zu_%d", k, i) };
			free(up);
		}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "slices")) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "slice", cJSON_GetObjectItemCaseSensitive(s, "name")->valuestring);
		cJSON_AddNumberToObject(r, "n", cJSON_GetObjectItemCaseSensitive(s, "example_count")->valuedouble);
		for (k = 0; k < c->shown.n; k++)
			for (i = 0; i < nm; i++) {
				const char *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(models, i),
										   "name")->valuestring;
				const cJSON *d = metric_of(s, "diff", name, c->shown.v[k]);
				char key[64], *t = fmt_num(metric_of(s, "metrics", name, c->shown.v[k]), c->shown.v[k], false);

				snprintf(key, sizeof key, "m%zu_%d", k, i);
				cJSON_AddItemToObject(r, key, cJSON_CreateString(t));
				free(t);
				snprintf(key, sizeof key, "d%zu_%d", k, i);
				t = d ? fmt_num(d, c->shown.v[k], true) : kf_xstrdup("");
				cJSON_AddItemToObject(r, key, cJSON_CreateString(t));
				free(t);
			}
		cJSON_AddItemToArray(items, r);
	}
	rc = kf_output_render(out, "table", tab, cols, err);
	if (verdict) {
		const cJSON *ch;

		kf_buf_printf(out, "\nvalidation of %s: %s\n", cJSON_GetObjectItemCaseSensitive(verdict, "model")->valuestring,
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed")) ? "BLESSED" : "NOT BLESSED");
		cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(verdict, "checks")) {
			const cJSON *why = cJSON_GetObjectItemCaseSensitive(ch, "reason");
			bool skipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ch, "skipped"));
			bool passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ch, "passed"));

			kf_buf_printf(out, "  %-5s %s%s%s\n", skipped ? "skip" : passed ? "ok" : "FAIL",
				      cJSON_GetObjectItemCaseSensitive(ch, "check")->valuestring,
				      cJSON_IsString(why) ? ": " : "", cJSON_IsString(why) ? why->valuestring : "");
		}
	}
	for (k = 0; k < ncol; k++) {
		free((char *)cols[k].header);
		free((char *)cols[k].path);
	}
	free(cols);
	cJSON_Delete(tab);
	return rc;
}

/* ---- validation and the store ----------------------------------------------- */

/* With --push-to, the candidate is the best of the --model bundles by the
 * first check's metric (higher or lower is better as the check says). */
static int best_model(const struct cli *c, const cJSON *doc)
{
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models"), *m;
	const char *metric = c->checks[0].metric;
	bool higher = c->checks[0].op == KF_BLESS_GE;
	double best = 0;
	int i = 0, pick = 0;

	cJSON_ArrayForEach(m, models) {
		const char *name = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(kf_evaluate_overall((cJSON *)doc, name), metric);

		if (strcmp(cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring, "baseline") && cJSON_IsNumber(v) &&
		    (i == 0 || (higher ? v->valuedouble > best : v->valuedouble < best))) {
			best = v->valuedouble;
			pick = i;
		}
		i++;
	}
	return pick;
}

/* Where the checks find their metrics: the first model's, or the
 * baseline's, on the overall slice or the one named. */
struct judged {
	const cJSON *doc;
	const char *candidate, *baseline;
};

static const cJSON *find_metrics(void *arg, const char *slice, bool baseline)
{
	const struct judged *j = arg;
	const char *model = baseline ? j->baseline : j->candidate;
	const cJSON *s;
	bool first = true;

	if (!model)
		return NULL;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j->doc, "slices")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");

		/* the overall slice is the first; a slice may be called "Overall" */
		if (slice ? !first && !strcmp(name->valuestring, slice) : first)
			return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "metrics"),
								model);
		first = false;
	}
	return NULL;
}

static cJSON *validate(const struct cli *c, cJSON *doc, int candidate)
{
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models"), *m;
	struct judged j = { doc, NULL, NULL };
	cJSON *v;

	j.candidate = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(models, candidate), "name")->valuestring;
	cJSON_ArrayForEach(m, models)
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring, "baseline"))
			j.baseline = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
	v = kf_bless_judge(c->checks, c->n_checks, find_metrics, &j);
	cJSON_AddStringToObject(v, "model", j.candidate);
	return v;
}

/* Data files larger than this are recorded by path, size and modification
 * time, without a digest (as kf analyze does): hashing them would cost
 * more than the evaluation. */
#define DIGEST_MAX ((off_t)64 << 20)

/* A data input of the record; false for standard input (no name). */
static bool data_ref(struct kf_store_ref *r, const char *event, const char *file,
		     struct kf_store_props *props, char **abs)
{
	struct stat sb;

	if (!strcmp(file, "-"))
		return false;
	*r = (struct kf_store_ref){ .path = event, .type = "Dataset", .name = kf_path_basename(file) };
	if (stat(file, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > DIGEST_MAX) {
		*abs = kf_path_absolute(file);
		r->uri = *abs;
		kf_store_props_int(props, "size", (int64_t)sb.st_size);
		kf_store_props_int(props, "mtime", (int64_t)sb.st_mtime);
		r->props = props;
	} else {
		r->file = file;
	}
	return true;
}

/* Record the evaluation: models and data in, metrics and blessing out, in
 * the kf.Analysis context of the data. A store that cannot be written is a
 * warning: the evaluation stands. */
static void record(struct kf_ctx *ctx, const struct cli *c, const cJSON *doc, const cJSON *verdict,
		   const char *bless_dir)
{
	struct kf_store_ref *in = kf_xcalloc(c->eo.n_models + 3, sizeof *in), out[2];
	struct kf_store_props ep = KF_STORE_PROPS_INIT, bp = KF_STORE_PROPS_INIT, dp[2];
	struct kf_store_record rec = { .type = "kf.AnalyzeModel", .state = KF_EXEC_COMPLETE, .props = &ep };
	struct kf_store *st = NULL;
	struct kf_err err;
	const char *data = c->eo.data ? c->eo.data : c->eo.predictions;
	char *dir = kf_ctx_store_dir(ctx), *json = NULL, *tmp = NULL, *abs[2] = { NULL, NULL };
	size_t n_in = 0, n_out = 0, i, len;
	int64_t id, ctx_id;
	int fd = -1;

	kf_err_clear(&err);
	memset(out, 0, sizeof out);
	memset(dp, 0, sizeof dp);
	if (kf_store_open(dir, &st, &err) < 0)
		goto out;
	for (i = 0; i < c->eo.n_models; i++)
		in[n_in++] = (struct kf_store_ref){ .path = i ? "model" : "candidate", .type = "Model",
						    .file = c->eo.models[i] };
	if (c->eo.baseline)
		in[n_in++] = (struct kf_store_ref){ .path = "baseline", .type = "Model", .file = c->eo.baseline };
	if (c->eo.data && data_ref(&in[n_in], "data", c->eo.data, &dp[0], &abs[0]))
		n_in++;
	if (c->eo.predictions && data_ref(&in[n_in], "predictions", c->eo.predictions, &dp[1], &abs[1]))
		n_in++;
	/* beside the store, so that putting it is a rename */
	json = cJSON_Print(doc);
	len = strlen(json);
	tmp = kf_path_join(dir, ".evaluation-XXXXXX");
	fd = mkstemp(tmp);
	if (fd < 0 || write(fd, json, len) != (ssize_t)len || close(fd) < 0) {
		kf_err_sys(&err, "cannot write \"%s\"", tmp);
		goto out;
	}
	fd = -1;
	out[n_out++] = (struct kf_store_ref){ .path = "evaluation", .type = "Metrics", .file = tmp,
					      .put = true, .move = true };
	if (verdict && bless_dir) {
		kf_store_props_int(&bp, "blessed", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed")));
		out[n_out++] = (struct kf_store_ref){ .path = "blessing", .type = "ModelBlessing",
						      .file = bless_dir, .props = &bp };
	}
	kf_store_props_str(&ep, "task", cJSON_GetObjectItemCaseSensitive(doc, "task")->valuestring);
	kf_store_props_int(&ep, "rows", (int64_t)cJSON_GetObjectItemCaseSensitive(doc, "rows")->valuedouble);
	if (verdict)
		kf_store_props_int(&ep, "blessed", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed")));
	if (kf_store_context(st, "kf.Analysis", strcmp(data, "-") ? kf_path_basename(data) : "stdin", NULL, 0,
			     &ctx_id, &err) < 0)
		goto out;
	rec.name = cJSON_GetObjectItemCaseSensitive(doc, "name")->valuestring;
	rec.inputs = in;
	rec.n_inputs = n_in;
	rec.outputs = out;
	rec.n_outputs = n_out;
	rec.contexts = &ctx_id;
	rec.n_contexts = 1;
	if (kf_store_record(st, &rec, &id, &err) == 0 && ctx->verbose)
		kf_print_info(ctx, "recorded execution %lld in \"%s\"", (long long)id, dir);
out:
	if (err.code)
		kf_print_warning(ctx, "the evaluation is not recorded in the store: %s", err.msg);
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);   /* left when the put failed */
	for (i = 0; i < n_in; i++)
		kf_store_ref_release(&in[i]);
	for (i = 0; i < n_out; i++)
		kf_store_ref_release(&out[i]);
	for (i = 0; i < 2; i++) {
		kf_store_props_release(&dp[i]);
		free(abs[i]);
	}
	free(in);
	free(tmp);
	kf_store_props_release(&ep);
	kf_store_props_release(&bp);
	kf_store_close(st);
	free(json);
	free(dir);
}

static int run_analyze_model(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct cli c;
	cJSON *doc = NULL, *verdict = NULL;
	struct kf_buf out = KF_BUF_INIT;
	const char *fmt = ctx->output ? ctx->output : "table";
	const char *bless_dir = kf_args_get(args, "bless-to");
	const char *repo = kf_args_get(args, "push-to");
	char *newest_dir = NULL;
	int rc;

	memset(&c, 0, sizeof c);
	rc = kf_output_check(ctx->output, "table|json|yaml|html", err);
	if (rc < 0)
		goto out;
	rc = parse_args(&c, args, err);
	if (rc < 0)
		goto out;
	if ((bless_dir || repo) && !c.n_checks) {
		rc = kf_err_set(err, KF_EUSAGE, "%s needs --threshold or --change checks",
				bless_dir ? "--bless-to" : "--push-to");
		goto out;
	}
	if (repo && (c.eo.predictions || !c.eo.n_models)) {
		rc = kf_err_set(err, KF_EUSAGE, "--push-to pushes --model bundles, not --predictions");
		goto out;
	}
	/* the model already serving is the baseline, unless one is given */
	if (repo && !c.eo.baseline && kf_bless_repo_newest(repo, &newest_dir))
		c.eo.baseline = newest_dir;
	/* curve points and calibration bins of the overall slice: for the
	 * report, and for whoever plots the JSON elsewhere */
	c.eo.plots = strcmp(fmt, "table") != 0;
	rc = kf_evaluate_run(&c.eo, &doc, err);
	if (rc < 0)
		goto out;
	rc = check_metric_names(&c, doc, err);
	if (rc < 0)
		goto out;
	rc = pick_metrics(&c, args, doc, (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(doc, "models")), err);
	if (rc < 0)
		goto out;
	if (c.n_checks) {
		verdict = validate(&c, doc, repo ? best_model(&c, doc) : 0);
		if (repo && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed"))) {
			long version;
			bool pushed;

			rc = kf_bless_push(cJSON_GetObjectItemCaseSensitive(verdict, "model")->valuestring, repo,
					   &version, &pushed, err);
			if (rc < 0)
				goto out;
			cJSON_AddNumberToObject(verdict, "version", (double)version);
			cJSON_AddBoolToObject(verdict, "pushed", pushed);
			kf_print_info(ctx, "%s \"%s\" as %s/%ld", pushed ? "pushed" : "already serving",
				      cJSON_GetObjectItemCaseSensitive(verdict, "model")->valuestring, repo, version);
		}
		if (bless_dir) {
			rc = kf_bless_write(bless_dir, verdict, err);
			if (rc < 0)
				goto out;
			cJSON_AddStringToObject(verdict, "blessing", bless_dir);
		}
		cJSON_AddItemReferenceToObject(doc, "validation", verdict);
	}
	record(ctx, &c, doc, verdict, bless_dir);
	if (!strcmp(fmt, "table"))
		rc = render_table(&c, doc, verdict, &out, err);
	else if (!strcmp(fmt, "html"))
		kf_eval_html(doc, (const char *const *)c.shown.v, c.shown.n, &out);
	else
		rc = kf_output_render(&out, fmt, doc, NULL, err);
	if (!rc)
		rc = kf_print_buf(&out, err);
	if (!rc && verdict && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed"))) {
		const cJSON *ch;
		int failed = 0;

		cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(verdict, "checks"))
			failed += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ch, "passed"));
		rc = kf_err_set(err, KF_EFAIL, "model \"%s\" is not blessed: %d of %zu checks failed",
				cJSON_GetObjectItemCaseSensitive(verdict, "model")->valuestring, failed, c.n_checks);
	}
out:
	kf_buf_release(&out);
	cJSON_Delete(doc);
	cJSON_Delete(verdict);
	cli_release(&c);
	free(newest_dir);
	return rc;
}

const struct kf_cmd kf_cmd_analyze_model = {
	.name = "model",
	.summary = "evaluate, slice, compare and bless models",
	.usage = "analyze model --model DIR [--model DIR]... --data CSV [--label COL] [--slice SPEC]... "
		 "[--threshold CHECK]... [--baseline DIR] [--change CHECK]... [--bless-to DIR] [--push-to REPO]\n"
		 "analyze model --predictions CSV --prediction-column COL [--data CSV] [--task TASK] [options]",
	.description = "Computes metrics overall and per slice (TensorFlow Model Analysis' slicing specs),\n"
		       "side by side with a diff when several models are given, and blesses the first\n"
		       "model when every --threshold and --change check holds (exit 0; 1 when not).",
	.opts = opts,
	.formats = "table|json|yaml|html",
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_analyze_model,
};
