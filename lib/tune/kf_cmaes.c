/* kf_cmaes: CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial"),
 * full covariance with cumulative step-size adaptation, in the unit cube.
 *
 * The state is replayed from the history on every call: generation g's
 * lambda samples come from the generator seeded with (random_state, g),
 * and a generation is told once all its trials have finished, so the same
 * history always gives the same next point. Samples outside the cube are
 * drawn again (up to ten times) and then clipped; failed trials rank last. */
#include "config.h"

#include "tune/kf_cmaes.h"

#include "tune/kf_prng.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cma {
	size_t d, lambda, mu;
	double *w, mueff, cc, cs, c1, cmu, damps, chin;
	double *m, sigma, *C, *B, *D, *pc, *ps;
	double *x, *z;            /* this generation's samples, lambda x d */
};

/* Eigen-decomposition of the symmetric C (Jacobi rotations): C = B diag(D^2) B^T. */
static void eigen(struct cma *c)
{
	size_t d = c->d;
	double *A = kf_xcalloc(d * d, sizeof *A), *V = c->B;

	memcpy(A, c->C, d * d * sizeof *A);
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < d; j++)
			V[i * d + j] = i == j;
	for (int sweep = 0; sweep < 60; sweep++) {
		double off = 0;

		for (size_t p = 0; p < d; p++)
			for (size_t q = p + 1; q < d; q++)
				off += A[p * d + q] * A[p * d + q];
		if (off < 1e-22)
			break;
		for (size_t p = 0; p < d; p++)
			for (size_t q = p + 1; q < d; q++) {
				double apq = A[p * d + q], th, t, cs, sn;

				if (fabs(apq) < 1e-300)
					continue;
				th = (A[q * d + q] - A[p * d + p]) / (2 * apq);
				t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
				cs = 1 / sqrt(t * t + 1);
				sn = t * cs;
				for (size_t k = 0; k < d; k++) {
					double akp = A[k * d + p], akq = A[k * d + q];

					A[k * d + p] = cs * akp - sn * akq;
					A[k * d + q] = sn * akp + cs * akq;
				}
				for (size_t k = 0; k < d; k++) {
					double apk = A[p * d + k], aqk = A[q * d + k];

					A[p * d + k] = cs * apk - sn * aqk;
					A[q * d + k] = sn * apk + cs * aqk;
				}
				for (size_t k = 0; k < d; k++) {
					double vkp = V[k * d + p], vkq = V[k * d + q];

					V[k * d + p] = cs * vkp - sn * vkq;
					V[k * d + q] = sn * vkp + cs * vkq;
				}
			}
	}
	for (size_t i = 0; i < d; i++)
		c->D[i] = sqrt(fmax(A[i * d + i], 1e-20));
	free(A);
}

static void cma_init(struct cma *c, size_t d, double sigma)
{
	double sw = 0, sw2 = 0;

	c->d = d;
	c->lambda = 4 + (size_t)floor(3 * log((double)d));
	c->mu = c->lambda / 2;
	c->w = kf_xcalloc(c->mu, sizeof *c->w);
	for (size_t i = 0; i < c->mu; i++) {
		c->w[i] = log((double)c->mu + 0.5) - log((double)i + 1);
		sw += c->w[i];
	}
	for (size_t i = 0; i < c->mu; i++) {
		c->w[i] /= sw;
		sw2 += c->w[i] * c->w[i];
	}
	c->mueff = 1 / sw2;
	double n = (double)d;

	c->cc = (4 + c->mueff / n) / (n + 4 + 2 * c->mueff / n);
	c->cs = (c->mueff + 2) / (n + c->mueff + 5);
	c->c1 = 2 / ((n + 1.3) * (n + 1.3) + c->mueff);
	c->cmu = fmin(1 - c->c1, 2 * (c->mueff - 2 + 1 / c->mueff) / ((n + 2) * (n + 2) + c->mueff));
	c->damps = 1 + 2 * fmax(0, sqrt((c->mueff - 1) / (n + 1)) - 1) + c->cs;
	c->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
	c->m = kf_xcalloc(d, sizeof *c->m);
	c->C = kf_xcalloc(d * d, sizeof *c->C);
	c->B = kf_xcalloc(d * d, sizeof *c->B);
	c->D = kf_xcalloc(d, sizeof *c->D);
	c->pc = kf_xcalloc(d, sizeof *c->pc);
	c->ps = kf_xcalloc(d, sizeof *c->ps);
	c->x = kf_xcalloc(c->lambda * d, sizeof *c->x);
	c->z = kf_xcalloc(c->lambda * d, sizeof *c->z);
	for (size_t i = 0; i < d; i++) {
		c->m[i] = 0.5;
		c->C[i * d + i] = 1;
		c->B[i * d + i] = 1;
		c->D[i] = 1;
	}
	c->sigma = sigma;
}

static void cma_release(struct cma *c)
{
	free(c->w);
	free(c->m);
	free(c->C);
	free(c->B);
	free(c->D);
	free(c->pc);
	free(c->ps);
	free(c->x);
	free(c->z);
}

