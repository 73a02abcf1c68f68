#include "config.h"

#include "store/kf_lineage.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small helpers ------------------------------------------------------ */

static const char *const kind_names[] = { "artifact", "execution", "context" };

void kf_lineage_ref_name(const struct kf_lineage_ref *ref, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%lld", kind_names[ref->kind], (long long)ref->id);
}

static int query(struct kf_store *st, const char *sql, const cJSON *binds, cJSON **rows,
		 struct kf_err *err)
{
	*rows = NULL;
	return kf_store_query(st, sql, binds, rows, err);
}

static int64_t num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON array of ids, as text, for "IN (SELECT value FROM json_each(?))". */
static char *id_list(const int64_t *ids, size_t n)
{
	struct kf_buf b = KF_BUF_INIT;
	size_t i;

	kf_buf_addc(&b, '[');
	for (i = 0; i < n; i++)
		kf_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
	kf_buf_addc(&b, ']');
	return kf_buf_detach(&b);
}

static cJSON *binds1s(const char *s)
{
	cJSON *b = cJSON_CreateArray();

	cJSON_AddItemToArray(b, cJSON_CreateString(s));
	return b;
}

/* Open-addressing set of 64-bit keys mapping to an index. */
struct idmap {
	uint64_t *keys;   /* 0 = empty; stored as key + 1 */
	size_t *vals;
	size_t cap, n;
};

