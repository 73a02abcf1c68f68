/* kf_engine: the local DAG executor. One loop: reap ended steps, decide
 * which steps can be expanded into tasks, start ready tasks up to -j, and
 * sleep until a child ends, a deadline comes or a signal asks to stop. All
 * store writes of one turn of the loop share a transaction. */
#include "config.h"

#include "engine/kf_engine.h"
#include "engine/kf_proc.h"
#include "spec/kf_expr.h"
#include "spec/kf_pipeline.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_sha256.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define VALUE_MAX (1024 * 1024)   /* larger outputs are files only */
#define NS_PER_MS 1000000LL

enum tstate { T_WAITING, T_READY, T_RUNNING, T_SUCCEEDED, T_CACHED, T_FAILED, T_SKIPPED, T_OMITTED };

static const char *const tstate_names[] = {
	"Pending", "Pending", "Running", "Succeeded", "Cached", "Failed", "Skipped", "Omitted",
};

static bool terminal(enum tstate s)
{
	return s >= T_SUCCEEDED;
}

static bool ok_state(enum tstate s)
{
	return s == T_SUCCEEDED || s == T_CACHED;
}

struct out {
	char *value;              /* the file's text (trailing newline trimmed), or NULL */
	char *uri;                /* stored path */
	char digest[KF_SHA256_HEX_LEN + 1];
	int64_t art_id;
};

struct in {
	char *value;              /* NULL: absent */
	char *path;               /* a local file with the data, made on demand */
	char digest[KF_SHA256_HEX_LEN + 1];
	int64_t art_id;           /* an upstream artifact, 0 for a value */
};

struct step_rt;

struct task {
	struct step_rt *sr;
	long item;                /* -1: not a fan-out instance */
	const cJSON *item_v;
	char *name;
	enum tstate st;
	int attempt;
	pid_t pid;
	int64_t start_ms, start_ns, deadline_ns, kill_ns, retry_ns;
	bool timed_out;
	int exit_code;
	char *dir;
	struct out *outs;
	struct in *ins;
	char *cache_key;
	int64_t exec_id;
	char *msg;
	char *from_run, *from_task; /* who made the outputs (cache hit, resume) */
	struct kf_strv scratch;   /* strings lent to template expansion */
};

struct step_rt {
	const struct kf_step *s;
	size_t idx;
	bool expanded;
	enum tstate st;
	struct task **tasks;
	size_t n_tasks;
	int running;
	cJSON *items;             /* fan-out items (owned) */
	char **agg;               /* fan-out: each output's values as a JSON list */
};

struct eng {
	struct kf_pipeline *p;
	const struct kf_engine_opts *o;
	struct kf_store *st;
	char *run_id, *run_name, *run_dir;
	struct step_rt *steps;    /* p->steps, then on_exit */
	size_t n;
	int jobs, running;
	bool failed, stopping;
	bool txn_open;            /* a batch of store writes is open */
	int64_t txn_start_ns;
	int64_t run_start_ns;
	int64_t ctx_pipeline, ctx_run;
	const char *status;       /* {{run.status}} */
	cJSON *resume;            /* task name -> recorded row */
	struct task *first_failed;
	struct task **live;       /* running tasks */
	size_t n_live, cap_live;
	char *artifacts_dir;
};

/* ---- events and records -------------------------------------------------- */

static void emit(struct eng *e, struct task *t, const char *state, const char *msg)
{
	struct kf_engine_event ev = {
		.run = e->run_id, .task = t ? t->name : NULL, .state = state,
		.attempt = t ? t->attempt : 0, .exit_code = t ? t->exit_code : -1,
		.message = msg,
	};

	if (!e->o->on_event)
		return;
	if (t && t->start_ns)
		ev.elapsed_ms = (kf_time_mono_ns() - t->start_ns) / NS_PER_MS;
	else if (!t)
		ev.elapsed_ms = (kf_time_mono_ns() - e->run_start_ns) / NS_PER_MS;
	e->o->on_event(e->o->cb_ctx, &ev);
}

static cJSON *outputs_json(const struct task *t)
{
	const struct kf_component *c = t->sr->s->component;
	cJSON *doc = cJSON_CreateObject();
	cJSON *vals = cJSON_AddObjectToObject(doc, "values");
	cJSON *arts = cJSON_AddObjectToObject(doc, "artifacts");
	cJSON *from = cJSON_AddObjectToObject(doc, "from");

	/* where the outputs were made (a cached task's logs are there) */
	cJSON_AddStringToObject(from, "run", t->from_run ? t->from_run : "");
	cJSON_AddStringToObject(from, "task", t->from_task ? t->from_task : t->name);
	for (size_t i = 0; t->outs && i < c->n_outputs; i++) {
		const struct out *o = &t->outs[i];
		cJSON *a;

		if (o->value)
			cJSON_AddStringToObject(vals, c->outputs[i].name, o->value);
		if (!o->uri)
			continue;
		a = cJSON_AddObjectToObject(arts, c->outputs[i].name);
		cJSON_AddStringToObject(a, "digest", o->digest);
		cJSON_AddStringToObject(a, "uri", o->uri);
		cJSON_AddNumberToObject(a, "id", (double)o->art_id);
	}
	return doc;
}

static void outputs_restore(struct task *t, const cJSON *doc)
{
	const struct kf_component *c = t->sr->s->component;
	const cJSON *vals = cJSON_GetObjectItem(doc, "values");
	const cJSON *arts = cJSON_GetObjectItem(doc, "artifacts");
	const char *fr = cJSON_GetStringValue(kf_json_path(doc, "from.run"));
	const char *ft = cJSON_GetStringValue(kf_json_path(doc, "from.task"));

	free(t->from_run);
	free(t->from_task);
	t->from_run = fr && *fr ? kf_xstrdup(fr) : NULL;
	t->from_task = ft && *ft ? kf_xstrdup(ft) : NULL;
	for (size_t i = 0; i < c->n_outputs; i++) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(vals, c->outputs[i].name));
		const cJSON *a = cJSON_GetObjectItem(arts, c->outputs[i].name);
		struct out *o = &t->outs[i];

		free(o->value);
		free(o->uri);
		o->value = v ? kf_xstrdup(v) : NULL;
		o->uri = NULL;
		o->digest[0] = '\0';
		o->art_id = 0;
		if (a) {
			const char *u = cJSON_GetStringValue(cJSON_GetObjectItem(a, "uri"));
			const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(a, "digest"));

			o->uri = u ? kf_xstrdup(u) : NULL;
			snprintf(o->digest, sizeof o->digest, "%s", d ? d : "");
			o->art_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(a, "id"));
		}
	}
}

static int task_save(struct eng *e, struct task *t, struct kf_err *err)
{
	cJSON *outs = ok_state(t->st) ? outputs_json(t) : NULL;
	struct kf_store_task row = {
		.run = e->run_id, .task = t->name, .step = t->sr->s->name,
		.state = tstate_names[t->st], .attempt = t->attempt, .exit_code = t->exit_code,
		.started_ms = t->start_ms,
		.finished_ms = terminal(t->st) ? kf_time_wall_ms() : 0,
		.execution_id = t->exec_id, .cache_key = t->cache_key, .outputs = outs,
		.message = t->msg, .pid = t->st == T_RUNNING ? t->pid : 0,
	};
	int rc = kf_store_task_put(e->st, &row, err);

	cJSON_Delete(outs);
	return rc;
}

