/* kf_dense_cuda: the CUDA backend of kf_dense (built only with --with-cuda).
 *
 * Operands live in host memory (the interface's contract); each call copies
 * them into device buffers that grow and are reused, runs one kernel and
 * copies the result back. Every output element is computed by one thread
 * summing in ascending order, so results are deterministic and match the
 * CPU backend within rounding (the unit tests use one tolerance for both). */
extern "C" {
#include "config.h"

#include "ml/kf_dense.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
}

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TILE 16

struct cuda_impl {
	double *buf[4];
	size_t cap[4];
};

/* Device buffer slot k holding at least n doubles. */
static double *dbuf(struct kf_dense *d, int k, size_t n)
{
	struct cuda_impl *c = (struct cuda_impl *)d->impl;

	if (n == 0)
		n = 1;
	if (c->cap[k] < n) {
		cudaFree(c->buf[k]);
		c->buf[k] = NULL;
		if (cudaMalloc((void **)&c->buf[k], n * sizeof(double)) != cudaSuccess) {
			fprintf(stderr, "kf: fatal: cudaMalloc of %zu bytes failed\n", n * sizeof(double));
			abort();
		}
		c->cap[k] = n;
	}
	return c->buf[k];
}

static void up(double *dst, const double *src, size_t n)
{
	cudaMemcpy(dst, src, n * sizeof(double), cudaMemcpyHostToDevice);
}

static void down(double *dst, const double *src, size_t n)
{
	cudaMemcpy(dst, src, n * sizeof(double), cudaMemcpyDeviceToHost);
}

__global__ void k_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, double alpha,
		       const double *a, const double *b, double beta, double *c)
{
	__shared__ double as[TILE][TILE], bs[TILE][TILE];
	size_t i = blockIdx.y * TILE + threadIdx.y, j = blockIdx.x * TILE + threadIdx.x;
	double s = 0;

	for (size_t t = 0; t < k; t += TILE) {
		size_t pa = t + threadIdx.x, pb = t + threadIdx.y;

		as[threadIdx.y][threadIdx.x] = (i < m && pa < k) ? (ta ? a[pa * m + i] : a[i * k + pa]) : 0.0;
		bs[threadIdx.y][threadIdx.x] = (j < n && pb < k) ? (tb ? b[j * k + pb] : b[pb * n + j]) : 0.0;
		__syncthreads();
		for (int p = 0; p < TILE; p++)
			s += as[threadIdx.y][p] * bs[p][threadIdx.x];
		__syncthreads();
	}
	if (i < m && j < n)
		c[i * n + j] = alpha * s + (beta == 0 ? 0.0 : beta * c[i * n + j]);
}

__global__ void k_bias_act(double *x, size_t rows, size_t cols, const double *bias, int has_bias, int act)
{
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	if (t >= rows * cols)
		return;
	double v = x[t] + (has_bias ? bias[t % cols] : 0.0);

	if (act == KF_ACT_RELU)
		v = v > 0 ? v : 0;
	else if (act == KF_ACT_SIGMOID)
		v = 1 / (1 + exp(-v));
	x[t] = v;
}

__global__ void k_act_grad(double *dx, const double *y, size_t n, int act)
{
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	if (t >= n)
		return;
	if (act == KF_ACT_RELU)
		dx[t] = y[t] > 0 ? dx[t] : 0;
	else if (act == KF_ACT_SIGMOID)
		dx[t] *= y[t] * (1 - y[t]);
}

__global__ void k_adam(double *w, const double *g, double *m, double *v, size_t n, double lr,
		       double b1, double b2, double eps, double l2, double c1, double c2)
{
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	if (t >= n)
		return;
	double gi = g[t] + l2 * w[t];

	m[t] = b1 * m[t] + (1 - b1) * gi;
	v[t] = b2 * v[t] + (1 - b2) * gi * gi;
	w[t] -= lr * (m[t] / c1) / (sqrt(v[t] / c2) + eps);
}

static unsigned blocks(size_t n)
{
	return (unsigned)((n + 255) / 256);
}

static void cu_gemm(struct kf_dense *d, bool ta, bool tb, size_t m, size_t n, size_t k,
		    double alpha, const double *a, const double *b, double beta, double *c)
{
	double *da = dbuf(d, 0, m * k), *db = dbuf(d, 1, k * n), *dc = dbuf(d, 2, m * n);
	dim3 threads(TILE, TILE), grid((unsigned)((n + TILE - 1) / TILE), (unsigned)((m + TILE - 1) / TILE));

	up(da, a, m * k);
	up(db, b, k * n);
	if (beta != 0)
		up(dc, c, m * n);
	k_gemm<<<grid, threads>>>(ta, tb, m, n, k, alpha, da, db, beta, dc);
	down(c, dc, m * n);
}

static void cu_bias_act(struct kf_dense *d, double *x, size_t rows, size_t cols,
			const double *bias, enum kf_act act)
{
	double *dx = dbuf(d, 0, rows * cols), *dbias = dbuf(d, 1, cols);

	up(dx, x, rows * cols);
	if (bias)
		up(dbias, bias, cols);
	k_bias_act<<<blocks(rows * cols), 256>>>(dx, rows, cols, dbias, bias != NULL, (int)act);
	down(x, dx, rows * cols);
}

static void cu_act_grad(struct kf_dense *d, double *dx, const double *y, size_t n, enum kf_act act)
{
	double *ddx = dbuf(d, 0, n), *dy = dbuf(d, 1, n);

	up(ddx, dx, n);
	up(dy, y, n);
	k_act_grad<<<blocks(n), 256>>>(ddx, dy, n, (int)act);
	down(dx, ddx, n);
}

static void cu_adam(struct kf_dense *d, double *w, const double *g, double *m, double *v,
		    size_t n, const struct kf_adam *p)
{
	double *dw = dbuf(d, 0, n), *dg = dbuf(d, 1, n), *dm = dbuf(d, 2, n), *dv = dbuf(d, 3, n);
	double c1 = 1 - pow(p->beta1, (double)p->t), c2 = 1 - pow(p->beta2, (double)p->t);

	up(dw, w, n);
	up(dg, g, n);
	up(dm, m, n);
	up(dv, v, n);
	k_adam<<<blocks(n), 256>>>(dw, dg, dm, dv, n, p->lr, p->beta1, p->beta2, p->eps, p->l2, c1, c2);
	down(w, dw, n);
	down(m, dm, n);
	down(v, dv, n);
}

static void cu_close(struct kf_dense *d)
{
	struct cuda_impl *c = (struct cuda_impl *)d->impl;

	for (int k = 0; k < 4; k++)
		cudaFree(c->buf[k]);
	free(c);
}

static const struct kf_dense_ops cuda_ops = {
	"cuda", cu_gemm, cu_bias_act, cu_act_grad, cu_adam, cu_close,
};

extern "C" int kf_dense_cuda_device_count(void)
{
	int n = 0;

	if (cudaGetDeviceCount(&n) != cudaSuccess)
		return 0;
	return n;
}

extern "C" int kf_dense_cuda_open(struct kf_dense **out, struct kf_err *err)
{
	struct kf_dense *d;

	if (kf_dense_cuda_device_count() <= 0)
		return kf_err_set(err, KF_EENV, "--device cuda: no CUDA device found");
	d = (struct kf_dense *)kf_xcalloc(1, sizeof *d);
	d->ops = &cuda_ops;
	d->threads = 1;
	d->impl = kf_xcalloc(1, sizeof(struct cuda_impl));
	*out = d;
	return 0;
}
