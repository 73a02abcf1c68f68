/* kf_nn: the dense models: logistic (binary), softmax (multiclass), linear
 * (regression) and mlp (hidden ReLU layers with dropout, on any of the three
 * heads). logistic, softmax and linear are an mlp without hidden layers.
 *
 * Parameters live in one contiguous vector: for each layer l, W_l
 * (out × in, row-major) then b_l (out). Gradients use the same layout, so
 * one Adam step and one allreduce cover the whole model. All math goes
 * through kf_dense (CPU or CUDA). The loss is the mean over the batch plus
 * l2/2 · ‖W‖² (biases are not decayed). */
#ifndef KF_NN_H
#define KF_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/kf_dense.h"
#include "ml/kf_rng.h"

struct kf_err;

enum kf_nn_head { KF_NN_LOGISTIC, KF_NN_SOFTMAX, KF_NN_LINEAR };

struct kf_nn {
	enum kf_nn_head head;
	size_t n_layers;      /* weight layers: hidden layers + 1 */
	size_t *sizes;        /* n_layers + 1: input dim, hidden..., outputs */
	size_t n_params;
	double *params;
	double l2;
	double dropout;       /* on hidden activations, training only */
};

/* Scratch for one batch size; one per thread that runs the model. */
struct kf_nn_work {
	size_t batch;
	double **act;         /* n_layers + 1 activations; act[0] unused (the input) */
	double **delta;
	double **mask;        /* dropout masks for hidden layers */
	double *grad;
	double *out_buf;
};

int kf_nn_init(struct kf_nn *nn, enum kf_nn_head head, size_t in, const size_t *hidden,
	       size_t n_hidden, size_t out, uint64_t seed, struct kf_err *err);
void kf_nn_release(struct kf_nn *nn);
size_t kf_nn_outputs(const struct kf_nn *nn);

void kf_nn_work_init(struct kf_nn_work *w, const struct kf_nn *nn, size_t batch);
void kf_nn_work_release(struct kf_nn_work *w, const struct kf_nn *nn);

/* Outputs for rows X (rows × in): probabilities (logistic: P(y=1); softmax:
 * one per class) or values (linear), into out (rows × outputs). rows must
 * be at most the work's batch size. */
void kf_nn_predict(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		   const double *x, size_t rows, double *out);

/* Mean loss over the batch, and its gradient into w->grad (n_params).
 * y: 0/1 (logistic), a class index (softmax) or a value (linear).
 * row_seed non-NULL applies dropout (training), each row's mask drawn from
 * its own seed; NULL evaluates without dropout. */
double kf_nn_loss_grad(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		       const double *x, const double *y, size_t rows, const uint64_t *row_seed);

/* The loss without the gradient (eval, gradient checks). */
double kf_nn_loss(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		  const double *x, const double *y, size_t rows);

/* Sparse input rows (CSR): row r's non-zeros are idx/val[ptr[r] .. ptr[r+1]),
 * idx ascending. One-hot features make most of a row zero; the first layer
 * then costs the non-zeros only, on the CPU. The results are bit-identical
 * to the dense functions on the same rows (the same products are summed in
 * the same order; the skipped ones are exact zeros). */
struct kf_csr {
	const size_t *ptr;
	const uint32_t *idx;
	const double *val;
};

void kf_nn_predict_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		       const struct kf_csr *x, size_t rows, double *out);
double kf_nn_loss_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		      const struct kf_csr *x, const double *y, size_t rows);
double kf_nn_loss_grad_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
			   const struct kf_csr *x, const double *y, size_t rows, const uint64_t *row_seed);

#endif
