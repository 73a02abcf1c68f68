/* kf_schema: TFDV-style schema: text-format and JSON/YAML I/O, inference
 * (see kf_schema.h).
 *
 * The text format is parsed into a cJSON tree in which every field is an
 * array of its values (the text format does not say which fields repeat);
 * the loader reads singular fields as "the first value" and repeated ones
 * as "every value", so one loader serves that tree and proto3 JSON. */
#include "config.h"

#include "data/kf_schema.h"
#include "data/kf_stats.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- text format parser ------------------------------------------------- */

struct pb {
	const char *p, *end, *file;
	int line, col;
	struct kf_err *err;
};

static void pb_adv(struct pb *t)
{
	if (*t->p == '\n') {
		t->line++;
		t->col = 1;
	} else {
		t->col++;
	}
	t->p++;
}

static void pb_skip(struct pb *t)
{
	while (t->p < t->end) {
		if (*t->p == '#') {
			while (t->p < t->end && *t->p != '\n')
				pb_adv(t);
		} else if (isspace((unsigned char)*t->p)) {
			pb_adv(t);
		} else {
			break;
		}
	}
}

static int pb_error(struct pb *t, const char *what)
{
	if (t->p >= t->end)
		return kf_err_at(t->err, KF_EINPUT, t->file, t->line, t->col, "%s, found the end of input", what);
	return kf_err_at(t->err, KF_EINPUT, t->file, t->line, t->col, "%s, found '%c'", what, *t->p);
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static char *pb_ident(struct pb *t)
{
	const char *s = t->p;

	while (t->p < t->end && is_ident_char(*t->p))
		pb_adv(t);
	return kf_xstrndup(s, (size_t)(t->p - s));
}

static int pb_string(struct pb *t, struct kf_buf *b)
{
	char q = *t->p;

	pb_adv(t);
	while (t->p < t->end && *t->p != q) {
		char c = *t->p;

		if (c == '\n')
			return pb_error(t, "unterminated string");
		if (c == '\\' && t->p + 1 < t->end) {
			pb_adv(t);
			c = *t->p;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'x': {
				int v = 0, k;

				for (k = 0; k < 2 && t->p + 1 < t->end && isxdigit((unsigned char)t->p[1]); k++) {
					pb_adv(t);
					v = v * 16 + (isdigit((unsigned char)*t->p) ? *t->p - '0' : (tolower((unsigned char)*t->p) - 'a' + 10));
				}
				c = (char)v;
				break;
			}
			default:
				if (c >= '0' && c <= '7') {
					int v = c - '0', k;

					for (k = 0; k < 2 && t->p + 1 < t->end && t->p[1] >= '0' && t->p[1] <= '7'; k++) {
						pb_adv(t);
						v = v * 8 + (*t->p - '0');
					}
					c = (char)v;
				}
				break;
			}
		}
		kf_buf_addc(b, c);
		pb_adv(t);
	}
	if (t->p >= t->end)
		return pb_error(t, "unterminated string");
	pb_adv(t);
	return 0;
}

static int pb_message(struct pb *t, cJSON *obj, char close, int depth);

