/* kf_tune: the experiment loop. One turn: start trials up to the parallel
 * limit (resumed ones first, then what the algorithm suggests), sleep
 * until a trial ends or a signal comes (or, with early stopping, a poll
 * interval passes), reap and collect, check Katib's end conditions. */
#include "config.h"

#include "tune/kf_tune.h"

#include "engine/kf_engine.h"
#include "argo/kf_argo_import.h"
#include "engine/kf_proc.h"
#include "ml/kf_trainjob.h"
#include "spec/kf_pipeline.h"
#include "store/kf_store.h"
#include "tune/kf_experiment.h"
#include "tune/kf_medianstop.h"
#include "tune/kf_collect.h"
#include "tune/kf_suggest.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define POLL_MS 100           /* early stopping reads running trials' logs this often */
#define GRACE_MS 3000         /* SIGTERM to SIGKILL */

struct trial {
	char *name;
	const char *state;        /* Created Running Succeeded Failed MetricsUnavailable EarlyStopped Killed */
	double *u;
	char **values;            /* one per parameter */
	long resource;
	double resource_value;
	int bracket, rung;
	bool has_obj;
	double obj;
	cJSON *metrics;           /* name -> value, by each metric's strategy */
	double *stream;           /* the objective as reported, in order */
	size_t n_stream;
	char *reason;
	char *run_id;
	int64_t started, finished;   /* wall ms */
	int64_t t0_ns;
	double dur_ms;
	pid_t pid;
	char *cwd;                /* a Job trial's working directory */
	const char *stop_as;      /* set when kf signalled it: EarlyStopped or Killed */
	int64_t kill_at_ns;       /* SIGKILL after the grace period */
};

struct tune {
	struct kf_experiment *e;
	const struct kf_tune_opts *o;
	struct kf_algo algo;
	char *dir;
	struct trial *t;
	size_t n, cap;
	int parallel;
	const char *state;        /* Running Succeeded Failed Interrupted */
	const char *reason;
	char *message;
	int64_t created, finished;
	struct kf_store *st;
	int64_t exp_ctx;
	struct kf_medianstop ms;
	bool es;
	bool exhausted, stop_new;
	int64_t overhead_ns;      /* time kf spent between trials (process creation excluded) */
	int64_t spawn_ns;         /* time spent creating trial processes */
	int jfd;                  /* journal.jsonl, -1 until opened */
	size_t jsize;             /* its length */
	int64_t snapshot_ns;      /* when experiment.json was last written */
};

static const char *const trial_states[] = {
	"Created", "Running", "Succeeded", "Failed", "MetricsUnavailable", "EarlyStopped", "Killed", NULL,
};

static const char *intern_state(const char *s)
{
	for (size_t i = 0; trial_states[i]; i++)
		if (s && !strcmp(s, trial_states[i]))
			return trial_states[i];
	return "Created";
}

static bool st_is(const struct trial *t, const char *s)
{
	return !strcmp(t->state, s);
}

static bool finished_ok(const struct trial *t)
{
	return st_is(t, "Succeeded") || st_is(t, "EarlyStopped");
}

static bool failed(const struct trial *t)
{
	return st_is(t, "Failed") || st_is(t, "MetricsUnavailable");
}

static bool active(const struct trial *t)
{
	return st_is(t, "Running");
}

/* ---- paths --------------------------------------------------------------- */

char *kf_tune_dir(const char *store_dir, const char *name)
{
	char *tune = kf_path_join(store_dir, "tune"), *dir = kf_path_join(tune, name);

	free(tune);
	return dir;
}

char *kf_tune_source_path(const char *store_dir, const char *name)
{
	char *dir = kf_tune_dir(store_dir, name), *p = kf_path_join(dir, "experiment.yaml");

	free(dir);
	return p;
}

static char *trial_dir(const char *dir, const char *trial)
{
	char *trials = kf_path_join(dir, "trials"), *t = kf_path_join(trials, trial);

	free(trials);
	return t;
}

char *kf_tune_trial_log(const char *store_dir, const char *exp, const char *trial)
{
	char *dir = kf_tune_dir(store_dir, exp), *td = trial_dir(dir, trial), *log = kf_path_join(td, "log");

	free(dir);
	free(td);
	return log;
}

/* ---- the document ------------------------------------------------------------ */

static long best_trial(const struct tune *tu)
{
	long best = -1;

	for (size_t i = 0; i < tu->n; i++) {
		const struct trial *t = &tu->t[i];

		if (!finished_ok(t) || !t->has_obj)
			continue;
		if (best < 0 || (tu->e->maximize ? t->obj > tu->t[best].obj : t->obj < tu->t[best].obj))
			best = (long)i;
	}
	return best;
}

static cJSON *num_or_null(bool has, double v)
{
	return has && isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static const char **tp_values(const struct tune *tu, const struct trial *t);

static cJSON *trial_json(const struct tune *tu, const struct trial *t, size_t idx, bool best)
{
	cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject(), *u = cJSON_CreateArray();
	cJSON *s = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "kind", "Trial");
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddNumberToObject(o, "number", (double)idx + 1);
	cJSON_AddStringToObject(o, "state", t->state);
	cJSON_AddBoolToObject(o, "best", best);
	for (size_t j = 0; j < tu->e->n_params; j++) {
		cJSON_AddStringToObject(p, tu->e->params[j].name, t->values[j]);
		cJSON_AddItemToArray(u, cJSON_CreateNumber(t->u[j]));
	}
	cJSON_AddItemToObject(o, "parameters", p);
	if (tu->e->kind == KF_TRIAL_PIPELINE) {
		const char **vals = tp_values(tu, t);
		cJSON *pp = cJSON_AddObjectToObject(o, "pipelineParams");

		for (size_t i = 0; i < tu->e->n_pipeline_params; i++) {
			char *v = kf_experiment_subst(tu->e, tu->e->pp_values[i], t->name, vals);

			cJSON_AddStringToObject(pp, tu->e->pp_names[i], v);
			free(v);
		}
		free(vals);
	}
	cJSON_AddItemToObject(o, "objective", num_or_null(t->has_obj, t->obj));
	cJSON_AddItemToObject(o, "metrics", t->metrics ? cJSON_Duplicate(t->metrics, 1) : cJSON_CreateObject());
	for (size_t k = 0; k < t->n_stream; k++)
		cJSON_AddItemToArray(s, cJSON_CreateNumber(t->stream[k]));
	cJSON_AddItemToObject(o, "observations", s);
	cJSON_AddItemToObject(o, "u", u);
	if (t->resource >= 0) {
		cJSON_AddNumberToObject(o, "bracket", t->bracket);
		cJSON_AddNumberToObject(o, "rung", t->rung);
		cJSON_AddNumberToObject(o, "resource", t->resource_value);
	}
	cJSON_AddItemToObject(o, "reason", t->reason ? cJSON_CreateString(t->reason) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "runId", t->run_id ? cJSON_CreateString(t->run_id) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "started", (double)t->started);
	cJSON_AddNumberToObject(o, "finished", (double)t->finished);
	cJSON_AddNumberToObject(o, "durationMs", t->dur_ms);
	return o;
}

