/* kf_dense: the dense math the built-in models run on, behind one small
 * interface with two implementations: the CPU one here (pthreads, a fixed
 * pool of workers; results independent of the thread count because every
 * output element is summed by one thread in one order) and the CUDA one in
 * lib/ml/cuda/ (built only with --with-cuda).
 *
 * Matrices are row-major doubles in host memory. The CUDA backend copies
 * operands to the device for each call: simple and exact rather than
 * fastest, and it keeps every model's code identical on both devices.
 *
 * A struct kf_dense is not shared between threads that call it at the same
 * time; each trainer or each serving worker opens its own. */
#ifndef KF_DENSE_H
#define KF_DENSE_H

#include <stdbool.h>
#include <stddef.h>

struct kf_err;

enum kf_act { KF_ACT_NONE, KF_ACT_RELU, KF_ACT_SIGMOID };

/* Adam's hyperparameters and step count (t starts at 1). */
struct kf_adam {
	double lr, beta1, beta2, eps, l2;
	long t;
};

struct kf_dense;

/* One backend's operations. Every operation is deterministic. */
struct kf_dense_ops {
	const char *name;
	/* C(m×n) = alpha · op(A) · op(B) + beta · C; op(X) is X or Xᵀ. */
	void (*gemm)(struct kf_dense *d, bool ta, bool tb, size_t m, size_t n, size_t k,
		     double alpha, const double *a, const double *b, double beta, double *c);
	/* X(rows×cols) += bias (per column), then the activation in place. */
	void (*bias_act)(struct kf_dense *d, double *x, size_t rows, size_t cols,
			 const double *bias, enum kf_act act);
	/* dX *= act'(Y) where Y is the activation's output. */
	void (*act_grad)(struct kf_dense *d, double *dx, const double *y, size_t n, enum kf_act act);
	/* One Adam step over n parameters (with L2 decay added to the gradient). */
	void (*adam)(struct kf_dense *d, double *w, const double *g, double *m, double *v,
		     size_t n, const struct kf_adam *p);
	void (*close)(struct kf_dense *d);
};

struct kf_dense {
	const struct kf_dense_ops *ops;
	int threads;
	void *impl;    /* the backend's own state */
};

/* device: "cpu" or "cuda". threads <= 0: all online cores (CPU only).
 * "cuda" without CUDA built in, or without a device, is KF_EENV. */
int kf_dense_open(struct kf_dense **out, const char *device, int threads, struct kf_err *err);
void kf_dense_close(struct kf_dense *d);

/* True when this build has CUDA and a device is present. */
bool kf_dense_cuda_available(void);

/* Shorthands for the ops. */
void kf_dense_gemm(struct kf_dense *d, bool ta, bool tb, size_t m, size_t n, size_t k,
		   double alpha, const double *a, const double *b, double beta, double *c);
void kf_dense_bias_act(struct kf_dense *d, double *x, size_t rows, size_t cols,
		       const double *bias, enum kf_act act);
void kf_dense_act_grad(struct kf_dense *d, double *dx, const double *y, size_t n, enum kf_act act);
void kf_dense_adam(struct kf_dense *d, double *w, const double *g, double *m, double *v,
		   size_t n, const struct kf_adam *p);

/* The CPU backend (also the reference the CUDA tests compare against). */
int kf_dense_cpu_open(struct kf_dense **out, int threads, struct kf_err *err);

#ifdef KF_HAVE_CUDA
/* lib/ml/cuda/kf_dense_cuda.cu */
int kf_dense_cuda_open(struct kf_dense **out, struct kf_err *err);
int kf_dense_cuda_device_count(void);
#endif

#endif
