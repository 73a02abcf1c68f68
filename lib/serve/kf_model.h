/* kf_model: what the model server needs of a model, and nothing more.
 *
 * A served model reads named raw inputs (the columns a user has: numbers
 * or text) and answers one output tensor per row: its name and width come
 * from the model (a binary classifier's "probability", a multiclass
 * model's probability per class, a regressor's "value"). The model's own
 * fitted transform turns raw inputs into features, so a request carries
 * exactly what the training data held.
 *
 * Backed by the model bundle (lib/ml/kf_bundle.h); this interface keeps
 * the protocol code independent of it. A loaded model is immutable and
 * kf_model_predict may run on many threads at once. */
#ifndef KF_MODEL_H
#define KF_MODEL_H

#include <stdbool.h>
#include <stddef.h>

struct kf_err;
struct kf_model;

enum kf_model_task { KF_MODEL_BINARY, KF_MODEL_MULTICLASS, KF_MODEL_REGRESSION };

int kf_model_load(const char *dir, struct kf_model **out, struct kf_err *err);
void kf_model_free(struct kf_model *m);

const char *kf_model_kind(const struct kf_model *m);      /* "logistic", "linear", ... */
enum kf_model_task kf_model_task(const struct kf_model *m);
size_t kf_model_n_inputs(const struct kf_model *m);
const char *kf_model_input(const struct kf_model *m, size_t i);
bool kf_model_input_numeric(const struct kf_model *m, size_t i);
/* The output tensor: its name and the values per row. */
const char *kf_model_output(const struct kf_model *m);
size_t kf_model_width(const struct kf_model *m);
/* Class names of a classifier, one per value of a row (a binary model's
 * one value is the probability of class "1"). */
const char *kf_model_class(const struct kf_model *m, size_t j);

/* cells: rows × n_inputs raw values as text, NULL for missing;
 * out: rows × width. */
int kf_model_predict(const struct kf_model *m, const char *const *cells, size_t rows, double *out,
		     struct kf_err *err);

#endif