static int pb_scalar(struct pb *t, cJSON **out)
{
	struct kf_buf b = KF_BUF_INIT;
	int rc;

	*out = NULL;
	if (*t->p == '"' || *t->p == '\'') {
		/* adjacent strings concatenate */
		while (t->p < t->end && (*t->p == '"' || *t->p == '\'')) {
			if ((rc = pb_string(t, &b)) < 0) {
				kf_buf_release(&b);
				return rc;
			}
			pb_skip(t);
		}
		*out = cJSON_CreateString(kf_buf_str(&b));
		kf_buf_release(&b);
		return 0;
	}
	if (*t->p == '-' || *t->p == '+' || is_ident_char(*t->p)) {
		const char *s = t->p;
		char *text, *end;
		double v;

		pb_adv(t);
		while (t->p < t->end && (is_ident_char(*t->p) ||
					 ((*t->p == '-' || *t->p == '+') && (t->p[-1] == 'e' || t->p[-1] == 'E'))))
			pb_adv(t);
		text = kf_xstrndup(s, (size_t)(t->p - s));
		if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "t")) {
			*out = cJSON_CreateBool(1);
		} else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "f")) {
			*out = cJSON_CreateBool(0);
		} else if (isdigit((unsigned char)text[0]) || text[0] == '-' || text[0] == '+' || text[0] == '.' ||
			   !strcasecmp(text, "inf") || !strcasecmp(text, "nan")) {
			errno = 0;
			v = strtod(text, &end);
			if (*end == 'f' || *end == 'F')
				end++;
			if (*end) {
				free(text);
				return kf_err_at(t->err, KF_EINPUT, t->file, t->line, t->col, "invalid number \"%.*s\"",
						 (int)(t->p - s), s);
			}
			*out = cJSON_CreateNumber(v);
		} else {
			*out = cJSON_CreateString(text);   /* an enum value */
		}
		free(text);
		return 0;
	}
	return pb_error(t, "expected a value");
}

static void pb_add(cJSON *obj, const char *name, cJSON *v)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!arr)
		arr = cJSON_AddArrayToObject(obj, name);
	cJSON_AddItemToArray(arr, v);
}

static int pb_value(struct pb *t, cJSON **out, int depth)
{
	char close;
	int rc;

	if (*t->p == '{' || *t->p == '<') {
		close = *t->p == '{' ? '}' : '>';
		pb_adv(t);
		*out = cJSON_CreateObject();
		rc = pb_message(t, *out, close, depth + 1);
		if (rc < 0) {
			cJSON_Delete(*out);
			*out = NULL;
		}
		return rc;
	}
	return pb_scalar(t, out);
}

static int pb_message(struct pb *t, cJSON *obj, char close, int depth)
{
	char *name;
	cJSON *v;
	int rc;

	if (depth > 64)
		return pb_error(t, "messages nested too deep");
	for (;;) {
		pb_skip(t);
		if (t->p >= t->end) {
			if (close)
				return pb_error(t, close == '}' ? "expected '}'" : "expected '>'");
			return 0;
		}
		if (close && *t->p == close) {
			pb_adv(t);
			return 0;
		}
		if (!isalpha((unsigned char)*t->p) && *t->p != '_')
			return pb_error(t, "expected a field name");
		name = pb_ident(t);
		pb_skip(t);
		if (t->p < t->end && *t->p == ':') {
			pb_adv(t);
			pb_skip(t);
		} else if (t->p >= t->end || (*t->p != '{' && *t->p != '<')) {
			free(name);
			return pb_error(t, "expected ':' or '{'");
		}
		if (t->p < t->end && *t->p == '[') {
			pb_adv(t);
			for (;;) {
				pb_skip(t);
				if (t->p < t->end && *t->p == ']') {
					pb_adv(t);
					break;
				}
				if (t->p >= t->end) {
					free(name);
					return pb_error(t, "expected ']'");
				}
				if ((rc = pb_value(t, &v, depth)) < 0) {
					free(name);
					return rc;
				}
				pb_add(obj, name, v);
				pb_skip(t);
				if (t->p < t->end && *t->p == ',')
					pb_adv(t);
			}
		} else {
			if (t->p >= t->end) {
				free(name);
				return pb_error(t, "expected a value");
			}
			if ((rc = pb_value(t, &v, depth)) < 0) {
				free(name);
				return rc;
			}
			pb_add(obj, name, v);
		}
		free(name);
		pb_skip(t);
		if (t->p < t->end && (*t->p == ',' || *t->p == ';'))
			pb_adv(t);
	}
}

/* ---- loading from a tree -------------------------------------------------- */

/* A field by its text-format name or its proto3 JSON name. */
static const cJSON *field(const cJSON *obj, const char *snake, const char *camel)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, snake);

	if (!v && camel)
		v = cJSON_GetObjectItemCaseSensitive(obj, camel);
	return v;
}

