/* kf_train: data passes, the epoch loop, checkpoints, bundles, predictions. */
#include "config.h"

#include "data/kf_csv.h"
#include "ml/kf_allreduce.h"
#include "ml/kf_bundle.h"
#include "ml/kf_dense.h"
#include "ml/kf_labelexpr.h"
#include "ml/kf_features.h"
#include "ml/kf_metrics.h"
#include "ml/kf_mf.h"
#include "ml/kf_nn.h"
#include "ml/kf_rng.h"
#include "ml/kf_strmap.h"
#include "ml/kf_train.h"
#include "ml/kf_xgb.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STREAM_BUFFER_ROWS 16384
#define CKPT_DIR "checkpoint"

void kf_train_opts_init(struct kf_train_opts *o)
{
	memset(o, 0, sizeof *o);
	o->split_mod = 0;
	o->threads = 0;
	o->device = "cpu";
	o->seed = 1;
	o->patience = 3;
	o->rounds = 300;
	o->max_depth = 6;
	o->eta = 0.1;
	o->factors = 32;
	o->iters = 10;
	o->alpha = 10;
	o->reg = 0.1;
	o->rank = 0;
	o->world = 1;
}

/* ---- the data source: a CSV, its label and its split ------------------ */

enum task { T_BINARY, T_MULTI, T_REGRESSION };

static const char *const task_names[] = { "binary", "multiclass", "regression" };

struct source {
	const struct kf_train_opts *o;
	char **names;
	size_t n_cols;
	long label_col;
	struct kf_labelexpr *expr;
	enum task task;
	struct kf_strmap classes;   /* multiclass: label text -> class index */
	char **class_names;
	size_t n_classes;
	const char **vals;          /* scratch: one row's cells */
	/* training-label moments: the binary base rate initialises the bias,
	 * regression targets are standardised while training */
	double y_mean, y_m2, y_scale, y_shift;
	uint64_t y_n;
};

static void source_release(struct source *s)
{
	size_t i;

	for (i = 0; i < s->n_cols; i++)
		free(s->names[i]);
	free(s->names);
	kf_labelexpr_free(s->expr);
	kf_strmap_release(&s->classes);
	for (i = 0; i < s->n_classes; i++)
		free(s->class_names[i]);
	free(s->class_names);
	free(s->vals);
}

static int open_csv(struct kf_csv **c, const char *path, struct kf_err *err)
{
	return kf_csv_open(c, path, NULL, err);
}