static cJSON *build_doc(const struct tune *tu)
{
	const struct kf_experiment *e = tu->e;
	cJSON *doc = cJSON_CreateObject(), *obj = cJSON_CreateObject(), *trials = cJSON_CreateArray();
	cJSON *counts = cJSON_CreateObject(), *params = cJSON_CreateArray();
	long best = best_trial(tu);
	int c[7] = { 0 };

	cJSON_AddStringToObject(doc, "kind", "Experiment");
	cJSON_AddStringToObject(doc, "name", e->name);
	cJSON_AddStringToObject(doc, "state", tu->state);
	cJSON_AddItemToObject(doc, "reason", tu->reason ? cJSON_CreateString(tu->reason) : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "message", tu->message ? cJSON_CreateString(tu->message) : cJSON_CreateNull());
	cJSON_AddStringToObject(doc, "file", e->file);
	cJSON_AddStringToObject(doc, "algorithm", e->algorithm);
	cJSON_AddStringToObject(obj, "type", e->maximize ? "maximize" : "minimize");
	cJSON_AddStringToObject(obj, "objectiveMetricName", e->metrics[0].name);
	cJSON_AddItemToObject(obj, "goal", num_or_null(e->has_goal, e->goal));
	cJSON_AddItemToObject(doc, "objective", obj);
	for (size_t j = 0; j < e->n_params; j++)
		cJSON_AddItemToArray(params, cJSON_CreateString(e->params[j].name));
	cJSON_AddItemToObject(doc, "parameters", params);
	if (e->kind == KF_TRIAL_PIPELINE)
		cJSON_AddStringToObject(doc, "pipeline", e->pipeline);
	cJSON_AddNumberToObject(doc, "parallelTrialCount", tu->parallel);
	cJSON_AddNumberToObject(doc, "maxTrialCount", e->max_trials);
	cJSON_AddNumberToObject(doc, "maxFailedTrialCount", e->max_failed);
	cJSON_AddNumberToObject(doc, "created", (double)tu->created);
	cJSON_AddNumberToObject(doc, "finished", (double)tu->finished);
	cJSON_AddNumberToObject(doc, "overheadMs", (double)tu->overhead_ns / 1e6);
	cJSON_AddNumberToObject(doc, "spawnMs", (double)tu->spawn_ns / 1e6);
	cJSON_AddNumberToObject(doc, "journalOffset", (double)tu->jsize);
	for (size_t i = 0; i < tu->n; i++) {
		for (int k = 0; trial_states[k]; k++)
			c[k] += tu->t[i].state == trial_states[k];
		cJSON_AddItemToArray(trials, trial_json(tu, &tu->t[i], i, (long)i == best));
	}
	for (int k = 0; trial_states[k]; k++)
		cJSON_AddNumberToObject(counts, trial_states[k], c[k]);
	cJSON_AddItemToObject(doc, "counts", counts);
	cJSON_AddItemToObject(doc, "best", best >= 0 ? cJSON_CreateString(tu->t[best].name) : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "trials", trials);
	return doc;
}

/* Saving state. Every trial state change appends the trial's record to
 * journal.jsonl (an append: cheap, and whole lines survive kf being
 * killed); experiment.json, the snapshot, is rewritten through a rename at
 * most every SNAPSHOT_MS and when the experiment starts and ends (on ext4
 * every rename over a file flushes its data, which would dominate a fast
 * trial's cost). The snapshot records how much of the journal it includes;
 * kf_tune_load applies the rest. Only the final snapshot is fsynced. */
#define SNAPSHOT_MS 250

static int snapshot(struct tune *tu, const cJSON *doc, bool sync, struct kf_err *err)
{
	char *text = cJSON_PrintUnformatted(doc);
	char *path = kf_path_join(tu->dir, "experiment.json");
	char *tmp = kf_xasprintf("%s.tmp", path);
	int rc = 0;

	if (sync) {
		rc = kf_fs_write_atomic(path, text, strlen(text), err);
	} else {
		FILE *f = fopen(tmp, "w");

		if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
			if (f)
				fclose(f);
			rc = kf_err_sys(err, "cannot write \"%s\"", tmp);
		} else if (rename(tmp, path) != 0) {
			rc = kf_err_sys(err, "cannot rename \"%s\"", tmp);
		}
	}
	tu->snapshot_ns = kf_time_mono_ns();
	free(tmp);
	free(path);
	free(text);
	return rc;
}

static int journal(struct tune *tu, size_t i, struct kf_err *err)
{
	cJSON *rec = trial_json(tu, &tu->t[i], i, false);
	char *line = cJSON_PrintUnformatted(rec);
	size_t len = strlen(line);
	int rc = 0;

	if (tu->jfd < 0) {
		char *path = kf_path_join(tu->dir, "journal.jsonl");

		tu->jfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (tu->jfd < 0)
			rc = kf_err_sys(err, "cannot open \"%s\"", path);
		free(path);
	}
	line[len] = '\n';
	if (rc == 0 && write(tu->jfd, line, len + 1) != (ssize_t)(len + 1))
		rc = kf_err_sys(err, "cannot append to the journal of \"%s\"", tu->e->name);
	if (rc == 0)
		tu->jsize += len + 1;
	free(line);
	cJSON_Delete(rec);
	return rc;
}

/* A state change: journal the trial (trial >= 0), snapshot when due or
 * final, and tell the caller. */
static int save(struct tune *tu, int trial, bool final, struct kf_err *err)
{
	bool due = final || trial < 0 || kf_time_mono_ns() - tu->snapshot_ns > (int64_t)SNAPSHOT_MS * 1000000;
	cJSON *doc = NULL;
	int rc = 0;

	if (trial >= 0)
		rc = journal(tu, (size_t)trial, err);
	if (rc == 0 && (due || tu->o->on_event))
		doc = build_doc(tu);
	if (rc == 0 && due)
		rc = snapshot(tu, doc, final, err);
	if (rc == 0 && tu->o->on_event)
		tu->o->on_event(tu->o->cb_ctx, doc, trial);
	cJSON_Delete(doc);
	return rc;
}

/* ---- the store ------------------------------------------------------------------ */

static int record_trial(struct tune *tu, struct trial *t, struct kf_err *err)
{
	struct kf_store_props p = KF_STORE_PROPS_INIT;
	cJSON *params = cJSON_CreateObject();
	int64_t ctx[2], exec_id;
	size_t nctx = 1;
	int rc;

	for (size_t j = 0; j < tu->e->n_params; j++)
		cJSON_AddStringToObject(params, tu->e->params[j].name, t->values[j]);
	kf_store_props_str(&p, "experiment", tu->e->name);
	kf_store_props_str(&p, "state", t->state);
	kf_store_props_json(&p, "parameters", params);
	if (t->has_obj)
		kf_store_props_double(&p, "objective", t->obj);
	if (t->metrics)
		kf_store_props_json(&p, "metrics", t->metrics);
	if (t->run_id)
		kf_store_props_str(&p, "run_id", t->run_id);
	rc = kf_store_context(tu->st, "kf.Trial", t->name, &p, tu->exp_ctx, &ctx[0], err);
	if (rc == 0 && t->run_id) {
		cJSON *run = NULL;

		/* the trial's execution joins the trial and its run */
		if (kf_store_run_get(tu->st, t->run_id, &run, err) == 0) {
			double id = cJSON_GetNumberValue(cJSON_GetObjectItem(run, "context_id"));

			if (id > 0)
				ctx[nctx++] = (int64_t)id;
		}
		cJSON_Delete(run);
		kf_err_clear(err);
	}
	if (rc == 0) {
		struct kf_store_record r = {
			.type = "kf.Trial", .name = t->name,
			.state = finished_ok(t) ? KF_EXEC_COMPLETE : KF_EXEC_FAILED, .props = &p,
			.contexts = ctx, .n_contexts = nctx, .start_ms = t->started, .end_ms = t->finished,
		};

		rc = kf_store_record(tu->st, &r, &exec_id, err);
	}
	cJSON_Delete(params);
	kf_store_props_release(&p);
	return rc;
}

