/* kf_gp: Bayesian optimization with a Gaussian process.
 *
 * The objective is standardized; the kernel is Matern 5/2 (or RBF) with
 * one length scale per dimension, and a noise term. Its hyperparameters
 * maximize the log marginal likelihood over a small grid: a shared length
 * scale and noise level first, then each dimension's scale in turn
 * (coordinate search). Expected improvement (or PI, or LCB) is maximized
 * by random candidates around the best trials and across the cube, then a
 * local search from the best few. Failed trials are left out. */
#include "config.h"

#include "tune/kf_gp.h"

#include "tune/kf_prng.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gp {
	size_t n, d;
	const double *x;          /* n x d */
	double *y;                /* standardized */
	double *ls;               /* length scales, d */
	double noise;
	bool rbf;
	double *L;                /* Cholesky factor of K, n x n */
	double *alpha;            /* K^-1 y */
};

static double kern(const struct gp *g, const double *a, const double *b)
{
	double r2 = 0;

	for (size_t j = 0; j < g->d; j++) {
		double t = (a[j] - b[j]) / g->ls[j];

		r2 += t * t;
	}
	if (g->rbf)
		return exp(-0.5 * r2);
	double r = sqrt(5.0 * r2);

	return (1.0 + r + r * r / 3.0) * exp(-r);
}

/* Factor K + noise I; the log marginal likelihood, or -inf when K is not
 * positive definite. */
static double fit(struct gp *g)
{
	size_t n = g->n;
	double *L = g->L, lml = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j <= i; j++)
			L[i * n + j] = kern(g, g->x + i * g->d, g->x + j * g->d) + (i == j ? g->noise : 0);
	for (size_t j = 0; j < n; j++) {
		double s = L[j * n + j];

		for (size_t k = 0; k < j; k++)
			s -= L[j * n + k] * L[j * n + k];
		if (s <= 1e-12)
			return -INFINITY;
		L[j * n + j] = sqrt(s);
		for (size_t i = j + 1; i < n; i++) {
			double t = L[i * n + j];

			for (size_t k = 0; k < j; k++)
				t -= L[i * n + k] * L[j * n + k];
			L[i * n + j] = t / L[j * n + j];
		}
	}
	/* alpha = L^-T L^-1 y */
	for (size_t i = 0; i < n; i++) {
		double t = g->y[i];

		for (size_t k = 0; k < i; k++)
			t -= L[i * n + k] * g->alpha[k];
		g->alpha[i] = t / L[i * n + i];
	}
	for (size_t i = 0; i < n; i++)
		lml -= 0.5 * g->alpha[i] * g->alpha[i] + log(L[i * n + i]);
	for (size_t i = n; i-- > 0;) {
		double t = g->alpha[i];

		for (size_t k = i + 1; k < n; k++)
			t -= L[k * n + i] * g->alpha[k];
		g->alpha[i] = t / L[i * n + i];
	}
	return lml;
}

static void predict(const struct gp *g, const double *x, double *kv, double *mu, double *sd)
{
	size_t n = g->n;
	double m = 0, v;

	for (size_t i = 0; i < n; i++) {
		kv[i] = kern(g, x, g->x + i * g->d);
		m += kv[i] * g->alpha[i];
	}
	/* v = L^-1 k, variance = k(x,x) - v.v */
	v = 1.0;
	for (size_t i = 0; i < n; i++) {
		double t = kv[i];

		for (size_t k = 0; k < i; k++)
			t -= g->L[i * n + k] * kv[k];
		kv[i] = t / g->L[i * n + i];
		v -= kv[i] * kv[i];
	}
	*mu = m;
	*sd = sqrt(fmax(v, 1e-12));
}

static double norm_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