/* Read the header of the training data and resolve the label. */
static int source_init(struct source *s, const struct kf_train_opts *o, struct kf_err *err)
{
	struct kf_csv *c;
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	s->o = o;
	s->label_col = -1;
	s->y_scale = 1;
	rc = open_csv(&c, o->data, err);
	if (rc < 0)
		return rc;
	s->n_cols = kf_csv_ncols(c);
	s->names = kf_xcalloc(s->n_cols + 1, sizeof *s->names);
	for (i = 0; i < s->n_cols; i++)
		s->names[i] = kf_xstrdup(kf_csv_colname(c, i));
	kf_csv_free(c);
	s->vals = kf_xcalloc(s->n_cols + 1, sizeof *s->vals);
	if (o->label_expr) {
		rc = kf_labelexpr_parse(&s->expr, o->label_expr, (const char *const *)s->names, s->n_cols, err);
		if (rc < 0)
			return rc;
	} else if (o->label) {
		for (i = 0; i < s->n_cols; i++)
			if (!strcmp(s->names[i], o->label))
				s->label_col = (long)i;
		if (s->label_col < 0) {
			const char *hint = kf_str_suggest(o->label, (const char *const *)s->names, s->n_cols);

			return kf_err_set(err, KF_EUSAGE, "--label: no column \"%s\" in \"%s\"%s%s%s", o->label, o->data,
					  hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
		}
	}
	return 0;
}

static void row_values(struct source *s, const struct kf_csv_row *row)
{
	size_t i;

	for (i = 0; i < s->n_cols; i++)
		s->vals[i] = i < row->n ? row->fields[i].s : "";
}

static bool is_eval_row(const struct kf_train_opts *o, uint64_t i)
{
	if (o->split_mod > 0)
		return (long)(i % (uint64_t)o->split_mod) == o->split_rem;
	if (o->eval_fraction > 0) {
		struct kf_rng r;

		kf_rng_seed(&r, o->split_seed * 0x9e3779b97f4a7c15ULL + i);
		return kf_rng_uniform(&r) < o->eval_fraction;
	}
	return false;
}

/* The label of the current row: 1 with *y set, 0 to skip the row (a
 * missing regression target), or an error naming FILE:LINE. */
static int row_label(struct source *s, const char *file, long line, double *y, struct kf_err *err)
{
	const char *t;
	double v;
	size_t *cls;

	if (s->expr) {
		v = kf_labelexpr_eval(s->expr, s->vals);
		if (s->task == T_BINARY) {
			*y = (v != 0 && !isnan(v)) ? 1 : 0;
			return 1;
		}
		if (isnan(v))
			return 0;
		*y = (v - s->y_shift) / s->y_scale;
		return 1;
	}
	t = s->vals[s->label_col];
	if (s->task == T_MULTI) {
		cls = kf_strmap_get(&s->classes, t);
		*y = cls ? (double)*cls : -1;   /* unseen in training: only in eval */
		return cls ? 1 : 0;
	}
	if (!*t)
		return s->task == T_REGRESSION ? 0 : kf_err_at(err, KF_EINPUT, file, (int)line, 0,
							       "missing label in column \"%s\"", s->o->label);
	if (kf_csv_parse_double(t, strlen(t), &v)) {
		if (s->task == T_BINARY && v != 0 && v != 1)
			return kf_err_at(err, KF_EINPUT, file, (int)line, 0,
					 "label \"%s\" is not 0 or 1 (use --task multiclass, or --label-expr)", t);
		*y = s->task == T_REGRESSION ? (v - s->y_shift) / s->y_scale : v;
		return 1;
	}
	if (s->task == T_BINARY) {
		if (!strcasecmp(t, "true") || !strcasecmp(t, "yes")) {
			*y = 1;
			return 1;
		}
		if (!strcasecmp(t, "false") || !strcasecmp(t, "no")) {
			*y = 0;
			return 1;
		}
	}
	return kf_err_at(err, KF_EINPUT, file, (int)line, 0, "label \"%s\" is not a number", t);
}

/* ---- the fit pass ------------------------------------------------------ */

struct counts {
	uint64_t rows, train, eval;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fit_pass(struct source *s, struct kf_features *fs, struct counts *cnt, struct kf_err *err)
{
	const struct kf_train_opts *o = s->o;
	struct kf_features spec, *specp = NULL;
	struct kf_features_fit *fit = NULL;
	struct kf_csv *c = NULL;
	struct kf_csv_row row;
	struct kf_strmap seen = KF_STRMAP_INIT;
	bool *skip = kf_xcalloc(s->n_cols + 1, sizeof *skip);
	size_t i, *cols = NULL, n_cols = 0;
	int rc;

	memset(cnt, 0, sizeof *cnt);
	if (s->label_col >= 0)
		skip[s->label_col] = true;
	if (s->expr) {
		kf_labelexpr_columns(s->expr, &cols, &n_cols);
		for (i = 0; i < n_cols; i++)
			skip[cols[i]] = true;
		free(cols);
	}
	for (i = 0; i < o->n_ignore; i++) {
		long k;

		for (k = 0; k < (long)s->n_cols; k++)
			if (!strcmp(s->names[k], o->ignore[i]))
				break;
		if (k == (long)s->n_cols) {
			rc = kf_err_set(err, KF_EUSAGE, "--ignore: no column \"%s\" in \"%s\"", o->ignore[i], o->data);
			goto out;
		}
		skip[k] = true;
	}
	if (o->features) {
		rc = kf_features_load_spec(&spec, o->features, err);
		if (rc < 0)
			goto out;
		specp = &spec;
	}
	rc = kf_features_fit_new(&fit, specp, (const char *const *)s->names, s->n_cols, skip, o->seed, err);
	if (rc < 0)
		goto out;
	rc = open_csv(&c, o->data, err);
	if (rc < 0)
		goto out;
	while ((rc = kf_csv_next(c, &row, err)) > 0) {
		uint64_t idx = cnt->rows++;

		if (!o->eval && is_eval_row(o, idx)) {
			cnt->eval++;
			continue;
		}
		row_values(s, &row);
		if (s->task == T_MULTI && s->label_col >= 0 && *s->vals[s->label_col]) {
			kf_strmap_put(&seen, s->vals[s->label_col]);
		} else if (s->task != T_MULTI) {
			double y, d;

			rc = row_label(s, kf_csv_name(c), row.line, &y, err);
			if (rc < 0)
				goto out;
			if (rc > 0) {
				d = y - s->y_mean;
				s->y_mean += d / (double)++s->y_n;
				s->y_m2 += d * (y - s->y_mean);
			}
		}
		kf_features_fit_add(fit, s->vals);
		cnt->train++;
	}
	if (rc < 0)
		goto out;
	if (cnt->train == 0) {
		rc = kf_err_set(err, KF_EINPUT, "\"%s\": no training rows", o->data);
		goto out;
	}
	if (s->task == T_REGRESSION && s->y_n > 1) {
		s->y_shift = s->y_mean;
		s->y_scale = sqrt(s->y_m2 / (double)(s->y_n - 1));
		if (!(s->y_scale > 0))
			s->y_scale = 1;
	}
	if (s->task == T_MULTI) {
		s->class_names = kf_xcalloc(seen.n + 1, sizeof *s->class_names);
		for (i = 0; i < seen.cap; i++)
			if (seen.keys[i])
				s->class_names[s->n_classes++] = kf_xstrdup(seen.keys[i]);
		qsort(s->class_names, s->n_classes, sizeof *s->class_names, cmp_str);
		for (i = 0; i < s->n_classes; i++)
			*kf_strmap_put(&s->classes, s->class_names[i]) = i;
		if (s->n_classes < 2) {
			rc = kf_err_set(err, KF_EINPUT, "label \"%s\" has %zu class(es); multiclass needs 2 or more",
					o->label, s->n_classes);
			goto out;
		}
	}
	rc = kf_features_fit_finish(fit, fs, err);
	fit = NULL;
	for (i = 0; rc == 0 && s->label_col >= 0 && i < fs->n; i++)
		if (fs->f[i].col[0] == (size_t)s->label_col ||
		    (fs->f[i].kind == KF_FT_CROSS && fs->f[i].col[1] == (size_t)s->label_col))
			rc = kf_err_at(err, KF_EINPUT, fs->spec_file, fs->f[i].line, fs->f[i].col_no,
				       "feature \"%s\" reads the label column \"%s\"", fs->f[i].name, o->label);
	if (rc == 0 && fs->dim == 0)
		rc = kf_err_set(err, KF_EINPUT, "no usable feature columns in \"%s\"", o->data);
out:
	kf_csv_free(c);
	kf_features_fit_free(fit);
	if (specp)
		kf_features_release(specp);
	kf_strmap_release(&seen);
	free(skip);
	return rc;
}

/* ---- batches ------------------------------------------------------------ */

/* Rows as sparse vectors (CSR) with their labels and row numbers: a batch,
 * or all the rows of a split kept in memory. */
struct rows {
	size_t n, cap, nnz, cap_nnz;
	size_t *ptr;          /* n + 1 */
	uint32_t *idx;
	double *val, *y;
	uint64_t *id;         /* the row's number in its file (dropout seeds) */
	double *dense;        /* n × dim, when a dense copy is needed */
	size_t cap_dense;
};

static void rows_clear(struct rows *b)
{
	b->n = 0;
	b->nnz = 0;
	if (b->ptr)
		b->ptr[0] = 0;
}

static void rows_release(struct rows *b)
{
	free(b->ptr);
	free(b->idx);
	free(b->val);
	free(b->y);
	free(b->id);
	free(b->dense);
	memset(b, 0, sizeof *b);
}

/* Append a row given by its non-zeros. */
static void rows_push(struct rows *b, const uint32_t *idx, const double *val, size_t nnz, double y, uint64_t id)
{
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->ptr = kf_xrealloc(b->ptr, (b->cap + 1) * sizeof *b->ptr);
		b->y = kf_xrealloc(b->y, b->cap * sizeof *b->y);
		b->id = kf_xrealloc(b->id, b->cap * sizeof *b->id);
		if (b->n == 0)
			b->ptr[0] = 0;
	}
	if (b->nnz + nnz > b->cap_nnz) {
		while (b->nnz + nnz > b->cap_nnz)
			b->cap_nnz = b->cap_nnz ? b->cap_nnz * 2 : 4096;
		b->idx = kf_xrealloc(b->idx, b->cap_nnz * sizeof *b->idx);
		b->val = kf_xrealloc(b->val, b->cap_nnz * sizeof *b->val);
	}
	memcpy(b->idx + b->nnz, idx, nnz * sizeof *idx);
	memcpy(b->val + b->nnz, val, nnz * sizeof *val);
	b->nnz += nnz;
	b->y[b->n] = y;
	b->id[b->n] = id;
	b->n++;
	b->ptr[b->n] = b->nnz;
}

/* Append row k of src. */
static void rows_push_from(struct rows *b, const struct rows *src, size_t k)
{
	size_t lo = src->ptr[k];

	rows_push(b, src->idx + lo, src->val + lo, src->ptr[k + 1] - lo, src->y[k], src->id[k]);
}

static struct kf_csr rows_csr(const struct rows *b)
{
	struct kf_csr c = { b->ptr, b->idx, b->val };

	return c;
}

/* The rows as a dense matrix (for the CUDA backend and xgboost). */
static const double *rows_dense(struct rows *b, size_t dim)
{
	size_t r, k;

	if (b->cap_dense < b->n * dim + 1) {
		free(b->dense);
		b->cap_dense = b->n * dim + 1;
		b->dense = kf_xmalloc(b->cap_dense * sizeof *b->dense);
	}
	memset(b->dense, 0, b->n * dim * sizeof *b->dense);
	for (r = 0; r < b->n; r++)
		for (k = b->ptr[r]; k < b->ptr[r + 1]; k++)
			b->dense[r * dim + b->idx[k]] = b->val[k];
	return b->dense;
}

/* Rows of one split, either all in memory or streamed from the file. */
struct rowset {
	struct source *s;
	const struct kf_features *fs;
	const char *path;
	bool eval;           /* the eval rows of path (or all rows of an eval file) */
	bool whole_file;     /* path is the eval file: every row */
	bool in_mem;
	struct rows all;     /* in memory: every row; streaming: the shuffle buffer */
	size_t *order;
	size_t pos;
	/* streaming state */
	struct kf_csv *c;
	uint64_t next_row;
	size_t chunk;
	int epoch;
	/* scratch for one transformed row */
	double *x;
	uint32_t *sidx;
	double *sval;
};

static bool rowset_wants(const struct rowset *r, uint64_t idx)
{
	if (r->whole_file)
		return true;
	return is_eval_row(r->s->o, idx) == r->eval;
}

/* Read the next wanted row and append it to dst: 1, 0 at the end, or an error. */
static int read_row(struct rowset *r, struct rows *dst, struct kf_err *err)
{
	size_t dim = r->fs->dim, j, nnz;
	struct kf_csv_row row;
	double y;
	int rc;

	if (!r->x) {
		r->x = kf_xmalloc((dim + 1) * sizeof *r->x);
		r->sidx = kf_xmalloc((dim + 1) * sizeof *r->sidx);
		r->sval = kf_xmalloc((dim + 1) * sizeof *r->sval);
	}
	for (;;) {
		uint64_t idx;

		rc = kf_csv_next(r->c, &row, err);
		if (rc <= 0)
			return rc;
		idx = r->next_row++;
		if (!rowset_wants(r, idx))
			continue;
		row_values(r->s, &row);
		rc = row_label(r->s, kf_csv_name(r->c), row.line, &y, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (kf_features_apply(r->fs, r->s->vals, r->x, !r->eval))
			continue;   /* missing: drop */
		for (j = 0, nnz = 0; j < dim; j++)
			if (r->x[j] != 0) {
				r->sidx[nnz] = (uint32_t)j;
				r->sval[nnz++] = r->x[j];
			}
		rows_push(dst, r->sidx, r->sval, nnz, y, idx);
		return 1;
	}
}

static int rowset_load(struct rowset *r, struct kf_err *err)
{
	int rc;

	rc = open_csv(&r->c, r->path, err);
	if (rc < 0)
		return rc;
	r->next_row = 0;
	rows_clear(&r->all);
	while ((rc = read_row(r, &r->all, err)) > 0)
		;
	kf_csv_free(r->c);
	r->c = NULL;
	r->in_mem = true;
	return rc;
}

static void rowset_release(struct rowset *r)
{
	kf_csv_free(r->c);
	rows_release(&r->all);
	free(r->order);
	free(r->x);
	free(r->sidx);
	free(r->sval);
	memset(r, 0, sizeof *r);
}

static size_t rowset_count(const struct rowset *r)
{
	return r->in_mem ? r->all.n : 0;
}

static void shuffle_order(struct rowset *r, uint64_t seed)
{
	size_t i;

	free(r->order);
	r->order = kf_xmalloc((r->all.n + 1) * sizeof *r->order);
	for (i = 0; i < r->all.n; i++)
		r->order[i] = i;
	if (r->epoch >= 0) {
		struct kf_rng rng;

		kf_rng_seed(&rng, seed);
		kf_rng_shuffle(&rng, r->order, r->all.n);
	}
	r->pos = 0;
}

/* Start a pass; shuffled with (seed, epoch) when epoch >= 0. */
static int rowset_begin(struct rowset *r, int epoch, struct kf_err *err)
{
	r->epoch = epoch;
	r->chunk = 0;
	if (r->in_mem) {
		shuffle_order(r, r->s->o->seed * 7919 + (uint64_t)epoch);
		return 0;
	}
	kf_csv_free(r->c);
	r->c = NULL;
	r->next_row = 0;
	rows_clear(&r->all);
	r->pos = 0;
	return open_csv(&r->c, r->path, err);
}

/* Streaming: fill the buffer with the next chunk of rows, shuffled. */
static int refill(struct rowset *r, struct kf_err *err)
{
	int rc = 1;

	rows_clear(&r->all);
	while (r->all.n < STREAM_BUFFER_ROWS && (rc = read_row(r, &r->all, err)) > 0)
		;
	if (rc < 0)
		return rc;
	shuffle_order(r, (r->s->o->seed * 7919 + (uint64_t)r->epoch) * 1000003 + r->chunk);
	r->chunk++;
	return 0;
}

/* The next batch of up to want rows into b. */
static int rowset_next(struct rowset *r, size_t want, struct rows *b, struct kf_err *err)
{
	int rc;

	rows_clear(b);
	while (b->n < want) {
		if (r->pos >= r->all.n) {
			if (r->in_mem)
				break;
			rc = refill(r, err);
			if (rc < 0)
				return rc;
			if (r->all.n == 0)
				break;
		}
		rows_push_from(b, &r->all, r->order[r->pos++]);
	}
	return 0;
}

/* ---- the dense trainer ---------------------------------------------------- */

struct trainer {
	const struct kf_train_opts *o;
	struct source *s;
	struct kf_features *fs;
	struct kf_nn nn;
	struct kf_dense *d;
	struct kf_nn_work w;
	double *m, *v, *best;
	struct kf_adam adam;
	size_t batch;
	int epoch;            /* epochs done */
	double best_loss;
	int best_epoch, bad_epochs;
	char data_sha[65];
	cJSON *history;
};

static enum task task_of(const struct kf_train_opts *o, struct kf_err *err, int *rc)
{
	*rc = 0;
	if (o->task) {
		if (!strcmp(o->task, "binary"))
			return T_BINARY;
		if (!strcmp(o->task, "multiclass"))
			return T_MULTI;
		if (!strcmp(o->task, "regression"))
			return T_REGRESSION;
		*rc = kf_err_set(err, KF_EUSAGE, "--task: unknown task \"%s\" (expected binary, multiclass or regression)", o->task);
		return T_BINARY;
	}
	if (!strcmp(o->model, "softmax"))
		return T_MULTI;
	if (!strcmp(o->model, "linear"))
		return T_REGRESSION;
	return T_BINARY;
}

/* The backend decides the representation: the CPU takes the sparse rows
 * as they are, CUDA a dense copy. */
static bool use_dense(const struct trainer *t)
{
	return strcmp(t->d->ops->name, "cpu") != 0;
}

static double batch_loss(struct trainer *t, struct rows *b)
{
	struct kf_csr c = rows_csr(b);

	if (use_dense(t))
		return kf_nn_loss(&t->nn, t->d, &t->w, rows_dense(b, t->fs->dim), b->y, b->n);
	return kf_nn_loss_csr(&t->nn, t->d, &t->w, &c, b->y, b->n);
}

static void batch_predict(struct trainer *t, struct rows *b, double *out)
{
	struct kf_csr c = rows_csr(b);

	if (use_dense(t))
		kf_nn_predict(&t->nn, t->d, &t->w, rows_dense(b, t->fs->dim), b->n, out);
	else
		kf_nn_predict_csr(&t->nn, t->d, &t->w, &c, b->n, out);
}

static double batch_loss_grad(struct trainer *t, struct rows *b, const uint64_t *seeds)
{
	struct kf_csr c = rows_csr(b);

	if (use_dense(t))
		return kf_nn_loss_grad(&t->nn, t->d, &t->w, rows_dense(b, t->fs->dim), b->y, b->n, seeds);
	return kf_nn_loss_grad_csr(&t->nn, t->d, &t->w, &c, b->y, b->n, seeds);
}

/* Evaluate over a row set: mean loss, and the outputs when pred is given. */
static int evaluate(struct trainer *t, struct rowset *r, double *loss_out, double **pred, double **ys,
		    size_t *n_out, struct kf_err *err)
{
	size_t k = kf_nn_outputs(&t->nn), n = 0, cap = 0;
	struct rows b = { 0 };
	double loss = 0, *p = NULL, *yy = NULL;
	int rc;

	rc = rowset_begin(r, -1, err);
	while (rc == 0) {
		rc = rowset_next(r, t->batch, &b, err);
		if (rc < 0 || b.n == 0)
			break;
		loss += batch_loss(t, &b) * (double)b.n;
		if (pred) {
			if (n + b.n > cap) {
				cap = (n + b.n) * 2;
				p = kf_xrealloc(p, cap * k * sizeof *p);
				yy = kf_xrealloc(yy, cap * sizeof *yy);
			}
			batch_predict(t, &b, p + n * k);
			memcpy(yy + n, b.y, b.n * sizeof *yy);
		}
		n += b.n;
	}
	rows_release(&b);
	if (rc < 0) {
		free(p);
		free(yy);
		return rc;
	}
	*loss_out = n ? loss / (double)n : NAN;
	if (pred) {
		*pred = p;
		*ys = yy;
		*n_out = n;
	}
	return 0;
}

/* One epoch of mini-batch Adam over the training rows. */
static int train_epoch(struct trainer *t, struct rowset *tr, double *mean_loss, struct kf_err *err)
{
	const struct kf_train_opts *o = t->o;
	size_t j, np = t->nn.n_params, seen = 0;
	struct rows b = { 0 }, local = { 0 };
	uint64_t *seeds = kf_xmalloc(t->batch * sizeof *seeds);
	double *red = o->world > 1 ? kf_xmalloc((np + 2) * sizeof *red) : NULL, total_loss = 0;
	int rc;

	rc = rowset_begin(tr, t->epoch, err);
	while (rc == 0) {
		double loss = 0, rows_total;

		rc = rowset_next(tr, t->batch, &b, err);
		if (rc < 0 || b.n == 0)
			break;
		/* this worker's share of the global batch */
		rows_clear(&local);
		for (j = 0; j < b.n; j++) {
			if (o->world > 1 && (int)(j % (size_t)o->world) != o->rank)
				continue;
			seeds[local.n] = (o->seed * 0x100000001b3ULL + (uint64_t)t->epoch) * 0x9e3779b97f4a7c15ULL + b.id[j];
			rows_push_from(&local, &b, j);
		}
		if (local.n)
			loss = batch_loss_grad(t, &local, seeds);
		else
			memset(t->w.grad, 0, np * sizeof *t->w.grad);
		rows_total = (double)b.n;
		if (o->world > 1) {
			for (j = 0; j < np; j++)
				red[j] = t->w.grad[j] * (double)local.n;
			red[np] = loss * (double)local.n;
			red[np + 1] = (double)local.n;
			rc = kf_allreduce_sum(o->ar, red, np + 2, err);
			if (rc < 0)
				break;
			for (j = 0; j < np; j++)
				t->w.grad[j] = red[j] / rows_total;
			loss = red[np] / rows_total;
		}
		t->adam.t++;
		kf_dense_adam(t->d, t->nn.params, t->w.grad, t->m, t->v, np, &t->adam);
		total_loss += loss * rows_total;
		seen += b.n;
	}
	rows_release(&b);
	rows_release(&local);
	free(seeds);
	free(red);
	*mean_loss = seen ? total_loss / (double)seen : NAN;
	return rc;
}

/* ---- checkpoints ---------------------------------------------------------- */

/* Checkpoint files are written to a temporary name and renamed, without
 * fsync: a killed process never leaves half a file, and an OS crash at
 * worst leaves a file whose sha256 no longer matches state.json, which
 * --resume reports. Syncing every epoch would cost more than the epoch. */
static int ckpt_write(const char *dir, const char *name, const void *data, size_t len, struct kf_err *err)
{
	char *path = kf_path_join(dir, name), *tmp = kf_xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	bool ok = f != NULL;
	int rc = 0;

	if (f) {
		ok = fwrite(data, 1, len, f) == len;
		if (fclose(f) != 0)
			ok = false;
	}
	if (!ok) {
		rc = kf_err_sys(err, "cannot write checkpoint \"%s\"", path);
	} else if (rename(tmp, path) != 0) {
		rc = kf_err_sys(err, "cannot rename into \"%s\"", path);
	}
	if (rc < 0)
		remove(tmp);
	free(tmp);
	free(path);
	return rc;
}

/* One file per checkpoint, replaced each epoch: "KFCKPT01", the length of
 * a JSON header (uint64, native), the header (epoch, Adam step, early
 * stopping state, data digest, the sha256 of the arrays), then the
 * parameters, Adam's two moments and the best parameters (native doubles:
 * a checkpoint is resumed on the machine that wrote it). */
#define CKPT_MAGIC "KFCKPT01"
#define CKPT_FILE "checkpoint.bin"

static int save_checkpoint(struct trainer *t, struct kf_err *err)
{
	size_t np = t->nn.n_params, arrays = 4 * np * sizeof(double), hlen, off;
	char *dir = kf_path_join(t->o->out, CKPT_DIR), *text, hex[65], num[40];
	unsigned char *buf;
	uint64_t len64;
	cJSON *st;
	int rc;

	buf = kf_xmalloc(arrays + 1);
	memcpy(buf, t->nn.params, np * sizeof(double));
	memcpy(buf + np * sizeof(double), t->m, np * sizeof(double));
	memcpy(buf + 2 * np * sizeof(double), t->v, np * sizeof(double));
	memcpy(buf + 3 * np * sizeof(double), t->best, np * sizeof(double));
	kf_sha256_hex(buf, arrays, hex);
	st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "epoch", t->epoch);
	cJSON_AddNumberToObject(st, "adamStep", (double)t->adam.t);
	snprintf(num, sizeof num, "%.17g", t->best_loss);
	cJSON_AddItemToObject(st, "bestLoss", cJSON_CreateRaw(isfinite(t->best_loss) ? num : "null"));
	cJSON_AddNumberToObject(st, "bestEpoch", t->best_epoch);
	cJSON_AddNumberToObject(st, "badEpochs", t->bad_epochs);
	cJSON_AddStringToObject(st, "dataSha256", t->data_sha);
	cJSON_AddNumberToObject(st, "params", (double)np);
	cJSON_AddStringToObject(st, "sha256", hex);
	cJSON_AddItemToObject(st, "history", cJSON_Duplicate(t->history, 1));
	text = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	hlen = strlen(text);
	len64 = hlen;
	buf = kf_xrealloc(buf, 16 + hlen + arrays);
	memmove(buf + 16 + hlen, buf, arrays);
	memcpy(buf, CKPT_MAGIC, 8);
	memcpy(buf + 8, &len64, 8);
	memcpy(buf + 16, text, hlen);
	off = 16 + hlen + arrays;
	free(text);
	rc = kf_fs_mkdirs(dir, err);
	if (rc == 0)
		rc = ckpt_write(dir, CKPT_FILE, buf, off, err);
	free(buf);
	free(dir);
	return rc;
}

static int load_checkpoint(struct trainer *t, struct kf_err *err)
{
	size_t np = t->nn.n_params, arrays = 4 * np * sizeof(double);
	char *dir = kf_path_join(t->o->out, CKPT_DIR), *path = kf_path_join(dir, CKPT_FILE), hex[65];
	struct kf_buf data = KF_BUF_INIT;
	const cJSON *it, *sha;
	cJSON *st = NULL;
	uint64_t hlen = 0;
	const unsigned char *arr;
	int rc;

	rc = kf_fs_read_file(path, &data, err);
	if (rc < 0) {
		kf_err_set(err, KF_ENOTFOUND, "--resume: no checkpoint in \"%s\"", t->o->out);
		goto out;
	}
	rc = KF_EINPUT;
	if (data.len >= 16)
		memcpy(&hlen, data.data + 8, 8);
	if (data.len < 16 || memcmp(data.data, CKPT_MAGIC, 8) || hlen > data.len - 16) {
		kf_err_set(err, rc, "--resume: \"%s\" is not a kf checkpoint", path);
		goto out;
	}
	st = cJSON_ParseWithLength(data.data + 16, (size_t)hlen);
	it = cJSON_GetObjectItemCaseSensitive(st, "dataSha256");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, t->data_sha)) {
		kf_err_set(err, rc, "--resume: the checkpoint in \"%s\" was made from different data", t->o->out);
		goto out;
	}
	it = cJSON_GetObjectItemCaseSensitive(st, "params");
	if (!cJSON_IsNumber(it) || (size_t)it->valuedouble != np || data.len - 16 - hlen != arrays) {
		kf_err_set(err, rc, "--resume: the checkpoint in \"%s\" has a different model shape", t->o->out);
		goto out;
	}
	arr = (const unsigned char *)data.data + 16 + hlen;
	sha = cJSON_GetObjectItemCaseSensitive(st, "sha256");
	kf_sha256_hex(arr, arrays, hex);
	if (!cJSON_IsString(sha) || strcmp(hex, sha->valuestring)) {
		kf_err_set(err, rc, "--resume: checkpoint \"%s\" is damaged (sha256 mismatch)", path);
		goto out;
	}
	memcpy(t->nn.params, arr, np * sizeof(double));
	memcpy(t->m, arr + np * sizeof(double), np * sizeof(double));
	memcpy(t->v, arr + 2 * np * sizeof(double), np * sizeof(double));
	memcpy(t->best, arr + 3 * np * sizeof(double), np * sizeof(double));
	t->epoch = cJSON_GetObjectItemCaseSensitive(st, "epoch")->valueint;
	t->adam.t = (long)cJSON_GetObjectItemCaseSensitive(st, "adamStep")->valuedouble;
	it = cJSON_GetObjectItemCaseSensitive(st, "bestLoss");
	t->best_loss = cJSON_IsNumber(it) ? it->valuedouble : INFINITY;
	t->best_epoch = cJSON_GetObjectItemCaseSensitive(st, "bestEpoch")->valueint;
	t->bad_epochs = cJSON_GetObjectItemCaseSensitive(st, "badEpochs")->valueint;
	it = cJSON_GetObjectItemCaseSensitive(st, "history");
	if (cJSON_IsArray(it)) {
		cJSON_Delete(t->history);
		t->history = cJSON_Duplicate(it, 1);
	}
	rc = 0;
