/* kf_eval: streaming evaluation metrics (see kf_eval.h for definitions and
 * the memory choice). */
#include "config.h"

#include "ml/kf_eval.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One distinct binary score and how many rows of each class had it. An
 * empty slot has pos == neg == 0. */
struct cell {
	double s;
	uint32_t pos, neg;
};

struct kf_eval {
	enum kf_eval_task task;
	uint64_t n;
	/* binary: distinct scores, open addressing, capacity a power of two */
	struct cell *cells;
	size_t cap, used;
	/* multiclass: k × k confusion (row = label, column = argmax), log loss */
	size_t k;
	uint64_t *confusion;
	double logloss;
	/* regression: running sums; y mean and squared deviations by Welford
	 * so r2 has no cancellation */
	double sse, sae, sum_pred, y_mean, y_m2;
	/* ranking: sums over queries of precision, recall and ndcg at each
	 * cutoff (allocated for ranking only: a slice per value of a column
	 * with many values makes many accumulators) */
	double *prec, *rec, *ndcg;
};

/* The cutoffs reported (each <= KF_EVAL_MAX_K). */
static const size_t cutoffs[] = { 1, 5, 10 };

static const char *const binary_names[] = {
	"example_count", "accuracy", "precision", "recall", "auc", "auc_pr", "log_loss",
	"calibration", "mean_label", "mean_prediction", NULL,
};
static const char *const multiclass_names[] = {
	"example_count", "accuracy", "precision", "recall", "log_loss", NULL,
};
static const char *const regression_names[] = {
	"example_count", "mse", "rmse", "mae", "r2", "mean_label", "mean_prediction", NULL,
};
static const char *const ranking_names[] = {
	"example_count", "precision@1", "precision@5", "precision@10", "recall@1", "recall@5",
	"recall@10", "ndcg@1", "ndcg@5", "ndcg@10", NULL,
};

struct kf_eval *kf_eval_new(enum kf_eval_task task, size_t n_classes)
{
	struct kf_eval *e = kf_xcalloc(1, sizeof *e);

	e->task = task;
	if (task == KF_EVAL_MULTICLASS) {
		e->k = n_classes < 2 ? 2 : n_classes;
		e->confusion = kf_xcalloc(e->k * e->k, sizeof *e->confusion);
	}
	if (task == KF_EVAL_RANKING) {
		e->prec = kf_xcalloc(3 * KF_EVAL_MAX_K, sizeof *e->prec);
		e->rec = e->prec + KF_EVAL_MAX_K;
		e->ndcg = e->rec + KF_EVAL_MAX_K;
	}
	return e;
}

void kf_eval_free(struct kf_eval *e)
{
	if (!e)
		return;
	free(e->cells);
	free(e->confusion);
	free(e->prec);
	free(e);
}

enum kf_eval_task kf_eval_task(const struct kf_eval *e)
{
	return e->task;
}

uint64_t kf_eval_count(const struct kf_eval *e)
{
	return e->n;
}

const char *kf_eval_task_name(enum kf_eval_task t)
{
	switch (t) {
	case KF_EVAL_BINARY: return "binary";
	case KF_EVAL_MULTICLASS: return "multiclass";
	case KF_EVAL_REGRESSION: return "regression";
	case KF_EVAL_RANKING: return "recommend";
	}
	return "?";
}

int kf_eval_task_parse(const char *name)
{
	if (!strcmp(name, "binary"))
		return KF_EVAL_BINARY;
	if (!strcmp(name, "multiclass"))
		return KF_EVAL_MULTICLASS;
	if (!strcmp(name, "regression"))
		return KF_EVAL_REGRESSION;
	if (!strcmp(name, "recommend"))
		return KF_EVAL_RANKING;
	return -1;
}

/* ---- binary: the distinct-score table ------------------------------------ */

