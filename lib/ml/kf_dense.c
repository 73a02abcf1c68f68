/* kf_dense: the CPU backend (a small pthread pool) and the device switch. */
#include "config.h"

#include "ml/kf_dense.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Below this many multiply-adds a gemm runs on the calling thread: waking
 * the pool costs more than it saves. */
#define PAR_MIN_WORK 65536

/* A parallel-for over chunks [0, n): workers and the caller take chunk
 * indices from a shared counter until none is left. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	pthread_t *tids;
	int n_threads;           /* workers, not counting the caller */
	unsigned long generation;
	bool stop;
	void (*fn)(void *arg, size_t chunk);
	void *arg;
	size_t n_chunks, next, finished;
};

static void pool_drain(struct pool *p)
{
	for (;;) {
		size_t c;

		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n_chunks) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		c = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg, c);
		pthread_mutex_lock(&p->mu);
		if (++p->finished == p->n_chunks)
			pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	unsigned long seen = 0;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->generation == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->generation;
		pthread_mutex_unlock(&p->mu);
		pool_drain(p);
	}
}

static void pool_run(struct pool *p, size_t n_chunks, void (*fn)(void *, size_t), void *arg)
{
	size_t c;

	if (!p || p->n_threads == 0 || n_chunks < 2) {
		for (c = 0; c < n_chunks; c++)
			fn(arg, c);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n_chunks = n_chunks;
	p->next = 0;
	p->finished = 0;
	p->generation++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	pool_drain(p);
	pthread_mutex_lock(&p->mu);
	while (p->finished < p->n_chunks)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static struct pool *pool_new(int threads)
{
	struct pool *p = kf_xcalloc(1, sizeof *p);
	int i;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->tids = kf_xcalloc((size_t)threads, sizeof *p->tids);
	for (i = 0; i < threads - 1; i++) {
		if (pthread_create(&p->tids[i], NULL, pool_worker, p) != 0)
			break;
		p->n_threads++;
	}
	return p;
}

static void pool_free(struct pool *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->tids[i], NULL);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->tids);
	free(p);
}

/* ---- gemm ------------------------------------------------------------ */

struct gemm_job {
	bool ta, tb;
	size_t m, n, k;
	double alpha, beta;
	const double *a, *b;
	double *c;
	size_t chunks;
	bool by_rows;   /* split C by rows, else by columns */
};

/* One block of C. Each element's sum runs over p in ascending order, in one
 * thread, so the result does not depend on how C was split. */
static void gemm_block(const struct gemm_job *g, size_t i0, size_t i1, size_t j0, size_t j1)
{
	size_t i, j, p, m = g->m, n = g->n, k = g->k;

	for (i = i0; i < i1; i++) {
		double *ci = g->c + i * n;

		for (j = j0; j < j1; j++)
			ci[j] = g->beta == 0 ? 0 : g->beta * ci[j];
		if (!g->tb) {
			for (p = 0; p < k; p++) {
				double aip = g->ta ? g->a[p * m + i] : g->a[i * k + p];
				const double *bp = g->b + p * n;

				if (aip == 0)
					continue;
				aip *= g->alpha;
				for (j = j0; j < j1; j++)
					ci[j] += aip * bp[j];
			}
		} else {
			for (j = j0; j < j1; j++) {
				const double *bj = g->b + j * k;
				double s = 0;

				if (g->ta)
					for (p = 0; p < k; p++)
						s += g->a[p * m + i] * bj[p];
				else
					for (p = 0; p < k; p++)
						s += g->a[i * k + p] * bj[p];
				ci[j] += g->alpha * s;
			}
		}
	}
}

static void gemm_chunk(void *arg, size_t chunk)
{
	const struct gemm_job *g = arg;
	size_t len = g->by_rows ? g->m : g->n;
	size_t lo = len * chunk / g->chunks, hi = len * (chunk + 1) / g->chunks;

	if (g->by_rows)
		gemm_block(g, lo, hi, 0, g->n);
	else
		gemm_block(g, 0, g->m, lo, hi);
}

static void cpu_gemm(struct kf_dense *d, bool ta, bool tb, size_t m, size_t n, size_t k,
		     double alpha, const double *a, const double *b, double beta, double *c)
{
	struct gemm_job g = { ta, tb, m, n, k, alpha, beta, a, b, c, 1, true };
	size_t work = m * n * (k ? k : 1);

	if (d->threads > 1 && work >= PAR_MIN_WORK) {
		g.by_rows = m >= (size_t)d->threads || m >= n;
		g.chunks = (size_t)d->threads * 4;
		if (g.chunks > (g.by_rows ? m : n))
			g.chunks = g.by_rows ? m : n;
	}
	pool_run(d->impl, g.chunks, gemm_chunk, &g);
}