out:
	cJSON_Delete(st);
	kf_buf_release(&data);
	free(path);
	free(dir);
	return rc;
}

/* ---- metrics and the bundle ----------------------------------------------- */

static void add_metric(cJSON *m, const char *name, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(m, name, v);
}

static void task_metrics(cJSON *m, enum task task, const double *p, const double *y, size_t n, size_t k,
			 const char *prefix)
{
	char name[64];

	if (n == 0)
		return;
#define M(nm, val) do { snprintf(name, sizeof name, "%s%s", prefix, nm); add_metric(m, name, val); } while (0)
	if (task == T_BINARY) {
		M("auc", kf_metrics_auc(p, y, n));
		M("accuracy", kf_metrics_accuracy(p, y, n));
		M("log_loss", kf_metrics_logloss(p, y, n));
	} else if (task == T_MULTI) {
		M("accuracy", kf_metrics_accuracy_k(p, y, n, k));
		M("log_loss", kf_metrics_logloss_k(p, y, n, k));
	} else {
		M("rmse", kf_metrics_rmse(p, y, n));
		M("mae", kf_metrics_mae(p, y, n));
		M("r2", kf_metrics_r2(p, y, n));
	}
#undef M
}

static cJSON *label_json(const struct source *s)
{
	cJSON *l = cJSON_CreateObject();
	size_t i;

	if (s->o->label)
		cJSON_AddStringToObject(l, "column", s->o->label);
	if (s->o->label_expr)
		cJSON_AddStringToObject(l, "expr", s->o->label_expr);
	cJSON_AddStringToObject(l, "task", task_names[s->task]);
	if (s->task == T_MULTI) {
		cJSON *c = cJSON_AddArrayToObject(l, "classes");

		for (i = 0; i < s->n_classes; i++)
			cJSON_AddItemToArray(c, cJSON_CreateString(s->class_names[i]));
	}
	return l;
}

