/* kf_stats: one-pass feature statistics (see kf_stats.h). */
#include "config.h"

#include "data/kf_stats.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const double out_quantiles[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99 };

static struct kf_stats *stats_new(const char *name)
{
	struct kf_stats *s = kf_xcalloc(1, sizeof *s);

	s->name = kf_xstrdup(name);
	return s;
}

/* A column's numbers by their text while it has few distinct texts: a
 * repeated text is neither parsed nor looked up as a double again, and its
 * count reaches the quantile sketch at once when the dictionary is flushed
 * (at the end, or when the column outgrows it or shows a non-number). */
#define DICT_MAX 1024
#define DICT_SLOTS (2 * DICT_MAX)
#define DICT_TEXT 16

struct dict_slot {
	uint64_t k[2];      /* the text's key (text_key) */
	double v;
	uint64_t count;     /* 0: empty */
	uint8_t len, type;
};

struct kf_stats_dict {
	struct dict_slot slot[DICT_SLOTS];
	size_t n;
};

static void dict_flush(struct kf_stats_feature *f)
{
	size_t i;

	if (f->dict) {
		for (i = 0; i < DICT_SLOTS; i++) {
			const struct dict_slot *d = &f->dict->slot[i];

			if (d->count && isfinite(d->v))
				kf_quant_add_n(&f->quant, d->v, d->count);
		}
		free(f->dict);
		f->dict = NULL;
	}
	f->dict_off = true;
}

/* A key for a text of 1 to 16 bytes that, with its length, tells it from
 * any other: fixed-size (overlapping) loads that cover every byte. */
static inline void text_key(const char *s, size_t len, uint64_t k[2])
{
	uint32_t a, b;

	if (len >= 8) {
		memcpy(&k[0], s, 8);
		memcpy(&k[1], s + len - 8, 8);
	} else if (len >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		k[0] = a | (uint64_t)b << 32;
		k[1] = 0;
	} else {
		k[0] = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
		       (uint64_t)(unsigned char)s[len - 1] << 16;
		k[1] = 0;
	}
}

/* Classify s into *t and *dv; true when its count is kept in the
 * dictionary (then the quantile sketch must not see it now). */
static inline bool dict_add(struct kf_stats_feature *f, const char *s, size_t len, enum kf_csv_type *t,
			    double *dv)
{
	struct kf_stats_dict *d = f->dict;
	uint64_t k[2];
	size_t j;

	if (f->dict_off || len > DICT_TEXT || f->counting_strings) {
		*t = kf_csv_classify(s, len, NULL, dv);
		if (f->counting_strings && !f->dict_off)
			dict_flush(f);
		return false;
	}
	if (!d)
		d = f->dict = kf_xcalloc(1, sizeof *d);
	text_key(s, len, k);
	for (j = (size_t)(((k[0] * 0x9e3779b97f4a7c15ull) ^ (k[1] * 0xc2b2ae3d27d4eb4full) ^ len) >> 40) &
		 (DICT_SLOTS - 1);
	     d->slot[j].count; j = (j + 1) & (DICT_SLOTS - 1)) {
		struct dict_slot *e = &d->slot[j];

		if (e->k[0] == k[0] && e->k[1] == k[1] && e->len == len) {
			e->count++;
			*t = (enum kf_csv_type)e->type;
			*dv = e->v;
			return true;
		}
	}
	*t = kf_csv_classify(s, len, NULL, dv);
	if ((*t != KF_CSV_INT && *t != KF_CSV_FLOAT) || d->n == DICT_MAX) {
		dict_flush(f);
		return false;
	}
	d->slot[j] = (struct dict_slot){ { k[0], k[1] }, *dv, 1, (uint8_t)len, (uint8_t)*t };
	d->n++;
	return true;
}

static void feature_release(struct kf_stats_feature *f)
{
	free(f->dict);
	free(f->name);
	kf_quant_release(&f->quant);
	kf_freq_release(&f->freq);
}

static void stats_free(struct kf_stats *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		feature_release(&s->f[i]);
	free(s->f);
	free(s->name);
	free(s);
}