static void set_state(struct eng *e, struct task *t, enum tstate st, const char *msg)
{
	struct kf_err err;

	t->st = st;
	if (msg) {
		free(t->msg);
		t->msg = kf_xstrdup(msg);
	}
	if (task_save(e, t, &err) < 0 && !e->failed) {
		/* The store refusing a write is as bad as a step failing. */
		free(t->msg);
		t->msg = kf_xstrdup(err.msg);
	}
	emit(e, t, tstate_names[st], t->msg);
}

/* Record the task's execution with its inputs and outputs in ML Metadata. */
static int record_exec(struct eng *e, struct task *t, int state, struct kf_err *err)
{
	const struct kf_component *c = t->sr->s->component;
	struct kf_store_props props = KF_STORE_PROPS_INIT;
	struct kf_store_ref *ins = kf_xcalloc(c->n_inputs + 1, sizeof *ins);
	struct kf_store_ref *outs = kf_xcalloc(c->n_outputs + 1, sizeof *outs);
	int64_t ctxs[2] = { e->ctx_pipeline, e->ctx_run };
	size_t ni = 0, no = 0;
	int rc;

	kf_store_props_str(&props, "run_id", e->run_id);
	kf_store_props_str(&props, "step", t->sr->s->name);
	kf_store_props_str(&props, "task", t->name);
	kf_store_props_str(&props, "component", c->name ? c->name : c->key);
	kf_store_props_str(&props, "component_digest", c->digest);
	kf_store_props_int(&props, "attempt", t->attempt);
	if (t->exit_code >= 0)
		kf_store_props_int(&props, "exit_code", t->exit_code);
	if (t->cache_key)
		kf_store_props_str(&props, "cache_key", t->cache_key);
	for (size_t i = 0; t->ins && i < c->n_inputs; i++) {
		char key[300];

		if (t->ins[i].art_id) {
			ins[ni].id = t->ins[i].art_id;
			ins[ni++].path = c->inputs[i].name;
		}
		/* Values are properties too, so two runs can be compared by them. */
		if (t->ins[i].value && strlen(t->ins[i].value) <= 4096) {
			snprintf(key, sizeof key, "input:%s", c->inputs[i].name);
			kf_store_props_str(&props, key, t->ins[i].value);
		}
	}
	for (size_t i = 0; t->outs && i < c->n_outputs; i++) {
		if (!t->outs[i].uri)
			continue;
		if (state == KF_EXEC_CACHED && t->outs[i].art_id) {
			outs[no].id = t->outs[i].art_id;
		} else {
			outs[no].uri = t->outs[i].uri;
			outs[no].digest_in = t->outs[i].digest;
			outs[no].type = c->outputs[i].kind == KF_TYPE_OTHER && c->outputs[i].type ?
				c->outputs[i].type : "Artifact";
			outs[no].name = c->outputs[i].name;
		}
		outs[no++].path = c->outputs[i].name;
	}
	struct kf_store_record rec = {
		.type = "kf.Step", .name = t->name, .state = state, .props = &props,
		.inputs = ins, .n_inputs = ni, .outputs = outs, .n_outputs = no,
		.contexts = ctxs, .n_contexts = 2, .start_ms = t->start_ms,
	};

	rc = kf_store_record(e->st, &rec, &t->exec_id, err);
	for (size_t i = 0, j = 0; !rc && t->outs && i < c->n_outputs; i++)
		if (t->outs[i].uri)
			t->outs[i].art_id = outs[j++].id;
	for (size_t i = 0; i < ni; i++)
		kf_store_ref_release(&ins[i]);
	for (size_t i = 0; i < no; i++)
		kf_store_ref_release(&outs[i]);
	free(ins);
	free(outs);
	kf_store_props_release(&props);
	return rc;
}

/* ---- template values ----------------------------------------------------- */

struct vctx {
	struct eng *e;
	struct task *t;
};

static const char *lend(struct task *t, char *s)
{
	kf_strv_push_owned(&t->scratch, s);
	return s;
}

static const char *v_param(void *ctx, size_t index, struct kf_err *err)
{
	struct vctx *v = ctx;
	const struct kf_param *p = &v->e->p->params[index];

	if (!p->value)
		kf_err_set(err, KF_EINPUT, "parameter \"%s\" has no value", p->name);
	return p->value;
}

static const char *agg_value(struct step_rt *sr, size_t output)
{
	const struct kf_component *c = sr->s->component;

	if (!sr->agg)
		sr->agg = kf_xcalloc(c->n_outputs, sizeof *sr->agg);
	if (!sr->agg[output]) {
		cJSON *list = cJSON_CreateArray();
		char *text;

		for (size_t i = 0; i < sr->n_tasks; i++) {
			const struct out *o = sr->tasks[i]->outs ? &sr->tasks[i]->outs[output] : NULL;
			cJSON *item = NULL;

			if (!o || !o->value) {
				if (sr->tasks[i]->st == T_SKIPPED)
					continue;
				cJSON_AddItemToArray(list, cJSON_CreateNull());
				continue;
			}
			/* Values that are JSON stay JSON, as Argo aggregates them. */
			item = cJSON_Parse(o->value);
			if (!item || cJSON_IsString(item)) {
				cJSON_Delete(item);
				item = cJSON_CreateString(o->value);
			}
			cJSON_AddItemToArray(list, item);
		}
		text = cJSON_PrintUnformatted(list);
		sr->agg[output] = kf_xstrdup(text);
		cJSON_free(text);
		cJSON_Delete(list);
	}
	return sr->agg[output];
}

static const char *v_output(void *ctx, size_t step, size_t output, struct kf_err *err)
{
	struct vctx *v = ctx;
	struct step_rt *sr = &v->e->steps[step];
	const struct kf_component *c = sr->s->component;
	const char *val;

	if (sr->st == T_SKIPPED) {
		kf_err_set(err, KF_EFAIL, "step \"%s\" was skipped", sr->s->name);
		return NULL;
	}
	if (!ok_state(sr->st)) {
		kf_err_set(err, KF_EFAIL, "step \"%s\" has not succeeded", sr->s->name);
		return NULL;
	}
	if (sr->s->loop != KF_LOOP_NONE)
		return agg_value(sr, output);
	val = sr->tasks[0]->outs[output].value;
	if (!val)
		kf_err_set(err, KF_EFAIL, "output \"%s\" of step \"%s\" is not a value (a directory, or over 1 MiB)",
			   c->outputs[output].name, sr->s->name);
	return val;
}

static const char *v_item(void *ctx, const char *key, struct kf_err *err)
{
	struct vctx *v = ctx;
	const cJSON *it = v->t ? v->t->item_v : NULL;

	if (!it) {
		kf_err_set(err, KF_EINPUT, "{{item}} outside a parallelFor step");
		return NULL;
	}
	if (key) {
		it = cJSON_IsObject(it) ? cJSON_GetObjectItem(it, key) : NULL;
		if (!it) {
			kf_err_set(err, KF_EINPUT, "item %ld has no key \"%s\"", v->t->item, key);
			return NULL;
		}
	}
	if (cJSON_IsString(it))
		return it->valuestring;
	{
		char *text = cJSON_PrintUnformatted(it);
		const char *r = lend(v->t, kf_xstrdup(text));

		cJSON_free(text);
		return r;
	}
}