static void idmap_release(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static size_t idmap_slot(const struct idmap *m, uint64_t key)
{
	uint64_t h = (key + 1) * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 17) & (m->cap - 1);

	while (m->keys[i] && m->keys[i] != key + 1)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static bool idmap_get(const struct idmap *m, uint64_t key, size_t *val)
{
	size_t i;

	if (!m->cap)
		return false;
	i = idmap_slot(m, key);
	if (!m->keys[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

static void idmap_put(struct idmap *m, uint64_t key, size_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct idmap bigger = { NULL, NULL, m->cap ? m->cap * 2 : 64, 0 };

		bigger.keys = kf_xcalloc(bigger.cap, sizeof *bigger.keys);
		bigger.vals = kf_xcalloc(bigger.cap, sizeof *bigger.vals);
		for (i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				size_t j = idmap_slot(&bigger, m->keys[i] - 1);

				bigger.keys[j] = m->keys[i];
				bigger.vals[j] = m->vals[i];
				bigger.n++;
			}
		idmap_release(m);
		*m = bigger;
	}
	i = idmap_slot(m, key);
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key + 1;
	m->vals[i] = val;
}

static uint64_t node_key(enum kf_lineage_kind kind, int64_t id)
{
	return ((uint64_t)kind << 60) | (uint64_t)id;
}

/* ---- resolve -------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

static int exists_id(struct kf_store *st, const struct kf_lineage_ref *ref, struct kf_err *err)
{
	static const char *const sql[] = {
		"SELECT id FROM Artifact WHERE id = ?1",
		"SELECT id FROM Execution WHERE id = ?1",
		"SELECT id FROM Context WHERE id = ?1",
	};
	cJSON *b = cJSON_CreateArray(), *rows;
	int rc;

	cJSON_AddItemToArray(b, cJSON_CreateNumber((double)ref->id));
	rc = query(st, sql[ref->kind], b, &rows, err);
	cJSON_Delete(b);
	if (rc)
		return rc;
	if (cJSON_GetArraySize(rows) == 0) {
		rc = kf_err_set(err, KF_ENOTFOUND, "no %s with id %lld in the store",
				kind_names[ref->kind], (long long)ref->id);
	}
	cJSON_Delete(rows);
	return rc;
}

static int by_digest(struct kf_store *st, const char *hex, bool prefix, const char *shown,
		     struct kf_lineage_ref *out, struct kf_err *err)
{
	cJSON *b, *rows;
	int rc, n;

	b = binds1s(hex);
	rc = query(st, prefix ? "SELECT id, digest FROM Artifact WHERE digest >= ?1"
				" AND digest < ?1 || 'g' ORDER BY id DESC LIMIT 50"
			      : "SELECT id, digest FROM Artifact WHERE digest = ?1 ORDER BY id DESC LIMIT 1",
		   b, &rows, err);
	cJSON_Delete(b);
	if (rc)
		return rc;
	n = cJSON_GetArraySize(rows);
	if (n == 0) {
		rc = kf_err_set(err, KF_ENOTFOUND, "no artifact with content digest \"%s\" in the store", shown);
	} else {
		const cJSON *r;
		const char *first = str(rows->child, "digest");

		for (r = rows->child; r; r = r->next)
			if (!kf_str_eq(str(r, "digest"), first)) {
				rc = kf_err_set(err, KF_EINPUT, "digest prefix \"%s\" is ambiguous", hex);
				break;
			}
		out->kind = KF_LIN_ARTIFACT;
		out->id = num(rows->child, "id");
	}
	cJSON_Delete(rows);
	return rc;
}

int kf_lineage_resolve(struct kf_store *st, const char *name, struct kf_lineage_ref *out,
		       struct kf_err *err)
{
	static const struct { const char *prefix; enum kf_lineage_kind kind; } forms[] = {
		{ "artifact/", KF_LIN_ARTIFACT }, { "a/", KF_LIN_ARTIFACT },
		{ "execution/", KF_LIN_EXECUTION }, { "e/", KF_LIN_EXECUTION },
		{ "context/", KF_LIN_CONTEXT }, { "c/", KF_LIN_CONTEXT },
	};
	char hex[KF_SHA256_HEX_LEN + 1];
	size_t i;
	long v;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		const char *rest;

		if (!kf_str_starts(name, forms[i].prefix))
			continue;
		rest = name + strlen(forms[i].prefix);
		if (!kf_str_to_long(rest, &v) || v <= 0)
			return kf_err_set(err, KF_EINPUT, "\"%s\": expected %s/ID with a positive number",
					  name, kind_names[forms[i].kind]);
		out->kind = forms[i].kind;
		out->id = v;
		return exists_id(st, out, err);
	}
	if (all_digits(name) && !kf_fs_exists(name)) {
		kf_str_to_long(name, &v);
		out->kind = KF_LIN_ARTIFACT;
		out->id = v;
		return exists_id(st, out, err);
	}
	if (kf_fs_exists(name)) {
		bool is_dir;
		int rc = kf_store_digest_path(name, hex, &is_dir, err);

		if (rc)
			return rc;
		return by_digest(st, hex, false, name, out, err);
	}
	if (strlen(name) >= 8 && strlen(name) <= KF_SHA256_HEX_LEN && all_hex(name))
		return by_digest(st, name, strlen(name) < KF_SHA256_HEX_LEN, name, out, err);
	return kf_err_set(err, KF_EINPUT,
			  "\"%s\" is not an id, a digest or a file (use artifact/ID, execution/ID or context/ID)",
			  name);
}

/* ---- filter expressions -> SQL -------------------------------------------- */

struct fparse {
	const char *src, *p;
	enum kf_lineage_kind kind;
	struct kf_buf *sql;
	cJSON *binds;
	struct kf_err *err;
};

static void skip_ws(struct fparse *f)
{
	while (isspace((unsigned char)*f->p))
		f->p++;
}

static int ferr(struct fparse *f, const char *fmt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof msg, fmt, what);
	return kf_err_set(f->err, KF_EINPUT, "filter \"%s\": column %d: %s", f->src,
			  (int)(f->p - f->src) + 1, msg);
}

/* A keyword (AND, OR, NOT, LIKE) at p, case-insensitive, as a whole word. */
static bool keyword(struct fparse *f, const char *kw)
{
	size_t n = strlen(kw);

	skip_ws(f);
	if (strncasecmp(f->p, kw, n) == 0 && !isalnum((unsigned char)f->p[n]) && f->p[n] != '_') {
		f->p += n;
		return true;
	}
	return false;
}

static int bind(struct fparse *f, cJSON *v)
{
	cJSON_AddItemToArray(f->binds, v);
	return cJSON_GetArraySize(f->binds);
}

static const char *table_alias(enum kf_lineage_kind k)
{
	return k == KF_LIN_ARTIFACT ? "a" : k == KF_LIN_EXECUTION ? "x" : "c";
}

static const char *prop_table(enum kf_lineage_kind k)
{
	return k == KF_LIN_ARTIFACT ? "ArtifactProperty" : k == KF_LIN_EXECUTION ? "ExecutionProperty"
										 : "ContextProperty";
}

static const char *prop_owner(enum kf_lineage_kind k)
{
	return k == KF_LIN_ARTIFACT ? "artifact_id" : k == KF_LIN_EXECUTION ? "execution_id" : "context_id";
}

/* VALUE: 'quoted', a number, or a bare word (LIVE, COMPLETE). */
static int parse_value(struct fparse *f, cJSON **out, bool *numeric)
{
	const char *start;

	skip_ws(f);
	*numeric = false;
	if (*f->p == '\'' || *f->p == '"') {
		char q = *f->p++;
		struct kf_buf b = KF_BUF_INIT;

		while (*f->p && *f->p != q) {
			if (*f->p == '\\' && f->p[1])
				f->p++;
			kf_buf_addc(&b, *f->p++);
		}
		if (*f->p != q) {
			kf_buf_release(&b);
			return ferr(f, "%s", "unterminated string");
		}
		f->p++;
		*out = cJSON_CreateString(kf_buf_str(&b));
		kf_buf_release(&b);
		return 0;
	}
	start = f->p;
	while (*f->p && (isalnum((unsigned char)*f->p) || strchr("._-+", *f->p)))
		f->p++;
	if (f->p == start)
		return ferr(f, "%s", "expected a value");
	{
		char *text = kf_xstrndup(start, (size_t)(f->p - start));
		double d;

		if (kf_str_to_double(text, &d)) {
			*out = cJSON_CreateNumber(d);
			*numeric = true;
		} else {
			*out = cJSON_CreateString(text);
		}
		free(text);
	}
	return 0;
}

static int parse_op(struct fparse *f, const char **op)
{
	static const char *const ops[] = { "!=", "<=", ">=", "=", "<", ">" };
	size_t i;

	skip_ws(f);
	if (keyword(f, "LIKE")) {
		*op = "LIKE";
		return 0;
	}
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (kf_str_starts(f->p, ops[i])) {
			*op = ops[i];
			f->p += strlen(ops[i]);
			return 0;
		}
	return ferr(f, "%s", "expected = != < <= > >= or LIKE");
}

static int parse_comparison(struct fparse *f)
{
	static const char *const fields[] = { "id", "name", "type", "uri", "digest", "state",
					      "create_time", "properties.", "custom_properties." };
	const char *start, *op = "=", *t = table_alias(f->kind);
	char *field;
	cJSON *value;
	bool numeric;
	int rc, bi;

	skip_ws(f);
	start = f->p;
	while (*f->p && (isalnum((unsigned char)*f->p) || strchr("_.-:", *f->p)))
		f->p++;
	if (f->p == start)
		return ferr(f, "%s", "expected a field (name, type, state, uri, properties.X, ...)");
	field = kf_xstrndup(start, (size_t)(f->p - start));
	if ((rc = parse_op(f, &op)) || (rc = parse_value(f, &value, &numeric))) {
		free(field);
		return rc;
	}
	if (kf_str_starts(field, "properties.") || kf_str_starts(field, "custom_properties.")) {
		const char *pname = strchr(field, '.') + 1;
		int ni = bind(f, cJSON_CreateString(pname));

		bi = bind(f, value);
		/* IN (not EXISTS): one pass over the property index, not one
		 * probe per row; the expression matches the store's index */
		kf_buf_printf(f->sql, "%s.id IN (SELECT p.%s FROM %s p WHERE p.name = ?%d AND %s %s ?%d)",
			      t, prop_owner(f->kind), prop_table(f->kind), ni,
			      numeric ? "COALESCE(p.int_value, p.double_value)" : "p.string_value", op, bi);
	} else if (!strcmp(field, "state")) {
		int state = -1;

		if (f->kind == KF_LIN_CONTEXT) {
			cJSON_Delete(value);
			rc = ferr(f, "%s", "contexts have no state");
			goto out;
		}
		if (numeric)
			state = (int)value->valuedouble;
		else
			state = f->kind == KF_LIN_ARTIFACT ? kf_artifact_state_parse(value->valuestring)
							   : kf_exec_state_parse(value->valuestring);
		if (state < 0) {
			rc = ferr(f, "unknown state \"%s\"", value->valuestring);
			cJSON_Delete(value);
			goto out;
		}
		cJSON_Delete(value);
		bi = bind(f, cJSON_CreateNumber(state));
		kf_buf_printf(f->sql, "%s.%s %s ?%d", t,
			      f->kind == KF_LIN_ARTIFACT ? "state" : "last_known_state", op, bi);
	} else if (!strcmp(field, "type")) {
		bi = bind(f, value);
		kf_buf_printf(f->sql, "ty.name %s ?%d", op, bi);
	} else if (!strcmp(field, "id") || !strcmp(field, "name") || !strcmp(field, "create_time") ||
		   (f->kind == KF_LIN_ARTIFACT && (!strcmp(field, "uri") || !strcmp(field, "digest")))) {
		bi = bind(f, value);
		kf_buf_printf(f->sql, "%s.%s %s ?%d", t,
			      !strcmp(field, "create_time") ? "create_time_since_epoch" : field, op, bi);
	} else {
		const char *hint = kf_str_suggest(field, fields, 7);

		cJSON_Delete(value);
		f->p = start;
		if (hint)
			rc = kf_err_set(f->err, KF_EINPUT, "filter \"%s\": column %d: unknown field \"%s\" (did you mean \"%s\"?)",
					f->src, (int)(start - f->src) + 1, field, hint);
		else
			rc = kf_err_set(f->err, KF_EINPUT, "filter \"%s\": column %d: unknown field \"%s\"",
					f->src, (int)(start - f->src) + 1, field);
	}
out:
	free(field);
	return rc;
}

static int parse_or(struct fparse *f);

static int parse_factor(struct fparse *f)
{
	int rc;

	skip_ws(f);
	if (keyword(f, "NOT")) {
		kf_buf_adds(f->sql, "NOT (");
		if ((rc = parse_factor(f)))
			return rc;
		kf_buf_addc(f->sql, ')');
		return 0;
	}
	if (*f->p == '(') {
		f->p++;
		kf_buf_addc(f->sql, '(');
		if ((rc = parse_or(f)))
			return rc;
		skip_ws(f);
		if (*f->p != ')')
			return ferr(f, "%s", "expected \")\"");
		f->p++;
		kf_buf_addc(f->sql, ')');
		return 0;
	}
	return parse_comparison(f);
}

static int parse_and(struct fparse *f)
{
	int rc = parse_factor(f);

	while (!rc && keyword(f, "AND")) {
		kf_buf_adds(f->sql, " AND ");
		rc = parse_factor(f);
	}
	return rc;
}

static int parse_or(struct fparse *f)
{
	int rc = parse_and(f);

	while (!rc && keyword(f, "OR")) {
		kf_buf_adds(f->sql, " OR ");
		rc = parse_and(f);
	}
	return rc;
}

static int compile_filter(const char *expr, enum kf_lineage_kind kind, struct kf_buf *sql,
			  cJSON *binds, struct kf_err *err)
{
	struct fparse f = { expr, expr, kind, sql, binds, err };
	int rc;

	kf_buf_adds(sql, " AND (");
	rc = parse_or(&f);
	if (rc)
		return rc;
	skip_ws(&f);
	if (*f.p)
		return ferr(&f, "unexpected \"%s\"", f.p);
	kf_buf_addc(sql, ')');
	return 0;
}

/* ---- list ------------------------------------------------------------------ */

static int run_context(struct kf_store *st, const char *run, int64_t *ctx, struct kf_err *err)
{
	cJSON *r = NULL;
	int rc = kf_store_run_get(st, run, &r, err);

	if (!rc)
		*ctx = num(r, "context_id");
	cJSON_Delete(r);
	return rc;
}

/* Rename columns into the record shape: name = "kind/id", label = MLMD name. */
static void shape_item(cJSON *row, enum kf_lineage_kind kind)
{
	cJSON *label = cJSON_DetachItemFromObjectCaseSensitive(row, "name");
	cJSON *state = cJSON_GetObjectItemCaseSensitive(row, "state");
	int64_t ct = num(row, "create_time");
	char name[64], when[32];
	struct kf_lineage_ref ref = { kind, num(row, "id") };

	kf_lineage_ref_name(&ref, name, sizeof name);
	cJSON_AddItemToObject(row, "kind", cJSON_CreateString(kind == KF_LIN_ARTIFACT ? "Artifact" :
							       kind == KF_LIN_EXECUTION ? "Execution" : "Context"));
	cJSON_AddItemToObject(row, "name", cJSON_CreateString(name));
	cJSON_AddItemToObject(row, "label", label && cJSON_IsString(label) ? label : cJSON_CreateString(""));
	if (label && !cJSON_IsString(label))
		cJSON_Delete(label);
	if (cJSON_IsNumber(state))
		cJSON_ReplaceItemInObjectCaseSensitive(row, "state", cJSON_CreateString(
			kind == KF_LIN_ARTIFACT ? kf_artifact_state_name((int)state->valuedouble)
						: kf_exec_state_name((int)state->valuedouble)));
	kf_time_rfc3339(ct, when, sizeof when);
	cJSON_AddItemToObject(row, "created", cJSON_CreateString(when));
}

int kf_lineage_list(struct kf_store *st, enum kf_lineage_kind kind,
		    const struct kf_lineage_filter *f, cJSON **out, struct kf_err *err)
{
	static const char *const base[] = {
		"SELECT a.id AS id, ty.name AS type, a.name AS name, a.uri AS uri, a.digest AS digest,"
		" a.state AS state, a.create_time_since_epoch AS create_time FROM Artifact a"
		" JOIN Type ty ON ty.id = a.type_id WHERE 1",
		"SELECT x.id AS id, ty.name AS type, x.name AS name, x.last_known_state AS state,"
		" x.create_time_since_epoch AS create_time FROM Execution x"
		" JOIN Type ty ON ty.id = x.type_id WHERE 1",
		"SELECT c.id AS id, ty.name AS type, c.name AS name,"
		" c.create_time_since_epoch AS create_time FROM Context c"
		" JOIN Type ty ON ty.id = c.type_id WHERE 1",
	};
	static const char *const list_kind[] = { "ArtifactList", "ExecutionList", "ContextList" };
	struct kf_buf sql = KF_BUF_INIT;
	cJSON *binds = cJSON_CreateArray(), *rows = NULL, *r;
	const char *t = table_alias(kind);
	int rc = 0;

	*out = NULL;
	kf_buf_adds(&sql, base[kind]);
	if (f->type) {
		cJSON_AddItemToArray(binds, cJSON_CreateString(f->type));
		kf_buf_printf(&sql, " AND ty.name = ?%d", cJSON_GetArraySize(binds));
	}
	if (f->since_ms > 0) {
		cJSON_AddItemToArray(binds, cJSON_CreateNumber((double)f->since_ms));
		kf_buf_printf(&sql, " AND %s.create_time_since_epoch >= ?%d", t, cJSON_GetArraySize(binds));
	}
	if (f->run) {
		int64_t ctx;

		if ((rc = run_context(st, f->run, &ctx, err)))
			goto out;
		cJSON_AddItemToArray(binds, cJSON_CreateNumber((double)ctx));
		if (kind == KF_LIN_ARTIFACT)
			kf_buf_printf(&sql, " AND a.id IN (SELECT artifact_id FROM Attribution WHERE context_id = ?%d)",
				      cJSON_GetArraySize(binds));
		else if (kind == KF_LIN_EXECUTION)
			kf_buf_printf(&sql, " AND x.id IN (SELECT execution_id FROM Association WHERE context_id = ?%d)",
				      cJSON_GetArraySize(binds));
		else
			kf_buf_printf(&sql, " AND (c.id = ?%1$d OR c.id IN (SELECT context_id FROM ParentContext"
				      " WHERE parent_context_id = ?%1$d))", cJSON_GetArraySize(binds));
	}
	if (f->expr && *f->expr && (rc = compile_filter(f->expr, kind, &sql, binds, err)))
		goto out;
	kf_buf_printf(&sql, " ORDER BY %s.id DESC", t);
	if (f->limit > 0)
		kf_buf_printf(&sql, " LIMIT %lld", (long long)f->limit);
	if ((rc = query(st, kf_buf_str(&sql), binds, &rows, err)))
		goto out;
	for (r = rows->child; r; r = r->next)
		shape_item(r, kind);
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "kind", list_kind[kind]);
	cJSON_AddItemToObject(*out, "items", rows);
	rows = NULL;
out:
	cJSON_Delete(rows);
	cJSON_Delete(binds);
	kf_buf_release(&sql);
	return rc;
}

/* ---- node summaries in bulk ------------------------------------------------ */

/* id -> summary object {name, type, label, state, uri, digest, run} */
static int summaries(struct kf_store *st, enum kf_lineage_kind kind, const int64_t *ids, size_t n,
		     cJSON **out, struct kf_err *err)
{
	static const char *const sql[] = {
		"SELECT a.id AS id, ty.name AS type, a.name AS name, a.uri AS uri, a.digest AS digest,"
		" a.state AS state, a.create_time_since_epoch AS create_time,"
		" (SELECT c.name FROM Attribution at JOIN Context c ON c.id = at.context_id"
		"  JOIN Type ct ON ct.id = c.type_id WHERE at.artifact_id = a.id AND ct.name = 'kf.Run'"
		"  ORDER BY c.id LIMIT 1) AS run"
		" FROM Artifact a JOIN Type ty ON ty.id = a.type_id"
		" WHERE a.id IN (SELECT value FROM json_each(?1)) ORDER BY a.id",
		"SELECT x.id AS id, ty.name AS type, x.name AS name, x.last_known_state AS state,"
		" x.create_time_since_epoch AS create_time,"
		" (SELECT c.name FROM Association at JOIN Context c ON c.id = at.context_id"
		"  JOIN Type ct ON ct.id = c.type_id WHERE at.execution_id = x.id AND ct.name = 'kf.Run'"
		"  ORDER BY c.id LIMIT 1) AS run"
		" FROM Execution x JOIN Type ty ON ty.id = x.type_id"
		" WHERE x.id IN (SELECT value FROM json_each(?1)) ORDER BY x.id",
	};
	char *list = id_list(ids, n);
	cJSON *b = binds1s(list), *r;
	int rc = query(st, sql[kind], b, out, err);

	if (!rc)
		for (r = (*out)->child; r; r = r->next) {
			shape_item(r, kind);
			if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "run")))
				cJSON_ReplaceItemInObjectCaseSensitive(r, "run", cJSON_CreateString(""));
		}
	cJSON_Delete(b);
	free(list);
	return rc;
}

