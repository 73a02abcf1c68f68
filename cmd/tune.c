/* kf tune: hyperparameter search over local trials (a Katib Experiment),
 * and the subcommands that read what it saved. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "spec/kf_pipeline.h"
#include "tune/kf_experiment.h"
#include "tune/kf_katib.h"
#include "tune/kf_tune_html.h"
#include "tune/kf_tune.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- progress on stderr ------------------------------------------------------ */

struct progress {
	const struct kf_ctx *ctx;
	int lines;                /* drawn last time (TTY) */
};

static void params_text(const cJSON *t, struct kf_buf *b)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(t, "parameters"))
		kf_buf_printf(b, "%s%s=%s", b->len ? " " : "", p->string, cJSON_GetStringValue(p));
}

static const char *num_text(const cJSON *v, char *buf, size_t size)
{
	if (!cJSON_IsNumber(v))
		return "-";
	snprintf(buf, size, "%.6g", v->valuedouble);
	return buf;
}

static const cJSON *best_of(const cJSON *doc)
{
	const char *best = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "best"));

	return best ? kf_tune_trial(doc, best) : NULL;
}

/* The live table: the last trials, with the best marked. */
static void draw(struct progress *pg, const cJSON *doc)
{
	const cJSON *trials = cJSON_GetObjectItem(doc, "trials"), *t, *best = best_of(doc);
	int n = cJSON_GetArraySize(trials), first = n > 15 ? n - 15 : 0, i = 0, lines = 0;
	struct kf_buf out = KF_BUF_INIT;
	char b1[32], b2[32];

	if (pg->lines)
		kf_buf_printf(&out, "\033[%dA\033[J", pg->lines);
	kf_buf_printf(&out, "experiment %s (%s): %d trials, best %s %s\n",
		      cJSON_GetStringValue(cJSON_GetObjectItem(doc, "name")),
		      cJSON_GetStringValue(cJSON_GetObjectItem(doc, "state")), n,
		      best ? cJSON_GetStringValue(cJSON_GetObjectItem(best, "name")) : "-",
		      best ? num_text(cJSON_GetObjectItem(best, "objective"), b1, sizeof b1) : "");
	lines++;
	kf_buf_printf(&out, "  %-24s %-18s %-12s %s\n", "TRIAL", "STATE", "OBJECTIVE", "PARAMETERS (or REASON)");
	lines++;
	cJSON_ArrayForEach(t, trials) {
		struct kf_buf p = KF_BUF_INIT;

		const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(t, "reason"));

		if (i++ < first)
			continue;
		/* a failed trial shows why, in place of its parameters */
		if (reason && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "state")), "Succeeded"))
			kf_buf_adds(&p, reason);
		else
			params_text(t, &p);
		kf_buf_printf(&out, "%s %-24s %-18s %-12s %.72s\n",
			      cJSON_IsTrue(cJSON_GetObjectItem(t, "best")) ? "*" : " ",
			      cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")),
			      cJSON_GetStringValue(cJSON_GetObjectItem(t, "state")),
			      num_text(cJSON_GetObjectItem(t, "objective"), b2, sizeof b2), kf_buf_str(&p));
		lines++;
		kf_buf_release(&p);
	}
	fputs(kf_buf_str(&out), stderr);
	fflush(stderr);
	pg->lines = lines;
	kf_buf_release(&out);
}

static void on_event(void *arg, const cJSON *doc, int trial)
{
	struct progress *pg = arg;
	const cJSON *t;
	struct kf_buf p = KF_BUF_INIT;
	const char *state, *reason;
	char b[32];

	if (pg->ctx->quiet)
		return;
	if (pg->ctx->stderr_tty) {
		draw(pg, doc);
		return;
	}
	if (trial < 0)
		return;
	/* one line per state change, for logs and CI */
	t = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "trials"), trial);
	state = cJSON_GetStringValue(cJSON_GetObjectItem(t, "state"));
	reason = cJSON_GetStringValue(cJSON_GetObjectItem(t, "reason"));
	if (!strcmp(state, "Running")) {
		params_text(t, &p);
		fprintf(stderr, "trial %s: Running %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")),
			kf_buf_str(&p));
	} else {
		fprintf(stderr, "trial %s: %s %s=%s%s%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")),
			state, cJSON_GetStringValue(kf_json_path(doc, "objective.objectiveMetricName")),
			num_text(cJSON_GetObjectItem(t, "objective"), b, sizeof b), reason ? ": " : "",
			reason ? reason : "");
	}
	kf_buf_release(&p);
}

