/* kf_slice: TFMA slicing specs and row grouping (see kf_slice.h). */
#include "config.h"

#include "ml/kf_slice.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string -> id map (open addressing, FNV-1a). */
struct smap_ent {
	char *key;
	size_t len;
	size_t id;
};

struct smap {
	struct smap_ent *e;
	size_t cap, n;
};

#define NO_SLICE ((size_t)-1)

static uint64_t fnv(const char *s, size_t len)
{
	uint64_t h = UINT64_C(1469598103934665603);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static struct smap_ent *smap_slot(struct smap_ent *e, size_t cap, const char *k, size_t len)
{
	size_t i = (size_t)fnv(k, len) & (cap - 1);

	while (e[i].key && (e[i].len != len || memcmp(e[i].key, k, len)))
		i = (i + 1) & (cap - 1);
	return &e[i];
}

static const struct smap_ent *smap_get(const struct smap *m, const char *k, size_t len)
{
	const struct smap_ent *ent;

	if (!m->cap)
		return NULL;
	ent = smap_slot(m->e, m->cap, k, len);
	return ent->key ? ent : NULL;
}

static void smap_put(struct smap *m, const char *k, size_t len, size_t id)
{
	struct smap_ent *ent;

	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64, i;
		struct smap_ent *e = kf_xcalloc(cap, sizeof *e);

		for (i = 0; i < m->cap; i++)
			if (m->e[i].key)
				*smap_slot(e, cap, m->e[i].key, m->e[i].len) = m->e[i];
		free(m->e);
		m->e = e;
		m->cap = cap;
	}
	ent = smap_slot(m->e, m->cap, k, len);
	ent->key = kf_xmalloc(len + 1); /* keys may hold NUL bytes */
	memcpy(ent->key, k, len);
	ent->key[len] = 0;
	ent->len = len;
	ent->id = id;
	m->n++;
}

static void smap_release(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
}

struct kf_slicer {
	struct kf_slice_spec *specs;
	size_t n_specs;
	struct kf_slice *slices;
	size_t n_slices, cap_slices;
	struct smap raw;    /* spec + raw cells -> slice id (or NO_SLICE) */
	struct smap named;  /* slice name -> slice id */
	uint64_t *spec_rows;
	struct kf_buf key;
};

/* ---- specs --------------------------------------------------------------- */

static void spec_release(struct kf_slice_spec *sp)
{
	size_t i;

	for (i = 0; i < sp->n; i++) {
		free(sp->cols[i]);
		free(sp->values[i]);
	}
	free(sp->cols);
	free(sp->values);
	free(sp->idx);
	free(sp->text);
}

static int spec_parse(struct kf_slice_spec *sp, const char *text, struct kf_err *err)
{
	const char *p = text;

	memset(sp, 0, sizeof *sp);
	sp->text = kf_xstrdup(text);
	for (;;) {
		size_t len = strcspn(p, ","), i;
		const char *eq = memchr(p, '=', len);
		size_t name_len = eq ? (size_t)(eq - p) : len;

		if (!name_len)
			return kf_err_set(err, KF_EUSAGE, "slice \"%s\": empty column name", text);
		sp->cols = kf_xrealloc(sp->cols, (sp->n + 1) * sizeof *sp->cols);
		sp->values = kf_xrealloc(sp->values, (sp->n + 1) * sizeof *sp->values);
		sp->cols[sp->n] = kf_xstrndup(p, name_len);
		sp->values[sp->n] = eq ? kf_xstrndup(eq + 1, len - name_len - 1) : NULL;
		sp->n++;
		for (i = 0; i + 1 < sp->n; i++)
			if (!strcmp(sp->cols[i], sp->cols[sp->n - 1]))
				return kf_err_set(err, KF_EUSAGE, "slice \"%s\": column \"%s\" given twice",
						  text, sp->cols[i]);
		if (eq && !sp->values[sp->n - 1][0])
			return kf_err_set(err, KF_EUSAGE, "slice \"%s\": empty value for \"%s\"", text,
					  sp->cols[sp->n - 1]);
		if (!p[len])
			break;
		p += len + 1;
	}
	sp->idx = kf_xcalloc(sp->n, sizeof *sp->idx);
	return 0;
}

static void add_slice(struct kf_slicer *s, char *name, long spec, char **values)
{
	struct kf_slice *sl;

	KF_GROW(s->slices, s->cap_slices, s->n_slices + 1);
	sl = &s->slices[s->n_slices];
	sl->name = name;
	sl->spec = spec;
	sl->values = values;
	sl->count = 0;
	s->n_slices++;
}

