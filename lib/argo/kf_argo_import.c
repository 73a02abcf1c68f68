/* kf_argo_import: Argo Workflow (as kf compile and the KFP v1 SDK write it)
 * -> kf/v1 Pipeline spec text. DAG templates are flattened: each container
 * task becomes a step; a DAG task's inputs, when, loop and dependencies
 * are carried down to the steps inside it. */
#include "config.h"

#include "argo/kf_argo_import.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct imp {
	const char *file;
	const struct kf_ynode *y_templates;  /* for error positions */
	cJSON *templates;                    /* spec.templates */
	cJSON *comps;                        /* out: spec.components */
	cJSON *steps;                        /* out: spec.steps */
	cJSON *tinfo;                        /* template -> {params:{p:out}, arts:{a:out}} */
	struct kf_err *err;
	int depth;
};

/* One DAG template being flattened. */
struct scope {
	const struct scope *parent;
	const char *tmpl;          /* the DAG template's name */
	cJSON *inputs;             /* input parameter -> kf text */
	cJSON *arts;               /* input artifact -> kf text */
	char *when;                /* conditions of the enclosing tasks, or NULL */
	cJSON *loop;               /* parallelFor of the enclosing task (array or text), or NULL */
	int parallelism;
	cJSON *after;              /* steps the enclosing task waits for */
	cJSON *tasks;              /* task -> {"step": S} | {"dag": T, "steps": [...], "scope": id} */
	cJSON *dag_outputs;        /* task (a DAG) -> {param: kf text} */
};

/* ---- errors --------------------------------------------------------------- */

static const struct kf_ynode *y_template(struct imp *im, const char *name)
{
	for (size_t i = 0; im->y_templates && i < im->y_templates->n; i++) {
		const struct kf_ynode *t = im->y_templates->items[i];
		const struct kf_ynode *n = kf_ynode_get(t, "name");

		if (n && kf_ynode_is_scalar(n) && !strcmp(n->value, name))
			return t;
	}
	return NULL;
}

/* An error at template tmpl's field (or the template itself). */
static int fail(struct imp *im, const char *tmpl, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct imp *im, const char *tmpl, const char *field, const char *fmt, ...)
{
	const struct kf_ynode *t = tmpl ? y_template(im, tmpl) : NULL;
	const struct kf_ynode *f = NULL;
	const struct kf_ynode *at;
	char msg[KF_ERR_MSG_MAX];
	va_list ap;

	/* point at the field's key, where a reader looks for it */
	for (size_t i = 0; t && field && t->kind == KF_Y_MAP && i < t->n; i++)
		if (kf_ynode_is_scalar(kf_ynode_key(t, i)) && !strcmp(kf_ynode_key(t, i)->value, field))
			f = kf_ynode_key(t, i);
	at = f ? f : t;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (tmpl)
		return kf_err_at(im->err, KF_EINPUT, im->file, at ? at->line : 0, at ? at->col : 0,
				 "template \"%s\": %s", tmpl, msg);
	return kf_err_set(im->err, KF_EINPUT, "%s: %s", im->file, msg);
}

/* ---- small helpers ---------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A scalar as text (numbers and booleans as YAML wrote them). */
static char *scalar_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return kf_xstrdup(v->valuestring);
	if (cJSON_IsNumber(v)) {
		char buf[64];

		if (v->valuedouble == (double)(long long)v->valuedouble)
			snprintf(buf, sizeof buf, "%lld", (long long)v->valuedouble);
		else
			snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
		return kf_xstrdup(buf);
	}
	if (cJSON_IsBool(v))
		return kf_xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (v && !cJSON_IsNull(v)) {
		char *t = cJSON_PrintUnformatted(v), *r = kf_xstrdup(t);

		cJSON_free(t);
		return r;
	}
	return NULL;
}

static const cJSON *get2(const cJSON *o, const char *a, const char *b)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
}

static cJSON *find_template(struct imp *im, const char *name)
{
	cJSON *t;

	cJSON_ArrayForEach(t, im->templates)
		if (kf_str_eq(str_of(t, "name"), name))
			return t;
	return NULL;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return kf_xstrndup(s, n);
}

/* ---- container templates -> components ------------------------------------ */

struct token {
	const char *text;          /* what to find in a string */
	const char *kind;          /* "inputValue", "inputPath", "outputPath" */
	const char *name;
};

struct tokens {
	struct token *v;
	size_t n, cap;
	struct kf_strv own;
	bool *used;                /* per token: found somewhere */
};

static void tok_add(struct tokens *t, char *text, const char *kind, const char *name)
{
	KF_GROW(t->v, t->cap, t->n + 1);
	kf_strv_push_owned(&t->own, text);
	t->v[t->n].text = text;
	t->v[t->n].kind = kind;
	t->v[t->n++].name = name;
}

static cJSON *slice_str(const char *s, size_t n)
{
	char *t = kf_xstrndup(s, n);
	cJSON *j = cJSON_CreateString(t);

	free(t);
	return j;
}

/* A string with parameter references and container paths -> a placeholder:
 * a plain string, {kind: name}, or {concat: [...]}. */
