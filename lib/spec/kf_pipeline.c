/* kf_pipeline: load and validate a kf/v1 Pipeline spec. */
#include "spec/kf_spec_load.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "spec/kf_expr.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"
#include "util/kf_time.h"

#define COMPONENT_MAX_SIZE (4u << 20)

/* ---- a small string -> index hash map (names are borrowed) ------------- */

struct hmap {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

struct kf_step_index {
	struct hmap steps, params, components;
	struct kf_strv broken;    /* components that failed to load: no follow-on errors */
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static void hmap_put(struct hmap *m, const char *key, size_t val);

static void hmap_grow(struct hmap *m)
{
	struct hmap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->keys = kf_xcalloc(m->cap, sizeof *m->keys);
	m->vals = kf_xcalloc(m->cap, sizeof *m->vals);
	m->n = 0;
	for (i = 0; i < old.cap; i++)
		if (old.keys[i])
			hmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

static void hmap_put(struct hmap *m, const char *key, size_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		hmap_grow(m);
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key)) {
			m->vals[i] = val;
			return;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

static long hmap_get(const struct hmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return -1;
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key))
			return (long)m->vals[i];
	return -1;
}

static void hmap_release(struct hmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* ---- loader helpers --------------------------------------------------- */

struct kf_pos kf_loader_pos(const char *file, const struct kf_ynode *n)
{
	struct kf_pos pos = { file, n ? n->line : 0, n ? n->col : 0 };

	return pos;
}

void kf_loader_add(struct kf_loader *ld, const struct kf_err *err)
{
	kf_errlist_add(ld->errs, err);
	if (err->code == KF_EENV || err->code == KF_EIO)
		ld->code = err->code;
	else if (!ld->code)
		ld->code = err->code ? err->code : KF_EINPUT;
}

void kf_loader_error(struct kf_loader *ld, const char *file, const struct kf_ynode *n,
		     const char *fmt, ...)
{
	struct kf_err err;
	va_list ap;

	kf_err_clear(&err);
	va_start(ap, fmt);
	kf_err_vset(&err, KF_EINPUT, fmt, ap);
	va_end(ap);
	if (file)
		snprintf(err.file, sizeof err.file, "%s", file);
	if (n) {
		err.line = n->line;
		err.col = n->col;
	}
	kf_loader_add(ld, &err);
}

static void error_at(struct kf_loader *ld, struct kf_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_at(struct kf_loader *ld, struct kf_pos pos, const char *fmt, ...)
{
	struct kf_err err;
	va_list ap;

	kf_err_clear(&err);
	va_start(ap, fmt);
	kf_err_vset(&err, KF_EINPUT, fmt, ap);
	va_end(ap);
	if (pos.file)
		snprintf(err.file, sizeof err.file, "%s", pos.file);
	err.line = pos.line;
	err.col = pos.col;
	kf_loader_add(ld, &err);
}

const char *kf_loader_file(struct kf_loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < ld->p->files.n; i++)
		if (!strcmp(ld->p->files.v[i], name))
			return ld->p->files.v[i];
	kf_strv_push(&ld->p->files, name);
	return ld->p->files.v[ld->p->files.n - 1];
}

void kf_loader_check_keys(struct kf_loader *ld, const char *file, const struct kf_ynode *map,
			  const char *const *allowed, const char *what)
{
	struct hmap seen = { 0 };
	size_t i, j, n_allowed = 0;

	if (!map || map->kind != KF_Y_MAP)
		return;
	while (allowed && allowed[n_allowed])
		n_allowed++;
	for (i = 0; i < map->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(map, i);
		long first = hmap_get(&seen, k->value);

		if (first >= 0) {
			kf_loader_error(ld, file, k, "duplicate key \"%s\" in %s (first at line %d)",
					k->value, what, kf_ynode_key(map, (size_t)first)->line);
			continue;
		}
		hmap_put(&seen, k->value, i);
		if (!allowed)
			continue;
		for (j = 0; j < n_allowed; j++)
			if (!strcmp(allowed[j], k->value))
				break;
		if (j == n_allowed) {
			const char *s = kf_str_suggest(k->value, (const char **)allowed, n_allowed);

			if (s)
				kf_loader_error(ld, file, k, "unknown key \"%s\" in %s (did you mean \"%s\"?)",
						k->value, what, s);
			else
				kf_loader_error(ld, file, k, "unknown key \"%s\" in %s", k->value, what);
		}
	}
	hmap_release(&seen);
}

/* Every map key must be a scalar: the rest of the loader reads keys as
 * strings. Reports each other key; true when the tree is usable. */
static bool scalar_keys(struct kf_loader *ld, const char *file, const struct kf_ynode *n)
{
	bool ok = true;
	size_t i;

	if (!n || n->kind == KF_Y_SCALAR)
		return true;
	for (i = 0; i < n->n; i++) {
		const struct kf_ynode *it = n->kind == KF_Y_MAP ? kf_ynode_val(n, i) : n->items[i];

		if (n->kind == KF_Y_MAP && !kf_ynode_is_scalar(kf_ynode_key(n, i))) {
			kf_loader_error(ld, file, kf_ynode_key(n, i), "a map key must be a string, not a %s",
					kf_ynode_kind_name(kf_ynode_key(n, i)));
			ok = false;
			continue;
		}
		ok &= scalar_keys(ld, file, it);
	}
	return ok;
}

/* Position of a scalar's first character of content (after a quote). */
static struct kf_pos content_pos(const char *file, const struct kf_ynode *n)
{
	struct kf_pos pos = kf_loader_pos(file, n);

	if (n->quoted && n->value && !memchr(n->value, '\n', n->len))
		pos.col++;
	return pos;
}

static void suggest_msg(char *buf, size_t size, const char *word, const char **names, size_t n)
{
	const char *s = kf_str_suggest(word, names, n);

	if (s)
		snprintf(buf, size, " (did you mean \"%s\"?)", s);
	else
		buf[0] = '\0';
}

/* ---- types ------------------------------------------------------------ */

enum kf_type kf_type_of(const char *name)
{
	static const struct { const char *name; enum kf_type t; } names[] = {
		{ "String", KF_TYPE_STRING }, { "str", KF_TYPE_STRING },
		{ "Integer", KF_TYPE_INTEGER }, { "int", KF_TYPE_INTEGER },
		{ "Float", KF_TYPE_FLOAT }, { "double", KF_TYPE_FLOAT },
		{ "Bool", KF_TYPE_BOOL }, { "Boolean", KF_TYPE_BOOL },
		{ "JsonArray", KF_TYPE_JSONARRAY }, { "List", KF_TYPE_JSONARRAY },
		{ "JsonObject", KF_TYPE_JSONOBJECT }, { "Dict", KF_TYPE_JSONOBJECT },
	};
	size_t i;

	if (!name || !*name)
		return KF_TYPE_NONE;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(names[i].name, name))
			return names[i].t;
	return KF_TYPE_OTHER;
}

const char *kf_type_name(enum kf_type t)
{
	switch (t) {
	case KF_TYPE_STRING: return "String";
	case KF_TYPE_INTEGER: return "Integer";
	case KF_TYPE_FLOAT: return "Float";
	case KF_TYPE_BOOL: return "Bool";
	case KF_TYPE_JSONARRAY: return "JsonArray";
	case KF_TYPE_JSONOBJECT: return "JsonObject";
	default: return "";
	}
}

bool kf_type_check_value(enum kf_type t, const char *value)
{
	cJSON *j;
	long l;
	double d;
	bool ok;

	switch (t) {
	case KF_TYPE_INTEGER:
		return kf_str_to_long(value, &l);
	case KF_TYPE_FLOAT:
		return kf_str_to_double(value, &d);
	case KF_TYPE_BOOL:
		return !strcasecmp(value, "true") || !strcasecmp(value, "false");
	case KF_TYPE_JSONARRAY:
	case KF_TYPE_JSONOBJECT:
		j = cJSON_Parse(value);
		ok = t == KF_TYPE_JSONARRAY ? cJSON_IsArray(j) : cJSON_IsObject(j);
		cJSON_Delete(j);
		return ok;
	default:
		return true;
	}
}

/* Both declare a type and they differ? */
static bool types_clash(enum kf_type ak, const char *an, enum kf_type bk, const char *bn)
{
	if (ak == KF_TYPE_NONE || bk == KF_TYPE_NONE)
		return false;
	if (ak == KF_TYPE_OTHER && bk == KF_TYPE_OTHER)
		return strcasecmp(an, bn) != 0;
	return ak != bk;
}

static const char *type_text(enum kf_type k, const char *name)
{
	return k == KF_TYPE_OTHER ? name : kf_type_name(k);
}

/* DNS-1123 label: what Argo accepts as a template and task name. */
static bool dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static bool identifier(const char *s, bool dash)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && !(dash && *s == '-'))
			return false;
	return true;
}

