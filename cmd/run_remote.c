/* run_remote: kf run --remote and its subcommands, over lib/remote. */
#include "config.h"

#include "kf_opts.h"
#include "kf_print.h"
#include "run_remote.h"
#include "remote/kf_config.h"
#include "remote/kf_kfp.h"
#include "remote/kf_kube.h"
#include "remote/kf_submit.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The long name of run's -p NAME=VALUE option. */
#define PARAM_OPT "param"

static void trace_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "kf: %s\n", line);
}

int kf_remote_session_open(struct kf_ctx *ctx, const struct kf_args *args, const char *url_opt,
			   struct kf_remote_session *s, struct kf_err *err)
{
	struct kf_remote_flags f = {
		.remote = kf_args_get(args, url_opt),
		.token = kf_args_get(args, "token"),
		.token_file = kf_args_get(args, "token-file"),
		.cookie_file = kf_args_get(args, "cookie-file"),
		.ca_file = kf_args_get(args, "ca-file"),
		.namespace = kf_args_get(args, "namespace"),
		.insecure = kf_args_has(args, "insecure"),
	};
	struct kf_kfp_conf conf = { 0 };
	struct kf_remote r;
	const char *timeout = kf_args_get(args, "timeout");
	int rc;

	memset(s, 0, sizeof *s);
	s->ctx = ctx;
	if (timeout) {
		rc = kf_duration_parse(timeout, &conf.timeout_ms, err);
		if (rc || conf.timeout_ms <= 0) {
			return kf_err_set(err, KF_EUSAGE, "--timeout \"%s\" is not a duration such as 30s or 2m",
					  timeout);
		}
	}
	rc = kf_config_remote(&f, &r, err);
	if (rc)
		return rc;
	if (kf_args_has(args, "dry-run")) {
		s->dry = kf_xcalloc(1, sizeof *s->dry);
		conf.dry_run = true;
		conf.dry_out = s->dry;
	}
	if (ctx->verbose) {
		conf.trace = trace_line;
		conf.trace_arg = NULL;
	}
	rc = kf_kfp_new(&s->kfp, &r, &conf, err);
	kf_remote_release(&r);
	if (rc) {
		free(s->dry);
		s->dry = NULL;
	}
	return rc;
}

int kf_remote_session_close(struct kf_remote_session *s, int rc, struct kf_err *err)
{
	if (s->dry) {
		int prc = kf_print_buf(s->dry, rc ? NULL : err);

		if (!rc)
			rc = prc;
		kf_buf_release(s->dry);
		free(s->dry);
		s->dry = NULL;
	}
	kf_kfp_free(s->kfp);
	s->kfp = NULL;
	return rc;
}

/* Options that mean nothing on this machine. */
static const char *const remote_only[] = {
	"experiment", "watch", "poll", "token", "token-file", "cookie-file", "ca-file", "insecure",
	"namespace", "timeout", "dry-run",
};

/* And run's options that mean nothing on a cluster. */
static const char *const local_only[] = { "jobs", "no-cache", "max-cache-staleness", "runner", "detach" };

static bool remote_named(const struct kf_args *args)
{
	const char *r = getenv("KF_REMOTE");

	return kf_args_has(args, "remote") || (r && *r);
}

bool kf_run_remote_wanted(const struct kf_args *args)
{
	size_t i;

	if (remote_named(args))
		return true;
	/* a remote option without a remote: refused by the remote side, not
	 * silently ignored by a local run */
	for (i = 0; i < sizeof remote_only / sizeof remote_only[0]; i++)
		if (kf_args_has(args, remote_only[i]))
			return true;
	return false;
}

/* A remote-only option without --remote, or a local-only one with it. */
static int check_where(const struct kf_args *args, struct kf_err *err)
{
	size_t i;

	for (i = 0; !remote_named(args) && i < sizeof remote_only / sizeof remote_only[0]; i++)
		if (kf_args_has(args, remote_only[i]))
			return kf_err_set(err, KF_EUSAGE, "--%s needs --remote URL (or kf -r NAME)", remote_only[i]);
	for (i = 0; remote_named(args) && i < sizeof local_only / sizeof local_only[0]; i++)
		if (kf_args_has(args, local_only[i]))
			return kf_err_set(err, KF_EUSAGE, "--%s has no meaning for a run on a cluster", local_only[i]);
	return 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jstr_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = jstr(o, key);

	return s ? s : dflt;
}

/* A server object as a kf record: kind first, then the server's fields. */
static cJSON *record(const char *kind, const cJSON *obj)
{
	cJSON *r = cJSON_CreateObject(), *it;

	cJSON_AddStringToObject(r, "kind", kind);
	cJSON_ArrayForEach(it, obj)
		if (strcmp(it->string, "kind"))
			cJSON_AddItemToObject(r, it->string, cJSON_Duplicate(it, 1));
	return r;
}

