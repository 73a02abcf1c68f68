/* kf_argo_emit: compile a kf_pipeline to an Argo Workflow, as KFP v1 does. */
#include "argo/kf_argo_emit.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/kf_expr.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#define LABEL "pipelines.kubeflow.org/"

/* Keys written here are string literals (the "" k below refuses anything
 * else): cJSON keeps them without a copy, one allocation less per member
 * of a tree that has hundreds of thousands. */
static cJSON *cs_item(cJSON *o, const char *k, cJSON *v)
{
	cJSON_AddItemToObjectCS(o, k, v);
	return v;
}

#define ADD_ITEM(o, k, v) cs_item((o), "" k, (v))
#define ADD_STR(o, k, v) cs_item((o), "" k, cJSON_CreateString(v))
#define ADD_NUM(o, k, v) cs_item((o), "" k, cJSON_CreateNumber(v))
#define ADD_BOOL(o, k, v) cs_item((o), "" k, cJSON_CreateBool(v))
#define ADD_OBJ(o, k) cs_item((o), "" k, cJSON_CreateObject())
#define ADD_ARR(o, k) cs_item((o), "" k, cJSON_CreateArray())

/* ---- Python-style JSON ---------------------------------------------- */

static void py_string(struct kf_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	kf_buf_addc(b, '"');
	while (*p) {
		unsigned cp = *p;
		int extra = 0;

		if (cp >= 0x80) {
			if ((cp & 0xe0) == 0xc0) { cp &= 0x1f; extra = 1; }
			else if ((cp & 0xf0) == 0xe0) { cp &= 0x0f; extra = 2; }
			else if ((cp & 0xf8) == 0xf0) { cp &= 0x07; extra = 3; }
			else { cp = 0xfffd; }
			p++;
			while (extra-- > 0 && (*p & 0xc0) == 0x80)
				cp = (cp << 6) | (*p++ & 0x3f);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				kf_buf_printf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
			} else {
				kf_buf_printf(b, "\\u%04x", cp);
			}
			continue;
		}
		switch (cp) {
		case '"': kf_buf_adds(b, "\\\""); break;
		case '\\': kf_buf_adds(b, "\\\\"); break;
		case '\n': kf_buf_adds(b, "\\n"); break;
		case '\r': kf_buf_adds(b, "\\r"); break;
		case '\t': kf_buf_adds(b, "\\t"); break;
		case '\b': kf_buf_adds(b, "\\b"); break;
		case '\f': kf_buf_adds(b, "\\f"); break;
		default:
			if (cp < 0x20)
				kf_buf_printf(b, "\\u%04x", cp);
			else
				kf_buf_addc(b, (char)cp);
		}
		p++;
	}
	kf_buf_addc(b, '"');
}

static int cmp_items(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static void py_json(struct kf_buf *b, const cJSON *j)
{
	const cJSON *c;

	if (cJSON_IsObject(j)) {
		size_t n = 0, i;
		const cJSON **items;

		for (c = j->child; c; c = c->next)
			n++;
		items = kf_xcalloc(n + 1, sizeof *items);
		for (c = j->child, i = 0; c; c = c->next)
			items[i++] = c;
		if (n > 1)
			qsort(items, n, sizeof *items, cmp_items);
		kf_buf_addc(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				kf_buf_adds(b, ", ");
			py_string(b, items[i]->string);
			kf_buf_adds(b, ": ");
			py_json(b, items[i]);
		}
		kf_buf_addc(b, '}');
		free(items);
	} else if (cJSON_IsArray(j)) {
		kf_buf_addc(b, '[');
		for (c = j->child; c; c = c->next) {
			if (c != j->child)
				kf_buf_adds(b, ", ");
			py_json(b, c);
		}
		kf_buf_addc(b, ']');
	} else if (cJSON_IsString(j)) {
		py_string(b, j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;
		char num[64];
		int prec;

		if (v == floor(v) && fabs(v) < 1e16) {
			kf_buf_printf(b, "%.0f", v);
			return;
		}
		for (prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof num, "%.*g", prec, v);
			if (strtod(num, NULL) == v)
				break;
		}
		kf_buf_adds(b, num);
	} else if (cJSON_IsBool(j)) {
		kf_buf_adds(b, cJSON_IsTrue(j) ? "true" : "false");
	} else {
		kf_buf_adds(b, "null");
	}
}

char *kf_argo_pyjson(const cJSON *j)
{
	struct kf_buf b = KF_BUF_INIT;

	py_json(&b, j);
	return kf_buf_detach(&b);
}

/* ---- names ---------------------------------------------------------- */

/* Output and argument names keep case and "_", other runs become "-"
 * (KFP's sanitize_k8s_name with allow_capital_underscore). */
static char *io_name(const char *s)
{
	struct kf_buf b = KF_BUF_INIT;
	bool dash = false;

	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || *s == '_' || *s == '-') {
			kf_buf_addc(&b, *s);
			dash = false;
		} else if (!dash) {
			kf_buf_addc(&b, '-');
			dash = true;
		}
	}
	return b.data ? kf_buf_detach(&b) : kf_xstrdup("x");
}

/* File names under /tmp/inputs and /tmp/outputs: runs of other characters
 * become "_". */
static char *file_name(const char *s)
{
	struct kf_buf b = KF_BUF_INIT;
	bool us = false;

	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || *s == '_') {
			kf_buf_addc(&b, *s);
			us = false;
		} else if (!us) {
			kf_buf_addc(&b, '_');
			us = true;
		}
	}
	return b.data ? kf_buf_detach(&b) : kf_xstrdup("x");
}

static char *out_name(const struct kf_step *s, const struct kf_io *o)
{
	char *n = io_name(o->name), *r = kf_xasprintf("%s-%s", s->name, n);

	free(n);
	return r;
}

/* A set of template names, to keep generated names unique. */
struct nameset {
	char **keys;
	size_t cap, n;
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static bool nameset_has(const struct nameset *s, const char *k)
{
	size_t i;

	if (!s->cap)
		return false;
	for (i = hash_str(k) & (s->cap - 1); s->keys[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->keys[i], k))
			return true;
	return false;
}

static void nameset_add(struct nameset *s, const char *k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		struct nameset old = *s;

		s->cap = old.cap ? old.cap * 2 : 64;
		s->keys = kf_xcalloc(s->cap, sizeof *s->keys);
		s->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.keys[i]) {
				size_t j = hash_str(old.keys[i]) & (s->cap - 1);

				while (s->keys[j])
					j = (j + 1) & (s->cap - 1);
				s->keys[j] = old.keys[i];
				s->n++;
			}
		free(old.keys);
	}
	for (i = hash_str(k) & (s->cap - 1); s->keys[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->keys[i], k))
			return;
	s->keys[i] = kf_xstrdup(k);
	s->n++;
}