/* Attach "properties" to each summary (bulk). */
static int attach_props(struct kf_store *st, enum kf_lineage_kind kind, cJSON *items,
			struct kf_err *err)
{
	struct kf_buf sql = KF_BUF_INIT;
	struct idmap m = { 0 };
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, idx;
	cJSON *r, *rows = NULL, *b = NULL;
	char *list;
	int rc;

	for (r = items->child; r; r = r->next) {
		KF_GROW(ids, cap, n + 1);
		ids[n] = num(r, "id");
		idmap_put(&m, (uint64_t)ids[n], n);
		n++;
		cJSON_AddItemToObject(r, "properties", cJSON_CreateObject());
	}
	list = id_list(ids, n);
	b = binds1s(list);
	kf_buf_printf(&sql, "SELECT %s AS id, name, data_type, int_value, double_value, string_value"
		      " FROM %s WHERE %s IN (SELECT value FROM json_each(?1)) ORDER BY name",
		      prop_owner(kind), prop_table(kind), prop_owner(kind));
	rc = query(st, kf_buf_str(&sql), b, &rows, err);
	for (r = rows ? rows->child : NULL; !rc && r; r = r->next) {
		cJSON *owner, *props, *v;
		const char *s = str(r, "string_value");

		if (!idmap_get(&m, (uint64_t)num(r, "id"), &idx))
			continue;
		owner = cJSON_GetArrayItem(items, (int)idx);
		props = cJSON_GetObjectItemCaseSensitive(owner, "properties");
		switch (num(r, "data_type")) {
		case KF_PROP_INT: v = cJSON_CreateNumber((double)num(r, "int_value")); break;
		case KF_PROP_DOUBLE: {
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "double_value");

			v = cJSON_CreateNumber(cJSON_IsNumber(d) ? d->valuedouble : NAN);
			break;
		}
		case KF_PROP_JSON:
			v = s ? cJSON_Parse(s) : NULL;
			if (!v)
				v = cJSON_CreateString(s ? s : "");
			break;
		default: v = cJSON_CreateString(s ? s : ""); break;
		}
		cJSON_AddItemToObject(props, str(r, "name") ? str(r, "name") : "", v);
	}
	cJSON_Delete(rows);
	cJSON_Delete(b);
	free(list);
	free(ids);
	idmap_release(&m);
	kf_buf_release(&sql);
	return rc;
}

/* ---- show ------------------------------------------------------------------ */

static int related(struct kf_store *st, const char *sql, int64_t id, enum kf_lineage_kind kind,
		   cJSON **out, struct kf_err *err)
{
	cJSON *b = cJSON_CreateArray(), *rows = NULL, *r;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	cJSON_AddItemToArray(b, cJSON_CreateNumber((double)id));
	rc = query(st, sql, b, &rows, err);
	for (r = rows ? rows->child : NULL; r; r = r->next) {
		KF_GROW(ids, cap, n + 1);
		ids[n++] = num(r, "id");
	}
	if (!rc)
		rc = summaries(st, kind, ids, n, out, err);
	cJSON_Delete(rows);
	cJSON_Delete(b);
	free(ids);
	return rc;
}

int kf_lineage_show(struct kf_store *st, const struct kf_lineage_ref *ref, cJSON **out,
		    struct kf_err *err)
{
	static const char producers[] = "SELECT DISTINCT execution_id AS id FROM Event"
		" WHERE artifact_id = ?1 AND type IN (4, 6) ORDER BY execution_id";
	static const char consumers[] = "SELECT DISTINCT execution_id AS id FROM Event"
		" WHERE artifact_id = ?1 AND type IN (3, 5) ORDER BY execution_id";
	static const char inputs[] = "SELECT DISTINCT artifact_id AS id FROM Event"
		" WHERE execution_id = ?1 AND type IN (3, 5) ORDER BY artifact_id";
	static const char outputs[] = "SELECT DISTINCT artifact_id AS id FROM Event"
		" WHERE execution_id = ?1 AND type IN (4, 6) ORDER BY artifact_id";
	static const char ctx_execs[] = "SELECT execution_id AS id FROM Association"
		" WHERE context_id = ?1 ORDER BY execution_id LIMIT 1000";
	static const char ctx_arts[] = "SELECT artifact_id AS id FROM Attribution"
		" WHERE context_id = ?1 ORDER BY artifact_id LIMIT 1000";
	cJSON *doc = NULL, *a = NULL, *b = NULL, *label;
	char name[64];
	int rc;