/* Text of a scalar, or JSON of a list/map. */
static char *node_text(const struct kf_ynode *n)
{
	cJSON *j;
	char *s;

	if (kf_ynode_is_scalar(n))
		return kf_xstrndup(n->value, n->len);
	j = kf_ynode_to_json(n);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

/* ---- parameters -------------------------------------------------------- */

static void parse_params(struct kf_loader *ld, const char *file, const struct kf_ynode *params)
{
	static const char *const keys[] = { "type", "default", "description", NULL };
	static const char *const types[] = { "String", "Integer", "Float", "Bool", "JsonArray",
					     "JsonObject" };
	struct kf_pipeline *p = ld->p;
	size_t i;

	if (!params)
		return;
	if (params->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, params, "params must be a map of NAME: {type, default}, not a %s",
				kf_ynode_kind_name(params));
		return;
	}
	kf_loader_check_keys(ld, file, params, NULL, "params");
	p->params = kf_xcalloc(params->n ? params->n : 1, sizeof *p->params);
	for (i = 0; i < params->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(params, i), *v = kf_ynode_val(params, i), *t, *d;
		struct kf_param *pm;
		char sugg[128];

		if (hmap_get(&p->index->params, k->value) >= 0)
			continue;   /* duplicate: reported by check_keys */
		if (!identifier(k->value, true)) {
			kf_loader_error(ld, file, k, "invalid parameter name \"%s\" (use letters, digits, \"_\" and \"-\")",
					k->value);
			continue;
		}
		pm = &p->params[p->n_params];
		pm->name = kf_xstrdup(k->value);
		pm->pos = kf_loader_pos(file, k);
		hmap_put(&p->index->params, pm->name, p->n_params++);
		if (v->kind != KF_Y_MAP) {
			if (!(kf_ynode_is_scalar(v) && kf_ynode_scalar_type(v) == KF_YS_NULL))
				kf_loader_error(ld, file, v, "parameter \"%s\" must be a map {type, default, description}, not a %s",
						pm->name, kf_ynode_kind_name(v));
			continue;
		}
		kf_loader_check_keys(ld, file, v, keys, "parameter");
		t = kf_ynode_get(v, "type");
		if (t) {
			pm->type = node_text(t);
			pm->kind = kf_type_of(pm->type);
			if (pm->kind == KF_TYPE_OTHER || !kf_ynode_is_scalar(t)) {
				suggest_msg(sugg, sizeof sugg, pm->type, (const char **)types, 6);
				kf_loader_error(ld, file, t, "parameter \"%s\": unknown type \"%s\"%s", pm->name,
						pm->type, sugg);
				pm->kind = KF_TYPE_NONE;
			}
		}
		d = kf_ynode_get(v, "default");
		if (d && !(kf_ynode_is_scalar(d) && kf_ynode_scalar_type(d) == KF_YS_NULL && !d->quoted)) {
			pm->default_value = node_text(d);
			if (!kf_type_check_value(pm->kind, pm->default_value))
				kf_loader_error(ld, file, d, "parameter \"%s\": default \"%s\" is not a valid %s",
						pm->name, pm->default_value, kf_type_name(pm->kind));
			else
				pm->value = kf_xstrdup(pm->default_value);
		}
		d = kf_ynode_get(v, "description");
		if (d)
			pm->description = node_text(d);
	}
}

static void apply_overrides(struct kf_loader *ld)
{
	struct kf_pipeline *p = ld->p;
	const struct kf_strv *ov = ld->opts ? ld->opts->overrides : NULL;
	size_t i, j;

	for (i = 0; ov && i < ov->n; i++) {
		const char *kv = ov->v[i], *eq = strchr(kv, '=');
		struct kf_err err;
		char *name;
		long idx;

		kf_err_clear(&err);
		if (!eq || eq == kv) {
			kf_err_set(&err, KF_EUSAGE, "-p \"%s\": expected NAME=VALUE", kv);
			kf_loader_add(ld, &err);
			continue;
		}
		name = kf_xstrndup(kv, (size_t)(eq - kv));
		idx = kf_pipeline_param(p, name);
		if (idx < 0) {
			const char **names = kf_xcalloc(p->n_params + 1, sizeof *names);
			char sugg[128];

			for (j = 0; j < p->n_params; j++)
				names[j] = p->params[j].name;
			suggest_msg(sugg, sizeof sugg, name, names, p->n_params);
			kf_err_set(&err, KF_EUSAGE, "-p \"%s\": unknown parameter \"%s\"%s", kv, name, sugg);
			kf_loader_add(ld, &err);
			free(names);
		} else if (!kf_type_check_value(p->params[idx].kind, eq + 1)) {
			kf_err_set(&err, KF_EUSAGE, "-p \"%s\": \"%s\" is not a valid %s", kv, eq + 1,
				   kf_type_name(p->params[idx].kind));
			kf_loader_add(ld, &err);
		} else {
			free(p->params[idx].value);
			p->params[idx].value = kf_xstrdup(eq + 1);
		}
		free(name);
	}
	if (ld->opts && ld->opts->require_params)
		for (j = 0; j < p->n_params; j++)
			if (!p->params[j].value)
				error_at(ld, p->params[j].pos,
					 "parameter \"%s\" has no value (no default; give -p %s=VALUE)",
					 p->params[j].name, p->params[j].name);
}

/* ---- components --------------------------------------------------------- */

static bool is_url(const char *ref)
{
	return kf_str_starts(ref, "https://") || kf_str_starts(ref, "http://");
}

/* Read a ref'd component's bytes; path_out names the file errors point at. */
static int read_ref(struct kf_loader *ld, const char *ref, struct kf_buf *text, char **path_out,
		    struct kf_err *err)
{
	char hex[KF_SHA256_HEX_LEN + 1], *dir = NULL, *cache = NULL;
	struct stat st;
	int rc;