/* Make s hold features [0, n), named like those of the model (the "all" dataset). */
static void ensure_features(struct kf_stats *s, const struct kf_stats *model, size_t n,
			    const struct kf_strv *as_strings)
{
	size_t i;

	if (s->n >= n)
		return;
	s->f = kf_xrealloc(s->f, n * sizeof *s->f);
	for (i = s->n; i < n; i++) {
		struct kf_stats_feature *f = &s->f[i];

		memset(f, 0, sizeof *f);
		f->name = kf_xstrdup(model->f[i].name);
		f->min = INFINITY;
		f->max = -INFINITY;
		kf_quant_init(&f->quant, 0);
		kf_freq_init(&f->freq, 0);
		f->counting_strings = as_strings && kf_strv_has(as_strings, f->name);
	}
	s->n = n;
}

struct kf_stats_feature *kf_stats_find(const struct kf_stats *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	}
	return NULL;
}

static inline void add_number(struct kf_stats_feature *f, double v, bool counted)
{
	double d;

	f->num++;
	if (isnan(v)) {
		f->nan++;
		return;
	}
	if (isinf(v)) {
		if (v > 0)
			f->pinf++;
		else
			f->ninf++;
		return;
	}
	/* sums shifted by the first value: one pass without a division per
	 * value, and without the cancellation of plain sums of squares */
	if (!f->finite++)
		f->shift = v;
	d = v - f->shift;
	f->s1 += d;
	f->s2 += d * d;
	if (v < f->min)
		f->min = v;
	if (v > f->max)
		f->max = v;
	if (v == 0)
		f->zeros++;
	if (!counted)
		kf_quant_add(&f->quant, v);
}

static inline void add_value(struct kf_stats_feature *f, const char *s, size_t len)
{
	enum kf_csv_type t;
	double dv = 0;
	bool counted;

	if (len == 0)
		return;
	counted = dict_add(f, s, len, &t, &dv);
	f->present++;
	f->type = kf_csv_type_join(f->type, t);
	switch (t) {
	case KF_CSV_INT:
		f->n_int++;
		add_number(f, dv, counted);
		break;
	case KF_CSV_FLOAT:
		f->n_float++;
		add_number(f, dv, counted);
		break;
	case KF_CSV_BOOL:
		f->n_bool++;
		kf_freq_add(&f->freq, s, len, 1);
		return;
	case KF_CSV_STRING:
		f->n_string++;
		f->counting_strings = true;
		dict_flush(f);
		break;
	case KF_CSV_MISSING:
		break;
	}
	if (f->counting_strings)
		kf_freq_add(&f->freq, s, len, 1);
}

/* Worker threads sharing out the columns of each batch of rows: a column
 * (and its features in every slice) is only ever touched by one thread. */
struct pool {
	pthread_t *threads;
	size_t n;                     /* workers; the reading thread is one more */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t gen;
	size_t pending;
	bool quit;
	struct acc *a;                /* the job: this batch */
	const struct kf_csv_batch *b;
	/* when waiting for the workers costs more than the work done here
	 * meanwhile, the CPUs are busy elsewhere: go on alone */
	int64_t work_ns, wait_ns;
	size_t batches;
	bool alone;
};

/* The accumulation state while reading. */
struct acc {
	struct kf_stats_result *res;
	const struct kf_stats_opts *opts;
	size_t *colmap;       /* column of the current input -> feature index */
	size_t colmap_n;
	long slice_col;       /* column of the current input, -1 none */
	struct kf_stats **row_slice;  /* per row of the batch: its slice, or NULL */
	size_t row_slice_cap;
	struct pool *pool;
};

/* Rows a tile: the tile's fields and text stay in cache while each column
 * of it is added (column after column over a whole batch would miss). */
#define TILE 256

static void add_columns(struct acc *a, const struct kf_csv_batch *b, size_t first, size_t step)
{
	struct kf_stats *all = a->res->all;
	size_t t, j, r, end;

	for (t = 0; t < b->nrows; t += TILE) {
		end = t + TILE < b->nrows ? t + TILE : b->nrows;
		for (j = first; j < b->ncols; j += step) {
			struct kf_stats_feature *f = &all->f[a->colmap[j]];

			for (r = t; r < end; r++) {
				const struct kf_csv_field *fld = &b->fields[r * b->ncols + j];

				add_value(f, fld->s, fld->len);
				if (a->row_slice[r])
					add_value(&a->row_slice[r]->f[a->colmap[j]], fld->s, fld->len);
			}
		}
	}
}

