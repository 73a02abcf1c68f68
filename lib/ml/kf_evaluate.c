/* kf_evaluate: the one pass of `kf analyze model` (see kf_evaluate.h). */
#include "config.h"

#include "data/kf_csv.h"
#include "ml/kf_bundle.h"
#include "ml/kf_eval.h"
#include "ml/kf_evaluate.h"
#include "ml/kf_labelexpr.h"
#include "ml/kf_slice.h"
#include "ml/kf_strmap.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Rows predicted together: bundles predict a batch at a time. */
#define BATCH 512

struct model {
	char *name;
	const char *path;
	const char *role;
	struct kf_bundle *b;   /* NULL: the predictions file */
	size_t *in_col;        /* bundle input i -> row column */
	const char **vals;     /* bundle input i's text, this row */
	size_t dim, n_out;
	double *x, *out;       /* BATCH × dim, BATCH × n_out */
};

struct query {
	size_t slice;
	char *user;
	struct kf_strv items;
};

struct ev {
	const struct kf_evaluate_opts *o;
	enum kf_eval_task task;
	struct model *m;
	size_t nm;                 /* models, the baseline last */
	bool has_baseline;
	struct kf_csv *data, *pred;
	const char *file;          /* the name errors use for labels */
	struct kf_strv names;      /* row columns: data's, then pred's */
	const char **row;
	size_t n_data_cols;
	size_t *pred_col;          /* predictions model: score columns */
	long label_col;
	struct kf_labelexpr *expr;
	char **classes;            /* multiclass */
	size_t k;
	struct kf_slicer *slicer;
	struct kf_eval **acc;      /* [slice * nm + model] */
	size_t acc_slices;
	/* recommend: one query per (slice, user), its relevant items */
	long user_col, item_col;
	const char *item_sep;
	struct kf_strmap qmap;     /* "slice\x1fuser" -> query */
	struct query *q;
	size_t nq, cap_q;
	/* the batch */
	double y[BATCH];
	size_t *ids;               /* BATCH × (1 + specs): each row's slices */
	size_t nids[BATCH];
	size_t r;
	uint64_t rows, skipped;
};

static size_t *row_ids(struct ev *e, size_t r)
{
	size_t w = 1 + kf_slicer_n_specs(e->slicer);

	return e->ids + r * w;
}

/* ---- set-up ---------------------------------------------------------------- */

static const char *bundle_task(struct kf_bundle *b, const char *dir, struct kf_err *err)
{
	const char *t = kf_bundle_task(b);

	if (kf_eval_task_parse(t) < 0) {
		kf_err_set(err, KF_EINPUT,
			   "model \"%s\" is a %s model (%s): kf analyze model evaluates binary, multiclass, regression and recommender models",
			   dir, t, kf_bundle_kind(b));
		return NULL;
	}
	return t;
}

static int load_models(struct ev *e, struct kf_err *err)
{
	const struct kf_evaluate_opts *o = e->o;
	size_t i, n = o->n_models + (o->predictions ? 1 : 0) + (o->baseline ? 1 : 0);
	const char *task = o->task;

	if (!n)
		return kf_err_set(err, KF_EUSAGE, "nothing to evaluate: give --model or --predictions");
	e->m = kf_xcalloc(n, sizeof *e->m);
	for (i = 0; i < o->n_models + (o->baseline ? 1 : 0); i++) {
		const char *dir = i < o->n_models ? o->models[i] : o->baseline;
		struct model *m = &e->m[e->nm];
		const char *t;
		int rc = kf_bundle_load(&m->b, dir, err);

		if (rc < 0)
			return rc;
		e->nm++;
		m->path = dir;
		m->role = i == o->n_models ? "baseline" : e->nm == 1 ? "candidate" : "comparison";
		t = bundle_task(m->b, dir, err);
		if (!t)
			return KF_EINPUT;
		if (task && strcmp(task, t))
			return kf_err_set(err, KF_EINPUT, "model \"%s\" is a %s model, not %s", dir, t, task);
		task = t;
	}
	if (o->predictions) {
		struct model *m;

		if (!o->n_pred_cols)
			return kf_err_set(err, KF_EUSAGE, "--predictions needs --prediction-column");
		if (task && !strcmp(task, "recommend"))
			return kf_err_set(err, KF_EUSAGE, "--predictions: recommenders are evaluated from their bundles");
		if (!task)
			task = o->n_pred_cols > 1 ? "multiclass" : "binary";
		/* the predictions file goes before the baseline */
		if (o->baseline) {
			e->m[e->nm] = e->m[e->nm - 1];
			memset(&e->m[e->nm - 1], 0, sizeof *e->m);
		}
		m = &e->m[o->baseline ? e->nm - 1 : e->nm];
		e->nm++;
		m->path = o->predictions;
		m->role = o->n_models ? "comparison" : "candidate";
		m->n_out = o->n_pred_cols;
	}
	e->has_baseline = o->baseline != NULL;
	e->task = (enum kf_eval_task)kf_eval_task_parse(task);
	return 0;
}

