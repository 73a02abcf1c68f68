/* kf_drift: distance between two datasets' distributions, per feature, as
 * TFDV's drift comparators measure it: the L-infinity distance between the
 * normalized value counts for categorical (string and bool) features, and
 * the Jensen-Shannon divergence (log base 2, so 0..1) between histograms for
 * numeric ones. The numeric histogram has KF_DRIFT_BINS bins of equal mass
 * in the baseline, cut at the baseline's quantiles (repeated cut points
 * merged), with the current data's mass read from its own quantile sketch;
 * values outside the baseline's range fall in the outer bins. */
#ifndef KF_DRIFT_H
#define KF_DRIFT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_stats;
struct kf_stats_feature;

#define KF_DRIFT_BINS 20

struct kf_drift_threshold {
	const char *feature;   /* NULL: every feature without its own */
	double value;
};

/* L-infinity distance; *value gets the value where it is largest (borrowed). */
double kf_drift_linf(const struct kf_stats_feature *base, const struct kf_stats_feature *cur,
		     const char **value);
double kf_drift_jsd(struct kf_stats_feature *base, struct kf_stats_feature *cur);

/* {"kind": "DriftList", "items": [{"kind": "Drift", "name": FEATURE,
 * "measure": "L_INFINITY" | "JENSEN_SHANNON_DIVERGENCE", "distance",
 * "threshold" (when one applies), "drifted", "anomaly"}]} for the features
 * of base also in cur; *drifted set when any distance is above its
 * threshold. */
cJSON *kf_drift_compare(struct kf_stats *base, struct kf_stats *cur,
			const struct kf_drift_threshold *th, size_t nth, bool *drifted);

#endif