/* A singular field: the first value of an array. */
static const cJSON *one(const cJSON *obj, const char *snake, const char *camel)
{
	const cJSON *v = field(obj, snake, camel);

	if (cJSON_IsArray(v))
		return v->child;
	return v;
}

static bool num_of(const cJSON *v, double *out)
{
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v) && v->valuestring[0]) {
		*out = strtod(v->valuestring, &end);
		return !*end;
	}
	return false;
}

static bool bool_of(const cJSON *v)
{
	return cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "true"));
}

static void strings_of(const cJSON *v, struct kf_strv *out)
{
	const cJSON *e;

	if (cJSON_IsString(v)) {
		kf_strv_push(out, v->valuestring);
		return;
	}
	cJSON_ArrayForEach(e, v) {
		if (cJSON_IsString(e))
			kf_strv_push(out, e->valuestring);
	}
}

static int type_of(const cJSON *v, enum kf_schema_type *t)
{
	double d;

	if (!v) {
		*t = KF_SCHEMA_TYPE_UNKNOWN;
		return 0;
	}
	if (cJSON_IsString(v)) {
		if (!strcmp(v->valuestring, "INT"))
			*t = KF_SCHEMA_INT;
		else if (!strcmp(v->valuestring, "FLOAT"))
			*t = KF_SCHEMA_FLOAT;
		else if (!strcmp(v->valuestring, "BYTES"))
			*t = KF_SCHEMA_BYTES;
		else if (!strcmp(v->valuestring, "TYPE_UNKNOWN"))
			*t = KF_SCHEMA_TYPE_UNKNOWN;
		else
			return -1;
		return 0;
	}
	if (num_of(v, &d) && d >= 0 && d <= 3) {
		static const enum kf_schema_type by_num[] = {
			KF_SCHEMA_TYPE_UNKNOWN, KF_SCHEMA_BYTES, KF_SCHEMA_INT, KF_SCHEMA_FLOAT,
		};

		*t = by_num[(int)d];
		return 0;
	}
	return -1;
}

static int load_feature(struct kf_schema_feature *f, const cJSON *o, const char *file, struct kf_err *err)
{
	const cJSON *v, *sub;
	double d;

	v = one(o, "name", NULL);
	if (!cJSON_IsString(v))
		return kf_err_set(err, KF_EINPUT, "%s: a feature without a name", file);
	f->name = kf_xstrdup(v->valuestring);
	if (type_of(one(o, "type", NULL), &f->type) < 0)
		return kf_err_set(err, KF_EINPUT, "%s: feature \"%s\": unknown type (expected INT, FLOAT or BYTES)",
				  file, f->name);
	if ((sub = one(o, "presence", NULL))) {
		if (num_of(one(sub, "min_fraction", "minFraction"), &d)) {
			f->has_min_fraction = true;
			f->min_fraction = d;
		}
		if (num_of(one(sub, "min_count", "minCount"), &d)) {
			f->has_min_count = true;
			f->min_count = (int64_t)d;
		}
	}
	if ((sub = one(o, "value_count", "valueCount"))) {
		f->has_value_count = true;
		f->value_count_min = num_of(one(sub, "min", NULL), &d) ? (int64_t)d : 0;
		f->value_count_max = num_of(one(sub, "max", NULL), &d) ? (int64_t)d : 0;
	}
	if ((v = one(o, "domain", NULL)) && cJSON_IsString(v))
		f->domain = kf_xstrdup(v->valuestring);
	if ((sub = one(o, "string_domain", "stringDomain"))) {
		f->has_string_domain = true;
		strings_of(field(sub, "value", NULL), &f->values);
	}
	if ((sub = one(o, "int_domain", "intDomain"))) {
		f->has_int_domain = true;
		if ((f->has_int_min = num_of(one(sub, "min", NULL), &d)))
			f->int_min = (int64_t)d;
		if ((f->has_int_max = num_of(one(sub, "max", NULL), &d)))
			f->int_max = (int64_t)d;
	}
	if ((sub = one(o, "float_domain", "floatDomain"))) {
		f->has_float_domain = true;
		if ((f->has_float_min = num_of(one(sub, "min", NULL), &d)))
			f->float_min = d;
		if ((f->has_float_max = num_of(one(sub, "max", NULL), &d)))
			f->float_max = d;
		f->disallow_nan = bool_of(one(sub, "disallow_nan", "disallowNan"));
		f->disallow_inf = bool_of(one(sub, "disallow_inf", "disallowInf"));
	}
	if (one(o, "bool_domain", "boolDomain"))
		f->bool_domain = true;
	strings_of(field(o, "in_environment", "inEnvironment"), &f->in_env);
	strings_of(field(o, "not_in_environment", "notInEnvironment"), &f->not_in_env);
	if ((sub = one(o, "drift_comparator", "driftComparator"))) {
		const cJSON *c;

		if ((c = one(sub, "infinity_norm", "infinityNorm")) && num_of(one(c, "threshold", NULL), &d)) {
			f->has_linf = true;
			f->linf = d;
		}
		if ((c = one(sub, "jensen_shannon_divergence", "jensenShannonDivergence")) &&
		    num_of(one(c, "threshold", NULL), &d)) {
			f->has_jsd = true;
			f->jsd = d;
		}
	}
	return 0;
}