static double norm_pdf(double z)
{
	return exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

/* Acquisition to maximize. */
static double acquire(const struct gp *g, enum kf_acq acq, double best, const double *x, double *kv)
{
	double mu, sd, z;
	const double xi = 0.01;

	predict(g, x, kv, &mu, &sd);
	switch (acq) {
	case KF_ACQ_LCB:
		return -(mu - 1.96 * sd);
	case KF_ACQ_PI:
		return norm_cdf((best - mu - xi) / sd);
	default:
		z = (best - mu - xi) / sd;
		return (best - mu - xi) * norm_cdf(z) + sd * norm_pdf(z);
	}
}

static void fit_hyper(struct gp *g)
{
	static const double scales[] = { 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5, 2.5 };
	static const double noises[] = { 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.2 };
	static const double factors[] = { 0.35, 0.6, 1.6, 2.8 };
	double best = -INFINITY, best_ls = 0.3, best_noise = 1e-4;
	double *ls = g->ls;

	for (size_t a = 0; a < sizeof scales / sizeof *scales; a++)
		for (size_t b = 0; b < sizeof noises / sizeof *noises; b++) {
			double lml;

			for (size_t j = 0; j < g->d; j++)
				ls[j] = scales[a];
			g->noise = noises[b];
			lml = fit(g);
			if (lml > best) {
				best = lml;
				best_ls = scales[a];
				best_noise = noises[b];
			}
		}
	for (size_t j = 0; j < g->d; j++)
		ls[j] = best_ls;
	g->noise = best_noise;
	/* per-dimension scales, two rounds of coordinate search */
	for (int round = 0; round < 2 && g->d > 1; round++)
		for (size_t j = 0; j < g->d; j++) {
			double keep = ls[j], pick = keep;

			for (size_t f = 0; f < sizeof factors / sizeof *factors; f++) {
				double lml;

				ls[j] = fmin(fmax(keep * factors[f], 0.01), 20.0);
				lml = fit(g);
				if (lml > best) {
					best = lml;
					pick = ls[j];
				}
			}
			ls[j] = pick;
		}
	fit(g);
}

void kf_gp_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u)
{
	size_t d = a->d, m = 0, ncand = 1000, nlocal = 5;
	struct kf_prng rng;
	struct gp g = { .d = d, .rbf = a->rbf };
	double *x, *kv, *cand, *score, mean = 0, var = 0, sd, best = INFINITY;
	size_t *top;

	kf_prng_seed(&rng, a->seed, n);
	for (size_t i = 0; i < n; i++)
		m += hist[i].state == KF_OBS_DONE && isfinite(hist[i].y);
	if (m < (size_t)a->n_initial || m < 2) {
		for (size_t j = 0; j < d; j++)
			u[j] = kf_prng_uniform(&rng);
		return;
	}
	x = kf_xcalloc(m * d, sizeof *x);
	g.y = kf_xcalloc(m, sizeof *g.y);
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (hist[i].state == KF_OBS_DONE && isfinite(hist[i].y)) {
			memcpy(x + m * d, hist[i].u, d * sizeof *x);
			g.y[m++] = hist[i].y;
		}
	for (size_t i = 0; i < m; i++)
		mean += g.y[i];
	mean /= (double)m;
	for (size_t i = 0; i < m; i++)
		var += (g.y[i] - mean) * (g.y[i] - mean);
	sd = sqrt(var / (double)m);
	if (!(sd > 0))
		sd = 1;
	for (size_t i = 0; i < m; i++) {
		g.y[i] = (g.y[i] - mean) / sd;
		if (g.y[i] < best)
			best = g.y[i];
	}
	g.n = m;
	g.x = x;
	g.ls = kf_xcalloc(d, sizeof *g.ls);
	g.L = kf_xcalloc(m * m, sizeof *g.L);
	g.alpha = kf_xcalloc(m, sizeof *g.alpha);
	fit_hyper(&g);

	kv = kf_xcalloc(m, sizeof *kv);
	cand = kf_xcalloc(ncand * d, sizeof *cand);
	score = kf_xcalloc(ncand, sizeof *score);
	top = kf_xcalloc(nlocal, sizeof *top);
	/* half uniform, half around the best observed points */
	for (size_t c = 0; c < ncand; c++) {
		double *p = cand + c * d;

		if (c % 2 == 0) {
			for (size_t j = 0; j < d; j++)
				p[j] = kf_prng_uniform(&rng);
		} else {
			size_t k = 0;

			for (size_t i = 1; i < m; i++)
				if (g.y[i] < g.y[k] || (kf_prng_uniform(&rng) < 0.15 && g.y[i] < 0))
					k = i;
			for (size_t j = 0; j < d; j++) {
				double v = x[k * d + j] + g.ls[j] * 0.3 * kf_prng_normal(&rng);

				p[j] = v < 0 ? 0 : v > 1 ? 1 : v;
			}
		}
		score[c] = acquire(&g, a->acq, best, p, kv);
	}
	for (size_t t = 0; t < nlocal; t++) {
		size_t bi = 0;
		double bs = -INFINITY;

		for (size_t c = 0; c < ncand; c++)
			if (score[c] > bs) {
				bool taken = false;

				for (size_t q = 0; q < t; q++)
					taken |= top[q] == c;
				if (!taken) {
					bs = score[c];
					bi = c;
				}
			}
		top[t] = bi;
	}
	/* local search: Gaussian steps that shrink on failure */
	double *y = kf_xcalloc(d, sizeof *y), overall = -INFINITY;

	for (size_t t = 0; t < nlocal; t++) {
		double *p = cand + top[t] * d, cur = score[top[t]], step = 0.05;

		for (int it = 0; it < 40; it++) {
			double s;

			for (size_t j = 0; j < d; j++) {
				double v = p[j] + step * kf_prng_normal(&rng);

				y[j] = v < 0 ? 0 : v > 1 ? 1 : v;
			}
			s = acquire(&g, a->acq, best, y, kv);
			if (s > cur) {
				cur = s;
				memcpy(p, y, d * sizeof *p);
				step *= 1.3;
			} else {
				step *= 0.8;
			}
		}
		if (cur > overall) {
			overall = cur;
			for (size_t j = 0; j < d; j++)
				u[j] = p[j] >= 1 ? nextafter(1.0, 0.0) : p[j];
		}
	}
	free(y);
	free(top);
	free(score);
	free(cand);
	free(kv);
	free(g.alpha);
	free(g.L);
	free(g.ls);
	free(g.y);
	free(x);
}