/* Unique display names: the path as given, "#2" on repeats. */
static void name_models(struct ev *e)
{
	size_t i, j;

	for (i = 0; i < e->nm; i++) {
		int dup = 1;

		for (j = 0; j < i; j++)
			if (!strcmp(e->m[j].path, e->m[i].path))
				dup++;
		e->m[i].name = dup > 1 ? kf_xasprintf("%s#%d", e->m[i].path, dup) : kf_xstrdup(e->m[i].path);
	}
}

static int check_classes(struct ev *e, struct kf_err *err)
{
	size_t i, j;

	if (e->task != KF_EVAL_MULTICLASS)
		return 0;
	for (i = 0; i < e->nm; i++) {
		struct model *m = &e->m[i];

		if (!m->b)
			continue;
		if (!e->classes) {
			e->k = kf_bundle_n_outputs(m->b);
			e->classes = kf_xcalloc(e->k, sizeof *e->classes);
			for (j = 0; j < e->k; j++)
				e->classes[j] = kf_xstrdup(kf_bundle_output_name(m->b, j));
			continue;
		}
		if (kf_bundle_n_outputs(m->b) != e->k)
			return kf_err_set(err, KF_EINPUT, "model \"%s\" has %zu classes, \"%s\" has %zu",
					  m->path, kf_bundle_n_outputs(m->b), e->m[0].path, e->k);
		for (j = 0; j < e->k; j++)
			if (strcmp(kf_bundle_output_name(m->b, j), e->classes[j]))
				return kf_err_set(err, KF_EINPUT,
						  "model \"%s\" has class \"%s\" where \"%s\" has \"%s\"",
						  m->path, kf_bundle_output_name(m->b, j), e->m[0].path,
						  e->classes[j]);
	}
	if (e->o->predictions) {
		if (e->classes && e->o->n_pred_cols != e->k)
			return kf_err_set(err, KF_EUSAGE, "the models have %zu classes: give %zu --prediction-column",
					  e->k, e->k);
		if (!e->classes) {
			e->k = e->o->n_pred_cols;
			e->classes = kf_xcalloc(e->k, sizeof *e->classes);
			for (j = 0; j < e->k; j++)
				e->classes[j] = kf_xstrdup(e->o->pred_cols[j]);
		}
	} else if (e->o->n_pred_cols) {
		return kf_err_set(err, KF_EUSAGE, "--prediction-column needs --predictions");
	}
	if (e->k < 2)
		return kf_err_set(err, KF_EINPUT, "a multiclass evaluation needs at least 2 classes");
	return 0;
}

static long column(const struct ev *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->names.n; i++)
		if (!strcmp(e->names.v[i], name))
			return (long)i;
	return -1;
}

static int no_column(const struct ev *e, const char *what, const char *name, const char *file,
		     struct kf_err *err)
{
	const char *hint = kf_str_suggest(name, (const char *const *)e->names.v, e->names.n);

	if (hint)
		return kf_err_set(err, KF_EINPUT, "%s \"%s\" is not a column of \"%s\" (did you mean \"%s\"?)",
				  what, name, file, hint);
	return kf_err_set(err, KF_EINPUT, "%s \"%s\" is not a column of \"%s\"", what, name, file);
}