struct worker {
	struct pool *p;
	size_t index;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		add_columns(p->a, p->b, w->index + 1, p->n + 1);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	free(w);
	return NULL;
}

static struct pool *pool_new(size_t threads)
{
	struct pool *p;
	size_t i;

	if (threads < 2)
		return NULL;
	p = kf_xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = kf_xcalloc(threads - 1, sizeof *p->threads);
	for (i = 0; i + 1 < threads; i++) {
		struct worker *w = kf_xmalloc(sizeof *w);

		w->p = p;
		w->index = i;
		if (pthread_create(&p->threads[i], NULL, work, w) != 0) {
			free(w);
			break;   /* fewer threads then */
		}
		p->n++;
	}
	return p;
}

static void pool_free(struct pool *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->threads);
	free(p);
}

/* Add a batch: the columns shared out between the pool and this thread. */
static void add_batch(struct acc *a, const struct kf_csv_batch *b)
{
	struct pool *p = a->pool;
	int64_t t0, t1, t2;

	if (!p || !p->n || p->alone || b->ncols < 2 || b->nrows < 64) {
		add_columns(a, b, 0, 1);
		return;
	}
	t0 = kf_time_mono_ns();
	pthread_mutex_lock(&p->mu);
	p->a = a;
	p->b = b;
	p->pending = p->n;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	add_columns(a, b, 0, p->n + 1);
	t1 = kf_time_mono_ns();
	pthread_mutex_lock(&p->mu);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	t2 = kf_time_mono_ns();
	p->work_ns += t1 - t0;
	p->wait_ns += t2 - t1;
	if (++p->batches >= 4 && p->wait_ns > p->work_ns)
		p->alone = true;
}

static size_t feature_index(struct kf_stats *all, const char *name, const struct kf_strv *as_strings)
{
	size_t i;

	for (i = 0; i < all->n; i++) {
		if (!strcmp(all->f[i].name, name))
			return i;
	}
	all->f = kf_xrealloc(all->f, (all->n + 1) * sizeof *all->f);
	memset(&all->f[all->n], 0, sizeof all->f[all->n]);
	all->f[all->n].name = kf_xstrdup(name);
	all->f[all->n].min = INFINITY;
	all->f[all->n].max = -INFINITY;
	kf_quant_init(&all->f[all->n].quant, 0);
	kf_freq_init(&all->f[all->n].freq, 0);
	all->f[all->n].counting_strings = as_strings && kf_strv_has(as_strings, name);
	return all->n++;
}

/* Map the input's columns (they grow for JSON Lines) to features. */
static void map_columns(struct acc *a, struct kf_csv *c)
{
	size_t n = kf_csv_ncols(c), i;

	if (n <= a->colmap_n)
		return;
	a->colmap = kf_xrealloc(a->colmap, n * sizeof *a->colmap);
	for (i = a->colmap_n; i < n; i++) {
		a->colmap[i] = feature_index(a->res->all, kf_csv_colname(c, i), a->opts->as_strings);
		if (a->opts->slice && !strcmp(kf_csv_colname(c, i), a->opts->slice))
			a->slice_col = (long)i;
	}
	a->colmap_n = n;
}

static int slice_of(struct acc *a, const struct kf_csv_field *row, size_t ncols, long line,
		    struct kf_stats **out, const char *file, struct kf_err *err)
{
	struct kf_stats_result *res = a->res;
	struct kf_buf name = KF_BUF_INIT;
	const struct kf_csv_field *fld;
	size_t i;

