/* kf_evaluate: what `kf analyze model` computes. One pass over the data:
 * each row's label, its slices (kf_slice), every model's prediction (a kf
 * model bundle applies its own fitted transform to the raw row; a
 * predictions file gives the scores directly), and one kf_eval accumulator
 * per (slice, model). Memory is bounded by the slices and the distinct
 * scores, not by the rows (see kf_eval.h).
 *
 * The result document:
 *   {"kind": "ModelEvaluation", "name": first model, "task", "data",
 *    "label", "rows", "skipped_rows",
 *    "models": [{"name", "path", "kind", "role": "candidate" | "comparison"
 *                | "baseline"}],
 *    "metric_names": [scalar metrics of the task],
 *    "slices": [{"name", "features": {col: value}, "example_count",
 *                "metrics": {model: {metric: value, ..., "confusion": [...],
 *                                    "per_class": [...], "plots": {...}}},
 *                "diff": {model: {metric: model - reference}}}],
 *    "hidden_slices": slices under min_slice_size}
 * The reference of "diff" is the baseline when there is one, else the
 * first model (which then has no diff). Plots are computed for the overall
 * slice only, when asked. */
#ifndef KF_EVALUATE_H
#define KF_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;

struct kf_evaluate_opts {
	const char *data;                /* CSV or JSON Lines; may be NULL with predictions */
	const char *const *models;       /* model bundle directories */
	size_t n_models;
	const char *baseline;            /* a bundle, or NULL */
	const char *predictions;         /* a CSV of scores (one more model), or NULL */
	const char *const *pred_cols;    /* its score columns: one (binary, regression) or one per class */
	size_t n_pred_cols;
	const char *task;                /* "binary" "multiclass" "regression"; NULL: the bundles' */
	const char *label, *label_expr;  /* NULL: the bundle's */
	const char *const *slices;       /* slicing specs (kf_slice.h) */
	size_t n_slices;
	uint64_t min_slice_size;
	const double *confusion_at;
	size_t n_confusion;
	bool plots;
};

int kf_evaluate_run(const struct kf_evaluate_opts *o, cJSON **out, struct kf_err *err);

/* The overall metrics of the model named name in a result (borrowed). */
const cJSON *kf_evaluate_overall(const cJSON *doc, const char *model);

#endif