static cJSON *record_list(const char *kind, const cJSON *items)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *it;
	char list_kind[64];

	snprintf(list_kind, sizeof list_kind, "%sList", kind);
	cJSON_AddStringToObject(doc, "kind", list_kind);
	arr = cJSON_AddArrayToObject(doc, "items");
	cJSON_ArrayForEach(it, items)
		cJSON_AddItemToArray(arr, record(kind, it));
	return doc;
}

/* Print an id alone in table mode (for scripts: ID=$(kf ...)), the whole
 * record otherwise. */
static int print_id_or_record(const struct kf_ctx *ctx, const cJSON *rec, struct kf_err *err)
{
	static const struct kf_column cols[] = { { "ID", "id" }, { "NAME", "name" }, { NULL, NULL } };

	if (!ctx->output || !strcmp(ctx->output, "table")) {
		char *line = kf_xasprintf("%s\n", jstr_or(rec, "id", ""));
		int rc = kf_print_outs(line, err);

		free(line);
		return rc;
	}
	return kf_print_records(ctx, rec, cols, "table|json|yaml|name", err);
}

static bool looks_like_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* What to run: a file (SPEC or PKG) or the id of an uploaded pipeline. */
struct what {
	struct kf_submit sub;
	const char *pipeline_id;
	bool have_sub;
};

/* Load a SPEC or PKG; spec errors are printed here, all of them. */
int kf_remote_load(struct kf_ctx *ctx, const char *path, struct kf_submit *sub, struct kf_err *err)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	char *store = kf_ctx_store_dir(ctx);
	int rc;

	rc = kf_submit_load(path, store, sub, &errs, err);
	if (rc && errs.n)
		kf_print_errors(ctx, &errs);
	kf_errlist_release(&errs);
	free(store);
	return rc;
}

static int load_what(struct kf_ctx *ctx, const char *arg, struct what *w, struct kf_err *err)
{
	int rc;

	memset(w, 0, sizeof *w);
	if (!kf_fs_exists(arg) && looks_like_uuid(arg)) {
		w->pipeline_id = arg;
		return 0;
	}
	if (!kf_fs_exists(arg))
		return kf_err_set(err, KF_ENOTFOUND, "\"%s\" is neither a file nor a pipeline id", arg);
	rc = kf_remote_load(ctx, arg, &w->sub, err);
	w->have_sub = rc == 0;
	return rc;
}

static void release_what(struct what *w)
{
	if (w->have_sub)
		kf_submit_release(&w->sub);
}

static const char *what_name(const struct what *w)
{
	return w->have_sub && w->sub.name ? w->sub.name : "pipeline";
}

/* --params FILE (a YAML or JSON map) then every -p NAME=VALUE, as
 * "NAME=VALUE" strings; lists and maps JSON-encoded as KFP wants them. */
static int collect_params(const struct kf_args *args, struct kf_strv *out, struct kf_err *err)
{
	const struct kf_strv *p = kf_args_all(args, PARAM_OPT);
	const char *file = kf_args_get(args, "params");
	size_t i;
	int rc = 0;

	if (file) {
		struct kf_ydoc doc;

		rc = kf_yaml_load_file(&doc, file, err);
		if (rc)
			return rc;
		if (!doc.root || doc.root->kind != KF_Y_MAP) {
			rc = kf_err_at(err, KF_EINPUT, file, doc.root ? doc.root->line : 1,
				       doc.root ? doc.root->col : 1, "parameters are a map of NAME: VALUE");
		}
		for (i = 0; !rc && i < doc.root->n; i++) {
			const struct kf_ynode *k = kf_ynode_key(doc.root, i), *v = kf_ynode_val(doc.root, i);

			if (kf_ynode_is_scalar(v)) {
				kf_strv_push_owned(out, kf_xasprintf("%s=%s", k->value,
					kf_ynode_scalar_type(v) == KF_YS_NULL ? "" : v->value));
			} else {
				cJSON *j = kf_ynode_to_json(v);
				char *text = cJSON_PrintUnformatted(j);

				kf_strv_push_owned(out, kf_xasprintf("%s=%s", k->value, text));
				free(text);
				cJSON_Delete(j);
			}
		}
		kf_ydoc_release(&doc);
		if (rc)
			return rc;
	}
	for (i = 0; i < p->n; i++) {
		const char *eq = strchr(p->v[i], '=');

		if (!eq || eq == p->v[i])
			return kf_err_set(err, KF_EUSAGE, "parameter \"%s\" is not NAME=VALUE", p->v[i]);
		kf_strv_push(out, p->v[i]);
	}
	return 0;
}

/* The experiment id for --experiment NAME (created when missing), or NULL. */
static int experiment_id(struct kf_remote_session *s, const char *name, char **id, struct kf_err *err)
{
	cJSON *exp = NULL;
	bool created;
	int rc;

	*id = NULL;
	if (!name)
		return 0;
	rc = kf_kfp_experiment_ensure(s->kfp, name, &exp, &created, err);
	if (rc)
		return rc;
	*id = kf_xstrdup(jstr_or(exp, "id", ""));
	if (created && !kf_kfp_is_dry_run(s->kfp))
		kf_print_info(s->ctx, "created experiment \"%s\" (%s)", name, *id);
	cJSON_Delete(exp);
	return 0;
}