	*out = NULL;
	if (!a->opts->slice)
		return 0;
	kf_buf_printf(&name, "%s=", a->opts->slice);
	fld = a->slice_col >= 0 && (size_t)a->slice_col < ncols ? &row[a->slice_col] : NULL;
	if (fld && fld->len)
		kf_buf_add(&name, fld->s, strnlen(fld->s, fld->len));
	else
		kf_buf_adds(&name, "(missing)");
	for (i = 0; i < res->nslices; i++) {
		if (!strcmp(res->slices[i]->name, name.data))
			break;
	}
	if (i == res->nslices) {
		if (res->nslices == KF_STATS_MAX_SLICES) {
			kf_buf_release(&name);
			return kf_err_at(err, KF_EINPUT, file, (int)line, 0,
					 "more than %d distinct values in slice column \"%s\"",
					 KF_STATS_MAX_SLICES, a->opts->slice);
		}
		res->slices = kf_xrealloc(res->slices, (res->nslices + 1) * sizeof *res->slices);
		res->slices[res->nslices++] = stats_new(name.data);
	}
	kf_buf_release(&name);
	*out = res->slices[i];
	return 0;
}

static int read_input(struct acc *a, const char *path, struct kf_err *err)
{
	struct kf_csv_opts copts = { 0 };
	struct kf_stats *all = a->res->all;
	struct kf_csv_batch b;
	struct kf_csv *c = NULL;
	size_t r;
	int rc;

	copts.skip_bad_rows = a->opts->skip_bad_rows;
	copts.format = a->opts->format;
	rc = kf_csv_open(&c, path, &copts, err);
	if (rc < 0)
		return rc;
	a->colmap_n = 0;
	a->slice_col = -1;
	map_columns(a, c);
	if (a->opts->slice && a->slice_col < 0 && kf_csv_format(c) == KF_CSV_CSV) {
		rc = kf_err_at(err, KF_EINPUT, kf_csv_name(c), 1, 0, "no column \"%s\" to slice by",
			       a->opts->slice);
		goto out;
	}
	while ((rc = kf_csv_next_batch(c, &b, 1u << 15, err)) > 0) {
		map_columns(a, c);
		if (b.nrows > a->row_slice_cap)
			KF_GROW(a->row_slice, a->row_slice_cap, b.nrows);
		for (r = 0; r < b.nrows; r++) {
			struct kf_stats *slice;

			rc = slice_of(a, b.fields + r * b.ncols, b.ncols, b.lines[r], &slice, kf_csv_name(c), err);
			if (rc < 0)
				goto out;
			if (slice) {
				ensure_features(slice, all, all->n, a->opts->as_strings);
				slice->rows++;
			}
			a->row_slice[r] = slice;
		}
		all->rows += b.nrows;
		add_batch(a, &b);
	}
	a->res->bad_rows += kf_csv_bad_rows(c);
	if (kf_csv_first_bad(c) && !a->res->first_bad)
		a->res->first_bad = kf_xstrdup(kf_csv_first_bad(c));
out:
	kf_csv_free(c);
	return rc;
}

/* Mean and the sum of squared deviations from the shifted sums. */
static void finish(struct kf_stats *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct kf_stats_feature *f = &s->f[i];
		double n = (double)f->finite, m;

		dict_flush(f);
		if (!f->finite)
			continue;
		m = f->s1 / n;
		f->mean = f->shift + m;
		f->m2 = f->s2 - f->s1 * m;
		if (f->m2 < 0)
			f->m2 = 0;
	}
}

int kf_stats_compute(struct kf_stats_result *res, const char *const *paths, size_t npaths,
		     const struct kf_stats_opts *opts, struct kf_err *err)
{
	struct kf_stats_opts def = { 0 };
	struct kf_strv names = KF_STRV_INIT;
	struct acc a = { 0 };
	size_t i, threads;
	int rc = 0;

	memset(res, 0, sizeof *res);
	a.res = res;
	a.opts = opts ? opts : &def;
	res->all = stats_new("all");
	threads = a.opts->threads;
	if (!threads) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);

		threads = online < 1 ? 1 : online > 4 ? 4 : (size_t)online;
	}
	a.pool = pool_new(threads);
	for (i = 0; i < npaths; i++) {
		kf_strv_push(&names, paths[i]);
		if ((rc = read_input(&a, paths[i], err)) < 0)
			break;
	}
	for (i = 0; i < res->nslices; i++)
		ensure_features(res->slices[i], res->all, res->all->n, a.opts->as_strings);
	finish(res->all);
	for (i = 0; i < res->nslices; i++)
		finish(res->slices[i]);
	res->source = kf_strv_join(&names, ",");
	kf_strv_release(&names);
	pool_free(a.pool);
	free(a.row_slice);
	free(a.colmap);
	return rc;
}