	*out = NULL;
	if (ref->kind == KF_LIN_ARTIFACT)
		rc = kf_store_artifact_get(st, ref->id, &doc, err);
	else if (ref->kind == KF_LIN_EXECUTION)
		rc = kf_store_execution_get(st, ref->id, &doc, err);
	else
		rc = kf_store_context_get(st, ref->id, &doc, err);
	if (rc)
		return rc;
	{
		const char *first = ref->kind == KF_LIN_ARTIFACT ? producers :
				    ref->kind == KF_LIN_EXECUTION ? inputs : ctx_execs;
		const char *second = ref->kind == KF_LIN_ARTIFACT ? consumers :
				     ref->kind == KF_LIN_EXECUTION ? outputs : ctx_arts;
		enum kf_lineage_kind first_kind = ref->kind == KF_LIN_EXECUTION ? KF_LIN_ARTIFACT : KF_LIN_EXECUTION;
		enum kf_lineage_kind second_kind = ref->kind == KF_LIN_ARTIFACT ? KF_LIN_EXECUTION : KF_LIN_ARTIFACT;

		rc = related(st, first, ref->id, first_kind, &a, err);
		if (!rc)
			rc = related(st, second, ref->id, second_kind, &b, err);
	}
	if (rc) {
		cJSON_Delete(doc);
		cJSON_Delete(a);
		cJSON_Delete(b);
		return rc;
	}
	kf_lineage_ref_name(ref, name, sizeof name);
	label = cJSON_DetachItemFromObjectCaseSensitive(doc, "name");
	cJSON_AddItemToObject(doc, "label", label ? label : cJSON_CreateString(""));
	cJSON_AddItemToObject(doc, "name", cJSON_CreateString(name));
	cJSON_AddItemToObject(doc, "kind", cJSON_CreateString(ref->kind == KF_LIN_ARTIFACT ? "Artifact" :
							       ref->kind == KF_LIN_EXECUTION ? "Execution" : "Context"));
	cJSON_AddItemToObject(doc, ref->kind == KF_LIN_ARTIFACT ? "producers" :
				   ref->kind == KF_LIN_EXECUTION ? "inputs" : "executions", a);
	cJSON_AddItemToObject(doc, ref->kind == KF_LIN_ARTIFACT ? "consumers" :
				   ref->kind == KF_LIN_EXECUTION ? "outputs" : "artifacts", b);
	*out = doc;
	return 0;
}

/* ---- trace ----------------------------------------------------------------- */

struct tnode {
	enum kf_lineage_kind kind;
	int64_t id;
	int hops;
	bool stop;       /* reached --until: not expanded */
};

struct trace {
	struct kf_store *st;
	struct tnode *nodes;
	size_t n, cap;
	struct idmap index;
	cJSON *edges;
	struct idmap edge_seen;   /* hash of (from, to) */
	struct idmap walk_seen;   /* nodes reached by the current walk */
	const char *until;
};

/* A node reached by the walk under way: true the first time (it joins the
 * next frontier). Upstream and downstream walks each see every node anew. */
static bool walk_first(struct trace *t, enum kf_lineage_kind kind, int64_t id)
{
	if (idmap_get(&t->walk_seen, node_key(kind, id), NULL))
		return false;
	idmap_put(&t->walk_seen, node_key(kind, id), 0);
	return true;
}

static size_t trace_add(struct trace *t, enum kf_lineage_kind kind, int64_t id, int hops, bool *fresh)
{
	size_t i;

	if (idmap_get(&t->index, node_key(kind, id), &i)) {
		*fresh = false;
		return i;
	}
	KF_GROW(t->nodes, t->cap, t->n + 1);
	t->nodes[t->n] = (struct tnode){ kind, id, hops, false };
	idmap_put(&t->index, node_key(kind, id), t->n);
	*fresh = true;
	return t->n++;
}

static void trace_edge(struct trace *t, enum kf_lineage_kind from_kind, int64_t from,
		       enum kf_lineage_kind to_kind, int64_t to, int type, const char *path)
{
	uint64_t h = node_key(from_kind, from) * 1000003u ^ node_key(to_kind, to) * 0x9E3779B97F4A7C15ull;
	struct kf_lineage_ref a = { from_kind, from }, b = { to_kind, to };
	char an[64], bn[64];
	cJSON *e;

	if (idmap_get(&t->edge_seen, h, NULL))
		return;
	idmap_put(&t->edge_seen, h, 0);
	kf_lineage_ref_name(&a, an, sizeof an);
	kf_lineage_ref_name(&b, bn, sizeof bn);
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "from", an);
	cJSON_AddStringToObject(e, "to", bn);
	cJSON_AddStringToObject(e, "type", type < 0 ? "SAME_CONTENT" : kf_event_type_name(type));
	cJSON_AddStringToObject(e, "path", path ? path : "");
	cJSON_AddItemToArray(t->edges, e);
}

/* Mark frontier nodes of the --until type so they are not expanded. */
static int mark_stops(struct trace *t, const size_t *frontier, size_t nf, struct kf_err *err)
{
	static const char *const sql[] = {
		"SELECT a.id AS id FROM Artifact a JOIN Type ty ON ty.id = a.type_id"
		" WHERE ty.name = ?2 AND a.id IN (SELECT value FROM json_each(?1))",
		"SELECT x.id AS id FROM Execution x JOIN Type ty ON ty.id = x.type_id"
		" WHERE ty.name = ?2 AND x.id IN (SELECT value FROM json_each(?1))",
	};
	int k, rc = 0;

	if (!t->until)
		return 0;
	for (k = 0; k < 2 && !rc; k++) {
		int64_t *ids = kf_xcalloc(nf + 1, sizeof *ids);
		size_t i, n = 0, idx;
		cJSON *b, *rows = NULL, *r;
		char *list;

		for (i = 0; i < nf; i++)
			if (t->nodes[frontier[i]].kind == (enum kf_lineage_kind)k)
				ids[n++] = t->nodes[frontier[i]].id;
		if (n) {
			list = id_list(ids, n);
			b = binds1s(list);
			cJSON_AddItemToArray(b, cJSON_CreateString(t->until));
			rc = query(t->st, sql[k], b, &rows, err);
			for (r = rows ? rows->child : NULL; r; r = r->next)
				if (idmap_get(&t->index, node_key((enum kf_lineage_kind)k, num(r, "id")), &idx))
					t->nodes[idx].stop = true;
			cJSON_Delete(rows);
			cJSON_Delete(b);
			free(list);
		}
		free(ids);
	}
	return rc;
}

/* Artifacts with the same content are one thing seen by several commands
 * (a model a step wrote, the copy pushed to a repository, the bundle kf
 * serve loaded): join them to the frontier at the same hop count, with a
 * SAME_CONTENT edge, so a walk crosses from one command's record to the
 * next. */
static int add_same_content(struct trace *t, size_t **frontier, size_t *nf, size_t *cap,
			    struct kf_err *err)
{
	int64_t *ids = kf_xcalloc(*nf + 1, sizeof *ids);
	size_t n = 0, i, end = *nf;
	cJSON *b, *rows = NULL, *r;
	char *list;
	int rc;

	for (i = 0; i < end; i++)
		if (t->nodes[(*frontier)[i]].kind == KF_LIN_ARTIFACT)
			ids[n++] = t->nodes[(*frontier)[i]].id;
	if (!n) {
		free(ids);
		return 0;
	}
	list = id_list(ids, n);
	b = binds1s(list);
	/* not across runs: when two runs' executions wrote the same bytes, each
	 * keeps its own provenance; within a run, or with a record made outside
	 * any run (kf train inside a step, a file a command read, a copy), the
	 * same bytes are the same thing */
	rc = query(t->st, "SELECT a.id AS a, s.id AS s,"
		   " EXISTS (SELECT 1 FROM Event e WHERE e.artifact_id = a.id AND e.type IN (4, 6)) AS ap,"
		   " EXISTS (SELECT 1 FROM Event e WHERE e.artifact_id = s.id AND e.type IN (4, 6)) AS sp,"
		   " (SELECT at.context_id FROM Attribution at JOIN Context c ON c.id = at.context_id"
		   "  JOIN Type ct ON ct.id = c.type_id WHERE at.artifact_id = a.id AND ct.name = 'kf.Run'"
		   "  ORDER BY at.context_id LIMIT 1) AS ar,"
		   " (SELECT at.context_id FROM Attribution at JOIN Context c ON c.id = at.context_id"
		   "  JOIN Type ct ON ct.id = c.type_id WHERE at.artifact_id = s.id AND ct.name = 'kf.Run'"
		   "  ORDER BY at.context_id LIMIT 1) AS sr"
		   " FROM Artifact a JOIN Artifact s ON s.digest = a.digest AND s.id != a.id"
		   " WHERE a.id IN (SELECT value FROM json_each(?1)) AND a.digest IS NOT NULL"
		   " ORDER BY s.id", b, &rows, err);
	for (r = rows ? rows->child : NULL; r && !rc; r = r->next) {
		int64_t a = num(r, "a"), sib = num(r, "s"), ar = num(r, "ar"), sr = num(r, "sr");
		bool a_made = num(r, "ap") != 0, s_made = num(r, "sp") != 0, fresh;
		size_t from, idx;

		if ((a_made && s_made && ar && sr && ar != sr) ||
		    !idmap_get(&t->index, node_key(KF_LIN_ARTIFACT, a), &from))
			continue;
		idx = trace_add(t, KF_LIN_ARTIFACT, sib, t->nodes[from].hops, &fresh);
		fresh = walk_first(t, KF_LIN_ARTIFACT, sib);
		/* the edge points from the one an execution made (the first, when
		 * both were made) to the other */
		if ((s_made && !a_made) || (s_made == a_made && sib < a))
			trace_edge(t, KF_LIN_ARTIFACT, sib, KF_LIN_ARTIFACT, a, -1, NULL);
		else
			trace_edge(t, KF_LIN_ARTIFACT, a, KF_LIN_ARTIFACT, sib, -1, NULL);
		if (fresh) {
			KF_GROW(*frontier, *cap, *nf + 1);
			(*frontier)[(*nf)++] = idx;
		}
	}
	cJSON_Delete(rows);
	cJSON_Delete(b);
	free(list);
	free(ids);
	return rc;
}