static cJSON *data_json(const struct kf_train_opts *o, const char *sha, const struct counts *cnt,
			size_t train_used, size_t eval_used)
{
	cJSON *d = cJSON_CreateObject();
	char split[64];

	cJSON_AddStringToObject(d, "path", o->data);
	cJSON_AddStringToObject(d, "sha256", sha);
	cJSON_AddNumberToObject(d, "rows", (double)cnt->rows);
	cJSON_AddNumberToObject(d, "trainRows", (double)train_used);
	cJSON_AddNumberToObject(d, "evalRows", (double)eval_used);
	if (o->eval)
		cJSON_AddStringToObject(d, "eval", o->eval);
	else if (o->split_mod > 0) {
		snprintf(split, sizeof split, "mod:%ld:%ld", o->split_mod, o->split_rem);
		cJSON_AddStringToObject(d, "split", split);
	} else if (o->eval_fraction > 0) {
		snprintf(split, sizeof split, "fraction:%g:%llu", o->eval_fraction, (unsigned long long)o->split_seed);
		cJSON_AddStringToObject(d, "split", split);
	}
	return d;
}

static cJSON *training_json(const struct kf_train_opts *o, int epochs, size_t batch, double seconds)
{
	cJSON *t = cJSON_CreateObject(), *h;
	size_t i;

	cJSON_AddNumberToObject(t, "epochs", epochs);
	cJSON_AddNumberToObject(t, "batch", (double)batch);
	cJSON_AddNumberToObject(t, "lr", o->lr);
	cJSON_AddNumberToObject(t, "seed", (double)o->seed);
	cJSON_AddStringToObject(t, "device", o->device ? o->device : "cpu");
	cJSON_AddNumberToObject(t, "workers", o->world);
	h = cJSON_AddArrayToObject(t, "hidden");
	for (i = 0; i < o->n_hidden; i++)
		cJSON_AddItemToArray(h, cJSON_CreateNumber((double)o->hidden[i]));
	cJSON_AddNumberToObject(t, "fitSeconds", seconds);
	return t;
}