static int record_experiment(struct tune *tu, struct kf_err *err)
{
	struct kf_store_props p = KF_STORE_PROPS_INIT;
	long best = best_trial(tu);
	int rc;

	kf_store_props_str(&p, "algorithm", tu->e->algorithm);
	kf_store_props_str(&p, "objective", tu->e->metrics[0].name);
	kf_store_props_str(&p, "type", tu->e->maximize ? "maximize" : "minimize");
	kf_store_props_str(&p, "file", tu->e->file);
	kf_store_props_str(&p, "state", tu->state);
	if (best >= 0) {
		kf_store_props_str(&p, "best_trial", tu->t[best].name);
		kf_store_props_double(&p, "best_objective", tu->t[best].obj);
	}
	rc = kf_store_context(tu->st, "kf.Experiment", tu->e->name, &p, 0, &tu->exp_ctx, err);
	kf_store_props_release(&p);
	return rc;
}

/* ---- metrics ------------------------------------------------------------------- */

static void read_into(const char *path, struct kf_buf *b)
{
	struct kf_err err;

	kf_err_clear(&err);
	kf_fs_read_file(path, b, &err);
}

/* The metrics a trial reported so far. */
static int collect(struct tune *tu, struct trial *t, struct kf_collect *m, struct kf_err *err)
{
	const struct kf_experiment *e = tu->e;
	char *td = trial_dir(tu->dir, t->name);
	char *log = kf_path_join(td, "log");
	struct kf_buf b = KF_BUF_INIT;
	int rc = 0;

	if (e->collector == KF_COLLECTOR_FILE && e->kind == KF_TRIAL_JOB) {
		char *work = t->cwd ? kf_xstrdup(t->cwd) : kf_path_join(td, "work");
		char *path = e->file_path[0] == '/' ? kf_xstrdup(e->file_path) : kf_path_join(work, e->file_path);

		read_into(path, &b);
		if (e->file_json)
			rc = kf_collect_parse_json(m, kf_buf_str(&b), b.len, e->metrics, e->n_metrics, err);
		else
			rc = kf_collect_parse_text(m, kf_buf_str(&b), b.len, e->filters, e->n_filters,
						   e->metrics, e->n_metrics, err);
		if (rc < 0)
			kf_err_prefix(err, "%s", path);
		free(path);
		free(work);
	} else if (e->collector != KF_COLLECTOR_NONE) {
		read_into(log, &b);
		rc = kf_collect_parse_text(m, kf_buf_str(&b), b.len, e->filters, e->n_filters, e->metrics,
					   e->n_metrics, err);
	}
	kf_buf_release(&b);
	free(log);
	free(td);
	return rc;
}

/* A pipeline trial's step logs go into the trial's log, and its
 * mlpipeline-metrics outputs into m. */
static const char *state_of(const cJSON *task)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(task, "state"));

	return s ? s : "?";
}

static void collect_pipeline(struct tune *tu, struct trial *t, struct kf_collect *m)
{
	char *td = trial_dir(tu->dir, t->name), *log = kf_path_join(td, "log");
	char *rundir = kf_engine_run_dir(tu->st, t->run_id);
	struct kf_buf all = KF_BUF_INIT;
	struct kf_err err;
	cJSON *tasks = NULL, *task;

	kf_err_clear(&err);
	read_into(log, &all);
	if (kf_store_task_list(tu->st, t->run_id, &tasks, &err) < 0)
		goto out;
	cJSON_ArrayForEach(task, tasks) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(task, "task"));
		const cJSON *arts = kf_json_path(task, "outputs.artifacts"), *a;
		char *tdir;

		if (!name)
			continue;
		tdir = kf_path_join(rundir, name);
		kf_buf_printf(&all, "==> step %s (%s) <==\n", name,
			      state_of(task));
		for (int k = 0; k < 2; k++) {
			char *p = kf_path_join(tdir, k ? "stderr" : "stdout");

			read_into(p, &all);
			free(p);
		}
		free(tdir);
		cJSON_ArrayForEach(a, arts) {
			const char *uri = cJSON_GetStringValue(cJSON_GetObjectItem(a, "uri"));
			struct kf_buf b = KF_BUF_INIT;

			if (!a->string || !uri || (strcmp(a->string, "mlpipeline-metrics") &&
						   strcmp(a->string, "metrics")))
				continue;
			if (kf_fs_is_dir(uri)) {
				char *p = kf_path_join(uri, "data");

				read_into(p, &b);
				free(p);
			} else {
				read_into(uri, &b);
			}
			kf_collect_parse_json(m, kf_buf_str(&b), b.len, tu->e->metrics, tu->e->n_metrics, &err);
			kf_err_clear(&err);
			kf_buf_release(&b);
		}
	}
	/* the steps' logs become the trial's log, which collect() then reads */
	kf_fs_write_atomic(log, kf_buf_str(&all), all.len, &err);
out:
	cJSON_Delete(tasks);
	kf_buf_release(&all);
	free(rundir);
	free(log);
	free(td);
}

static void set_stream(struct tune *tu, struct trial *t, const struct kf_collect *m)
{
	const char *obj = tu->e->metrics[0].name;

	free(t->stream);
	t->stream = kf_xcalloc(m->n + 1, sizeof *t->stream);
	t->n_stream = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->items[i].name, obj) && !isnan(m->items[i].value))
			t->stream[t->n_stream++] = m->items[i].value;
}

static void apply_metrics(struct tune *tu, struct trial *t, const struct kf_collect *m)
{
	const struct kf_experiment *e = tu->e;

	cJSON_Delete(t->metrics);
	t->metrics = cJSON_CreateObject();
	for (size_t i = 0; i < e->n_metrics; i++) {
		double v;

		if (kf_collect_value(m, e->metrics[i].name, e->metrics[i].strategy, &v)) {
			cJSON_AddNumberToObject(t->metrics, e->metrics[i].name, v);
			if (i == 0) {
				t->has_obj = true;
				t->obj = v;
			}
		}
	}
	set_stream(tu, t, m);
}

/* ---- starting trials --------------------------------------------------------------- */

static char *value_text(const struct kf_tune_param *p, double v)
{
	if (p->type == KF_PARAM_INT)
		return kf_xasprintf("%.0f", v);
	return kf_xasprintf("%.17g", v);
}

/* Values of trialParameters for substitution (metadata ones are resolved
 * by kf_experiment_subst). */
static const char **tp_values(const struct tune *tu, const struct trial *t)
{
	const struct kf_experiment *e = tu->e;
	const char **v = kf_xcalloc(e->n_trial_params + 1, sizeof *v);

	for (size_t i = 0; i < e->n_trial_params; i++)
		v[i] = e->trial_params[i].param >= 0 ? t->values[e->trial_params[i].param] : "";
	return v;
}

static void argv_add(struct kf_strv *sv, const cJSON *list)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list) {
		char *s = kf_json_text(it);

		kf_strv_push_owned(sv, s);
	}
}

static const cJSON *primary(const struct tune *tu, const cJSON *job)
{
	const cJSON *cs = kf_json_path(job, "spec.template.spec.containers"), *c;

	cJSON_ArrayForEach(c, cs) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));

		if (!tu->e->primary_container || (name && !strcmp(name, tu->e->primary_container)))
			return c;
	}
	return NULL;
}

