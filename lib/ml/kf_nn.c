/* kf_nn: forward and backward passes of the dense models. */
#include "config.h"

#include "ml/kf_nn.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *layer_w(const struct kf_nn *nn, double *base, size_t l)
{
	size_t i, off = 0;

	for (i = 0; i < l; i++)
		off += nn->sizes[i + 1] * (nn->sizes[i] + 1);
	return base + off;
}

int kf_nn_init(struct kf_nn *nn, enum kf_nn_head head, size_t in, const size_t *hidden,
	       size_t n_hidden, size_t out, uint64_t seed, struct kf_err *err)
{
	struct kf_rng rng;
	size_t l, i;

	memset(nn, 0, sizeof *nn);
	if (in == 0)
		return kf_err_set(err, KF_EINPUT, "the model has no input features");
	nn->head = head;
	nn->n_layers = n_hidden + 1;
	nn->sizes = kf_xcalloc(nn->n_layers + 1, sizeof *nn->sizes);
	nn->sizes[0] = in;
	for (l = 0; l < n_hidden; l++)
		nn->sizes[l + 1] = hidden[l];
	nn->sizes[nn->n_layers] = out;
	for (l = 0; l < nn->n_layers; l++)
		nn->n_params += nn->sizes[l + 1] * (nn->sizes[l] + 1);
	nn->params = kf_xcalloc(nn->n_params, sizeof *nn->params);
	/* He initialisation for ReLU layers; the output layer of a model with
	 * no hidden layer starts at zero (the convex case: any start works and
	 * zero is the most reproducible). */
	kf_rng_seed(&rng, seed);
	for (l = 0; l < nn->n_layers && n_hidden > 0; l++) {
		double *w = layer_w(nn, nn->params, l);
		double sd = sqrt(2.0 / (double)nn->sizes[l]);

		for (i = 0; i < nn->sizes[l + 1] * nn->sizes[l]; i++)
			w[i] = sd * kf_rng_normal(&rng);
	}
	return 0;
}

void kf_nn_release(struct kf_nn *nn)
{
	free(nn->sizes);
	free(nn->params);
	memset(nn, 0, sizeof *nn);
}

size_t kf_nn_outputs(const struct kf_nn *nn)
{
	return nn->sizes[nn->n_layers];
}

void kf_nn_work_init(struct kf_nn_work *w, const struct kf_nn *nn, size_t batch)
{
	size_t l;

	memset(w, 0, sizeof *w);
	w->batch = batch;
	w->act = kf_xcalloc(nn->n_layers + 1, sizeof *w->act);
	w->delta = kf_xcalloc(nn->n_layers + 1, sizeof *w->delta);
	w->mask = kf_xcalloc(nn->n_layers + 1, sizeof *w->mask);
	for (l = 1; l <= nn->n_layers; l++) {
		w->act[l] = kf_xcalloc(batch * nn->sizes[l], sizeof(double));
		w->delta[l] = kf_xcalloc(batch * nn->sizes[l], sizeof(double));
		if (l < nn->n_layers)
			w->mask[l] = kf_xcalloc(batch * nn->sizes[l], sizeof(double));
	}
	w->grad = kf_xcalloc(nn->n_params, sizeof *w->grad);
}

void kf_nn_work_release(struct kf_nn_work *w, const struct kf_nn *nn)
{
	size_t l;

	if (!w->act)
		return;
	for (l = 1; l <= nn->n_layers; l++) {
		free(w->act[l]);
		free(w->delta[l]);
		free(w->mask[l]);
	}
	free(w->act);
	free(w->delta);
	free(w->mask);
	free(w->grad);
	memset(w, 0, sizeof *w);
}

/* out(rows × n_out) = X · Wᵀ for sparse X, summing each element's products
 * in ascending column order as the dense gemm does. */
static void csr_times_wt(const struct kf_csr *x, size_t rows, const double *wl, size_t n_in, size_t n_out,
			 double *out)
{
	size_t r, j, k;

	for (r = 0; r < rows; r++)
		for (j = 0; j < n_out; j++) {
			const double *wj = wl + j * n_in;
			double s = 0;

			for (k = x->ptr[r]; k < x->ptr[r + 1]; k++)
				s += x->val[k] * wj[x->idx[k]];
			out[r * n_out + j] = s;
		}
}

