/* kf_train: the built-in trainers, from a CSV to a model bundle.
 *
 *   1. one pass over the training rows fits the feature transform (and
 *      collects the label's classes);
 *   2. the transformed rows are kept in memory when they fit in the cache
 *      budget (KF_TRAIN_CACHE_MB, default 64), otherwise every epoch streams
 *      the file again through a fixed-size shuffle buffer: memory stays flat
 *      however many rows there are;
 *   3. mini-batch Adam, one checkpoint per epoch (DIR/checkpoint/), early
 *      stopping on the eval loss (mlp), the best epoch's weights kept;
 *   4. the bundle (kf_bundle.h), metrics.json and, when asked, predictions.
 *
 * Deterministic for a seed: the shuffle of epoch e, and each row's dropout
 * mask, come from (seed, e, row) alone, so a resumed run and a run split
 * over N workers compute the same batches as one uninterrupted process.
 *
 * Data parallel (rank/world with an allreduce): every worker reads the data
 * and fits the same transform; of each global batch, worker r computes the
 * gradient of positions j with j % world == r; the gradients are summed
 * over the allreduce and every worker applies the same Adam step. Only rank
 * 0 writes the bundle and checkpoints. */
#ifndef KF_TRAIN_H
#define KF_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_allreduce;

struct kf_train_opts {
	const char *model;         /* logistic softmax linear mlp mf xgboost */
	const char *task;          /* binary multiclass regression; NULL: by model */
	const char *data, *eval;   /* CSV paths; eval may be NULL */
	const char *label, *label_expr;
	const char *features;      /* spec file, or NULL to infer */
	const char *const *ignore; /* columns left out of inference */
	size_t n_ignore;
	double eval_fraction;      /* > 0: hash split with split_seed */
	uint64_t split_seed;
	long split_mod, split_rem; /* split_mod > 0: row i is eval when i % mod == rem */
	const char *out;
	int epochs;
	double lr, l2, dropout;
	size_t batch;
	const size_t *hidden;
	size_t n_hidden;
	int patience;              /* epochs without eval improvement (mlp) */
	int threads;
	const char *device;
	uint64_t seed;
	bool resume;
	const char *predictions;   /* write predictions of every --data row here */
	/* xgboost */
	int rounds, max_depth;
	double eta;
	/* mf */
	const char *user_col, *item_col, *item_sep, *rating_col;
	size_t factors;
	int iters;
	double alpha, reg;
	/* data parallel: world > 1 with ar set */
	int rank, world;
	struct kf_allreduce *ar;
	/* progress lines (one per epoch), or NULL */
	void (*progress)(void *arg, const char *line);
	void *progress_arg;
};

void kf_train_opts_init(struct kf_train_opts *o);

/* Train. *metrics (caller frees) gets the final metrics as a flat object
 * of numbers. */
int kf_train_run(const struct kf_train_opts *o, cJSON **metrics, struct kf_err *err);

/* Predict every row of data with the bundle in dir, writing CSV (the
 * output columns, then "prediction") or JSON Lines to out. For mf, data
 * holds users (user_col, default the bundle's user column) and top_k items
 * are listed per user. */
int kf_train_predict(const char *dir, const char *data, const char *format, size_t top_k,
		     const char *user_col, FILE *out, struct kf_err *err);

#endif