	if (!is_url(ref)) {
		*path_out = ref[0] == '/' ? kf_xstrdup(ref)
					  : (strcmp(ld->dir, ".") ? kf_path_join(ld->dir, ref) : kf_xstrdup(ref));
		if (stat(*path_out, &st) == 0 && (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > COMPONENT_MAX_SIZE))
			rc = kf_err_set(err, KF_EINPUT, "\"%s\" is not a component file (not a regular file, "
					"or larger than 4 MiB)", *path_out);
		else
			rc = kf_fs_read_file(*path_out, text, err);
		if (rc)
			err->code = rc = KF_EINPUT;   /* a spec naming a missing file is a spec error */
		return rc;
	}
	if (!kf_str_starts(ref, "https://"))
		return kf_err_set(err, KF_EINPUT, "component URL \"%s\" must use https://", ref);
	kf_sha256_hex(ref, strlen(ref), hex);
	if (ld->opts && ld->opts->store_dir) {
		dir = kf_path_join(ld->opts->store_dir, "cache/components");
		cache = kf_path_join(dir, hex);
		if (kf_fs_exists(cache)) {
			*path_out = cache;
			free(dir);
			return kf_fs_read_file(cache, text, err);
		}
	}
	if (ld->opts && ld->opts->offline) {
		rc = kf_err_set(err, KF_EENV, "component \"%s\" is not in the cache and fetching is off", ref);
		goto out;
	}
	rc = kf_spec_fetch(ref, text, COMPONENT_MAX_SIZE, err);
	if (rc)
		goto out;
	if (cache) {
		/* the cache is an optimisation: a failure to write it is not fatal */
		struct kf_err ignored;

		kf_err_clear(&ignored);
		if (!kf_fs_mkdirs(dir, &ignored))
			kf_fs_write_atomic(cache, text->data ? text->data : "", text->len, &ignored);
		*path_out = cache;
		cache = NULL;
	} else {
		*path_out = kf_xstrdup(ref);
	}
out:
	free(cache);
	free(dir);
	return rc;
}

static struct kf_component *load_ref(struct kf_loader *ld, const char *file, const struct kf_ynode *refn,
				     const char *key)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_ydoc doc = { 0 };
	struct kf_component *c = NULL;
	char *path = NULL;
	struct kf_err err;
	const char *kept;

	kf_err_clear(&err);
	if (!kf_ynode_is_scalar(refn) || !refn->len) {
		kf_loader_error(ld, file, refn, "component \"%s\": ref must be a path or an https:// URL", key);
		return NULL;
	}
	if (read_ref(ld, refn->value, &text, &path, &err)) {
		/* place the error at the ref in the spec */
		struct kf_err at;

		kf_err_clear(&at);
		kf_err_at(&at, err.code, file, refn->line, refn->col, "component \"%s\": %s", key, err.msg);
		kf_loader_add(ld, &at);
		goto out;
	}
	kept = kf_loader_file(ld, path);
	if (kf_yaml_load(&doc, kept, text.data ? text.data : "", text.len, &err)) {
		kf_loader_add(ld, &err);
		goto out;
	}
	if (!scalar_keys(ld, kept, doc.root))
		goto out;
	c = kf_component_parse(ld, kept, doc.root, key, text.data ? text.data : "", text.len);
	if (c)
		c->url = kf_xstrdup(refn->value);
out:
	kf_ydoc_release(&doc);
	kf_buf_release(&text);
	free(path);
	return c;
}

/* A component given as {ref: X} or as a full inline spec. */
static struct kf_component *component_node(struct kf_loader *ld, const char *file,
					   const struct kf_ynode *n, const char *key)
{
	const struct kf_ynode *ref = n->kind == KF_Y_MAP ? kf_ynode_get(n, "ref") : NULL;

	if (ref) {
		if (n->n > 1)
			kf_loader_error(ld, file, n, "component \"%s\": ref cannot be combined with other keys",
					key);
		return load_ref(ld, file, ref, key);
	}
	return kf_component_parse(ld, file, n, key, NULL, 0);
}

static void add_component(struct kf_pipeline *p, struct kf_component *c, size_t *cap)
{
	KF_GROW(p->components, *cap, p->n_components + 1);
	p->components[p->n_components++] = c;
}

/* ---- steps ------------------------------------------------------------ */

struct sparse {
	struct kf_loader *ld;
	const char *file;
	struct kf_step *s;
	char *subject;          /* "step \"NAME\"" or "onExit" */
	size_t *deps;
	size_t n_deps, cap_deps;
	size_t self;            /* index, or (size_t)-1 for onExit */
	bool loop_bad;          /* parallelFor was reported: skip {{item}} checks */
};

static void add_dep(struct sparse *sp, size_t i)
{
	KF_GROW(sp->deps, sp->cap_deps, sp->n_deps + 1);
	sp->deps[sp->n_deps++] = i;
}

static const char **step_names(const struct kf_pipeline *p)
{
	const char **names = kf_xcalloc(p->n_steps + 1, sizeof *names);
	size_t i;

	for (i = 0; i < p->n_steps; i++)
		names[i] = p->steps[i].name;
	return names;
}

static const char **io_names(const struct kf_io *ios, size_t n)
{
	const char **names = kf_xcalloc(n + 1, sizeof *names);
	size_t i;

	for (i = 0; i < n; i++)
		names[i] = ios[i].name;
	return names;
}

/* Look up a step by name for a reference; reports unknown names. */
static long ref_step(struct sparse *sp, struct kf_pos pos, const char *name, const char *in)
{
	struct kf_pipeline *p = sp->ld->p;
	long idx = kf_pipeline_step(p, name);
	char sugg[128];

	if (idx < 0) {
		const char **names = step_names(p);

		suggest_msg(sugg, sizeof sugg, name, names, p->n_steps);
		free(names);
		if (in)
			error_at(sp->ld, pos, "%s: unknown step \"%s\" in \"%s\"%s", sp->subject, name, in, sugg);
		else
			error_at(sp->ld, pos, "%s: unknown step \"%s\" in after%s", sp->subject, name, sugg);
	}
	return idx;
}

static bool loop_has_key(const struct kf_step *s, const char *key)
{
	const cJSON *it;

	if (s->loop != KF_LOOP_LIST)
		return true;   /* items known at run time only */
	cJSON_ArrayForEach(it, s->loop_items)
		if (!cJSON_IsObject(it) || !cJSON_HasObjectItem(it, key))
			return false;
	return true;
}

