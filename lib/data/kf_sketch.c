/* kf_sketch: quantile compactors, HyperLogLog and frequent values (see kf_sketch.h). */
#include "config.h"

#include "data/kf_sketch.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

/* MurmurHash3-style: 8 bytes a step, then the 64-bit finalizer. */
uint64_t kf_sketch_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0x87c37b91114253d5ull), k;
	size_t n = len;

	while (n >= 8) {
		memcpy(&k, p, 8);
		k *= 0x87c37b91114253d5ull;
		k = rotl64(k, 31);
		k *= 0x4cf5ad432745937full;
		h ^= k;
		h = rotl64(h, 27) * 5 + 0x52dce729;
		p += 8;
		n -= 8;
	}
	k = 0;
	memcpy(&k, p, n);
	k *= 0x87c37b91114253d5ull;
	k = rotl64(k, 31);
	k *= 0x4cf5ad432745937full;
	h ^= k;
	return fmix64(h);
}

/* ---- quantiles ----------------------------------------------------------- */

struct kf_quant_level {
	double *v;      /* 2k slots; sorted except at level 0 */
	size_t n;
	unsigned flip;  /* offset of the items kept at the next compaction */
};

/* Doubles (no NaN) as unsigned keys in the same order: flip every bit of a
 * negative number, only the sign bit of a positive one. */
static inline uint64_t key_of(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return (u >> 63) ? ~u : u | 0x8000000000000000ull;
}