static const char *v_run(void *ctx, enum kf_ref_kind kind, struct kf_err *err)
{
	struct vctx *v = ctx;

	(void)err;
	if (kind == KF_REF_RUN_ID)
		return v->e->run_id;
	if (kind == KF_REF_RUN_NAME)
		return v->e->run_name;
	return v->e->status;
}

static struct kf_tmpl_values values_of(struct vctx *v)
{
	struct kf_tmpl_values vals = { v, v_param, v_output, v_item, v_run };

	return vals;
}

/* ---- task preparation ----------------------------------------------------- */

struct xctx {
	struct eng *e;
	struct task *t;
	bool canonical;           /* for the cache key: stable stand-ins for paths */
};

static int write_value_file(struct task *t, size_t i, const char *name)
{
	struct kf_err err;
	char *dir = kf_xasprintf("%s/inputs/%s", t->dir, name);
	char *path = kf_path_join(dir, "data");
	int rc;

	if ((rc = kf_fs_mkdirs(dir, &err)) == 0 && !kf_fs_exists(path))
		rc = kf_fs_write_atomic(path, t->ins[i].value, strlen(t->ins[i].value), &err);
	if (!rc)
		chmod(path, 0444);
	free(dir);
	if (rc) {
		free(path);
		return rc;
	}
	t->ins[i].path = path;
	return 0;
}

static const char *x_input_value(void *ctx, size_t input)
{
	struct xctx *x = ctx;

	return x->t->ins[input].value;
}

static const char *x_input_path(void *ctx, size_t input)
{
	struct xctx *x = ctx;
	struct in *in = &x->t->ins[input];

	if (!in->value && !in->path)
		return NULL;
	if (x->canonical)
		return lend(x->t, kf_xasprintf("kf:inputPath:%s", in->digest));
	if (!in->path && write_value_file(x->t, input, x->t->sr->s->component->inputs[input].name) < 0)
		return NULL;
	return in->path;
}

/* mkdir, and mkdir -p only when a parent is missing: most directories a
 * step needs have their parents already. */
static int mkdir_fast(const char *path, struct kf_err *err)
{
	char *parent;
	int rc;

	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return kf_err_sys(err, "cannot create \"%s\"", path);
	parent = kf_path_dirname(path);
	rc = strcmp(parent, path) != 0 ? mkdir_fast(parent, err) : -1;
	free(parent);
	if (rc < 0 || (mkdir(path, 0777) != 0 && errno != EEXIST))
		return rc < 0 ? rc : kf_err_sys(err, "cannot create \"%s\"", path);
	return 0;
}

static const char *x_output_path(void *ctx, size_t output)
{
	struct xctx *x = ctx;
	const char *name = x->t->sr->s->component->outputs[output].name;

	if (x->canonical)
		return lend(x->t, kf_xasprintf("kf:outputPath:%s", name));
	/* beside the logs, not in a directory of its own: every directory a
	 * step needs costs an inode allocation, which is what a short step's
	 * time goes to on a busy ext4 */
	return lend(x->t, kf_xasprintf("%s/out-%s", x->t->dir, name));
}

static bool uses_output_of_tmpl(const struct kf_tmpl *t, size_t dep)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->parts[i].kind == KF_REF_OUTPUT && t->parts[i].index == dep)
			return true;
	return false;
}

struct dep_walk {
	size_t dep;
	bool found;
};

static int walk_uses(void *ctx, struct kf_tmpl *t)
{
	struct dep_walk *w = ctx;

	if (uses_output_of_tmpl(t, w->dep))
		w->found = true;
	return 0;
}

/* Does step s read an output of step dep (not just run after it)? */
static bool uses_output_of(const struct kf_step *s, size_t dep)
{
	struct dep_walk w = { dep, false };

	for (size_t i = 0; i < s->n_args; i++)
		if (uses_output_of_tmpl(&s->args[i].value, dep))
			return true;
	if (s->loop == KF_LOOP_OUTPUT && uses_output_of_tmpl(&s->loop_ref, dep))
		return true;
	if (s->when)
		kf_expr_walk(s->when, walk_uses, &w);
	return w.found;
}

/* Resolve every input of the task: values, and upstream artifacts. */
static int resolve_inputs(struct eng *e, struct task *t, struct kf_err *err)
{
	const struct kf_component *c = t->sr->s->component;
	struct vctx v = { e, t };
	struct kf_tmpl_values vals = values_of(&v);

	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct kf_arg *a = kf_step_arg(t->sr->s, i);
		struct in *in = &t->ins[i];

		if (!a) {
			in->value = c->inputs[i].default_value ? kf_xstrdup(c->inputs[i].default_value) : NULL;
		} else {
			int rc = kf_tmpl_expand(&a->value, &vals, &in->value, err);

			if (rc < 0) {
				kf_err_prefix(err, "input \"%s\"", c->inputs[i].name);
				return rc;
			}
			if (kf_tmpl_is_single(&a->value, KF_REF_OUTPUT)) {
				struct step_rt *up = &e->steps[a->value.parts[0].index];
				size_t o = a->value.parts[0].output;

				if (up->s->loop == KF_LOOP_NONE && up->tasks[0]->outs[o].uri) {
					in->path = kf_xstrdup(up->tasks[0]->outs[o].uri);
					memcpy(in->digest, up->tasks[0]->outs[o].digest, sizeof in->digest);
					in->art_id = up->tasks[0]->outs[o].art_id;
					continue;
				}
			}
		}
		if (in->value)
			kf_sha256_hex(in->value, strlen(in->value), in->digest);
	}
	return 0;
}

struct prepared {
	struct kf_strv argv;
	struct kf_strv env;       /* component and step env, "K=V" */
	char *image;
};

static void prepared_release(struct prepared *pr)
{
	kf_strv_release(&pr->argv);
	kf_strv_release(&pr->env);
	free(pr->image);
}

static int expand(struct eng *e, struct task *t, bool canonical, struct prepared *pr,
		  struct kf_err *err)
{
	const struct kf_step *s = t->sr->s;
	const struct kf_component *c = s->component;
	struct xctx x = { e, t, canonical };
	struct kf_expand_cb cb = { &x, x_input_value, x_input_path, x_output_path };
	int rc;

	if ((rc = kf_component_expand(c, &cb, &pr->argv, err)) < 0)
		return rc;
	if ((rc = kf_component_expand_image(c, &cb, &pr->image, err)) < 0)
		return rc;
	for (size_t i = 0; i < c->n_env; i++) {
		char *val;

		if ((rc = kf_component_expand_env(c, i, &cb, &val, err)) < 0)
			return rc;
		kf_strv_push_owned(&pr->env, kf_xasprintf("%s=%s", c->env[i].name, val));
		free(val);
	}
	for (size_t i = 0; i < s->n_env; i++)
		kf_strv_push_owned(&pr->env, kf_xasprintf("%s=%s", s->env[i].key, s->env[i].value));
	return 0;
}