static int open_inputs(struct ev *e, struct kf_err *err)
{
	const struct kf_evaluate_opts *o = e->o;
	size_t i;
	int rc;

	if (!o->data && !o->predictions)
		return kf_err_set(err, KF_EUSAGE, "--data is required");
	rc = kf_csv_open(&e->data, o->data ? o->data : o->predictions, NULL, err);
	if (rc < 0)
		return rc;
	e->file = kf_csv_name(e->data);
	for (i = 0; i < kf_csv_ncols(e->data); i++)
		kf_strv_push(&e->names, kf_csv_colname(e->data, i));
	e->n_data_cols = e->names.n;
	if (o->data && o->predictions) {
		rc = kf_csv_open(&e->pred, o->predictions, NULL, err);
		if (rc < 0)
			return rc;
		for (i = 0; i < kf_csv_ncols(e->pred); i++)
			kf_strv_push(&e->names, kf_csv_colname(e->pred, i));
	}
	e->row = kf_xcalloc(e->names.n + 1, sizeof *e->row);
	if (o->predictions) {
		e->pred_col = kf_xcalloc(o->n_pred_cols, sizeof *e->pred_col);
		for (i = 0; i < o->n_pred_cols; i++) {
			/* with two files, the score comes from the predictions one */
			long c = -1, j;

			for (j = (long)e->names.n - 1; j >= 0; j--)
				if (!strcmp(e->names.v[j], o->pred_cols[i])) {
					c = j;
					break;
				}
			if (c < 0)
				return no_column(e, "prediction column", o->pred_cols[i], o->predictions, err);
			e->pred_col[i] = (size_t)c;
		}
	}
	return 0;
}

/* A recommender's rows are (user, item[s]) interactions: the items
 * relevant to each user. The columns are the model's. */
static int setup_recommend(struct ev *e, struct kf_err *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(kf_bundle_meta(e->m[0].b), "model");
	const cJSON *uc = cJSON_GetObjectItemCaseSensitive(m, "userColumn");
	const cJSON *ic = cJSON_GetObjectItemCaseSensitive(m, "itemColumn");
	const cJSON *sep = cJSON_GetObjectItemCaseSensitive(m, "itemSeparator");

	if (e->o->label || e->o->label_expr)
		return kf_err_set(err, KF_EUSAGE,
				  "--label: a recommender is evaluated on the (user, item) rows of the data");
	if (!cJSON_IsString(uc) || !cJSON_IsString(ic))
		return kf_err_set(err, KF_EINPUT, "model \"%s\" names no user and item columns", e->m[0].path);
	e->user_col = column(e, uc->valuestring);
	if (e->user_col < 0)
		return no_column(e, "user column", uc->valuestring, e->file, err);
	e->item_col = column(e, ic->valuestring);
	if (e->item_col < 0)
		return no_column(e, "item column", ic->valuestring, e->file, err);
	e->item_sep = cJSON_IsString(sep) && sep->valuestring[0] ? sep->valuestring : NULL;
	return 0;
}

static int setup_label(struct ev *e, struct kf_err *err)
{
	const struct kf_evaluate_opts *o = e->o;
	const char *label = o->label, *expr = o->label_expr;
	int rc;

	if (e->task == KF_EVAL_RANKING)
		return setup_recommend(e, err);
	if (!label && !expr && e->m[0].b) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(kf_bundle_meta(e->m[0].b), "label");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(l, "column");
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(l, "expr");

		expr = cJSON_IsString(x) ? x->valuestring : NULL;
		label = !expr && cJSON_IsString(c) ? c->valuestring : NULL;
	}
	if (!label && !expr)
		return kf_err_set(err, KF_EUSAGE, "no label: give --label COLUMN or --label-expr EXPR");
	if (expr) {
		if (e->task == KF_EVAL_MULTICLASS)
			return kf_err_set(err, KF_EUSAGE, "--label-expr gives numbers: a multiclass label needs --label");
		rc = kf_labelexpr_parse(&e->expr, expr, (const char *const *)e->names.v, e->names.n, err);
		if (rc < 0)
			kf_err_prefix(err, "--label-expr");
		return rc;
	}
	e->label_col = column(e, label);
	if (e->label_col < 0)
		return no_column(e, "label", label, e->file, err);
	return 0;
}