/* ---- kf tune EXPERIMENT ------------------------------------------------------ */

/* A pipeline trial's pipeline must load, and take the parameters given to
 * it, before the first trial starts: otherwise every trial fails the same way. */
static int check_pipeline(struct kf_ctx *ctx, const struct kf_experiment *e, const char *store,
			  bool emit, struct kf_err *err)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline_opts po = { .store_dir = store };
	struct kf_pipeline *p = NULL;
	struct kf_buf out = KF_BUF_INIT;
	int rc;

	if (e->kind != KF_TRIAL_PIPELINE) {
		if (emit && (rc = kf_katib_emit(e, NULL, &out, err)) == 0)
			rc = kf_print_buf(&out, err);
		kf_buf_release(&out);
		return emit ? rc : 0;
	}
	rc = kf_pipeline_load(&p, e->pipeline, &po, &errs);
	if (rc < 0) {
		kf_print_errors(ctx, &errs);
		kf_err_clear(err);
		goto out;
	}
	for (size_t i = 0; i < e->n_pipeline_params; i++)
		if (kf_pipeline_param(p, e->pp_names[i]) < 0) {
			rc = kf_err_set(err, KF_EINPUT, "%s: pipelineParams: \"%s\" is not a parameter of "
					"pipeline \"%s\"", e->file, e->pp_names[i], p->name);
			goto out;
		}
	if (emit && (rc = kf_katib_emit(e, p, &out, err)) == 0)
		rc = kf_print_buf(&out, err);
out:
	kf_buf_release(&out);
	kf_pipeline_free(p);
	kf_errlist_release(&errs);
	return rc;
}

static void print_result(const struct kf_ctx *ctx, const cJSON *doc)
{
	const cJSON *best = best_of(doc);
	struct kf_buf p = KF_BUF_INIT;
	char b[32];

	if (!best) {
		printf("experiment %s: %s (%s), no successful trial\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "name")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "state")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "reason")) ?
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "reason")) : "-");
		return;
	}
	params_text(best, &p);
	(void)ctx;
	printf("experiment %s: %s (%s)\nbest trial %s: %s=%s %s\n",
	       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "name")),
	       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "state")),
	       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "reason")) ?
	       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "reason")) : "-",
	       cJSON_GetStringValue(cJSON_GetObjectItem(best, "name")),
	       cJSON_GetStringValue(kf_json_path(doc, "objective.objectiveMetricName")),
	       num_text(cJSON_GetObjectItem(best, "objective"), b, sizeof b), kf_buf_str(&p));
	kf_buf_release(&p);
}

static int run_tune(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	const char *resume = kf_args_get(args, "resume"), *jobs = kf_args_get(args, "jobs");
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_experiment *e = NULL;
	struct progress pg = { .ctx = ctx };
	char *store = kf_ctx_store_dir(ctx), *path = NULL;
	cJSON *doc = NULL;
	long j = 0;
	int rc;

	if (jobs && (!kf_str_to_long(jobs, &j) || j < 1 || j > 10000)) {
		rc = kf_err_set(err, KF_EUSAGE, "-j: \"%s\" is not a number of trials", jobs);
		goto out;
	}
	if (args->argc == 0 && !resume) {
		rc = kf_err_set(err, KF_EUSAGE, "an EXPERIMENT.yaml, or --resume NAME, is required");
		goto out;
	}
	path = args->argc ? kf_xstrdup(args->argv[0]) : kf_tune_source_path(store, resume);
	if (!args->argc && !kf_fs_exists(path)) {
		rc = kf_err_set(err, KF_ENOTFOUND, "no experiment \"%s\" in the store", resume);
		goto out;
	}
	rc = kf_experiment_load(&e, path, &errs);
	if (rc < 0) {
		kf_print_errors(ctx, &errs);
		kf_err_clear(err);
		goto out;
	}
	if (resume && strcmp(resume, e->name)) {
		rc = kf_err_set(err, KF_EUSAGE, "--resume %s: the experiment file is \"%s\"", resume, e->name);
		goto out;
	}
	if ((rc = check_pipeline(ctx, e, store, kf_args_has(args, "emit"), err)) < 0 ||
	    kf_args_has(args, "emit"))
		goto out;
	{
		struct kf_tune_opts o = {
			.store_dir = store, .self_exe = ctx->self_exe, .parallel = (int)j,
			.resume = resume != NULL, .on_event = ctx->quiet ? NULL : on_event, .cb_ctx = &pg,
		};

		rc = kf_tune_run(e, &o, &doc, err);
	}
	if (doc) {
		struct kf_err perr;
		int prc = 0;

		kf_err_clear(&perr);
		if (!ctx->output || !strcmp(ctx->output, "table"))
			print_result(ctx, doc);
		else
			prc = kf_print_records(ctx, doc, NULL, "table|json|yaml|name", &perr);
		if (prc < 0 && rc == 0) {
			rc = prc;
			*err = perr;
		}
	}
	if (rc == KF_EINTR && !ctx->quiet)
		fprintf(stderr, "kf: interrupted; continue with: kf tune --resume %s\n", e->name);
out:
	cJSON_Delete(doc);
	kf_experiment_free(e);
	kf_errlist_release(&errs);
	free(path);
	free(store);
	return rc;
}

