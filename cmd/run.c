/* kf run: run a pipeline locally, and manage the runs in the store. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "run_remote.h"

#include "argo/kf_argo_import.h"
#include "engine/kf_engine.h"
#include "engine/kf_proc.h"
#include "package/kf_package.h"
#include "spec/kf_pipeline.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- loading a spec or a package ------------------------------------------ */

static bool is_archive(const char *path)
{
	return kf_str_ends(path, ".tar.gz") || kf_str_ends(path, ".tgz") || kf_str_ends(path, ".zip");
}

#define IMPORTED " (as kf/v1)"

/* Is this YAML an Argo Workflow rather than a kf/v1 Pipeline? */
static bool is_workflow(const char *text, size_t len)
{
	struct kf_ydoc doc;
	struct kf_err err;
	const struct kf_ynode *kind;
	bool yes = false;

	memset(&doc, 0, sizeof doc);
	if (kf_yaml_load(&doc, "spec", text, len, &err) == 0 && doc.root &&
	    (kind = kf_ynode_get(doc.root, "kind")) && kf_ynode_is_scalar(kind))
		yes = !strcmp(kind->value, "Workflow");
	kf_ydoc_release(&doc);
	return yes;
}

/* Load path (a kf/v1 spec, an Argo Workflow YAML or a package) into a
 * pipeline; *plan receives what `kf run resume` needs to load it again. A
 * package is converted to a kf/v1 spec, which the plan keeps. */
static int load_pipeline(const struct kf_ctx *ctx, const char *path, const char *text_in,
			 const struct kf_strv *overrides, const char *store_dir,
			 struct kf_pipeline **p, cJSON **plan, struct kf_err *err)
{
	struct kf_buf text = KF_BUF_INIT, spec = KF_BUF_INIT;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline_opts po = {
		.store_dir = store_dir, .overrides = overrides, .require_params = true,
	};
	const char *use;
	char *load_path = NULL;
	size_t use_len;
	int rc;

	*p = NULL;
	if (text_in)
		kf_buf_adds(&text, text_in);
	else if (is_archive(path))
		rc = kf_package_read(path, &text, NULL, err);
	else
		rc = kf_fs_read_file(path, &text, err);
	if (!text_in && rc < 0)
		goto out;
	use = kf_buf_str(&text);
	use_len = text.len;
	if (!text_in && (is_archive(path) || is_workflow(use, use_len))) {
		if ((rc = kf_argo_import(path, use, use_len, &spec, err)) < 0)
			goto out;
		use = kf_buf_str(&spec);
		use_len = spec.len;
	}
	/* Errors in a converted package are about the converted text, not
	 * the lines of the package file. */
	if (use == kf_buf_str(&spec) || (text_in && kf_str_ends(path, IMPORTED)))
		load_path = kf_str_ends(path, IMPORTED) ? kf_xstrdup(path) :
			kf_xasprintf("%s%s", path, IMPORTED);
	else
		load_path = kf_xstrdup(path);
	rc = kf_pipeline_load_text(p, load_path, use, use_len, &po, &errs);
	if (rc < 0) {
		kf_print_errors(ctx, &errs);
		kf_err_clear(err);
		goto out;
	}
	if (plan) {
		char *abs = kf_path_absolute(load_path);

		*plan = cJSON_CreateObject();
		cJSON_AddStringToObject(*plan, "path", abs);
		cJSON_AddStringToObject(*plan, "text", use);
		cJSON_AddItemToObject(*plan, "overrides", cJSON_CreateArray());
		for (size_t i = 0; overrides && i < overrides->n; i++)
			cJSON_AddItemToArray(cJSON_GetObjectItem(*plan, "overrides"),
					     cJSON_CreateString(overrides->v[i]));
		free(abs);
	}
out:
	free(load_path);
	kf_buf_release(&text);
	kf_buf_release(&spec);
	kf_errlist_release(&errs);
	return rc;
}

/* --params FILE: a YAML or JSON map of parameter values, as NAME=VALUE. */
static int params_file(const char *path, struct kf_strv *out, struct kf_err *err)
{
	struct kf_ydoc doc;
	const struct kf_ynode *root;
	int rc;

	memset(&doc, 0, sizeof doc);
	if ((rc = kf_yaml_load_file(&doc, path, err)) < 0)
		return rc;
	root = doc.root;
	if (!root || root->kind != KF_Y_MAP) {
		rc = kf_err_at(err, KF_EINPUT, path, root ? root->line : 1, root ? root->col : 1,
			       "parameters file must be a map of NAME: VALUE");
		goto out;
	}
	for (size_t i = 0; i < root->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(root, i), *v = kf_ynode_val(root, i);

		if (!kf_ynode_is_scalar(k)) {
			rc = kf_err_at(err, KF_EINPUT, path, k->line, k->col, "parameter names are strings");
			goto out;
		}
		if (kf_ynode_is_scalar(v)) {
			kf_strv_push_owned(out, kf_xasprintf("%s=%s", k->value, v->value));
		} else {
			/* Lists and maps are passed as JSON, as -p would take them. */
			cJSON *j = kf_ynode_to_json(v);
			char *t = cJSON_PrintUnformatted(j);

			kf_strv_push_owned(out, kf_xasprintf("%s=%s", k->value, t));
			cJSON_free(t);
			cJSON_Delete(j);
		}
	}
out:
	kf_ydoc_release(&doc);
	return rc;
}