/* Resolve the references of one template. */
static int resolve_tmpl(struct sparse *sp, struct kf_tmpl *t)
{
	struct kf_pipeline *p = sp->ld->p;
	size_t i, errors = sp->ld->errs->n;
	char sugg[128];

	for (i = 0; i < t->n; i++) {
		struct kf_ref *r = &t->parts[i];
		long idx;

		switch (r->kind) {
		case KF_REF_TEXT:
		case KF_REF_RUN_ID:
		case KF_REF_RUN_NAME:
			break;
		case KF_REF_PARAM:
			idx = kf_pipeline_param(p, r->name);
			if (idx < 0) {
				const char **names = kf_xcalloc(p->n_params + 1, sizeof *names);
				size_t j;

				for (j = 0; j < p->n_params; j++)
					names[j] = p->params[j].name;
				suggest_msg(sugg, sizeof sugg, r->name, names, p->n_params);
				free(names);
				error_at(sp->ld, t->pos, "%s: unknown parameter \"%s\" in \"%s\"%s", sp->subject,
					 r->name, t->raw, sugg);
			} else {
				r->index = (size_t)idx;
			}
			break;
		case KF_REF_OUTPUT: {
			const struct kf_component *c;

			if (sp->s->is_exit) {
				error_at(sp->ld, t->pos, "%s: cannot use step outputs (\"%s\")", sp->subject, t->raw);
				break;
			}
			idx = ref_step(sp, t->pos, r->step, t->raw);
			if (idx < 0)
				break;
			r->index = (size_t)idx;
			if ((size_t)idx == sp->self) {
				error_at(sp->ld, t->pos, "%s: uses its own output in \"%s\"", sp->subject, t->raw);
				break;
			}
			add_dep(sp, (size_t)idx);
			c = p->steps[idx].component;
			if (!c)
				break;
			idx = kf_component_output(c, r->name);
			if (idx < 0) {
				const char **names = io_names(c->outputs, c->n_outputs);

				suggest_msg(sugg, sizeof sugg, r->name, names, c->n_outputs);
				free(names);
				error_at(sp->ld, t->pos, "%s: step \"%s\" has no output \"%s\"%s", sp->subject,
					 r->step, r->name, sugg);
				break;
			}
			r->output = (size_t)idx;
			if (!(c->outputs[idx].uses & KF_USE_PATH))
				error_at(sp->ld, t->pos, "%s: output \"%s\" of step \"%s\" is never written "
					 "(its component has no {outputPath: %s})", sp->subject, r->name, r->step, r->name);
			else if (p->steps[r->index].loop != KF_LOOP_NONE)
				error_at(sp->ld, t->pos, "%s: cannot use output \"%s\" of step \"%s\", which runs in a "
					 "parallelFor", sp->subject, r->name, r->step);
			break;
		}
		case KF_REF_ITEM:
			if (sp->loop_bad)
				break;
			if (sp->s->loop == KF_LOOP_NONE)
				error_at(sp->ld, t->pos, "%s: \"%s\" is used outside a parallelFor", sp->subject, t->raw);
			else if (r->name && !loop_has_key(sp->s, r->name))
				error_at(sp->ld, t->pos, "%s: not every parallelFor item has the key \"%s\"",
					 sp->subject, r->name);
			break;
		case KF_REF_RUN_STATUS:
			if (!sp->s->is_exit)
				error_at(sp->ld, t->pos, "%s: {{run.status}} is only known in onExit", sp->subject);
			break;
		}
	}
	return sp->ld->errs->n > errors ? KF_EINPUT : 0;
}

static int resolve_operand(void *ctx, struct kf_tmpl *t)
{
	resolve_tmpl(ctx, t);
	return 0;
}

static int cmp_arg(const void *a, const void *b)
{
	const struct kf_arg *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void check_arg_type(struct sparse *sp, const struct kf_arg *a)
{
	const struct kf_pipeline *p = sp->ld->p;
	const struct kf_io *in = &sp->s->component->inputs[a->index];
	const struct kf_tmpl *t = &a->value;

	if (kf_tmpl_is_single(t, KF_REF_TEXT)) {
		if (in->kind != KF_TYPE_OTHER && !kf_type_check_value(in->kind, t->parts[0].text))
			error_at(sp->ld, t->pos, "%s: argument \"%s\" for input \"%s\" is not a valid %s",
				 sp->subject, t->parts[0].text, in->name, kf_type_name(in->kind));
	} else if (kf_tmpl_is_single(t, KF_REF_PARAM)) {
		const struct kf_param *pm = &p->params[t->parts[0].index];

		if (types_clash(in->kind, in->type, pm->kind, pm->type))
			error_at(sp->ld, t->pos, "%s: input \"%s\" is %s but parameter \"%s\" is %s", sp->subject,
				 in->name, type_text(in->kind, in->type), pm->name, type_text(pm->kind, pm->type));
	} else if (kf_tmpl_is_single(t, KF_REF_OUTPUT)) {
		const struct kf_step *src = &p->steps[t->parts[0].index];
		const struct kf_io *out;

		if (!src->component || t->parts[0].output >= src->component->n_outputs)
			return;
		out = &src->component->outputs[t->parts[0].output];
		if (types_clash(in->kind, in->type, out->kind, out->type))
			error_at(sp->ld, t->pos, "%s: input \"%s\" is %s but output \"%s\" of step \"%s\" is %s",
				 sp->subject, in->name, type_text(in->kind, in->type), out->name, src->name,
				 type_text(out->kind, out->type));
	}
}

static void parse_args(struct sparse *sp, const struct kf_ynode *args, const struct kf_ynode *at)
{
	struct kf_step *s = sp->s;
	const struct kf_component *c = s->component;
	bool *given = NULL;
	size_t i;

	if (args && args->kind != KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, args, "%s: args must be a map of INPUT: VALUE", sp->subject);
		return;
	}
	if (args) {
		kf_loader_check_keys(sp->ld, sp->file, args, NULL, "args");
		s->args = kf_xcalloc(args->n ? args->n : 1, sizeof *s->args);
	}
	given = kf_xcalloc(c && c->n_inputs ? c->n_inputs : 1, sizeof *given);
	for (i = 0; args && i < args->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(args, i), *v = kf_ynode_val(args, i);
		struct kf_arg *a = &s->args[s->n_args];
		char *text, sugg[128];
		long idx = -1;
		size_t j;

		for (j = 0; j < i; j++)
			if (!strcmp(kf_ynode_key(args, j)->value, k->value))
				break;
		if (j < i)
			continue;   /* duplicate: reported */
		if (c) {
			idx = kf_component_input(c, k->value);
			if (idx < 0) {
				const char **names = io_names(c->inputs, c->n_inputs);

				suggest_msg(sugg, sizeof sugg, k->value, names, c->n_inputs);
				free(names);
				kf_loader_error(sp->ld, sp->file, k, "%s: unknown input \"%s\" of component \"%s\"%s",
						sp->subject, k->value, c->key, sugg);
				continue;
			}
			given[idx] = true;
		}
		if (kf_ynode_is_scalar(v) && kf_ynode_scalar_type(v) == KF_YS_NULL && !v->quoted) {
			kf_loader_error(sp->ld, sp->file, v, "%s: argument \"%s\" has no value", sp->subject,
					k->value);
			continue;
		}
		text = node_text(v);
		a->input = kf_xstrdup(k->value);
		a->pos = kf_loader_pos(sp->file, k);
		if (kf_ynode_is_scalar(v)) {
			struct kf_err err;

			kf_err_clear(&err);
			if (kf_tmpl_parse(&a->value, text, content_pos(sp->file, v), &err)) {
				kf_err_prefix(&err, "%s", sp->subject);
				kf_loader_add(sp->ld, &err);
				kf_tmpl_release(&a->value);
				free(a->input);
				free(text);
				continue;
			}
		} else {
			/* a list or map literal: JSON text, no templates */
			memset(&a->value, 0, sizeof a->value);
			a->value.raw = kf_xstrdup(text);
			a->value.parts = kf_xcalloc(1, sizeof *a->value.parts);
			a->value.parts[0].kind = KF_REF_TEXT;
			a->value.parts[0].text = kf_xstrdup(text);
			a->value.n = 1;
			a->value.pos = kf_loader_pos(sp->file, v);
		}
		free(text);
		a->index = idx < 0 ? 0 : (size_t)idx;
		s->n_args++;
		if (!resolve_tmpl(sp, &a->value) && c)
			check_arg_type(sp, a);
	}
	if (c) {
		if (s->n_args > 1)
			qsort(s->args, s->n_args, sizeof *s->args, cmp_arg);
		for (i = 0; i < c->n_inputs; i++)
			if (!given[i] && !c->inputs[i].default_value && !c->inputs[i].optional)
				kf_loader_error(sp->ld, sp->file, args ? args : at,
						"%s: missing argument for input \"%s\" of component \"%s\"",
						sp->subject, c->inputs[i].name, c->key);
	}
	free(given);
}