/* One breadth-first walk in one direction from the root (node 0). */
static int trace_walk(struct trace *t, bool up, int hops, struct kf_err *err)
{
	size_t *frontier = kf_xcalloc(1, sizeof *frontier), nf = 1, fcap = 1, i;
	int level, rc = 0;

	frontier[0] = 0;
	idmap_release(&t->walk_seen);
	walk_first(t, t->nodes[0].kind, t->nodes[0].id);
	rc = add_same_content(t, &frontier, &nf, &fcap, err);
	for (level = 1; nf && (hops <= 0 || level <= hops) && !rc; level++) {
		size_t *next = NULL, nn = 0, ncap = 0;
		int k;

		for (k = 0; k < 2 && !rc; k++) {
			/* artifacts (k = 0) step to executions, executions to artifacts */
			int64_t *ids = kf_xcalloc(nf, sizeof *ids);
			size_t n = 0;
			int evtype;
			cJSON *b, *rows = NULL, *r;
			char *list;
			const char *sql;

			for (i = 0; i < nf; i++) {
				const struct tnode *nd = &t->nodes[frontier[i]];

				if (nd->kind == (enum kf_lineage_kind)k && !(nd->stop && frontier[i] != 0))
					ids[n++] = nd->id;
			}
			if (!n) {
				free(ids);
				continue;
			}
			/* upstream of an artifact: who wrote it (OUTPUT); of an
			 * execution: what it read (INPUT); downstream the reverse */
			evtype = (k == 0) == up ? KF_EVENT_OUTPUT : KF_EVENT_INPUT;
			sql = k == 0 ? "SELECT e.artifact_id AS a, e.execution_id AS x, e.type AS type,"
				       " p.step_key AS path FROM Event e LEFT JOIN EventPath p ON p.event_id = e.id"
				       " WHERE e.artifact_id IN (SELECT value FROM json_each(?1)) AND e.type = ?2"
				       " ORDER BY e.id"
				     : "SELECT e.artifact_id AS a, e.execution_id AS x, e.type AS type,"
				       " p.step_key AS path FROM Event e LEFT JOIN EventPath p ON p.event_id = e.id"
				       " WHERE e.execution_id IN (SELECT value FROM json_each(?1)) AND e.type = ?2"
				       " ORDER BY e.id";
			list = id_list(ids, n);
			b = binds1s(list);
			cJSON_AddItemToArray(b, cJSON_CreateNumber(evtype));
			rc = query(t->st, sql, b, &rows, err);
			for (r = rows ? rows->child : NULL; r && !rc; r = r->next) {
				int64_t a = num(r, "a"), x = num(r, "x");
				bool fresh;
				size_t idx;

				if (k == 0) {
					idx = trace_add(t, KF_LIN_EXECUTION, x, level, &fresh);
					fresh = walk_first(t, KF_LIN_EXECUTION, x);
				} else {
					idx = trace_add(t, KF_LIN_ARTIFACT, a, level, &fresh);
					fresh = walk_first(t, KF_LIN_ARTIFACT, a);
				}
				if (evtype == KF_EVENT_OUTPUT)
					trace_edge(t, KF_LIN_EXECUTION, x, KF_LIN_ARTIFACT, a, evtype, str(r, "path"));
				else
					trace_edge(t, KF_LIN_ARTIFACT, a, KF_LIN_EXECUTION, x, evtype, str(r, "path"));
				if (fresh) {
					KF_GROW(next, ncap, nn + 1);
					next[nn++] = idx;
				}
			}
			cJSON_Delete(rows);
			cJSON_Delete(b);
			free(list);
			free(ids);
		}
		free(frontier);
		frontier = next;
		nf = nn;
		fcap = ncap;
		if (!rc)
			rc = add_same_content(t, &frontier, &nf, &fcap, err);
		if (!rc)
			rc = mark_stops(t, frontier, nf, err);
	}
	free(frontier);
	return rc;
}

int kf_lineage_trace(struct kf_store *st, const struct kf_lineage_ref *root,
		     enum kf_lineage_dir dir, int hops, const char *until_type,
		     cJSON **out, struct kf_err *err)
{
	struct trace t = { .st = st, .until = until_type };
	cJSON *arts = NULL, *execs = NULL, *nodes, *r;
	int64_t *aid = NULL, *xid = NULL;
	size_t na = 0, nx = 0, acap = 0, xcap = 0, i, idx;
	bool fresh;
	char name[64];
	int rc = 0;

	*out = NULL;
	if (root->kind == KF_LIN_CONTEXT)
		return kf_err_set(err, KF_EINPUT, "a trace starts at an artifact or an execution, not a context");
	t.edges = cJSON_CreateArray();
	trace_add(&t, root->kind, root->id, 0, &fresh);
	if (dir & KF_LIN_UPSTREAM)
		rc = trace_walk(&t, true, hops, err);
	if (!rc && (dir & KF_LIN_DOWNSTREAM))
		rc = trace_walk(&t, false, hops, err);
	for (i = 0; !rc && i < t.n; i++) {
		if (t.nodes[i].kind == KF_LIN_ARTIFACT) {
			KF_GROW(aid, acap, na + 1);
			aid[na++] = t.nodes[i].id;
		} else {
			KF_GROW(xid, xcap, nx + 1);
			xid[nx++] = t.nodes[i].id;
		}
	}
	if (!rc)
		rc = summaries(st, KF_LIN_ARTIFACT, aid, na, &arts, err);
	if (!rc)
		rc = summaries(st, KF_LIN_EXECUTION, xid, nx, &execs, err);
	if (!rc)
		rc = attach_props(st, KF_LIN_ARTIFACT, arts, err);
	if (!rc)
		rc = attach_props(st, KF_LIN_EXECUTION, execs, err);
	if (rc)
		goto out;
	/* nodes in walk order (root first), each with its hop count */
	nodes = cJSON_CreateArray();
	{
		struct idmap where = { 0 };
		cJSON *all[2] = { arts, execs };
		int k;

		for (k = 0; k < 2; k++)
			for (r = all[k]->child, i = 0; r; r = r->next, i++)
				idmap_put(&where, node_key((enum kf_lineage_kind)k, num(r, "id")),
					  (size_t)k << 32 | i);
		for (i = 0; i < t.n; i++) {
			cJSON *item;

			if (!idmap_get(&where, node_key(t.nodes[i].kind, t.nodes[i].id), &idx))
				continue;
			item = cJSON_Duplicate(cJSON_GetArrayItem(all[idx >> 32], (int)(idx & 0xffffffffu)), 1);
			cJSON_AddNumberToObject(item, "hops", t.nodes[i].hops);
			cJSON_AddItemToArray(nodes, item);
		}
		idmap_release(&where);
	}
	*out = cJSON_CreateObject();
	kf_lineage_ref_name(root, name, sizeof name);
	cJSON_AddStringToObject(*out, "kind", "Lineage");
	cJSON_AddStringToObject(*out, "name", name);
	cJSON_AddStringToObject(*out, "direction", dir == KF_LIN_BOTH ? "both" : dir == KF_LIN_UPSTREAM ? "upstream" : "downstream");
	cJSON_AddItemToObject(*out, "items", nodes);
	cJSON_AddItemToObject(*out, "edges", t.edges);
	t.edges = NULL;
out:
	cJSON_Delete(arts);
	cJSON_Delete(execs);
	cJSON_Delete(t.edges);
	free(t.nodes);
	free(aid);
	free(xid);
	idmap_release(&t.index);
	idmap_release(&t.edge_seen);
	idmap_release(&t.walk_seen);
	return rc;
}

/* ---- rendering -------------------------------------------------------------- */

static void dot_str(struct kf_buf *b, const char *s)
{
	kf_buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			kf_buf_addc(b, '\\');
		if (*s == '\n') {
			kf_buf_adds(b, "\\n");
			continue;
		}
		kf_buf_addc(b, *s);
	}
	kf_buf_addc(b, '"');
}

static char *node_label(const cJSON *n)
{
	const char *label = str(n, "label"), *uri = str(n, "uri");
	const char *shown = label && *label ? label : uri && *uri ? kf_path_basename(uri) : str(n, "name");

	return kf_xasprintf("%s\n%s", str(n, "type") ? str(n, "type") : "", shown ? shown : "");
}

void kf_lineage_render_dot(const cJSON *graph, struct kf_buf *out)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(graph, "items");
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(graph, "edges");
	const cJSON *n, *m, *e;
	struct kf_strv runs = KF_STRV_INIT;
	size_t i;

	kf_buf_adds(out, "digraph lineage {\n  rankdir=LR;\n"
			 "  node [fontname=\"Helvetica\", fontsize=10];\n");
	for (n = nodes ? nodes->child : NULL; n; n = n->next) {
		const char *run = str(n, "run");

		if (run && *run && !kf_strv_has(&runs, run))
			kf_strv_push(&runs, run);
	}
	for (i = 0; i <= runs.n; i++) {
		const char *run = i < runs.n ? runs.v[i] : NULL;

		if (run) {
			kf_buf_printf(out, "  subgraph \"cluster_%zu\" {\n    label=", i);
			dot_str(out, run);
			kf_buf_adds(out, ";\n    style=rounded;\n");
		}
		for (m = nodes ? nodes->child : NULL; m; m = m->next) {
			const char *r = str(m, "run");
			char *label;

			if (run ? !kf_str_eq(r, run) : (r && *r))
				continue;
			label = node_label(m);
			kf_buf_adds(out, run ? "    " : "  ");
			dot_str(out, str(m, "name"));
			kf_buf_printf(out, " [shape=%s, label=",
				      kf_str_eq(str(m, "kind"), "Artifact") ? "note" : "box");
			dot_str(out, label);
			if (num(m, "hops") == 0)
				kf_buf_adds(out, ", penwidth=2");
			kf_buf_adds(out, "];\n");
			free(label);
		}
		if (run)
			kf_buf_adds(out, "  }\n");
	}
	for (e = edges ? edges->child : NULL; e; e = e->next) {
		kf_buf_adds(out, "  ");
		dot_str(out, str(e, "from"));
		kf_buf_adds(out, " -> ");
		dot_str(out, str(e, "to"));
		if (str(e, "path") && *str(e, "path")) {
			kf_buf_adds(out, " [label=");
			dot_str(out, str(e, "path"));
			kf_buf_addc(out, ']');
		}
		kf_buf_adds(out, ";\n");
	}
	kf_buf_adds(out, "}\n");
	kf_strv_release(&runs);
}