static cJSON *to_placeholder(struct tokens *tk, const char *s)
{
	cJSON *parts = cJSON_CreateArray(), *out;
	const char *p = s, *lit = s;

	while (*p) {
		long best = -1;
		size_t best_len = 0;

		for (size_t i = 0; i < tk->n; i++) {
			size_t n = strlen(tk->v[i].text);

			if (n > best_len && !strncmp(p, tk->v[i].text, n)) {
				best = (long)i;
				best_len = n;
			}
		}
		if (best < 0) {
			p++;
			continue;
		}
		if (p > lit)
			cJSON_AddItemToArray(parts, slice_str(lit, (size_t)(p - lit)));
		{
			cJSON *ph = cJSON_CreateObject();

			cJSON_AddStringToObject(ph, tk->v[best].kind, tk->v[best].name);
			cJSON_AddItemToArray(parts, ph);
		}
		tk->used[best] = true;
		p += best_len;
		lit = p;
	}
	if (p > lit || cJSON_GetArraySize(parts) == 0)
		cJSON_AddItemToArray(parts, slice_str(lit, (size_t)(p - lit)));
	if (cJSON_GetArraySize(parts) == 1) {
		out = cJSON_DetachItemFromArray(parts, 0);
		cJSON_Delete(parts);
		return out;
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "concat", parts);
	return out;
}

static void tokens_release(struct tokens *tk)
{
	free(tk->v);
	free(tk->used);
	kf_strv_release(&tk->own);
}

/* Fields of a container template that have no local meaning, or none we
 * can honour: refuse them by name rather than run something different. */
static int check_runnable(struct imp *im, const char *name, const cJSON *t)
{
	static const char *const kinds[] = { "resource", "suspend", "steps", "script", "http",
					     "plugin", "containerSet", "data", NULL };
	const cJSON *ctr = cJSON_GetObjectItem(t, "container");

	for (size_t i = 0; kinds[i]; i++)
		if (cJSON_GetObjectItem(t, kinds[i]))
			return fail(im, name, kinds[i], "\"%s\" templates cannot run locally "
				    "(kf runs container and dag templates)", kinds[i]);
	if (!ctr)
		return fail(im, name, NULL, "has neither container nor dag");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(ctr, "volumeMounts")) > 0)
		return fail(im, name, "container", "container.volumeMounts: volumes (PersistentVolumeClaims, "
			    "secrets, config maps) cannot be mounted locally");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(t, "volumes")) > 0)
		return fail(im, name, "volumes", "volumes cannot be mounted locally");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(t, "sidecars")) > 0)
		return fail(im, name, "sidecars", "sidecars cannot run locally");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(t, "initContainers")) > 0)
		return fail(im, name, "initContainers", "initContainers cannot run locally");
	{
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItem(ctr, "env"))
			if (cJSON_GetObjectItem(e, "valueFrom"))
				return fail(im, name, "container", "container.env \"%s\": valueFrom "
					    "(secrets, config maps, fields) cannot be resolved locally",
					    str_of(e, "name") ? str_of(e, "name") : "?");
	}
	return 0;
}

/* {{workflow.status}}, {{workflow.name}}, {{workflow.uid}} and
 * {{workflow.parameters.X}} written in a container: each becomes an input
 * "workflow-..." (globals: input -> the kf template its step passes). */
static void scan_globals(struct tokens *tk, const char *s, cJSON *globals)
{
	const char *p = s;

	while (p && (p = strstr(p, "{{workflow.")) != NULL) {
		const char *end = strstr(p, "}}");
		char *ex, *input = NULL, *kf = NULL;

		if (!end)
			break;
		ex = trim_dup(p + 2, (size_t)(end - p - 2));
		if (!strcmp(ex, "workflow.status")) {
			input = kf_xstrdup("workflow-status");
			kf = kf_xstrdup("{{run.status}}");
		} else if (!strcmp(ex, "workflow.name") || !strcmp(ex, "workflow.uid")) {
			input = kf_xasprintf("workflow-%s", ex + 9);
			kf = kf_xstrdup("{{run.id}}");
		} else if (kf_str_starts(ex, "workflow.parameters.")) {
			input = kf_xasprintf("workflow-parameters-%s", ex + 20);
			kf = kf_xasprintf("{{params.%s}}", ex + 20);
		}
		if (input && !cJSON_GetObjectItem(globals, input)) {
			cJSON_AddStringToObject(globals, input, kf);
			tok_add(tk, kf_xstrndup(p, (size_t)(end + 2 - p)), "inputValue",
				cJSON_GetObjectItem(globals, input)->string);
		}
		free(input);
		free(kf);
		free(ex);
		p = end + 2;
	}
}

static void scan_json(struct tokens *tk, const cJSON *v, cJSON *globals)
{
	const cJSON *c;

	if (cJSON_IsString(v))
		scan_globals(tk, v->valuestring, globals);
	cJSON_ArrayForEach(c, v)
		scan_json(tk, c, globals);
}

static void add_globals(struct tokens *tk, const cJSON *ctr, cJSON *globals)
{
	scan_json(tk, cJSON_GetObjectItem(ctr, "image"), globals);
	scan_json(tk, cJSON_GetObjectItem(ctr, "command"), globals);
	scan_json(tk, cJSON_GetObjectItem(ctr, "args"), globals);
	scan_json(tk, cJSON_GetObjectItem(ctr, "env"), globals);
}

static cJSON *ph_list(struct tokens *tk, const cJSON *arr)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *v;

	cJSON_ArrayForEach(v, arr) {
		char *s = scalar_text(v);

		cJSON_AddItemToArray(out, to_placeholder(tk, s ? s : ""));
		free(s);
	}
	return out;
}