static void parse_after(struct sparse *sp, const struct kf_ynode *n)
{
	size_t i, count = n->kind == KF_Y_SEQ ? n->n : 1;

	if (n->kind == KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, n, "%s: after must be a step name or a list of them", sp->subject);
		return;
	}
	for (i = 0; i < count; i++) {
		const struct kf_ynode *e = n->kind == KF_Y_SEQ ? n->items[i] : n;
		long idx;

		if (!kf_ynode_is_scalar(e)) {
			kf_loader_error(sp->ld, sp->file, e, "%s: after must list step names", sp->subject);
			continue;
		}
		kf_strv_push(&sp->s->after, e->value);
		idx = ref_step(sp, kf_loader_pos(sp->file, e), e->value, NULL);
		if (idx < 0)
			continue;
		if ((size_t)idx == sp->self)
			kf_loader_error(sp->ld, sp->file, e, "%s: cannot run after itself", sp->subject);
		else
			add_dep(sp, (size_t)idx);
	}
}

static void parse_loop(struct sparse *sp, const struct kf_ynode *n)
{
	struct kf_step *s = sp->s;
	const struct kf_pipeline *p = sp->ld->p;
	struct kf_err err;

	s->loop_pos = kf_loader_pos(sp->file, n);
	sp->loop_bad = true;
	if (n->kind == KF_Y_SEQ) {
		if (!n->n) {
			kf_loader_error(sp->ld, sp->file, n, "%s: parallelFor list is empty", sp->subject);
			return;
		}
		s->loop = KF_LOOP_LIST;
		s->loop_items = kf_ynode_to_json(n);
		sp->loop_bad = false;
		return;
	}
	kf_err_clear(&err);
	if (!kf_ynode_is_scalar(n) ||
	    kf_tmpl_parse(&s->loop_ref, n->value, content_pos(sp->file, n), &err) ||
	    !(kf_tmpl_is_single(&s->loop_ref, KF_REF_PARAM) || kf_tmpl_is_single(&s->loop_ref, KF_REF_OUTPUT))) {
		kf_tmpl_release(&s->loop_ref);
		kf_loader_error(sp->ld, sp->file, n, "%s: parallelFor must be a list, \"{{params.NAME}}\" "
				"or \"{{steps.STEP.outputs.NAME}}\"", sp->subject);
		return;
	}
	s->loop = kf_tmpl_is_single(&s->loop_ref, KF_REF_PARAM) ? KF_LOOP_PARAM : KF_LOOP_OUTPUT;
	sp->loop_bad = false;
	if (resolve_tmpl(sp, &s->loop_ref))
		return;
	if (s->loop == KF_LOOP_PARAM) {
		const struct kf_param *pm = &p->params[s->loop_ref.parts[0].index];

		if (pm->kind != KF_TYPE_NONE && pm->kind != KF_TYPE_JSONARRAY)
			kf_loader_error(sp->ld, sp->file, n, "%s: parallelFor parameter \"%s\" is %s, not JsonArray",
					sp->subject, pm->name, kf_type_name(pm->kind));
	} else {
		const struct kf_step *src = &p->steps[s->loop_ref.parts[0].index];
		const struct kf_io *out;

		if (!src->component)
			return;
		out = &src->component->outputs[s->loop_ref.parts[0].output];
		if (out->kind != KF_TYPE_NONE && out->kind != KF_TYPE_JSONARRAY)
			kf_loader_error(sp->ld, sp->file, n, "%s: parallelFor output \"%s\" of step \"%s\" is %s, not JsonArray",
					sp->subject, out->name, src->name, type_text(out->kind, out->type));
	}
}

static bool get_int(struct sparse *sp, const struct kf_ynode *n, const char *what, long min, long *out)
{
	if (!kf_ynode_is_scalar(n) || kf_ynode_scalar_type(n) != KF_YS_INT || !kf_str_to_long(n->value, out) ||
	    *out < min || *out > 1000000) {
		kf_loader_error(sp->ld, sp->file, n, "%s: %s must be an integer >= %ld, not \"%s\"", sp->subject,
				what, min, kf_ynode_is_scalar(n) ? n->value : kf_ynode_kind_name(n));
		return false;
	}
	return true;
}

static bool get_duration(struct sparse *sp, const struct kf_ynode *n, const char *what, int64_t *ms)
{
	struct kf_err err;

	kf_err_clear(&err);
	if (!kf_ynode_is_scalar(n) || kf_duration_parse(n->value, ms, &err) || *ms <= 0) {
		kf_loader_error(sp->ld, sp->file, n, "%s: %s: invalid duration \"%s\" (expected e.g. 30s, 10m, 1h30m)",
				sp->subject, what, kf_ynode_is_scalar(n) ? n->value : kf_ynode_kind_name(n));
		return false;
	}
	return true;
}

static void parse_retries(struct sparse *sp, const struct kf_ynode *n)
{
	static const char *const keys[] = { "limit", "backoff", NULL };
	static const char *const bkeys[] = { "duration", "factor", "maxDuration", NULL };
	struct kf_retry *r = &sp->s->retry;
	const struct kf_ynode *v, *b;
	long l;

	if (kf_ynode_is_scalar(n)) {
		if (get_int(sp, n, "retries", 0, &l))
			r->limit = (int)l;
		return;
	}
	if (n->kind != KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, n, "%s: retries must be a number or {limit, backoff}", sp->subject);
		return;
	}
	kf_loader_check_keys(sp->ld, sp->file, n, keys, "retries");
	v = kf_ynode_get(n, "limit");
	if (!v)
		kf_loader_error(sp->ld, sp->file, n, "%s: retries needs a limit", sp->subject);
	else if (get_int(sp, v, "retries limit", 0, &l))
		r->limit = (int)l;
	b = kf_ynode_get(n, "backoff");
	if (!b)
		return;
	if (b->kind != KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, b, "%s: backoff must be a map {duration, factor, maxDuration}",
				sp->subject);
		return;
	}
	kf_loader_check_keys(sp->ld, sp->file, b, bkeys, "backoff");
	if ((v = kf_ynode_get(b, "duration")))
		get_duration(sp, v, "backoff duration", &r->backoff_ms);
	else
		kf_loader_error(sp->ld, sp->file, b, "%s: backoff needs a duration", sp->subject);
	if ((v = kf_ynode_get(b, "factor"))) {
		double f;

		if (!kf_ynode_is_scalar(v) || !kf_str_to_double(v->value, &f) || f < 1 || f > 100)
			kf_loader_error(sp->ld, sp->file, v, "%s: backoff factor must be a number from 1 to 100",
					sp->subject);
		else
			r->factor = f;
	}
	if ((v = kf_ynode_get(b, "maxDuration")))
		get_duration(sp, v, "backoff maxDuration", &r->max_backoff_ms);
}