/* Forward pass: act[L] holds the raw output scores (logits or values). */
static void forward(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		    const double *x, const struct kf_csr *sp, size_t rows, const uint64_t *row_seed)
{
	size_t l, i, j;

	for (l = 0; l < nn->n_layers; l++) {
		const double *in = l == 0 ? x : w->act[l];
		size_t n_in = nn->sizes[l], n_out = nn->sizes[l + 1];
		const double *wl = layer_w(nn, nn->params, l), *bl = wl + n_out * n_in;
		bool hidden = l + 1 < nn->n_layers;

		/* act = in · Wᵀ + b */
		if (l == 0 && sp)
			csr_times_wt(sp, rows, wl, n_in, n_out, w->act[1]);
		else
			kf_dense_gemm(d, false, true, rows, n_out, n_in, 1.0, in, wl, 0.0, w->act[l + 1]);
		kf_dense_bias_act(d, w->act[l + 1], rows, n_out, bl, hidden ? KF_ACT_RELU : KF_ACT_NONE);
		if (hidden && row_seed && nn->dropout > 0) {
			double keep = 1 - nn->dropout, *a = w->act[l + 1], *m = w->mask[l + 1];

			/* One generator per row and layer: a row gets the same mask
			 * whichever worker or batch position computes it. */
			for (i = 0; i < rows; i++) {
				struct kf_rng rng;

				kf_rng_seed(&rng, row_seed[i] * 31 + l);
				for (j = 0; j < n_out; j++) {
					m[i * n_out + j] = kf_rng_uniform(&rng) < keep ? 1 / keep : 0;
					a[i * n_out + j] *= m[i * n_out + j];
				}
			}
		}
	}
}

/* Scores -> outputs in place; returns the summed loss when y is given. */
static double head_out(const struct kf_nn *nn, double *s, const double *y, size_t rows, double *grad)
{
	size_t k = kf_nn_outputs(nn), i, j;
	double loss = 0;

	for (i = 0; i < rows; i++) {
		double *si = s + i * k, *gi = grad ? grad + i * k : NULL;

		if (nn->head == KF_NN_LOGISTIC) {
			double z = si[0], p = 1 / (1 + exp(-z));

			if (y) /* log(1 + e^z) - y·z, stable */
				loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y[i] * z;
			if (gi)
				gi[0] = p - y[i];
			si[0] = p;
		} else if (nn->head == KF_NN_SOFTMAX) {
			double mx = si[0], sum = 0;

			for (j = 1; j < k; j++)
				if (si[j] > mx)
					mx = si[j];
			for (j = 0; j < k; j++)
				sum += exp(si[j] - mx);
			if (y)
				loss += log(sum) + mx - si[(size_t)y[i]];
			for (j = 0; j < k; j++) {
				si[j] = exp(si[j] - mx) / sum;
				if (gi)
					gi[j] = si[j] - (j == (size_t)y[i]);
			}
		} else {
			if (y)
				loss += 0.5 * (si[0] - y[i]) * (si[0] - y[i]);
			if (gi)
				gi[0] = si[0] - y[i];
		}
	}
	return loss;
}

static void predict(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		    const double *x, const struct kf_csr *sp, size_t rows, double *out)
{
	size_t k = kf_nn_outputs(nn);

	forward(nn, d, w, x, sp, rows, NULL);
	memcpy(out, w->act[nn->n_layers], rows * k * sizeof *out);
	head_out(nn, out, NULL, rows, NULL);
}

static double l2_term(const struct kf_nn *nn)
{
	double s = 0;
	size_t l, i;

	if (nn->l2 == 0)
		return 0;
	for (l = 0; l < nn->n_layers; l++) {
		const double *wl = layer_w(nn, nn->params, l);

		for (i = 0; i < nn->sizes[l + 1] * nn->sizes[l]; i++)
			s += wl[i] * wl[i];
	}
	return 0.5 * nn->l2 * s;
}