/* The component for a container template, made once. */
static int component(struct imp *im, const char *name, const cJSON *t)
{
	const cJSON *ctr = cJSON_GetObjectItem(t, "container"), *v;
	cJSON *c, *ins, *outs, *impl, *info, *pmap, *amap, *paths, *globals;
	struct tokens tk;
	int rc;

	if (cJSON_GetObjectItem(im->comps, name))
		return 0;
	if ((rc = check_runnable(im, name, t)) < 0)
		return rc;
	memset(&tk, 0, sizeof tk);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", name);
	ins = cJSON_AddArrayToObject(c, "inputs");
	outs = cJSON_AddArrayToObject(c, "outputs");
	info = cJSON_CreateObject();
	pmap = cJSON_AddObjectToObject(info, "params");
	amap = cJSON_AddObjectToObject(info, "arts");
	paths = cJSON_CreateObject();   /* output path -> output name */

	cJSON_ArrayForEach(v, get2(t, "inputs", "parameters")) {
		const char *n = str_of(v, "name");
		cJSON *in;

		if (!n)
			continue;
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "name", n);
		if (cJSON_GetObjectItem(v, "value")) {
			char *d = scalar_text(cJSON_GetObjectItem(v, "value"));

			cJSON_AddStringToObject(in, "default", d ? d : "");
			free(d);
		}
		cJSON_AddItemToArray(ins, in);
		tok_add(&tk, kf_xasprintf("{{inputs.parameters.%s}}", n), "inputValue", n);
	}
	cJSON_ArrayForEach(v, get2(t, "inputs", "artifacts")) {
		const char *n = str_of(v, "name"), *path = str_of(v, "path");
		const char *raw = str_of(cJSON_GetObjectItem(v, "raw"), "data");
		cJSON *in;

		if (!n || !path)
			continue;
		in = cJSON_CreateObject();
		/* An artifact input shares its name space with the parameters. */
		cJSON_AddStringToObject(in, "name", n);
		if (raw)
			cJSON_AddStringToObject(in, "default", raw);
		else if (cJSON_GetObjectItem(v, "optional") && cJSON_IsTrue(cJSON_GetObjectItem(v, "optional")))
			cJSON_AddBoolToObject(in, "optional", true);
		cJSON_AddItemToArray(ins, in);
		tok_add(&tk, kf_xstrdup(path), "inputPath", n);
		tok_add(&tk, kf_xasprintf("{{inputs.artifacts.%s.path}}", n), "inputPath", n);
	}
	/* Outputs: a parameter and an artifact at the same path are one output. */
	for (int pass = 0; pass < 2; pass++) {
		const char *what = pass == 0 ? "parameters" : "artifacts";

		cJSON_ArrayForEach(v, get2(t, "outputs", what)) {
			const char *n = str_of(v, "name");
			const char *path = pass == 0 ? str_of(cJSON_GetObjectItem(v, "valueFrom"), "path") :
				str_of(v, "path");
			const char *have;

			if (!n)
				continue;
			if (!path) {
				rc = fail(im, name, "outputs", "output %s \"%s\" has no path: only outputs "
					  "read from files can be collected locally", pass ? "artifact" : "parameter", n);
				goto out;
			}
			have = str_of(paths, path);
			if (!have) {
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "name", n);
				cJSON_AddItemToArray(outs, o);
				cJSON_AddStringToObject(paths, path, n);
				tok_add(&tk, kf_xstrdup(path), "outputPath", str_of(paths, path));
				if (pass == 1)
					tok_add(&tk, kf_xasprintf("{{outputs.artifacts.%s.path}}", n), "outputPath",
						str_of(paths, path));
				else
					tok_add(&tk, kf_xasprintf("{{outputs.parameters.%s.path}}", n),
						"outputPath", str_of(paths, path));
				have = str_of(paths, path);
			}
			cJSON_AddStringToObject(pass == 0 ? pmap : amap, n, have);
		}
	}
	globals = cJSON_AddObjectToObject(info, "globals");
	add_globals(&tk, ctr, globals);
	tk.used = kf_xcalloc(tk.n + 1, sizeof *tk.used);
	impl = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "implementation"), "container");
	{
		char *img = scalar_text(cJSON_GetObjectItem(ctr, "image"));

		cJSON_AddItemToObject(impl, "image", to_placeholder(&tk, img ? img : ""));
		free(img);
	}
	if (cJSON_GetObjectItem(ctr, "command"))
		cJSON_AddItemToObject(impl, "command", ph_list(&tk, cJSON_GetObjectItem(ctr, "command")));
	if (cJSON_GetObjectItem(ctr, "args"))
		cJSON_AddItemToObject(impl, "args", ph_list(&tk, cJSON_GetObjectItem(ctr, "args")));
	if (cJSON_GetArraySize(cJSON_GetObjectItem(ctr, "env")) > 0) {
		cJSON *env = cJSON_AddObjectToObject(impl, "env");

		cJSON_ArrayForEach(v, cJSON_GetObjectItem(ctr, "env")) {
			char *val = scalar_text(cJSON_GetObjectItem(v, "value"));

			if (str_of(v, "name"))
				cJSON_AddItemToObject(env, str_of(v, "name"), to_placeholder(&tk, val ? val : ""));
			free(val);
		}
	}
	/* Workflow variables used in the container become inputs the step sets. */
	cJSON_ArrayForEach(v, globals) {
		cJSON *in = cJSON_CreateObject();

		cJSON_AddStringToObject(in, "name", v->string);
		cJSON_AddItemToArray(ins, in);
	}
	/* An output path the program is never told cannot be remapped. */
	for (size_t i = 0; i < tk.n; i++) {
		if (!strcmp(tk.v[i].kind, "outputPath") && tk.v[i].text[0] == '/' && !tk.used[i]) {
			bool other = false;

			for (size_t j = 0; j < tk.n; j++)
				if (j != i && tk.used[j] && !strcmp(tk.v[j].kind, "outputPath") &&
				    !strcmp(tk.v[j].name, tk.v[i].name))
					other = true;
			if (!other) {
				rc = fail(im, name, "outputs", "output \"%s\": its path \"%s\" appears in neither "
					  "command nor args, so it cannot be remapped to a local path",
					  tk.v[i].name, tk.v[i].text);
				goto out;
			}
		}
	}
	cJSON_AddItemToObject(im->comps, name, c);
	cJSON_AddItemToObject(im->tinfo, name, info);
	c = NULL;
	info = NULL;
	rc = 0;