/* ---- element-wise ------------------------------------------------------ */

static void cpu_bias_act(struct kf_dense *d, double *x, size_t rows, size_t cols,
			 const double *bias, enum kf_act act)
{
	size_t i, j;

	(void)d;
	for (i = 0; i < rows; i++) {
		double *xi = x + i * cols;

		for (j = 0; j < cols; j++) {
			double v = xi[j] + (bias ? bias[j] : 0);

			if (act == KF_ACT_RELU)
				v = v > 0 ? v : 0;
			else if (act == KF_ACT_SIGMOID)
				v = 1 / (1 + exp(-v));
			xi[j] = v;
		}
	}
}

static void cpu_act_grad(struct kf_dense *d, double *dx, const double *y, size_t n, enum kf_act act)
{
	size_t i;

	(void)d;
	for (i = 0; i < n; i++) {
		if (act == KF_ACT_RELU)
			dx[i] = y[i] > 0 ? dx[i] : 0;
		else if (act == KF_ACT_SIGMOID)
			dx[i] *= y[i] * (1 - y[i]);
	}
}

static void cpu_adam(struct kf_dense *d, double *w, const double *g, double *m, double *v,
		     size_t n, const struct kf_adam *p)
{
	double c1 = 1 - pow(p->beta1, (double)p->t), c2 = 1 - pow(p->beta2, (double)p->t);
	size_t i;

	(void)d;
	for (i = 0; i < n; i++) {
		double gi = g[i] + p->l2 * w[i];

		m[i] = p->beta1 * m[i] + (1 - p->beta1) * gi;
		v[i] = p->beta2 * v[i] + (1 - p->beta2) * gi * gi;
		w[i] -= p->lr * (m[i] / c1) / (sqrt(v[i] / c2) + p->eps);
	}
}

static void cpu_close(struct kf_dense *d)
{
	pool_free(d->impl);
}

static const struct kf_dense_ops cpu_ops = {
	.name = "cpu",
	.gemm = cpu_gemm,
	.bias_act = cpu_bias_act,
	.act_grad = cpu_act_grad,
	.adam = cpu_adam,
	.close = cpu_close,
};

int kf_dense_cpu_open(struct kf_dense **out, int threads, struct kf_err *err)
{
	struct kf_dense *d = kf_xcalloc(1, sizeof *d);

	(void)err;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (int)n : 1;
	}
	if (threads > 256)
		threads = 256;
	d->ops = &cpu_ops;
	d->threads = threads;
	d->impl = threads > 1 ? pool_new(threads) : NULL;
	*out = d;
	return 0;
}

bool kf_dense_cuda_available(void)
{
#ifdef KF_HAVE_CUDA
	return kf_dense_cuda_device_count() > 0;
#else
	return false;
#endif
}

int kf_dense_open(struct kf_dense **out, const char *device, int threads, struct kf_err *err)
{
	*out = NULL;
	if (!device || !strcmp(device, "cpu"))
		return kf_dense_cpu_open(out, threads, err);
	if (strcmp(device, "cuda") != 0)
		return kf_err_set(err, KF_EUSAGE, "unknown device \"%s\" (expected cpu or cuda)", device);
#ifdef KF_HAVE_CUDA
	if (kf_dense_cuda_device_count() <= 0)
		return kf_err_set(err, KF_EENV, "--device cuda: no CUDA device found");
	return kf_dense_cuda_open(out, err);
#else
	return kf_err_set(err, KF_EENV, "--device cuda: this kf was built without CUDA (configure --with-cuda)");
#endif
}

void kf_dense_close(struct kf_dense *d)
{
	if (!d)
		return;
	if (d->ops->close)
		d->ops->close(d);
	free(d);
}

void kf_dense_gemm(struct kf_dense *d, bool ta, bool tb, size_t m, size_t n, size_t k,
		   double alpha, const double *a, const double *b, double beta, double *c)
{
	if (m == 0 || n == 0)
		return;
	d->ops->gemm(d, ta, tb, m, n, k, alpha, a, b, beta, c);
}

void kf_dense_bias_act(struct kf_dense *d, double *x, size_t rows, size_t cols,
		       const double *bias, enum kf_act act)
{
	d->ops->bias_act(d, x, rows, cols, bias, act);
}

void kf_dense_act_grad(struct kf_dense *d, double *dx, const double *y, size_t n, enum kf_act act)
{
	d->ops->act_grad(d, dx, y, n, act);
}

void kf_dense_adam(struct kf_dense *d, double *w, const double *g, double *m, double *v,
		   size_t n, const struct kf_adam *p)
{
	d->ops->adam(d, w, g, m, v, n, p);
}