/* Layered layout: a node's layer is the longest path to it from a source;
 * within a layer, nodes are ordered by the mean position of their
 * predecessors (one barycentre sweep), which keeps most edges short. */
struct vnode {
	const cJSON *json;
	int layer, pos;
	double bary;
	double x, y;
	int color;
};

static int cmp_bary(const void *a, const void *b)
{
	const struct vnode *const *x = a, *const *y = b;

	if ((*x)->bary != (*y)->bary)
		return (*x)->bary < (*y)->bary ? -1 : 1;
	return (*x)->pos - (*y)->pos;
}

#define BOX_W 190
#define BOX_H 46
#define COL_W 250
#define ROW_H 68

static const char *const palette[] = { "#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#ede9fe",
				       "#cffafe", "#fee2e2", "#e0e7ff" };

static void svg_text(struct kf_buf *b, const char *s, size_t max)
{
	char *cut = strlen(s) > max ? kf_xasprintf("%.*s…", (int)(max - 1), s) : kf_xstrdup(s);

	kf_buf_add_html_escaped(b, cut);
	free(cut);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0;

	for (; s && *s; s++)
		h = h * 131 + (unsigned char)*s;
	return h;
}

static void layout(struct vnode *v, size_t n, const cJSON *edges, struct idmap *by_name_hash,
		   int *layers_out, int *rows_out)
{
	const cJSON *e;
	bool changed = true;
	int rounds = 0, layers = 0, l;
	size_t i, idx_from, idx_to;

	for (i = 0; i < n; i++)
		v[i].layer = 0;
	/* longest path by relaxation; a DAG settles in at most n rounds */
	while (changed && rounds++ < (int)n + 1) {
		changed = false;
		for (e = edges ? edges->child : NULL; e; e = e->next) {
			if (!idmap_get(by_name_hash, name_hash(str(e, "from")), &idx_from) ||
			    !idmap_get(by_name_hash, name_hash(str(e, "to")), &idx_to))
				continue;
			if (v[idx_to].layer < v[idx_from].layer + 1) {
				v[idx_to].layer = v[idx_from].layer + 1;
				changed = true;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (v[i].layer + 1 > layers)
			layers = v[i].layer + 1;
	*rows_out = 0;
	for (l = 0; l < layers; l++) {
		struct vnode **col = kf_xcalloc(n, sizeof *col);
		size_t m = 0, j;

		for (i = 0; i < n; i++)
			if (v[i].layer == l)
				col[m++] = &v[i];
		for (j = 0; j < m; j++) {
			double sum = 0;
			int cnt = 0;

			for (e = edges ? edges->child : NULL; e; e = e->next) {
				if (idmap_get(by_name_hash, name_hash(str(e, "to")), &idx_to) && &v[idx_to] == col[j] &&
				    idmap_get(by_name_hash, name_hash(str(e, "from")), &idx_from) &&
				    v[idx_from].layer < l) {
					sum += v[idx_from].pos;
					cnt++;
				}
			}
			col[j]->pos = (int)j;
			col[j]->bary = cnt ? sum / cnt : (double)j;
		}
		qsort(col, m, sizeof *col, cmp_bary);
		for (j = 0; j < m; j++) {
			col[j]->pos = (int)j;
			col[j]->x = 20 + l * COL_W;
			col[j]->y = 20 + (double)j * ROW_H;
		}
		if ((int)m > *rows_out)
			*rows_out = (int)m;
		free(col);
	}
	*layers_out = layers;
}

void kf_lineage_render_svg(const cJSON *graph, bool html, struct kf_buf *out)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(graph, "items");
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(graph, "edges");
	const cJSON *n, *e;
	struct kf_strv runs = KF_STRV_INIT;
	struct idmap by_name = { 0 };
	struct vnode *v;
	size_t count = 0, i, a, b;
	int layers = 0, rows = 0, width, height;

	for (n = nodes ? nodes->child : NULL; n; n = n->next)
		count++;
	v = kf_xcalloc(count ? count : 1, sizeof *v);
	for (n = nodes ? nodes->child : NULL, i = 0; n; n = n->next, i++) {
		const char *run = str(n, "run");

		v[i].json = n;
		v[i].color = -1;
		if (run && *run) {
			size_t k;

			if (!kf_strv_has(&runs, run))
				kf_strv_push(&runs, run);
			for (k = 0; k < runs.n; k++)
				if (!strcmp(runs.v[k], run))
					v[i].color = (int)(k % (sizeof palette / sizeof palette[0]));
		}
		idmap_put(&by_name, name_hash(str(n, "name")), i);
	}
	layout(v, count, edges, &by_name, &layers, &rows);
	width = 40 + (layers ? layers : 1) * COL_W;
	height = 40 + (rows ? rows : 1) * ROW_H + 24 * (int)(runs.n ? runs.n + 1 : 0);
	if (html) {
		kf_buf_adds(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lineage of ");
		kf_buf_add_html_escaped(out, str(graph, "name") ? str(graph, "name") : "");
		kf_buf_adds(out, "</title>\n<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111}"
				 "table{border-collapse:collapse;margin-top:16px}td,th{border:1px solid #ccc;"
				 "padding:3px 8px;text-align:left;font-size:13px}th{background:#f3f4f6}"
				 "code{font-size:12px}</style></head><body>\n<h1>Lineage of ");
		kf_buf_add_html_escaped(out, str(graph, "name") ? str(graph, "name") : "");
		kf_buf_adds(out, "</h1>\n");
	}
	kf_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		      "viewBox=\"0 0 %d %d\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"11\">\n"
		      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
		      "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
		      "fill=\"#555\"/></marker></defs>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		      width, height, width, height);
	for (e = edges ? edges->child : NULL; e; e = e->next) {
		double x1, y1, x2, y2;

		if (!idmap_get(&by_name, name_hash(str(e, "from")), &a) ||
		    !idmap_get(&by_name, name_hash(str(e, "to")), &b))
			continue;
		x1 = v[a].x + BOX_W;
		y1 = v[a].y + BOX_H / 2.0;
		x2 = v[b].x;
		y2 = v[b].y + BOX_H / 2.0;
		kf_buf_printf(out, "<path d=\"M%.0f,%.0f C%.0f,%.0f %.0f,%.0f %.0f,%.0f\" fill=\"none\" "
			      "stroke=\"#555\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"><title>",
			      x1, y1, x1 + 30, y1, x2 - 30, y2, x2, y2);
		kf_buf_add_html_escaped(out, str(e, "type") ? str(e, "type") : "");
		kf_buf_adds(out, " ");
		kf_buf_add_html_escaped(out, str(e, "path") ? str(e, "path") : "");
		kf_buf_adds(out, "</title></path>\n");
	}
	for (i = 0; i < count; i++) {
		const cJSON *j = v[i].json;
		bool artifact = kf_str_eq(str(j, "kind"), "Artifact");
		const char *label = str(j, "label"), *uri = str(j, "uri");
		const char *shown = label && *label ? label : uri && *uri ? kf_path_basename(uri) : "";
		const char *fill = v[i].color >= 0 ? palette[v[i].color] : "#f9fafb";

		kf_buf_printf(out, "<g><title>");
		kf_buf_add_html_escaped(out, str(j, "name") ? str(j, "name") : "");
		kf_buf_printf(out, "</title><rect x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" rx=\"%d\" "
			      "fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>", v[i].x, v[i].y, BOX_W, BOX_H,
			      artifact ? 12 : 2, fill, artifact ? "#6b7280" : "#111827",
			      num(j, "hops") == 0 ? "3" : "1");
		kf_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", v[i].x + 8, v[i].y + 17);
		svg_text(out, str(j, "type") ? str(j, "type") : "", 28);
		kf_buf_printf(out, "</text><text x=\"%.0f\" y=\"%.0f\">", v[i].x + 8, v[i].y + 33);
		svg_text(out, str(j, "name") ? str(j, "name") : "", 14);
		kf_buf_adds(out, " ");
		svg_text(out, shown, 16);
		kf_buf_adds(out, "</text></g>\n");
	}
	for (i = 0; i < runs.n; i++) {
		double y = 40 + (rows ? rows : 1) * ROW_H + 24.0 * (double)i;

		kf_buf_printf(out, "<rect x=\"20\" y=\"%.0f\" width=\"14\" height=\"14\" fill=\"%s\" "
			      "stroke=\"#6b7280\"/><text x=\"40\" y=\"%.0f\">run ", y,
			      palette[i % (sizeof palette / sizeof palette[0])], y + 11);
		kf_buf_add_html_escaped(out, runs.v[i]);
		kf_buf_adds(out, "</text>\n");
	}
	kf_buf_adds(out, "</svg>\n");
	if (html) {
		kf_buf_adds(out, "<table><tr><th>node</th><th>type</th><th>name</th><th>run</th><th>hops</th>"
				 "<th>digest</th></tr>\n");
		for (n = nodes ? nodes->child : NULL; n; n = n->next) {
			const char *fields[] = { str(n, "name"), str(n, "type"), str(n, "label"), str(n, "run") };
			size_t k;

			kf_buf_adds(out, "<tr>");
			for (k = 0; k < 4; k++) {
				kf_buf_adds(out, "<td>");
				kf_buf_add_html_escaped(out, fields[k] ? fields[k] : "");
				kf_buf_adds(out, "</td>");
			}
			kf_buf_printf(out, "<td>%lld</td><td><code>", (long long)num(n, "hops"));
			kf_buf_add_html_escaped(out, str(n, "digest") ? str(n, "digest") : "");
			kf_buf_adds(out, "</code></td></tr>\n");
		}
		kf_buf_adds(out, "</table>\n</body></html>\n");
	}
	free(v);
	idmap_release(&by_name);
	kf_strv_release(&runs);
}

/* ---- diff ------------------------------------------------------------------ */

static void add_change(cJSON *items, const char *what, const char *name, const char *v1, const char *v2)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "kind", "Difference");
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "what", what);
	cJSON_AddStringToObject(c, "run1", v1 ? v1 : "(none)");
	cJSON_AddStringToObject(c, "run2", v2 ? v2 : "(none)");
	cJSON_AddItemToArray(items, c);
}