/* ---- kf tune show / best / logs / ls ------------------------------------------ */

static int load_doc(struct kf_ctx *ctx, const char *name, cJSON **doc, struct kf_err *err)
{
	char *store = kf_ctx_store_dir(ctx);
	int rc = kf_tune_load(store, name, doc, err);

	free(store);
	return rc;
}

static int run_show(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	cJSON *doc = NULL, *list = NULL, *items, *t;
	struct kf_column *cols = NULL;
	const cJSON *params;
	size_t nc = 0;
	int rc;

	if ((rc = load_doc(ctx, args->argv[0], &doc, err)) < 0)
		goto out;
	if (ctx->output && !strcmp(ctx->output, "html")) {
		char *html = kf_tune_html(doc);

		rc = kf_print_outs(html, err);
		free(html);
		goto out;
	}
	if (ctx->output && strcmp(ctx->output, "table")) {
		rc = kf_print_records(ctx, doc, NULL, "table|json|yaml|html|name", err);
		goto out;
	}
	/* the table: one row a trial, the best marked */
	params = cJSON_GetObjectItem(doc, "parameters");
	cols = kf_xcalloc((size_t)cJSON_GetArraySize(params) + 6, sizeof *cols);
	cols[nc++] = (struct kf_column){ "", "mark" };
	cols[nc++] = (struct kf_column){ "TRIAL", "name" };
	cols[nc++] = (struct kf_column){ "STATE", "state" };
	cols[nc++] = (struct kf_column){ "OBJECTIVE", "objective" };
	list = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(list, "items");
	cJSON_AddStringToObject(list, "kind", "TrialList");
	{
		const cJSON *p;
		size_t k = 0;
		char **paths = kf_xcalloc((size_t)cJSON_GetArraySize(params) + 1, sizeof *paths);

		cJSON_ArrayForEach(p, params) {
			paths[k] = kf_xasprintf("parameters.%s", cJSON_GetStringValue(p));
			cols[nc++] = (struct kf_column){ cJSON_GetStringValue(p), paths[k] };
			k++;
		}
		cols[nc++] = (struct kf_column){ "REASON", "reason" };
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "trials")) {
			cJSON *row = cJSON_Duplicate(t, 1);

			cJSON_AddStringToObject(row, "mark", cJSON_IsTrue(cJSON_GetObjectItem(t, "best")) ? "*" : "");
			cJSON_AddItemToArray(items, row);
		}
		rc = kf_print_records(ctx, list, cols, "table|json|yaml|html|name", err);
		for (size_t i = 0; i < k; i++)
			free(paths[i]);
		free(paths);
	}
out:
	free(cols);
	cJSON_Delete(list);
	cJSON_Delete(doc);
	return rc;
}