int kf_slicer_new(struct kf_slicer **out, const char *const *texts, size_t n, struct kf_err *err)
{
	struct kf_slicer *s = kf_xcalloc(1, sizeof *s);
	size_t i;

	*out = NULL;
	s->specs = kf_xcalloc(n ? n : 1, sizeof *s->specs);
	s->spec_rows = kf_xcalloc(n ? n : 1, sizeof *s->spec_rows);
	for (i = 0; i < n; i++) {
		s->n_specs++;
		if (spec_parse(&s->specs[i], texts[i], err) < 0) {
			kf_slicer_free(s);
			return err->code;
		}
	}
	add_slice(s, kf_xstrdup("Overall"), -1, NULL);
	*out = s;
	return 0;
}

void kf_slicer_free(struct kf_slicer *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->n_specs; i++)
		spec_release(&s->specs[i]);
	for (i = 0; i < s->n_slices; i++) {
		if (s->slices[i].values) {
			for (j = 0; j < s->specs[s->slices[i].spec].n; j++)
				free(s->slices[i].values[j]);
			free(s->slices[i].values);
		}
		free(s->slices[i].name);
	}
	free(s->specs);
	free(s->slices);
	free(s->spec_rows);
	smap_release(&s->raw);
	smap_release(&s->named);
	kf_buf_release(&s->key);
	free(s);
}

int kf_slicer_resolve(struct kf_slicer *s, const char *const *names, size_t n, struct kf_err *err)
{
	size_t i, j, c;

	for (i = 0; i < s->n_specs; i++) {
		struct kf_slice_spec *sp = &s->specs[i];

		for (j = 0; j < sp->n; j++) {
			const char *hint;

			for (c = 0; c < n && strcmp(names[c], sp->cols[j]); c++)
				;
			if (c < n) {
				sp->idx[j] = (long)c;
				continue;
			}
			hint = kf_str_suggest(sp->cols[j], names, n);
			if (hint)
				return kf_err_set(err, KF_EINPUT,
						  "slice \"%s\": no column \"%s\" in the data (did you mean \"%s\"?)",
						  sp->text, sp->cols[j], hint);
			return kf_err_set(err, KF_EINPUT, "slice \"%s\": no column \"%s\" in the data",
					  sp->text, sp->cols[j]);
		}
	}
	return 0;
}

size_t kf_slicer_n_specs(const struct kf_slicer *s)
{
	return s->n_specs;
}

const struct kf_slice_spec *kf_slicer_spec(const struct kf_slicer *s, size_t i)
{
	return &s->specs[i];
}

/* ---- values ---------------------------------------------------------------- */

static bool as_number(const char *v, double *d)
{
	char *end;

	if (!*v)
		return false;
	*d = strtod(v, &end);
	while (*end == ' ')
		end++;
	return !*end && isfinite(*d);
}

/* The canonical text of a value: numbers in shortest round-trip form
 * ("12.0" -> "12"), anything else as is. */
static char *canonical(const char *v)
{
	double d, back;
	char buf[40];
	int prec;

	if (!as_number(v, &d))
		return kf_xstrdup(v);
	if (d == 0)
		d = 0;
	if (d == floor(d) && fabs(d) < 1e15)
		return kf_xasprintf("%.0f", d);
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		back = strtod(buf, NULL);
		if (back == d)
			break;
	}
	return kf_xstrdup(buf);
}

static bool value_matches(const char *cell, const char *want)
{
	double a, b;

	if (!strcmp(cell, want))
		return true;
	return as_number(cell, &a) && as_number(want, &b) && a == b;
}

/* The slice of spec i for a row not seen in the raw cache. */
static size_t slice_of(struct kf_slicer *s, size_t i, const char *const *values)
{
	const struct kf_slice_spec *sp = &s->specs[i];
	struct kf_buf name = KF_BUF_INIT;
	const struct smap_ent *ent;
	char **canon;
	size_t j;

	for (j = 0; j < sp->n; j++)
		if (sp->values[j] && !value_matches(values[sp->idx[j]], sp->values[j]))
			return NO_SLICE;
	canon = kf_xcalloc(sp->n, sizeof *canon);
	for (j = 0; j < sp->n; j++) {
		canon[j] = canonical(sp->values[j] ? sp->values[j] : values[sp->idx[j]]);
		kf_buf_printf(&name, "%s%s=%s", j ? "," : "", sp->cols[j], canon[j]);
	}
	/* the same name can come from two specs ("a" and "a=1"): each spec
	 * keeps its own slices, so a row is never counted twice in one */
	kf_buf_reset(&s->key);
	kf_buf_printf(&s->key, "%zu\x1f%s", i, kf_buf_str(&name));
	ent = smap_get(&s->named, s->key.data, s->key.len);
	if (ent) {
		for (j = 0; j < sp->n; j++)
			free(canon[j]);
		free(canon);
		kf_buf_release(&name);
		return ent->id;
	}
	smap_put(&s->named, s->key.data, s->key.len, s->n_slices);
	add_slice(s, kf_buf_detach(&name), (long)i, canon);
	return s->n_slices - 1;
}