void kf_stats_result_release(struct kf_stats_result *res)
{
	size_t i;

	stats_free(res->all);
	for (i = 0; i < res->nslices; i++)
		stats_free(res->slices[i]);
	free(res->slices);
	free(res->source);
	free(res->first_bad);
	memset(res, 0, sizeof *res);
}

const char *kf_stats_type_name(enum kf_csv_type t)
{
	switch (t) {
	case KF_CSV_INT: return "INT";
	case KF_CSV_FLOAT: return "FLOAT";
	case KF_CSV_BOOL: return "BOOL";
	case KF_CSV_STRING: return "STRING";
	case KF_CSV_MISSING: break;
	}
	return "NONE";
}

double kf_stats_stddev(const struct kf_stats_feature *f)
{
	return f->finite ? sqrt(f->m2 / (double)f->finite) : NAN;
}

bool kf_stats_is_numeric(const struct kf_stats_feature *f)
{
	return f->type == KF_CSV_INT || f->type == KF_CSV_FLOAT;
}

void kf_stats_histogram(struct kf_stats_feature *f, size_t n, double *lo, double *hi, double *count)
{
	double width, prev = 0, r;
	size_t i;

	width = f->finite ? (f->max - f->min) / (double)n : 0;
	for (i = 0; i < n; i++) {
		lo[i] = f->min + width * (double)i;
		hi[i] = i + 1 == n ? f->max : f->min + width * (double)(i + 1);
		r = i + 1 == n ? (double)f->finite : kf_quant_rank(&f->quant, hi[i]);
		count[i] = r - prev;
		prev = r;
	}
}

void kf_stats_quantile_histogram(struct kf_stats_feature *f, size_t n, double *lo, double *hi,
				 double *count)
{
	size_t i;

	for (i = 0; i < n; i++) {
		lo[i] = i == 0 ? f->min : kf_quant_query(&f->quant, (double)i / (double)n);
		hi[i] = i + 1 == n ? f->max : kf_quant_query(&f->quant, (double)(i + 1) / (double)n);
		count[i] = (double)f->finite / (double)n;
	}
}

/* A number as JSON; NaN and infinities (not JSON) as strings. */
static void add_num(cJSON *o, const char *key, double v)
{
	if (isnan(v))
		cJSON_AddStringToObject(o, key, "NaN");
	else if (isinf(v))
		cJSON_AddStringToObject(o, key, v > 0 ? "Infinity" : "-Infinity");
	else
		cJSON_AddNumberToObject(o, key, v);
}

static cJSON *histogram_json(const double *lo, const double *hi, const double *count, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *b = cJSON_CreateObject();

		add_num(b, "low", lo[i]);
		add_num(b, "high", hi[i]);
		add_num(b, "count", count[i]);
		cJSON_AddItemToArray(arr, b);
	}
	return arr;
}

static cJSON *num_json(struct kf_stats_feature *f)
{
	double lo[KF_STATS_BUCKETS], hi[KF_STATS_BUCKETS], cnt[KF_STATS_BUCKETS];
	cJSON *o = cJSON_CreateObject(), *q;
	size_t i;

	add_num(o, "mean", f->finite ? f->mean : NAN);
	add_num(o, "stdDev", kf_stats_stddev(f));
	cJSON_AddNumberToObject(o, "zeros", (double)f->zeros);
	add_num(o, "min", f->finite ? f->min : NAN);
	add_num(o, "median", kf_quant_query(&f->quant, 0.5));
	add_num(o, "max", f->finite ? f->max : NAN);
	cJSON_AddNumberToObject(o, "nan", (double)f->nan);
	cJSON_AddNumberToObject(o, "infinity", (double)(f->pinf + f->ninf));
	q = cJSON_AddArrayToObject(o, "quantiles");
	for (i = 0; i < sizeof out_quantiles / sizeof out_quantiles[0]; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "q", out_quantiles[i]);
		add_num(e, "value", kf_quant_query(&f->quant, out_quantiles[i]));
		cJSON_AddItemToArray(q, e);
	}
	cJSON_AddNumberToObject(o, "rankErrorBound", (double)kf_quant_err(&f->quant));
	if (f->finite) {
		kf_stats_histogram(f, KF_STATS_BUCKETS, lo, hi, cnt);
		cJSON_AddItemToObject(o, "histogram", histogram_json(lo, hi, cnt, KF_STATS_BUCKETS));
		kf_stats_quantile_histogram(f, KF_STATS_BUCKETS, lo, hi, cnt);
		cJSON_AddItemToObject(o, "quantileHistogram", histogram_json(lo, hi, cnt, KF_STATS_BUCKETS));
	}
	return o;
}

