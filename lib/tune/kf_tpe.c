/* kf_tpe: Tree-structured Parzen Estimator (Bergstra et al. 2011), in its
 * multivariate form (Falkner et al. 2018): the finished trials are split
 * at the gamma quantile into good and bad; each set becomes a Parzen
 * density, a product of truncated normals per trial plus a wide prior;
 * candidates drawn from the good density are ranked by l(x) / g(x), which
 * orders them as expected improvement does.
 *
 * Bandwidths adapt per point and dimension, as in Hyperopt and Optuna:
 * the distance to the farther of its two neighbours along that dimension,
 * clipped to [1 / min(100, 1 + m), 1] of the range (m points). A
 * categorical dimension has no order: there a point's kernel is a
 * categorical distribution, its own value with weight 1 and every value
 * with weight CAT_PRIOR / k, normalized; the prior is uniform. */
#include "config.h"

#include "tune/kf_tpe.h"

#include "tune/kf_prng.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIOR_MU 0.5
#define PRIOR_SIGMA 1.0
#define CAT_PRIOR 1.0

/* A Parzen estimator over m points in d dimensions: means mu[i*d + j],
 * bandwidths sg[i*d + j], then the prior as component m. */
struct parzen {
	size_t m, d;
	const size_t *ncat;       /* values of categorical dimensions, 0 for the others */
	double *mu, *sg;
	double w_point, w_prior;  /* weights (normalized) */
};

struct done {
	const double *u;
	double y;
	size_t idx;
};