static void hash_str(struct kf_sha256 *h, const char *s)
{
	kf_sha256_update(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static char *cache_key(struct eng *e, struct task *t, const struct prepared *pr)
{
	const struct kf_component *c = t->sr->s->component;
	struct kf_sha256 h;
	char hex[KF_SHA256_HEX_LEN + 1];

	(void)e;
	kf_sha256_init(&h);
	hash_str(&h, "kf-cache-v1");
	hash_str(&h, c->digest);
	hash_str(&h, pr->image);
	hash_str(&h, e->o->runner == KF_RUNNER_HOST ? "host" : "container");
	for (size_t i = 0; i < pr->argv.n; i++)
		hash_str(&h, pr->argv.v[i]);
	hash_str(&h, "--env");
	for (size_t i = 0; i < pr->env.n; i++)
		hash_str(&h, pr->env.v[i]);
	hash_str(&h, "--inputs");
	for (size_t i = 0; i < c->n_inputs; i++) {
		hash_str(&h, c->inputs[i].name);
		hash_str(&h, t->ins[i].value ? t->ins[i].digest : "(absent)");
		hash_str(&h, t->ins[i].art_id ? t->ins[i].digest : "");
	}
	kf_sha256_final_hex(&h, hex);
	return kf_xstrdup(hex);
}

static bool env_overridden(const struct kf_strv *env, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], entry, n) && env->v[i][n] == '=')
			return true;
	return false;
}

/* The whole environment of a host step: kf's, then the run's, then the
 * component's and the step's. */
static void host_env(struct eng *e, struct task *t, const struct prepared *pr, struct kf_strv *out)
{
	struct kf_strv mine = KF_STRV_INIT;

	kf_strv_push_owned(&mine, kf_xasprintf("KF_HOME=%s", kf_store_dir(e->st)));
	kf_strv_push_owned(&mine, kf_xasprintf("KF_RUN_ID=%s", e->run_id));
	kf_strv_push_owned(&mine, kf_xasprintf("KF_TASK=%s", t->name));
	for (size_t i = 0; i < pr->env.n; i++)
		kf_strv_push(&mine, pr->env.v[i]);
	for (char **ep = environ; *ep; ep++)
		if (!env_overridden(&mine, *ep))
			kf_strv_push(out, *ep);
	for (size_t i = 0; i < mine.n; i++)
		kf_strv_push(out, mine.v[i]);
	kf_strv_release(&mine);
}

/* docker|podman run with the task's dir and the artifact area mounted at
 * the same paths, so every path in argv means the same inside. */
static void container_argv(struct eng *e, struct task *t, const struct prepared *pr,
			   struct kf_strv *out)
{
	char *work = kf_path_join(t->dir, "work");

	kf_strv_push(out, e->o->runner == KF_RUNNER_PODMAN ? "podman" : "docker");
	kf_strv_push(out, "run");
	kf_strv_push(out, "--rm");
	kf_strv_push(out, "--init");
	kf_strv_push_owned(out, kf_xasprintf("--name=kf-%s-%ld-%d", e->run_id, (long)getpid(),
					     t->attempt));
	kf_strv_push_owned(out, kf_xasprintf("--user=%ld:%ld", (long)getuid(), (long)getgid()));
	kf_strv_push_owned(out, kf_xasprintf("--volume=%s:%s", t->dir, t->dir));
	kf_strv_push_owned(out, kf_xasprintf("--volume=%s:%s:ro", e->artifacts_dir, e->artifacts_dir));
	kf_strv_push_owned(out, kf_xasprintf("--workdir=%s", work));
	kf_strv_push_owned(out, kf_xasprintf("--env=KF_RUN_ID=%s", e->run_id));
	for (size_t i = 0; i < pr->env.n; i++)
		kf_strv_push_owned(out, kf_xasprintf("--env=%s", pr->env.v[i]));
	kf_strv_push(out, "--entrypoint=");
	kf_strv_push(out, pr->image && *pr->image ? pr->image : "busybox");
	for (size_t i = 0; i < pr->argv.n; i++)
		kf_strv_push(out, pr->argv.v[i]);
	free(work);
}

/* ---- running tasks --------------------------------------------------------- */

static void live_add(struct eng *e, struct task *t)
{
	KF_GROW(e->live, e->cap_live, e->n_live + 1);
	e->live[e->n_live++] = t;
	e->running++;
	t->sr->running++;
}

static void live_remove(struct eng *e, struct task *t)
{
	for (size_t i = 0; i < e->n_live; i++) {
		if (e->live[i] == t) {
			e->live[i] = e->live[--e->n_live];
			break;
		}
	}
	e->running--;
	t->sr->running--;
}

static void fail_task(struct eng *e, struct task *t, const char *msg)
{
	set_state(e, t, T_FAILED, msg);
	if (!e->first_failed)
		e->first_failed = t;
	e->failed = true;
}

static int clean_dir(const char *dir, const char *sub)
{
	struct kf_err err;
	char *p = kf_path_join(dir, sub);
	int rc = kf_fs_remove_tree(p, &err);

	free(p);
	return rc;
}

/* Start a ready task: evaluate when, expand, look in the cache, spawn. */
static void start_task(struct eng *e, struct task *t)
{
	const struct kf_step *s = t->sr->s;
	const struct kf_component *c = s->component;
	struct prepared pr = { KF_STRV_INIT, KF_STRV_INIT, NULL };
	struct kf_strv argv = KF_STRV_INIT, env = KF_STRV_INIT;
	struct kf_err err;
	char *out_path = NULL, *err_path = NULL, *work = NULL;

	kf_err_clear(&err);
	t->attempt++;
	t->exit_code = -1;
	t->timed_out = false;
	t->start_ms = kf_time_wall_ms();
	t->start_ns = kf_time_mono_ns();
	free(t->msg);
	t->msg = NULL;
	if (s->when && t->attempt == 1) {
		struct vctx v = { e, t };
		struct kf_tmpl_values vals = values_of(&v);
		bool yes = false;

		if (kf_expr_eval(s->when, &vals, &yes, &err) < 0) {
			kf_err_prefix(&err, "when");
			fail_task(e, t, err.msg);
			goto out;
		}
		if (!yes) {
			set_state(e, t, T_SKIPPED, "when is false");
			goto out;
		}
	}
	if (!t->ins) {
		t->ins = kf_xcalloc(c->n_inputs + 1, sizeof *t->ins);
		if (resolve_inputs(e, t, &err) < 0) {
			fail_task(e, t, err.msg);
			goto out;
		}
	}
	if (expand(e, t, true, &pr, &err) < 0) {
		fail_task(e, t, err.msg);
		goto out;
	}
	free(t->cache_key);
	t->cache_key = cache_key(e, t, &pr);
	/* onExit always runs: it reports on this run, not a reusable result. */
	if (s->cache && !s->is_exit && !e->o->no_cache && t->attempt == 1) {
		cJSON *hit = NULL;
		int64_t from = 0;

		if (kf_store_cache_get(e->st, t->cache_key, e->o->max_cache_staleness_ms, &hit, &from,
				       &err) == 0 && hit) {
			outputs_restore(t, hit);
			cJSON_Delete(hit);
			t->exit_code = 0;
			if (record_exec(e, t, KF_EXEC_CACHED, &err) < 0) {
				fail_task(e, t, err.msg);
				goto out;
			}
			set_state(e, t, T_CACHED, NULL);
			goto out;
		}
	}
	prepared_release(&pr);
	memset(&pr, 0, sizeof pr);
	if (t->attempt > 1 || e->resume)
		for (size_t i = 0; i < c->n_outputs; i++) {
			char *name = kf_xasprintf("out-%s", c->outputs[i].name);

			clean_dir(t->dir, name);
			free(name);
		}
	work = kf_path_join(t->dir, "work");
	if (mkdir_fast(work, &err) < 0 || expand(e, t, false, &pr, &err) < 0) {
		fail_task(e, t, err.msg);
		goto out;
	}
	if (e->o->runner == KF_RUNNER_HOST) {
		for (size_t i = 0; i < pr.argv.n; i++)
			kf_strv_push(&argv, i == 0 && !strcmp(pr.argv.v[0], "kf") && e->o->self_exe ?
				     e->o->self_exe : pr.argv.v[i]);
		host_env(e, t, &pr, &env);
	} else {
		container_argv(e, t, &pr, &argv);
	}
	out_path = kf_path_join(t->dir, "stdout");
	err_path = kf_path_join(t->dir, "stderr");
	{
		struct kf_proc_opts po = {
			.argv = argv.v, .envp = env.n ? env.v : NULL, .cwd = work,
			.stdout_path = out_path, .stderr_path = err_path,
		};

		if (kf_proc_spawn(&po, &t->pid, &err) < 0) {
			/* Like a shell: a program that cannot start exits 127. */
			t->exit_code = 127;
			fail_task(e, t, err.msg);
			goto out;
		}
	}
	t->deadline_ns = s->timeout_ms ? t->start_ns + s->timeout_ms * NS_PER_MS : 0;
	t->kill_ns = 0;
	live_add(e, t);
	set_state(e, t, T_RUNNING, NULL);
out:
	prepared_release(&pr);
	kf_strv_release(&argv);
	kf_strv_release(&env);
	free(out_path);
	free(err_path);
	free(work);
}