static void nameset_release(struct nameset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->keys[i]);
	free(s->keys);
}

/* A name not used yet: base, else base-2, base-3, ... */
static char *unique(struct nameset *used, const char *base)
{
	char *n = kf_xstrdup(base);
	int k = 2;

	while (nameset_has(used, n)) {
		free(n);
		n = kf_xasprintf("%s-%d", base, k++);
	}
	nameset_add(used, n);
	return n;
}

/* ---- sources: what a template needs from its caller ------------------- */

enum src_kind { SRC_PARAM, SRC_OUT_PARAM, SRC_OUT_ART, SRC_ITEM };

struct src {
	enum src_kind kind;
	char *name;           /* the Argo parameter/artifact name */
	size_t step;          /* OUT_*: producer */
	const char *key;      /* ITEM: key, NULL for the whole item */
};

struct srcset {
	struct src *v;
	size_t n, cap;
};

static void srcset_add(struct srcset *set, enum src_kind kind, char *name, size_t step, const char *key)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].kind == kind && !strcmp(set->v[i].name, name)) {
			free(name);
			return;
		}
	KF_GROW(set->v, set->cap, set->n + 1);
	set->v[set->n++] = (struct src){ kind, name, step, key };
}

static void srcset_release(struct srcset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->v[i].name);
	free(set->v);
	memset(set, 0, sizeof *set);
}

static int cmp_src(const void *a, const void *b)
{
	return strcmp(((const struct src *)a)->name, ((const struct src *)b)->name);
}

/* ---- the emitter ------------------------------------------------------ */

struct plan {
	char *tmpl;          /* container template name */
	char *outer;         /* the task at the top DAG: a wrapper or the step */
	char *cond;          /* condition-N, or NULL */
	char *loop;          /* for-loop-N, or NULL */
	char *item_base;     /* loop item parameter name */
	bool loop_outer;     /* the loop wraps the condition (when uses {{item}}) */
};

struct tmpl_entry {
	char *name;
	cJSON *t;
};

struct comp_slot {
	const struct kf_component *c;
};

struct emitter {
	const struct kf_pipeline *p;
	struct plan *plans;
	bool **out_param;        /* [step][output] consumed as a value */
	struct nameset used;
	struct tmpl_entry *tmpls;
	size_t n_tmpls, cap_tmpls;
	int counter;
	const char *top;         /* the DAG holding the steps */
	struct srcset top_params;
	/* per component (index in p->components): its component_spec and
	 * component_ref annotations, serialised once however many steps use it */
	struct comp_slot *comps;
	const char **spec_json, **ref_json;   /* held by the first template's nodes */
};

static void add_template(struct emitter *em, const char *name, cJSON *t)
{
	KF_GROW(em->tmpls, em->cap_tmpls, em->n_tmpls + 1);
	em->tmpls[em->n_tmpls].name = kf_xstrdup(name);
	em->tmpls[em->n_tmpls++].t = t;
}

static char *item_name(const struct plan *pl, const char *key)
{
	return key ? kf_xasprintf("%s-subvar-%s", pl->item_base, key) : kf_xstrdup(pl->item_base);
}

/* The sources one template's references need. value: consumed as a value
 * (parameters); otherwise a single output reference travels as an artifact. */
static void tmpl_sources(struct emitter *em, const struct kf_step *s, const struct kf_tmpl *t,
			 bool as_artifact, struct srcset *set)
{
	const struct kf_pipeline *p = em->p;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct kf_ref *r = &t->parts[i];

		switch (r->kind) {
		case KF_REF_PARAM:
			srcset_add(set, SRC_PARAM, kf_xstrdup(p->params[r->index].name), 0, NULL);
			break;
		case KF_REF_OUTPUT: {
			const struct kf_step *d = &p->steps[r->index];
			char *n = out_name(d, &d->component->outputs[r->output]);

			if (as_artifact) {
				srcset_add(set, SRC_OUT_ART, n, r->index, NULL);
			} else {
				srcset_add(set, SRC_OUT_PARAM, n, r->index, NULL);
				em->out_param[r->index][r->output] = true;
			}
			break;
		}
		case KF_REF_ITEM:
			srcset_add(set, SRC_ITEM, item_name(&em->plans[s - p->steps], r->name), 0, r->name);
			break;
		default:
			break;
		}
	}
}

static bool is_exit(const struct emitter *em, const struct kf_step *s)
{
	return s == em->p->on_exit;
}

static void container_sources(struct emitter *em, const struct kf_step *s, struct srcset *set)
{
	const struct kf_component *c = s->component;
	size_t i;

	for (i = 0; i < s->n_args; i++) {
		const struct kf_arg *a = &s->args[i];
		unsigned uses = c->inputs[a->index].uses;

		if (uses & KF_USE_VALUE)
			tmpl_sources(em, s, &a->value, false, set);
		if (uses & KF_USE_PATH)
			tmpl_sources(em, s, &a->value, kf_tmpl_is_single(&a->value, KF_REF_OUTPUT), set);
	}
}

/* Render a template as a container template sees it. */
static void render_container(struct emitter *em, const struct kf_step *s, const struct kf_tmpl *t,
			     struct kf_buf *b)
{
	const struct kf_pipeline *p = em->p;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct kf_ref *r = &t->parts[i];
		char *n;

		switch (r->kind) {
		case KF_REF_TEXT:
			kf_buf_adds(b, r->text);
			break;
		case KF_REF_PARAM:
			kf_buf_printf(b, is_exit(em, s) ? "{{workflow.parameters.%s}}" : "{{inputs.parameters.%s}}",
				      p->params[r->index].name);
			break;
		case KF_REF_OUTPUT:
			n = out_name(&p->steps[r->index], &p->steps[r->index].component->outputs[r->output]);
			kf_buf_printf(b, "{{inputs.parameters.%s}}", n);
			free(n);
			break;
		case KF_REF_ITEM:
			n = item_name(&em->plans[s - p->steps], r->name);
			kf_buf_printf(b, "{{inputs.parameters.%s}}", n);
			free(n);
			break;
		case KF_REF_RUN_ID:
			kf_buf_adds(b, "{{workflow.uid}}");
			break;
		case KF_REF_RUN_NAME:
			kf_buf_adds(b, "{{workflow.name}}");
			break;
		case KF_REF_RUN_STATUS:
			kf_buf_adds(b, "{{workflow.status}}");
			break;
		}
	}
}