static int cmp_done(const void *pa, const void *pb)
{
	const struct done *a = pa, *b = pb;

	if (a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

static void parzen_fit(struct parzen *pz, const struct done *pts, size_t m, size_t d,
		       const size_t *ncat, double prior_weight)
{
	double *col = kf_xcalloc(m + 2, sizeof *col);
	double minsg = 1.0 / fmin(100.0, 1.0 + (double)m);

	pz->m = m;
	pz->d = d;
	pz->ncat = ncat;
	pz->mu = kf_xcalloc((m + 1) * d, sizeof *pz->mu);
	pz->sg = kf_xcalloc((m + 1) * d, sizeof *pz->sg);
	pz->w_point = 1.0 / ((double)m + prior_weight);
	pz->w_prior = prior_weight / ((double)m + prior_weight);
	for (size_t j = 0; j < d; j++) {
		/* neighbours along dimension j, with the prior mean and the
		 * edges of the range as sentinels */
		for (size_t i = 0; i < m; i++)
			col[i] = pts[i].u[j];
		col[m] = PRIOR_MU;
		qsort(col, m + 1, sizeof *col, cmp_double);
		for (size_t i = 0; i < m; i++) {
			double x = pts[i].u[j];
			size_t k = 0;

			while (k < m + 1 && col[k] != x)
				k++;
			double left = k > 0 ? x - col[k - 1] : x;
			double right = k + 1 < m + 1 ? col[k + 1] - x : 1.0 - x;
			double s = fmax(left, right);

			pz->mu[i * d + j] = x;
			pz->sg[i * d + j] = fmin(fmax(s, minsg), 1.0);
		}
		pz->mu[m * d + j] = PRIOR_MU;
		pz->sg[m * d + j] = PRIOR_SIGMA;
	}
	free(col);
}

static void parzen_release(struct parzen *pz)
{
	free(pz->mu);
	free(pz->sg);
}

static double norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* log of the truncated normal density on [0, 1] */
static double log_tn(double x, double mu, double sg)
{
	double z = (x - mu) / sg;
	double mass = norm_cdf((1 - mu) / sg) - norm_cdf((0 - mu) / sg);

	return -0.5 * z * z - log(sg) - 0.5 * log(2 * M_PI) - log(fmax(mass, 1e-300));
}

static size_t bucket(double u, size_t k)
{
	size_t c = (size_t)(u * (double)k);

	return c < k ? c : k - 1;
}

/* log of a categorical kernel at x centred on mu's value (mu < 0: the
 * uniform prior) */
static double log_cat(double x, double mu, size_t k)
{
	if (mu < 0)
		return -log((double)k);
	return log(((bucket(x, k) == bucket(mu, k) ? 1.0 : 0.0) + CAT_PRIOR / (double)k) / (1.0 + CAT_PRIOR));
}

static double parzen_logpdf(const struct parzen *pz, const double *x)
{
	double best = -INFINITY, *lp = kf_xcalloc(pz->m + 1, sizeof *lp), sum = 0;

	for (size_t i = 0; i <= pz->m; i++) {
		double l = log(i < pz->m ? pz->w_point : pz->w_prior);

		if (i < pz->m && pz->w_point <= 0)
			l = -INFINITY;
		for (size_t j = 0; j < pz->d && isfinite(l); j++) {
			size_t k = pz->ncat ? pz->ncat[j] : 0;

			if (k)
				l += log_cat(x[j], i < pz->m ? pz->mu[i * pz->d + j] : -1, k);
			else
				l += log_tn(x[j], pz->mu[i * pz->d + j], pz->sg[i * pz->d + j]);
		}
		lp[i] = l;
		if (l > best)
			best = l;
	}
	for (size_t i = 0; i <= pz->m; i++)
		sum += exp(lp[i] - best);
	free(lp);
	return best + log(sum);
}

static void parzen_sample(const struct parzen *pz, struct kf_prng *rng, double *x)
{
	double r = kf_prng_uniform(rng);
	size_t c = (size_t)(r / pz->w_point);

	if (r >= pz->w_point * (double)pz->m || c >= pz->m)
		c = pz->m;
	for (size_t j = 0; j < pz->d; j++) {
		double mu = pz->mu[c * pz->d + j], sg = pz->sg[c * pz->d + j], v;
		size_t k = pz->ncat ? pz->ncat[j] : 0;
		int tries = 0;

		if (k) {
			/* its own value, or any value as the prior weight says */
			size_t b = c < pz->m && kf_prng_uniform(rng) < 1.0 / (1.0 + CAT_PRIOR) ?
				   bucket(mu, k) : (size_t)kf_prng_below(rng, k);

			x[j] = ((double)b + 0.5) / (double)k;
			continue;
		}

		do
			v = mu + sg * kf_prng_normal(rng);
		while ((v < 0 || v >= 1) && ++tries < 100);
		x[j] = v < 0 ? 0 : v >= 1 ? nextafter(1.0, 0.0) : v;
	}
}

void kf_tpe_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u)
{
	struct done *pts = kf_xcalloc(n + 1, sizeof *pts);
	struct parzen below = { 0 }, above = { 0 };
	struct kf_prng rng;
	size_t m = 0, nb;
	double *x, best = -INFINITY;

	kf_prng_seed(&rng, a->seed, n);
	for (size_t i = 0; i < n; i++)
		if (hist[i].state == KF_OBS_DONE && isfinite(hist[i].y))
			pts[m++] = (struct done){ hist[i].u, hist[i].y, i };
	if (m < (size_t)a->n_startup || m < 2) {
		for (size_t j = 0; j < a->d; j++)
			u[j] = kf_prng_uniform(&rng);
		free(pts);
		return;
	}
	qsort(pts, m, sizeof *pts, cmp_done);
	if (a->gamma > 0)
		nb = (size_t)ceil(a->gamma * (double)m);
	else
		nb = (size_t)fmin(ceil(0.1 * (double)m), 25);
	if (nb < 1)
		nb = 1;
	if (nb >= m)
		nb = m - 1;
	parzen_fit(&below, pts, nb, a->d, a->ncat, a->prior_weight);
	parzen_fit(&above, pts + nb, m - nb, a->d, a->ncat, a->prior_weight);
	x = kf_xcalloc(a->d, sizeof *x);
	for (int c = 0; c < a->n_ei; c++) {
		double score;

		parzen_sample(&below, &rng, x);
		score = parzen_logpdf(&below, x) - parzen_logpdf(&above, x);
		if (score > best) {
			best = score;
			memcpy(u, x, a->d * sizeof *u);
		}
	}
	free(x);
	parzen_release(&below);
	parzen_release(&above);
	free(pts);
}