/* ---- progress ----------------------------------------------------------------- */

struct row {
	char *task;
	char *state;
	int64_t elapsed_ms;
};

struct progress {
	const struct kf_ctx *ctx;
	bool tty;
	char *run;
	char *run_state;
	struct row *rows;
	size_t n, cap;
	int drawn;                  /* lines drawn last time (TTY) */
	int64_t last_draw_ns;
	int64_t start_ns;
};

static struct row *row_of(struct progress *pg, const char *task)
{
	for (size_t i = pg->n; i-- > 0;)
		if (!strcmp(pg->rows[i].task, task))
			return &pg->rows[i];
	KF_GROW(pg->rows, pg->cap, pg->n + 1);
	memset(&pg->rows[pg->n], 0, sizeof pg->rows[pg->n]);
	pg->rows[pg->n].task = kf_xstrdup(task);
	return &pg->rows[pg->n++];
}

/* The live view: a summary line, then the tasks not yet finished well. */
static void draw(struct progress *pg, bool final)
{
	int64_t now = kf_time_mono_ns();
	size_t counts[4] = { 0 };   /* done, running, failed, other */
	char d[32];
	int lines = 0;

	if (!final && now - pg->last_draw_ns < 100 * 1000000LL)
		return;
	pg->last_draw_ns = now;
	if (pg->drawn)
		fprintf(stderr, "\033[%dA\033[J", pg->drawn);
	for (size_t i = 0; i < pg->n; i++) {
		const char *s = pg->rows[i].state;

		if (!strcmp(s, "Succeeded") || !strcmp(s, "Cached") || !strcmp(s, "Skipped"))
			counts[0]++;
		else if (!strcmp(s, "Running") || !strcmp(s, "Retrying"))
			counts[1]++;
		else if (!strcmp(s, "Failed") || !strcmp(s, "Omitted"))
			counts[2]++;
		else
			counts[3]++;
	}
	kf_duration_format((now - pg->start_ns) / 1000000, d, sizeof d);
	fprintf(stderr, "%s  %s  %s  done %zu  running %zu  failed %zu\n", pg->run,
		pg->run_state ? pg->run_state : "Running", d, counts[0], counts[1], counts[2]);
	lines++;
	for (size_t i = 0; i < pg->n && lines < 24; i++) {
		const char *s = pg->rows[i].state;

		if (!strcmp(s, "Succeeded") || !strcmp(s, "Cached") || !strcmp(s, "Skipped"))
			continue;
		kf_duration_format(pg->rows[i].elapsed_ms, d, sizeof d);
		fprintf(stderr, "  %-40s %-10s %s\n", pg->rows[i].task, s, d);
		lines++;
	}
	pg->drawn = final ? 0 : lines;
	fflush(stderr);
}

static void on_event(void *arg, const struct kf_engine_event *ev)
{
	struct progress *pg = arg;
	char d[32];

	if (!pg->run)
		pg->run = kf_xstrdup(ev->run);
	if (!ev->task) {
		free(pg->run_state);
		pg->run_state = kf_xstrdup(ev->state);
	} else {
		struct row *r = row_of(pg, ev->task);

		free(r->state);
		r->state = kf_xstrdup(ev->state);
		r->elapsed_ms = ev->elapsed_ms;
	}
	if (pg->ctx->quiet)
		return;
	if (pg->tty) {
		bool final = !ev->task && strcmp(ev->state, "Running") != 0 &&
			     strcmp(ev->state, "Stopping") != 0;

		draw(pg, final);
		return;
	}
	/* One line per state change, for logs and CI. */
	kf_duration_format(ev->elapsed_ms, d, sizeof d);
	if (!ev->task)
		fprintf(stderr, "run %s: %s%s%s\n", ev->run, ev->state, ev->message ? ": " : "",
			ev->message ? ev->message : "");
	else if (!strcmp(ev->state, "Running") || !strcmp(ev->state, "Pending"))
		fprintf(stderr, "%s: %s\n", ev->task, ev->state);
	else
		fprintf(stderr, "%s: %s (%s%s%s)\n", ev->task, ev->state, d,
			ev->message ? ", " : "", ev->message ? ev->message : "");
}

static void progress_release(struct progress *pg)
{
	for (size_t i = 0; i < pg->n; i++) {
		free(pg->rows[i].task);
		free(pg->rows[i].state);
	}
	free(pg->rows);
	free(pg->run);
	free(pg->run_state);
}