/* A Kubernetes quantity: a decimal number with an optional suffix. */
static bool quantity(const char *s, bool cpu)
{
	static const char *const mem_suffixes[] = { "", "k", "M", "G", "T", "P", "E", "Ki", "Mi",
						    "Gi", "Ti", "Pi", "Ei", NULL };
	const char *p = s;
	size_t i;
	int digits = 0;

	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (!digits)
		return false;
	if (cpu)
		return !*p || !strcmp(p, "m");
	for (i = 0; mem_suffixes[i]; i++)
		if (!strcmp(p, mem_suffixes[i]))
			return true;
	return false;
}

static void parse_resources(struct sparse *sp, const struct kf_ynode *n)
{
	static const char *const keys[] = { "cpu", "memory", "gpu", NULL };
	struct kf_step *s = sp->s;
	const struct kf_ynode *v;
	long l;

	if (n->kind != KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, n, "%s: resources must be a map {cpu, memory, gpu}", sp->subject);
		return;
	}
	kf_loader_check_keys(sp->ld, sp->file, n, keys, "resources");
	if ((v = kf_ynode_get(n, "cpu"))) {
		if (!kf_ynode_is_scalar(v) || !quantity(v->value, true))
			kf_loader_error(sp->ld, sp->file, v, "%s: invalid cpu quantity \"%s\" (expected e.g. 1, 0.5, 500m)",
					sp->subject, kf_ynode_is_scalar(v) ? v->value : kf_ynode_kind_name(v));
		else
			s->cpu = kf_xstrdup(v->value);
	}
	if ((v = kf_ynode_get(n, "memory"))) {
		if (!kf_ynode_is_scalar(v) || !quantity(v->value, false))
			kf_loader_error(sp->ld, sp->file, v, "%s: invalid memory quantity \"%s\" (expected e.g. 512Mi, 2Gi)",
					sp->subject, kf_ynode_is_scalar(v) ? v->value : kf_ynode_kind_name(v));
		else
			s->memory = kf_xstrdup(v->value);
	}
	if ((v = kf_ynode_get(n, "gpu")) && get_int(sp, v, "gpu", 0, &l))
		s->gpu = (int)l;
}

static void parse_kv(struct sparse *sp, const struct kf_ynode *n, const char *what, bool env,
		     struct kf_kv **out, size_t *count)
{
	size_t i;

	if (n->kind != KF_Y_MAP) {
		kf_loader_error(sp->ld, sp->file, n, "%s: %s must be a map of strings", sp->subject, what);
		return;
	}
	kf_loader_check_keys(sp->ld, sp->file, n, NULL, what);
	*out = kf_xcalloc(n->n ? n->n : 1, sizeof **out);
	for (i = 0; i < n->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(n, i), *v = kf_ynode_val(n, i);

		if (env && !identifier(k->value, false)) {
			kf_loader_error(sp->ld, sp->file, k, "%s: invalid environment variable name \"%s\"",
					sp->subject, k->value);
			continue;
		}
		if (!kf_ynode_is_scalar(v)) {
			kf_loader_error(sp->ld, sp->file, v, "%s: %s value of \"%s\" must be a string", sp->subject,
					what, k->value);
			continue;
		}
		(*out)[*count].key = kf_xstrdup(k->value);
		(*out)[*count].value = kf_xstrndup(v->value, v->len);
		(*out)[*count].pos = kf_loader_pos(sp->file, k);
		(*count)++;
	}
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void parse_step(struct kf_loader *ld, const char *file, const struct kf_ynode *key,
		       const struct kf_ynode *n, struct kf_step *s, size_t self, size_t *comp_cap)
{
	static const char *const keys[] = { "component", "args", "after", "when", "parallelFor",
					    "parallelism", "retries", "timeout", "cache", "resources",
					    "nodeSelector", "env", NULL };
	static const char *const exit_keys[] = { "component", "args", "retries", "timeout", "cache",
						 "resources", "nodeSelector", "env", NULL };
	struct sparse sp = { ld, file, s, NULL, NULL, 0, 0, self, false };
	struct kf_pipeline *p = ld->p;
	const struct kf_ynode *v;
	size_t i, j;
	long l;

	sp.subject = s->is_exit ? kf_xstrdup("onExit") : kf_xasprintf("step \"%s\"", s->name);
	s->cache = true;
	if (n->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, n, "%s must be a map with a component, not a %s", sp.subject,
				kf_ynode_kind_name(n));
		goto out;
	}
	kf_loader_check_keys(ld, file, n, s->is_exit ? exit_keys : keys, sp.subject);
	v = kf_ynode_get(n, "component");
	if (!v) {
		kf_loader_error(ld, file, key, "%s: missing \"component\"", sp.subject);
	} else if (kf_ynode_is_scalar(v)) {
		l = hmap_get(&p->index->components, v->value);
		if (l >= 0) {
			s->component = p->components[l];
		} else if (!kf_strv_has(&p->index->broken, v->value)) {
			const char **names = kf_xcalloc(p->n_components + 1, sizeof *names);
			char sugg[128];
			size_t k = 0;

			for (i = 0; i < p->n_components; i++)
				if (hmap_get(&p->index->components, p->components[i]->key) == (long)i)
					names[k++] = p->components[i]->key;
			suggest_msg(sugg, sizeof sugg, v->value, names, k);
			free(names);
			kf_loader_error(ld, file, v, "%s: unknown component \"%s\"%s", sp.subject, v->value, sugg);
		}
	} else {
		s->component = component_node(ld, file, v, s->name);
		if (s->component)
			add_component(p, s->component, comp_cap);
	}
	s->loop = KF_LOOP_NONE;
	if ((v = kf_ynode_get(n, "parallelFor")))
		parse_loop(&sp, v);
	parse_args(&sp, kf_ynode_get(n, "args"), key);
	if ((v = kf_ynode_get(n, "after")))
		parse_after(&sp, v);
	if ((v = kf_ynode_get(n, "when"))) {
		struct kf_err err;

		kf_err_clear(&err);
		if (!kf_ynode_is_scalar(v) || !v->len) {
			kf_loader_error(ld, file, v, "%s: when must be a condition string", sp.subject);
		} else if (kf_expr_parse(&s->when, v->value, content_pos(file, v), &err)) {
			kf_err_prefix(&err, "%s", sp.subject);
			kf_loader_add(ld, &err);
		} else {
			s->when_raw = kf_xstrdup(v->value);
			s->when_pos = kf_loader_pos(file, v);
			kf_expr_walk(s->when, resolve_operand, &sp);
		}
	}
	if ((v = kf_ynode_get(n, "parallelism"))) {
		if (s->loop == KF_LOOP_NONE)
			kf_loader_error(ld, file, kf_ynode_get(n, "parallelism") ? v : key,
					"%s: parallelism needs a parallelFor", sp.subject);
		else if (get_int(&sp, v, "parallelism", 0, &l))
			s->parallelism = (int)l;
	}
	if ((v = kf_ynode_get(n, "retries")))
		parse_retries(&sp, v);
	if ((v = kf_ynode_get(n, "timeout")))
		get_duration(&sp, v, "timeout", &s->timeout_ms);
	if ((v = kf_ynode_get(n, "cache"))) {
		if (kf_ynode_scalar_type(v) != KF_YS_BOOL)
			kf_loader_error(ld, file, v, "%s: cache must be true or false", sp.subject);
		else
			s->cache = !strcasecmp(v->value, "true");
	}
	if ((v = kf_ynode_get(n, "resources")))
		parse_resources(&sp, v);
	if ((v = kf_ynode_get(n, "nodeSelector")))
		parse_kv(&sp, v, "nodeSelector", false, &s->node_selector, &s->n_node_selector);
	if ((v = kf_ynode_get(n, "env")))
		parse_kv(&sp, v, "env", true, &s->env, &s->n_env);
	/* sorted, unique dependencies */
	if (sp.n_deps > 1)
		qsort(sp.deps, sp.n_deps, sizeof *sp.deps, cmp_size);
	for (i = j = 0; i < sp.n_deps; i++)
		if (!j || sp.deps[j - 1] != sp.deps[i])
			sp.deps[j++] = sp.deps[i];
	s->deps = sp.deps;
	s->n_deps = j;
	sp.deps = NULL;
out:
	free(sp.deps);
	free(sp.subject);
}