static int spawn_job(struct tune *tu, struct trial *t, const char *td, struct kf_err *err)
{
	const char **vals = tp_values(tu, t);
	cJSON *job = kf_experiment_render(tu->e, t->name, vals);
	const cJSON *c = primary(tu, job), *env, *it;
	struct kf_strv argv = KF_STRV_INIT, envp = KF_STRV_INIT;
	char *work = kf_path_join(td, "work"), *log = kf_path_join(td, "log");
	int rc;

	argv_add(&argv, cJSON_GetObjectItem(c, "command"));
	argv_add(&argv, cJSON_GetObjectItem(c, "args"));
	for (char **ep = environ; *ep; ep++)
		kf_strv_push(&envp, *ep);
	env = cJSON_GetObjectItem(c, "env");
	cJSON_ArrayForEach(it, env) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
		const cJSON *v = cJSON_GetObjectItem(it, "value");
		char *vs;

		if (!n || !v)
			continue;   /* valueFrom needs a cluster */
		vs = kf_json_text(v);
		kf_strv_push_owned(&envp, kf_xasprintf("%s=%s", n, vs));
		free(vs);
	}
	kf_strv_push_owned(&envp, kf_xasprintf("KF_TUNE_EXPERIMENT=%s", tu->e->name));
	kf_strv_push_owned(&envp, kf_xasprintf("KF_TUNE_TRIAL=%s", t->name));
	/* the container's workingDir when it exists here (relative: to the
	 * experiment file), else the trial's own directory */
	free(t->cwd);
	t->cwd = NULL;
	{
		const char *wd = cJSON_GetStringValue(cJSON_GetObjectItem(c, "workingDir"));
		char *p = wd ? (wd[0] == '/' ? kf_xstrdup(wd) : kf_path_join(tu->e->dir, wd)) : NULL;

		if (p && kf_fs_is_dir(p))
			t->cwd = kf_path_absolute(p);
		free(p);
	}
	if (!t->cwd)
		t->cwd = kf_xstrdup(work);
	if ((rc = kf_fs_mkdirs(work, err)) == 0) {
		struct kf_proc_opts po = {
			.argv = argv.v, .envp = envp.v, .cwd = t->cwd, .stdout_path = log, .stderr_path = log,
		};

		if (tu->e->collector == KF_COLLECTOR_FILE && tu->e->file_path[0] == '/')
			unlink(tu->e->file_path);   /* a fixed path: the last trial's file is not ours */
		rc = kf_proc_spawn(&po, &t->pid, err);
	}
	kf_strv_release(&argv);
	kf_strv_release(&envp);
	free(work);
	free(log);
	cJSON_Delete(job);
	free(vals);
	return rc;
}

/* An Argo Workflow trial: the rendered Workflow imported as a pipeline, as
 * kf run imports one. *path names it (for errors and the run record), *text
 * is the pipeline text. */
static int workflow_pipeline(struct tune *tu, struct trial *t, const char **vals,
			     const struct kf_pipeline_opts *po, char **path, struct kf_buf *text,
			     struct kf_pipeline **p, struct kf_errlist *errs)
{
	cJSON *wf = kf_experiment_render(tu->e, t->name, vals), *md;
	struct kf_buf yaml = KF_BUF_INIT;
	struct kf_err err;
	char *dir = kf_path_absolute(tu->e->dir);
	int rc;

	kf_err_clear(&err);
	if (!(md = cJSON_GetObjectItem(wf, "metadata")))
		md = cJSON_AddObjectToObject(wf, "metadata");
	cJSON_DeleteItemFromObject(md, "name");
	cJSON_DeleteItemFromObject(md, "generateName");
	cJSON_AddStringToObject(md, "name", t->name);
	*path = kf_xasprintf("%s/%s.workflow.yaml", dir, t->name);
	rc = kf_yaml_emit(wf, &yaml, &err);
	if (rc == 0)
		rc = kf_argo_import(*path, kf_buf_str(&yaml), yaml.len, text, &err);
	if (rc < 0)
		kf_errlist_add(errs, &err);
	else
		rc = kf_pipeline_load_text(p, *path, kf_buf_str(text), text->len, po, errs);
	kf_buf_release(&yaml);
	cJSON_Delete(wf);
	free(dir);
	return rc;
}

/* The child of a pipeline trial: load the pipeline with the trial's
 * parameters and run it with the engine; exits 0 (succeeded), 1 (a step
 * failed) or 2 (the pipeline or its parameters are wrong). */
static int pipeline_child(struct tune *tu, struct trial *t)
{
	const char **vals = tp_values(tu, t);
	struct kf_strv over = KF_STRV_INIT;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline *p = NULL;
	struct kf_store *st = NULL;
	struct kf_engine_result res;
	struct kf_buf text = KF_BUF_INIT;
	struct kf_err err;
	cJSON *plan = NULL;
	char msg[KF_ERR_MSG_MAX + KF_ERR_FILE_MAX + 64];
	char *path = NULL;
	int rc;

	kf_err_clear(&err);
	memset(&res, 0, sizeof res);
	for (size_t i = 0; i < tu->e->n_pipeline_params; i++) {
		char *v = kf_experiment_subst(tu->e, tu->e->pp_values[i], t->name, vals);

		kf_strv_push_owned(&over, kf_xasprintf("%s=%s", tu->e->pp_names[i], v));
		free(v);
	}
	{
		struct kf_pipeline_opts po = {
			.store_dir = tu->o->store_dir, .overrides = &over, .require_params = true,
		};

		if (tu->e->kind == KF_TRIAL_WORKFLOW)
			rc = workflow_pipeline(tu, t, vals, &po, &path, &text, &p, &errs);
		else if ((rc = kf_pipeline_load(&p, tu->e->pipeline, &po, &errs)) == 0 &&
			 kf_fs_read_file(tu->e->pipeline, &text, &err) == 0)
			path = kf_path_absolute(tu->e->pipeline);
	}
	if (rc < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			kf_err_format(&errs.items[i], msg, sizeof msg);
			fprintf(stderr, "kf: error: %s\n", msg);
		}
		rc = 2;
		goto out;
	}
	if (path) {
		const char *abs = path;

		plan = cJSON_CreateObject();
		cJSON_AddStringToObject(plan, "path", abs);
		cJSON_AddStringToObject(plan, "text", kf_buf_str(&text));
		cJSON_AddItemToObject(plan, "overrides", cJSON_CreateStringArray((const char *const *)over.v,
									       (int)over.n));
	}
	if ((rc = kf_store_open(tu->o->store_dir, &st, &err)) == 0) {
		struct kf_engine_opts eo = {
			.store = st, .self_exe = tu->o->self_exe, .run_id = t->run_id, .run_name = t->name,
			.source = path, .plan = plan,
		};

		rc = kf_engine_run(p, &eo, &res, &err);
	}
	if (rc < 0) {
		kf_err_format(&err, msg, sizeof msg);
		fprintf(stderr, "kf: error: %s\n", msg);
	}
	rc = rc == 0 ? 0 : rc == KF_EFAIL ? 1 : rc == KF_EINTR ? 130 : 2;
out:
	fflush(stderr);
	kf_engine_result_release(&res);
	kf_store_close(st);
	kf_pipeline_free(p);
	cJSON_Delete(plan);
	kf_buf_release(&text);
	kf_errlist_release(&errs);
	kf_strv_release(&over);
	free(path);
	free(vals);
	return rc;
}

/* ---- training-operator trials ---------------------------------------------------- */

static volatile sig_atomic_t child_stop;

static void on_stop(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void trainjob_line(void *arg, const char *replica, const char *line)
{
	(void)arg;
	printf("[%s] %s\n", replica, line);
	fflush(stdout);
}

static void trainjob_event(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "kf: %s\n", msg);
}

/* The child of a TFJob or PyTorchJob trial: the rendered manifest run by
 * the training-operator runner, its replicas' lines in the trial's log.
 * Exits 0 (succeeded), 1 (failed) or 2 (invalid manifest). */