static cJSON *str_json(const struct kf_stats_feature *f)
{
	const struct kf_freq_item **top;
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t n, i;

	cJSON_AddNumberToObject(o, "unique", kf_freq_unique(&f->freq));
	cJSON_AddBoolToObject(o, "exact", f->freq.exact);
	top = kf_freq_top(&f->freq, KF_STATS_TOP, &n);
	arr = cJSON_AddArrayToObject(o, "topValues");
	for (i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		/* a value with NUL bytes shows up to the first one */
		cJSON_AddStringToObject(e, "value", top[i]->s);
		cJSON_AddNumberToObject(e, "frequency", (double)top[i]->count);
		cJSON_AddItemToArray(arr, e);
	}
	free(top);
	add_num(o, "avgLength", f->freq.total ? (double)f->freq.str_bytes / (double)f->freq.total : NAN);
	cJSON_AddNumberToObject(o, "countErrorBound", (double)f->freq.err);
	return o;
}

cJSON *kf_stats_feature_json(struct kf_stats_feature *f, uint64_t rows)
{
	cJSON *o = cJSON_CreateObject(), *k;

	cJSON_AddStringToObject(o, "name", f->name);
	cJSON_AddStringToObject(o, "type", kf_stats_type_name(f->type));
	cJSON_AddNumberToObject(o, "count", (double)f->present);
	cJSON_AddNumberToObject(o, "missing", (double)(rows - f->present));
	k = cJSON_AddObjectToObject(o, "valueKinds");
	cJSON_AddNumberToObject(k, "bool", (double)f->n_bool);
	cJSON_AddNumberToObject(k, "int", (double)f->n_int);
	cJSON_AddNumberToObject(k, "float", (double)f->n_float);
	cJSON_AddNumberToObject(k, "string", (double)f->n_string);
	if (f->num && (f->type == KF_CSV_INT || f->type == KF_CSV_FLOAT))
		cJSON_AddItemToObject(o, "numStats", num_json(f));
	if (f->freq.total && (f->type == KF_CSV_STRING || f->type == KF_CSV_BOOL))
		cJSON_AddItemToObject(o, "stringStats", str_json(f));
	return o;
}

static cJSON *dataset_json(struct kf_stats *s)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t i;

	cJSON_AddStringToObject(o, "kind", "DatasetStatistics");
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddNumberToObject(o, "numExamples", (double)s->rows);
	arr = cJSON_AddArrayToObject(o, "features");
	for (i = 0; i < s->n; i++)
		cJSON_AddItemToArray(arr, kf_stats_feature_json(&s->f[i], s->rows));
	return o;
}

cJSON *kf_stats_to_json(struct kf_stats_result *res)
{
	cJSON *doc = cJSON_CreateObject(), *items;
	size_t i;

	cJSON_AddStringToObject(doc, "kind", "DatasetStatisticsList");
	cJSON_AddStringToObject(doc, "name", res->source ? res->source : "");
	cJSON_AddNumberToObject(doc, "badRows", (double)res->bad_rows);
	if (res->first_bad)
		cJSON_AddStringToObject(doc, "firstBadRow", res->first_bad);
	items = cJSON_AddArrayToObject(doc, "items");
	cJSON_AddItemToArray(items, dataset_json(res->all));
	for (i = 0; i < res->nslices; i++)
		cJSON_AddItemToArray(items, dataset_json(res->slices[i]));
	return doc;
}