static size_t hash_score(double s)
{
	uint64_t u;

	memcpy(&u, &s, sizeof u);
	u ^= u >> 33;
	u *= UINT64_C(0xff51afd7ed558ccd);
	u ^= u >> 33;
	u *= UINT64_C(0xc4ceb9fe1a85ec53);
	u ^= u >> 33;
	return (size_t)u;
}

static struct cell *table_slot(struct cell *cells, size_t cap, double s)
{
	size_t i = hash_score(s) & (cap - 1);

	while ((cells[i].pos | cells[i].neg) && cells[i].s != s)
		i = (i + 1) & (cap - 1);
	return &cells[i];
}

static void table_grow(struct kf_eval *e)
{
	size_t cap = e->cap ? e->cap * 2 : 8, i;
	struct cell *cells = kf_xcalloc(cap, sizeof *cells);

	for (i = 0; i < e->cap; i++)
		if (e->cells[i].pos | e->cells[i].neg)
			*table_slot(cells, cap, e->cells[i].s) = e->cells[i];
	free(e->cells);
	e->cells = cells;
	e->cap = cap;
}

int kf_eval_add_binary(struct kf_eval *e, double p, int y, struct kf_err *err)
{
	struct cell *c;
	uint32_t *count;

	if (p == 0)
		p = 0; /* -0.0 and 0.0 are one score */
	if (2 * (e->used + 1) > e->cap)
		table_grow(e);
	c = table_slot(e->cells, e->cap, p);
	if (!(c->pos | c->neg)) {
		c->s = p;
		e->used++;
	}
	count = y ? &c->pos : &c->neg;
	if (*count == UINT32_MAX)
		return kf_err_set(err, KF_EINPUT, "more than %u rows with score %.17g", UINT32_MAX, p);
	(*count)++;
	e->n++;
	return 0;
}