static char *read_value(const char *path)
{
	struct kf_buf b = KF_BUF_INIT;
	struct kf_err err;
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > VALUE_MAX)
		return NULL;
	if (kf_fs_read_file(path, &b, &err) < 0) {
		kf_buf_release(&b);
		return NULL;
	}
	/* Values written with echo end with a newline nobody means. */
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len && memchr(b.data, '\0', b.len)) {
		kf_buf_release(&b);
		return NULL;
	}
	return b.data ? kf_buf_detach(&b) : kf_xstrdup("");
}

/* Move every output into the store; a missing one fails the task. */
static int collect_outputs(struct eng *e, struct task *t, struct kf_err *err)
{
	const struct kf_component *c = t->sr->s->component;
	int rc;

	for (size_t i = 0; i < c->n_outputs; i++) {
		char *path = kf_xasprintf("%s/out-%s", t->dir, c->outputs[i].name);
		struct out *o = &t->outs[i];

		if (!kf_fs_exists(path)) {
			rc = kf_err_set(err, KF_EFAIL, "output \"%s\" was not written (expected at \"%s\")",
					c->outputs[i].name, path);
			free(path);
			return rc;
		}
		free(o->value);
		o->value = read_value(path);
		free(o->uri);
		o->uri = NULL;
		rc = kf_store_put(e->st, path, KF_PUT_MOVE, o->digest, &o->uri, err);
		free(path);
		if (rc < 0) {
			kf_err_prefix(err, "output \"%s\"", c->outputs[i].name);
			return rc;
		}
	}
	return 0;
}

static int64_t backoff_ms(const struct kf_retry *r, int attempt)
{
	double ms = (double)r->backoff_ms;

	for (int i = 1; i < attempt; i++)
		ms *= r->factor > 0 ? r->factor : 2;
	if (r->max_backoff_ms && ms > (double)r->max_backoff_ms)
		ms = (double)r->max_backoff_ms;
	return (int64_t)ms;
}

static void task_ended(struct eng *e, struct task *t, int status)
{
	const struct kf_retry *r = &t->sr->s->retry;
	struct kf_err err;
	char msg[KF_ERR_MSG_MAX + 64];

	live_remove(e, t);
	kf_proc_signal(t->pid, SIGKILL);   /* what it left running in its group */
	t->pid = 0;
	t->exit_code = kf_proc_exit_code(status);
	msg[0] = '\0';
	if (t->timed_out) {
		char d[32];

		kf_duration_format(t->sr->s->timeout_ms, d, sizeof d);
		snprintf(msg, sizeof msg, "timed out after %s", d);
	} else if (e->stopping) {
		snprintf(msg, sizeof msg, "interrupted");
	} else if (t->exit_code == 0) {
		free(t->from_run);
		free(t->from_task);
		t->from_run = kf_xstrdup(e->run_id);
		t->from_task = NULL;
		if (collect_outputs(e, t, &err) == 0 && record_exec(e, t, KF_EXEC_COMPLETE, &err) == 0) {
			/* Written even under --no-cache: that flag only stops reuse. */
			if (t->sr->s->cache) {
				cJSON *outs = outputs_json(t);

				kf_store_cache_put(e->st, t->cache_key, outs, t->exec_id, &err);
				cJSON_Delete(outs);
			}
			set_state(e, t, T_SUCCEEDED, NULL);
			return;
		}
		snprintf(msg, sizeof msg, "%s", err.msg);
	} else {
		snprintf(msg, sizeof msg, "exit code %d", t->exit_code);
	}
	if (!e->stopping && t->attempt <= r->limit) {
		t->retry_ns = kf_time_mono_ns() + backoff_ms(r, t->attempt) * NS_PER_MS;
		t->st = T_READY;
		emit(e, t, "Retrying", msg);
		return;
	}
	record_exec(e, t, e->stopping ? KF_EXEC_CANCELED : KF_EXEC_FAILED, &err);
	if (e->stopping) {
		set_state(e, t, T_FAILED, msg);
		return;
	}
	fail_task(e, t, msg);
}

/* ---- expanding steps into tasks ------------------------------------------- */

static struct task *task_new(struct eng *e, struct step_rt *sr, long item, const cJSON *item_v)
{
	struct task *t = kf_xcalloc(1, sizeof *t);
	const struct kf_component *c = sr->s->component;

	t->sr = sr;
	t->item = item;
	t->item_v = item_v;
	t->exit_code = -1;
	t->name = item < 0 ? kf_xstrdup(sr->s->name) : kf_xasprintf("%s[%ld]", sr->s->name, item);
	t->dir = kf_path_join(e->run_dir, t->name);
	t->outs = kf_xcalloc(c->n_outputs + 1, sizeof *t->outs);
	t->st = T_READY;
	return t;
}

static void add_task(struct step_rt *sr, struct task *t, size_t *cap)
{
	KF_GROW(sr->tasks, *cap, sr->n_tasks + 1);
	sr->tasks[sr->n_tasks++] = t;
}

/* A task finished in an earlier life of this run (resume)? */
static bool resumed(struct eng *e, struct task *t)
{
	const cJSON *row = e->resume ? cJSON_GetObjectItem(e->resume, t->name) : NULL;
	const char *state = row ? cJSON_GetStringValue(cJSON_GetObjectItem(row, "state")) : NULL;

	if (!state || (strcmp(state, "Succeeded") != 0 && strcmp(state, "Cached") != 0))
		return false;
	outputs_restore(t, cJSON_GetObjectItem(row, "outputs"));
	t->exit_code = 0;
	t->attempt = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "attempt"));
	t->exec_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "execution_id"));
	t->st = !strcmp(state, "Cached") ? T_CACHED : T_SUCCEEDED;
	emit(e, t, tstate_names[t->st], "done before resume");
	return true;
}