/* ---- order and cycles ------------------------------------------------- */

static void report_cycle(struct kf_loader *ld, const bool *done)
{
	struct kf_pipeline *p = ld->p;
	size_t *path = kf_xcalloc(p->n_steps + 1, sizeof *path);
	long *seen = kf_xcalloc(p->n_steps, sizeof *seen);
	struct kf_buf b = KF_BUF_INIT;
	size_t i, n = 0, cur = 0, start, min;

	for (i = 0; i < p->n_steps; i++)
		if (!done[i]) {
			cur = i;
			break;
		}
	/* walk unfinished dependencies until a step repeats */
	while (!seen[cur]) {
		seen[cur] = (long)++n;
		path[n - 1] = cur;
		for (i = 0; i < p->steps[cur].n_deps; i++)
			if (!done[p->steps[cur].deps[i]])
				break;
		cur = p->steps[cur].deps[i];
	}
	start = (size_t)seen[cur] - 1;
	/* path[start..n) is the cycle, each step waiting for the next; print it
	 * in execution order, starting at the step written first */
	min = start;
	for (i = start; i < n; i++)
		if (path[i] < path[min])
			min = i;
	for (i = 0; i <= n - start; i++) {
		size_t k = start + (min - start + (n - start) - i % (n - start)) % (n - start);

		kf_buf_printf(&b, i ? " -> %s" : "%s", p->steps[path[k]].name);
	}
	error_at(ld, p->steps[path[min]].pos, "dependency cycle: %s", kf_buf_str(&b));
	kf_buf_release(&b);
	free(seen);
	free(path);
}

static void order_steps(struct kf_loader *ld)
{
	struct kf_pipeline *p = ld->p;
	size_t *indeg = kf_xcalloc(p->n_steps + 1, sizeof *indeg);
	size_t *users_n = kf_xcalloc(p->n_steps + 1, sizeof *users_n);
	size_t **users = kf_xcalloc(p->n_steps + 1, sizeof *users);
	size_t *caps = kf_xcalloc(p->n_steps + 1, sizeof *caps);
	bool *done = kf_xcalloc(p->n_steps + 1, sizeof *done);
	size_t i, j, head = 0, tail = 0;

	p->order = kf_xcalloc(p->n_steps + 1, sizeof *p->order);
	for (i = 0; i < p->n_steps; i++)
		for (j = 0; j < p->steps[i].n_deps; j++) {
			size_t d = p->steps[i].deps[j];

			KF_GROW(users[d], caps[d], users_n[d] + 1);
			users[d][users_n[d]++] = i;
			indeg[i]++;
		}
	for (i = 0; i < p->n_steps; i++)
		if (!indeg[i])
			p->order[tail++] = i;
	while (head < tail) {
		size_t s = p->order[head++];

		done[s] = true;
		for (j = 0; j < users_n[s]; j++)
			if (!--indeg[users[s][j]])
				p->order[tail++] = users[s][j];
	}
	if (tail < p->n_steps)
		report_cycle(ld, done);
	for (i = 0; i < p->n_steps; i++)
		free(users[i]);
	free(users);
	free(users_n);
	free(caps);
	free(indeg);
	free(done);
}

/* ---- the document ----------------------------------------------------- */

static const struct kf_ynode *required(struct kf_loader *ld, const char *file, const struct kf_ynode *map,
				       const char *key, const char *what)
{
	const struct kf_ynode *v = kf_ynode_get(map, key);

	if (!v)
		kf_loader_error(ld, file, map, "%s: missing required key \"%s\"", what, key);
	return v;
}

static void parse_metadata(struct kf_loader *ld, const char *file, const struct kf_ynode *md)
{
	static const char *const keys[] = { "name", "description", NULL };
	const struct kf_ynode *v;

	if (md->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, md, "metadata must be a map with a name");
		return;
	}
	kf_loader_check_keys(ld, file, md, keys, "metadata");
	v = required(ld, file, md, "name", "metadata");
	if (v && (!kf_ynode_is_scalar(v) || !dns_label(v->value)))
		kf_loader_error(ld, file, v, "invalid pipeline name \"%s\" (use lowercase letters, digits and \"-\", "
				"at most 63)", kf_ynode_is_scalar(v) ? v->value : kf_ynode_kind_name(v));
	else if (v)
		ld->p->name = kf_xstrdup(v->value);
	if ((v = kf_ynode_get(md, "description")))
		ld->p->description = node_text(v);
}

static void parse_steps(struct kf_loader *ld, const char *file, const struct kf_ynode *steps,
			size_t *comp_cap)
{
	struct kf_pipeline *p = ld->p;
	size_t i;

	if (steps->kind != KF_Y_MAP || !steps->n) {
		kf_loader_error(ld, file, steps, "steps must be a map of STEP: {component, args, ...} with at least one step");
		return;
	}
	kf_loader_check_keys(ld, file, steps, NULL, "steps");
	p->steps = kf_xcalloc(steps->n, sizeof *p->steps);
	/* names first: references may point forward */
	for (i = 0; i < steps->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(steps, i);

		if (kf_pipeline_step(p, k->value) >= 0)
			continue;
		if (!dns_label(k->value))
			kf_loader_error(ld, file, k, "invalid step name \"%s\" (use lowercase letters, digits and \"-\", "
					"at most 63)", k->value);
		p->steps[p->n_steps].name = kf_xstrdup(k->value);
		p->steps[p->n_steps].pos = kf_loader_pos(file, k);
		/* provisional, so forward references know the step loops */
		if (kf_ynode_val(steps, i)->kind == KF_Y_MAP && kf_ynode_get(kf_ynode_val(steps, i), "parallelFor"))
			p->steps[p->n_steps].loop = KF_LOOP_LIST;
		hmap_put(&p->index->steps, p->steps[p->n_steps].name, p->n_steps);
		p->n_steps++;
	}
	for (i = 0; i < steps->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(steps, i);
		long idx = kf_pipeline_step(p, k->value);

		if (kf_ynode_key(steps, (size_t)idx) != k && p->steps[idx].pos.line != k->line)
			continue;   /* a duplicate */
		parse_step(ld, file, k, kf_ynode_val(steps, i), &p->steps[idx], (size_t)idx, comp_cap);
	}
}