static int setup_models(struct ev *e, struct kf_err *err)
{
	size_t i, j;

	for (i = 0; i < e->nm; i++) {
		struct model *m = &e->m[i];

		if (!m->b) {
			m->out = kf_xcalloc(BATCH * m->n_out, sizeof *m->out);
			continue;
		}
		if (e->task == KF_EVAL_RANKING)
			continue;
		m->dim = kf_bundle_dim(m->b);
		m->n_out = kf_bundle_n_outputs(m->b);
		m->in_col = kf_xcalloc(kf_bundle_n_inputs(m->b) + 1, sizeof *m->in_col);
		m->vals = kf_xcalloc(kf_bundle_n_inputs(m->b) + 1, sizeof *m->vals);
		for (j = 0; j < kf_bundle_n_inputs(m->b); j++) {
			const char *in = kf_bundle_input(m->b, j);
			long c = column(e, in);

			if (c < 0) {
				no_column(e, "input", in, e->file, err);
				kf_err_prefix(err, "model \"%s\"", m->path);
				return KF_EINPUT;
			}
			m->in_col[j] = (size_t)c;
		}
		m->x = kf_xcalloc(BATCH * (m->dim ? m->dim : 1), sizeof *m->x);
		m->out = kf_xcalloc(BATCH * m->n_out, sizeof *m->out);
	}
	return 0;
}

/* ---- rows ------------------------------------------------------------------ */

/* The label of the current row into *y: 1, 0 to skip the row (a missing
 * regression target), or an error naming FILE:LINE. */
static int row_label(struct ev *e, long line, double *y, struct kf_err *err)
{
	const char *t;
	double v;
	size_t c;

	if (e->expr) {
		v = kf_labelexpr_eval(e->expr, e->row);
		if (e->task == KF_EVAL_BINARY) {
			*y = v != 0 && !isnan(v);
			return 1;
		}
		*y = v;
		return isnan(v) ? 0 : 1;
	}
	t = e->row[e->label_col];
	if (e->task == KF_EVAL_MULTICLASS) {
		long idx;

		for (c = 0; c < e->k; c++)
			if (!strcmp(t, e->classes[c])) {
				*y = (double)c;
				return 1;
			}
		if (kf_str_to_long(t, &idx) && idx >= 0 && (size_t)idx < e->k && !e->m[0].b) {
			*y = (double)idx;
			return 1;
		}
		return kf_err_at(err, KF_EINPUT, e->file, (int)line, 0,
				 "label \"%s\" is not one of the model's %zu classes", t, e->k);
	}
	if (!*t) {
		if (e->task == KF_EVAL_REGRESSION)
			return 0;
		return kf_err_at(err, KF_EINPUT, e->file, (int)line, 0, "missing label in column \"%s\"",
				 e->names.v[e->label_col]);
	}
	if (kf_csv_parse_double(t, strlen(t), &v) && isfinite(v)) {
		if (e->task == KF_EVAL_BINARY && v != 0 && v != 1)
			return kf_err_at(err, KF_EINPUT, e->file, (int)line, 0,
					 "label \"%s\" is not 0 or 1 (use --label-expr to derive one)", t);
		*y = v;
		return 1;
	}
	if (e->task == KF_EVAL_BINARY) {
		if (!strcasecmp(t, "true") || !strcasecmp(t, "yes")) {
			*y = 1;
			return 1;
		}
		if (!strcasecmp(t, "false") || !strcasecmp(t, "no")) {
			*y = 0;
			return 1;
		}
	}
	return kf_err_at(err, KF_EINPUT, e->file, (int)line, 0, "label \"%s\" is not a number", t);
}

