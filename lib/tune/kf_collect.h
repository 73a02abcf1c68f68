/* kf_collect: what a trial reported, as Katib's metrics collectors read it.
 *
 * An observation log is every (name, value) in the order reported. Text is
 * read with Katib's default StdOut filter, fixed: Katib's own
 *     ([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)
 * also matches an empty value and mangles "5." and ".5"; kf matches
 *     ([\w|-]+)\s*=\s*([+-]?(\d+\.?\d*|\.\d+)([Ee][+-]?\d+)?)
 * or the experiment's own metricsFormat filters (Go regexps, two groups).
 * File collectors read TEXT the same way, or JSON: lines ({"loss": 0.1}
 * each), one object (kf train's metrics.json), or a KFP v1 metrics document
 * ({"metrics": [{"name": "accuracy", "numberValue": 0.9}]}), which is also
 * what pipeline trials' mlpipeline-metrics and metrics outputs hold.
 * Only the names asked for are kept. */
#ifndef KF_COLLECT_H
#define KF_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "tune/kf_experiment.h"

struct kf_err;

struct kf_metric_obs {
	char *name;
	double value;
};

struct kf_collect {
	struct kf_metric_obs *items;
	size_t n, cap;
};

#define KF_COLLECT_INIT { NULL, 0, 0 }

void kf_collect_release(struct kf_collect *m);
void kf_collect_add(struct kf_collect *m, const char *name, double value);

/* Text lines. filters NULL (n_filters 0) means the default filter; names
 * restricts what is kept (n_names 0: everything). KF_EINPUT for a bad filter. */
int kf_collect_parse_text(struct kf_collect *m, const char *text, size_t len,
			  char *const *filters, size_t n_filters,
			  const struct kf_metric_spec *names, size_t n_names, struct kf_err *err);
/* JSON lines: each line an object of name -> number or numeric string. */
int kf_collect_parse_json_lines(struct kf_collect *m, const char *text, size_t len,
				const struct kf_metric_spec *names, size_t n_names, struct kf_err *err);
/* Any JSON metrics file: a KFP v1 metrics document, one object of metrics
 * (kf train's metrics.json: {"auc": 0.8}), or JSON lines. */
int kf_collect_parse_json(struct kf_collect *m, const char *text, size_t len,
			  const struct kf_metric_spec *names, size_t n_names, struct kf_err *err);
/* A KFP v1 metrics document. */
int kf_collect_parse_kfp(struct kf_collect *m, const char *text, size_t len,
			 const struct kf_metric_spec *names, size_t n_names, struct kf_err *err);

/* The value of name under strategy; false when it was never reported. */
bool kf_collect_value(const struct kf_collect *m, const char *name, enum kf_strategy strategy,
		      double *out);
/* How many values of name were reported. */
size_t kf_collect_count(const struct kf_collect *m, const char *name);

#endif