static int trainjob_child(struct tune *tu, struct trial *t, const char *td)
{
	const char **vals = tp_values(tu, t);
	cJSON *job = kf_experiment_render(tu->e, t->name, vals), *md;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_trainjob *tj = NULL;
	struct kf_trainjob_opts jo;
	struct kf_buf text = KF_BUF_INIT;
	struct sigaction sa;
	struct kf_err err;
	char msg[KF_ERR_MSG_MAX + KF_ERR_FILE_MAX + 64];
	char *logs = kf_path_join(td, "replicas");
	sigset_t none;
	int rc;

	kf_err_clear(&err);
	/* the parent blocks the stop signals to wait for them; here they stop the job */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Katib names the job after the trial */
	if (!(md = cJSON_GetObjectItem(job, "metadata")))
		md = cJSON_AddObjectToObject(job, "metadata");
	cJSON_DeleteItemFromObject(md, "name");
	cJSON_AddStringToObject(md, "name", t->name);
	rc = kf_yaml_emit(job, &text, &err);
	if (rc == 0)
		rc = kf_trainjob_load_text(&tj, t->name, kf_buf_str(&text), text.len, &errs, &err);
	if (rc < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			kf_err_format(&errs.items[i], msg, sizeof msg);
			fprintf(stderr, "kf: error: %s\n", msg);
		}
		if (!errs.n) {
			kf_err_format(&err, msg, sizeof msg);
			fprintf(stderr, "kf: error: %s\n", msg);
		}
		rc = 2;
		goto out;
	}
	kf_trainjob_opts_init(&jo);
	jo.self_exe = tu->o->self_exe;
	jo.log_dir = logs;
	jo.store_dir = tu->o->store_dir;
	jo.on_line = trainjob_line;
	jo.on_event = trainjob_event;
	jo.interrupted = (volatile const int *)&child_stop;
	rc = kf_trainjob_run(tj, &jo, &err);
	if (rc < 0) {
		kf_err_format(&err, msg, sizeof msg);
		fprintf(stderr, "kf: %s\n", msg);
	}
	rc = rc == 0 ? 0 : rc == KF_EFAIL ? 1 : rc == KF_EINTR ? 130 : 2;
out:
	fflush(NULL);
	kf_trainjob_free(tj);
	kf_errlist_release(&errs);
	kf_buf_release(&text);
	cJSON_Delete(job);
	free(logs);
	free(vals);
	return rc;
}

/* Pipeline and training-operator trials run in a child of kf: its output
 * goes to the trial's log, it is its own process group. */
static int spawn_child(struct tune *tu, struct trial *t, const char *td, struct kf_err *err)
{
	char *log = kf_path_join(td, "log");
	int fd, rc = 0;
	pid_t pid;

	if (tu->e->kind == KF_TRIAL_PIPELINE || tu->e->kind == KF_TRIAL_WORKFLOW) {
		free(t->run_id);
		t->run_id = kf_store_run_new_id(t->name);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = kf_err_sys(err, "cannot open \"%s\"", log);
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = kf_err_sys(err, "cannot start trial \"%s\"", t->name);
		close(fd);
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (null >= 0)
			dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		/* the child leaves by _exit: nothing of the parent's is flushed
		 * or freed twice, and its store connection is never touched */
		_exit(tu->e->kind == KF_TRIAL_PIPELINE || tu->e->kind == KF_TRIAL_WORKFLOW ?
		      pipeline_child(tu, t) : trainjob_child(tu, t, td));
	}
	setpgid(pid, pid);
	close(fd);
	t->pid = pid;
out:
	free(log);
	return rc;
}

static void trial_release(struct trial *t, size_t d)
{
	free(t->name);
	free(t->u);
	for (size_t j = 0; t->values && j < d; j++)
		free(t->values[j]);
	free(t->values);
	cJSON_Delete(t->metrics);
	free(t->stream);
	free(t->reason);
	free(t->run_id);
	free(t->cwd);
}

static void set_reason(struct trial *t, char *reason)
{
	free(t->reason);
	t->reason = reason;
}

/* Start trial t (fresh or resumed): its directory, its log, its process. */
static int start(struct tune *tu, size_t i, struct kf_err *err)
{
	struct trial *t = &tu->t[i];
	char *td = trial_dir(tu->dir, t->name), *log = kf_path_join(td, "log");
	int rc;

	/* a resumed trial starts over: its old log and work dir go */
	kf_fs_remove_tree(td, err);
	kf_err_clear(err);
	if ((rc = kf_fs_mkdirs(td, err)) < 0)
		goto out;
	{
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0) {
			rc = kf_err_sys(err, "cannot create \"%s\"", log);
			goto out;
		}
		close(fd);
	}
	t->state = "Running";
	t->started = kf_time_wall_ms();
	t->t0_ns = kf_time_mono_ns();
	t->stop_as = NULL;
	t->has_obj = false;
	set_reason(t, NULL);
	{
		int64_t t0 = kf_time_mono_ns();

		rc = tu->e->kind == KF_TRIAL_JOB ? spawn_job(tu, t, td, err) : spawn_child(tu, t, td, err);
		tu->spawn_ns += kf_time_mono_ns() - t0;
	}
	if (rc == KF_EFAIL) {
		/* the command does not exist: the trial failed, not kf */
		t->state = "Failed";
		t->finished = kf_time_wall_ms();
		set_reason(t, kf_xstrdup(err->msg));
		kf_err_clear(err);
		rc = record_trial(tu, t, err);
	}
	if (rc == 0)
		rc = save(tu, (int)i, false, err);
out:
	free(log);
	free(td);
	return rc;
}

/* The history as the algorithms see it. */
static struct kf_obs *history(const struct tune *tu)
{
	struct kf_obs *h = kf_xcalloc(tu->n + 1, sizeof *h);

	for (size_t i = 0; i < tu->n; i++) {
		const struct trial *t = &tu->t[i];

		h[i].u = t->u;
		if (st_is(t, "Created") || active(t))
			h[i].state = KF_OBS_PENDING;
		else if (finished_ok(t) && t->has_obj)
			h[i].state = KF_OBS_DONE;
		else
			h[i].state = KF_OBS_FAILED;
		h[i].y = tu->e->maximize ? -t->obj : t->obj;
	}
	return h;
}

static size_t count_active(const struct tune *tu)
{
	size_t n = 0;

	for (size_t i = 0; i < tu->n; i++)
		n += active(&tu->t[i]);
	return n;
}

/* Start one trial if one may start: 1 started, 0 none now, < 0 error. */
static int start_next(struct tune *tu, struct kf_err *err)
{
	const struct kf_experiment *e = tu->e;
	struct kf_suggestion s;
	struct kf_obs *h;
	struct trial *t;
	int rc;

	if (tu->stop_new)
		return 0;
	for (size_t i = 0; i < tu->n; i++)
		if (st_is(&tu->t[i], "Created"))
			return (rc = start(tu, i, err)) < 0 ? rc : 1;
	if ( tu->exhausted || (e->max_trials > 0 && tu->n >= (size_t)e->max_trials))
		return 0;
	KF_GROW(tu->t, tu->cap, tu->n + 1);
	t = &tu->t[tu->n];
	memset(t, 0, sizeof *t);
	t->u = kf_xcalloc(e->n_params + 1, sizeof *t->u);
	s = (struct kf_suggestion){ .u = t->u };
	h = history(tu);
	rc = kf_suggest_next(&tu->algo, e, h, tu->n, &s, err);
	free(h);
	if (rc != KF_SUGGEST_OK) {
		free(t->u);
		if (rc == KF_SUGGEST_DONE)
			tu->exhausted = true;
		return rc < 0 ? rc : 0;
	}
	t->name = kf_xasprintf("%s-%zu", e->name, tu->n + 1);
	t->state = "Created";
	t->resource = s.resource;
	t->resource_value = s.resource_value;
	t->bracket = s.bracket;
	t->rung = s.rung;
	t->values = kf_xcalloc(e->n_params + 1, sizeof *t->values);
	for (size_t j = 0; j < e->n_params; j++)
		t->values[j] = (long)j == s.resource ? value_text(&e->params[j], s.resource_value) :
			       kf_suggest_value(&e->params[j], t->u[j]);
	tu->n++;
	return (rc = start(tu, tu->n - 1, err)) < 0 ? rc : 1;
}