int kf_schema_from_json(struct kf_schema *s, const cJSON *doc, const char *file, struct kf_err *err)
{
	const cJSON *feats, *doms, *e;
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(doc))
		return kf_err_set(err, KF_EINPUT, "%s: a schema must be a map of fields", file);
	feats = field(doc, "feature", "features");
	if (feats && !cJSON_IsArray(feats))
		return kf_err_set(err, KF_EINPUT, "%s: \"feature\" must be a list", file);
	s->f = kf_xcalloc((size_t)cJSON_GetArraySize(feats) + 1, sizeof *s->f);
	cJSON_ArrayForEach(e, feats) {
		rc = load_feature(&s->f[s->n], e, file, err);
		s->n++;
		if (rc < 0)
			return rc;
		for (i = 0; i + 1 < s->n; i++) {
			if (!strcmp(s->f[i].name, s->f[s->n - 1].name))
				return kf_err_set(err, KF_EINPUT, "%s: feature \"%s\" is defined twice", file,
						  s->f[i].name);
		}
	}
	doms = field(doc, "string_domain", "stringDomain");
	s->d = kf_xcalloc((size_t)cJSON_GetArraySize(doms) + 1, sizeof *s->d);
	cJSON_ArrayForEach(e, doms) {
		const cJSON *name = one(e, "name", NULL);

		if (!cJSON_IsString(name))
			return kf_err_set(err, KF_EINPUT, "%s: a string_domain without a name", file);
		s->d[s->nd].name = kf_xstrdup(name->valuestring);
		strings_of(field(e, "value", NULL), &s->d[s->nd].values);
		s->nd++;
	}
	strings_of(field(doc, "default_environment", "defaultEnvironment"), &s->default_env);
	for (i = 0; i < s->n; i++) {
		if (s->f[i].domain && !kf_schema_domain_of(s, &s->f[i]))
			return kf_err_set(err, KF_EINPUT, "%s: feature \"%s\": no string_domain named \"%s\"",
					  file, s->f[i].name, s->f[i].domain);
	}
	return 0;
}

int kf_schema_parse_pbtxt(struct kf_schema *s, const char *text, size_t len, const char *file,
			  struct kf_err *err)
{
	struct pb t = { text, text + len, file, 1, 1, err };
	cJSON *doc = cJSON_CreateObject();
	int rc;