struct expand_ctx {
	char **values;
	char **in_paths;
	char **out_paths;
};

static const char *cb_value(void *ctx, size_t i)
{
	return ((struct expand_ctx *)ctx)->values[i];
}

static const char *cb_in_path(void *ctx, size_t i)
{
	return ((struct expand_ctx *)ctx)->in_paths[i];
}

static const char *cb_out_path(void *ctx, size_t i)
{
	return ((struct expand_ctx *)ctx)->out_paths[i];
}

static cJSON *str_array(const struct kf_strv *sv)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

static cJSON *named(const char *name)
{
	cJSON *o = cJSON_CreateObject();

	ADD_STR(o, "name", name);
	return o;
}

static void go_duration(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

static void add_pyjson(cJSON *obj, const char *key, const cJSON *j)
{
	char *s = kf_argo_pyjson(j);

	cJSON_AddStringToObject(obj, key, s);
	free(s);
}

static int cmp_comp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct comp_slot *)a)->c, y = (uintptr_t)((const struct comp_slot *)b)->c;

	return x < y ? -1 : x > y;
}

/* c's slot in em->comps (sorted by address: inline components make as many
 * components as steps, so no linear search), or n_components. */
static size_t component_index(const struct emitter *em, const struct kf_component *c)
{
	struct comp_slot key = { c }, *hit;

	hit = bsearch(&key, em->comps, em->p->n_components, sizeof *em->comps, cmp_comp);
	return hit ? (size_t)(hit - em->comps) : em->p->n_components;
}

/* The component_spec and component_ref annotations of c. The first
 * template of a component owns the strings; the others reference them
 * (cJSON_CreateStringReference), so a component used by 10,000 steps is
 * serialised and stored once. The tree must be deleted as a whole. */
static void component_annotations(struct emitter *em, const struct kf_component *c, cJSON *ann)
{
	size_t i = component_index(em, c);
	char *spec, *ref_s;
	cJSON *ref, *a, *b;

	if (i < em->p->n_components && em->spec_json[i]) {
		ADD_ITEM(ann, LABEL "component_spec", cJSON_CreateStringReference(em->spec_json[i]));
		ADD_ITEM(ann, LABEL "component_ref", cJSON_CreateStringReference(em->ref_json[i]));
		return;
	}
	spec = kf_argo_pyjson(c->spec);
	ref = cJSON_CreateObject();
	ADD_STR(ref, "digest", c->digest);
	if (c->url)
		ADD_STR(ref, "url", c->url);
	ref_s = kf_argo_pyjson(ref);
	cJSON_Delete(ref);
	a = ADD_STR(ann, LABEL "component_spec", spec);
	b = ADD_STR(ann, LABEL "component_ref", ref_s);
	free(spec);
	free(ref_s);
	if (i < em->p->n_components) {
		em->spec_json[i] = a->valuestring;
		em->ref_json[i] = b->valuestring;
	}
}

static cJSON *template_metadata(struct emitter *em, const struct kf_step *s, char **values)
{
	const struct kf_component *c = s->component;
	cJSON *md = cJSON_CreateObject(), *labels, *ann, *args;
	size_t i;

	labels = ADD_OBJ(md, "labels");
	ADD_STR(labels, LABEL "kfp_sdk_version", KF_ARGO_KFP_SDK_VERSION);
	ADD_STR(labels, LABEL "pipeline-sdk-type", "kfp");
	ADD_STR(labels, LABEL "enable_caching", s->cache ? "true" : "false");
	ann = ADD_OBJ(md, "annotations");
	component_annotations(em, c, ann);
	/* the arguments passed as values, as KFP records them for the UI */
	args = cJSON_CreateObject();
	for (i = 0; i < s->n_args; i++) {
		const struct kf_arg *a = &s->args[i];

		if ((c->inputs[a->index].uses & KF_USE_VALUE) && values[a->index])
			cJSON_AddStringToObject(args, c->inputs[a->index].name, values[a->index]);
	}
	if (args->child)
		add_pyjson(ann, LABEL "arguments.parameters", args);
	cJSON_Delete(args);
	if (!s->cache)
		ADD_STR(ann, LABEL "max_cache_staleness", "P0D");
	return md;
}

static cJSON *resources(const struct kf_step *s)
{
	cJSON *r, *lim, *req;
	char gpu[32];

	if (!s->cpu && !s->memory && !s->gpu)
		return NULL;
	r = cJSON_CreateObject();
	lim = ADD_OBJ(r, "limits");
	if (s->cpu)
		ADD_STR(lim, "cpu", s->cpu);
	if (s->memory)
		ADD_STR(lim, "memory", s->memory);
	if (s->gpu) {
		snprintf(gpu, sizeof gpu, "%d", s->gpu);
		ADD_STR(lim, "nvidia.com/gpu", gpu);
	}
	if (s->cpu || s->memory) {
		req = ADD_OBJ(r, "requests");
		if (s->cpu)
			ADD_STR(req, "cpu", s->cpu);
		if (s->memory)
			ADD_STR(req, "memory", s->memory);
	}
	return r;
}

static cJSON *retry_strategy(const struct kf_retry *r)
{
	cJSON *rs, *b;
	char d[64];

	if (!r->limit)
		return NULL;
	rs = cJSON_CreateObject();
	ADD_NUM(rs, "limit", r->limit);
	if (r->backoff_ms) {
		b = ADD_OBJ(rs, "backoff");
		go_duration(r->backoff_ms, d, sizeof d);
		ADD_STR(b, "duration", d);
		if (r->factor) {
			if (r->factor == floor(r->factor)) {
				ADD_NUM(b, "factor", r->factor);
			} else {
				snprintf(d, sizeof d, "%g", r->factor);
				ADD_STR(b, "factor", d);
			}
		}
		if (r->max_backoff_ms) {
			go_duration(r->max_backoff_ms, d, sizeof d);
			ADD_STR(b, "maxDuration", d);
		}
	}
	return rs;
}

/* {parameters: ps, artifacts: as} with the empty lists left out; NULL (and
 * both freed) when both are empty. */