/* Write kf-features.yaml (the spec), transform.json (the fitted transform,
 * for lineage), metrics.json and, last, kf-model.json. */
static int write_bundle(const struct kf_train_opts *o, cJSON *meta, const struct kf_features *fs,
			struct kf_err *err)
{
	cJSON *spec = kf_features_spec_json(fs);
	struct kf_buf y = KF_BUF_INIT;
	char *path, *text;
	int rc;

	rc = kf_yaml_emit(spec, &y, err);
	cJSON_Delete(spec);
	if (rc == 0) {
		path = kf_path_join(o->out, "kf-features.yaml");
		rc = kf_fs_write_atomic(path, y.data ? y.data : "", y.len, err);
		free(path);
	}
	kf_buf_release(&y);
	if (rc < 0)
		return rc;
	text = cJSON_Print(cJSON_GetObjectItemCaseSensitive(meta, "features"));
	path = kf_path_join(o->out, "transform.json");
	rc = kf_fs_write_atomic(path, text, strlen(text), err);
	free(path);
	free(text);
	if (rc < 0)
		return rc;
	text = cJSON_Print(cJSON_GetObjectItemCaseSensitive(meta, "metrics"));
	path = kf_path_join(o->out, "metrics.json");
	rc = kf_fs_write_atomic(path, text, strlen(text), err);
	free(path);
	free(text);
	if (rc < 0)
		return rc;
	return kf_bundle_write_meta(o->out, meta, err);
}

static cJSON *meta_new(const struct kf_train_opts *o, const struct source *s, const struct kf_features *fs)
{
	cJSON *meta = cJSON_CreateObject();
	char when[40];

	cJSON_AddStringToObject(meta, "apiVersion", "kf/v1");
	cJSON_AddStringToObject(meta, "kind", o->model);
	cJSON_AddStringToObject(meta, "task", s ? task_names[s->task] : "recommend");
	kf_time_rfc3339(kf_time_wall_ms(), when, sizeof when);
	cJSON_AddStringToObject(meta, "created", when);
	if (s)
		cJSON_AddItemToObject(meta, "label", label_json(s));
	if (fs)
		cJSON_AddItemToObject(meta, "features", kf_features_to_json(fs));
	return meta;
}

/* ---- predictions ---------------------------------------------------------- */

struct predictor {
	const struct kf_features *fs;
	size_t n_out;
	const char *task;
	char **names;                /* output names */
	/* one of: */
	const struct kf_nn *nn;
	struct kf_dense *d;
	const struct kf_bundle *b;
	struct kf_xgb *xgb;
};

static void write_header(const struct predictor *p, const char *format, FILE *out)
{
	size_t j;

	if (strcmp(format, "csv"))
		return;
	for (j = 0; j < p->n_out && strcmp(p->task, "regression"); j++)
		fprintf(out, "%s%s", j ? "," : "", p->names[j]);
	fprintf(out, "%sprediction\n", strcmp(p->task, "regression") ? "," : "");
}

static void write_row(const struct predictor *p, const char *format, const double *o, FILE *out)
{
	size_t j, best = 0;
	bool csv = !strcmp(format, "csv");
	char pred[64];

	if (!strcmp(p->task, "binary"))
		snprintf(pred, sizeof pred, "%d", o[0] >= 0.5);
	else if (!strcmp(p->task, "regression"))
		snprintf(pred, sizeof pred, "%.17g", o[0]);
	else {
		for (j = 1; j < p->n_out; j++)
			if (o[j] > o[best])
				best = j;
	}
	if (csv) {
		for (j = 0; j < p->n_out && strcmp(p->task, "regression"); j++)
			fprintf(out, "%.17g,", o[j]);
		if (!strcmp(p->task, "multiclass")) {
			struct kf_buf b = KF_BUF_INIT;

			/* class names may need CSV quoting */
			if (strpbrk(p->names[best], ",\"\n")) {
				const char *c;

				kf_buf_addc(&b, '"');
				for (c = p->names[best]; *c; c++) {
					if (*c == '"')
						kf_buf_addc(&b, '"');
					kf_buf_addc(&b, *c);
				}
				kf_buf_addc(&b, '"');
			} else {
				kf_buf_adds(&b, p->names[best]);
			}
			fprintf(out, "%s\n", kf_buf_str(&b));
			kf_buf_release(&b);
		} else {
			fprintf(out, "%s\n", pred);
		}
		return;
	}
	{
		cJSON *row = cJSON_CreateObject();
		char *text;

		if (!strcmp(p->task, "regression")) {
			cJSON_AddNumberToObject(row, "prediction", o[0]);
		} else if (!strcmp(p->task, "binary")) {
			cJSON_AddNumberToObject(row, "probability", o[0]);
			cJSON_AddNumberToObject(row, "prediction", o[0] >= 0.5);
		} else {
			cJSON *probs = cJSON_AddObjectToObject(row, "probabilities");

			for (j = 0; j < p->n_out; j++)
				cJSON_AddNumberToObject(probs, p->names[j], o[j]);
			cJSON_AddStringToObject(row, "prediction", p->names[best]);
		}
		text = cJSON_PrintUnformatted(row);
		fprintf(out, "%s\n", text);
		free(text);
		cJSON_Delete(row);
	}
}

#define PRED_CHUNK 512

/* Predict every row of data. The transform sees the cells by column name,
 * as serving does: the file's other columns (the label) are ignored. */
static int predict_file(const struct predictor *p, const char *data, const char *format, FILE *out,
			struct kf_err *err)
{
	struct kf_csv *c = NULL;
	struct kf_csv_row row;
	size_t dim = p->fs->dim, n = 0, i, ncols;
	long *map = NULL;
	const char **vals = kf_xcalloc(p->fs->n_inputs + 1, sizeof *vals);
	double *x = kf_xmalloc(PRED_CHUNK * dim * sizeof *x + 1), *o = kf_xmalloc(PRED_CHUNK * p->n_out * sizeof *o + 1);
	struct kf_nn_work w = { 0 };
	int rc;

	rc = open_csv(&c, data, err);
	if (rc < 0)
		goto out;
	ncols = kf_csv_ncols(c);
	map = kf_xcalloc(p->fs->n_inputs + 1, sizeof *map);
	for (i = 0; i < p->fs->n_inputs; i++)
		map[i] = kf_csv_colindex(c, p->fs->inputs[i]);
	if (p->nn)
		kf_nn_work_init(&w, p->nn, PRED_CHUNK);
	write_header(p, format, out);
	for (;;) {
		size_t k;

		rc = kf_csv_next(c, &row, err);
		if (rc < 0)
			break;
		if (rc > 0) {
			for (i = 0; i < p->fs->n_inputs; i++)
				vals[i] = map[i] >= 0 && (size_t)map[i] < ncols ? row.fields[map[i]].s : NULL;
			kf_features_apply(p->fs, vals, x + n * dim, false);
			n++;
		}
		if (n == PRED_CHUNK || (rc == 0 && n > 0)) {
			int prc = 0;

			if (p->nn)
				kf_nn_predict(p->nn, p->d, &w, x, n, o);
			else if (p->xgb)
				prc = kf_xgb_predict(p->xgb, x, n, dim, o, err);
			else
				prc = kf_bundle_predict(p->b, x, n, o, err);
			if (prc < 0) {
				rc = prc;
				break;
			}
			for (k = 0; k < n; k++)
				write_row(p, format, o + k * p->n_out, out);
			n = 0;
		}
		if (rc == 0)
			break;
	}
	if (rc > 0)
		rc = 0;
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = kf_err_sys(err, "writing predictions");
out:
	if (p->nn)
		kf_nn_work_release(&w, p->nn);
	kf_csv_free(c);
	free(map);
	free(vals);
	free(x);
	free(o);
	return rc;
}

static int write_predictions(const struct kf_train_opts *o, struct predictor *p, struct kf_err *err)
{
	FILE *f = fopen(o->predictions, "w");
	int rc;

	if (!f)
		return kf_err_sys(err, "cannot write \"%s\"", o->predictions);
	rc = predict_file(p, o->data, "csv", f, err);
	if (fclose(f) != 0 && rc == 0)
		rc = kf_err_sys(err, "writing \"%s\"", o->predictions);
	return rc;
}

static char **output_names(const struct source *s, size_t n_out)
{
	char **names = kf_xcalloc(n_out + 1, sizeof *names);
	size_t j;

	for (j = 0; j < n_out; j++)
		names[j] = kf_xstrdup(s->task == T_MULTI ? s->class_names[j] :
				      s->task == T_BINARY ? "probability" : "value");
	return names;
}

static void free_names(char **names, size_t n)
{
	size_t j;

	for (j = 0; names && j < n; j++)
		free(names[j]);
	free(names);
}

/* ---- the dense path --------------------------------------------------------- */

