/* kf_features: the feature spec (man 5 kf-features), its fitting on the
 * training rows, and the fitted transform that turns one raw row (text
 * cells by input column) into the model's dense feature vector.
 *
 * Fitting streams: kf_features_fit_add() sees each training row once and
 * keeps bounded state per column (running moments, a fixed-size reservoir
 * sample for quantiles, value counts capped at KF_FEATURES_MAX_DISTINCT),
 * so memory does not grow with the number of rows.
 *
 * The fitted transform is immutable: kf_features_apply() may be called
 * from many threads at once. It round-trips through JSON (the "features"
 * section of kf-model.json) exactly: a loaded transform gives bit-identical
 * vectors. */
#ifndef KF_FEATURES_H
#define KF_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;

#define KF_FEATURES_MAX_DISTINCT 100000
#define KF_FEATURES_RESERVOIR 20000

enum kf_ft_kind {
	KF_FT_ZSCORE, KF_FT_MINMAX, KF_FT_LOG, KF_FT_BUCKETIZE,
	KF_FT_ONEHOT, KF_FT_HASH, KF_FT_CROSS, KF_FT_NONE
};

enum kf_ft_missing {
	KF_MISS_DEFAULT,   /* mean for numbers, category for categoricals */
	KF_MISS_MEAN, KF_MISS_MEDIAN, KF_MISS_ZERO, KF_MISS_VALUE,
	KF_MISS_CATEGORY,  /* missing is a category of its own (the empty value) */
	KF_MISS_OOV,       /* missing goes to the out-of-vocabulary slot */
	KF_MISS_DROP       /* training skips the row; prediction imputes as the default */
};

struct kf_feature {
	char *name;               /* column name, or "a_x_b" for a cross */
	enum kf_ft_kind kind;
	size_t col[2];            /* input column index (col[1]: cross only) */
	enum kf_ft_missing missing;
	double fill;              /* KF_MISS_VALUE, and the fitted imputation value */
	size_t buckets;           /* bucketize, hash, cross */
	size_t top_k, min_count;  /* onehot */
	/* fitted */
	double center, scale;     /* zscore/log: mean and std; minmax: min and range */
	double *bounds;           /* bucketize: n_bounds ascending boundaries */
	size_t n_bounds;
	char **vocab;             /* onehot: most frequent first */
	size_t n_vocab;
	void *index;              /* onehot: vocabulary lookup */
	size_t offset, width;     /* place in the output vector */
	int line, col_no;         /* place in the spec file, for errors */
};

struct kf_features {
	char **inputs;            /* raw input columns, in the data's order */
	bool *numeric;            /* input is numeric (at fit time) */
	size_t n_inputs;
	struct kf_feature *f;
	size_t n;
	size_t dim;               /* length of the feature vector */
	bool inferred;            /* the spec was inferred from column types */
	char *spec_file;
};

/* ---- spec ------------------------------------------------------------- */

/* Load a spec file (features not yet fitted, columns not yet resolved). */
int kf_features_load_spec(struct kf_features *fs, const char *path, struct kf_err *err);
void kf_features_release(struct kf_features *fs);

/* ---- fitting ---------------------------------------------------------- */

struct kf_features_fit;

/* Start fitting over input columns names[0..n). spec may be NULL (infer
 * from column types) or a loaded spec whose column names are resolved here.
 * skip[i] true excludes input i from inference (the label, its expression's
 * columns, --ignore); an explicit spec may use any column. */
int kf_features_fit_new(struct kf_features_fit **out, struct kf_features *spec,
			const char *const *names, size_t n, const bool *skip, uint64_t seed,
			struct kf_err *err);
/* One training row: values[i] is input i's text ("" or NULL = missing). */
void kf_features_fit_add(struct kf_features_fit *fit, const char *const *values);
/* Finish: fill fs (inputs, features, fitted values, dim). Frees fit. */
int kf_features_fit_finish(struct kf_features_fit *fit, struct kf_features *fs, struct kf_err *err);
void kf_features_fit_free(struct kf_features_fit *fit);

/* ---- applying ----------------------------------------------------------- */

/* Transform values[0..fs->n_inputs) into x[0..fs->dim). Returns 1 when a
 * column with missing: drop is missing and training is true (skip the row),
 * else 0. Never fails: unseen categories go to the OOV slot or a hash
 * bucket, unparsable numbers count as missing. */
int kf_features_apply(const struct kf_features *fs, const char *const *values, double *x,
		      bool training);

/* Input index by name, or -1. */
long kf_features_input(const struct kf_features *fs, const char *name);

/* ---- JSON ------------------------------------------------------------- */

cJSON *kf_features_to_json(const struct kf_features *fs);
int kf_features_from_json(struct kf_features *fs, const cJSON *j, struct kf_err *err);
/* The spec part only (what a user would write), as YAML-ready cJSON. */
cJSON *kf_features_spec_json(const struct kf_features *fs);

const char *kf_ft_kind_name(enum kf_ft_kind k);
const char *kf_ft_missing_name(enum kf_ft_missing m);

#endif