static int parse_poll(const struct kf_args *args, int64_t *ms, struct kf_err *err)
{
	const char *p = kf_args_get(args, "poll");

	*ms = 5000;
	if (!p)
		return 0;
	if (kf_duration_parse(p, ms, err) || *ms <= 0)
		return kf_err_set(err, KF_EUSAGE, "--poll \"%s\" is not a duration such as 5s", p);
	return 0;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Print to stderr each step whose phase changed since the last poll. */
static void report_steps(const struct kf_ctx *ctx, const cJSON *steps, cJSON *seen)
{
	const cJSON *st;

	cJSON_ArrayForEach(st, steps) {
		const char *name = jstr_or(st, "name", "?"), *phase = jstr_or(st, "phase", "?");
		const char *msg = jstr_or(st, "message", "");

		if (kf_str_eq(jstr(seen, name), phase))
			continue;
		if (cJSON_GetObjectItemCaseSensitive(seen, name))
			cJSON_ReplaceItemInObjectCaseSensitive(seen, name, cJSON_CreateString(phase));
		else
			cJSON_AddStringToObject(seen, name, phase);
		if (*msg)
			kf_print_info(ctx, "  %-24s %s: %s", name, phase, msg);
		else
			kf_print_info(ctx, "  %-24s %s", name, phase);
	}
}

/* Poll the run until it ends; *detail is the last answer. */
static int watch_run(struct kf_remote_session *s, const char *run_id, int64_t poll_ms, cJSON **detail,
		     struct kf_err *err)
{
	cJSON *seen = cJSON_CreateObject();
	char last[64] = "";
	int rc = 0;

	/* *detail starts as the answer of the create call: report it first */
	for (;;) {
		const cJSON *run;
		const char *status;
		cJSON *steps;

		run = cJSON_GetObjectItemCaseSensitive(*detail, "run");
		status = jstr_or(run, "status", "");
		if (strcmp(status, last)) {
			kf_print_info(s->ctx, "run %s: %s", run_id, *status ? status : "Pending");
			snprintf(last, sizeof last, "%s", status);
		}
		steps = kf_kfp_run_steps(*detail);
		report_steps(s->ctx, steps, seen);
		cJSON_Delete(steps);
		if (kf_kfp_status_done(status))
			break;
		sleep_ms(poll_ms);
		cJSON_Delete(*detail);
		*detail = NULL;
		rc = kf_kfp_run_get(s->kfp, run_id, detail, err);
		if (rc)
			break;
	}
	cJSON_Delete(seen);
	return rc;
}

static int ended_badly(const cJSON *detail, struct kf_err *err)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(detail, "run");
	const char *status = jstr_or(run, "status", "");
	const char *msg = jstr_or(run, "error", "");

	if (kf_kfp_status_ok(status))
		return 0;
	if (*msg)
		return kf_err_set(err, KF_EFAIL, "remote run \"%s\" ended %s: %s", jstr_or(run, "name", ""),
				  status, msg);
	return kf_err_set(err, KF_EFAIL, "remote run \"%s\" ended %s", jstr_or(run, "name", ""), status);
}

int kf_run_remote_submit(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	struct kf_strv params = KF_STRV_INIT;
	struct kf_kfp_run_req req = { 0 };
	struct what w = { 0 };
	cJSON *detail = NULL, *rec = NULL;
	char *exp_id = NULL, *name = NULL;
	const char *run_id;
	int64_t poll_ms;
	int rc;

	if (args->argc != 1)
		return kf_err_set(err, KF_EUSAGE, "kf run --remote takes one SPEC, PKG or pipeline id");
	rc = check_where(args, err);
	if (!rc)
		rc = collect_params(args, &params, err);
	if (!rc)
		rc = parse_poll(args, &poll_ms, err);
	if (!rc)
		rc = load_what(ctx, args->argv[0], &w, err);
	if (rc)
		goto out;
	rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		goto out;
	rc = experiment_id(&s, kf_args_get(args, "experiment"), &exp_id, err);
	if (rc)
		goto out;
	if (kf_args_get(args, "name")) {
		name = kf_xstrdup(kf_args_get(args, "name"));
	} else {
		char when[40];

		kf_time_rfc3339(kf_time_wall_ms(), when, sizeof when);
		name = kf_xasprintf("%s %s", what_name(&w), when);
	}
	req.name = name;
	req.experiment_id = exp_id;
	req.spec.workflow_manifest = w.have_sub ? w.sub.workflow_json : NULL;
	req.spec.pipeline_id = w.pipeline_id;
	req.spec.params = &params;
	rc = kf_kfp_run_create(s.kfp, &req, &detail, err);
	if (rc || kf_kfp_is_dry_run(s.kfp))
		goto out;
	run_id = jstr_or(cJSON_GetObjectItemCaseSensitive(detail, "run"), "id", "");
	if (!ctx->output || !strcmp(ctx->output, "table")) {
		char *line = kf_xasprintf("%s\n", run_id);

		rc = kf_print_outs(line, err);
		free(line);
		if (!rc)
			rc = kf_print_flush(err);
		if (rc)
			goto out;
	}
	if (kf_args_has(args, "watch")) {
		char *id = kf_xstrdup(run_id);

		rc = watch_run(&s, id, poll_ms, &detail, err);
		free(id);
		if (rc)
			goto out;
	}
	if (ctx->output && strcmp(ctx->output, "table")) {
		rec = record("RemoteRun", cJSON_GetObjectItemCaseSensitive(detail, "run"));
		cJSON_AddItemToObject(rec, "steps", kf_kfp_run_steps(detail));
		rc = kf_print_records(ctx, rec, NULL, "table|json|yaml|name", err);
		if (rc)
			goto out;
	}
	if (kf_args_has(args, "watch"))
		rc = ended_badly(detail, err);
out:
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(detail);
	cJSON_Delete(rec);
	release_what(&w);
	kf_strv_release(&params);
	free(exp_id);
	free(name);
	return rc;
}