static void step_finish(struct eng *e, struct step_rt *sr, enum tstate st, const char *msg)
{
	sr->expanded = true;
	sr->st = st;
	if (sr->n_tasks == 0) {
		/* Record the step as one task row so `run show` lists it. */
		struct task *t;
		size_t cap = 0;

		t = kf_xcalloc(1, sizeof *t);
		t->sr = sr;
		t->item = -1;
		t->exit_code = -1;
		t->name = kf_xstrdup(sr->s->name);
		t->dir = kf_path_join(e->run_dir, t->name);
		t->outs = kf_xcalloc(sr->s->component->n_outputs + 1, sizeof *t->outs);
		add_task(sr, t, &cap);
		if (st == T_SUCCEEDED) {
			/* An empty fan-out: nothing ran, all outputs are []. */
			t->st = st;
			return;
		}
		set_state(e, t, st, msg);
	}
}

static int loop_items(struct eng *e, struct step_rt *sr, struct kf_err *err)
{
	const struct kf_step *s = sr->s;
	char *text = NULL;
	int rc;

	if (s->loop == KF_LOOP_LIST) {
		sr->items = cJSON_Duplicate(s->loop_items, true);
		return 0;
	}
	{
		struct vctx v = { e, NULL };
		struct kf_tmpl_values vals = values_of(&v);

		if ((rc = kf_tmpl_expand(&s->loop_ref, &vals, &text, err)) < 0)
			return rc;
	}
	sr->items = cJSON_Parse(text);
	if (!cJSON_IsArray(sr->items)) {
		rc = kf_err_set(err, KF_EFAIL, "parallelFor: \"%s\" is not a JSON list", text);
		cJSON_Delete(sr->items);
		sr->items = NULL;
	}
	free(text);
	return rc < 0 ? rc : 0;
}

/* Expand a step whose dependencies are all done; returns true if it did. */
static bool try_expand(struct eng *e, struct step_rt *sr)
{
	const struct kf_step *s = sr->s;
	struct kf_err err;
	size_t cap = 0;

	for (size_t i = 0; i < s->n_deps; i++)
		if (!e->steps[s->deps[i]].expanded || !terminal(e->steps[s->deps[i]].st))
			return false;
	for (size_t i = 0; i < s->n_deps; i++) {
		struct step_rt *d = &e->steps[s->deps[i]];

		if (d->st == T_FAILED || d->st == T_OMITTED) {
			step_finish(e, sr, T_OMITTED, "an upstream step failed");
			return true;
		}
		if (d->st == T_SKIPPED && uses_output_of(s, s->deps[i])) {
			char msg[512];

			snprintf(msg, sizeof msg, "upstream step \"%s\" was skipped", d->s->name);
			step_finish(e, sr, T_SKIPPED, msg);
			return true;
		}
	}
	sr->expanded = true;
	sr->st = T_WAITING;
	if (s->loop == KF_LOOP_NONE) {
		struct task *t = task_new(e, sr, -1, NULL);

		add_task(sr, t, &cap);
		resumed(e, t);
		return true;
	}
	if (loop_items(e, sr, &err) < 0) {
		kf_err_prefix(&err, "step \"%s\"", s->name);
		sr->expanded = false;
		step_finish(e, sr, T_FAILED, err.msg);
		e->failed = true;
		if (!e->first_failed)
			e->first_failed = sr->tasks[0];
		return true;
	}
	if (cJSON_GetArraySize(sr->items) == 0) {
		step_finish(e, sr, T_SUCCEEDED, NULL);
		return true;
	}
	{
		long i = 0;
		const cJSON *it;

		cJSON_ArrayForEach(it, sr->items) {
			struct task *t = task_new(e, sr, i++, it);

			add_task(sr, t, &cap);
			resumed(e, t);
		}
	}
	return true;
}

/* Once all of a step's tasks are terminal, the step is. */
static void settle(struct step_rt *sr)
{
	bool any_fail = false, all_skip = true, all_cached = true;

	if (!sr->expanded || terminal(sr->st))
		return;
	for (size_t i = 0; i < sr->n_tasks; i++) {
		enum tstate st = sr->tasks[i]->st;

		if (!terminal(st))
			return;
		any_fail |= st == T_FAILED || st == T_OMITTED;
		all_skip &= st == T_SKIPPED;
		all_cached &= st == T_CACHED;
	}
	sr->st = any_fail ? T_FAILED : all_skip ? T_SKIPPED : all_cached ? T_CACHED : T_SUCCEEDED;
}

/* ---- the loop ------------------------------------------------------------- */

static void stop_all(struct eng *e, int sig)
{
	int64_t now = kf_time_mono_ns();

	for (size_t i = 0; i < e->n_live; i++) {
		kf_proc_signal(e->live[i]->pid, sig);
		if (sig == SIGTERM && !e->live[i]->kill_ns)
			e->live[i]->kill_ns = now + (e->o->grace_ms ? e->o->grace_ms : 5000) * NS_PER_MS;
	}
}

/* Timeouts and kill deadlines; returns ms until the next one (-1: none). */
static int64_t deadlines(struct eng *e)
{
	int64_t now = kf_time_mono_ns(), next = -1;

	for (size_t i = 0; i < e->n_live; i++) {
		struct task *t = e->live[i];
		int64_t grace = (e->o->grace_ms ? e->o->grace_ms : 5000) * NS_PER_MS;

		if (t->deadline_ns && !t->timed_out && now >= t->deadline_ns) {
			t->timed_out = true;
			kf_proc_signal(t->pid, SIGTERM);
			t->kill_ns = now + grace;
		}
		if (t->kill_ns && now >= t->kill_ns) {
			kf_proc_signal(t->pid, SIGKILL);
			t->kill_ns = 0;
		}
		if (t->deadline_ns && !t->timed_out && (next < 0 || t->deadline_ns - now < next))
			next = t->deadline_ns - now;
		if (t->kill_ns && (next < 0 || t->kill_ns - now < next))
			next = t->kill_ns - now;
	}
	return next < 0 ? -1 : next / NS_PER_MS + 1;
}

static void reap(struct eng *e)
{
	int status;
	pid_t pid;

	while ((pid = kf_proc_reap(&status)) > 0) {
		for (size_t i = 0; i < e->n_live; i++) {
			if (e->live[i]->pid == pid) {
				task_ended(e, e->live[i], status);
				break;
			}
		}
	}
}