out:
	cJSON_Delete(c);
	cJSON_Delete(info);
	cJSON_Delete(paths);
	tokens_release(&tk);
	return rc;
}

/* ---- DAG templates -> steps ------------------------------------------------ */

static int process_dag(struct imp *im, struct scope *s, const cJSON *t);

/* kf text for task T's output (kind "params" or "arts") in scope s. */
static int task_output(struct imp *im, const struct scope *s, const char *task, const char *kind,
		       const char *name, struct kf_buf *out)
{
	const cJSON *entry = cJSON_GetObjectItem(s->tasks, task);
	const char *step = str_of(entry, "step"), *text;

	if (!entry)
		return fail(im, s->tmpl, "dag", "task \"%s\" is not in this dag (or depends on itself)", task);
	if (step) {
		const char *out_name = str_of(get2(cJSON_GetObjectItem(im->tinfo, str_of(entry, "template")),
						   kind, name), name);

		out_name = str_of(cJSON_GetObjectItem(cJSON_GetObjectItem(im->tinfo, str_of(entry, "template")),
						      kind), name);
		if (!out_name)
			return fail(im, s->tmpl, "dag", "task \"%s\" has no output %s \"%s\"", task,
				    !strcmp(kind, "params") ? "parameter" : "artifact", name);
		kf_buf_printf(out, "{{steps.%s.outputs.%s}}", step, out_name);
		return 0;
	}
	text = str_of(get2(entry, "outputs", kind), name);
	if (!text)
		return fail(im, s->tmpl, "dag", "dag task \"%s\" has no output \"%s\"", task, name);
	kf_buf_adds(out, text);
	return 0;
}

/* Argo "{{...}}" references in text -> kf template text. */
static int xlate(struct imp *im, const struct scope *s, const char *text, char **out)
{
	struct kf_buf b = KF_BUF_INIT;
	const char *p = text;
	int rc = 0;

	*out = NULL;
	while (!rc && *p) {
		const char *open = strstr(p, "{{"), *close;
		char *ex;

		if (!open) {
			kf_buf_adds(&b, p);
			break;
		}
		close = strstr(open + 2, "}}");
		if (!close) {
			kf_buf_adds(&b, p);
			break;
		}
		kf_buf_add(&b, p, (size_t)(open - p));
		ex = trim_dup(open + 2, (size_t)(close - open - 2));
		if (kf_str_starts(ex, "inputs.parameters.")) {
			const char *v = str_of(s->inputs, ex + 18);

			if (!v)
				rc = fail(im, s->tmpl, "inputs", "no input parameter \"%s\"", ex + 18);
			else
				kf_buf_adds(&b, v);
		} else if (kf_str_starts(ex, "inputs.artifacts.")) {
			const char *v = str_of(s->arts, ex + 17);

			if (!v)
				rc = fail(im, s->tmpl, "inputs", "no input artifact \"%s\"", ex + 17);
			else
				kf_buf_adds(&b, v);
		} else if (kf_str_starts(ex, "tasks.")) {
			/* tasks.T.outputs.parameters.P / tasks.T.outputs.artifacts.A */
			char *task = kf_xstrdup(ex + 6), *rest = strstr(task, ".outputs.");

			if (rest && kf_str_starts(rest, ".outputs.parameters.")) {
				*rest = '\0';
				rc = task_output(im, s, task, "params", rest + 20, &b);
			} else if (rest && kf_str_starts(rest, ".outputs.artifacts.")) {
				*rest = '\0';
				rc = task_output(im, s, task, "arts", rest + 19, &b);
			} else {
				rc = fail(im, s->tmpl, "dag", "unsupported reference \"{{%s}}\"", ex);
			}
			free(task);
		} else if (kf_str_starts(ex, "workflow.parameters.")) {
			kf_buf_printf(&b, "{{params.%s}}", ex + 20);
		} else if (!strcmp(ex, "item") || kf_str_starts(ex, "item.")) {
			kf_buf_printf(&b, "{{%s}}", ex);
		} else if (!strcmp(ex, "workflow.name") || !strcmp(ex, "workflow.uid")) {
			kf_buf_adds(&b, "{{run.id}}");
		} else if (!strcmp(ex, "workflow.status")) {
			kf_buf_adds(&b, "{{run.status}}");
		} else {
			rc = fail(im, s->tmpl, NULL, "\"{{%s}}\" has no local meaning", ex);
		}
		free(ex);
		p = close + 2;
	}
	if (rc)
		kf_buf_release(&b);
	else
		*out = b.data ? kf_buf_detach(&b) : kf_xstrdup("");
	return rc;
}