/* The last lines of a failed step's stderr, under the error. */
static void print_tail(const char *path, int lines)
{
	struct kf_buf b = KF_BUF_INIT;
	struct kf_err err;
	const char *start;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof buf ? size - (off_t)sizeof buf : 0, SEEK_SET);
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0)
		return;
	kf_buf_add(&b, buf, (size_t)n);
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	start = b.data + b.len;
	while (start > b.data && lines > 0) {
		start--;
		if (*start == '\n' && --lines == 0) {
			start++;
			break;
		}
	}
	fprintf(stderr, "--- last lines of %s\n%s\n", path, start);
	(void)err;
	kf_buf_release(&b);
}

/* ---- kf run SPEC ------------------------------------------------------------ */

static int parse_runner(const char *s, enum kf_runner *r, struct kf_err *err)
{
	if (!s || !strcmp(s, "host"))
		*r = KF_RUNNER_HOST;
	else if (!strcmp(s, "docker"))
		*r = KF_RUNNER_DOCKER;
	else if (!strcmp(s, "podman"))
		*r = KF_RUNNER_PODMAN;
	else
		return kf_err_set(err, KF_EUSAGE, "unknown runner \"%s\" (host, docker or podman)", s);
	return 0;
}

/* A container runner must answer before anything starts. */
static int check_runner(enum kf_runner r, struct kf_err *err)
{
	const char *tool = r == KF_RUNNER_PODMAN ? "podman" : "docker";
	char *argv[] = { (char *)tool, "info", NULL };
	struct kf_proc_opts po = { .argv = argv };
	int code = -1;

	if (r == KF_RUNNER_HOST)
		return 0;
	if (kf_proc_run(&po, 30000, &code, err) < 0 || code != 0)
		return kf_err_set(err, KF_EENV, "runner \"%s\": \"%s info\" failed: no working %s engine",
				  tool, tool, tool);
	return 0;
}

struct run_common {
	int jobs;
	bool no_cache;
	int64_t staleness_ms;
	enum kf_runner runner;
};

static int common_opts(struct kf_args *args, struct run_common *c, struct kf_err *err)
{
	const char *j = kf_args_get(args, "jobs"), *st = kf_args_get(args, "max-cache-staleness");
	long n;
	int rc;

	memset(c, 0, sizeof *c);
	if (j) {
		if (!kf_str_to_long(j, &n) || n < 1 || n > 4096)
			return kf_err_set(err, KF_EUSAGE, "-j: \"%s\" is not a number of jobs (1 to 4096)", j);
		c->jobs = (int)n;
	}
	c->no_cache = kf_args_has(args, "no-cache");
	if (st && (rc = kf_duration_parse(st, &c->staleness_ms, err)) < 0) {
		kf_err_prefix(err, "--max-cache-staleness");
		return KF_EUSAGE;
	}
	return parse_runner(kf_args_get(args, "runner"), &c->runner, err);
}

static cJSON *run_doc(struct kf_store *st, const char *run, struct kf_err *err);

/* Run the engine in this process with progress on stderr. */
static int execute(struct kf_ctx *ctx, struct kf_store *st, struct kf_pipeline *p,
		   const struct run_common *c, const char *run_id, const char *name,
		   const char *source, const cJSON *plan, bool resume, struct kf_err *err)
{
	struct progress pg;
	struct kf_engine_result res;
	struct kf_engine_opts eo = {
		.store = st, .jobs = c->jobs, .no_cache = c->no_cache,
		.max_cache_staleness_ms = c->staleness_ms, .runner = c->runner,
		.self_exe = ctx->self_exe, .run_id = run_id, .run_name = name, .source = source,
		.plan = plan, .resume = resume, .on_event = on_event,
	};
	int rc;

	memset(&pg, 0, sizeof pg);
	pg.ctx = ctx;
	pg.tty = ctx->stderr_tty;
	pg.start_ns = kf_time_mono_ns();
	eo.cb_ctx = &pg;
	rc = kf_engine_run(p, &eo, &res, err);
	if (rc == KF_EFAIL && res.failed_task) {
		kf_print_error(ctx, err);
		print_tail(res.stderr_path, 10);
		kf_err_clear(err);
	}
	if (rc == 0 || rc == KF_EFAIL) {
		struct kf_err perr;
		int prc;

		/* The result: the run id (for scripts), or the run record with -o. */
		if (!ctx->output || !strcmp(ctx->output, "name")) {
			printf("%s\n", res.run_id);
		} else {
			cJSON *doc = run_doc(st, res.run_id, &perr);

			if (doc) {
				prc = kf_print_records(ctx, doc, NULL, "json|yaml|name", &perr);
				if (prc < 0 && rc == 0) {
					rc = prc;
					*err = perr;
				}
				cJSON_Delete(doc);
			}
		}
	}
	kf_engine_result_release(&res);
	progress_release(&pg);
	return rc;
}