/* ---- ending trials ------------------------------------------------------------------------- */

static struct trial *by_pid(struct tune *tu, pid_t pid)
{
	for (size_t i = 0; i < tu->n; i++)
		if (active(&tu->t[i]) && tu->t[i].pid == pid)
			return &tu->t[i];
	return NULL;
}

static char *log_tail(struct tune *tu, const struct trial *t)
{
	char *td = trial_dir(tu->dir, t->name), *log = kf_path_join(td, "log");
	struct kf_buf b = KF_BUF_INIT;
	char *line = NULL;

	read_into(log, &b);
	if (b.len) {
		char *s = b.data, *end = b.data + b.len;

		while (end > s && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		*end = 0;
		char *nl = strrchr(s, '\n');

		line = kf_xstrdup(nl ? nl + 1 : s);
	}
	kf_buf_release(&b);
	free(log);
	free(td);
	return line;
}

static int finish(struct tune *tu, struct trial *t, int status, struct kf_err *err)
{
	struct kf_collect m = KF_COLLECT_INIT;
	int code = kf_proc_exit_code(status);
	struct kf_err cerr;
	int rc;

	kf_err_clear(&cerr);
	t->pid = 0;
	t->finished = kf_time_wall_ms();
	t->dur_ms = (double)(kf_time_mono_ns() - t->t0_ns) / 1e6;
	if ((tu->e->kind == KF_TRIAL_PIPELINE || tu->e->kind == KF_TRIAL_WORKFLOW) && t->run_id)
		collect_pipeline(tu, t, &m);
	if (collect(tu, t, &m, &cerr) < 0 && code == 0)
		code = -2;
	apply_metrics(tu, t, &m);
	kf_collect_release(&m);
	if (t->stop_as) {
		t->state = t->stop_as;
		if (!strcmp(t->stop_as, "EarlyStopped"))
			set_reason(t, kf_xasprintf("%s %g is worse than the median after %zu reports",
						   tu->e->metrics[0].name, t->n_stream ? t->stream[t->n_stream - 1] : NAN,
						   t->n_stream));
		else
			set_reason(t, kf_xstrdup("the experiment ended"));
		if (!t->has_obj && !strcmp(t->stop_as, "EarlyStopped"))
			t->state = "MetricsUnavailable";
	} else if (code == -2) {
		t->state = "MetricsUnavailable";
		set_reason(t, kf_xasprintf("cannot collect metrics: %s", cerr.msg));
	} else if (code != 0) {
		char *tail = log_tail(tu, t);

		t->state = "Failed";
		if (t->run_id)
			set_reason(t, kf_xasprintf("run %s failed%s%s", t->run_id, tail ? ": " : "",
						   tail ? tail : ""));
		else
			set_reason(t, kf_xasprintf("exit code %d%s%s", code, tail ? ": " : "", tail ? tail : ""));
		free(tail);
	} else if (!t->has_obj) {
		t->state = "MetricsUnavailable";
		if (tu->e->collector == KF_COLLECTOR_FILE)
			set_reason(t, kf_xasprintf("objective metric \"%s\" not found in \"%s\"",
						   tu->e->metrics[0].name, tu->e->file_path));
		else
			set_reason(t, kf_xasprintf("objective metric \"%s\" was never reported (expected a "
						   "line like \"%s=0.5\" in the trial's output)",
						   tu->e->metrics[0].name, tu->e->metrics[0].name));
	} else {
		t->state = "Succeeded";
	}
	rc = record_trial(tu, t, err);
	if (rc == 0)
		rc = save(tu, (int)(t - tu->t), false, err);
	return rc;
}

static void stop_trial(struct trial *t, const char *as)
{
	if (t->stop_as)
		return;
	t->stop_as = as;
	t->kill_at_ns = kf_time_mono_ns() + (int64_t)GRACE_MS * 1000000;
	kf_proc_signal(t->pid, SIGTERM);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a running pipeline or Workflow trial's steps printed so far: the
 * logs of the run's steps (in name order; metrics of one step are in its
 * own order, which is what medianstop reads). */
static int collect_running(struct tune *tu, struct trial *t, struct kf_collect *m, struct kf_err *err)
{
	char *rundir = kf_engine_run_dir(tu->st, t->run_id);
	struct kf_strv names = KF_STRV_INIT;
	struct kf_buf b = KF_BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(rundir);
	int rc = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			kf_strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, cmp_names);
	for (size_t i = 0; i < names.n; i++) {
		char *task = kf_path_join(rundir, names.v[i]);
		char *out = kf_path_join(task, "stdout"), *errp = kf_path_join(task, "stderr");

		read_into(out, &b);
		read_into(errp, &b);
		free(errp);
		free(out);
		free(task);
	}
	if (tu->e->collector != KF_COLLECTOR_NONE)
		rc = kf_collect_parse_text(m, kf_buf_str(&b), b.len, tu->e->filters, tu->e->n_filters,
					   tu->e->metrics, tu->e->n_metrics, err);
	kf_buf_release(&b);
	kf_strv_release(&names);
	free(rundir);
	return rc;
}

/* medianstop: read each running trial's reports so far. */
static void early_stop(struct tune *tu)
{
	double *avgs = kf_xcalloc(tu->n + 1, sizeof *avgs), median;
	size_t n = 0;

	for (size_t i = 0; i < tu->n; i++)
		if (st_is(&tu->t[i], "Succeeded") && tu->t[i].n_stream)
			avgs[n++] = kf_medianstop_average(&tu->ms, tu->t[i].stream, tu->t[i].n_stream);
	if (kf_medianstop_median(&tu->ms, avgs, n, &median)) {
		for (size_t i = 0; i < tu->n; i++) {
			struct trial *t = &tu->t[i];
			struct kf_collect m = KF_COLLECT_INIT;
			struct kf_err err;

			int rc;

			if (!active(t) || t->stop_as)
				continue;
			kf_err_clear(&err);
			rc = t->run_id ? collect_running(tu, t, &m, &err) : collect(tu, t, &m, &err);
			if (rc == 0) {
				set_stream(tu, t, &m);
				if (kf_medianstop_stop(&tu->ms, median, t->stream, t->n_stream))
					stop_trial(t, "EarlyStopped");
			}
			kf_collect_release(&m);
		}
	}
	free(avgs);
}

static size_t count_failed(const struct tune *tu)
{
	size_t n = 0;

	for (size_t i = 0; i < tu->n; i++)
		n += failed(&tu->t[i]);
	return n;
}

/* Katib's end conditions that stop the experiment at once. */
static void check_end(struct tune *tu)
{
	const struct kf_experiment *e = tu->e;
	long best = best_trial(tu);

	if (tu->stop_new)
		return;
	if (e->max_failed >= 0 && count_failed(tu) > (size_t)e->max_failed) {
		tu->state = "Failed";
		tu->reason = "ExperimentMaxFailedTrialsReached";
		tu->stop_new = true;
	} else if (e->has_goal && best >= 0 &&
		   (e->maximize ? tu->t[best].obj >= e->goal : tu->t[best].obj <= e->goal)) {
		tu->state = "Succeeded";
		tu->reason = "ExperimentGoalReached";
		tu->stop_new = true;
	}
	if (tu->stop_new)
		for (size_t i = 0; i < tu->n; i++)
			if (active(&tu->t[i]))
				stop_trial(&tu->t[i], "Killed");
}