static cJSON *params_and_artifacts(cJSON *ps, cJSON *as)
{
	cJSON *o;

	if (!ps->child && !as->child) {
		cJSON_Delete(ps);
		cJSON_Delete(as);
		return NULL;
	}
	o = cJSON_CreateObject();
	if (ps->child)
		ADD_ITEM(o, "parameters", ps);
	else
		cJSON_Delete(ps);
	if (as->child)
		ADD_ITEM(o, "artifacts", as);
	else
		cJSON_Delete(as);
	return o;
}

/* Each input's value and path and each output's path, as the container
 * sees them; NULL for an input with neither argument nor default. */
static void expand_ctx_init(struct expand_ctx *ec, struct emitter *em, const struct kf_step *s)
{
	const struct kf_component *c = s->component;
	size_t i;

	ec->values = kf_xcalloc(c->n_inputs + 1, sizeof *ec->values);
	ec->in_paths = kf_xcalloc(c->n_inputs + 1, sizeof *ec->in_paths);
	ec->out_paths = kf_xcalloc(c->n_outputs + 1, sizeof *ec->out_paths);
	for (i = 0; i < c->n_inputs; i++) {
		const struct kf_arg *a = kf_step_arg(s, i);
		char *fn;

		if (a) {
			struct kf_buf b = KF_BUF_INIT;

			render_container(em, s, &a->value, &b);
			ec->values[i] = b.data ? kf_buf_detach(&b) : kf_xstrdup("");
		} else if (c->inputs[i].default_value) {
			ec->values[i] = kf_xstrdup(c->inputs[i].default_value);
		} else {
			continue;
		}
		fn = file_name(c->inputs[i].name);
		ec->in_paths[i] = kf_xasprintf("/tmp/inputs/%s/data", fn);
		free(fn);
	}
	for (i = 0; i < c->n_outputs; i++) {
		char *fn = file_name(c->outputs[i].name);

		ec->out_paths[i] = kf_xasprintf("/tmp/outputs/%s/data", fn);
		free(fn);
	}
}

static void expand_ctx_release(struct expand_ctx *ec, const struct kf_component *c)
{
	size_t i;

	for (i = 0; i < c->n_inputs; i++) {
		free(ec->values[i]);
		free(ec->in_paths[i]);
	}
	for (i = 0; i < c->n_outputs; i++)
		free(ec->out_paths[i]);
	free(ec->values);
	free(ec->in_paths);
	free(ec->out_paths);
}

/* template.container: args, command, env, image, resources. */
static int container_spec(const struct kf_step *s, const struct kf_expand_cb *cb, cJSON **out,
			  struct kf_err *err)
{
	const struct kf_component *c = s->component;
	struct kf_component only_cmd = *c, only_args = *c;
	struct kf_strv argv = KF_STRV_INIT, cmd = KF_STRV_INIT;
	cJSON *ctr = cJSON_CreateObject(), *x;
	char *image = NULL;
	size_t i;
	int rc;

	*out = NULL;
	/* command and args expand separately: Argo keeps them apart */
	only_cmd.n_args = 0;
	only_args.n_command = 0;
	rc = kf_component_expand(&only_cmd, cb, &cmd, err);
	if (!rc)
		rc = kf_component_expand(&only_args, cb, &argv, err);
	if (!rc)
		rc = kf_component_expand_image(c, cb, &image, err);
	if (rc)
		goto out;
	ADD_ITEM(ctr, "args", str_array(&argv));
	if (cmd.n)
		ADD_ITEM(ctr, "command", str_array(&cmd));
	if (c->n_env || s->n_env) {
		cJSON *env = ADD_ARR(ctr, "env");

		for (i = 0; i < c->n_env; i++) {
			char *v = NULL;

			rc = kf_component_expand_env(c, i, cb, &v, err);
			if (rc)
				goto out;
			x = named(c->env[i].name);
			ADD_STR(x, "value", v);
			cJSON_AddItemToArray(env, x);
			free(v);
		}
		for (i = 0; i < s->n_env; i++) {
			x = named(s->env[i].key);
			ADD_STR(x, "value", s->env[i].value);
			cJSON_AddItemToArray(env, x);
		}
	}
	ADD_STR(ctr, "image", image);
	if ((x = resources(s)))
		ADD_ITEM(ctr, "resources", x);
	*out = ctr;
	ctr = NULL;
out:
	if (rc)
		kf_err_prefix(err, "step \"%s\"", s->name);
	cJSON_Delete(ctr);
	free(image);
	kf_strv_release(&argv);
	kf_strv_release(&cmd);
	return rc;
}

/* template.inputs: the parameters its references need, an artifact per
 * file input (from the producer, or raw data for anything else). */
static cJSON *template_inputs(struct emitter *em, const struct kf_step *s, const struct expand_ctx *ec)
{
	const struct kf_component *c = s->component;
	struct srcset needs = { 0 };
	cJSON *ps = cJSON_CreateArray(), *as = cJSON_CreateArray(), *x;
	size_t i;

	container_sources(em, s, &needs);
	if (needs.n > 1)
		qsort(needs.v, needs.n, sizeof *needs.v, cmp_src);
	for (i = 0; i < needs.n; i++)
		if (needs.v[i].kind != SRC_OUT_ART && !(needs.v[i].kind == SRC_PARAM && is_exit(em, s)))
			cJSON_AddItemToArray(ps, named(needs.v[i].name));
	srcset_release(&needs);
	for (i = 0; i < c->n_inputs; i++) {
		const struct kf_arg *a = kf_step_arg(s, i);
		bool from_step = a && kf_tmpl_is_single(&a->value, KF_REF_OUTPUT);
		char *n;

		if (!(c->inputs[i].uses & KF_USE_PATH) || !ec->in_paths[i])
			continue;
		if (from_step) {
			const struct kf_step *d = &em->p->steps[a->value.parts[0].index];

			n = out_name(d, &d->component->outputs[a->value.parts[0].output]);
		} else {
			n = io_name(c->inputs[i].name);
		}
		x = named(n);
		free(n);
		ADD_STR(x, "path", ec->in_paths[i]);
		if (!from_step)
			ADD_STR(ADD_OBJ(x, "raw"), "data", ec->values[i]);
		cJSON_AddItemToArray(as, x);
	}
	return params_and_artifacts(ps, as);
}

/* template.outputs: an artifact per written output, and a parameter too
 * where some step consumes it as a value. */