/* Draw generation g: x = m + sigma B D z, inside the cube. */
static void sample(struct cma *c, uint64_t seed, size_t g)
{
	size_t d = c->d;
	struct kf_prng rng;
	double *y = kf_xcalloc(d, sizeof *y);

	kf_prng_seed(&rng, seed, 0xc3a0000 + g);
	for (size_t k = 0; k < c->lambda; k++) {
		double *x = c->x + k * d;
		bool inside = false;

		for (int tries = 0; tries < 10 && !inside; tries++) {
			for (size_t j = 0; j < d; j++)
				c->z[k * d + j] = kf_prng_normal(&rng);
			inside = true;
			for (size_t i = 0; i < d; i++) {
				double s = 0;

				for (size_t j = 0; j < d; j++)
					s += c->B[i * d + j] * c->D[j] * c->z[k * d + j];
				y[i] = s;
				x[i] = c->m[i] + c->sigma * s;
				inside &= x[i] >= 0 && x[i] < 1;
			}
		}
		for (size_t i = 0; i < d; i++)
			x[i] = x[i] < 0 ? 0 : x[i] >= 1 ? nextafter(1.0, 0.0) : x[i];
	}
	free(y);
}

struct rank {
	size_t k;
	double y;
	bool ok;
};

static int cmp_rank(const void *pa, const void *pb)
{
	const struct rank *a = pa, *b = pb;

	if (a->ok != b->ok)
		return a->ok ? -1 : 1;
	if (a->ok && a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return a->k < b->k ? -1 : a->k > b->k;
}

/* Update from one finished generation (obs[k] is sample k). */
static void tell(struct cma *c, const struct kf_obs *obs, size_t g)
{
	size_t d = c->d, lam = c->lambda;
	struct rank *r = kf_xcalloc(lam, sizeof *r);
	double *old = kf_xcalloc(d, sizeof *old), *yw = kf_xcalloc(d, sizeof *yw);
	double *t = kf_xcalloc(d, sizeof *t), *ysel = kf_xcalloc(c->mu * d, sizeof *ysel);
	double psn = 0, hsig;

	for (size_t k = 0; k < lam; k++)
		r[k] = (struct rank){ k, obs[k].y, obs[k].state == KF_OBS_DONE && isfinite(obs[k].y) };
	qsort(r, lam, sizeof *r, cmp_rank);
	memcpy(old, c->m, d * sizeof *old);
	/* steps of the selected samples, from the (clipped) points actually run */
	for (size_t i = 0; i < c->mu; i++)
		for (size_t j = 0; j < d; j++)
			ysel[i * d + j] = (c->x[r[i].k * d + j] - old[j]) / c->sigma;
	for (size_t j = 0; j < d; j++) {
		yw[j] = 0;
		for (size_t i = 0; i < c->mu; i++)
			yw[j] += c->w[i] * ysel[i * d + j];
		c->m[j] = old[j] + c->sigma * yw[j];
	}
	/* C^-1/2 yw = B D^-1 B^T yw */
	for (size_t j = 0; j < d; j++) {
		double s = 0;

		for (size_t i = 0; i < d; i++)
			s += c->B[i * d + j] * yw[i];
		t[j] = s / c->D[j];
	}
	for (size_t i = 0; i < d; i++) {
		double s = 0;

		for (size_t j = 0; j < d; j++)
			s += c->B[i * d + j] * t[j];
		c->ps[i] = (1 - c->cs) * c->ps[i] + sqrt(c->cs * (2 - c->cs) * c->mueff) * s;
		psn += c->ps[i] * c->ps[i];
	}
	psn = sqrt(psn);
	hsig = psn / sqrt(1 - pow(1 - c->cs, 2.0 * (double)(g + 1))) / c->chin < 1.4 + 2 / ((double)d + 1);
	for (size_t i = 0; i < d; i++)
		c->pc[i] = (1 - c->cc) * c->pc[i] + hsig * sqrt(c->cc * (2 - c->cc) * c->mueff) * yw[i];
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < d; j++) {
			double rank_mu = 0;

			for (size_t k = 0; k < c->mu; k++)
				rank_mu += c->w[k] * ysel[k * d + i] * ysel[k * d + j];
			c->C[i * d + j] = (1 - c->c1 - c->cmu) * c->C[i * d + j] +
					  c->c1 * (c->pc[i] * c->pc[j] +
						   (1 - hsig) * c->cc * (2 - c->cc) * c->C[i * d + j]) +
					  c->cmu * rank_mu;
		}
	c->sigma *= exp((c->cs / c->damps) * (psn / c->chin - 1));
	c->sigma = fmin(fmax(c->sigma, 1e-12), 1.0);
	eigen(c);
	free(ysel);
	free(t);
	free(yw);
	free(old);
	free(r);
}

int kf_cmaes_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u)
{
	struct cma c;
	int rc = KF_SUGGEST_WAIT;

	cma_init(&c, a->d, a->sigma > 0 ? a->sigma : 1.0 / 6.0);
	for (size_t g = 0;; g++) {
		size_t first = g * c.lambda;
		bool finished = true;

		sample(&c, a->seed, g);
		if (n < first + c.lambda) {
			memcpy(u, c.x + (n - first) * a->d, a->d * sizeof *u);
			rc = KF_SUGGEST_OK;
			break;
		}
		for (size_t k = 0; k < c.lambda; k++)
			finished &= hist[first + k].state != KF_OBS_PENDING;
		if (!finished)
			break;
		tell(&c, hist + first, g);
	}
	cma_release(&c);
	return rc;
}