static int cell_desc(const void *a, const void *b)
{
	double x = ((const struct cell *)a)->s, y = ((const struct cell *)b)->s;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The distinct scores, highest first. */
static struct cell *sorted_cells(const struct kf_eval *e, size_t *n)
{
	struct cell *v = kf_xmalloc((e->used ? e->used : 1) * sizeof *v);
	size_t i, j = 0;

	for (i = 0; i < e->cap; i++)
		if (e->cells[i].pos | e->cells[i].neg)
			v[j++] = e->cells[i];
	qsort(v, j, sizeof *v, cell_desc);
	*n = j;
	return v;
}

static void add_num(cJSON *o, const char *name, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static double ratio0(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* Rows predicted positive (score >= t) of each class. */
static void counts_at(const struct cell *v, size_t n, double t, double *tp, double *fp)
{
	size_t i;

	*tp = *fp = 0;
	for (i = 0; i < n && v[i].s >= t; i++) {
		*tp += v[i].pos;
		*fp += v[i].neg;
	}
}

static cJSON *confusion_json(const struct cell *v, size_t n, double t, double P, double N)
{
	cJSON *o = cJSON_CreateObject();
	double tp, fp;

	counts_at(v, n, t, &tp, &fp);
	add_num(o, "threshold", t);
	cJSON_AddNumberToObject(o, "tp", tp);
	cJSON_AddNumberToObject(o, "fp", fp);
	cJSON_AddNumberToObject(o, "tn", N - fp);
	cJSON_AddNumberToObject(o, "fn", P - tp);
	cJSON_AddNumberToObject(o, "precision", ratio0(tp, tp + fp));
	cJSON_AddNumberToObject(o, "recall", ratio0(tp, P));
	cJSON_AddNumberToObject(o, "accuracy", ratio0(tp + N - fp, P + N));
	return o;
}

static cJSON *point(double x, double y)
{
	cJSON *p = cJSON_CreateArray();

	cJSON_AddItemToArray(p, cJSON_CreateNumber(x));
	cJSON_AddItemToArray(p, cJSON_CreateNumber(y));
	return p;
}

/* ROC and PR curves with at most max points, evenly spread over the
 * distinct thresholds (the first and the last always kept). */
static void curves_json(cJSON *plots, const struct cell *v, size_t n, double P, double N,
			size_t max)
{
	cJSON *roc = cJSON_AddArrayToObject(plots, "roc");
	cJSON *pr = cJSON_AddArrayToObject(plots, "pr");
	double tp = 0, fp = 0;
	size_t i, next = 0, step_num = 0, keep = max < 2 ? 2 : max;

	cJSON_AddItemToArray(roc, point(0, 0));
	for (i = 0; i < n; i++) {
		tp += v[i].pos;
		fp += v[i].neg;
		if (i != next && i != n - 1)
			continue;
		step_num++;
		next = n <= keep ? i + 1 : (size_t)((double)step_num * (double)(n - 1) / (double)(keep - 1));
		if (next <= i)
			next = i + 1;
		cJSON_AddItemToArray(roc, point(N > 0 ? fp / N : 0, P > 0 ? tp / P : 0));
		if (P > 0)
			cJSON_AddItemToArray(pr, point(tp / P, tp / (tp + fp)));
	}
}

static void calibration_json(cJSON *plots, const struct cell *v, size_t n, size_t bins)
{
	cJSON *cal = cJSON_AddArrayToObject(plots, "calibration");
	double *cnt = kf_xcalloc(bins * 3, sizeof *cnt), *sp = cnt + bins, *sy = sp + bins;
	size_t i, b;

	for (i = 0; i < n; i++) {
		double w = (double)v[i].pos + v[i].neg, x = v[i].s * (double)bins;

		b = x <= 0 ? 0 : x >= (double)bins ? bins - 1 : (size_t)x;
		cnt[b] += w;
		sp[b] += v[i].s * w;
		sy[b] += v[i].pos;
	}
	for (b = 0; b < bins; b++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "lower", (double)b / (double)bins);
		cJSON_AddNumberToObject(o, "upper", (double)(b + 1) / (double)bins);
		cJSON_AddNumberToObject(o, "count", cnt[b]);
		add_num(o, "mean_prediction", cnt[b] > 0 ? sp[b] / cnt[b] : NAN);
		add_num(o, "mean_label", cnt[b] > 0 ? sy[b] / cnt[b] : NAN);
		cJSON_AddItemToArray(cal, o);
	}
	free(cnt);
}

static double clip01(double p)
{
	return p < DBL_EPSILON ? DBL_EPSILON : p > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : p;
}

static void binary_metrics(const struct kf_eval *e, const struct kf_eval_opts *o, cJSON *m)
{
	size_t n, i;
	struct cell *v = sorted_cells(e, &n);
	double P = 0, N = 0, sum_p = 0, ll = 0, area2 = 0, ap = 0, tp = 0, fp = 0, tpt, fpt;
	double t = isnan(o->threshold) ? 0.5 : o->threshold, rows;

	for (i = 0; i < n; i++) {
		double tp0 = tp, fp0 = fp, q = clip01(v[i].s);

		tp += v[i].pos;
		fp += v[i].neg;
		/* trapezoid between consecutive distinct thresholds: a tie
		 * group is one diagonal step, i.e. half credit */
		area2 += (fp - fp0) * (tp + tp0);
		if (v[i].pos)
			ap += v[i].pos * (tp / (tp + fp));
		sum_p += v[i].s * ((double)v[i].pos + v[i].neg);
		ll -= v[i].pos * log(q) + v[i].neg * log(1 - q);
	}
	P = tp;
	N = fp;
	rows = P + N;
	counts_at(v, n, t, &tpt, &fpt);
	cJSON_AddNumberToObject(m, "example_count", rows);
	add_num(m, "accuracy", rows > 0 ? (tpt + N - fpt) / rows : NAN);
	add_num(m, "precision", ratio0(tpt, tpt + fpt));
	add_num(m, "recall", ratio0(tpt, P));
	add_num(m, "auc", P > 0 && N > 0 ? area2 / (2 * P * N) : NAN);
	add_num(m, "auc_pr", P > 0 ? ap / P : NAN);
	add_num(m, "log_loss", rows > 0 ? ll / rows : NAN);
	add_num(m, "calibration", P > 0 ? sum_p / P : NAN);
	add_num(m, "mean_label", rows > 0 ? P / rows : NAN);
	add_num(m, "mean_prediction", rows > 0 ? sum_p / rows : NAN);
	if (o->n_confusion) {
		cJSON *c = cJSON_AddArrayToObject(m, "confusion");

		for (i = 0; i < o->n_confusion; i++)
			cJSON_AddItemToArray(c, confusion_json(v, n, o->confusion_at[i], P, N));
	}
	if (o->curve_points || o->calibration_bins) {
		cJSON *plots = cJSON_AddObjectToObject(m, "plots");

		if (o->curve_points)
			curves_json(plots, v, n, P, N, o->curve_points);
		if (o->calibration_bins)
			calibration_json(plots, v, n, o->calibration_bins);
	}
	free(v);
}

/* ---- multiclass ---------------------------------------------------------- */

void kf_eval_add_multiclass(struct kf_eval *e, const double *prob, size_t y)
{
	size_t j, best = 0;
	double sum = 0;

	for (j = 0; j < e->k; j++) {
		sum += clip01(prob[j]);
		if (prob[j] > prob[best])
			best = j;
	}
	e->confusion[y * e->k + best]++;
	e->logloss -= log(clip01(prob[y]) / sum);
	e->n++;
}

static void multiclass_metrics(const struct kf_eval *e, const struct kf_eval_opts *o, cJSON *m)
{
	cJSON *per = cJSON_CreateArray();
	double correct = 0, mp = 0, mr = 0, rows = (double)e->n;
	size_t c, j;

	for (c = 0; c < e->k; c++) {
		double actual = 0, predicted = 0, hit = (double)e->confusion[c * e->k + c];
		double prec, rec;
		cJSON *pc = cJSON_CreateObject();
		char name[32];

		for (j = 0; j < e->k; j++) {
			actual += (double)e->confusion[c * e->k + j];
			predicted += (double)e->confusion[j * e->k + c];
		}
		correct += hit;
		prec = ratio0(hit, predicted);
		rec = ratio0(hit, actual);
		mp += prec;
		mr += rec;
		snprintf(name, sizeof name, "%zu", c);
		cJSON_AddStringToObject(pc, "class", o->classes ? o->classes[c] : name);
		cJSON_AddNumberToObject(pc, "count", actual);
		cJSON_AddNumberToObject(pc, "precision", prec);
		cJSON_AddNumberToObject(pc, "recall", rec);
		cJSON_AddItemToArray(per, pc);
	}
	cJSON_AddNumberToObject(m, "example_count", rows);
	add_num(m, "accuracy", rows > 0 ? correct / rows : NAN);
	add_num(m, "precision", mp / (double)e->k);
	add_num(m, "recall", mr / (double)e->k);
	add_num(m, "log_loss", rows > 0 ? e->logloss / rows : NAN);
	cJSON_AddItemToObject(m, "per_class", per);
}

/* ---- regression ------------------------------------------------------------ */

void kf_eval_add_regression(struct kf_eval *e, double pred, double y)
{
	double d = pred - y, delta = y - e->y_mean;

	e->n++;
	e->sse += d * d;
	e->sae += fabs(d);
	e->sum_pred += pred;
	e->y_mean += delta / (double)e->n;
	e->y_m2 += delta * (y - e->y_mean);
}

static void regression_metrics(const struct kf_eval *e, cJSON *m)
{
	double rows = (double)e->n, r2;

	/* sklearn's r2_score with force_finite: constant labels give 1 for a
	 * perfect fit, else 0 */
	if (e->y_m2 > 0)
		r2 = 1 - e->sse / e->y_m2;
	else
		r2 = e->sse == 0 ? 1 : 0;
	cJSON_AddNumberToObject(m, "example_count", rows);
	add_num(m, "mse", rows > 0 ? e->sse / rows : NAN);
	add_num(m, "rmse", rows > 0 ? sqrt(e->sse / rows) : NAN);
	add_num(m, "mae", rows > 0 ? e->sae / rows : NAN);
	add_num(m, "r2", rows > 0 ? r2 : NAN);
	add_num(m, "mean_label", rows > 0 ? e->y_mean : NAN);
	add_num(m, "mean_prediction", rows > 0 ? e->sum_pred / rows : NAN);
}

/* ---- ranking ---------------------------------------------------------------- */

void kf_eval_add_ranking(struct kf_eval *e, const unsigned char *hit, size_t n, size_t relevant)
{
	double hits = 0, dcg = 0, idcg = 0;
	size_t k;

	if (!relevant)
		return;
	for (k = 0; k < KF_EVAL_MAX_K; k++) {
		double discount = 1 / log2((double)k + 2);

		if (k < n && hit[k]) {
			hits++;
			dcg += discount;
		}
		if (k < relevant)
			idcg += discount;
		e->prec[k] += hits / (double)(k + 1);
		e->rec[k] += hits / (double)relevant;
		e->ndcg[k] += dcg / idcg;
	}
	e->n++;
}

static void ranking_metrics(const struct kf_eval *e, cJSON *m)
{
	static const char *const kinds[] = { "precision", "recall", "ndcg" };
	const double *sums[] = { e->prec, e->rec, e->ndcg };
	double q = (double)e->n;
	size_t i, j;
	char name[32];

	cJSON_AddNumberToObject(m, "example_count", q);
	for (i = 0; i < 3; i++)
		for (j = 0; j < sizeof cutoffs / sizeof cutoffs[0]; j++) {
			snprintf(name, sizeof name, "%s@%zu", kinds[i], cutoffs[j]);
			add_num(m, name, q > 0 ? sums[i][cutoffs[j] - 1] / q : NAN);
		}
}

/* ---- results ------------------------------------------------------------- */

cJSON *kf_eval_metrics(const struct kf_eval *e, const struct kf_eval_opts *opts)
{
	static const struct kf_eval_opts none = { .threshold = NAN };
	cJSON *m = cJSON_CreateObject();

	if (!opts)
		opts = &none;
	switch (e->task) {
	case KF_EVAL_BINARY:
		binary_metrics(e, opts, m);
		break;
	case KF_EVAL_MULTICLASS:
		multiclass_metrics(e, opts, m);
		break;
	case KF_EVAL_REGRESSION:
		regression_metrics(e, m);
		break;
	case KF_EVAL_RANKING:
		ranking_metrics(e, m);
		break;
	}
	return m;
}

const char *const *kf_eval_metric_names(enum kf_eval_task t)
{
	return t == KF_EVAL_BINARY ? binary_names :
	       t == KF_EVAL_MULTICLASS ? multiclass_names :
	       t == KF_EVAL_RANKING ? ranking_names : regression_names;
}

int kf_eval_metric_direction(const char *name)
{
	static const char *const higher[] = {
		"accuracy", "precision", "recall", "auc", "auc_pr", "r2", "ndcg", NULL,
	};
	static const char *const lower[] = { "log_loss", "mse", "rmse", "mae", NULL };
	size_t i, len = strcspn(name, "@");

	/* precision@5 is precision */
	for (i = 0; higher[i]; i++)
		if (strlen(higher[i]) == len && !strncmp(name, higher[i], len))
			return 1;
	for (i = 0; lower[i]; i++)
		if (!strcmp(name, lower[i]))
			return -1;
	return 0;
}
