/* kf_medianstop: the median stopping rule. */
#include "config.h"

#include "tune/kf_medianstop.h"

#include "tune/kf_experiment.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <stdlib.h>
#include <string.h>

void kf_medianstop_init(struct kf_medianstop *ms, const struct kf_experiment *e)
{
	const char *s;
	long v;

	ms->min_trials = 3;
	ms->start_step = 4;
	ms->maximize = e->maximize;
	if ((s = kf_experiment_es_setting(e, "min_trials_required")) && kf_str_to_long(s, &v) && v > 0)
		ms->min_trials = (int)v;
	if ((s = kf_experiment_es_setting(e, "start_step")) && kf_str_to_long(s, &v) && v > 0)
		ms->start_step = (int)v;
}

double kf_medianstop_average(const struct kf_medianstop *ms, const double *vals, size_t n)
{
	size_t k = n < (size_t)ms->start_step ? n : (size_t)ms->start_step;
	double sum = 0;

	for (size_t i = 0; i < k; i++)
		sum += vals[i];
	return k ? sum / (double)k : 0;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

bool kf_medianstop_median(const struct kf_medianstop *ms, const double *avgs, size_t n, double *median)
{
	double *v;

	if (n == 0 || n < (size_t)ms->min_trials)
		return false;
	v = kf_xcalloc(n, sizeof *v);
	memcpy(v, avgs, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_double);
	*median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
	free(v);
	return true;
}

bool kf_medianstop_stop(const struct kf_medianstop *ms, double median, const double *vals, size_t n)
{
	if (n < (size_t)ms->start_step)
		return false;
	return ms->maximize ? vals[n - 1] < median : vals[n - 1] > median;
}