static int row_scores(struct ev *e, long line, struct model *m, struct kf_err *err)
{
	size_t j;

	for (j = 0; j < m->n_out; j++) {
		const char *t = e->row[e->pred_col[j]];
		double v;

		if (!kf_csv_parse_double(t, strlen(t), &v) || !isfinite(v))
			return kf_err_at(err, KF_EINPUT, e->pred ? kf_csv_name(e->pred) : e->file, (int)line, 0,
					 "score \"%s\" in column \"%s\" is not a number", t,
					 e->o->pred_cols[j]);
		m->out[e->r * m->n_out + j] = v;
	}
	return 0;
}

static struct kf_eval *acc_get(struct ev *e, size_t slice, size_t model)
{
	struct kf_eval **a;

	if (slice >= e->acc_slices) {
		size_t n = kf_slicer_count(e->slicer) + 16;

		e->acc = kf_xrealloc(e->acc, n * e->nm * sizeof *e->acc);
		memset(e->acc + e->acc_slices * e->nm, 0, (n - e->acc_slices) * e->nm * sizeof *e->acc);
		e->acc_slices = n;
	}
	a = &e->acc[slice * e->nm + model];
	if (!*a)
		*a = kf_eval_new(e->task, e->k);
	return *a;
}

/* Predict the batch with every bundle and feed the accumulators. */
static int flush(struct ev *e, struct kf_err *err)
{
	size_t i, r, s;
	int rc;

	for (i = 0; i < e->nm; i++)
		if (e->m[i].b) {
			rc = kf_bundle_predict(e->m[i].b, e->m[i].x, e->r, e->m[i].out, err);
			if (rc < 0) {
				kf_err_prefix(err, "model \"%s\"", e->m[i].path);
				return rc;
			}
		}
	for (r = 0; r < e->r; r++) {
		const size_t *ids = row_ids(e, r);

		for (i = 0; i < e->nm; i++) {
			const double *out = e->m[i].out + r * e->m[i].n_out;

			if (e->task != KF_EVAL_MULTICLASS && !isfinite(out[0]))
				return kf_err_set(err, KF_EINPUT, "model \"%s\" predicted %g", e->m[i].path, out[0]);
			for (s = 0; s < e->nids[r]; s++) {
				struct kf_eval *a = acc_get(e, ids[s], i);

				if (e->task == KF_EVAL_BINARY)
					rc = kf_eval_add_binary(a, out[0], (int)e->y[r], err);
				else if (e->task == KF_EVAL_MULTICLASS)
					kf_eval_add_multiclass(a, out, (size_t)e->y[r]), rc = 0;
				else
					kf_eval_add_regression(a, out[0], e->y[r]), rc = 0;
				if (rc < 0)
					return rc;
			}
		}
	}
	e->r = 0;
	return 0;
}

static void add_items(struct query *q, const char *items, const char *sep)
{
	const char *p = items;
	size_t len;

	if (!sep) {
		kf_strv_push(&q->items, items);
		return;
	}
	for (;;) {
		const char *end = strstr(p, sep);

		len = end ? (size_t)(end - p) : strlen(p);
		if (len)
			kf_strv_push_owned(&q->items, kf_xstrndup(p, len));
		if (!end)
			break;
		p = end + strlen(sep);
	}
}