size_t kf_slicer_row(struct kf_slicer *s, const char *const *values, size_t *ids)
{
	size_t n = 0, i, j;

	ids[n++] = 0;
	s->slices[0].count++;
	for (i = 0; i < s->n_specs; i++) {
		const struct kf_slice_spec *sp = &s->specs[i];
		const struct smap_ent *ent;
		size_t id;
		bool missing = false;

		/* raw key: spec index, then each cell with its length (no
		 * printf: this runs for every row) */
		kf_buf_reset(&s->key);
		kf_buf_add(&s->key, &i, sizeof i);
		for (j = 0; j < sp->n; j++) {
			const char *v = values[sp->idx[j]];
			size_t len;

			if (!v || !*v) {
				missing = true;
				break;
			}
			len = strlen(v);
			kf_buf_add(&s->key, &len, sizeof len);
			kf_buf_add(&s->key, v, len);
		}
		if (missing)
			continue;
		ent = smap_get(&s->raw, s->key.data, s->key.len);
		if (ent) {
			id = ent->id;
		} else {
			size_t len = s->key.len;
			char *raw = kf_buf_detach(&s->key);

			id = slice_of(s, i, values);
			smap_put(&s->raw, raw, len, id);
			free(raw);
		}
		if (id == NO_SLICE)
			continue;
		s->slices[id].count++;
		s->spec_rows[i]++;
		ids[n++] = id;
	}
	return n;
}

size_t kf_slicer_count(const struct kf_slicer *s)
{
	return s->n_slices;
}

const struct kf_slice *kf_slicer_get(const struct kf_slicer *s, size_t id)
{
	return &s->slices[id];
}

long kf_slicer_empty_spec(const struct kf_slicer *s)
{
	size_t i;

	for (i = 0; i < s->n_specs; i++)
		if (!s->spec_rows[i])
			return (long)i;
	return -1;
}

/* ---- order and JSON ---------------------------------------------------------- */

static int value_cmp(const char *a, const char *b)
{
	double x, y;
	bool nx = as_number(a, &x), ny = as_number(b, &y);

	if (nx && ny)
		return x < y ? -1 : x > y ? 1 : 0;
	if (nx != ny)
		return nx ? -1 : 1;
	return strcmp(a, b);
}

static const struct kf_slicer *sort_ctx;

static int slice_cmp(const void *pa, const void *pb)
{
	const struct kf_slice *a = &sort_ctx->slices[*(const size_t *)pa];
	const struct kf_slice *b = &sort_ctx->slices[*(const size_t *)pb];
	size_t j;

	if (a->spec != b->spec)
		return a->spec < b->spec ? -1 : 1;
	if (a->spec < 0)
		return 0;
	for (j = 0; j < sort_ctx->specs[a->spec].n; j++) {
		int c = value_cmp(a->values[j], b->values[j]);

		if (c)
			return c;
	}
	return 0;
}

size_t *kf_slicer_order(const struct kf_slicer *s, size_t *n)
{
	size_t *ids = kf_xmalloc(s->n_slices * sizeof *ids), i;

	for (i = 0; i < s->n_slices; i++)
		ids[i] = i;
	/* qsort has no context argument in C11; the order is computed once */
	sort_ctx = s;
	qsort(ids, s->n_slices, sizeof *ids, slice_cmp);
	sort_ctx = NULL;
	*n = s->n_slices;
	return ids;
}

cJSON *kf_slice_json(const struct kf_slicer *s, size_t id)
{
	const struct kf_slice *sl = &s->slices[id];
	cJSON *o = cJSON_CreateObject(), *f;
	size_t j;

	cJSON_AddStringToObject(o, "name", sl->name);
	f = cJSON_AddObjectToObject(o, "features");
	if (sl->spec >= 0)
		for (j = 0; j < s->specs[sl->spec].n; j++)
			cJSON_AddStringToObject(f, s->specs[sl->spec].cols[j], sl->values[j]);
	return o;
}