static inline double double_of(uint64_t k)
{
	uint64_t u = (k >> 63) ? k & 0x7fffffffffffffffull : ~k;
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

/* LSD radix sort, a byte a pass; a pass where every key has the same byte
 * is skipped, which leaves two or three passes for typical columns (the
 * exponent bytes of similar numbers, the low bytes of small integers). */
static void sort_doubles(double *a, size_t n, uint64_t *keys, uint64_t *tmp)
{
	size_t count[8][256], i, b;
	uint64_t *src = keys, *dst = tmp, *t;

	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++) {
		uint64_t k = key_of(a[i]);

		keys[i] = k;
		for (b = 0; b < 8; b++)
			count[b][(k >> (8 * b)) & 0xff]++;
	}
	for (b = 0; b < 8; b++) {
		size_t sum = 0, c;

		if (count[b][(src[0] >> (8 * b)) & 0xff] == n)
			continue;
		for (c = 0; c < 256; c++) {
			size_t x = count[b][c];

			count[b][c] = sum;
			sum += x;
		}
		for (i = 0; i < n; i++)
			dst[count[b][(src[i] >> (8 * b)) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	for (i = 0; i < n; i++)
		a[i] = double_of(src[i]);
}

void kf_quant_init(struct kf_quant *q, size_t k)
{
	memset(q, 0, sizeof *q);
	q->k = k ? (k + 1) & ~(size_t)1 : KF_QUANT_K;
}

void kf_quant_release(struct kf_quant *q)
{
	size_t i;

	for (i = 0; i < q->nlevels; i++)
		free(q->lv[i].v);
	free(q->lv);
	free(q->keys);
	free(q->eslot);
	free(q->sv);
	free(q->sw);
	memset(q, 0, sizeof *q);
}

static void add_level(struct kf_quant *q)
{
	q->lv = kf_xrealloc(q->lv, (q->nlevels + 1) * sizeof *q->lv);
	q->lv[q->nlevels].v = kf_xmalloc(2 * q->k * sizeof(double));
	q->lv[q->nlevels].n = 0;
	q->lv[q->nlevels].flip = 0;
	q->nlevels++;
}

/* Halve level h into level h + 1: every other item of the sorted level,
 * starting at an offset that alternates, so that errors tend to cancel. */
static void compact(struct kf_quant *q, size_t h)
{
	struct kf_quant_level *l, *u;
	size_t m, half, i, a, b, w;
	double odd = 0;
	bool has_odd;

	if (h + 1 == q->nlevels)
		add_level(q);
	l = &q->lv[h];
	u = &q->lv[h + 1];
	if (h == 0)
		sort_doubles(l->v, l->n, q->keys, q->keys + q->k);
	has_odd = l->n & 1;
	if (has_odd)
		odd = l->v[l->n - 1];
	m = l->n & ~(size_t)1;
	half = m / 2;
	for (i = 0; i < half; i++)
		l->v[i] = l->v[2 * i + l->flip];
	l->flip ^= 1;
	/* merge l->v[0, half) into the sorted u->v, from the back */
	a = u->n;
	b = half;
	w = u->n + half;
	while (b > 0) {
		if (a > 0 && u->v[a - 1] > l->v[b - 1])
			u->v[--w] = u->v[--a];
		else
			u->v[--w] = l->v[--b];
	}
	u->n += half;
	l->n = 0;
	if (has_odd)
		l->v[l->n++] = odd;
	q->err += (uint64_t)1 << h;
	if (u->n >= q->k)
		compact(q, h + 1);
}

static void sketch_add(struct kf_quant *q, double v)
{
	struct kf_quant_level *l;

	if (!q->nlevels) {
		add_level(q);
		q->keys = kf_xmalloc(2 * q->k * sizeof *q->keys);
	}
	l = &q->lv[0];
	l->v[l->n++] = v;
	if (l->n >= q->k)
		compact(q, 0);
}

#define ETAB_SIZE (2 * KF_QUANT_EXACT)

static inline size_t exact_slot(const struct kf_quant *q, uint64_t bits, bool *found)
{
	size_t j;

	for (j = (size_t)((bits * 0x9e3779b97f4a7c15ull) >> 40) & (ETAB_SIZE - 1); q->eslot[j].count;
	     j = (j + 1) & (ETAB_SIZE - 1)) {
		if (q->eslot[j].bits == bits) {
			*found = true;
			return j;
		}
	}
	*found = false;
	return j;
}

/* Too many distinct values: replay the counted ones into the compactors. */
static void spill(struct kf_quant *q)
{
	size_t i;
	uint64_t c;

	q->spilled = true;
	for (i = 0; i < ETAB_SIZE; i++) {
		double v;

		memcpy(&v, &q->eslot[i].bits, sizeof v);
		for (c = 0; c < q->eslot[i].count; c++)
			sketch_add(q, v);
	}
	free(q->eslot);
	q->eslot = NULL;
	q->en = 0;
}

void kf_quant_add_n(struct kf_quant *q, double v, uint64_t n)
{
	uint64_t bits, i;
	bool found;
	size_t j;

	if (!n)
		return;
	q->n += n;
	q->dirty = true;
	if (!q->spilled) {
		if (!q->eslot)
			q->eslot = kf_xcalloc(ETAB_SIZE, sizeof *q->eslot);
		/* the last value again (runs of equal values are common) */
		memcpy(&bits, &v, sizeof bits);
		if (q->en && q->eslot[q->elast].bits == bits) {
			q->eslot[q->elast].count += n;
			return;
		}
		j = exact_slot(q, bits, &found);
		if (found || q->en < KF_QUANT_EXACT) {
			if (!found) {
				q->eslot[j].bits = bits;
				q->en++;
			}
			q->eslot[j].count += n;
			q->elast = j;
			return;
		}
		spill(q);
	}
	for (i = 0; i < n; i++)
		sketch_add(q, v);
}

void kf_quant_add(struct kf_quant *q, double v)
{
	kf_quant_add_n(q, v, 1);
}

struct vc {
	double v;
	uint64_t c;
};

static int by_value(const void *a, const void *b)
{
	double x = ((const struct vc *)a)->v, y = ((const struct vc *)b)->v;

	return (x > y) - (x < y);
}

/* The exact mode's summary: distinct values in order, cumulative counts. */
static void summarize_exact(struct kf_quant *q)
{
	struct vc *t = kf_xmalloc((q->en ? q->en : 1) * sizeof *t);
	size_t i, n = 0;

	for (i = 0; q->eslot && i < ETAB_SIZE; i++) {
		if (!q->eslot[i].count)
			continue;
		memcpy(&t[n].v, &q->eslot[i].bits, sizeof t[n].v);
		t[n++].c = q->eslot[i].count;
	}
	qsort(t, q->en, sizeof *t, by_value);
	free(q->sv);
	free(q->sw);
	q->sv = kf_xmalloc((q->en ? q->en : 1) * sizeof *q->sv);
	q->sw = kf_xmalloc((q->en ? q->en : 1) * sizeof *q->sw);
	for (i = 0; i < q->en; i++) {
		q->sv[i] = t[i].v;
		q->sw[i] = t[i].c + (i ? q->sw[i - 1] : 0);
	}
	q->sn = q->en;
	free(t);
	q->dirty = false;
}

/* Sorted values with cumulative weights, merged from every level. */
static void summarize(struct kf_quant *q)
{
	size_t total = 0, h, i, a, b, w;
	double *tv;
	uint64_t *tw;

	if (!q->dirty)
		return;
	if (!q->spilled) {
		summarize_exact(q);
		return;
	}
	for (h = 0; h < q->nlevels; h++)
		total += q->lv[h].n;
	free(q->sv);
	free(q->sw);
	q->sv = kf_xmalloc((total ? total : 1) * sizeof *q->sv);
	q->sw = kf_xmalloc((total ? total : 1) * sizeof *q->sw);
	tv = kf_xmalloc((total ? total : 1) * sizeof *tv);
	tw = kf_xmalloc((total ? total : 1) * sizeof *tw);
	q->sn = 0;
	for (h = 0; h < q->nlevels; h++) {
		struct kf_quant_level *l = &q->lv[h];

		if (h == 0 && l->n)
			sort_doubles(l->v, l->n, q->keys, q->keys + q->k);
		/* merge (sv, sw)[0, sn) with level h into (tv, tw), then swap */
		a = 0;
		b = 0;
		w = 0;
		while (a < q->sn || b < l->n) {
			if (b >= l->n || (a < q->sn && q->sv[a] <= l->v[b])) {
				tv[w] = q->sv[a];
				tw[w++] = q->sw[a++];
			} else {
				tv[w] = l->v[b++];
				tw[w++] = (uint64_t)1 << h;
			}
		}
		for (i = 0; i < w; i++) {
			q->sv[i] = tv[i];
			q->sw[i] = tw[i];
		}
		q->sn = w;
	}
	for (i = 1; i < q->sn; i++)
		q->sw[i] += q->sw[i - 1];
	free(tv);
	free(tw);
	q->dirty = false;
}

double kf_quant_query(struct kf_quant *q, double phi)
{
	double target;
	size_t lo, hi;

	summarize(q);
	if (!q->sn)
		return NAN;
	if (phi <= 0)
		return q->sv[0];
	if (phi >= 1)
		return q->sv[q->sn - 1];
	target = phi * (double)q->n;
	/* the first item whose cumulative weight reaches the target rank */
	lo = 0;
	hi = q->sn - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((double)q->sw[mid] >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return q->sv[lo];
}

double kf_quant_rank(struct kf_quant *q, double x)
{
	size_t lo = 0, hi;

	summarize(q);
	hi = q->sn;
	/* the number of items <= x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->sv[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (double)q->sw[lo - 1] : 0.0;
}

uint64_t kf_quant_err(const struct kf_quant *q)
{
	return q->err;
}

/* ---- HyperLogLog --------------------------------------------------------- */

void kf_hll_add(struct kf_hll *h, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - KF_HLL_P));
	uint64_t w = hash << KF_HLL_P;
	uint8_t rho = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - KF_HLL_P + 1);

	if (rho > h->reg[idx])
		h->reg[idx] = rho;
}

double kf_hll_estimate(const struct kf_hll *h)
{
	const double m = (double)(1u << KF_HLL_P);
	double sum = 0, e;
	size_t i, zeros = 0;

	for (i = 0; i < (1u << KF_HLL_P); i++) {
		sum += ldexp(1.0, -h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / (double)zeros);   /* linear counting for small sets */
	return e;
}

/* ---- frequencies --------------------------------------------------------- */

void kf_freq_init(struct kf_freq *f, size_t cap)
{
	memset(f, 0, sizeof *f);
	f->cap = cap ? cap : KF_FREQ_CAP;
	f->max_bytes = KF_FREQ_MAX_BYTES;
	f->exact = true;
}

void kf_freq_release(struct kf_freq *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->items[i].s);
	free(f->items);
	free(f->table);
	memset(f, 0, sizeof *f);
}

static void rebuild_table(struct kf_freq *f, size_t tsize)
{
	size_t i, j, mask = tsize - 1;

	free(f->table);
	f->table = kf_xcalloc(tsize, sizeof *f->table);
	f->tsize = tsize;
	for (i = 0; i < f->n; i++) {
		for (j = f->items[i].hash & mask; f->table[j]; j = (j + 1) & mask)
			;
		f->table[j] = (uint32_t)(i + 1);
	}
}

/* Slot of the value in the table: its item, or the empty slot it would take. */
static size_t lookup(const struct kf_freq *f, const char *s, size_t len, uint64_t hash)
{
	size_t j, mask = f->tsize - 1;

	for (j = hash & mask; f->table[j]; j = (j + 1) & mask) {
		const struct kf_freq_item *it = &f->items[f->table[j] - 1];

		if (it->hash == hash && it->len == len && !memcmp(it->s, s, len))
			break;
	}
	return j;
}

/* Misra-Gries: the new value and every kept one lose one count; the
 * values that reach zero are dropped. */
static void decrement_all(struct kf_freq *f)
{
	size_t i, w = 0;

	for (i = 0; i < f->n; i++) {
		if (--f->items[i].count == 0) {
			f->bytes -= f->items[i].len + 1;
			free(f->items[i].s);
			continue;
		}
		f->items[w++] = f->items[i];
	}
	f->n = w;
	f->err++;
	f->exact = false;
	rebuild_table(f, f->tsize);
}

void kf_freq_add(struct kf_freq *f, const char *s, size_t len, uint64_t count)
{
	uint64_t hash = kf_sketch_hash(s, len);
	size_t j;

	f->total += count;
	f->str_bytes += len * count;
	kf_hll_add(&f->hll, hash);
	if (!f->table)
		rebuild_table(f, 64);
	while (count > 0) {
		j = lookup(f, s, len, hash);
		if (f->table[j]) {
			f->items[f->table[j] - 1].count += count;
			return;
		}
		if (f->n < f->cap && f->bytes + len + 1 <= f->max_bytes) {
			struct kf_freq_item *it;

			if (f->n == f->items_cap)
				KF_GROW(f->items, f->items_cap, f->n + 1);
			it = &f->items[f->n++];
			it->s = kf_xmalloc(len + 1);
			memcpy(it->s, s, len);
			it->s[len] = '\0';
			it->len = len;
			it->hash = hash;
			it->count = count;
			f->bytes += len + 1;
			f->table[j] = (uint32_t)f->n;
			if (f->n * 2 > f->tsize)
				rebuild_table(f, f->tsize * 2);
			return;
		}
		decrement_all(f);
		count--;
	}
}

double kf_freq_unique(const struct kf_freq *f)
{
	double e;

	if (f->exact)
		return (double)f->n;
	e = round(kf_hll_estimate(&f->hll));
	return e < (double)f->n ? (double)f->n : e;
}

uint64_t kf_freq_count(const struct kf_freq *f, const char *s, size_t len)
{
	size_t j;

	if (!f->table)
		return 0;
	j = lookup(f, s, len, kf_sketch_hash(s, len));
	return f->table[j] ? f->items[f->table[j] - 1].count : 0;
}

static int by_count(const void *a, const void *b)
{
	const struct kf_freq_item *x = *(const struct kf_freq_item *const *)a;
	const struct kf_freq_item *y = *(const struct kf_freq_item *const *)b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->s, y->s, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

const struct kf_freq_item **kf_freq_top(const struct kf_freq *f, size_t k, size_t *n)
{
	const struct kf_freq_item **v = kf_xmalloc((f->n ? f->n : 1) * sizeof *v);
	size_t i;

	for (i = 0; i < f->n; i++)
		v[i] = &f->items[i];
	qsort(v, f->n, sizeof *v, by_count);
	*n = k && k < f->n ? k : f->n;
	return v;
}
