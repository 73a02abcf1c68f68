/* kf_metrics: AUC, accuracy, log loss, RMSE, MAE, R². */
#include "config.h"

#include "ml/kf_metrics.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>

struct sy {
	double s, y;
};

static int cmp_sy(const void *a, const void *b)
{
	double x = ((const struct sy *)a)->s, y = ((const struct sy *)b)->s;

	return x < y ? -1 : x > y;
}

double kf_metrics_auc(const double *score, const double *y, size_t n)
{
	struct sy *v = kf_xmalloc((n ? n : 1) * sizeof *v);
	double pos = 0, neg = 0, rank_sum = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].y = y[i];
		if (y[i] > 0.5)
			pos++;
		else
			neg++;
	}
	qsort(v, n, sizeof *v, cmp_sy);
	/* Mann-Whitney: sum of the (tie-averaged) ranks of the positives. */
	for (i = 0; i < n; i = j) {
		double avg;

		for (j = i; j < n && v[j].s == v[i].s; j++)
			;
		avg = ((double)i + 1 + (double)j) / 2;
		for (size_t t = i; t < j; t++)
			if (v[t].y > 0.5)
				rank_sum += avg;
	}
	free(v);
	if (pos == 0 || neg == 0)
		return NAN;
	return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double kf_metrics_accuracy(const double *p, const double *y, size_t n)
{
	size_t i, ok = 0;

	for (i = 0; i < n; i++)
		ok += (p[i] >= 0.5) == (y[i] > 0.5);
	return n ? (double)ok / (double)n : NAN;
}

static double clip(double p)
{
	return p < 1e-15 ? 1e-15 : p > 1 - 1e-15 ? 1 - 1e-15 : p;
}

double kf_metrics_logloss(const double *p, const double *y, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s -= y[i] > 0.5 ? log(clip(p[i])) : log(1 - clip(p[i]));
	return n ? s / (double)n : NAN;
}

double kf_metrics_accuracy_k(const double *prob, const double *y, size_t n, size_t k)
{
	size_t i, j, ok = 0;

	for (i = 0; i < n; i++) {
		size_t best = 0;

		for (j = 1; j < k; j++)
			if (prob[i * k + j] > prob[i * k + best])
				best = j;
		ok += best == (size_t)y[i];
	}
	return n ? (double)ok / (double)n : NAN;
}

double kf_metrics_logloss_k(const double *prob, const double *y, size_t n, size_t k)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s -= log(clip(prob[i * k + (size_t)y[i]]));
	return n ? s / (double)n : NAN;
}

double kf_metrics_rmse(const double *pred, const double *y, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (pred[i] - y[i]) * (pred[i] - y[i]);
	return n ? sqrt(s / (double)n) : NAN;
}

double kf_metrics_mae(const double *pred, const double *y, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += fabs(pred[i] - y[i]);
	return n ? s / (double)n : NAN;
}

double kf_metrics_r2(const double *pred, const double *y, size_t n)
{
	double mean = 0, ss_tot = 0, ss_res = 0;
	size_t i;

	for (i = 0; i < n; i++)
		mean += y[i];
	mean = n ? mean / (double)n : 0;
	for (i = 0; i < n; i++) {
		ss_tot += (y[i] - mean) * (y[i] - mean);
		ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
	}
	return ss_tot > 0 ? 1 - ss_res / ss_tot : NAN;
}