static int run_best(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	cJSON *doc = NULL, *out = NULL;
	const cJSON *best, *pp, *p;
	int rc;

	if ((rc = load_doc(ctx, args->argv[0], &doc, err)) < 0)
		goto out;
	if (!(best = best_of(doc))) {
		rc = kf_err_set(err, KF_EFAIL, "experiment \"%s\" has no successful trial", args->argv[0]);
		goto out;
	}
	/* pipeline trials: the pipeline's parameter names, for kf run */
	pp = cJSON_GetObjectItem(best, "pipelineParams");
	if (!pp)
		pp = cJSON_GetObjectItem(best, "parameters");
	if (kf_args_has(args, "as-args")) {
		struct kf_buf b = KF_BUF_INIT;
		const char *run = cJSON_GetStringValue(cJSON_GetObjectItem(best, "runId"));

		cJSON_ArrayForEach(p, pp)
			kf_buf_printf(&b, "-p %s=%s\n", p->string, cJSON_GetStringValue(p));
		rc = kf_print_buf(&b, err);
		kf_buf_release(&b);
		if (run)
			kf_print_info(ctx, "best trial %s, run %s", cJSON_GetStringValue(cJSON_GetObjectItem(best, "name")),
				      run);
		goto out;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "kind", "BestTrial");
	cJSON_AddStringToObject(out, "name", cJSON_GetStringValue(cJSON_GetObjectItem(best, "name")));
	cJSON_AddStringToObject(out, "experiment", args->argv[0]);
	cJSON_AddItemToObject(out, "objective", cJSON_Duplicate(cJSON_GetObjectItem(best, "objective"), 1));
	cJSON_AddItemToObject(out, "parameters", cJSON_Duplicate(pp, 1));
	cJSON_AddItemToObject(out, "metrics", cJSON_Duplicate(cJSON_GetObjectItem(best, "metrics"), 1));
	cJSON_AddItemToObject(out, "runId", cJSON_Duplicate(cJSON_GetObjectItem(best, "runId"), 1));
	rc = kf_print_records(ctx, out, NULL, "table|json|yaml|name", err);
out:
	cJSON_Delete(out);
	cJSON_Delete(doc);
	return rc;
}

static int run_logs(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	char *store = kf_ctx_store_dir(ctx), *log = NULL;
	struct kf_buf b = KF_BUF_INIT;
	const cJSON *t;
	cJSON *doc = NULL;
	int rc;

	if ((rc = load_doc(ctx, args->argv[0], &doc, err)) < 0)
		goto out;
	if (!(t = kf_tune_trial(doc, args->argv[1]))) {
		rc = kf_err_set(err, KF_ENOTFOUND, "experiment \"%s\" has no trial \"%s\"", args->argv[0],
				args->argv[1]);
		goto out;
	}
	log = kf_tune_trial_log(store, args->argv[0], cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")));
	if (kf_fs_exists(log) && (rc = kf_fs_read_file(log, &b, err)) < 0)
		goto out;
	rc = kf_print_buf(&b, err);
out:
	kf_buf_release(&b);
	cJSON_Delete(doc);
	free(log);
	free(store);
	return rc;
}

static int run_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "NAME", "name" }, { "STATE", "state" }, { "ALGORITHM", "algorithm" },
		{ "TRIALS", "trials" }, { "BEST", "best" }, { "OBJECTIVE", "objective" }, { NULL, NULL },
	};
	char *store = kf_ctx_store_dir(ctx);
	cJSON *names = NULL, *list = cJSON_CreateObject(), *items, *n;
	int rc;

	(void)args;
	cJSON_AddStringToObject(list, "kind", "ExperimentList");
	items = cJSON_AddArrayToObject(list, "items");
	if ((rc = kf_tune_list(store, &names, err)) < 0)
		goto out;
	cJSON_ArrayForEach(n, names) {
		cJSON *doc = NULL, *row;
		const cJSON *best;
		struct kf_err lerr;

		kf_err_clear(&lerr);
		if (kf_tune_load(store, n->valuestring, &doc, &lerr) < 0)
			continue;
		best = best_of(doc);
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "kind", "Experiment");
		cJSON_AddStringToObject(row, "name", n->valuestring);
		cJSON_AddItemToObject(row, "state", cJSON_Duplicate(cJSON_GetObjectItem(doc, "state"), 1));
		cJSON_AddItemToObject(row, "algorithm", cJSON_Duplicate(cJSON_GetObjectItem(doc, "algorithm"), 1));
		cJSON_AddNumberToObject(row, "trials", cJSON_GetArraySize(cJSON_GetObjectItem(doc, "trials")));
		cJSON_AddItemToObject(row, "best", cJSON_Duplicate(cJSON_GetObjectItem(doc, "best"), 1));
		cJSON_AddItemToObject(row, "objective", best ? cJSON_Duplicate(cJSON_GetObjectItem(best, "objective"), 1)
							 : cJSON_CreateNull());
		cJSON_AddItemToArray(items, row);
		cJSON_Delete(doc);
	}
	rc = kf_print_records(ctx, list, cols, NULL, err);
