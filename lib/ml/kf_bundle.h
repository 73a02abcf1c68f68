/* kf_bundle: a trained model on disk, and everything needed to use it.
 *
 * A bundle is a directory:
 *   kf-model.json   kind, model shape, the fitted feature transform
 *                   (inputs, vocabularies, scaling, bucket boundaries),
 *                   label, training metrics, data digest (the store finds
 *                   a bundle's lineage by the bundle's own content digest)
 *   weights.bin     the parameters (logistic, softmax, linear, mlp, mf):
 *                   little-endian float64, count and sha256 in kf-model.json
 *   model.json      xgboost's own model file (xgboost only)
 * kf-model.json is written last, atomically: a directory with it is complete.
 *
 * What `kf serve` (and `kf analyze model`) call:
 *
 *   struct kf_bundle *b;
 *   if (kf_bundle_load(&b, dir, err) < 0) ...              once, at start
 *   double *x = malloc(kf_bundle_dim(b) * rows * sizeof *x);
 *   kf_bundle_transform_json(b, instance, x + r * dim, err)   a cJSON object
 *       or kf_bundle_transform_named(b, names, values, n, x, err)   text cells
 *   double *out = malloc(rows * kf_bundle_n_outputs(b) * sizeof *out);
 *   kf_bundle_predict(b, x, rows, out, err);
 *       logistic: P(label = 1) per row; softmax: one probability per class
 *       (kf_bundle_output_name gives the class); linear/mlp regression: the
 *       value; xgboost: as logistic or linear per its objective
 *   kf_bundle_recommend(b, user, k, items, scores, err)   mf: top-k items
 *   kf_bundle_free(b);
 *
 * Threads: a loaded bundle is immutable. transform and predict allocate
 * their own scratch and may be called from any number of threads at once
 * on the same bundle; load and free must not overlap other calls. */
#ifndef KF_BUNDLE_H
#define KF_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_bundle;
struct kf_features;
struct kf_nn;

#define KF_BUNDLE_META "kf-model.json"
#define KF_BUNDLE_WEIGHTS "weights.bin"

int kf_bundle_load(struct kf_bundle **out, const char *dir, struct kf_err *err);
void kf_bundle_free(struct kf_bundle *b);

/* "logistic", "softmax", "linear", "mlp", "mf", "xgboost". */
const char *kf_bundle_kind(const struct kf_bundle *b);
/* The task: "binary", "multiclass", "regression" or "recommend". */
const char *kf_bundle_task(const struct kf_bundle *b);
/* The parsed kf-model.json (borrowed; metrics under "metrics"). */
const cJSON *kf_bundle_meta(const struct kf_bundle *b);

/* Raw inputs the transform reads, in order, and whether each is numeric. */
size_t kf_bundle_n_inputs(const struct kf_bundle *b);
const char *kf_bundle_input(const struct kf_bundle *b, size_t i);
bool kf_bundle_input_numeric(const struct kf_bundle *b, size_t i);
/* Length of one transformed feature vector. */
size_t kf_bundle_dim(const struct kf_bundle *b);
/* Outputs per row of kf_bundle_predict, and their names ("probability",
 * a class name, "value"). */
size_t kf_bundle_n_outputs(const struct kf_bundle *b);
const char *kf_bundle_output_name(const struct kf_bundle *b, size_t j);
/* The transform itself (borrowed). */
const struct kf_features *kf_bundle_features(const struct kf_bundle *b);

/* One raw row -> x[0..dim). values[i] is input i's text ("" or NULL is
 * missing). Never fails. */
void kf_bundle_transform(const struct kf_bundle *b, const char *const *values, double *x);
/* The same with cells by column name; names the model does not read (the
 * label, extra columns) are ignored, inputs not given are missing. */
int kf_bundle_transform_named(const struct kf_bundle *b, const char *const *names,
			      const char *const *values, size_t n, double *x, struct kf_err *err);
/* The same from a JSON object {"fare": 12.5, "payment_type": "Cash"}.
 * Numbers, strings, booleans and null (missing) are accepted. */
int kf_bundle_transform_json(const struct kf_bundle *b, const cJSON *obj, double *x,
			     struct kf_err *err);

/* rows feature vectors (rows × dim) -> out (rows × n_outputs). */
int kf_bundle_predict(const struct kf_bundle *b, const double *x, size_t rows, double *out,
		      struct kf_err *err);

/* mf bundles: the k best items for user (not already seen in training),
 * best first. items[i] are borrowed from the bundle. Returns the number
 * found; an unknown user gets the most popular items. */
int kf_bundle_recommend(const struct kf_bundle *b, const char *user, size_t k,
			const char **items, double *scores, struct kf_err *err);
/* mf bundles: the predicted score of (user, item); NaN when either is unknown. */
double kf_bundle_mf_score(const struct kf_bundle *b, const char *user, const char *item);

/* ---- writing (the trainers) --------------------------------------------- */

/* Write dir/weights.bin from n doubles and return its sha256 in hex. */
int kf_bundle_write_weights(const char *dir, const char *name, const double *w, size_t n,
			    char hex[65], struct kf_err *err);
/* Read n doubles back, checking size and sha256. */
int kf_bundle_read_weights(const char *dir, const char *name, double *w, size_t n,
			   const char *sha256, struct kf_err *err);
/* Write meta as dir/kf-model.json (atomically, last). */
int kf_bundle_write_meta(const char *dir, const cJSON *meta, struct kf_err *err);

/* The "model" section for a dense model, and the reverse. */
cJSON *kf_bundle_nn_json(const struct kf_nn *nn, const char *weights_sha256);
int kf_bundle_nn_from_json(struct kf_nn *nn, const cJSON *model, const char *dir,
			   struct kf_err *err);

#endif
