/* kf_metrics: evaluation metrics of the built-in models. */
#ifndef KF_METRICS_H
#define KF_METRICS_H

#include <stddef.h>

/* Area under the ROC curve of scores for 0/1 labels (ties count half).
 * NaN when one class is absent. Sorts a copy: O(n log n). */
double kf_metrics_auc(const double *score, const double *y, size_t n);
/* Fraction of rows whose score >= 0.5 matches y. */
double kf_metrics_accuracy(const double *p, const double *y, size_t n);
/* Mean binary cross-entropy, probabilities clipped to [1e-15, 1 - 1e-15]. */
double kf_metrics_logloss(const double *p, const double *y, size_t n);
/* Softmax: prob is n × k, y class indices. */
double kf_metrics_accuracy_k(const double *prob, const double *y, size_t n, size_t k);
double kf_metrics_logloss_k(const double *prob, const double *y, size_t n, size_t k);
double kf_metrics_rmse(const double *pred, const double *y, size_t n);
double kf_metrics_mae(const double *pred, const double *y, size_t n);
double kf_metrics_r2(const double *pred, const double *y, size_t n);

#endif