static double loss_only(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
			const double *x, const struct kf_csr *sp, const double *y, size_t rows)
{
	forward(nn, d, w, x, sp, rows, NULL);
	return head_out(nn, w->act[nn->n_layers], y, rows, NULL) / (double)rows + l2_term(nn);
}

/* dW = alpha · deltaᵀ · X for sparse X, in the dense gemm's order. */
static void csr_grad(const struct kf_csr *x, size_t rows, const double *delta, size_t n_out, size_t n_in,
		     double alpha, double *gw)
{
	size_t r, j, k;

	memset(gw, 0, n_out * n_in * sizeof *gw);
	for (r = 0; r < rows; r++)
		for (j = 0; j < n_out; j++) {
			double a = delta[r * n_out + j];
			double *gj = gw + j * n_in;

			if (a == 0)
				continue;
			a *= alpha;
			for (k = x->ptr[r]; k < x->ptr[r + 1]; k++)
				gj[x->idx[k]] += a * x->val[k];
		}
}

static double loss_grad(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
			const double *x, const struct kf_csr *sp, const double *y, size_t rows,
			const uint64_t *row_seed)
{
	size_t L = nn->n_layers, l, i;
	double loss;

	forward(nn, d, w, x, sp, rows, row_seed);
	loss = head_out(nn, w->act[L], y, rows, w->delta[L]) / (double)rows;
	for (l = L; l-- > 0;) {
		size_t n_in = nn->sizes[l], n_out = nn->sizes[l + 1];
		const double *in = l == 0 ? x : w->act[l];
		double *gw = layer_w(nn, w->grad, l), *gb = gw + n_out * n_in;
		const double *wl = layer_w(nn, nn->params, l);
		const double *dl = w->delta[l + 1];

		/* dW = deltaᵀ · in / rows;  db = column sums / rows */
		if (l == 0 && sp)
			csr_grad(sp, rows, dl, n_out, n_in, 1.0 / (double)rows, gw);
		else
			kf_dense_gemm(d, true, false, n_out, n_in, rows, 1.0 / (double)rows, dl, in, 0.0, gw);
		for (i = 0; i < n_out; i++)
			gb[i] = 0;
		for (i = 0; i < rows * n_out; i++)
			gb[i % n_out] += dl[i];
		for (i = 0; i < n_out; i++)
			gb[i] /= (double)rows;
		if (nn->l2 != 0)
			for (i = 0; i < n_out * n_in; i++)
				gw[i] += nn->l2 * wl[i];
		if (l == 0)
			break;
		/* delta_l = delta_{l+1} · W ⊙ relu'(act_l) ⊙ mask */
		kf_dense_gemm(d, false, false, rows, n_in, n_out, 1.0, dl, wl, 0.0, w->delta[l]);
		kf_dense_act_grad(d, w->delta[l], w->act[l], rows * n_in, KF_ACT_RELU);
		if (row_seed && nn->dropout > 0)
			for (i = 0; i < rows * n_in; i++)
				w->delta[l][i] *= w->mask[l][i];
	}
	return loss + l2_term(nn);
}

void kf_nn_predict(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		   const double *x, size_t rows, double *out)
{
	predict(nn, d, w, x, NULL, rows, out);
}

double kf_nn_loss(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		  const double *x, const double *y, size_t rows)
{
	return loss_only(nn, d, w, x, NULL, y, rows);
}

double kf_nn_loss_grad(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		       const double *x, const double *y, size_t rows, const uint64_t *row_seed)
{
	return loss_grad(nn, d, w, x, NULL, y, rows, row_seed);
}

void kf_nn_predict_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		       const struct kf_csr *x, size_t rows, double *out)
{
	predict(nn, d, w, NULL, x, rows, out);
}

double kf_nn_loss_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
		      const struct kf_csr *x, const double *y, size_t rows)
{
	return loss_only(nn, d, w, NULL, x, y, rows);
}

double kf_nn_loss_grad_csr(const struct kf_nn *nn, struct kf_dense *d, struct kf_nn_work *w,
			   const struct kf_csr *x, const double *y, size_t rows, const uint64_t *row_seed)
{
	return loss_grad(nn, d, w, NULL, x, y, rows, row_seed);
}