static cJSON *template_outputs(struct emitter *em, const struct kf_step *s, const struct expand_ctx *ec)
{
	const struct kf_component *c = s->component;
	cJSON *ps = cJSON_CreateArray(), *as = cJSON_CreateArray(), *x;
	size_t i;

	for (i = 0; i < c->n_outputs; i++) {
		char *n;

		if (!(c->outputs[i].uses & KF_USE_PATH))
			continue;
		n = out_name(s, &c->outputs[i]);
		if (!is_exit(em, s) && em->out_param[s - em->p->steps][i]) {
			x = named(n);
			ADD_STR(ADD_OBJ(x, "valueFrom"), "path", ec->out_paths[i]);
			cJSON_AddItemToArray(ps, x);
		}
		x = named(n);
		ADD_STR(x, "path", ec->out_paths[i]);
		cJSON_AddItemToArray(as, x);
		free(n);
	}
	return params_and_artifacts(ps, as);
}

/* The container template of a step. */
static int container_template(struct emitter *em, const struct kf_step *s, const char *name,
			      struct kf_err *err)
{
	struct expand_ctx ec;
	struct kf_expand_cb cb = { &ec, cb_value, cb_in_path, cb_out_path };
	cJSON *t = NULL, *ctr, *x;
	size_t i;
	int rc;

	expand_ctx_init(&ec, em, s);
	rc = container_spec(s, &cb, &ctr, err);
	if (rc)
		goto out;
	t = named(name);
	ADD_ITEM(t, "container", ctr);
	if ((x = template_inputs(em, s, &ec)))
		ADD_ITEM(t, "inputs", x);
	if ((x = template_outputs(em, s, &ec)))
		ADD_ITEM(t, "outputs", x);
	ADD_ITEM(t, "metadata", template_metadata(em, s, ec.values));
	if ((x = retry_strategy(&s->retry)))
		ADD_ITEM(t, "retryStrategy", x);
	if (s->timeout_ms)
		ADD_NUM(t, "activeDeadlineSeconds", (double)((s->timeout_ms + 999) / 1000));
	if (s->n_node_selector) {
		x = ADD_OBJ(t, "nodeSelector");
		for (i = 0; i < s->n_node_selector; i++)
			cJSON_AddStringToObject(x, s->node_selector[i].key, s->node_selector[i].value);
	}
	add_template(em, name, t);
out:
	expand_ctx_release(&ec, s->component);
	return rc;
}

/* ---- DAG tasks ----------------------------------------------------------- */

/* How a source reads at a level: top (the DAG of the steps) or inside a
 * wrapper; loop_here when the task being built is the loop's own. */
static void render_source(struct emitter *em, const struct src *sv, bool top, bool loop_here,
			  struct kf_buf *b, bool artifact)
{
	if (sv->kind == SRC_ITEM && loop_here) {
		kf_buf_printf(b, sv->key ? "{{item.%s}}" : "{{item}}", sv->key ? sv->key : "");
		return;
	}
	if ((sv->kind == SRC_OUT_PARAM || sv->kind == SRC_OUT_ART) && top) {
		kf_buf_printf(b, "{{tasks.%s.outputs.%s.%s}}", em->plans[sv->step].outer,
			      artifact ? "artifacts" : "parameters", sv->name);
		return;
	}
	kf_buf_printf(b, "{{inputs.%s.%s}}", artifact ? "artifacts" : "parameters", sv->name);
}

static cJSON *task_arguments(struct emitter *em, const struct srcset *needs, bool top, bool loop_here)
{
	cJSON *ps = cJSON_CreateArray(), *as = cJSON_CreateArray(), *x;
	struct kf_buf b = KF_BUF_INIT;
	size_t i;

	for (i = 0; i < needs->n; i++) {
		const struct src *sv = &needs->v[i];
		bool art = sv->kind == SRC_OUT_ART;

		kf_buf_reset(&b);
		render_source(em, sv, top, loop_here, &b, art);
		x = named(sv->name);
		cJSON_AddStringToObject(x, art ? "from" : "value", kf_buf_str(&b));
		cJSON_AddItemToArray(art ? as : ps, x);
	}
	kf_buf_release(&b);
	return params_and_artifacts(ps, as);
}

static cJSON *dag_inputs(const struct srcset *needs)
{
	cJSON *ps = cJSON_CreateArray(), *as = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < needs->n; i++)
		cJSON_AddItemToArray(needs->v[i].kind == SRC_OUT_ART ? as : ps, named(needs->v[i].name));
	return params_and_artifacts(ps, as);
}

struct when_ctx {
	struct emitter *em;
	const struct kf_step *s;
	bool top;
	struct srcset *needs;
};

static void when_operand(void *ctx, const struct kf_tmpl *t, struct kf_buf *out)
{
	struct when_ctx *wc = ctx;
	struct srcset one = { 0 };
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct kf_ref *r = &t->parts[i];
		struct kf_tmpl part = { NULL, (struct kf_ref *)r, 1, t->pos };

		if (r->kind == KF_REF_TEXT) {
			kf_buf_adds(out, r->text);
		} else if (r->kind == KF_REF_RUN_ID || r->kind == KF_REF_RUN_NAME) {
			kf_buf_adds(out, r->kind == KF_REF_RUN_ID ? "{{workflow.uid}}" : "{{workflow.name}}");
		} else {
			tmpl_sources(wc->em, wc->s, &part, false, &one);
			render_source(wc->em, &one.v[one.n - 1], wc->top, false, out, false);
			srcset_add(wc->needs, one.v[one.n - 1].kind, kf_xstrdup(one.v[one.n - 1].name),
				   one.v[one.n - 1].step, one.v[one.n - 1].key);
		}
	}
	srcset_release(&one);
}

/* Drop what the top level gets from tasks rather than inputs. */
static void keep_for_level(struct srcset *needs, bool top, bool drop_items)
{
	size_t i, j = 0;

	for (i = 0; i < needs->n; i++) {
		bool drop = (top && (needs->v[i].kind == SRC_OUT_PARAM || needs->v[i].kind == SRC_OUT_ART)) ||
			    (drop_items && needs->v[i].kind == SRC_ITEM);

		if (drop)
			free(needs->v[i].name);
		else
			needs->v[j++] = needs->v[i];
	}
	needs->n = j;
}