	memset(s, 0, sizeof *s);
	rc = pb_message(&t, doc, 0, 0);
	if (rc == 0)
		rc = kf_schema_from_json(s, doc, file, err);
	cJSON_Delete(doc);
	return rc;
}

static bool looks_pbtxt(const char *path, const char *text)
{
	const char *p = text;

	if (kf_str_ends(path, ".pbtxt") || kf_str_ends(path, ".textproto") || kf_str_ends(path, ".pb.txt") ||
	    kf_str_ends(path, ".txt"))
		return true;
	/* comments and blank lines, then "feature {" or "string_domain {" */
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '#')
			break;
		while (*p && *p != '\n')
			p++;
	}
	if (!isalpha((unsigned char)*p) && *p != '_')
		return false;
	while (is_ident_char(*p))
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '{' || *p == '<';
}

int kf_schema_load(struct kf_schema *s, const char *path, struct kf_err *err)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_ydoc ydoc;
	cJSON *doc = NULL;
	int rc;

	memset(s, 0, sizeof *s);
	rc = kf_fs_read_file(path, &text, err);
	if (rc < 0) {
		if (err->sys_errno == ENOENT)
			err->code = rc = KF_ENOTFOUND;
		goto out;
	}
	if (looks_pbtxt(path, kf_buf_str(&text))) {
		rc = kf_schema_parse_pbtxt(s, kf_buf_str(&text), text.len, path, err);
		goto out;
	}
	/* JSON is YAML too; the YAML loader gives line numbers for syntax errors */
	memset(&ydoc, 0, sizeof ydoc);
	rc = kf_yaml_load(&ydoc, path, kf_buf_str(&text), text.len, err);
	if (rc == 0) {
		if (!ydoc.root) {
			rc = kf_err_set(err, KF_EINPUT, "%s: empty schema", path);
		} else {
			doc = kf_ynode_to_json(ydoc.root);
			rc = kf_schema_from_json(s, doc, path, err);
		}
	}
	kf_ydoc_release(&ydoc);
out:
	cJSON_Delete(doc);
	kf_buf_release(&text);
	return rc;
}

void kf_schema_release(struct kf_schema *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].name);
		free(s->f[i].domain);
		kf_strv_release(&s->f[i].values);
		kf_strv_release(&s->f[i].in_env);
		kf_strv_release(&s->f[i].not_in_env);
	}
	free(s->f);
	for (i = 0; i < s->nd; i++) {
		free(s->d[i].name);
		kf_strv_release(&s->d[i].values);
	}
	free(s->d);
	kf_strv_release(&s->default_env);
	memset(s, 0, sizeof *s);
}

/* ---- queries ------------------------------------------------------------ */

const struct kf_schema_feature *kf_schema_find(const struct kf_schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	}
	return NULL;
}

const struct kf_strv *kf_schema_domain_of(const struct kf_schema *s, const struct kf_schema_feature *f)
{
	size_t i;

	if (f->has_string_domain)
		return &f->values;
	if (!f->domain)
		return NULL;
	for (i = 0; i < s->nd; i++) {
		if (!strcmp(s->d[i].name, f->domain))
			return &s->d[i].values;
	}
	return NULL;
}

bool kf_schema_in_env(const struct kf_schema *s, const struct kf_schema_feature *f, const char *env)
{
	if (!env)
		return true;
	if (f->in_env.n)
		return kf_strv_has(&f->in_env, env);
	if (kf_strv_has(&f->not_in_env, env))
		return false;
	if (s->default_env.n)
		return kf_strv_has(&s->default_env, env);
	return true;
}

const char *kf_schema_type_name(enum kf_schema_type t)
{
	switch (t) {
	case KF_SCHEMA_INT: return "INT";
	case KF_SCHEMA_FLOAT: return "FLOAT";
	case KF_SCHEMA_BYTES: return "BYTES";
	case KF_SCHEMA_TYPE_UNKNOWN: break;
	}
	return "TYPE_UNKNOWN";
}

/* ---- writing ------------------------------------------------------------ */