/* ---- kf run ls / show / logs --remote ---------------------------------- */

static const struct kf_column run_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "STATUS", "status" }, { "CREATED", "created_at" },
	{ "FINISHED", "finished_at" }, { NULL, NULL },
};

/* Look an experiment up by name (NULL name: NULL id). */
static int find_experiment_id(struct kf_remote_session *s, const char *name, char **id, struct kf_err *err)
{
	cJSON *exp = NULL;
	int rc;

	*id = NULL;
	if (!name)
		return 0;
	rc = kf_kfp_experiment_find(s->kfp, name, &exp, err);
	if (rc == KF_ENOTFOUND && kf_kfp_is_dry_run(s->kfp)) {
		kf_err_clear(err);
		*id = kf_xstrdup("<id of experiment>");
		return 0;
	}
	if (!rc)
		*id = kf_xstrdup(jstr_or(exp, "id", ""));
	cJSON_Delete(exp);
	return rc;
}

int kf_run_remote_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	cJSON *items = NULL, *doc = NULL;
	char *exp_id = NULL;
	int rc;

	rc = check_where(args, err);
	if (!rc)
		rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	rc = find_experiment_id(&s, kf_args_get(args, "experiment"), &exp_id, err);
	if (!rc)
		rc = kf_kfp_list(s.kfp, KF_KFP_RUNS, exp_id, &items, err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp)) {
		doc = record_list("RemoteRun", items);
		rc = kf_print_records(ctx, doc, run_cols, "table|json|yaml|name", err);
	}
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(items);
	cJSON_Delete(doc);
	free(exp_id);
	return rc;
}

static int print_show(const struct kf_ctx *ctx, const cJSON *detail, struct kf_err *err)
{
	static const struct kf_column step_cols[] = {
		{ "STEP", "name" }, { "PHASE", "phase" }, { "STARTED", "started_at" },
		{ "FINISHED", "finished_at" }, { "MESSAGE", "message" }, { NULL, NULL },
	};
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(detail, "run");
	cJSON *rec = record("RemoteRun", run), *steps = kf_kfp_run_steps(detail);
	int rc;

	if (ctx->output && strcmp(ctx->output, "table")) {
		cJSON_AddItemToObject(rec, "steps", steps);
		rc = kf_print_records(ctx, rec, NULL, "table|json|yaml|name", err);
	} else {
		cJSON *brief = cJSON_CreateObject(), *list = cJSON_CreateObject();
		static const char *const keys[] = { "id", "name", "status", "created_at", "finished_at", "error" };
		size_t i;

		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (jstr(run, keys[i]) && *jstr(run, keys[i]))
				cJSON_AddStringToObject(brief, keys[i], jstr(run, keys[i]));
		cJSON_AddStringToObject(list, "kind", "RemoteStepList");
		cJSON_AddItemToObject(list, "items", steps);
		rc = kf_print_records(ctx, brief, NULL, "table", err);
		if (!rc && cJSON_GetArraySize(steps)) {
			rc = kf_print_outs("\n", err);
			if (!rc)
				rc = kf_print_records(ctx, list, step_cols, "table", err);
		}
		cJSON_Delete(brief);
		cJSON_Delete(list);
	}
	cJSON_Delete(rec);
	return rc;
}

static int need_run_id(const struct kf_args *args, const char *what, struct kf_err *err)
{
	if (args->argc < 1)
		return kf_err_set(err, KF_EUSAGE, "kf run %s --remote needs a RUN_ID", what);
	return 0;
}