/* Compare two objects member by member (as text), reporting under what. */
static void diff_objects(cJSON *items, const char *what, const char *prefix, const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	for (x = a ? a->child : NULL; x; x = x->next) {
		char *t1 = kf_json_text(x), *t2 = NULL, *name;

		y = b ? cJSON_GetObjectItemCaseSensitive(b, x->string) : NULL;
		if (y)
			t2 = kf_json_text(y);
		name = kf_xasprintf("%s%s", prefix, x->string);
		if (!y || strcmp(t1, t2))
			add_change(items, what, name, t1, y ? t2 : NULL);
		free(name);
		free(t1);
		free(t2);
	}
	for (y = b ? b->child : NULL; y; y = y->next) {
		char *t2, *name;

		if (a && cJSON_GetObjectItemCaseSensitive(a, y->string))
			continue;
		t2 = kf_json_text(y);
		name = kf_xasprintf("%s%s", prefix, y->string);
		add_change(items, what, name, NULL, t2);
		free(name);
		free(t2);
	}
}

/* {task: {path: digest}} of the INPUT artifacts of a run's task executions. */
static cJSON *task_inputs(struct kf_store *st, const cJSON *tasks, struct kf_err *err)
{
	cJSON *by_task = cJSON_CreateObject(), *rows = NULL, *b, *r;
	const cJSON *t;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	struct idmap m = { 0 };
	char *list;

	for (t = tasks ? tasks->child : NULL; t; t = t->next) {
		if (num(t, "execution_id") <= 0 || !str(t, "task"))
			continue;
		KF_GROW(ids, cap, n + 1);
		ids[n++] = num(t, "execution_id");
		cJSON_AddItemToObject(by_task, str(t, "task"), cJSON_CreateObject());
		idmap_put(&m, (uint64_t)num(t, "execution_id"), (size_t)cJSON_GetArraySize(by_task) - 1);
	}
	list = id_list(ids, n);
	b = binds1s(list);
	if (query(st, "SELECT e.execution_id AS x, p.step_key AS path, a.digest AS digest FROM Event e"
		  " JOIN Artifact a ON a.id = e.artifact_id LEFT JOIN EventPath p ON p.event_id = e.id"
		  " WHERE e.type = 3 AND e.execution_id IN (SELECT value FROM json_each(?1)) ORDER BY e.id",
		  b, &rows, err) == 0) {
		for (r = rows->child; r; r = r->next) {
			size_t idx;
			cJSON *slot;

			if (!idmap_get(&m, (uint64_t)num(r, "x"), &idx))
				continue;
			slot = cJSON_GetArrayItem(by_task, (int)idx);
			if (str(r, "path") && !cJSON_GetObjectItemCaseSensitive(slot, str(r, "path")))
				cJSON_AddStringToObject(slot, str(r, "path"), str(r, "digest") ? str(r, "digest") : "");
		}
	}
	cJSON_Delete(rows);
	cJSON_Delete(b);
	free(list);
	free(ids);
	idmap_release(&m);
	return by_task;
}

/* Numbers in a metrics file: a flat JSON object, or KFP's
 * {"metrics": [{"name": ..., "numberValue": ...}]}. */
static cJSON *read_metrics(const char *uri)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_err err;
	struct stat sb;
	cJSON *doc, *out = NULL, *m;

	if (!uri || stat(uri, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20))
		return NULL;
	if (kf_fs_read_file(uri, &text, &err) != 0) {
		kf_buf_release(&text);
		return NULL;
	}
	doc = cJSON_Parse(kf_buf_str(&text));
	kf_buf_release(&text);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return NULL;
	}
	out = cJSON_CreateObject();
	m = cJSON_GetObjectItemCaseSensitive(doc, "metrics");
	if (cJSON_IsArray(m)) {
		const cJSON *e;

		for (e = m->child; e; e = e->next)
			if (str(e, "name") && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "numberValue")))
				cJSON_AddNumberToObject(out, str(e, "name"),
							cJSON_GetObjectItemCaseSensitive(e, "numberValue")->valuedouble);
	} else {
		for (m = doc->child; m; m = m->next)
			if (cJSON_IsNumber(m))
				cJSON_AddNumberToObject(out, m->string, m->valuedouble);
	}
	cJSON_Delete(doc);
	return out;
}

static void diff_task(cJSON *items, const char *task, const cJSON *t1, const cJSON *t2,
		      const cJSON *in1, const cJSON *in2)
{
	const char *s1 = t1 ? str(t1, "state") : NULL, *s2 = t2 ? str(t2, "state") : NULL;
	const cJSON *o1 = t1 ? cJSON_GetObjectItemCaseSensitive(t1, "outputs") : NULL;
	const cJSON *o2 = t2 ? cJSON_GetObjectItemCaseSensitive(t2, "outputs") : NULL;
	const cJSON *a1 = cJSON_GetObjectItemCaseSensitive(o1, "artifacts");
	const cJSON *a2 = cJSON_GetObjectItemCaseSensitive(o2, "artifacts");
	cJSON *d1 = cJSON_CreateObject(), *d2 = cJSON_CreateObject();
	const cJSON *x;
	char *prefix = kf_xasprintf("%s.", task);

	if (!kf_str_eq(s1, s2)) {
		bool cache1 = kf_str_eq(s1, "Cached"), cache2 = kf_str_eq(s2, "Cached");

		if (s1 && s2 && cache1 != cache2 &&
		    (kf_str_eq(s1, "Succeeded") || kf_str_eq(s2, "Succeeded")))
			add_change(items, "cached", task, cache1 ? "cached" : "executed",
				   cache2 ? "cached" : "executed");
		else
			add_change(items, "state", task, s1, s2);
	}
	diff_objects(items, "input", prefix, cJSON_GetObjectItemCaseSensitive(in1, task),
		     cJSON_GetObjectItemCaseSensitive(in2, task));
	diff_objects(items, "output", prefix, cJSON_GetObjectItemCaseSensitive(o1, "params"),
		     cJSON_GetObjectItemCaseSensitive(o2, "params"));
	for (x = a1 ? a1->child : NULL; x; x = x->next)
		cJSON_AddStringToObject(d1, x->string, str(x, "digest") ? str(x, "digest") : "");
	for (x = a2 ? a2->child : NULL; x; x = x->next)
		cJSON_AddStringToObject(d2, x->string, str(x, "digest") ? str(x, "digest") : "");
	diff_objects(items, "artifact", prefix, d1, d2);
	/* metrics: output artifacts whose name says so */
	for (x = a1 ? a1->child : NULL; x; x = x->next) {
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(a2, x->string);
		cJSON *m1, *m2;

		if (!strstr(x->string, "metrics") || !y)
			continue;
		m1 = read_metrics(str(x, "uri"));
		m2 = read_metrics(str(y, "uri"));
		if (m1 && m2)
			diff_objects(items, "metric", prefix, m1, m2);
		cJSON_Delete(m1);
		cJSON_Delete(m2);
	}
	cJSON_Delete(d1);
	cJSON_Delete(d2);
	free(prefix);
}