/* The names of the tasks of this dag that task waits for. */
static void task_deps(const cJSON *task, const cJSON *tasks, struct kf_strv *deps)
{
	const cJSON *d;
	char *all = cJSON_PrintUnformatted(cJSON_GetObjectItem(task, "arguments"));
	const char *when = str_of(task, "when"), *wp = str_of(task, "withParam");
	const char *depends = str_of(task, "depends");
	const cJSON *t;

	cJSON_ArrayForEach(d, cJSON_GetObjectItem(task, "dependencies"))
		if (cJSON_IsString(d) && !kf_strv_has(deps, d->valuestring))
			kf_strv_push(deps, d->valuestring);
	/* Output references and `depends` expressions name tasks too. */
	cJSON_ArrayForEach(t, tasks) {
		const char *n = str_of(t, "name");
		char ref[300];

		if (!n || kf_strv_has(deps, n))
			continue;
		snprintf(ref, sizeof ref, "tasks.%s.", n);
		if ((all && strstr(all, ref)) || (when && strstr(when, ref)) || (wp && strstr(wp, ref)))
			kf_strv_push(deps, n);
		else if (depends) {
			const char *q = depends;
			size_t len = strlen(n);

			while ((q = strstr(q, n))) {
				bool left = q == depends || !(isalnum((unsigned char)q[-1]) || q[-1] == '-');
				bool right = !(isalnum((unsigned char)q[len]) || q[len] == '-');

				if (left && right) {
					kf_strv_push(deps, n);
					break;
				}
				q += len;
			}
		}
	}
	cJSON_free(all);
}

static void add_all(cJSON *arr, const cJSON *from)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, from) {
		const cJSON *w;
		bool have = false;

		cJSON_ArrayForEach(w, arr)
			if (!strcmp(w->valuestring, v->valuestring))
				have = true;
		if (!have)
			cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring));
	}
}

static char *and_when(const char *a, const char *b)
{
	if (!a)
		return b ? kf_xstrdup(b) : NULL;
	if (!b)
		return kf_xstrdup(a);
	return kf_xasprintf("(%s) && (%s)", a, b);
}

static void step_policies(const cJSON *t, cJSON *step)
{
	const cJSON *rs = cJSON_GetObjectItem(t, "retryStrategy");
	const cJSON *ad = cJSON_GetObjectItem(t, "activeDeadlineSeconds");

	if (rs) {
		char *lim = scalar_text(cJSON_GetObjectItem(rs, "limit"));
		const cJSON *bo = cJSON_GetObjectItem(rs, "backoff");
		cJSON *r = cJSON_AddObjectToObject(step, "retries");

		cJSON_AddNumberToObject(r, "limit", lim ? atoi(lim) : 0);
		free(lim);
		if (bo) {
			cJSON *b = cJSON_AddObjectToObject(r, "backoff");
			char *d = scalar_text(cJSON_GetObjectItem(bo, "duration"));
			char *m = scalar_text(cJSON_GetObjectItem(bo, "maxDuration"));
			char *f = scalar_text(cJSON_GetObjectItem(bo, "factor"));

			if (d)
				cJSON_AddStringToObject(b, "duration", d);
			if (f)
				cJSON_AddNumberToObject(b, "factor", atof(f));
			if (m)
				cJSON_AddStringToObject(b, "maxDuration", m);
			free(d);
			free(m);
			free(f);
		}
	}
	if (ad) {
		char *s = scalar_text(ad);

		if (s) {
			char *t2 = kf_xasprintf("%s%s", s, strspn(s, "0123456789") == strlen(s) ? "s" : "");

			cJSON_AddStringToObject(step, "timeout", t2);
			free(t2);
		}
		free(s);
	}
}

/* A step name unique in the spec: the task's, else prefixed by its dag's. */
static char *step_name(struct imp *im, const struct scope *s, const char *task)
{
	char *n = kf_xstrdup(task);

	for (int i = 2; cJSON_GetObjectItem(im->steps, n); i++) {
		free(n);
		n = i == 2 ? kf_xasprintf("%s-%s", s->tmpl, task) : kf_xasprintf("%s-%d", task, i);
	}
	return n;
}