int kf_run_remote_show(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	cJSON *detail = NULL;
	int rc;

	rc = need_run_id(args, "show", err);
	if (!rc)
		rc = check_where(args, err);
	if (!rc)
		rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	rc = kf_kfp_run_get(s.kfp, args->argv[0], &detail, err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp))
		rc = print_show(ctx, detail, err);
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(detail);
	return rc;
}

/* Print what is new in the log of each step (or of the step want) since
 * the last call; printed maps node ids to the bytes already printed, and
 * *last the step whose lines came last (a "==> STEP <==" header marks each
 * switch when several steps print). *found says want was seen. */
static int print_new_logs(struct kf_remote_session *s, const char *run_id, const cJSON *steps, const char *want,
			  cJSON *printed, char **last, bool *found, struct kf_err *err)
{
	const cJSON *st;
	int rc = 0;

	cJSON_ArrayForEach(st, steps) {
		const char *id = jstr_or(st, "id", ""), *name = jstr_or(st, "name", "");
		const cJSON *off_item = cJSON_GetObjectItemCaseSensitive(printed, id);
		size_t off = off_item ? (size_t)off_item->valuedouble : 0;
		struct kf_buf log = KF_BUF_INIT;

		if (want && strcmp(name, want))
			continue;
		*found = true;
		if (kf_str_eq(jstr(st, "phase"), "Pending") && !kf_kfp_is_dry_run(s->kfp))
			continue;
		rc = kf_kfp_run_log(s->kfp, run_id, id, &log, err);
		if (!rc && log.len > off) {
			if (!want && !kf_str_eq(*last, name)) {
				char *h = kf_xasprintf("==> %s <==\n", name);

				rc = kf_print_outs(h, err);
				free(h);
				free(*last);
				*last = kf_xstrdup(name);
			}
			if (!rc)
				rc = kf_print_out(log.data + off, log.len - off, err);
			if (off_item)
				cJSON_SetNumberValue((cJSON *)off_item, (double)log.len);
			else
				cJSON_AddNumberToObject(printed, id, (double)log.len);
		}
		kf_buf_release(&log);
		if (rc)
			break;
	}
	return rc;
}

static int no_step(const char *run_id, const char *want, const cJSON *steps, struct kf_err *err)
{
	const char *names[64];
	const char *hint;
	const cJSON *st;
	size_t n = 0;

	cJSON_ArrayForEach(st, steps)
		if (n < 64)
			names[n++] = jstr_or(st, "name", "");
	hint = kf_str_suggest(want, names, n);
	if (hint)
		return kf_err_set(err, KF_ENOTFOUND, "run \"%s\" has no step \"%s\" (did you mean \"%s\"?)", run_id,
				  want, hint);
	return kf_err_set(err, KF_ENOTFOUND, "run \"%s\" has no step \"%s\"", run_id, want);
}

int kf_run_remote_logs(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	const char *run_id = args->argc > 0 ? args->argv[0] : NULL;
	const char *want = args->argc > 1 ? args->argv[1] : NULL;
	bool follow = kf_args_has(args, "follow"), found = false;
	cJSON *detail = NULL, *steps = NULL, *printed = cJSON_CreateObject();
	char *last = NULL;
	int64_t poll_ms;
	int rc;

	rc = need_run_id(args, "logs", err);
	if (!rc)
		rc = check_where(args, err);
	if (!rc)
		rc = parse_poll(args, &poll_ms, err);
	if (!rc)
		rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc) {
		cJSON_Delete(printed);
		return rc;
	}
	for (;;) {
		const char *status;

		rc = kf_kfp_run_get(s.kfp, run_id, &detail, err);
		if (rc)
			break;
		status = jstr_or(cJSON_GetObjectItemCaseSensitive(detail, "run"), "status", "");
		steps = kf_kfp_run_steps(detail);
		if (kf_kfp_is_dry_run(s.kfp) && want) {
			/* without the server's answer the step's node id is unknown */
			cJSON *fake = cJSON_CreateObject();

			cJSON_AddStringToObject(fake, "id", "<node id of step>");
			cJSON_AddStringToObject(fake, "name", want);
			cJSON_AddItemToArray(steps, fake);
		}
		rc = print_new_logs(&s, run_id, steps, want, printed, &last, &found, err);
		if (rc || !follow || kf_kfp_is_dry_run(s.kfp) || kf_kfp_status_done(status))
			break;
		rc = kf_print_flush(err);
		if (rc)
			break;
		cJSON_Delete(detail);
		cJSON_Delete(steps);
		detail = steps = NULL;
		sleep_ms(poll_ms);
	}
	if (!rc && want && !found)
		rc = no_step(run_id, want, steps, err);
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(detail);
	cJSON_Delete(steps);
	cJSON_Delete(printed);
	free(last);
	return rc;
}

/* ---- remote-only subcommands ----------------------------------------- */