/* Start what can start; returns ms until a retry is due (-1: none). */
static int64_t schedule(struct eng *e)
{
	int64_t now = kf_time_mono_ns(), next = -1;
	bool progress = true;

	while (progress) {
		progress = false;
		for (size_t oi = 0; oi < e->p->n_steps; oi++) {
			struct step_rt *sr = &e->steps[e->p->order ? e->p->order[oi] : oi];

			if (!sr->expanded && !e->failed && !e->stopping && try_expand(e, sr))
				progress = true;
			if (!sr->expanded || terminal(sr->st))
				continue;
			for (size_t i = 0; i < sr->n_tasks; i++) {
				struct task *t = sr->tasks[i];

				if (t->st != T_READY || e->stopping || e->failed)
					continue;
				if (t->retry_ns > now) {
					if (next < 0 || t->retry_ns - now < next)
						next = t->retry_ns - now;
					continue;
				}
				if (e->running >= e->jobs ||
				    (sr->s->parallelism > 0 && sr->running >= sr->s->parallelism))
					break;
				start_task(e, t);
				if (terminal(t->st))
					progress = true;
			}
			settle(sr);
		}
	}
	return next < 0 ? -1 : next / NS_PER_MS + 1;
}

static bool all_done(struct eng *e)
{
	for (size_t k = 0; k < e->n; k++) {
		struct step_rt *sr = &e->steps[k];

		if (sr->s->is_exit)
			continue;
		if (!sr->expanded && !e->failed && !e->stopping)
			return false;
		for (size_t i = 0; i < sr->n_tasks; i++)
			if (!terminal(sr->tasks[i]->st))
				return false;
	}
	return true;
}

/* Steps that never ran because the run stopped early. */
static void omit_rest(struct eng *e)
{
	for (size_t k = 0; k < e->n; k++) {
		struct step_rt *sr = &e->steps[k];

		if (sr->s->is_exit)
			continue;
		if (!sr->expanded) {
			step_finish(e, sr, T_OMITTED, e->stopping ? "interrupted" : "the run failed");
			continue;
		}
		for (size_t i = 0; i < sr->n_tasks; i++)
			if (!terminal(sr->tasks[i]->st))
				set_state(e, sr->tasks[i], T_OMITTED,
					  e->stopping ? "interrupted" : "the run failed");
		settle(sr);
	}
}

/* Store writes are batched: a transaction stays open across turns of the
 * loop for at most BATCH_NS while steps run, so a thousand short steps do
 * not cost a thousand commits. A crash loses at most that much progress
 * (resume redoes those steps); it never leaves the store inconsistent. */
#define BATCH_NS (50 * NS_PER_MS)

static int turn_begin(struct eng *e)
{
	struct kf_err err;
	int rc;

	if (e->txn_open)
		return 0;
	if ((rc = kf_store_begin(e->st, &err)) == 0) {
		e->txn_open = true;
		e->txn_start_ns = kf_time_mono_ns();
	}
	return rc;
}

/* Commit when forced, or when the batch is old enough. */
static int turn_end(struct eng *e, bool force, struct kf_err *err)
{
	if (!e->txn_open)
		return 0;
	if (!force && kf_time_mono_ns() - e->txn_start_ns < BATCH_NS)
		return 0;
	e->txn_open = false;
	return kf_store_commit(e->st, err);
}

/* How long the loop may sleep before the open batch must be committed. */
static int64_t batch_wait(struct eng *e, int64_t wait_ms)
{
	int64_t left;

	if (!e->txn_open)
		return wait_ms;
	left = (e->txn_start_ns + BATCH_NS - kf_time_mono_ns()) / NS_PER_MS + 1;
	if (left < 0)
		left = 0;
	return wait_ms < 0 || left < wait_ms ? left : wait_ms;
}

static int loop(struct eng *e, struct kf_err *err)
{
	int sig, rc;

	for (;;) {
		int64_t wait_retry, wait_dl;
		bool done = false;

		if ((rc = turn_begin(e)) < 0)
			return kf_err_set(err, rc, "store \"%s\" is busy", kf_store_dir(e->st));
		reap(e);
		wait_retry = schedule(e);
		if (e->n_live == 0) {
			if (e->failed || e->stopping || wait_retry < 0) {
				/* nothing left that can run */
				omit_rest(e);
				done = true;
			} else if (all_done(e)) {
				done = true;
			}
		}
		if ((rc = turn_end(e, done, err)) < 0)
			return rc;
		if (done)
			return 0;
		wait_dl = deadlines(e);
		if (wait_retry >= 0 && (wait_dl < 0 || wait_retry < wait_dl))
			wait_dl = wait_retry;
		sig = kf_proc_wait(batch_wait(e, wait_dl));
		if (sig) {
			if (e->stopping) {
				stop_all(e, SIGKILL);
			} else {
				e->stopping = true;
				emit(e, NULL, "Stopping", sig == SIGINT ? "interrupted" : "terminated");
				stop_all(e, SIGTERM);
			}
		}
	}
}

/* The onExit step: always runs (unless interrupted), after everything. */
static int run_exit(struct eng *e, struct kf_err *err)
{
	struct step_rt *sr = &e->steps[e->n - 1];
	size_t cap = 0;
	struct task *t;
	int sig, rc;

	if (!sr->s->is_exit || e->stopping)
		return 0;
	e->status = e->failed ? "Failed" : "Succeeded";
	t = task_new(e, sr, -1, NULL);
	add_task(sr, t, &cap);
	sr->expanded = true;
	bool was_failed = e->failed;

	e->failed = false;
	/* Not taken from an earlier life of a resumed run: the status it
	 * reports may have changed since. */
	if ((rc = turn_begin(e)) < 0)
		return kf_err_set(err, rc, "store \"%s\" is busy", kf_store_dir(e->st));
	start_task(e, t);
	if ((rc = turn_end(e, true, err)) < 0)
		return rc;
	while (e->n_live > 0) {
		sig = kf_proc_wait(deadlines(e));
		if (sig) {
			stop_all(e, e->stopping ? SIGKILL : SIGTERM);
			e->stopping = true;
		}
		if ((rc = turn_begin(e)) < 0)
			return kf_err_set(err, rc, "store \"%s\" is busy", kf_store_dir(e->st));
		reap(e);
		if (t->st == T_READY && !e->stopping) {
			/* a retry: wait out the backoff, then start again */
			int64_t d = (t->retry_ns - kf_time_mono_ns()) / NS_PER_MS;

			if (d > 0)
				usleep((useconds_t)(d * 1000));
			start_task(e, t);
		}
		if ((rc = turn_end(e, true, err)) < 0)
			return rc;
	}
	settle(sr);
	e->failed = was_failed || t->st == T_FAILED;
	return 0;
}

/* ---- set-up ------------------------------------------------------------- */

char *kf_engine_run_dir(struct kf_store *s, const char *run)
{
	return kf_xasprintf("%s/runs/%s", kf_store_dir(s), run);
}

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

static int contexts(struct eng *e, struct kf_err *err)
{
	struct kf_store_props props = KF_STORE_PROPS_INIT;
	int rc;

	if ((rc = kf_store_context(e->st, "kf.Pipeline", e->p->name, NULL, 0, &e->ctx_pipeline,
				   err)) < 0)
		return rc;
	kf_store_props_str(&props, "name", e->run_name);
	kf_store_props_str(&props, "pipeline", e->p->name);
	if (e->o->source)
		kf_store_props_str(&props, "source", e->o->source);
	rc = kf_store_context(e->st, "kf.Run", e->run_id, &props, e->ctx_pipeline, &e->ctx_run, err);
	if (!rc && e->o->parent_context)
		rc = kf_store_context(e->st, "kf.Run", e->run_id, NULL, e->o->parent_context,
				      &e->ctx_run, err);
	kf_store_props_release(&props);
	return rc;
}