static void progress(const struct kf_train_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress(const struct kf_train_opts *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	o->progress(o->progress_arg, line);
}

static size_t cache_budget(void)
{
	const char *e = getenv("KF_TRAIN_CACHE_MB");
	long mb = 64;

	if (e && kf_str_to_long(e, &mb) && mb >= 0)
		return (size_t)mb << 20;
	return (size_t)64 << 20;
}

/* Regression trained on standardised targets: fold the scale into the
 * output layer (y = scale·z + shift) and give the rows back their values. */
static void unstandardize(struct trainer *t, struct rowset *tr, struct rowset *ev)
{
	struct source *s = t->s;
	size_t L = t->nn.n_layers, n_in = t->nn.sizes[L - 1], i;
	double *w = t->nn.params + t->nn.n_params - (n_in + 1);

	for (i = 0; i < n_in; i++)
		w[i] *= s->y_scale;
	w[n_in] = w[n_in] * s->y_scale + s->y_shift;
	for (i = 0; tr->in_mem && i < tr->all.n; i++)
		tr->all.y[i] = tr->all.y[i] * s->y_scale + s->y_shift;
	for (i = 0; ev->in_mem && i < ev->all.n; i++)
		ev->all.y[i] = ev->all.y[i] * s->y_scale + s->y_shift;
	s->y_scale = 1;
	s->y_shift = 0;
}

static int train_dense(struct trainer *t, struct rowset *tr, struct rowset *ev, const struct counts *cnt,
		       double t0, cJSON **metrics, struct kf_err *err)
{
	const struct kf_train_opts *o = t->o;
	struct source *s = t->s;
	bool is_mlp = !strcmp(o->model, "mlp"), early = is_mlp && (rowset_count(ev) > 0 || !ev->in_mem);
	size_t k, n_eval = 0, np;
	double *pred = NULL, *ys = NULL, eval_loss = NAN, train_loss = NAN;
	cJSON *meta = NULL, *m;
	char hex[65];
	int rc, epochs = o->epochs;

	k = s->task == T_MULTI ? s->n_classes : 1;
	rc = kf_nn_init(&t->nn, s->task == T_BINARY ? KF_NN_LOGISTIC : s->task == T_MULTI ? KF_NN_SOFTMAX : KF_NN_LINEAR,
			t->fs->dim, is_mlp ? o->hidden : NULL, is_mlp ? o->n_hidden : 0, k, o->seed, err);
	if (rc < 0)
		return rc;
	t->nn.l2 = o->l2;
	t->nn.dropout = is_mlp ? o->dropout : 0;
	np = t->nn.n_params;
	if (s->task == T_BINARY && s->y_n && s->y_mean > 0 && s->y_mean < 1)   /* start at the base rate */
		t->nn.params[np - 1] = log(s->y_mean / (1 - s->y_mean));
	t->m = kf_xcalloc(np, sizeof *t->m);
	t->v = kf_xcalloc(np, sizeof *t->v);
	t->best = kf_xcalloc(np, sizeof *t->best);
	t->adam = (struct kf_adam){ o->lr, 0.9, 0.999, 1e-8, 0, 0 };
	t->best_loss = INFINITY;
	t->history = cJSON_CreateArray();
	kf_nn_work_init(&t->w, &t->nn, t->batch);
	if (o->resume && o->rank == 0) {
		rc = load_checkpoint(t, err);
		if (rc < 0)
			return rc;
		progress(o, "resuming after epoch %d", t->epoch);
	}
	if (o->world > 1) {
		/* every worker starts from rank 0's state (a resumed checkpoint) */
		double *st = kf_xcalloc(np * 4 + 8, sizeof *st);

		if (o->rank == 0) {
			memcpy(st, t->nn.params, np * sizeof *st);
			memcpy(st + np, t->m, np * sizeof *st);
			memcpy(st + 2 * np, t->v, np * sizeof *st);
			memcpy(st + 3 * np, t->best, np * sizeof *st);
			st[4 * np] = t->epoch;
			st[4 * np + 1] = (double)t->adam.t;
			st[4 * np + 2] = isfinite(t->best_loss) ? t->best_loss : 1e308;
			st[4 * np + 3] = t->best_epoch;
			st[4 * np + 4] = t->bad_epochs;
		}
		rc = kf_allreduce_sum(o->ar, st, np * 4 + 8, err);
		if (rc == 0 && o->rank != 0) {
			memcpy(t->nn.params, st, np * sizeof *st);
			memcpy(t->m, st + np, np * sizeof *st);
			memcpy(t->v, st + 2 * np, np * sizeof *st);
			memcpy(t->best, st + 3 * np, np * sizeof *st);
			t->epoch = (int)st[4 * np];
			t->adam.t = (long)st[4 * np + 1];
			t->best_loss = st[4 * np + 2];
			t->best_epoch = (int)st[4 * np + 3];
			t->bad_epochs = (int)st[4 * np + 4];
		}
		free(st);
		if (rc < 0)
			return rc;
	}
	while (t->epoch < epochs) {
		cJSON *h;

		/* a gentle 1/(1 + e/10) decay: late epochs refine instead of bouncing */
		t->adam.lr = o->lr / (1 + 0.1 * t->epoch);
		rc = train_epoch(t, tr, &train_loss, err);
		if (rc < 0)
			return rc;
		t->epoch++;
		eval_loss = NAN;
		if (early || rowset_count(ev)) {
			rc = evaluate(t, ev, &eval_loss, NULL, NULL, NULL, err);
			if (rc < 0)
				return rc;
		}
		h = cJSON_CreateObject();
		cJSON_AddNumberToObject(h, "epoch", t->epoch);
		add_metric(h, "train_loss", train_loss);
		add_metric(h, "eval_loss", eval_loss);
		cJSON_AddItemToArray(t->history, h);
		progress(o, "epoch %d/%d: train_loss=%.6f%s", t->epoch, epochs, train_loss,
			 isnan(eval_loss) ? "" : "");
		if (!isnan(eval_loss))
			progress(o, "  eval_loss=%.6f", eval_loss);
		if (!isnan(eval_loss) && eval_loss < t->best_loss - 1e-9) {
			t->best_loss = eval_loss;
			t->best_epoch = t->epoch;
			t->bad_epochs = 0;
			memcpy(t->best, t->nn.params, np * sizeof *t->best);
		} else if (!isnan(eval_loss)) {
			t->bad_epochs++;
		}
		if (o->rank == 0 && (rc = save_checkpoint(t, err)) < 0)
			return rc;
		if (early && o->patience > 0 && t->bad_epochs >= o->patience) {
			progress(o, "early stop: eval loss has not improved for %d epochs (best epoch %d)",
				 t->bad_epochs, t->best_epoch);
			break;
		}
	}
	if (early && t->best_epoch > 0)
		memcpy(t->nn.params, t->best, np * sizeof *t->best);
	if (s->task == T_REGRESSION) {   /* back to the label's units */
		train_loss *= s->y_scale * s->y_scale;
		unstandardize(t, tr, ev);
	}
	/* final metrics: eval rows, else the training rows */
	m = cJSON_CreateObject();
	if (ev->in_mem ? ev->all.n > 0 : cnt->eval > 0 || o->eval) {
		rc = evaluate(t, ev, &eval_loss, &pred, &ys, &n_eval, err);
		if (rc < 0)
			goto out;
		task_metrics(m, s->task, pred, ys, n_eval, k, "");
		free(pred);
		free(ys);
		pred = ys = NULL;
	}
	if (cJSON_GetArraySize(m) == 0) {   /* no eval rows: the metrics of the training rows */
		rc = evaluate(t, tr, &train_loss, &pred, &ys, &n_eval, err);
		if (rc < 0)
			goto out;
		task_metrics(m, s->task, pred, ys, n_eval, k, "");
	}
	add_metric(m, "train_loss", train_loss);   /* else: the last epoch's mean loss */
	add_metric(m, "epochs", t->epoch);
	add_metric(m, "fit_seconds", (double)(kf_time_mono_ns() - (int64_t)t0) / 1e9);
	*metrics = m;
	if (o->rank != 0)
		goto out;
	rc = kf_bundle_write_weights(o->out, KF_BUNDLE_WEIGHTS, t->nn.params, np, hex, err);
	if (rc < 0)
		goto out;
	meta = meta_new(o, s, t->fs);
	cJSON_AddItemToObject(meta, "model", kf_bundle_nn_json(&t->nn, hex));
	cJSON_AddItemToObject(meta, "metrics", cJSON_Duplicate(m, 1));
	cJSON_AddItemToObject(meta, "history", cJSON_Duplicate(t->history, 1));
	cJSON_AddItemToObject(meta, "data", data_json(o, t->data_sha, cnt, tr->in_mem ? tr->all.n : (size_t)cnt->train,
						      ev->in_mem ? ev->all.n : (size_t)cnt->eval));
	cJSON_AddItemToObject(meta, "training",
			      training_json(o, t->epoch, t->batch, cJSON_GetObjectItem(m, "fit_seconds")->valuedouble));
	rc = write_bundle(o, meta, t->fs, err);
	if (rc == 0 && o->predictions) {
		struct predictor p = { t->fs, k, task_names[s->task], output_names(s, k), &t->nn, t->d, NULL, NULL };

		rc = write_predictions(o, &p, err);
		free_names(p.names, k);
	}
out:
	free(pred);
	free(ys);
	cJSON_Delete(meta);
	return rc;
}

/* ---- xgboost --------------------------------------------------------------- */

static int train_xgb(struct trainer *t, struct rowset *tr, struct rowset *ev, const struct counts *cnt,
		     double t0, cJSON **metrics, struct kf_err *err)
{
	const struct kf_train_opts *o = t->o;
	struct source *s = t->s;
	struct kf_xgb_params p = { task_names[s->task], s->n_classes, o->rounds, o->max_depth, o->eta, 0.8,
				   o->threads, o->seed };
	struct kf_xgb *x = NULL;
	size_t k = s->task == T_MULTI ? s->n_classes : 1;
	double *pred = NULL;
	cJSON *meta = NULL, *model = NULL, *m;
	int rc;

	size_t dim = t->fs->dim;

	rc = kf_xgb_train(&x, rows_dense(&tr->all, dim), tr->all.y, tr->all.n, rows_dense(&ev->all, dim), ev->all.y,
			  ev->all.n, dim, &p, err);
	if (rc < 0)
		return rc;
	m = cJSON_CreateObject();
	*metrics = m;
	if (ev->all.n) {
		pred = kf_xmalloc(ev->all.n * k * sizeof *pred);
		rc = kf_xgb_predict(x, ev->all.dense, ev->all.n, dim, pred, err);
		if (rc < 0)
			goto out;
		task_metrics(m, s->task, pred, ev->all.y, ev->all.n, k, "");
	}
	add_metric(m, "fit_seconds", (double)(kf_time_mono_ns() - (int64_t)t0) / 1e9);
	rc = kf_fs_mkdirs(o->out, err);
	if (rc == 0)
		rc = kf_xgb_save(x, o->out, &model, err);
	if (rc < 0)
		goto out;
	meta = meta_new(o, s, t->fs);
	cJSON_AddItemToObject(meta, "model", model);
	cJSON_AddItemToObject(meta, "metrics", cJSON_Duplicate(m, 1));
	cJSON_AddItemToObject(meta, "data", data_json(o, t->data_sha, cnt, tr->all.n, ev->all.n));
	cJSON_AddItemToObject(meta, "training", training_json(o, o->rounds, 0, cJSON_GetObjectItem(m, "fit_seconds")->valuedouble));
	rc = write_bundle(o, meta, t->fs, err);
	if (rc == 0 && o->predictions) {
		struct predictor pr = { t->fs, k, task_names[s->task], output_names(s, k), NULL, NULL, NULL, x };

		rc = write_predictions(o, &pr, err);
		free_names(pr.names, k);
	}
out:
	free(pred);
	cJSON_Delete(meta);
	kf_xgb_free(x);
	return rc;
}

/* ---- mf ------------------------------------------------------------------------ */

struct mf_progress {
	const struct kf_train_opts *o;
};

static void mf_progress(void *arg, int iter, double loss)
{
	struct mf_progress *mp = arg;

	progress(mp->o, "iteration %d/%d: loss=%.6g", iter, mp->o->iters, loss);
}

static long col_of(struct kf_csv *c, const char *name, const char *flag, struct kf_err *err)
{
	long k = kf_csv_colindex(c, name);

	if (k < 0)
		kf_err_set(err, KF_EUSAGE, "%s: no column \"%s\" in \"%s\"", flag, name, kf_csv_name(c));
	return k;
}

/* Add each (user, item[, rating]) of a row to m, or to the eval list. */
static void mf_row(struct kf_mf *m, struct kf_strv *eval, const struct kf_csv_row *row, long uc, long ic,
		   long rc_, const char *sep)
{
	const char *user = row->fields[uc].s;
	char *items = kf_xstrdup(row->fields[ic].s), *save = NULL, *it;
	double v = rc_ >= 0 ? strtod(row->fields[rc_].s, NULL) : 1;

	if (!*user) {
		free(items);
		return;
	}
	for (it = sep && *sep ? strtok_r(items, sep, &save) : items; it; it = sep && *sep ? strtok_r(NULL, sep, &save) : NULL) {
		if (!*it)
			continue;
		if (eval) {
			char buf[64];

			kf_strv_push(eval, user);
			kf_strv_push(eval, it);
			snprintf(buf, sizeof buf, "%.17g", v);
			kf_strv_push(eval, buf);
		} else {
			kf_mf_add(m, user, it, v);
		}
		if (!sep || !*sep)
			break;
	}
	free(items);
}

static int train_mf(const struct kf_train_opts *o, const char *sha, double t0, cJSON **metrics,
		    struct kf_err *err)
{
	struct kf_mf_params p = { o->factors, o->iters, o->reg, o->alpha, !o->rating_col, o->seed };
	struct kf_mf *m = kf_mf_new(!o->rating_col);
	struct kf_strv eval = KF_STRV_INIT;
	struct mf_progress mp = { o };
	struct kf_csv *c = NULL;
	struct kf_csv_row row;
	struct counts cnt = { 0, 0, 0 };
	long uc, ic, rcol = -1;
	cJSON *meta = NULL, *model = NULL, *mt, *in;
	int rc;

	if (!o->user_col || !o->item_col) {
		rc = kf_err_set(err, KF_EUSAGE, "--model mf needs --user COL and --item COL");
		goto out;
	}
	rc = open_csv(&c, o->data, err);
	if (rc < 0)
		goto out;
	if ((uc = col_of(c, o->user_col, "--user", err)) < 0 || (ic = col_of(c, o->item_col, "--item", err)) < 0 ||
	    (o->rating_col && (rcol = col_of(c, o->rating_col, "--rating", err)) < 0)) {
		rc = KF_EUSAGE;
		goto out;
	}
	while ((rc = kf_csv_next(c, &row, err)) > 0) {
		bool is_eval = !o->eval && is_eval_row(o, cnt.rows++);

		mf_row(m, is_eval ? &eval : NULL, &row, uc, ic, rcol, o->item_sep);
		if (is_eval)
			cnt.eval++;
		else
			cnt.train++;
	}
	if (rc < 0)
		goto out;
	rc = kf_mf_fit(m, &p, mf_progress, &mp, err);
	if (rc < 0)
		goto out;
	mt = cJSON_CreateObject();
	*metrics = mt;
	if (eval.n) {
		size_t i, hits = 0, n = 0;
		double se = 0;
		const char *items[10];
		double scores[10];

		for (i = 0; i + 2 < eval.n; i += 3) {
			if (p.implicit) {
				int k, got = kf_mf_recommend(m, eval.v[i], 10, items, scores);

				if (!isfinite(kf_mf_score(m, eval.v[i], eval.v[i + 1])))
					continue;
				n++;
				for (k = 0; k < got; k++)
					if (!strcmp(items[k], eval.v[i + 1])) {
						hits++;
						break;
					}
			} else {
				double s = kf_mf_score(m, eval.v[i], eval.v[i + 1]);

				if (!isfinite(s))
					continue;
				se += (s - strtod(eval.v[i + 2], NULL)) * (s - strtod(eval.v[i + 2], NULL));
				n++;
			}
		}
		if (n && p.implicit)
			add_metric(mt, "recall_at_10", (double)hits / (double)n);
		if (n && !p.implicit)
			add_metric(mt, "rmse", sqrt(se / (double)n));
		add_metric(mt, "eval_pairs", (double)n);
	}
	add_metric(mt, "users", (double)kf_mf_users(m));
	add_metric(mt, "items", (double)kf_mf_items(m));
	add_metric(mt, "fit_seconds", (double)(kf_time_mono_ns() - (int64_t)t0) / 1e9);
	if (o->rank != 0)
		goto out;
	rc = kf_fs_mkdirs(o->out, err);
	if (rc == 0)
		rc = kf_mf_save(m, o->out, &model, err);
	if (rc < 0)
		goto out;
	cJSON_AddStringToObject(model, "userColumn", o->user_col);
	cJSON_AddStringToObject(model, "itemColumn", o->item_col);
	if (o->item_sep)
		cJSON_AddStringToObject(model, "itemSeparator", o->item_sep);
	if (o->rating_col)
		cJSON_AddStringToObject(model, "ratingColumn", o->rating_col);
	meta = meta_new(o, NULL, NULL);
	cJSON_AddItemToObject(meta, "model", model);
	cJSON_AddItemToObject(meta, "metrics", cJSON_Duplicate(mt, 1));
	cJSON_AddItemToObject(meta, "data", data_json(o, sha, &cnt, (size_t)cnt.train, (size_t)cnt.eval));
	in = cJSON_AddArrayToObject(meta, "inputs");
	cJSON_AddItemToArray(in, cJSON_CreateString(o->user_col));
	cJSON_AddItemToObject(meta, "training", training_json(o, o->iters, 0, cJSON_GetObjectItem(mt, "fit_seconds")->valuedouble));
	{
		char *text = cJSON_Print(mt), *path = kf_path_join(o->out, "metrics.json");

		rc = kf_fs_write_atomic(path, text, strlen(text), err);
		free(text);
		free(path);
	}
	if (rc == 0)
		rc = kf_bundle_write_meta(o->out, meta, err);
out:
	cJSON_Delete(meta);
	kf_csv_free(c);
	kf_strv_release(&eval);
	kf_mf_free(m);
	return rc;
}

/* The sha256 of the data, on its own thread while the fit pass parses. */
struct digest {
	const char *path;
	char *hex;
	pthread_t tid;
	bool started, joined;
	int rc;
	struct kf_err err;
};

static void *digest_thread(void *arg)
{
	struct digest *d = arg;

	d->rc = kf_sha256_file(d->path, d->hex, &d->err);
	return NULL;
}

static int digest_join(struct digest *d, struct kf_err *err)
{
	if (d->started && !d->joined)
		pthread_join(d->tid, NULL);
	d->joined = true;
	if (d->rc < 0)
		*err = d->err;
	return d->rc;
}

/* ---- entry points ------------------------------------------------------------ */

int kf_train_run(const struct kf_train_opts *o, cJSON **metrics, struct kf_err *err)
{
	struct source s;
	struct kf_features fs = { 0 };
	struct rowset tr = { 0 }, ev = { 0 };
	struct trainer t = { 0 };
	struct counts cnt;
	struct digest digest = { 0 };
	struct kf_err derr;
	bool dense, xgb = !strcmp(o->model, "xgboost");
	int64_t t0 = kf_time_mono_ns();
	int rc, rc2;

	*metrics = NULL;
	memset(&s, 0, sizeof s);
	if (!o->out)
		return kf_err_set(err, KF_EUSAGE, "--out DIR is required");
	t.o = o;
	t.s = &s;
	t.fs = &fs;
	if (o->rank == 0 && (rc = kf_fs_mkdirs(o->out, err)) < 0)
		return rc;
	/* the data's digest is computed beside the fit pass */
	digest.path = o->data;
	digest.hex = t.data_sha;
	digest.started = pthread_create(&digest.tid, NULL, digest_thread, &digest) == 0;
	if (!digest.started)
		digest_thread(&digest);
	if (!strcmp(o->model, "mf")) {
		rc = digest_join(&digest, err);
		return rc < 0 ? rc : train_mf(o, t.data_sha, (double)t0, metrics, err);
	}
	dense = !xgb;
	if (!o->label && !o->label_expr) {
		digest_join(&digest, err);
		return kf_err_set(err, KF_EUSAGE, "--label COL or --label-expr EXPR is required");
	}
	rc = source_init(&s, o, err);
	if (rc < 0)
		goto out;
	s.task = task_of(o, err, &rc);
	if (rc < 0)
		goto out;
	if (s.task == T_MULTI && s.label_col < 0) {
		rc = kf_err_set(err, KF_EUSAGE, "a multiclass label must be a column (--label), not an expression");
		goto out;
	}
	if (!strcmp(o->model, "logistic") && s.task != T_BINARY) {
		rc = kf_err_set(err, KF_EUSAGE, "--model logistic is binary; use softmax for classes, linear for values");
		goto out;
	}
	rc = fit_pass(&s, &fs, &cnt, err);
	rc2 = digest_join(&digest, &derr);
	if (rc == 0 && rc2 < 0) {
		*err = derr;
		rc = rc2;
	}
	if (rc < 0)
		goto out;
	progress(o, "fitted %zu features (dim %zu) on %llu training rows%s in %.3fs", fs.n, fs.dim,
		 (unsigned long long)cnt.train, fs.inferred ? " (inferred spec)" : "",
		 (double)(kf_time_mono_ns() - t0) / 1e9);
	tr = (struct rowset){ .s = &s, .fs = &fs, .path = o->data, .eval = false };
	ev = (struct rowset){ .s = &s, .fs = &fs, .path = o->eval ? o->eval : o->data, .eval = true,
			      .whole_file = o->eval != NULL };
	t.batch = o->batch ? o->batch : 256;
	rc = kf_dense_open(&t.d, o->device, o->threads, err);
	if (rc < 0)
		goto out;
	/* a sparse row costs a column index and a value per feature, and its
	 * offset, label and number */
	if (xgb || cnt.train * (fs.n * 12 + 24) <= cache_budget()) {
		rc = rowset_load(&tr, err);
		if (rc == 0 && (o->eval || cnt.eval))
			rc = rowset_load(&ev, err);
		if (rc < 0)
			goto out;
		if (tr.all.n == 0) {
			rc = kf_err_set(err, KF_EINPUT, "\"%s\": no training rows with a label", o->data);
			goto out;
		}
		progress(o, "transformed %zu training and %zu eval rows in %.3fs", tr.all.n, ev.all.n,
			 (double)(kf_time_mono_ns() - t0) / 1e9);
	} else {
		progress(o, "streaming the data every epoch (%llu rows exceed the %zu MiB cache)",
			 (unsigned long long)cnt.train, cache_budget() >> 20);
		if (!o->eval && !cnt.eval)
			ev.in_mem = true;   /* no eval rows: an empty set */
	}
	if (dense)
		rc = train_dense(&t, &tr, &ev, &cnt, (double)t0, metrics, err);
	else
		rc = train_xgb(&t, &tr, &ev, &cnt, (double)t0, metrics, err);
out:
	digest_join(&digest, &derr);
	if (rc < 0) {
		cJSON_Delete(*metrics);
		*metrics = NULL;
	}
	if (t.nn.params) {
		kf_nn_work_release(&t.w, &t.nn);
		kf_nn_release(&t.nn);
	}
	free(t.m);
	free(t.v);
	free(t.best);
	cJSON_Delete(t.history);
	kf_dense_close(t.d);
	rowset_release(&tr);
	rowset_release(&ev);
	kf_features_release(&fs);
	source_release(&s);
	return rc;
}

static int predict_mf(const struct kf_bundle *b, const char *data, const char *format, size_t top_k,
		      const char *user_col, FILE *out, struct kf_err *err)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(kf_bundle_meta(b), "model");
	const cJSON *uc = cJSON_GetObjectItemCaseSensitive(model, "userColumn");
	const char **items = kf_xcalloc(top_k + 1, sizeof *items);
	double *scores = kf_xcalloc(top_k + 1, sizeof *scores);
	struct kf_csv *c = NULL;
	struct kf_csv_row row;
	long col;
	int rc, n, k;
	bool csv = !strcmp(format, "csv");

	if (!user_col)
		user_col = cJSON_IsString(uc) ? uc->valuestring : "user";
	rc = open_csv(&c, data, err);
	if (rc < 0)
		goto out;
	col = kf_csv_colindex(c, user_col);
	if (col < 0) {
		rc = kf_err_set(err, KF_EUSAGE, "no column \"%s\" in \"%s\" (use --user)", user_col, data);
		goto out;
	}
	if (csv)
		fprintf(out, "%s,rank,item,score\n", user_col);
	while ((rc = kf_csv_next(c, &row, err)) > 0) {
		const char *user = row.fields[col].s;

		n = kf_bundle_recommend(b, user, top_k, items, scores, err);
		if (n < 0) {
			rc = n;
			break;
		}
		if (csv) {
			for (k = 0; k < n; k++)
				fprintf(out, "%s,%d,%s,%.17g\n", user, k + 1, items[k], scores[k]);
		} else {
			cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "items");
			char *text;

			cJSON_AddStringToObject(o, "user", user);
			for (k = 0; k < n; k++) {
				cJSON *it = cJSON_CreateObject();

				cJSON_AddStringToObject(it, "item", items[k]);
				cJSON_AddNumberToObject(it, "score", scores[k]);
				cJSON_AddItemToArray(arr, it);
			}
			text = cJSON_PrintUnformatted(o);
			fprintf(out, "%s\n", text);
			free(text);
			cJSON_Delete(o);
		}
	}
out:
	kf_csv_free(c);
	free(items);
	free(scores);
	return rc < 0 ? rc : 0;
}

int kf_train_predict(const char *dir, const char *data, const char *format, size_t top_k,
		     const char *user_col, FILE *out, struct kf_err *err)
{
	struct kf_bundle *b;
	struct predictor p = { 0 };
	size_t j;
	int rc;

	rc = kf_bundle_load(&b, dir, err);
	if (rc < 0)
		return rc;
	if (!strcmp(kf_bundle_task(b), "recommend")) {
		rc = predict_mf(b, data, format, top_k ? top_k : 10, user_col, out, err);
		kf_bundle_free(b);
		return rc;
	}
	p.fs = kf_bundle_features(b);
	p.n_out = kf_bundle_n_outputs(b);
	p.task = kf_bundle_task(b);
	p.b = b;
	p.names = kf_xcalloc(p.n_out + 1, sizeof *p.names);
	for (j = 0; j < p.n_out; j++)
		p.names[j] = kf_xstrdup(kf_bundle_output_name(b, j));
	rc = predict_file(&p, data, format, out, err);
	free_names(p.names, p.n_out);
	kf_bundle_free(b);
	return rc;
}
