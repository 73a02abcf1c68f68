/* kf_xgb: gradient-boosted trees through libxgboost's C API (only when
 * configure found it: KF_HAVE_XGBOOST; otherwise every call is KF_EENV).
 * The BoosterHandle stays inside this module. The trees are trained on the
 * transformed feature vectors, and saved as xgboost's own model.json in the
 * bundle. Prediction holds a mutex: one booster, many server threads. */
#ifndef KF_XGB_H
#define KF_XGB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_xgb;

struct kf_xgb_params {
	const char *task;      /* "binary", "multiclass" or "regression" */
	size_t n_class;        /* multiclass */
	int rounds;            /* boosting rounds */
	int max_depth;
	double eta;
	double subsample;
	int threads;
	uint64_t seed;
};

bool kf_xgb_available(void);
/* Train on rows × dim features x with labels y (0/1, class index, value);
 * eval rows (may be 0) stop early when eval loss has not improved for 20
 * rounds. */
int kf_xgb_train(struct kf_xgb **out, const double *x, const double *y, size_t rows,
		 const double *ex, const double *ey, size_t erows, size_t dim,
		 const struct kf_xgb_params *p, struct kf_err *err);
/* Write dir/model.json and return the bundle's "model" section. */
int kf_xgb_save(const struct kf_xgb *m, const char *dir, cJSON **model, struct kf_err *err);
int kf_xgb_load(struct kf_xgb **out, const cJSON *model, const char *dir, struct kf_err *err);
size_t kf_xgb_outputs(const struct kf_xgb *m);
int kf_xgb_predict(struct kf_xgb *m, const double *x, size_t rows, size_t dim, double *out,
		   struct kf_err *err);
void kf_xgb_free(struct kf_xgb *m);

#endif