static cJSON *task(const char *name, const char *tmpl)
{
	cJSON *t = named(name);

	ADD_STR(t, "template", tmpl);
	return t;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_dependencies(struct emitter *em, const struct kf_step *s, cJSON *t)
{
	const char **names;
	cJSON *deps;
	size_t i;

	if (!s->n_deps)
		return;
	names = kf_xcalloc(s->n_deps, sizeof *names);
	for (i = 0; i < s->n_deps; i++)
		names[i] = em->plans[s->deps[i]].outer;
	if (s->n_deps > 1)
		qsort(names, s->n_deps, sizeof *names, cmp_str);
	deps = ADD_ARR(t, "dependencies");
	for (i = 0; i < s->n_deps; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			cJSON_AddItemToArray(deps, cJSON_CreateString(names[i]));
	free(names);
}

/* Outputs a condition DAG hands up from its step. */
static cJSON *cond_outputs(struct emitter *em, size_t idx)
{
	const struct kf_step *s = &em->p->steps[idx];
	const struct kf_component *c = s->component;
	cJSON *ps = cJSON_CreateArray(), *as = cJSON_CreateArray(), *x;
	size_t i;

	for (i = 0; i < c->n_outputs; i++) {
		char *n, *ref;

		if (!(c->outputs[i].uses & KF_USE_PATH))
			continue;
		n = out_name(s, &c->outputs[i]);
		if (em->out_param[idx][i]) {
			ref = kf_xasprintf("{{tasks.%s.outputs.parameters.%s}}", s->name, n);
			x = named(n);
			ADD_STR(ADD_OBJ(x, "valueFrom"), "parameter", ref);
			cJSON_AddItemToArray(ps, x);
			free(ref);
		}
		ref = kf_xasprintf("{{tasks.%s.outputs.artifacts.%s}}", s->name, n);
		x = named(n);
		ADD_STR(x, "from", ref);
		cJSON_AddItemToArray(as, x);
		free(ref);
		free(n);
	}
	return params_and_artifacts(ps, as);
}

static void copy_needs(struct srcset *dst, const struct srcset *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		srcset_add(dst, src->v[i].kind, kf_xstrdup(src->v[i].name), src->v[i].step, src->v[i].key);
}

/* Emit the step's templates; its top-level task goes to top_tasks. */
static int emit_step(struct emitter *em, size_t idx, cJSON *top_tasks, struct kf_err *err)
{
	const struct kf_step *s = &em->p->steps[idx];
	const struct plan *pl = &em->plans[idx];
	const char *chain[2];
	struct srcset needs = { 0 };
	cJSON *cur;
	size_t n_chain = 0, k, i;
	int rc;

	rc = container_template(em, s, pl->tmpl, err);
	if (rc)
		return rc;
	/* wrappers, innermost first */
	if (pl->loop_outer) {
		if (pl->cond)
			chain[n_chain++] = pl->cond;
		chain[n_chain++] = pl->loop;
	} else {
		if (pl->loop)
			chain[n_chain++] = pl->loop;
		if (pl->cond)
			chain[n_chain++] = pl->cond;
	}
	container_sources(em, s, &needs);
	if (needs.n > 1)
		qsort(needs.v, needs.n, sizeof *needs.v, cmp_src);
	cur = task(s->name, pl->tmpl);
	if (n_chain) {
		cJSON *a = task_arguments(em, &needs, false, false);

		if (a)
			ADD_ITEM(cur, "arguments", a);
	}
	for (k = 0; k < n_chain; k++) {
		bool is_loop = chain[k] == pl->loop, top = k + 1 == n_chain;
		cJSON *dag = named(chain[k]), *outer, *x;
		struct srcset inner = { 0 };
		struct kf_buf b = KF_BUF_INIT;

		copy_needs(&inner, &needs);
		if (is_loop)
			ADD_NUM(dag, "parallelism", s->parallelism);
		if ((x = dag_inputs(&inner)))
			ADD_ITEM(dag, "inputs", x);
		if (!is_loop && !pl->loop && (x = cond_outputs(em, idx)))
			ADD_ITEM(dag, "outputs", x);
		x = ADD_ARR(ADD_OBJ(dag, "dag"), "tasks");
		cJSON_AddItemToArray(x, cur);
		add_template(em, chain[k], dag);

		outer = task(chain[k], chain[k]);
		/* what the wrapper needs, as the enclosing level provides it */
		keep_for_level(&needs, false, is_loop);
		if (is_loop && s->loop != KF_LOOP_LIST) {
			struct when_ctx wc = { em, s, top, &needs };

			when_operand(&wc, &s->loop_ref, &b);
		} else if (!is_loop) {
			struct when_ctx wc = { em, s, top, &needs };

			kf_expr_render(s->when, when_operand, &wc, &b);
			ADD_STR(outer, "when", kf_buf_str(&b));
		}
		if (needs.n > 1)
			qsort(needs.v, needs.n, sizeof *needs.v, cmp_src);
		if (top)
			add_dependencies(em, s, outer);
		if ((x = task_arguments(em, &inner, top, is_loop)))
			ADD_ITEM(outer, "arguments", x);
		if (is_loop && s->loop == KF_LOOP_LIST)
			ADD_ITEM(outer, "withItems", cJSON_Duplicate(s->loop_items, 1));
		else if (is_loop)
			ADD_STR(outer, "withParam", kf_buf_str(&b));
		kf_buf_release(&b);
		srcset_release(&inner);
		cur = outer;
	}
	if (!n_chain) {
		cJSON *a;

		add_dependencies(em, s, cur);
		if ((a = task_arguments(em, &needs, true, false)))
			ADD_ITEM(cur, "arguments", a);
	}
	cJSON_AddItemToArray(top_tasks, cur);
	keep_for_level(&needs, true, true);
	for (i = 0; i < needs.n; i++)
		if (needs.v[i].kind == SRC_PARAM)
			srcset_add(&em->top_params, SRC_PARAM, kf_xstrdup(needs.v[i].name), 0, NULL);
	srcset_release(&needs);
	return 0;
}

/* ---- planning ------------------------------------------------------------ */

static bool expr_uses_item(struct kf_expr *e)
{
	if (!e)
		return false;
	if (e->op == KF_EXPR_OPERAND)
		return kf_tmpl_has(&e->operand, KF_REF_ITEM);
	return expr_uses_item(e->lhs) || expr_uses_item(e->rhs);
}

static char *group_name(struct emitter *em, const char *kind)
{
	char *n = NULL;

	do {
		free(n);
		n = kf_xasprintf("%s-%d", kind, ++em->counter);
	} while (nameset_has(&em->used, n));
	nameset_add(&em->used, n);
	return n;
}

static void plan(struct emitter *em)
{
	const struct kf_pipeline *p = em->p;
	size_t i;

	em->plans = kf_xcalloc(p->n_steps + 1, sizeof *em->plans);
	em->out_param = kf_xcalloc(p->n_steps + 1, sizeof *em->out_param);
	/* the pipeline's DAG and the exit handler keep their names; a step
	 * named like one of them gets NAME-2 for its template (not its task) */
	nameset_add(&em->used, p->name);
	if (p->on_exit)
		nameset_add(&em->used, "exit-handler-1");
	for (i = 0; i < p->n_steps; i++) {
		const char *n = p->steps[i].name;

		em->plans[i].tmpl = nameset_has(&em->used, n) ? unique(&em->used, n) : kf_xstrdup(n);
		nameset_add(&em->used, n);
		nameset_add(&em->used, em->plans[i].tmpl);
		em->out_param[i] = kf_xcalloc(p->steps[i].component->n_outputs + 1, sizeof **em->out_param);
	}
	if (p->on_exit)
		em->counter = 1;    /* exit-handler-1 */
	for (i = 0; i < p->n_steps; i++) {
		const struct kf_step *s = &p->steps[i];
		struct plan *pl = &em->plans[i];

		pl->loop_outer = s->loop != KF_LOOP_NONE && s->when && expr_uses_item(s->when);
		/* groups are numbered outermost first, as KFP numbers them */
		if (s->when && !pl->loop_outer)
			pl->cond = group_name(em, "condition");
		if (s->loop != KF_LOOP_NONE) {
			const struct kf_ref *r = s->loop_ref.parts;

			if (s->loop == KF_LOOP_LIST) {
				pl->item_base = kf_xasprintf("loop-item-param-%d", ++em->counter);
			} else if (s->loop == KF_LOOP_PARAM) {
				pl->item_base = kf_xasprintf("%s-loop-item", p->params[r->index].name);
			} else {
				char *n = out_name(&p->steps[r->index],
						   &p->steps[r->index].component->outputs[r->output]);

				pl->item_base = kf_xasprintf("%s-loop-item", n);
				free(n);
			}
			pl->loop = group_name(em, "for-loop");
		}
		if (s->when && pl->loop_outer)
			pl->cond = group_name(em, "condition");
		pl->outer = kf_xstrdup(pl->loop_outer || !pl->cond ? (pl->loop ? pl->loop : s->name) : pl->cond);
	}
}

static int cmp_tmpl(const void *a, const void *b)
{
	return strcmp(((const struct tmpl_entry *)a)->name, ((const struct tmpl_entry *)b)->name);
}

static int cmp_task(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(cJSON_GetObjectItem(x, "name")->valuestring,
		      cJSON_GetObjectItem(y, "name")->valuestring);
}

static cJSON *sorted_tasks(cJSON *tasks)
{
	size_t n = (size_t)cJSON_GetArraySize(tasks), i;
	cJSON **v = kf_xcalloc(n + 1, sizeof *v), *out = cJSON_CreateArray();

	for (i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(tasks, 0);
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_task);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(out, v[i]);
	free(v);
	cJSON_Delete(tasks);
	return out;
}

static cJSON *pipeline_spec(const struct kf_pipeline *p)
{
	cJSON *ps = cJSON_CreateObject(), *ins;
	size_t i;

	if (p->description)
		ADD_STR(ps, "description", p->description);
	if (p->n_params) {
		ins = ADD_ARR(ps, "inputs");
		for (i = 0; i < p->n_params; i++) {
			const struct kf_param *pm = &p->params[i];
			cJSON *in = named(pm->name);

			if (pm->default_value) {
				ADD_STR(in, "default", pm->default_value);
				ADD_BOOL(in, "optional", 1);
			}
			if (pm->type)
				ADD_STR(in, "type", pm->type);
			if (pm->description)
				ADD_STR(in, "description", pm->description);
			cJSON_AddItemToArray(ins, in);
		}
	}
	ADD_STR(ps, "name", p->name);
	return ps;
}

static void emitter_release(struct emitter *em)
{
	size_t i;

	for (i = 0; em->plans && i < em->p->n_steps; i++) {
		free(em->plans[i].tmpl);
		free(em->plans[i].outer);
		free(em->plans[i].cond);
		free(em->plans[i].loop);
		free(em->plans[i].item_base);
		free(em->out_param[i]);
	}
	free(em->plans);
	free(em->out_param);
	for (i = 0; i < em->n_tmpls; i++) {
		free(em->tmpls[i].name);
		cJSON_Delete(em->tmpls[i].t);
	}
	free(em->tmpls);
	free(em->spec_json);   /* the strings are the tree's */
	free(em->ref_json);
	free(em->comps);
	nameset_release(&em->used);
	srcset_release(&em->top_params);
}

static cJSON *param_inputs(const struct srcset *params)
{
	cJSON *in = cJSON_CreateObject(), *ps = ADD_ARR(in, "parameters");
	size_t i;

	for (i = 0; i < params->n; i++)
		cJSON_AddItemToArray(ps, named(params->v[i].name));
	return in;
}

int kf_argo_emit(const struct kf_pipeline *p, const struct kf_argo_emit_opts *opts, cJSON **out,
		 struct kf_err *err)
{
	struct emitter em = { .p = p };
	cJSON *wf = NULL, *md, *ann, *spec, *tmpls, *tasks, *dag, *x, *params;
	char *exit_tmpl = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	em.spec_json = kf_xcalloc(p->n_components + 1, sizeof *em.spec_json);
	em.ref_json = kf_xcalloc(p->n_components + 1, sizeof *em.ref_json);
	em.comps = kf_xcalloc(p->n_components + 1, sizeof *em.comps);
	for (i = 0; i < p->n_components; i++)
		em.comps[i].c = p->components[i];
	if (p->n_components > 1)
		qsort(em.comps, p->n_components, sizeof *em.comps, cmp_comp);
	plan(&em);
	/* first pass: which outputs are consumed as values */
	for (i = 0; i < p->n_steps; i++) {
		struct srcset scratch = { 0 };
		struct kf_buf b = KF_BUF_INIT;
		struct when_ctx wc = { &em, &p->steps[i], false, &scratch };

		container_sources(&em, &p->steps[i], &scratch);
		if (p->steps[i].when)
			kf_expr_render(p->steps[i].when, when_operand, &wc, &b);
		if (p->steps[i].loop == KF_LOOP_OUTPUT)
			when_operand(&wc, &p->steps[i].loop_ref, &b);
		kf_buf_release(&b);
		srcset_release(&scratch);
	}
	em.top = p->on_exit ? "exit-handler-1" : p->name;
	tasks = cJSON_CreateArray();
	for (i = 0; i < p->n_steps; i++) {
		rc = emit_step(&em, i, tasks, err);
		if (rc) {
			cJSON_Delete(tasks);
			goto out;
		}
	}
	if (em.top_params.n > 1)
		qsort(em.top_params.v, em.top_params.n, sizeof *em.top_params.v, cmp_src);
	dag = named(em.top);
	if (em.top_params.n)
		ADD_ITEM(dag, "inputs", param_inputs(&em.top_params));
	ADD_ITEM(ADD_OBJ(dag, "dag"), "tasks", sorted_tasks(tasks));
	add_template(&em, em.top, dag);
	if (p->on_exit) {
		cJSON *root = named(p->name), *t = task("exit-handler-1", "exit-handler-1");

		if (em.top_params.n) {
			ADD_ITEM(root, "inputs", param_inputs(&em.top_params));
			x = ADD_ARR(ADD_OBJ(t, "arguments"), "parameters");
			for (i = 0; i < em.top_params.n; i++) {
				cJSON *a = named(em.top_params.v[i].name);
				char *v = kf_xasprintf("{{inputs.parameters.%s}}", em.top_params.v[i].name);

				ADD_STR(a, "value", v);
				free(v);
				cJSON_AddItemToArray(x, a);
			}
		}
		x = ADD_ARR(ADD_OBJ(root, "dag"), "tasks");
		cJSON_AddItemToArray(x, t);
		add_template(&em, p->name, root);
		exit_tmpl = unique(&em.used, p->on_exit->name);
		rc = container_template(&em, p->on_exit, exit_tmpl, err);
		if (rc)
			goto out;
	}
	if (em.n_tmpls > 1)
		qsort(em.tmpls, em.n_tmpls, sizeof *em.tmpls, cmp_tmpl);

	wf = cJSON_CreateObject();
	ADD_STR(wf, "apiVersion", "argoproj.io/v1alpha1");
	ADD_STR(wf, "kind", "Workflow");
	md = ADD_OBJ(wf, "metadata");
	{
		char *gn = kf_xasprintf("%s-", p->name);

		ADD_STR(md, "generateName", gn);
		free(gn);
	}
	ann = ADD_OBJ(md, "annotations");
	ADD_STR(ann, LABEL "kfp_sdk_version", KF_ARGO_KFP_SDK_VERSION);
	if (opts && opts->timestamp_ms) {
		char ts[64];

		kf_time_rfc3339(opts->timestamp_ms, ts, sizeof ts);
		ADD_STR(ann, LABEL "pipeline_compilation_time", ts);
	}
	x = pipeline_spec(p);
	add_pyjson(ann, LABEL "pipeline_spec", x);
	cJSON_Delete(x);
	ADD_STR(ADD_OBJ(md, "labels"), LABEL "kfp_sdk_version",
				KF_ARGO_KFP_SDK_VERSION);
	spec = ADD_OBJ(wf, "spec");
	ADD_STR(spec, "entrypoint", p->name);
	tmpls = ADD_ARR(spec, "templates");
	for (i = 0; i < em.n_tmpls; i++) {
		cJSON_AddItemToArray(tmpls, em.tmpls[i].t);
		em.tmpls[i].t = NULL;
	}
	if (exit_tmpl)
		ADD_STR(spec, "onExit", exit_tmpl);
	params = ADD_ARR(ADD_OBJ(spec, "arguments"), "parameters");
	for (i = 0; i < p->n_params; i++) {
		cJSON *a = named(p->params[i].name);

		if (p->params[i].value)
			ADD_STR(a, "value", p->params[i].value);
		cJSON_AddItemToArray(params, a);
	}
	ADD_STR(spec, "serviceAccountName", "pipeline-runner");
	*out = wf;
out:
	free(exit_tmpl);
	emitter_release(&em);
	return rc;
}

/* ---- the workflow as YAML ---------------------------------------------- *
 * The workflow tree of a large pipeline holds hundreds of thousands of cJSON
 * nodes that live exactly as long as this call; allocating them one by one
 * and freeing them one by one cost more than building and writing them
 * (glibc consolidating its fast bins over a 100 MB heap). While the tree is
 * built and written, cJSON allocates from an arena instead, and the arena
 * goes back in one piece. cJSON's hooks are process-wide: nothing allocated
 * with cJSON outside this window is freed inside it, or the other way round
 * (kf_argo_emit only builds, and the tree never leaves this function), and
 * kf emits from one thread. */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

static struct arena_block *arena;

#define ARENA_BLOCK (1u << 20)

static void *arena_alloc(size_t n)
{
	struct arena_block *b = arena;
	void *ptr;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = kf_xmalloc(sizeof *b + cap);
		b->next = arena;
		b->used = 0;
		b->cap = cap;
		arena = b;
	}
	ptr = (char *)b->data + b->used;
	b->used += n;
	return ptr;
}

static void arena_free(void *ptr)
{
	(void)ptr;   /* everything goes back in arena_end */
}

static void arena_begin(void)
{
	cJSON_Hooks hooks = { arena_alloc, arena_free };

	cJSON_InitHooks(&hooks);
}

static void arena_end(void)
{
	cJSON_InitHooks(NULL);
	while (arena) {
		struct arena_block *next = arena->next;

		free(arena);
		arena = next;
	}
}

int kf_argo_emit_yaml(const struct kf_pipeline *p, const struct kf_argo_emit_opts *opts,
		      struct kf_buf *out, struct kf_err *err)
{
	cJSON *wf;
	int rc;

	arena_begin();
	rc = kf_argo_emit(p, opts, &wf, err);
	if (rc)
		goto out;
	/* a step's templates take 1-2 KiB: grow once rather than by doubling */
	kf_buf_grow(out, 4096 + 2048 * (p->n_steps + 1));
	rc = kf_yaml_emit(wf, out, err);
	/* no cJSON_Delete(wf): walking the tree would free nothing, the arena
	 * goes back whole */
out:
	arena_end();
	return rc;
}