static const struct kf_opt conn_opts[] = {
	KF_REMOTE_CONN_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_action(struct kf_ctx *ctx, struct kf_args *args, bool terminate, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	int rc;

	rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	rc = terminate ? kf_kfp_run_terminate(s.kfp, args->argv[0], err)
		       : kf_kfp_run_retry(s.kfp, args->argv[0], err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp))
		kf_print_info(ctx, "%s run %s", terminate ? "terminating" : "retrying", args->argv[0]);
	rc = kf_remote_session_close(&s, rc, err);
	return rc;
}

static int run_terminate(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	return run_action(ctx, args, true, err);
}

static int run_retry(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	return run_action(ctx, args, false, err);
}

const struct kf_cmd kf_cmd_run_terminate = {
	.name = "terminate",
	.summary = "stop a run on a Kubeflow Pipelines server",
	.usage = "run terminate RUN_ID --remote URL [options]",
	.opts = conn_opts,
	.min_args = 1,
	.max_args = 1,
	.run = run_terminate,
};

const struct kf_cmd kf_cmd_run_retry = {
	.name = "retry",
	.summary = "retry the failed steps of a run on a Kubeflow Pipelines server",
	.usage = "run retry RUN_ID --remote URL [options]",
	.opts = conn_opts,
	.min_args = 1,
	.max_args = 1,
	.run = run_retry,
};

static int run_experiments(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "ID", "id" }, { "NAME", "name" }, { "CREATED", "created_at" }, { "DESCRIPTION", "description" },
		{ NULL, NULL },
	};
	struct kf_remote_session s = { 0 };
	cJSON *items = NULL, *doc = NULL;
	int rc;

	rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	rc = kf_kfp_list(s.kfp, KF_KFP_EXPERIMENTS, NULL, &items, err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp)) {
		doc = record_list("Experiment", items);
		rc = kf_print_records(ctx, doc, cols, "table|json|yaml|name", err);
	}
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(items);
	cJSON_Delete(doc);
	return rc;
}

const struct kf_cmd kf_cmd_run_experiments = {
	.name = "experiments",
	.summary = "list the experiments on a Kubeflow Pipelines server",
	.usage = "run experiments --remote URL [options]",
	.opts = conn_opts,
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_experiments,
};

/* ---- kf run schedule ------------------------------------------------- */

static const struct kf_opt schedule_opts[] = {
	KF_REMOTE_CONN_OPTS,
	{ 0, "every", KF_OPT_REQUIRED, "DURATION", "start a run every DURATION (30m, 1h, 1d)", NULL },
	{ 0, "cron", KF_OPT_REQUIRED, "EXPR", "start runs on a cron schedule: 6 fields, seconds first", NULL },
	{ 0, "max-concurrency", KF_OPT_REQUIRED, "N", "at most N runs at once, 1 to 10 (default 1)", NULL },
	{ 0, "start", KF_OPT_REQUIRED, "TIME", "first time to run, RFC 3339 (2026-01-01T00:00:00Z)", NULL },
	{ 0, "end", KF_OPT_REQUIRED, "TIME", "last time to run, RFC 3339", NULL },
	{ 0, "no-catchup", KF_OPT_NONE, NULL, "after a pause, run only the latest missed interval", NULL },
	{ 0, "experiment", KF_OPT_REQUIRED, "NAME", "remote experiment of the runs, created when missing", NULL },
	{ 0, "name", KF_OPT_REQUIRED, "NAME", "name of the recurring run", NULL },
	{ 'p', PARAM_OPT, KF_OPT_REQUIRED, "NAME=VALUE", "set a pipeline parameter (repeatable)", NULL },
	{ 0, "params", KF_OPT_REQUIRED, "FILE", "read parameters from a YAML or JSON map", "file" },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static bool digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* 2026-01-02T03:04:05[.frac](Z|+hh:mm), as the API's date-time fields. */
static bool is_rfc3339(const char *s)
{
	size_t n = strlen(s), i = 19;

	if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
	    s[16] != ':' || !digits(s + 17, 2))
		return false;
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return true;
	return (s[i] == '+' || s[i] == '-') && n - i == 6 && digits(s + i + 1, 2) && s[i + 3] == ':' &&
	       digits(s + i + 4, 2);
}

static size_t count_fields(const char *s)
{
	size_t n = 0;

	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		n++;
		while (*s && !isspace((unsigned char)*s))
			s++;
	}
	return n;
}