static int open_store(const struct kf_ctx *ctx, struct kf_store **st, struct kf_err *err)
{
	char *dir = kf_ctx_store_dir(ctx);
	int rc = kf_store_open(dir, st, err);

	free(dir);
	return rc;
}

/* --detach: the run goes on in a child of its own session, logging to
 * <store>/runs/RUN/kf.log; the parent prints the id and returns. */
static int detach(const char *store_dir, const char *run_id, pid_t *child, struct kf_err *err)
{
	char *dir = kf_xasprintf("%s/runs/%s", store_dir, run_id), *log = kf_path_join(dir, "kf.log");
	int rc = kf_fs_mkdirs(dir, err), fd;
	pid_t pid;

	if (rc < 0)
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = kf_err_sys(err, "cannot start the run in the background");
		goto out;
	}
	if (pid > 0) {
		*child = pid;
		rc = 1;   /* the parent */
		goto out;
	}
	setsid();
	/* Nothing of the caller's stays open: a pipe a caller waits on (a
	 * $(...) or a test harness) must see end-of-file now. */
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	rc = 0;
out:
	free(dir);
	free(log);
	return rc;
}

/* The parent of a detached run: wait until the child has recorded the run
 * (or has exited, having failed to start it). */
static int wait_recorded(const char *store_dir, const char *run_id, pid_t child, struct kf_err *err)
{
	int64_t deadline = kf_time_mono_ns() + (int64_t)30 * 1000000000;
	struct kf_store *st = NULL;
	int rc;

	if ((rc = kf_store_open(store_dir, &st, err)) < 0)
		return rc;
	for (;;) {
		cJSON *run = NULL;
		struct kf_err ignored;
		int status;

		if (kf_store_run_get(st, run_id, &run, &ignored) == 0) {
			cJSON_Delete(run);
			break;
		}
		if (waitpid(child, &status, WNOHANG) == child) {
			rc = kf_err_set(err, KF_EFAIL, "the run did not start; see %s/runs/%s/kf.log",
					store_dir, run_id);
			break;
		}
		if (kf_time_mono_ns() > deadline) {
			rc = kf_err_set(err, KF_EENV, "the run was not recorded within 30 s; see %s/runs/%s/kf.log",
					store_dir, run_id);
			break;
		}
		usleep(2000);
	}
	kf_store_close(st);
	return rc;
}

static int run_run(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_strv overrides = KF_STRV_INIT;
	const struct kf_strv *ps = kf_args_all(args, "param");
	const char *pfile = kf_args_get(args, "params");
	struct kf_pipeline *p = NULL;
	struct kf_store *st = NULL;
	struct run_common c;
	cJSON *plan = NULL;
	char *store_dir = NULL, *run_id = NULL, *source = NULL;
	int rc;

	if (kf_run_remote_wanted(args))
		return kf_run_remote_submit(ctx, args, err);
	if ((rc = common_opts(args, &c, err)) < 0)
		goto out;
	if (ctx->output && (rc = kf_output_check(ctx->output, "json|yaml|name", err)) < 0)
		goto out;
	if (pfile && (rc = params_file(pfile, &overrides, err)) < 0)
		goto out;
	for (size_t i = 0; ps && i < ps->n; i++) {
		if (!strchr(ps->v[i], '=')) {
			rc = kf_err_set(err, KF_EUSAGE, "-p \"%s\": expected NAME=VALUE", ps->v[i]);
			goto out;
		}
		kf_strv_push(&overrides, ps->v[i]);
	}
	store_dir = kf_ctx_store_dir(ctx);
	if ((rc = load_pipeline(ctx, args->argv[0], NULL, &overrides, store_dir, &p, &plan, err)) < 0)
		goto out;
	if ((rc = check_runner(c.runner, err)) < 0)
		goto out;
	if ((rc = kf_fs_mkdirs(store_dir, err)) < 0)
		goto out;
	source = kf_path_absolute(args->argv[0]);
	run_id = kf_store_run_new_id(kf_args_get(args, "name") ? kf_args_get(args, "name") : p->name);
	if (kf_args_has(args, "detach")) {
		pid_t child = 0;

		rc = detach(store_dir, run_id, &child, err);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			/* the id is only printed once the run is in the store, so
			 * `kf run logs ID -f` right after finds it */
			rc = wait_recorded(store_dir, run_id, child, err);
			if (rc == 0)
				printf("%s\n", run_id);
			goto out;
		}
		ctx->quiet = 0;
		ctx->stderr_tty = false;
	}
	if ((rc = kf_store_open(store_dir, &st, err)) < 0)
		goto out;
	rc = execute(ctx, st, p, &c, run_id, kf_args_get(args, "name"), source, plan, false, err);
out:
	kf_store_close(st);
	kf_pipeline_free(p);
	cJSON_Delete(plan);
	kf_strv_release(&overrides);
	free(store_dir);
	free(run_id);
	free(source);
	return rc;
}

/* ---- kf run ls / show / logs / resume / rm ------------------------------------ */