static void parse_doc(struct kf_loader *ld, const char *file, const struct kf_ynode *root)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const spec_keys[] = { "params", "components", "steps", "onExit", NULL };
	struct kf_pipeline *p = ld->p;
	const struct kf_ynode *v, *spec, *comps;
	size_t i, comp_cap = 0;

	if (!root || root->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, root, "a pipeline must be a map with apiVersion: kf/v1 and kind: Pipeline");
		return;
	}
	kf_loader_check_keys(ld, file, root, keys, "the pipeline");
	v = required(ld, file, root, "apiVersion", "pipeline");
	if (v && (!kf_ynode_is_scalar(v) || strcmp(v->value, "kf/v1"))) {
		kf_loader_error(ld, file, v, "unsupported apiVersion \"%s\" (expected \"kf/v1\")",
				kf_ynode_is_scalar(v) ? v->value : kf_ynode_kind_name(v));
		return;
	}
	v = required(ld, file, root, "kind", "pipeline");
	if (v && (!kf_ynode_is_scalar(v) || strcmp(v->value, "Pipeline"))) {
		kf_loader_error(ld, file, v, "unsupported kind \"%s\" (expected \"Pipeline\")",
				kf_ynode_is_scalar(v) ? v->value : kf_ynode_kind_name(v));
		return;
	}
	if ((v = required(ld, file, root, "metadata", "pipeline")))
		parse_metadata(ld, file, v);
	spec = required(ld, file, root, "spec", "pipeline");
	if (!spec)
		return;
	if (spec->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, spec, "spec must be a map with steps");
		return;
	}
	kf_loader_check_keys(ld, file, spec, spec_keys, "spec");
	parse_params(ld, file, kf_ynode_get(spec, "params"));
	apply_overrides(ld);
	comps = kf_ynode_get(spec, "components");
	if (comps && comps->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, comps, "components must be a map of NAME: component");
	} else if (comps) {
		kf_loader_check_keys(ld, file, comps, NULL, "components");
		for (i = 0; i < comps->n; i++) {
			const struct kf_ynode *k = kf_ynode_key(comps, i);
			struct kf_component *c;

			if (hmap_get(&p->index->components, k->value) >= 0)
				continue;
			c = component_node(ld, file, kf_ynode_val(comps, i), k->value);
			if (!c) {
				kf_strv_push(&p->index->broken, k->value);
				continue;
			}
			add_component(p, c, &comp_cap);
			hmap_put(&p->index->components, c->key, p->n_components - 1);
		}
	}
	if ((v = required(ld, file, spec, "steps", "spec")))
		parse_steps(ld, file, v, &comp_cap);
	if ((v = kf_ynode_get(spec, "onExit"))) {
		p->on_exit = kf_xcalloc(1, sizeof *p->on_exit);
		p->on_exit->name = kf_xstrdup("on-exit");
		p->on_exit->is_exit = true;
		p->on_exit->pos = kf_loader_pos(file, v);
		parse_step(ld, file, v, v, p->on_exit, (size_t)-1, &comp_cap);
	}
	if (!ld->errs->n)
		order_steps(ld);
}

int kf_pipeline_load_text(struct kf_pipeline **out, const char *path, const char *text, size_t len,
			  const struct kf_pipeline_opts *opts, struct kf_errlist *errs)
{
	struct kf_loader ld = { 0 };
	struct kf_ydoc doc = { 0 };
	struct kf_err err;
	const char *file;
	size_t before = errs->n;

	*out = NULL;
	ld.p = kf_xcalloc(1, sizeof *ld.p);
	ld.p->index = kf_xcalloc(1, sizeof *ld.p->index);
	ld.p->file = kf_xstrdup(path);
	ld.errs = errs;
	ld.opts = opts;
	ld.dir = kf_path_dirname(path);
	file = kf_loader_file(&ld, path);
	kf_err_clear(&err);
	if (kf_yaml_load(&doc, file, text, len, &err)) {
		kf_loader_add(&ld, &err);
	} else if (doc.n_roots > 1) {
		kf_loader_error(&ld, file, doc.roots[1], "a pipeline file holds one YAML document, not %zu",
				doc.n_roots);
	} else if (scalar_keys(&ld, file, doc.root)) {
		parse_doc(&ld, file, doc.root);
	}
	kf_ydoc_release(&doc);
	free(ld.dir);
	if (errs->n > before) {
		kf_pipeline_free(ld.p);
		return ld.code ? ld.code : KF_EINPUT;
	}
	*out = ld.p;
	return 0;
}

int kf_pipeline_load(struct kf_pipeline **out, const char *path, const struct kf_pipeline_opts *opts,
		     struct kf_errlist *errs)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_err err;
	int rc;

	*out = NULL;
	kf_err_clear(&err);
	if (kf_fs_read_file(path, &text, &err)) {
		kf_errlist_add(errs, &err);
		return err.code;
	}
	rc = kf_pipeline_load_text(out, path, text.data ? text.data : "", text.len, opts, errs);
	kf_buf_release(&text);
	return rc;
}

static void step_release(struct kf_step *s)
{
	size_t i;

	free(s->name);
	for (i = 0; i < s->n_args; i++) {
		free(s->args[i].input);
		kf_tmpl_release(&s->args[i].value);
	}
	free(s->args);
	kf_strv_release(&s->after);
	free(s->deps);
	kf_expr_free(s->when);
	free(s->when_raw);
	cJSON_Delete(s->loop_items);
	kf_tmpl_release(&s->loop_ref);
	free(s->cpu);
	free(s->memory);
	for (i = 0; i < s->n_node_selector; i++) {
		free(s->node_selector[i].key);
		free(s->node_selector[i].value);
	}
	free(s->node_selector);
	for (i = 0; i < s->n_env; i++) {
		free(s->env[i].key);
		free(s->env[i].value);
	}
	free(s->env);
}

void kf_pipeline_free(struct kf_pipeline *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_params; i++) {
		free(p->params[i].name);
		free(p->params[i].type);
		free(p->params[i].default_value);
		free(p->params[i].value);
		free(p->params[i].description);
	}
	free(p->params);
	for (i = 0; i < p->n_steps; i++)
		step_release(&p->steps[i]);
	free(p->steps);
	if (p->on_exit) {
		step_release(p->on_exit);
		free(p->on_exit);
	}
	for (i = 0; i < p->n_components; i++)
		kf_component_free(p->components[i]);
	free(p->components);
	free(p->order);
	if (p->index) {
		hmap_release(&p->index->steps);
		hmap_release(&p->index->params);
		hmap_release(&p->index->components);
		kf_strv_release(&p->index->broken);
		free(p->index);
	}
	kf_strv_release(&p->files);
	free(p->file);
	free(p->name);
	free(p->description);
	free(p);
}

long kf_pipeline_step(const struct kf_pipeline *p, const char *name)
{
	return hmap_get(&p->index->steps, name);
}

long kf_pipeline_param(const struct kf_pipeline *p, const char *name)
{
	return hmap_get(&p->index->params, name);
}

const struct kf_arg *kf_step_arg(const struct kf_step *s, size_t input)
{
	size_t i;

	for (i = 0; i < s->n_args; i++)
		if (s->args[i].index == input)
			return &s->args[i];
	return NULL;
}