/* A recommender's row: its items are relevant to its user, in each slice. */
static void one_interaction(struct ev *e)
{
	const char *user = e->row[e->user_col], *items = e->row[e->item_col];
	size_t *ids = row_ids(e, 0), n, i, *slot;
	char *key;

	if (!*user || !*items) {
		e->skipped++;
		return;
	}
	n = kf_slicer_row(e->slicer, e->row, ids);
	for (i = 0; i < n; i++) {
		key = kf_xasprintf("%zu\x1f%s", ids[i], user);
		slot = kf_strmap_get(&e->qmap, key);
		if (!slot) {
			KF_GROW(e->q, e->cap_q, e->nq + 1);
			memset(&e->q[e->nq], 0, sizeof *e->q);
			e->q[e->nq].slice = ids[i];
			e->q[e->nq].user = kf_xstrdup(user);
			slot = kf_strmap_put(&e->qmap, key);
			*slot = e->nq++;
		}
		add_items(&e->q[*slot], items, e->item_sep);
		free(key);
	}
	e->rows++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_query_user(const void *a, const void *b)
{
	const struct query *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : x->slice < y->slice ? -1 : x->slice > y->slice;
}

/* Every query against each model's top KF_EVAL_MAX_K for its user (asked
 * once per user: the queries are sorted by user). */
static int rank_queries(struct ev *e, struct kf_err *err)
{
	const char *items[KF_EVAL_MAX_K];
	double scores[KF_EVAL_MAX_K];
	unsigned char hit[KF_EVAL_MAX_K];
	const char *top[16][KF_EVAL_MAX_K];
	int ntop[16] = { 0 };
	size_t i, m, j, u;
	int rc;

	if (e->nm > 16)
		return kf_err_set(err, KF_EUSAGE, "at most 16 recommender models at once");
	qsort(e->q, e->nq, sizeof *e->q, cmp_query_user);
	for (i = 0; i < e->nq; i++) {
		struct query *q = &e->q[i];
		size_t n_rel = 0;

		/* the relevant items, each once */
		qsort(q->items.v, q->items.n, sizeof *q->items.v, cmp_str);
		for (j = 0; j < q->items.n; j++)
			if (!n_rel || strcmp(q->items.v[j], q->items.v[n_rel - 1])) {
				char *t = q->items.v[n_rel];

				q->items.v[n_rel++] = q->items.v[j];
				q->items.v[j] = t;
			}
		for (m = 0; m < e->nm; m++) {
			if (!i || strcmp(q->user, e->q[i - 1].user)) {
				rc = kf_bundle_recommend(e->m[m].b, q->user, KF_EVAL_MAX_K, items, scores, err);
				if (rc < 0)
					return rc;
				ntop[m] = rc;
				memcpy(top[m], items, sizeof items);
			}
			for (u = 0; u < (size_t)ntop[m]; u++)
				hit[u] = bsearch(&top[m][u], q->items.v, n_rel, sizeof *q->items.v, cmp_str) != NULL;
			kf_eval_add_ranking(acc_get(e, q->slice, m), hit, (size_t)ntop[m], n_rel);
		}
	}
	return 0;
}

static int one_row(struct ev *e, long line, struct kf_err *err)
{
	size_t i, j;
	double y = 0;
	int rc;

	if (e->task == KF_EVAL_RANKING) {
		one_interaction(e);
		return 0;
	}
	rc = row_label(e, line, &y, err);
	if (rc <= 0) {
		e->skipped += rc == 0;
		return rc;
	}
	for (i = 0; i < e->nm; i++) {
		struct model *m = &e->m[i];

		if (!m->b) {
			rc = row_scores(e, line, m, err);
			if (rc < 0)
				return rc;
			continue;
		}
		for (j = 0; j < kf_bundle_n_inputs(m->b); j++)
			m->vals[j] = e->row[m->in_col[j]];
		kf_bundle_transform(m->b, m->vals, m->x + e->r * m->dim);
	}
	e->y[e->r] = y;
	e->nids[e->r] = kf_slicer_row(e->slicer, e->row, row_ids(e, e->r));
	e->rows++;
	if (++e->r == BATCH)
		return flush(e, err);
	return 0;
}

static int read_rows(struct ev *e, struct kf_err *err)
{
	struct kf_csv_row row, prow;
	size_t i;
	int rc;

	for (;;) {
		rc = kf_csv_next(e->data, &row, err);
		if (rc <= 0)
			break;
		for (i = 0; i < row.n; i++)
			e->row[i] = row.fields[i].s;
		if (e->pred) {
			rc = kf_csv_next(e->pred, &prow, err);
			if (rc < 0)
				return rc;
			if (!rc)
				return kf_err_set(err, KF_EINPUT, "\"%s\" has fewer rows than \"%s\"",
						  kf_csv_name(e->pred), e->file);
			for (i = 0; i < prow.n; i++)
				e->row[e->n_data_cols + i] = prow.fields[i].s;
		}
		rc = one_row(e, row.line, err);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (e->pred && (rc = kf_csv_next(e->pred, &prow, err)) != 0)
		return rc < 0 ? rc : kf_err_set(err, KF_EINPUT, "\"%s\" has more rows than \"%s\"",
						kf_csv_name(e->pred), e->file);
	rc = e->task == KF_EVAL_RANKING ? rank_queries(e, err) : flush(e, err);
	if (rc < 0)
		return rc;
	if (!e->rows)
		return kf_err_set(err, KF_EINPUT, "\"%s\": no rows to evaluate", e->file);
	return 0;
}

/* ---- the result ---------------------------------------------------------------- */

static cJSON *diff_json(const struct ev *e, const cJSON *a, const cJSON *ref)
{
	const char *const *names = kf_eval_metric_names(e->task);
	cJSON *d = cJSON_CreateObject();
	size_t i;

	for (i = 0; names[i]; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, names[i]);
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(ref, names[i]);

		if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
			cJSON_AddNumberToObject(d, names[i], x->valuedouble - y->valuedouble);
		else
			cJSON_AddNullToObject(d, names[i]);
	}
	return d;
}

static cJSON *slice_json(struct ev *e, size_t id, bool overall)
{
	struct kf_eval_opts eo = {
		.threshold = NAN, .confusion_at = e->o->confusion_at, .n_confusion = e->o->n_confusion,
		.classes = (const char *const *)e->classes,
	};
	cJSON *s = kf_slice_json(e->slicer, id), *metrics, *diff;
	size_t i, ref = e->has_baseline ? e->nm - 1 : 0;

	if (overall && e->o->plots) {
		eo.curve_points = 200;
		eo.calibration_bins = 10;
	}
	cJSON_AddNumberToObject(s, "example_count", (double)kf_slicer_get(e->slicer, id)->count);
	metrics = cJSON_AddObjectToObject(s, "metrics");
	for (i = 0; i < e->nm; i++)
		cJSON_AddItemToObject(metrics, e->m[i].name, kf_eval_metrics(acc_get(e, id, i), &eo));
	if (e->nm < 2)
		return s;
	diff = cJSON_AddObjectToObject(s, "diff");
	for (i = 0; i < e->nm; i++)
		if (i != ref)
			cJSON_AddItemToObject(diff, e->m[i].name,
					      diff_json(e, cJSON_GetObjectItemCaseSensitive(metrics, e->m[i].name),
							cJSON_GetObjectItemCaseSensitive(metrics, e->m[ref].name)));
	return s;
}

static cJSON *result(struct ev *e)
{
	const struct kf_evaluate_opts *o = e->o;
	cJSON *doc = cJSON_CreateObject(), *models, *names, *slices;
	const char *const *mn = kf_eval_metric_names(e->task);
	size_t i, n, hidden = 0, *order = kf_slicer_order(e->slicer, &n);

	cJSON_AddStringToObject(doc, "kind", "ModelEvaluation");
	cJSON_AddStringToObject(doc, "name", e->m[0].name);
	cJSON_AddStringToObject(doc, "task", kf_eval_task_name(e->task));
	cJSON_AddStringToObject(doc, "data", e->file);
	if (e->task == KF_EVAL_RANKING)
		cJSON_AddStringToObject(doc, "label", e->names.v[e->item_col]);
	else if (e->expr)
		cJSON_AddStringToObject(doc, "label", o->label_expr ? o->label_expr : "(the model's)");
	else
		cJSON_AddStringToObject(doc, "label", e->names.v[e->label_col]);
	cJSON_AddNumberToObject(doc, "rows", (double)e->rows);
	cJSON_AddNumberToObject(doc, "skipped_rows", (double)e->skipped);
	models = cJSON_AddArrayToObject(doc, "models");
	for (i = 0; i < e->nm; i++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "name", e->m[i].name);
		cJSON_AddStringToObject(m, "path", e->m[i].path);
		cJSON_AddStringToObject(m, "kind", e->m[i].b ? kf_bundle_kind(e->m[i].b) : "predictions");
		cJSON_AddStringToObject(m, "role", e->m[i].role);
		cJSON_AddItemToArray(models, m);
	}
	names = cJSON_AddArrayToObject(doc, "metric_names");
	for (i = 0; mn[i]; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(mn[i]));
	slices = cJSON_AddArrayToObject(doc, "slices");
	for (i = 0; i < n; i++) {
		if (order[i] != 0 && kf_slicer_get(e->slicer, order[i])->count < o->min_slice_size) {
			hidden++;
			continue;
		}
		cJSON_AddItemToArray(slices, slice_json(e, order[i], order[i] == 0));
	}
	cJSON_AddNumberToObject(doc, "hidden_slices", (double)hidden);
	free(order);
	return doc;
}