static void add_times(cJSON *o)
{
	double created = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "started"));
	double fin = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "finished"));
	char buf[64];

	if (created == created && created > 0) {
		kf_time_rfc3339((int64_t)created, buf, sizeof buf);
		cJSON_AddStringToObject(o, "startedAt", buf);
	}
	if (fin == fin && fin > 0 && created == created && created > 0) {
		kf_time_rfc3339((int64_t)fin, buf, sizeof buf);
		cJSON_AddStringToObject(o, "finishedAt", buf);
		kf_duration_format((int64_t)(fin - created), buf, sizeof buf);
		cJSON_AddStringToObject(o, "duration", buf);
	}
}

static void rename_key(cJSON *o, const char *from, const char *to)
{
	cJSON *v = cJSON_DetachItemFromObject(o, from);

	if (v)
		cJSON_AddItemToObject(o, to, v);
}

static cJSON *run_doc(struct kf_store *st, const char *run, struct kf_err *err)
{
	cJSON *r = NULL, *tasks = NULL, *t, *doc;

	if (kf_store_run_get(st, run, &r, err) < 0)
		return NULL;
	if (kf_store_task_list(st, cJSON_GetStringValue(cJSON_GetObjectItem(r, "id")), &tasks,
			       err) < 0) {
		cJSON_Delete(r);
		return NULL;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "Run");
	cJSON_AddItemToObject(doc, "name", cJSON_DetachItemFromObject(r, "id"));
	cJSON_AddItemToObject(doc, "runName", cJSON_DetachItemFromObject(r, "name"));
	cJSON_AddItemToObject(doc, "pipeline", cJSON_DetachItemFromObject(r, "pipeline"));
	cJSON_AddItemToObject(doc, "source", cJSON_DetachItemFromObject(r, "source"));
	cJSON_AddItemToObject(doc, "state", cJSON_DetachItemFromObject(r, "state"));
	cJSON_AddItemToObject(doc, "message", cJSON_DetachItemFromObject(r, "message"));
	cJSON_AddItemToObject(doc, "params", cJSON_DetachItemFromObject(r, "params"));
	cJSON_AddItemToObject(doc, "started", cJSON_DetachItemFromObject(r, "started"));
	cJSON_AddItemToObject(doc, "finished", cJSON_DetachItemFromObject(r, "finished"));
	add_times(doc);
	cJSON_DeleteItemFromObject(doc, "started");
	cJSON_DeleteItemFromObject(doc, "finished");
	cJSON_ArrayForEach(t, tasks) {
		cJSON *name = cJSON_DetachItemFromObject(t, "task");
		const cJSON *arts = kf_json_path(t, "outputs.artifacts");
		const cJSON *a;
		struct kf_strv outs = KF_STRV_INIT;

		cJSON_AddItemToObject(t, "name", name);
		rename_key(t, "exit_code", "exitCode");
		rename_key(t, "execution_id", "executionId");
		rename_key(t, "cache_key", "cacheKey");
		cJSON_AddBoolToObject(t, "cached", !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "state")), "Cached"));
		add_times(t);
		cJSON_ArrayForEach(a, arts) {
			const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(a, "digest"));

			kf_strv_push_owned(&outs, kf_xasprintf("%s=%.12s", a->string, d ? d : ""));
		}
		if (outs.n) {
			char *j = kf_strv_join(&outs, ",");

			cJSON_AddStringToObject(t, "outputSummary", j);
			free(j);
		}
		kf_strv_release(&outs);
		cJSON_DeleteItemFromObject(t, "pid");
		cJSON_DeleteItemFromObject(t, "started");
		cJSON_DeleteItemFromObject(t, "finished");
	}
	cJSON_AddItemToObject(doc, "tasks", tasks);
	cJSON_Delete(r);
	return doc;
}

static const struct kf_opt ls_opts[] = {
	{ 0, "limit", KF_OPT_REQUIRED, "N", "show at most N runs (newest first)", NULL },
	KF_REMOTE_CONN_OPTS,
	KF_RUN_REMOTE_LS_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "RUN", "name" }, { "PIPELINE", "pipeline" }, { "STATE", "state" },
		{ "STARTED", "startedAt" }, { "DURATION", "duration" }, { "TASKS", "tasks" },
		{ NULL, NULL },
	};
	struct kf_store *st = NULL;
	cJSON *rows = NULL, *r, *doc = NULL;
	const char *lim = kf_args_get(args, "limit");
	long n = 0;
	int rc;

	if (kf_run_remote_wanted(args))
		return kf_run_remote_ls(ctx, args, err);
	if (lim && (!kf_str_to_long(lim, &n) || n < 0))
		return kf_err_set(err, KF_EUSAGE, "--limit: \"%s\" is not a count", lim);
	if ((rc = open_store(ctx, &st, err)) < 0)
		return rc;
	if ((rc = kf_store_run_list(st, (size_t)n, &rows, err)) < 0)
		goto out;
	cJSON_ArrayForEach(r, rows) {
		cJSON *id = cJSON_DetachItemFromObject(r, "id");

		cJSON_AddItemToObject(r, "runName", cJSON_DetachItemFromObject(r, "name"));
		cJSON_AddItemToObject(r, "name", id);
		cJSON_AddStringToObject(r, "kind", "Run");
		add_times(r);
		cJSON_DeleteItemFromObject(r, "started");
		cJSON_DeleteItemFromObject(r, "finished");
		cJSON_DeleteItemFromObject(r, "created");
		cJSON_DeleteItemFromObject(r, "pid");
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "RunList");
	cJSON_AddItemToObject(doc, "items", rows);
	rows = NULL;
	rc = kf_print_records(ctx, doc, cols, NULL, err);