static cJSON *params_json(const struct kf_pipeline *p)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < p->n_params; i++)
		if (p->params[i].value)
			cJSON_AddStringToObject(o, p->params[i].name, p->params[i].value);
	return o;
}

/* A resumed run: its recorded tasks, and the groups of steps that were
 * running when kf died (they must not write into the same dirs). */
static int load_resume(struct eng *e, struct kf_err *err)
{
	cJSON *run = NULL, *tasks = NULL, *row;
	const char *state;
	int rc;

	if ((rc = kf_store_run_get(e->st, e->run_id, &run, err)) < 0)
		return rc;
	state = cJSON_GetStringValue(cJSON_GetObjectItem(run, "state"));
	if (state && !strcmp(state, "Succeeded")) {
		rc = kf_err_set(err, KF_EINPUT, "run \"%s\" already succeeded", e->run_id);
		goto out;
	}
	if (state && !strcmp(state, "Running")) {
		long pid = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(run, "pid"));

		if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0) {
			rc = kf_err_set(err, KF_EINPUT, "run \"%s\" is still running (pid %ld)",
					e->run_id, pid);
			goto out;
		}
	}
	if ((rc = kf_store_task_list(e->st, e->run_id, &tasks, err)) < 0)
		goto out;
	e->resume = cJSON_CreateObject();
	while ((row = cJSON_DetachItemFromArray(tasks, 0))) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(row, "task"));
		double pid = cJSON_GetNumberValue(cJSON_GetObjectItem(row, "pid"));

		if (pid > 0 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(row, "state")),
				       "Running"))
			kf_proc_signal((pid_t)pid, SIGKILL);
		if (name)
			cJSON_AddItemToObject(e->resume, name, row);
		else
			cJSON_Delete(row);
	}
	rc = kf_store_run_set_pid(e->st, e->run_id, (long)getpid(), err);
out:
	cJSON_Delete(run);
	cJSON_Delete(tasks);
	return rc;
}

static void eng_release(struct eng *e)
{
	for (size_t k = 0; k < e->n; k++) {
		struct step_rt *sr = &e->steps[k];
		const struct kf_component *c = sr->s->component;

		for (size_t i = 0; i < sr->n_tasks; i++) {
			struct task *t = sr->tasks[i];

			for (size_t j = 0; j < c->n_outputs; j++) {
				free(t->outs[j].value);
				free(t->outs[j].uri);
			}
			for (size_t j = 0; t->ins && j < c->n_inputs; j++) {
				free(t->ins[j].value);
				free(t->ins[j].path);
			}
			free(t->outs);
			free(t->ins);
			free(t->name);
			free(t->dir);
			free(t->cache_key);
			free(t->msg);
			free(t->from_run);
			free(t->from_task);
			kf_strv_release(&t->scratch);
			free(t);
		}
		free(sr->tasks);
		cJSON_Delete(sr->items);
		for (size_t j = 0; sr->agg && j < c->n_outputs; j++)
			free(sr->agg[j]);
		free(sr->agg);
	}
	free(e->steps);
	free(e->live);
	free(e->run_id);
	free(e->run_name);
	free(e->run_dir);
	free(e->artifacts_dir);
	cJSON_Delete(e->resume);
}

void kf_engine_result_release(struct kf_engine_result *r)
{
	free(r->run_id);
	free(r->state);
	free(r->failed_task);
	free(r->stderr_path);
	memset(r, 0, sizeof *r);
}

int kf_engine_run(struct kf_pipeline *p, const struct kf_engine_opts *o,
		  struct kf_engine_result *res, struct kf_err *err)
{
	struct eng e;
	sigset_t old;
	const char *final;
	int rc;

	memset(res, 0, sizeof *res);
	res->exit_code = -1;
	memset(&e, 0, sizeof e);
	e.p = p;
	e.o = o;
	e.st = o->store;
	e.jobs = o->jobs > 0 ? o->jobs : ncpus();
	e.run_start_ns = kf_time_mono_ns();
	e.run_name = kf_xstrdup(o->run_name ? o->run_name : p->name);
	e.run_id = o->run_id ? kf_xstrdup(o->run_id) : kf_store_run_new_id(p->name);
	e.run_dir = kf_engine_run_dir(e.st, e.run_id);
	e.artifacts_dir = kf_xasprintf("%s/artifacts", kf_store_dir(e.st));
	e.status = "Running";
	e.n = p->n_steps + (p->on_exit ? 1 : 0);
	e.steps = kf_xcalloc(e.n + 1, sizeof *e.steps);
	for (size_t i = 0; i < p->n_steps; i++) {
		e.steps[i].s = &p->steps[i];
		e.steps[i].idx = i;
	}
	if (p->on_exit) {
		e.steps[e.n - 1].s = p->on_exit;
		e.steps[e.n - 1].idx = e.n - 1;
	}
	kf_proc_signals_block(&old);
	if ((rc = kf_fs_mkdirs(e.run_dir, err)) < 0)
		goto out;
	if (o->resume) {
		if ((rc = load_resume(&e, err)) < 0 ||
		    (rc = kf_store_run_set_state(e.st, e.run_id, "Running", false, NULL, err)) < 0)
			goto out;
	} else {
		cJSON *params = params_json(p);
		struct kf_store_run run = {
			.id = e.run_id, .name = e.run_name, .pipeline = p->name, .source = o->source,
			.params = params, .plan = o->plan, .state = "Running",
		};

		rc = contexts(&e, err);
		run.context_id = e.ctx_run;
		if (!rc)
			rc = kf_store_run_add(e.st, &run, err);
		cJSON_Delete(params);
		if (rc < 0)
			goto out;
	}
	if (o->resume && (rc = contexts(&e, err)) < 0)
		goto out;
	emit(&e, NULL, "Running", NULL);
	if ((rc = loop(&e, err)) < 0 || (rc = run_exit(&e, err)) < 0)
		goto out;
	final = e.stopping ? "Interrupted" : e.failed ? "Failed" : "Succeeded";
	kf_store_run_set_state(e.st, e.run_id, final, true, NULL, err);
	res->state = kf_xstrdup(final);
	emit(&e, NULL, final, NULL);
	if (e.first_failed) {
		struct task *t = e.first_failed;

		res->failed_task = kf_xstrdup(t->name);
		res->exit_code = t->exit_code;
		res->stderr_path = kf_path_join(t->dir, "stderr");
	}
	if (e.stopping) {
		rc = kf_err_set(err, KF_EINTR, "run \"%s\" interrupted", e.run_id);
	} else if (e.failed && e.first_failed) {
		rc = kf_err_set(err, KF_EFAIL, "step \"%s\" failed: %s", e.first_failed->name,
				e.first_failed->msg ? e.first_failed->msg : "failed");
	} else if (e.failed) {
		rc = kf_err_set(err, KF_EFAIL, "run \"%s\" failed", e.run_id);
	}
out:
	if (rc < 0 && !res->state && e.run_id) {
		struct kf_err ignore;

		kf_store_run_set_state(e.st, e.run_id, "Error", true, err->msg, &ignore);
	}
	res->run_id = kf_xstrdup(e.run_id);
	if (!res->state)
		res->state = kf_xstrdup("Error");
	kf_proc_signals_restore(&old);
	eng_release(&e);
	return rc;
}