/* If the label expression reads its own model's label: the expression
 * text is in the bundle, so show it. */
static void fix_label_name(struct ev *e, cJSON *doc)
{
	const cJSON *l, *x;

	if (!e->expr || e->o->label_expr || !e->m[0].b)
		return;
	l = cJSON_GetObjectItemCaseSensitive(kf_bundle_meta(e->m[0].b), "label");
	x = cJSON_GetObjectItemCaseSensitive(l, "expr");
	if (cJSON_IsString(x))
		cJSON_ReplaceItemInObject(doc, "label", cJSON_CreateString(x->valuestring));
}

static void ev_release(struct ev *e)
{
	size_t i;

	for (i = 0; i < e->acc_slices * e->nm; i++)
		kf_eval_free(e->acc[i]);
	free(e->acc);
	for (i = 0; i < e->nm; i++) {
		kf_bundle_free(e->m[i].b);
		free(e->m[i].name);
		free(e->m[i].in_col);
		free(e->m[i].vals);
		free(e->m[i].x);
		free(e->m[i].out);
	}
	free(e->m);
	for (i = 0; i < e->k; i++)
		free(e->classes[i]);
	free(e->classes);
	for (i = 0; i < e->nq; i++) {
		free(e->q[i].user);
		kf_strv_release(&e->q[i].items);
	}
	free(e->q);
	kf_strmap_release(&e->qmap);
	kf_slicer_free(e->slicer);
	kf_labelexpr_free(e->expr);
	kf_csv_free(e->data);
	kf_csv_free(e->pred);
	kf_strv_release(&e->names);
	free(e->row);
	free(e->pred_col);
	free(e->ids);
}