static int process_task(struct imp *im, struct scope *s, const cJSON *task, const cJSON *tasks)
{
	const char *name = str_of(task, "name"), *tname = str_of(task, "template");
	const cJSON *t = tname ? find_template(im, tname) : NULL, *v;
	struct kf_strv deps = KF_STRV_INIT;
	cJSON *after = cJSON_CreateArray(), *params = cJSON_CreateObject(), *arts = cJSON_CreateObject();
	cJSON *loop = NULL, *entry = NULL;
	char *when = NULL, *own_when = NULL;
	int rc = 0;

	if (!name || !t) {
		rc = fail(im, s->tmpl, "dag", "task \"%s\": no template \"%s\"", name ? name : "?",
			  tname ? tname : "?");
		goto out;
	}
	add_all(after, s->after);
	task_deps(task, tasks, &deps);
	for (size_t i = 0; i < deps.n; i++)
		add_all(after, get2(s->tasks, deps.v[i], "steps"));
	if (str_of(task, "when") && (rc = xlate(im, s, str_of(task, "when"), &own_when)) < 0)
		goto out;
	when = and_when(s->when, own_when);
	if (cJSON_GetObjectItem(task, "withItems") || str_of(task, "withParam") ||
	    cJSON_GetObjectItem(task, "withSequence")) {
		if (s->loop || cJSON_GetObjectItem(task, "withSequence")) {
			rc = fail(im, s->tmpl, "dag", "task \"%s\": %s cannot run locally", name,
				  s->loop ? "a loop inside a loop" : "withSequence");
			goto out;
		}
		if (cJSON_GetObjectItem(task, "withItems")) {
			loop = cJSON_Duplicate(cJSON_GetObjectItem(task, "withItems"), true);
		} else {
			char *lt;

			if ((rc = xlate(im, s, str_of(task, "withParam"), &lt)) < 0)
				goto out;
			loop = cJSON_CreateString(lt);
			free(lt);
		}
	} else if (s->loop) {
		loop = cJSON_Duplicate(s->loop, true);
	}
	cJSON_ArrayForEach(v, get2(task, "arguments", "parameters")) {
		char *val = scalar_text(cJSON_GetObjectItem(v, "value")), *x = NULL;

		if (str_of(v, "name") && val && (rc = xlate(im, s, val, &x)) == 0)
			cJSON_AddStringToObject(params, str_of(v, "name"), x);
		free(val);
		free(x);
		if (rc)
			goto out;
	}
	cJSON_ArrayForEach(v, get2(task, "arguments", "artifacts")) {
		const char *from = str_of(v, "from");
		char *x = NULL;

		if (!str_of(v, "name"))
			continue;
		if (from) {
			if ((rc = xlate(im, s, from, &x)) < 0)
				goto out;
			cJSON_AddStringToObject(arts, str_of(v, "name"), x);
			free(x);
		} else if (str_of(cJSON_GetObjectItem(v, "raw"), "data")) {
			cJSON_AddStringToObject(arts, str_of(v, "name"),
						str_of(cJSON_GetObjectItem(v, "raw"), "data"));
		} else {
			rc = fail(im, s->tmpl, "dag", "task \"%s\": artifact \"%s\" comes from a repository "
				  "(s3, gcs, http, ...): only artifacts passed between tasks run locally",
				  name, str_of(v, "name"));
			goto out;
		}
	}
	if (cJSON_GetObjectItem(t, "dag")) {
		struct scope in;
		const cJSON *o;

		memset(&in, 0, sizeof in);
		in.parent = s;
		in.tmpl = tname;
		in.inputs = params;
		in.arts = arts;
		in.when = when;
		in.loop = loop;
		in.after = after;
		in.tasks = cJSON_CreateObject();
		if (cJSON_GetNumberValue(cJSON_GetObjectItem(t, "parallelism")) > 0)
			in.parallelism = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "parallelism"));
		else
			in.parallelism = s->parallelism;
		/* defaults of the dag's own inputs */
		cJSON_ArrayForEach(o, get2(t, "inputs", "parameters")) {
			char *d = scalar_text(cJSON_GetObjectItem(o, "value"));

			if (str_of(o, "name") && d && !cJSON_GetObjectItem(params, str_of(o, "name")))
				cJSON_AddStringToObject(params, str_of(o, "name"), d);
			free(d);
		}
		if (++im->depth > 32) {
			rc = fail(im, tname, "dag", "dags nested deeper than 32");
		} else {
			rc = process_dag(im, &in, t);
		}
		im->depth--;
		if (!rc) {
			cJSON *outs = cJSON_CreateObject(), *op = cJSON_AddObjectToObject(outs, "params");
			cJSON *oa = cJSON_AddObjectToObject(outs, "arts"), *all = cJSON_CreateArray();

			cJSON_ArrayForEach(o, get2(t, "outputs", "parameters")) {
				const char *from = str_of(cJSON_GetObjectItem(o, "valueFrom"), "parameter");
				char *x = NULL;

				if (str_of(o, "name") && from && (rc = xlate(im, &in, from, &x)) == 0)
					cJSON_AddStringToObject(op, str_of(o, "name"), x);
				free(x);
			}
			cJSON_ArrayForEach(o, get2(t, "outputs", "artifacts")) {
				const char *from = str_of(o, "from");
				char *x = NULL;

				if (str_of(o, "name") && from && (rc = xlate(im, &in, from, &x)) == 0)
					cJSON_AddStringToObject(oa, str_of(o, "name"), x);
				free(x);
			}
			cJSON_ArrayForEach(o, in.tasks)
				add_all(all, cJSON_GetObjectItem(o, "steps"));
			entry = cJSON_CreateObject();
			cJSON_AddStringToObject(entry, "dag", tname);
			cJSON_AddItemToObject(entry, "steps", all);
			cJSON_AddItemToObject(entry, "outputs", outs);
		}
		cJSON_Delete(in.tasks);
		if (rc)
			goto out;
	} else {
		cJSON *step = cJSON_CreateObject(), *a = NULL;
		char *sname;

		if ((rc = component(im, tname, t)) < 0) {
			cJSON_Delete(step);
			goto out;
		}
		sname = step_name(im, s, name);
		cJSON_AddStringToObject(step, "component", tname);
		cJSON_ArrayForEach(v, get2(im->tinfo, tname, "globals")) {
			if (!a)
				a = cJSON_AddObjectToObject(step, "args");
			cJSON_AddStringToObject(a, v->string, v->valuestring);
		}
		cJSON_ArrayForEach(v, params) {
			if (!a)
				a = cJSON_AddObjectToObject(step, "args");
			cJSON_AddStringToObject(a, v->string, v->valuestring);
		}
		cJSON_ArrayForEach(v, arts) {
			if (!a)
				a = cJSON_AddObjectToObject(step, "args");
			cJSON_AddStringToObject(a, v->string, v->valuestring);
		}
		if (cJSON_GetArraySize(after) > 0)
			cJSON_AddItemToObject(step, "after", cJSON_Duplicate(after, true));
		if (when)
			cJSON_AddStringToObject(step, "when", when);
		if (loop) {
			cJSON_AddItemToObject(step, "parallelFor", cJSON_Duplicate(loop, true));
			if (s->parallelism > 0)
				cJSON_AddNumberToObject(step, "parallelism", s->parallelism);
		}
		step_policies(t, step);
		cJSON_AddItemToObject(im->steps, sname, step);
		entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "step", sname);
		cJSON_AddStringToObject(entry, "template", tname);
		cJSON_AddItemToObject(entry, "steps", cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItem(entry, "steps"), cJSON_CreateString(sname));
		free(sname);
	}
	cJSON_AddItemToObject(s->tasks, name, entry);
	entry = NULL;