out:
	cJSON_Delete(rows);
	cJSON_Delete(doc);
	kf_store_close(st);
	return rc;
}

static const struct kf_opt show_opts[] = {
	KF_REMOTE_CONN_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_show(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "TASK", "name" }, { "STATE", "state" }, { "ATTEMPT", "attempt" },
		{ "EXIT", "exitCode" }, { "DURATION", "duration" }, { "OUTPUTS", "outputSummary" },
		{ "MESSAGE", "message" }, { NULL, NULL },
	};
	struct kf_store *st = NULL;
	cJSON *doc = NULL;
	int rc;

	if (kf_run_remote_wanted(args))
		return kf_run_remote_show(ctx, args, err);
	if ((rc = kf_output_check(ctx->output, "table|json|yaml|name", err)) < 0)
		return rc;
	if ((rc = open_store(ctx, &st, err)) < 0)
		return rc;
	if (!(doc = run_doc(st, args->argv[0], err))) {
		rc = err->code ? err->code : KF_EIO;
		goto out;
	}
	if (!ctx->output || !strcmp(ctx->output, "table")) {
		cJSON *table = cJSON_CreateObject();
		const char *dur = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "duration"));

		printf("run %s  pipeline %s  state %s%s%s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "name")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "pipeline")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(doc, "state")),
		       dur ? "  duration " : "", dur ? dur : "");
		cJSON_AddStringToObject(table, "kind", "TaskList");
		cJSON_AddItemReferenceToObject(table, "items", cJSON_GetObjectItem(doc, "tasks"));
		rc = kf_print_records(ctx, table, cols, NULL, err);
		cJSON_Delete(table);
	} else {
		rc = kf_print_records(ctx, doc, NULL, NULL, err);
	}
out:
	cJSON_Delete(doc);
	kf_store_close(st);
	return rc;
}

/* Copy what was added to a log since *off to stdout. */
static int copy_new(const char *path, off_t *off, const char *prefix, struct kf_err *err)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return 0;
	if (lseek(fd, *off, SEEK_SET) < 0) {
		close(fd);
		return 0;
	}
	while (!rc && (n = read(fd, buf, sizeof buf)) > 0) {
		*off += n;
		if (prefix) {
			/* whole lines with the task's name in front */
			const char *p = buf, *end = buf + n;

			while (!rc && p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);

				rc = kf_print_outs(prefix, err);
				if (!rc)
					rc = kf_print_out(p, len, err);
				p += len;
			}
		} else {
			rc = kf_print_out(buf, (size_t)n, err);
		}
	}
	close(fd);
	return rc;
}