out:
	cJSON_Delete(names);
	cJSON_Delete(list);
	free(store);
	return rc;
}

static const struct kf_cmd kf_cmd_tune_show = {
	.name = "show",
	.summary = "show an experiment's trials, the best one marked",
	.usage = "tune show NAME [-o table|json|yaml|html|name]",
	.description =
		"-o html writes a self-contained report: the trials, the objective over\n"
		"the trials, and a parallel-coordinates chart of parameters and objective.",
	.formats = "table|json|yaml|html|name",
	.min_args = 1,
	.max_args = 1,
	.flags = KF_CMD_RECORDS,
	.run = run_show,
};

static const struct kf_opt best_opts[] = {
	{ 0, "as-args", KF_OPT_NONE, NULL, "print -p NAME=VALUE arguments for kf run", NULL },
	{ 0, NULL, KF_OPT_NONE, NULL, NULL, NULL },
};

static const struct kf_cmd kf_cmd_tune_best = {
	.name = "best",
	.summary = "print the best trial's parameters and run id",
	.usage = "tune best NAME [--as-args] [-o table|json|yaml|name]",
	.description =
		"With --as-args, prints the parameters as kf run arguments, one per line:\n"
		"  kf run pipeline.yaml $(kf tune best NAME --as-args)\n"
		"For a pipeline experiment they are the pipeline's parameters.",
	.opts = best_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = KF_CMD_RECORDS,
	.run = run_best,
};

static const struct kf_cmd kf_cmd_tune_logs = {
	.name = "logs",
	.summary = "print a trial's output",
	.usage = "tune logs NAME TRIAL",
	.description = "TRIAL is the trial's name or its number (1 is the first trial).",
	.min_args = 2,
	.max_args = 2,
	.run = run_logs,
};

static const struct kf_cmd kf_cmd_tune_ls = {
	.name = "ls",
	.summary = "list the experiments in the store",
	.usage = "tune ls [-o table|json|yaml|name]",
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_ls,
};

static const struct kf_opt tune_opts[] = {
	{ 'j', "jobs", KF_OPT_REQUIRED, "N", "run at most N trials at once (default: parallelTrialCount)", NULL },
	{ 0, "resume", KF_OPT_REQUIRED, "NAME", "continue an interrupted experiment", NULL },
	{ 0, "emit", KF_OPT_NONE, NULL, "print the Katib Experiment for a cluster instead of running it", NULL },
	{ 0, NULL, KF_OPT_NONE, NULL, NULL, NULL },
};

const struct kf_cmd kf_cmd_tune = {
	.name = "tune",
	.summary = "hyperparameter search: run a Katib Experiment's trials locally",
	.usage = "tune EXPERIMENT.yaml [-j N] [-o table|json|yaml|name]\n"
		 "tune --resume NAME [EXPERIMENT.yaml] [-j N]\n"
		 "tune EXPERIMENT.yaml --emit",
	.description =
		"Runs a Katib Experiment (kubeflow.org/v1beta1) on this machine: a trial is\n"
		"a batch Job's command run as a process, a TFJob/PyTorchJob run as kf train\n"
		"runs one, an Argo Workflow or a kf pipeline (trialTemplate.pipeline) run\n"
		"as kf run runs one; up to parallelTrialCount at a time. Metrics are\n"
		"collected as Katib's collectors do. Exits 0 when a best trial exists.",
	.opts = tune_opts,
	.subs = (const struct kf_cmd *const[]){ &kf_cmd_tune_show, &kf_cmd_tune_best, &kf_cmd_tune_logs,
						&kf_cmd_tune_ls, NULL },
	.min_args = 0,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_tune,
};