out:
	cJSON_Delete(entry);
	cJSON_Delete(after);
	cJSON_Delete(params);
	cJSON_Delete(arts);
	cJSON_Delete(loop);
	kf_strv_release(&deps);
	free(when);
	free(own_when);
	return rc;
}

/* Tasks in an order where each comes after the tasks it depends on. */
static int process_dag(struct imp *im, struct scope *s, const cJSON *t)
{
	const cJSON *tasks = get2(t, "dag", "tasks"), *task;
	size_t n = (size_t)cJSON_GetArraySize(tasks), done = 0;
	bool *is_done = kf_xcalloc(n + 1, sizeof *is_done);
	int rc = 0;

	if (!cJSON_IsArray(tasks) || n == 0) {
		free(is_done);
		return fail(im, str_of(t, "name"), "dag", "dag has no tasks");
	}
	while (!rc && done < n) {
		bool progress = false;
		size_t i = 0;

		cJSON_ArrayForEach(task, tasks) {
			struct kf_strv deps = KF_STRV_INIT;
			bool ready = true;

			if (is_done[i]) {
				i++;
				continue;
			}
			task_deps(task, tasks, &deps);
			for (size_t d = 0; d < deps.n; d++)
				if (!cJSON_GetObjectItem(s->tasks, deps.v[d]))
					ready = false;
			kf_strv_release(&deps);
			if (ready) {
				if ((rc = process_task(im, s, task, tasks)) < 0)
					break;
				is_done[i] = true;
				done++;
				progress = true;
			}
			i++;
		}
		if (!rc && !progress)
			rc = fail(im, str_of(t, "name"), "dag", "tasks depend on each other in a cycle, "
				  "or on a task that does not exist");
	}
	free(is_done);
	return rc;
}

/* A workflow parameter a loop iterates over (withParam) is a JSON list;
 * so is one whose default is one. Everything else is a string. */
static const char *param_type(const cJSON *wspec, const char *name, const char *def)
{
	char *ref = kf_xasprintf("{{workflow.parameters.%s}}", name);
	char *all = cJSON_PrintUnformatted(cJSON_GetObjectItem(wspec, "templates"));
	const char *p = all;
	bool loop = false;
	cJSON *j = def ? cJSON_Parse(def) : NULL;

	while (p && (p = strstr(p, "\"withParam\":\"")) != NULL) {
		p += 13;
		if (!strncmp(p, ref, strlen(ref)))
			loop = true;
	}
	if (cJSON_IsArray(j))
		loop = true;
	cJSON_Delete(j);
	cJSON_free(all);
	free(ref);
	return loop ? "JsonArray" : "String";
}

static void pipeline_name(const cJSON *wf, struct kf_buf *out)
{
	const char *n = str_of(cJSON_GetObjectItem(wf, "metadata"), "name");
	size_t len;

	if (!n)
		n = str_of(cJSON_GetObjectItem(wf, "metadata"), "generateName");
	if (!n || !*n)
		n = "pipeline";
	for (const char *p = n; *p && out->len < 63; p++) {
		char c = (char)tolower((unsigned char)*p);

		kf_buf_addc(out, isalnum((unsigned char)c) ? c : '-');
	}
	len = out->len;
	while (len && out->data[len - 1] == '-')
		out->data[--len] = '\0';
	out->len = len;
	if (!len)
		kf_buf_adds(out, "pipeline");
}

int kf_argo_import(const char *file, const char *yaml, size_t len, struct kf_buf *spec,
		   struct kf_err *err)
{
	struct kf_ydoc doc;
	struct imp im;
	struct scope top;
	struct kf_buf name = KF_BUF_INIT;
	cJSON *wf = NULL, *out = NULL, *params, *sp;
	const cJSON *wspec, *v, *entry;
	const char *ename, *exit_name;
	char *text;
	int rc;