static const struct kf_opt logs_opts[] = {
	{ 'f', "follow", KF_OPT_NONE, NULL, "keep printing new output until the run ends", NULL },
	KF_REMOTE_CONN_OPTS,
	KF_RUN_REMOTE_LOGS_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_logs(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	const char *step = args->argc > 1 ? args->argv[1] : NULL;
	bool follow = kf_args_has(args, "follow");
	struct kf_store *st = NULL;
	cJSON *run = NULL;
	off_t *offs = NULL;
	size_t n_offs = 0;
	char *dir = NULL;
	int rc;

	if (kf_run_remote_wanted(args))
		return kf_run_remote_logs(ctx, args, err);
	if ((rc = open_store(ctx, &st, err)) < 0)
		return rc;
	if ((rc = kf_store_run_get(st, args->argv[0], &run, err)) < 0)
		goto out;
	dir = kf_engine_run_dir(st, cJSON_GetStringValue(cJSON_GetObjectItem(run, "id")));
	for (;;) {
		cJSON *tasks = NULL, *t;
		const char *state;
		size_t i = 0;
		bool found = false, running;

		cJSON_Delete(run);
		run = NULL;
		if ((rc = kf_store_run_get(st, args->argv[0], &run, err)) < 0 ||
		    (rc = kf_store_task_list(st, cJSON_GetStringValue(cJSON_GetObjectItem(run, "id")),
					     &tasks, err)) < 0)
			goto out;
		state = cJSON_GetStringValue(cJSON_GetObjectItem(run, "state"));
		running = state && !strcmp(state, "Running");
		if ((size_t)cJSON_GetArraySize(tasks) * 2 > n_offs) {
			size_t want = (size_t)cJSON_GetArraySize(tasks) * 2;

			offs = kf_xrealloc(offs, want * sizeof *offs);
			memset(offs + n_offs, 0, (want - n_offs) * sizeof *offs);
			n_offs = want;
		}
		cJSON_ArrayForEach(t, tasks) {
			const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "task"));
			const char *fr, *ft;
			char *tdir, *out_p, *err_p, *prefix = NULL;

			if (step && strcmp(name, step) != 0 && strcmp(cJSON_GetStringValue(
					cJSON_GetObjectItem(t, "step")), step) != 0) {
				i++;
				continue;
			}
			found = true;
			fr = cJSON_GetStringValue(kf_json_path(t, "outputs.from.run"));
			ft = cJSON_GetStringValue(kf_json_path(t, "outputs.from.task"));
			if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "state")), "Cached") &&
			    fr && *fr && ft && *ft) {
				/* a cached task's output is that of the run that made it */
				char *other = kf_engine_run_dir(st, fr);

				tdir = kf_path_join(other, ft);
				free(other);
			} else {
				tdir = kf_path_join(dir, name);
			}
			out_p = kf_path_join(tdir, "stdout");
			err_p = kf_path_join(tdir, "stderr");
			if (!step || strcmp(name, step) != 0)
				prefix = kf_xasprintf("%s: ", name);
			rc = copy_new(out_p, &offs[2 * i], prefix, err);
			if (!rc)
				rc = copy_new(err_p, &offs[2 * i + 1], prefix, err);
			free(tdir);
			free(out_p);
			free(err_p);
			free(prefix);
			i++;
			if (rc)
				break;
		}
		cJSON_Delete(tasks);
		if (rc)
			goto out;
		if (step && !found && !running) {
			rc = kf_err_set(err, KF_ENOTFOUND, "run \"%s\" has no step \"%s\"",
					args->argv[0], step);
			goto out;
		}
		if (!follow || !running)
			break;
		fflush(stdout);
		usleep(200 * 1000);
	}
out:
	free(offs);
	free(dir);
	cJSON_Delete(run);
	kf_store_close(st);
	return rc;
}

static const struct kf_opt resume_opts[] = {
	{ 'j', "jobs", KF_OPT_REQUIRED, "N", "run at most N steps at once (default: CPUs)", NULL },
	{ 0, "no-cache", KF_OPT_NONE, NULL, "run every remaining step even when its result is cached", NULL },
	{ 0, "max-cache-staleness", KF_OPT_REQUIRED, "DURATION", "reuse only cached results younger than this", NULL },
	{ 0, "runner", KF_OPT_REQUIRED, "RUNNER", "where steps run: host, docker or podman", "host|docker|podman" },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_resume(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_strv overrides = KF_STRV_INIT;
	struct kf_store *st = NULL;
	struct kf_pipeline *p = NULL;
	struct run_common c;
	cJSON *run = NULL;
	const cJSON *plan, *o;
	char *store_dir = NULL;
	int rc;

	if ((rc = common_opts(args, &c, err)) < 0)
		return rc;
	if (ctx->output && (rc = kf_output_check(ctx->output, "json|yaml|name", err)) < 0)
		return rc;
	if ((rc = open_store(ctx, &st, err)) < 0)
		return rc;
	if ((rc = kf_store_run_get(st, args->argv[0], &run, err)) < 0)
		goto out;
	plan = cJSON_GetObjectItem(run, "plan");
	if (!cJSON_IsString(cJSON_GetObjectItem(plan, "text"))) {
		rc = kf_err_set(err, KF_EINPUT, "run \"%s\" has no plan to resume from", args->argv[0]);
		goto out;
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(plan, "overrides"))
		if (cJSON_IsString(o))
			kf_strv_push(&overrides, o->valuestring);
	store_dir = kf_ctx_store_dir(ctx);
	if ((rc = load_pipeline(ctx, cJSON_GetStringValue(cJSON_GetObjectItem(plan, "path")),
				cJSON_GetStringValue(cJSON_GetObjectItem(plan, "text")), &overrides,
				store_dir, &p, NULL, err)) < 0)
		goto out;
	if ((rc = check_runner(c.runner, err)) < 0)
		goto out;
	rc = execute(ctx, st, p, &c, cJSON_GetStringValue(cJSON_GetObjectItem(run, "id")),
		     cJSON_GetStringValue(cJSON_GetObjectItem(run, "name")),
		     cJSON_GetStringValue(cJSON_GetObjectItem(run, "source")), NULL, true, err);
out:
	kf_pipeline_free(p);
	kf_strv_release(&overrides);
	cJSON_Delete(run);
	free(store_dir);
	kf_store_close(st);
	return rc;
}

static int run_rm(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_store *st = NULL;
	int rc;

	if ((rc = open_store(ctx, &st, err)) < 0)
		return rc;
	for (int i = 0; i < args->argc && !rc; i++) {
		cJSON *run = NULL;
		const char *state;
		char *id, *dir;
		bool running;
		long pid;

		if ((rc = kf_store_run_get(st, args->argv[i], &run, err)) < 0)
			break;
		state = cJSON_GetStringValue(cJSON_GetObjectItem(run, "state"));
		pid = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(run, "pid"));
		running = state && !strcmp(state, "Running") && pid > 0 && kill((pid_t)pid, 0) == 0;
		id = kf_xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(run, "id")));
		cJSON_Delete(run);
		if (running) {
			rc = kf_err_set(err, KF_EINPUT, "run \"%s\" is still running (pid %ld)", id, pid);
			free(id);
			break;
		}
		dir = kf_engine_run_dir(st, id);
		rc = kf_store_run_delete(st, id, err);
		if (!rc)
			rc = kf_fs_remove_tree(dir, err);
		if (!rc && (!ctx->output || !strcmp(ctx->output, "name") || !strcmp(ctx->output, "table")))
			printf("%s\n", id);
		free(dir);
		free(id);
	}
	kf_store_close(st);
	return rc;
}

