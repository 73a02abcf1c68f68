/* kf_eval: evaluation metrics of one model on one slice of data, streamed
 * row by row (the model half of TensorFlow Model Analysis).
 *
 *   struct kf_eval *e = kf_eval_new(KF_EVAL_BINARY, 0);
 *   for each row:  kf_eval_add_binary(e, p, y)          p = P(y = 1)
 *   cJSON *m = kf_eval_metrics(e, &opts);                {"auc": ..., ...}
 *   kf_eval_free(e);
 *
 * Definitions follow scikit-learn, so results agree with it to rounding:
 *   binary      example_count, accuracy, precision, recall (predicted
 *               positive when p >= threshold, 0.5 unless told; an empty
 *               denominator gives 0 as sklearn does), auc (roc_auc_score:
 *               trapezoids over the ROC curve, so tied scores count half),
 *               auc_pr (average_precision_score: sum of (R_n - R_n-1) P_n
 *               over distinct thresholds, no interpolation), log_loss
 *               (p clipped to [DBL_EPSILON, 1 - DBL_EPSILON]), calibration
 *               (mean prediction / mean label), mean_label, mean_prediction;
 *               confusion counts at any thresholds; ROC and PR curve points
 *               and calibration bins for plots.
 *   multiclass  accuracy (argmax, first maximum wins), macro precision and
 *               recall, per-class precision/recall/count, log_loss (each
 *               probability clipped, then the row renormalised).
 *   regression  mse, rmse, mae, r2 (1 when the labels are constant and the
 *               predictions exact, else 0 then), mean_label, mean_prediction.
 *   ranking     per query (a user and the items relevant to it), averaged
 *               over queries with at least one relevant item: precision@K
 *               (hits in the first K / K), recall@K (hits / relevant items),
 *               ndcg@K (binary gains, log2 discounts, over the ideal
 *               ordering, as sklearn's ndcg_score), K = 1, 5, 10;
 *               example_count is the number of queries.
 * A metric that is undefined (auc with one class present) is NaN, which
 * kf_eval_metrics writes as null.
 *
 * Memory. Binary metrics are exact, and ranking metrics need every score:
 * the accumulator keeps one cell per DISTINCT score, (score, positives,
 * negatives), 16 bytes, in an open-addressing hash table. Everything binary
 * (counts, sums, log loss, AUC, PR, curves, bins, confusion at any
 * threshold) is derived from that table at the end, by one sort of the
 * distinct scores. Memory is bounded by the number of distinct scores, not
 * rows: a model with discrete outputs, or the same data seen many times,
 * stays flat; continuous scores on new rows cost 16-32 bytes a row.
 * Multiclass and regression keep fixed-size running sums. */
#ifndef KF_EVAL_H
#define KF_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;

enum kf_eval_task { KF_EVAL_BINARY, KF_EVAL_MULTICLASS, KF_EVAL_REGRESSION, KF_EVAL_RANKING };

/* Ranking (recommender) cutoffs: precision@K, recall@K and ndcg@K. */
#define KF_EVAL_MAX_K 10

struct kf_eval;

/* n_classes: multiclass only (>= 2). */
struct kf_eval *kf_eval_new(enum kf_eval_task task, size_t n_classes);
void kf_eval_free(struct kf_eval *e);

enum kf_eval_task kf_eval_task(const struct kf_eval *e);
/* Rows added so far. */
uint64_t kf_eval_count(const struct kf_eval *e);

/* y is 0 or 1, p finite (the caller checks). Returns KF_EINPUT when one
 * score was seen more than 2^32 - 1 times in one class. */
int kf_eval_add_binary(struct kf_eval *e, double p, int y, struct kf_err *err);
/* prob[0..n_classes), y in [0, n_classes). */
void kf_eval_add_multiclass(struct kf_eval *e, const double *prob, size_t y);
void kf_eval_add_regression(struct kf_eval *e, double pred, double y);
/* One query: hit[i] whether the item ranked i + 1 is relevant (n <=
 * KF_EVAL_MAX_K ranked), of `relevant` relevant items in all. A query with
 * no relevant item is not counted. */
void kf_eval_add_ranking(struct kf_eval *e, const unsigned char *hit, size_t n, size_t relevant);

/* "binary", "multiclass", "regression", "recommend"; and the reverse (-1
 * when unknown). */
const char *kf_eval_task_name(enum kf_eval_task t);
int kf_eval_task_parse(const char *name);

struct kf_eval_opts {
	double threshold;           /* binary decision threshold; NaN = 0.5 */
	const double *confusion_at; /* confusion counts at these thresholds */
	size_t n_confusion;
	size_t curve_points;        /* max points per ROC/PR curve; 0 = no curves */
	size_t calibration_bins;    /* equal-width bins over [0,1]; 0 = none */
	const char *const *classes; /* multiclass: class names, or NULL for "0".. */
};

/* The metrics: {"example_count": n, "auc": ..., ...} with, when asked,
 * "confusion": [{threshold, tp, fp, tn, fn, precision, recall, accuracy}],
 * "per_class": [{class, count, precision, recall}], "plots": {"roc":
 * [[fpr, tpr]...], "pr": [[recall, precision]...], "calibration":
 * [{lower, upper, count, mean_prediction, mean_label}]}. Caller owns it. */
cJSON *kf_eval_metrics(const struct kf_eval *e, const struct kf_eval_opts *opts);

/* The scalar metric names a task produces, NULL-terminated (thresholds
 * and the table columns refer to these). */
const char *const *kf_eval_metric_names(enum kf_eval_task t);

/* +1 when higher is better (auc), -1 when lower is (log_loss), 0 when
 * neither (example_count, mean_label, calibration). */
int kf_eval_metric_direction(const char *name);

#endif