static int schedule_trigger(const struct kf_args *args, struct kf_kfp_job_req *req, struct kf_err *err)
{
	const char *every = kf_args_get(args, "every"), *cron = kf_args_get(args, "cron");
	const char *mc = kf_args_get(args, "max-concurrency");
	long n;

	if (!every == !cron)
		return kf_err_set(err, KF_EUSAGE, "kf run schedule needs one of --every DURATION or --cron EXPR");
	if (every) {
		int64_t ms;

		if (kf_duration_parse(every, &ms, err) || ms < 1000)
			return kf_err_set(err, KF_EUSAGE, "--every \"%s\" is not a duration of 1s or more", every);
		req->interval_s = ms / 1000;
	} else {
		size_t fields = count_fields(cron);

		if (fields != 6 && cron[0] != '@')
			return kf_err_set(err, KF_EUSAGE,
					  "--cron \"%s\" has %zu fields; Kubeflow Pipelines wants 6, seconds first "
					  "(\"0 */30 * * * *\")", cron, fields);
		req->cron = cron;
	}
	req->max_concurrency = 1;
	if (mc) {
		if (!kf_str_to_long(mc, &n) || n < 1 || n > 10)
			return kf_err_set(err, KF_EUSAGE, "--max-concurrency \"%s\" is not a number from 1 to 10", mc);
		req->max_concurrency = (int)n;
	}
	req->start_time = kf_args_get(args, "start");
	req->end_time = kf_args_get(args, "end");
	if (req->start_time && !is_rfc3339(req->start_time))
		return kf_err_set(err, KF_EUSAGE, "--start \"%s\" is not an RFC 3339 time (2026-01-02T15:04:05Z)",
				  req->start_time);
	if (req->end_time && !is_rfc3339(req->end_time))
		return kf_err_set(err, KF_EUSAGE, "--end \"%s\" is not an RFC 3339 time (2026-01-02T15:04:05Z)",
				  req->end_time);
	req->no_catchup = kf_args_has(args, "no-catchup");
	return 0;
}

static int schedule_create(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	struct kf_kfp_job_req req = { 0 };
	struct kf_strv params = KF_STRV_INIT;
	struct what w = { 0 };
	cJSON *job = NULL, *rec = NULL;
	char *exp_id = NULL, *name = NULL;
	int rc;

	rc = schedule_trigger(args, &req, err);
	if (!rc)
		rc = collect_params(args, &params, err);
	if (!rc)
		rc = load_what(ctx, args->argv[0], &w, err);
	if (!rc)
		rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		goto out;
	rc = experiment_id(&s, kf_args_get(args, "experiment"), &exp_id, err);
	if (rc)
		goto out;
	if (kf_args_get(args, "name"))
		name = kf_xstrdup(kf_args_get(args, "name"));
	else if (req.cron)
		name = kf_xasprintf("%s cron %s", what_name(&w), req.cron);
	else
		name = kf_xasprintf("%s every %s", what_name(&w), kf_args_get(args, "every"));
	req.name = name;
	req.experiment_id = exp_id;
	req.spec.workflow_manifest = w.have_sub ? w.sub.workflow_json : NULL;
	req.spec.pipeline_id = w.pipeline_id;
	req.spec.params = &params;
	rc = kf_kfp_job_create(s.kfp, &req, &job, err);
	if (rc || kf_kfp_is_dry_run(s.kfp))
		goto out;
	rec = record("RecurringRun", job);
	rc = print_id_or_record(ctx, rec, err);
out:
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(job);
	cJSON_Delete(rec);
	release_what(&w);
	kf_strv_release(&params);
	free(exp_id);
	free(name);
	return rc;
}

/* Seconds as --every takes them: 1800 -> 30m, 5400 -> 1h30m. */
static void format_interval(long long sec, char *buf, size_t size)
{
	static const struct {
		long long unit;
		char suffix;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; i < sizeof units / sizeof units[0] && n < size; i++) {
		if (sec < units[i].unit && (units[i].unit != 1 || n))
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%lld%c", sec / units[i].unit, units[i].suffix);
		sec %= units[i].unit;
		if (!sec)
			break;
	}
}

/* "every 30m", "cron 0 0 * * * *" */
static void add_trigger_text(cJSON *job)
{
	const cJSON *trig = cJSON_GetObjectItemCaseSensitive(job, "trigger");
	const cJSON *per = cJSON_GetObjectItemCaseSensitive(trig, "periodic_schedule");
	const cJSON *cron = cJSON_GetObjectItemCaseSensitive(trig, "cron_schedule");
	char text[160] = "";

	if (per) {
		char d[64];

		format_interval(strtoll(jstr_or(per, "interval_second", "0"), NULL, 10), d, sizeof d);
		snprintf(text, sizeof text, "every %s", d);
	} else if (cron) {
		snprintf(text, sizeof text, "cron %s", jstr_or(cron, "cron", ""));
	}
	cJSON_AddStringToObject(job, "schedule", text);
}

static int schedule_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "ID", "id" }, { "NAME", "name" }, { "SCHEDULE", "schedule" }, { "MODE", "mode" },
		{ "MAX", "max_concurrency" }, { "CREATED", "created_at" }, { NULL, NULL },
	};
	struct kf_remote_session s = { 0 };
	cJSON *items = NULL, *doc = NULL, *it;
	int rc;

	rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	rc = kf_kfp_list(s.kfp, KF_KFP_JOBS, NULL, &items, err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp)) {
		doc = record_list("RecurringRun", items);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items"))
			add_trigger_text(it);
		rc = kf_print_records(ctx, doc, cols, "table|json|yaml|name", err);
	}
	rc = kf_remote_session_close(&s, rc, err);
	cJSON_Delete(items);
	cJSON_Delete(doc);
	return rc;
}