static const struct kf_cmd kf_cmd_run_ls = {
	.name = "ls",
	.summary = "list the runs in the store, newest first",
	.usage = "run ls [--limit N] [-o table|json|yaml|name]",
	.opts = ls_opts,
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_ls,
};

static const struct kf_cmd kf_cmd_run_show = {
	.name = "show",
	.summary = "show a run: its steps with state, duration, cache use and outputs",
	.usage = "run show RUN [-o table|json|yaml|name]",
	.opts = show_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = KF_CMD_RECORDS,
	.run = run_show,
};

static const struct kf_cmd kf_cmd_run_logs = {
	.name = "logs",
	.summary = "print the output of a run's steps",
	.usage = "run logs RUN [STEP] [-f]",
	.opts = logs_opts,
	.min_args = 1,
	.max_args = 2,
	.run = run_logs,
};

static const struct kf_cmd kf_cmd_run_resume = {
	.name = "resume",
	.summary = "finish an interrupted or killed run without redoing completed steps",
	.usage = "run resume RUN [-j N] [--no-cache] [--max-cache-staleness DURATION] [--runner RUNNER]",
	.opts = resume_opts,
	.formats = "json|yaml|name",
	.min_args = 1,
	.max_args = 1,
	.flags = KF_CMD_RECORDS,
	.run = run_resume,
};

static const struct kf_cmd kf_cmd_run_rm = {
	.name = "rm",
	.summary = "delete runs: their records and logs (ML Metadata lineage is kept)",
	.usage = "run rm RUN...",
	.min_args = 1,
	.max_args = -1,
	.run = run_rm,
};

static const struct kf_opt run_opts[] = {
	{ 'p', "param", KF_OPT_REQUIRED, "NAME=VALUE", "set a pipeline parameter (repeatable)", NULL },
	{ 0, "params", KF_OPT_REQUIRED, "FILE", "read parameters from a YAML or JSON map", "file" },
	{ 'j', "jobs", KF_OPT_REQUIRED, "N", "run at most N steps at once (default: CPUs)", NULL },
	{ 0, "no-cache", KF_OPT_NONE, NULL, "run every step even when its result is cached", NULL },
	{ 0, "max-cache-staleness", KF_OPT_REQUIRED, "DURATION", "reuse only cached results younger than this", NULL },
	{ 0, "runner", KF_OPT_REQUIRED, "RUNNER", "where steps run: host, docker or podman", "host|docker|podman" },
	{ 0, "name", KF_OPT_REQUIRED, "NAME", "name of the run (default: the pipeline's)", NULL },
	{ 0, "detach", KF_OPT_NONE, NULL, "run in the background and print the run id", NULL },
	KF_RUN_REMOTE_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

const struct kf_cmd kf_cmd_run = {
	.name = "run",
	.summary = "run a pipeline locally, and manage its runs",
	.usage = "run SPEC|PACKAGE [-p NAME=VALUE]... [--params FILE] [-j N] [--no-cache] "
		 "[--max-cache-staleness DURATION] [--runner RUNNER] [--name NAME] [--detach]",
	.description =
		"Runs a kf/v1 pipeline spec, a package from kf compile, or an Argo Workflow\n"
		"compiled by the KFP v1 SDK, on this machine: steps run as processes (or\n"
		"containers with --runner docker|podman) in parallel, cached by their inputs,\n"
		"recorded in the store. Prints the run id; exits 1 when a step fails.",
	.opts = run_opts,
	.formats = "json|yaml|name",
	.subs = (const struct kf_cmd *const[]){ &kf_cmd_run_ls, &kf_cmd_run_show, &kf_cmd_run_logs,
						&kf_cmd_run_resume, &kf_cmd_run_rm,
						&kf_cmd_run_terminate, &kf_cmd_run_retry, &kf_cmd_run_experiments,
						&kf_cmd_run_schedule, NULL },
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_run,
};