	memset(&doc, 0, sizeof doc);
	memset(&im, 0, sizeof im);
	memset(&top, 0, sizeof top);
	if ((rc = kf_yaml_load(&doc, file, yaml, len, err)) < 0)
		return rc;
	im.file = file;
	im.err = err;
	wf = doc.root ? kf_ynode_to_json(doc.root) : NULL;
	wspec = cJSON_GetObjectItem(wf, "spec");
	im.y_templates = doc.root ? kf_ynode_get(kf_ynode_get(doc.root, "spec"), "templates") : NULL;
	if (!kf_str_eq(str_of(wf, "kind"), "Workflow") || !wspec) {
		rc = kf_err_set(err, KF_EINPUT, "%s: not an Argo Workflow (kind: Workflow with a spec)", file);
		goto out;
	}
	im.templates = cJSON_GetObjectItem(wspec, "templates");
	ename = str_of(wspec, "entrypoint");
	entry = ename ? find_template(&im, ename) : NULL;
	if (!entry) {
		rc = kf_err_set(err, KF_EINPUT, "%s: spec.entrypoint names no template", file);
		goto out;
	}
	if (cJSON_GetObjectItem(wspec, "volumeClaimTemplates") ||
	    cJSON_GetArraySize(cJSON_GetObjectItem(wspec, "volumes")) > 0) {
		const char *f = cJSON_GetObjectItem(wspec, "volumeClaimTemplates") ? "volumeClaimTemplates" : "volumes";
		const struct kf_ynode *y = kf_ynode_get(kf_ynode_get(doc.root, "spec"), f);

		rc = kf_err_at(err, KF_EINPUT, file, y ? y->line : 0, y ? y->col : 0,
			       "spec.%s: volumes (PersistentVolumeClaims and others) cannot be mounted "
			       "locally", f);
		goto out;
	}
	top.inputs = cJSON_CreateObject();
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "apiVersion", "kf/v1");
	cJSON_AddStringToObject(out, "kind", "Pipeline");
	pipeline_name(wf, &name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "metadata"), "name", kf_buf_str(&name));
	sp = cJSON_AddObjectToObject(out, "spec");
	params = cJSON_CreateObject();
	cJSON_ArrayForEach(v, get2(wspec, "arguments", "parameters")) {
		cJSON *pdef;
		char *val;

		if (!str_of(v, "name"))
			continue;
		pdef = cJSON_AddObjectToObject(params, str_of(v, "name"));
		val = scalar_text(cJSON_GetObjectItem(v, "value"));
		cJSON_AddStringToObject(pdef, "type", param_type(wspec, str_of(v, "name"), val));
		if (val)
			cJSON_AddStringToObject(pdef, "default", val);
		free(val);
		/* The entrypoint dag reads workflow parameters as its inputs. */
		val = kf_xasprintf("{{params.%s}}", str_of(v, "name"));
		cJSON_AddStringToObject(top.inputs, str_of(v, "name"), val);
		free(val);
	}
	if (cJSON_GetArraySize(params) > 0)
		cJSON_AddItemToObject(sp, "params", params);
	else
		cJSON_Delete(params);
	im.comps = cJSON_AddObjectToObject(sp, "components");
	im.steps = cJSON_AddObjectToObject(sp, "steps");
	im.tinfo = cJSON_CreateObject();
	top.tmpl = ename;
	top.arts = cJSON_CreateObject();
	top.after = cJSON_CreateArray();
	top.tasks = cJSON_CreateObject();
	if (cJSON_GetObjectItem(entry, "dag")) {
		rc = process_dag(&im, &top, entry);
	} else {
		/* A workflow of one container template: one step. */
		cJSON *fake = cJSON_CreateObject(), *arr = cJSON_CreateArray();

		cJSON_AddStringToObject(fake, "name", ename);
		cJSON_AddStringToObject(fake, "template", ename);
		cJSON_AddItemToArray(arr, fake);
		rc = process_task(&im, &top, fake, arr);
		cJSON_Delete(arr);
	}
	if (rc)
		goto out;
	exit_name = str_of(wspec, "onExit");
	if (exit_name) {
		const cJSON *et = find_template(&im, exit_name);
		cJSON *st;

		if (!et || !cJSON_GetObjectItem(et, "container")) {
			rc = kf_err_set(err, KF_EINPUT, "%s: spec.onExit \"%s\" must name a container template",
					file, exit_name);
			goto out;
		}
		if ((rc = component(&im, exit_name, et)) < 0)
			goto out;
		st = cJSON_AddObjectToObject(sp, "onExit");
		cJSON_AddStringToObject(st, "component", exit_name);
		if (cJSON_GetArraySize(get2(im.tinfo, exit_name, "globals")) > 0)
			cJSON_AddItemToObject(st, "args",
					      cJSON_Duplicate(get2(im.tinfo, exit_name, "globals"), true));
		step_policies(et, st);
	}
	text = cJSON_Print(out);
	kf_buf_adds(spec, text);
	kf_buf_addc(spec, '\n');
	cJSON_free(text);
out:
	cJSON_Delete(top.inputs);
	cJSON_Delete(top.arts);
	cJSON_Delete(top.after);
	cJSON_Delete(top.tasks);
	cJSON_Delete(im.tinfo);
	cJSON_Delete(out);
	cJSON_Delete(wf);
	kf_buf_release(&name);
	kf_ydoc_release(&doc);
	return rc;
}