int kf_lineage_diff(struct kf_store *st, const char *run1, const char *run2, cJSON **out,
		    bool *same, struct kf_err *err)
{
	cJSON *r1 = NULL, *r2 = NULL, *t1 = NULL, *t2 = NULL, *in1 = NULL, *in2 = NULL, *items;
	const cJSON *t;
	int rc;

	*out = NULL;
	if ((rc = kf_store_run_get(st, run1, &r1, err)) || (rc = kf_store_run_get(st, run2, &r2, err)) ||
	    (rc = kf_store_task_list(st, str(r1, "id"), &t1, err)) ||
	    (rc = kf_store_task_list(st, str(r2, "id"), &t2, err)))
		goto out;
	in1 = task_inputs(st, t1, err);
	in2 = task_inputs(st, t2, err);
	items = cJSON_CreateArray();
	if (!kf_str_eq(str(r1, "pipeline"), str(r2, "pipeline")))
		add_change(items, "pipeline", "pipeline", str(r1, "pipeline"), str(r2, "pipeline"));
	diff_objects(items, "param", "", cJSON_GetObjectItemCaseSensitive(r1, "params"),
		     cJSON_GetObjectItemCaseSensitive(r2, "params"));
	if (!kf_str_eq(str(r1, "state"), str(r2, "state")))
		add_change(items, "state", "run", str(r1, "state"), str(r2, "state"));
	for (t = t1->child; t; t = t->next) {
		const cJSON *other = NULL, *u;

		for (u = t2->child; u; u = u->next)
			if (kf_str_eq(str(u, "task"), str(t, "task")))
				other = u;
		diff_task(items, str(t, "task") ? str(t, "task") : "", t, other, in1, in2);
	}
	for (t = t2->child; t; t = t->next) {
		const cJSON *u;
		bool found = false;

		for (u = t1->child; u; u = u->next)
			if (kf_str_eq(str(u, "task"), str(t, "task")))
				found = true;
		if (!found)
			diff_task(items, str(t, "task") ? str(t, "task") : "", NULL, t, in1, in2);
	}
	*same = cJSON_GetArraySize(items) == 0;
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "kind", "RunDiff");
	{
		char *name = kf_xasprintf("%s..%s", str(r1, "id"), str(r2, "id"));

		cJSON_AddStringToObject(*out, "name", name);
		free(name);
	}
	cJSON_AddItemToObject(*out, "items", items);
out:
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	cJSON_Delete(t1);
	cJSON_Delete(t2);
	cJSON_Delete(in1);
	cJSON_Delete(in2);
	return rc;
}

/* ---- gc -------------------------------------------------------------------- */

static int64_t tree_bytes(const char *path)
{
	struct stat sb;
	int64_t total = 0;

	if (lstat(path, &sb) != 0)
		return 0;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char *child;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			child = kf_path_join(path, e->d_name);
			total += tree_bytes(child);
			free(child);
		}
		if (d)
			closedir(d);
		return total;
	}
	return (int64_t)sb.st_size;
}

/* Hash a digest string for the set of kept digests. */
static uint64_t digest_key(const char *hex)
{
	uint64_t h = 1469598103934665603ull;

	for (; hex && *hex; hex++)
		h = (h ^ (unsigned char)*hex) * 1099511628211ull;
	return h;
}

struct gc_item {
	char *digest;
	char *uri;
	cJSON *ids;
	const char *reason;
};

static void gc_report(cJSON *items, const struct gc_item *g, int64_t bytes)
{
	cJSON *o = cJSON_CreateObject();
	char short_name[16];

	snprintf(short_name, sizeof short_name, "%.12s", g->digest);
	cJSON_AddStringToObject(o, "kind", "GcItem");
	cJSON_AddStringToObject(o, "name", short_name);
	cJSON_AddStringToObject(o, "digest", g->digest);
	cJSON_AddStringToObject(o, "uri", g->uri ? g->uri : "");
	cJSON_AddItemToObject(o, "artifacts", g->ids ? cJSON_Duplicate(g->ids, 1) : cJSON_CreateArray());
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddStringToObject(o, "reason", g->reason);
	cJSON_AddItemToArray(items, o);
}

/* Content files under artifacts/sha256/XX/ that no artifact row names. */
static void find_orphans(struct kf_store *st, const char *root, const struct idmap *known,
			 struct gc_item **list, size_t *n, size_t *cap)
{
	DIR *d = opendir(root);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *sub;
		DIR *d2;
		struct dirent *f;

		if (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0]))
			continue;
		sub = kf_path_join(root, e->d_name);
		d2 = opendir(sub);
		while (d2 && (f = readdir(d2))) {
			char hex[KF_SHA256_HEX_LEN + 1];

			if (strlen(f->d_name) != KF_SHA256_HEX_LEN - 2 || !all_hex(f->d_name))
				continue;
			snprintf(hex, sizeof hex, "%s%s", e->d_name, f->d_name);
			if (idmap_get(known, digest_key(hex), NULL))
				continue;
			KF_GROW(*list, *cap, *n + 1);
			(*list)[*n] = (struct gc_item){ kf_xstrdup(hex), kf_store_blob_path(st, hex), NULL,
							"no artifact refers to it" };
			(*n)++;
		}
		if (d2)
			closedir(d2);
		free(sub);
	}
	if (d)
		closedir(d);
}

int kf_lineage_gc(struct kf_store *st, int keep_last, bool dry_run, cJSON **out,
		  struct kf_err *err)
{
	static const char rows_sql[] =
		"SELECT a.id AS id, a.digest AS digest, a.uri AS uri,"
		" (EXISTS (SELECT 1 FROM Attribution at JOIN Context c ON c.id = at.context_id"
		"   JOIN Type t ON t.id = c.type_id WHERE at.artifact_id = a.id AND t.name = 'kf.Run')"
		"  AND NOT EXISTS (SELECT 1 FROM Attribution at WHERE at.artifact_id = a.id"
		"   AND at.context_id IN (SELECT value FROM json_each(?1)))) AS dropped,"
		" EXISTS (SELECT 1 FROM Event e JOIN Execution x ON x.id = e.execution_id"
		"   JOIN Type t ON t.id = x.type_id WHERE e.artifact_id = a.id AND e.type = 3"
		"   AND (t.name LIKE 'kf.Serve%' OR t.name LIKE 'kf.Deploy%')) AS served"
		" FROM Artifact a WHERE a.digest IS NOT NULL AND (a.state IS NULL OR a.state != 4)";
	cJSON *runs = NULL, *rows = NULL, *binds = NULL, *items, *r;
	struct idmap kept = { 0 }, known = { 0 };
	struct gc_item *list = NULL;
	size_t n = 0, cap = 0, i;
	int64_t *ctx = NULL, total = 0;
	size_t nctx = 0, ccap = 0;
	/* the content root is two levels above any blob: <root>/ab/cdef... */
	char *store_blobs = kf_store_blob_path(st, "0000000000000000000000000000000000000000000000000000000000000000");
	char *fan_dir = kf_path_dirname(store_blobs);
	char *blob_root = kf_path_dirname(fan_dir);
	int rc, k = 0;

	*out = NULL;
	if ((rc = query(st, "SELECT id, context_id FROM kf_run ORDER BY created DESC, rowid DESC",
			NULL, &runs, err)))
		goto out;
	for (r = runs->child; r; r = r->next, k++)
		if (keep_last < 0 || k < keep_last) {
			KF_GROW(ctx, ccap, nctx + 1);
			ctx[nctx++] = num(r, "context_id");
		}
	{
		char *list_text = id_list(ctx, nctx);

		binds = binds1s(list_text);
		free(list_text);
	}
	if ((rc = query(st, rows_sql, binds, &rows, err)))
		goto out;
	/* kept digests first: a blob shared with any kept artifact stays */
	for (r = rows->child; r; r = r->next) {
		idmap_put(&known, digest_key(str(r, "digest")), 0);
		if (!num(r, "dropped") || num(r, "served"))
			idmap_put(&kept, digest_key(str(r, "digest")), 0);
	}
	for (r = rows->child; r; r = r->next) {
		const char *digest = str(r, "digest"), *uri = str(r, "uri");
		size_t j;

		if (!num(r, "dropped") || num(r, "served") || idmap_get(&kept, digest_key(digest), NULL))
			continue;
		/* only content kf owns: never a user's file that an artifact names */
		if (!uri || !kf_str_starts(uri, blob_root))
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(list[j].digest, digest))
				break;
		if (j == n) {
			KF_GROW(list, cap, n + 1);
			list[n++] = (struct gc_item){ kf_xstrdup(digest), kf_xstrdup(uri), cJSON_CreateArray(),
						      "its runs are not kept" };
		}
		cJSON_AddItemToArray(list[j].ids, cJSON_CreateNumber((double)num(r, "id")));
	}
	find_orphans(st, blob_root, &known, &list, &n, &cap);
	items = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		char *path = kf_store_blob_path(st, list[i].digest);
		int64_t bytes = tree_bytes(path);

		total += bytes;
		gc_report(items, &list[i], bytes);
		free(path);
	}
	if (!dry_run) {
		/* mark first, then remove: a crash in between leaves only an
		 * unreferenced file, which the next gc finds as an orphan */
		if ((rc = kf_store_begin(st, err)))
			goto report;
		for (i = 0; i < n && !rc; i++) {
			const cJSON *id;

			for (id = list[i].ids ? list[i].ids->child : NULL; id && !rc; id = id->next)
				rc = kf_store_artifact_set_state(st, (int64_t)id->valuedouble, KF_ART_DELETED, err);
		}
		if (rc) {
			kf_store_rollback(st);
			goto report;
		}
		if ((rc = kf_store_commit(st, err)))
			goto report;
		for (i = 0; i < n && !rc; i++)
			rc = kf_store_blob_remove(st, list[i].digest, err);
	}
report:
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "kind", "GcReport");
	cJSON_AddStringToObject(*out, "name", dry_run ? "dry-run" : "gc");
	cJSON_AddNumberToObject(*out, "runs_kept", (double)nctx);
	cJSON_AddNumberToObject(*out, "bytes", (double)total);
	cJSON_AddBoolToObject(*out, "dry_run", dry_run);
	cJSON_AddItemToObject(*out, "items", items);
out:
	for (i = 0; i < n; i++) {
		free(list[i].digest);
		free(list[i].uri);
		cJSON_Delete(list[i].ids);
	}
	free(list);
	free(ctx);
	free(store_blobs);
	free(fan_dir);
	free(blob_root);
	idmap_release(&kept);
	idmap_release(&known);
	cJSON_Delete(runs);
	cJSON_Delete(rows);
	cJSON_Delete(binds);
	return rc;
}