static cJSON *strv_json(const struct kf_strv *v)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < v->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

static cJSON *feature_json(const struct kf_schema_feature *f)
{
	cJSON *o = cJSON_CreateObject(), *sub;

	cJSON_AddStringToObject(o, "name", f->name);
	if (f->has_value_count) {
		sub = cJSON_AddObjectToObject(o, "valueCount");
		cJSON_AddNumberToObject(sub, "min", (double)f->value_count_min);
		cJSON_AddNumberToObject(sub, "max", (double)f->value_count_max);
	}
	if (f->type != KF_SCHEMA_TYPE_UNKNOWN)
		cJSON_AddStringToObject(o, "type", kf_schema_type_name(f->type));
	if (f->domain)
		cJSON_AddStringToObject(o, "domain", f->domain);
	if (f->has_string_domain) {
		sub = cJSON_AddObjectToObject(o, "stringDomain");
		cJSON_AddItemToObject(sub, "value", strv_json(&f->values));
	}
	if (f->has_int_domain) {
		sub = cJSON_AddObjectToObject(o, "intDomain");
		if (f->has_int_min)
			cJSON_AddNumberToObject(sub, "min", (double)f->int_min);
		if (f->has_int_max)
			cJSON_AddNumberToObject(sub, "max", (double)f->int_max);
	}
	if (f->has_float_domain) {
		sub = cJSON_AddObjectToObject(o, "floatDomain");
		if (f->has_float_min)
			cJSON_AddNumberToObject(sub, "min", f->float_min);
		if (f->has_float_max)
			cJSON_AddNumberToObject(sub, "max", f->float_max);
		if (f->disallow_nan)
			cJSON_AddBoolToObject(sub, "disallowNan", 1);
		if (f->disallow_inf)
			cJSON_AddBoolToObject(sub, "disallowInf", 1);
	}
	if (f->bool_domain)
		cJSON_AddObjectToObject(o, "boolDomain");
	if (f->has_min_fraction || f->has_min_count) {
		sub = cJSON_AddObjectToObject(o, "presence");
		if (f->has_min_fraction)
			cJSON_AddNumberToObject(sub, "minFraction", f->min_fraction);
		if (f->has_min_count)
			cJSON_AddNumberToObject(sub, "minCount", (double)f->min_count);
	}
	if (f->not_in_env.n)
		cJSON_AddItemToObject(o, "notInEnvironment", strv_json(&f->not_in_env));
	if (f->in_env.n)
		cJSON_AddItemToObject(o, "inEnvironment", strv_json(&f->in_env));
	if (f->has_linf || f->has_jsd) {
		sub = cJSON_AddObjectToObject(o, "driftComparator");
		if (f->has_linf)
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(sub, "infinityNorm"), "threshold", f->linf);
		if (f->has_jsd)
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(sub, "jensenShannonDivergence"), "threshold",
						f->jsd);
	}
	return o;
}

cJSON *kf_schema_to_json(const struct kf_schema *s)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	size_t i;

	cJSON_AddStringToObject(doc, "kind", "Schema");
	arr = cJSON_AddArrayToObject(doc, "feature");
	for (i = 0; i < s->n; i++)
		cJSON_AddItemToArray(arr, feature_json(&s->f[i]));
	if (s->nd) {
		arr = cJSON_AddArrayToObject(doc, "stringDomain");
		for (i = 0; i < s->nd; i++) {
			cJSON *d = cJSON_CreateObject();

			cJSON_AddStringToObject(d, "name", s->d[i].name);
			cJSON_AddItemToObject(d, "value", strv_json(&s->d[i].values));
			cJSON_AddItemToArray(arr, d);
		}
	}
	if (s->default_env.n)
		cJSON_AddItemToObject(doc, "defaultEnvironment", strv_json(&s->default_env));
	return doc;
}