static int schedule_action(struct kf_ctx *ctx, struct kf_args *args, const char *action, struct kf_err *err)
{
	struct kf_remote_session s = { 0 };
	const char *id;
	int rc;

	if (args->argc != 2)
		return kf_err_set(err, KF_EUSAGE, "kf run schedule %s needs the ID of a recurring run", action);
	id = args->argv[1];
	rc = kf_remote_session_open(ctx, args, "remote", &s, err);
	if (rc)
		return rc;
	if (!strcmp(action, "delete"))
		rc = kf_kfp_job_delete(s.kfp, id, err);
	else
		rc = kf_kfp_job_enable(s.kfp, id, !strcmp(action, "enable"), err);
	if (!rc && !kf_kfp_is_dry_run(s.kfp))
		kf_print_info(ctx, "%s recurring run %s", !strcmp(action, "delete") ? "deleted" :
			      !strcmp(action, "enable") ? "enabled" : "disabled", id);
	rc = kf_remote_session_close(&s, rc, err);
	return rc;
}

static int run_schedule(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	const char *first = args->argv[0];

	/* `git remote add` style actions; a file named like one is ./ls */
	if (!strcmp(first, "ls")) {
		if (args->argc != 1)
			return kf_err_set(err, KF_EUSAGE, "kf run schedule ls takes no arguments");
		return schedule_ls(ctx, args, err);
	}
	if (!strcmp(first, "enable") || !strcmp(first, "disable") || !strcmp(first, "delete"))
		return schedule_action(ctx, args, first, err);
	if (args->argc != 1)
		return kf_err_set(err, KF_EUSAGE, "kf run schedule takes one SPEC, PKG or pipeline id");
	return schedule_create(ctx, args, err);
}

const struct kf_cmd kf_cmd_run_schedule = {
	.name = "schedule",
	.summary = "create, list, enable, disable and delete recurring runs on a Kubeflow Pipelines server",
	.usage = "run schedule SPEC|PKG|PIPELINE_ID --remote URL (--every DURATION | --cron EXPR) [options]\n"
		 "run schedule ls --remote URL [options]\n"
		 "run schedule enable|disable|delete ID --remote URL [options]",
	.description = "A recurring run starts the pipeline on the server every DURATION or on a\n"
		       "cron schedule (six fields, seconds first), at most --max-concurrency at once.",
	.opts = schedule_opts,
	.min_args = 1,
	.max_args = 2,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_schedule,
};

/* ---- --apply: resources to the Kubernetes API ---------------------------- */

static void on_kube_state(void *arg, const cJSON *obj, const char *state)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");

	kf_print_info(arg, "%s \"%s\": %s", jstr_or(obj, "kind", "resource"), jstr_or(meta, "name", ""), state);
}

int kf_kube_apply_cmd(struct kf_ctx *ctx, const struct kf_args *args, const cJSON *doc, struct kf_err *err)
{
	struct kf_buf dry = KF_BUF_INIT;
	struct kf_kube_conf conf = {
		.kubeconfig = kf_args_get(args, "kubeconfig"),
		.context = kf_args_get(args, "context"),
		.namespace = kf_args_get(args, "namespace"),
		.dry_run = kf_args_has(args, "dry-run"),
		.dry_out = &dry,
		.trace = ctx->verbose ? trace_line : NULL,
	};
	struct kf_kube_watch w = {
		.watch = kf_args_has(args, "watch"), .poll_ms = 2000, .on_state = on_kube_state, .arg = ctx,
	};
	const char *poll = kf_args_get(args, "poll");
	struct kf_kube *k = NULL;
	const cJSON *meta;
	cJSON *made = NULL;
	int rc;

	if (poll && (kf_duration_parse(poll, &w.poll_ms, err) || w.poll_ms <= 0))
		return kf_err_set(err, KF_EUSAGE, "--poll \"%s\" is not a duration such as 2s", poll);
	rc = kf_kube_new(&k, &conf, err);
	if (rc)
		goto out;
	rc = kf_kube_apply(k, doc, NULL, &made, err);
	if (rc)
		goto out;
	if (conf.dry_run) {
		rc = kf_print_buf(&dry, err);
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(made, "metadata");
	kf_print_info(ctx, "%s/%s created in %s", jstr_or(made, "kind", "resource"), jstr_or(meta, "name", ""),
		      jstr_or(meta, "namespace", kf_kube_namespace(k)));
	if (w.watch)
		rc = kf_kube_watch(k, &made, &w, err);
out:
	cJSON_Delete(made);
	kf_kube_free(k);
	kf_buf_release(&dry);
	return rc;
}