/* ---- the loop -------------------------------------------------------------------------------------- */

static void kill_all(struct tune *tu)
{
	int64_t deadline = kf_time_mono_ns() + (int64_t)GRACE_MS * 1000000;

	for (size_t i = 0; i < tu->n; i++)
		if (active(&tu->t[i]))
			kf_proc_signal(tu->t[i].pid, SIGTERM);
	while (count_active(tu)) {
		int status;
		pid_t pid;
		struct trial *t;

		while ((pid = kf_proc_reap(&status)) > 0)
			if ((t = by_pid(tu, pid))) {
				/* it starts again on --resume */
				t->state = "Created";
				t->pid = 0;
			}
		if (!count_active(tu))
			break;
		if (kf_time_mono_ns() > deadline) {
			for (size_t i = 0; i < tu->n; i++)
				if (active(&tu->t[i]))
					kf_proc_signal(tu->t[i].pid, SIGKILL);
			deadline = INT64_MAX;
		}
		kf_proc_wait(100);
	}
}

static int loop(struct tune *tu, struct kf_err *err)
{
	int rc = 0;

	for (;;) {
		int64_t t0 = kf_time_mono_ns(), s0 = tu->spawn_ns, now;
		int sig, status;
		pid_t pid;

		while (count_active(tu) < (size_t)tu->parallel) {
			int r = start_next(tu, err);

			if (r < 0)
				return r;
			if (r == 0)
				break;
		}
		tu->overhead_ns += kf_time_mono_ns() - t0 - (tu->spawn_ns - s0);
		if (!count_active(tu))
			break;
		sig = kf_proc_wait(tu->es ? POLL_MS : count_active(tu) && tu->stop_new ? 200 : -1);
		if (sig) {
			kill_all(tu);
			tu->state = "Interrupted";
			tu->reason = NULL;
			return KF_EINTR;
		}
		t0 = kf_time_mono_ns();
		while ((pid = kf_proc_reap(&status)) > 0) {
			struct trial *t = by_pid(tu, pid);

			if (t && (rc = finish(tu, t, status, err)) < 0)
				return rc;
			check_end(tu);
		}
		if (tu->es && !tu->stop_new)
			early_stop(tu);
		now = kf_time_mono_ns();
		for (size_t i = 0; i < tu->n; i++)
			if (active(&tu->t[i]) && tu->t[i].stop_as && now > tu->t[i].kill_at_ns)
				kf_proc_signal(tu->t[i].pid, SIGKILL);
		tu->overhead_ns += kf_time_mono_ns() - t0;
	}
	if (!tu->reason) {
		tu->state = "Succeeded";
		tu->reason = tu->exhausted ? "ExperimentSuggestionEndReached" : "ExperimentMaxTrialsReached";
	}
	return 0;
}

/* ---- resume ------------------------------------------------------------------------------------- */

static int restore(struct tune *tu, const cJSON *doc, struct kf_err *err)
{
	const struct kf_experiment *e = tu->e;
	const cJSON *trials = cJSON_GetObjectItem(doc, "trials"), *it;

	tu->created = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "created"));
	cJSON_ArrayForEach(it, trials) {
		const cJSON *u = cJSON_GetObjectItem(it, "u"), *params = cJSON_GetObjectItem(it, "parameters");
		const cJSON *obs = cJSON_GetObjectItem(it, "observations"), *v;
		const char *s;
		struct trial *t;
		size_t k = 0;

		if (cJSON_GetArraySize(u) != (int)e->n_params)
			return kf_err_set(err, KF_EINPUT, "experiment \"%s\": the saved trials have %d "
					  "parameters, the experiment %zu", e->name, cJSON_GetArraySize(u),
					  e->n_params);
		KF_GROW(tu->t, tu->cap, tu->n + 1);
		t = &tu->t[tu->n++];
		memset(t, 0, sizeof *t);
		s = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
		t->name = kf_xstrdup(s ? s : "?");
		t->state = intern_state(cJSON_GetStringValue(cJSON_GetObjectItem(it, "state")));
		if (!strcmp(t->state, "Running"))
			t->state = "Created";   /* it was running when kf stopped: it starts again */
		t->u = kf_xcalloc(e->n_params + 1, sizeof *t->u);
		t->values = kf_xcalloc(e->n_params + 1, sizeof *t->values);
		cJSON_ArrayForEach(v, u)
			t->u[k++] = cJSON_GetNumberValue(v);
		for (size_t j = 0; j < e->n_params; j++) {
			s = cJSON_GetStringValue(cJSON_GetObjectItem(params, e->params[j].name));
			t->values[j] = s ? kf_xstrdup(s) : kf_suggest_value(&e->params[j], t->u[j]);
		}
		t->resource = -1;
		if (cJSON_GetObjectItem(it, "resource")) {
			t->resource = tu->algo.resource;
			t->resource_value = cJSON_GetNumberValue(cJSON_GetObjectItem(it, "resource"));
			t->bracket = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "bracket"));
			t->rung = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "rung"));
		}
		v = cJSON_GetObjectItem(it, "objective");
		t->has_obj = cJSON_IsNumber(v);
		t->obj = t->has_obj ? v->valuedouble : 0;
		t->metrics = cJSON_Duplicate(cJSON_GetObjectItem(it, "metrics"), 1);
		t->stream = kf_xcalloc((size_t)cJSON_GetArraySize(obs) + 1, sizeof *t->stream);
		cJSON_ArrayForEach(v, obs)
			t->stream[t->n_stream++] = cJSON_GetNumberValue(v);
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItem(it, "reason"))))
			t->reason = kf_xstrdup(s);
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItem(it, "runId"))))
			t->run_id = kf_xstrdup(s);
		t->started = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "started"));
		t->finished = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "finished"));
		t->dur_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(it, "durationMs"));
	}
	return 0;
}

/* Apply one journal record: it replaces the trial of the same name, or is
 * a new one. */
static void apply_record(cJSON *trials, cJSON *rec)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "name"));
	cJSON *t;
	int i = 0;

	cJSON_ArrayForEach(t, trials) {
		if (kf_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")), name)) {
			cJSON_ReplaceItemInArray(trials, i, rec);
			return;
		}
		i++;
	}
	cJSON_AddItemToArray(trials, rec);
}

/* The best trial, its flag and the counts, after journal records. */
static void recount(cJSON *doc)
{
	bool maximize = kf_str_eq(cJSON_GetStringValue(kf_json_path(doc, "objective.type")), "maximize");
	cJSON *trials = cJSON_GetObjectItem(doc, "trials"), *t, *best = NULL, *counts = cJSON_CreateObject();
	int c[8] = { 0 };

	cJSON_ArrayForEach(t, trials) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(t, "state"));
		const cJSON *o = cJSON_GetObjectItem(t, "objective");

		for (int k = 0; trial_states[k]; k++)
			c[k] += kf_str_eq(st, trial_states[k]);
		if ((kf_str_eq(st, "Succeeded") || kf_str_eq(st, "EarlyStopped")) && cJSON_IsNumber(o) &&
		    (!best || (maximize ? o->valuedouble > cJSON_GetObjectItem(best, "objective")->valuedouble
				       : o->valuedouble < cJSON_GetObjectItem(best, "objective")->valuedouble)))
			best = t;
	}
	cJSON_ArrayForEach(t, trials)
		cJSON_ReplaceItemInObject(t, "best", cJSON_CreateBool(t == best));
	for (int k = 0; trial_states[k]; k++)
		cJSON_AddNumberToObject(counts, trial_states[k], c[k]);
	cJSON_ReplaceItemInObject(doc, "counts", counts);
	cJSON_ReplaceItemInObject(doc, "best", best ? cJSON_CreateString(cJSON_GetStringValue(
		cJSON_GetObjectItem(best, "name"))) : cJSON_CreateNull());
}