static void pb_quote(struct kf_buf *b, const char *s)
{
	kf_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			kf_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			kf_buf_adds(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			kf_buf_printf(b, "\\%03o", c);
		else
			kf_buf_addc(b, (char)c);
	}
	kf_buf_addc(b, '"');
}

/* Shortest text that reads back as the same double ("1.0" style kept for
 * whole numbers, as TFDV writes them). */
static void pb_double(struct kf_buf *b, double v)
{
	char tmp[64];
	int prec;

	for (prec = 6; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	kf_buf_adds(b, tmp);
	if (!strpbrk(tmp, ".eEn"))
		kf_buf_adds(b, ".0");
}

static void pb_strv(struct kf_buf *b, const char *indent, const char *name, const struct kf_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		kf_buf_printf(b, "%s%s: ", indent, name);
		pb_quote(b, v->v[i]);
		kf_buf_addc(b, '\n');
	}
}

static void pb_feature(struct kf_buf *b, const struct kf_schema_feature *f)
{
	kf_buf_adds(b, "feature {\n  name: ");
	pb_quote(b, f->name);
	kf_buf_addc(b, '\n');
	if (f->has_value_count)
		kf_buf_printf(b, "  value_count {\n    min: %lld\n    max: %lld\n  }\n",
			      (long long)f->value_count_min, (long long)f->value_count_max);
	if (f->type != KF_SCHEMA_TYPE_UNKNOWN)
		kf_buf_printf(b, "  type: %s\n", kf_schema_type_name(f->type));
	if (f->domain) {
		kf_buf_adds(b, "  domain: ");
		pb_quote(b, f->domain);
		kf_buf_addc(b, '\n');
	}
	if (f->has_int_domain) {
		kf_buf_adds(b, "  int_domain {\n");
		if (f->has_int_min)
			kf_buf_printf(b, "    min: %lld\n", (long long)f->int_min);
		if (f->has_int_max)
			kf_buf_printf(b, "    max: %lld\n", (long long)f->int_max);
		kf_buf_adds(b, "  }\n");
	}
	if (f->has_float_domain) {
		kf_buf_adds(b, "  float_domain {\n");
		if (f->has_float_min) {
			kf_buf_adds(b, "    min: ");
			pb_double(b, f->float_min);
			kf_buf_addc(b, '\n');
		}
		if (f->has_float_max) {
			kf_buf_adds(b, "    max: ");
			pb_double(b, f->float_max);
			kf_buf_addc(b, '\n');
		}
		if (f->disallow_nan)
			kf_buf_adds(b, "    disallow_nan: true\n");
		if (f->disallow_inf)
			kf_buf_adds(b, "    disallow_inf: true\n");
		kf_buf_adds(b, "  }\n");
	}
	if (f->has_string_domain) {
		kf_buf_adds(b, "  string_domain {\n");
		pb_strv(b, "    ", "value", &f->values);
		kf_buf_adds(b, "  }\n");
	}
	if (f->bool_domain)
		kf_buf_adds(b, "  bool_domain {\n  }\n");
	if (f->has_min_fraction || f->has_min_count) {
		kf_buf_adds(b, "  presence {\n");
		if (f->has_min_fraction) {
			kf_buf_adds(b, "    min_fraction: ");
			pb_double(b, f->min_fraction);
			kf_buf_addc(b, '\n');
		}
		if (f->has_min_count)
			kf_buf_printf(b, "    min_count: %lld\n", (long long)f->min_count);
		kf_buf_adds(b, "  }\n");
	}
	pb_strv(b, "  ", "not_in_environment", &f->not_in_env);
	pb_strv(b, "  ", "in_environment", &f->in_env);
	if (f->has_linf || f->has_jsd) {
		kf_buf_adds(b, "  drift_comparator {\n");
		if (f->has_linf) {
			kf_buf_adds(b, "    infinity_norm {\n      threshold: ");
			pb_double(b, f->linf);
			kf_buf_adds(b, "\n    }\n");
		}
		if (f->has_jsd) {
			kf_buf_adds(b, "    jensen_shannon_divergence {\n      threshold: ");
			pb_double(b, f->jsd);
			kf_buf_adds(b, "\n    }\n");
		}
		kf_buf_adds(b, "  }\n");
	}
	kf_buf_adds(b, "}\n");
}

