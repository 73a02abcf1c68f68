/* kf_medianstop: Katib's medianstop early-stopping rule.
 *
 * Each succeeded trial contributes the average of the first start_step
 * values it reported for the objective. Once min_trials_required trials
 * have succeeded, a running trial that has reported at least start_step
 * values is stopped when its latest value is worse than the median of
 * those averages (below it when maximizing, above when minimizing).
 * Katib's service names this value the median but computes the mean of
 * the averages; kf takes the median, as the rule's paper defines it.
 * Defaults: min_trials_required 3, start_step 4. */
#ifndef KF_MEDIANSTOP_H
#define KF_MEDIANSTOP_H

#include <stdbool.h>
#include <stddef.h>

struct kf_experiment;

struct kf_medianstop {
	int min_trials;
	int start_step;
	bool maximize;
};

void kf_medianstop_init(struct kf_medianstop *ms, const struct kf_experiment *e);
/* A succeeded trial's contribution: the mean of its first start_step values
 * (n > 0). */
double kf_medianstop_average(const struct kf_medianstop *ms, const double *vals, size_t n);
/* The median of the averages; false while fewer than min_trials. */
bool kf_medianstop_median(const struct kf_medianstop *ms, const double *avgs, size_t n, double *median);
/* Should a running trial that reported vals[0..n) stop, given the median? */
bool kf_medianstop_stop(const struct kf_medianstop *ms, double median, const double *vals, size_t n);

#endif