int kf_tune_load(const char *store_dir, const char *name, cJSON **doc, struct kf_err *err)
{
	char *dir = kf_tune_dir(store_dir, name), *path = kf_path_join(dir, "experiment.json");
	char *jpath = kf_path_join(dir, "journal.jsonl");
	struct kf_buf b = KF_BUF_INIT, j = KF_BUF_INIT;
	size_t off;
	int rc = 0;

	*doc = NULL;
	if (!kf_fs_exists(path)) {
		rc = kf_err_set(err, KF_ENOTFOUND, "no experiment \"%s\" in the store", name);
		goto out;
	}
	if ((rc = kf_fs_read_file(path, &b, err)) < 0)
		goto out;
	*doc = cJSON_ParseWithLength(kf_buf_str(&b), b.len);
	if (!*doc) {
		rc = kf_err_set(err, KF_EIO, "\"%s\" is damaged (not JSON)", path);
		goto out;
	}
	off = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(*doc, "journalOffset"));
	if (kf_fs_exists(jpath) && kf_fs_read_file(jpath, &j, err) == 0 && j.len > off) {
		const char *p = j.data + off, *end = j.data + j.len;

		/* whole lines only: a line cut short by a kill is not a record */
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			cJSON *rec;

			if (!nl)
				break;
			rec = cJSON_ParseWithLength(p, (size_t)(nl - p));
			if (cJSON_IsObject(rec))
				apply_record(cJSON_GetObjectItem(*doc, "trials"), rec);
			else
				cJSON_Delete(rec);
			p = nl + 1;
		}
		recount(*doc);
	}
	kf_err_clear(err);
out:
	if (rc < 0) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	kf_buf_release(&j);
	kf_buf_release(&b);
	free(jpath);
	free(path);
	free(dir);
	return rc;
}

/* ---- the entry point ---------------------------------------------------------------------------- */

static int prepare(struct tune *tu, struct kf_err *err)
{
	struct kf_experiment *e = tu->e;
	char *src = kf_path_join(tu->dir, "experiment.yaml");
	struct kf_buf text = KF_BUF_INIT;
	cJSON *old = NULL;
	int rc;

	if (tu->o->resume) {
		char *jpath = kf_path_join(tu->dir, "journal.jsonl");
		struct stat sb;

		if ((rc = kf_tune_load(tu->o->store_dir, e->name, &old, err)) < 0 ||
		    (rc = restore(tu, old, err)) < 0) {
			free(jpath);
			goto out;
		}
		/* appends go after what is there; end a line cut short by a kill */
		if (stat(jpath, &sb) == 0) {
			tu->jfd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
			tu->jsize = (size_t)sb.st_size;
			if (tu->jfd >= 0 && sb.st_size > 0 && write(tu->jfd, "\n", 1) == 1)
				tu->jsize++;
		}
		free(jpath);
	} else if (kf_fs_exists(tu->dir)) {
		rc = kf_err_set(err, KF_EINPUT, "experiment \"%s\" already exists in the store (continue it "
				"with 'kf tune --resume %s', or give this one another metadata.name)",
				e->name, e->name);
		goto out;
	} else {
		tu->created = kf_time_wall_ms();
	}
	if ((rc = kf_fs_mkdirs(tu->dir, err)) < 0)
		goto out;
	/* keep the experiment as run, for --resume without the file */
	if (strcmp(e->file, src)) {
		if ((rc = kf_fs_read_file(e->file, &text, err)) < 0 ||
		    (rc = kf_fs_write_atomic(src, kf_buf_str(&text), text.len, err)) < 0)
			goto out;
	}
	rc = record_experiment(tu, err);
out:
	cJSON_Delete(old);
	kf_buf_release(&text);
	free(src);
	return rc;
}

int kf_tune_run(struct kf_experiment *e, const struct kf_tune_opts *o, cJSON **doc,
		struct kf_err *err)
{
	struct tune tu;
	sigset_t old;
	int rc, src;

	*doc = NULL;
	memset(&tu, 0, sizeof tu);
	tu.e = e;
	tu.o = o;
	tu.state = "Running";
	tu.parallel = o->parallel > 0 ? o->parallel : e->parallel;
	tu.dir = kf_tune_dir(o->store_dir, e->name);
	tu.jfd = -1;
	tu.es = e->early_stopping != NULL;
	kf_medianstop_init(&tu.ms, e);
	if ((rc = kf_algo_init(&tu.algo, e, err)) < 0)
		goto out;
	if ((rc = kf_store_open(o->store_dir, &tu.st, err)) < 0)
		goto out;
	if ((rc = prepare(&tu, err)) < 0)
		goto out;
	kf_proc_signals_block(&old);
	check_end(&tu);   /* a resumed experiment may have ended already */
	if ((rc = save(&tu, -1, false, err)) == 0)
		rc = loop(&tu, err);
	if (rc < 0 && rc != KF_EINTR)
		kill_all(&tu);
	kf_proc_signals_restore(&old);
	tu.finished = kf_time_wall_ms();
	if (rc < 0 && rc != KF_EINTR) {
		tu.state = "Failed";
		free(tu.message);
		tu.message = kf_xstrdup(err->msg);
	}
	{
		struct kf_err serr;

		kf_err_clear(&serr);
		src = record_experiment(&tu, &serr);
		if (src == 0)
			src = save(&tu, -1, true, &serr);
		if (src < 0 && rc == 0) {
			rc = src;
			*err = serr;
		}
	}
	*doc = build_doc(&tu);
	if (rc == 0 && best_trial(&tu) < 0)
		rc = kf_err_set(err, KF_EFAIL, "experiment \"%s\" ended (%s) with no successful trial",
				e->name, tu.reason ? tu.reason : tu.state);
out:
	for (size_t i = 0; i < tu.n; i++)
		trial_release(&tu.t[i], e->n_params);
	free(tu.t);
	free(tu.message);
	if (tu.jfd >= 0)
		close(tu.jfd);
	kf_store_close(tu.st);
	kf_algo_release(&tu.algo);
	free(tu.dir);
	return rc;
}

/* ---- reading saved experiments ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kf_tune_list(const char *store_dir, cJSON **names, struct kf_err *err)
{
	char *dir = kf_path_join(store_dir, "tune");
	struct kf_strv v = KF_STRV_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	(void)err;
	*names = cJSON_CreateArray();
	while (d && (de = readdir(d))) {
		char *sub, *json;

		if (de->d_name[0] == '.')
			continue;
		sub = kf_path_join(dir, de->d_name);
		json = kf_path_join(sub, "experiment.json");
		if (kf_fs_exists(json))
			kf_strv_push(&v, de->d_name);
		free(json);
		free(sub);
	}
	if (d)
		closedir(d);
	if (v.n)
		qsort(v.v, v.n, sizeof *v.v, cmp_str);
	for (size_t i = 0; i < v.n; i++)
		cJSON_AddItemToArray(*names, cJSON_CreateString(v.v[i]));
	kf_strv_release(&v);
	free(dir);
	return 0;
}

const cJSON *kf_tune_trial(const cJSON *doc, const char *name)
{
	const cJSON *t, *trials = cJSON_GetObjectItem(doc, "trials");
	long num;

	cJSON_ArrayForEach(t, trials)
		if (kf_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")), name))
			return t;
	if (kf_str_to_long(name, &num) && num >= 1 && num <= cJSON_GetArraySize(trials))
		return cJSON_GetArrayItem(trials, (int)num - 1);
	return NULL;
}