int kf_evaluate_run(const struct kf_evaluate_opts *o, cJSON **out, struct kf_err *err)
{
	struct ev e;
	long empty;
	int rc;

	memset(&e, 0, sizeof e);
	e.o = o;
	*out = NULL;
	rc = kf_slicer_new(&e.slicer, o->slices, o->n_slices, err);
	if (rc < 0)
		goto out;
	e.ids = kf_xcalloc(BATCH * (1 + o->n_slices), sizeof *e.ids);
	if ((rc = load_models(&e, err)) < 0 || (rc = check_classes(&e, err)) < 0 ||
	    (rc = open_inputs(&e, err)) < 0 || (rc = setup_label(&e, err)) < 0 ||
	    (rc = setup_models(&e, err)) < 0)
		goto out;
	name_models(&e);
	rc = kf_slicer_resolve(e.slicer, (const char *const *)e.names.v, e.names.n, err);
	if (rc < 0)
		goto out;
	rc = read_rows(&e, err);
	if (rc < 0)
		goto out;
	empty = kf_slicer_empty_spec(e.slicer);
	if (empty >= 0) {
		rc = kf_err_set(err, KF_EINPUT, "slice \"%s\" matched no rows of \"%s\"",
				kf_slicer_spec(e.slicer, (size_t)empty)->text, e.file);
		goto out;
	}
	*out = result(&e);
	fix_label_name(&e, *out);
out:
	ev_release(&e);
	return rc;
}

const cJSON *kf_evaluate_overall(const cJSON *doc, const char *model)
{
	const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "slices"), 0);

	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "metrics"), model);
}