void kf_schema_to_pbtxt(const struct kf_schema *s, struct kf_buf *out)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		pb_feature(out, &s->f[i]);
	for (i = 0; i < s->nd; i++) {
		kf_buf_adds(out, "string_domain {\n  name: ");
		pb_quote(out, s->d[i].name);
		kf_buf_addc(out, '\n');
		pb_strv(out, "  ", "value", &s->d[i].values);
		kf_buf_adds(out, "}\n");
	}
	pb_strv(out, "", "default_environment", &s->default_env);
}

/* ---- inference ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void kf_schema_infer(struct kf_schema *s, struct kf_stats *st, const struct kf_schema_infer_opts *opts)
{
	size_t max_domain = opts && opts->max_domain ? opts->max_domain : 100;
	size_t i, j;

	memset(s, 0, sizeof *s);
	s->f = kf_xcalloc(st->n + 1, sizeof *s->f);
	s->d = kf_xcalloc(st->n + 1, sizeof *s->d);
	for (i = 0; i < st->n; i++) {
		struct kf_stats_feature *sf = &st->f[i];
		struct kf_schema_feature *f = &s->f[s->n++];
		uint64_t missing = st->rows - sf->present;

		f->name = kf_xstrdup(sf->name);
		switch (sf->type) {
		case KF_CSV_INT:
			f->type = KF_SCHEMA_INT;
			break;
		case KF_CSV_FLOAT:
			f->type = KF_SCHEMA_FLOAT;
			break;
		case KF_CSV_BOOL:
			f->type = KF_SCHEMA_BYTES;
			f->bool_domain = true;
			break;
		case KF_CSV_STRING:
			f->type = KF_SCHEMA_BYTES;
			break;
		case KF_CSV_MISSING:
			break;
		}
		/* presence: TFDV requires every example when none lacked the feature */
		f->has_min_count = true;
		f->min_count = sf->present ? 1 : 0;
		if (st->rows && !missing) {
			f->has_min_fraction = true;
			f->min_fraction = 1.0;
			f->has_value_count = true;
			f->value_count_min = f->value_count_max = 1;
		}
		if (sf->type == KF_CSV_STRING && sf->freq.exact && sf->freq.n <= max_domain) {
			struct kf_schema_domain *d = &s->d[s->nd++];
			char **vals = kf_xcalloc(sf->freq.n + 1, sizeof *vals);

			d->name = kf_xstrdup(sf->name);
			for (j = 0; j < sf->freq.n; j++)
				vals[j] = sf->freq.items[j].s;
			qsort(vals, sf->freq.n, sizeof *vals, cmp_str);
			for (j = 0; j < sf->freq.n; j++)
				kf_strv_push(&d->values, vals[j]);
			free(vals);
			f->domain = kf_xstrdup(sf->name);
		}
		if (sf->type == KF_CSV_FLOAT) {
			/* kf pins the absence of NaN and infinities it saw (TFDV's
			 * float_domain flags), so validation reports them */
			f->has_float_domain = true;
			f->disallow_nan = sf->nan == 0;
			f->disallow_inf = sf->pinf + sf->ninf == 0;
			if (opts && opts->ranges && sf->finite) {
				f->has_float_min = f->has_float_max = true;
				f->float_min = sf->min;
				f->float_max = sf->max;
			}
			if (!f->disallow_nan && !f->disallow_inf && !f->has_float_min)
				f->has_float_domain = false;
		}
		if (sf->type == KF_CSV_INT && opts && opts->ranges && sf->finite) {
			f->has_int_domain = f->has_int_min = f->has_int_max = true;
			f->int_min = (int64_t)sf->min;
			f->int_max = (int64_t)sf->max;
		}
	}
}
