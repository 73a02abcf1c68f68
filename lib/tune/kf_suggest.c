/* kf_suggest: settings, the unit-cube encoding, and the simple algorithms
 * (random, grid, sobol, hyperband); tpe, bayesianoptimization and cmaes
 * have their own modules. */
#include "config.h"

#include "tune/kf_suggest.h"

#include "tune/kf_cmaes.h"
#include "tune/kf_gp.h"
#include "tune/kf_prng.h"
#include "tune/kf_sobol.h"
#include "tune/kf_tpe.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings --------------------------------------------------------- */

static long setting_long(const struct kf_experiment *e, const char *name, long dflt)
{
	const char *s = kf_experiment_setting(e, name);
	long v;

	return s && kf_str_to_long(s, &v) ? v : dflt;
}

static double setting_double(const struct kf_experiment *e, const char *name, double dflt)
{
	const char *s = kf_experiment_setting(e, name);
	double v;

	return s && kf_str_to_double(s, &v) ? v : dflt;
}

static size_t grid_count(const struct kf_tune_param *p)
{
	switch (p->type) {
	case KF_PARAM_INT:
		return (size_t)floor((p->max - p->min) / (p->has_step ? p->step : 1) + 1e-9) + 1;
	case KF_PARAM_DOUBLE:
		return (size_t)floor((p->max - p->min) / p->step + 1e-9) + 1;
	default:
		return p->n_list;
	}
}

int kf_algo_init(struct kf_algo *a, const struct kf_experiment *e, struct kf_err *err)
{
	const char *name = e->algorithm;
	const char *s;

	memset(a, 0, sizeof *a);
	a->d = e->n_params;
	a->seed = (uint64_t)setting_long(e, "random_state", 0);
	a->resource = -1;
	a->ncat = kf_xcalloc(a->d ? a->d : 1, sizeof *a->ncat);
	for (size_t i = 0; i < a->d; i++)
		if (e->params[i].type == KF_PARAM_CATEGORICAL)
			a->ncat[i] = e->params[i].n_list;
	if (!strcmp(name, "random")) {
		a->kind = KF_ALGO_RANDOM;
	} else if (!strcmp(name, "grid")) {
		a->kind = KF_ALGO_GRID;
		a->grid_n = kf_xcalloc(a->d ? a->d : 1, sizeof *a->grid_n);
		a->grid_total = 1;
		for (size_t i = 0; i < a->d; i++) {
			if (e->params[i].type == KF_PARAM_DOUBLE && !e->params[i].has_step)
				return kf_err_set(err, KF_EINPUT, "grid: parameter \"%s\" needs a step",
						  e->params[i].name);
			a->grid_n[i] = grid_count(&e->params[i]);
			a->grid_total *= (double)a->grid_n[i];
		}
	} else if (!strcmp(name, "sobol")) {
		a->kind = KF_ALGO_SOBOL;
		s = kf_experiment_setting(e, "scramble");
		a->scramble = !s || !strcmp(s, "true");
		if (a->d > KF_SOBOL_MAX_DIM)
			return kf_err_set(err, KF_EINPUT, "sobol: at most %d parameters, not %zu",
					  KF_SOBOL_MAX_DIM, a->d);
	} else if (!strcmp(name, "tpe")) {
		a->kind = KF_ALGO_TPE;
		a->n_startup = (int)setting_long(e, "n_startup_trials", 10);
		a->n_ei = (int)setting_long(e, "n_ei_candidates", 24);
		a->gamma = setting_double(e, "gamma", 0);
		a->prior_weight = setting_double(e, "prior_weight", 1.0);
	} else if (!strcmp(name, "bayesianoptimization")) {
		a->kind = KF_ALGO_BAYES;
		a->n_initial = (int)setting_long(e, "n_initial_points", 10);
		s = kf_experiment_setting(e, "acq_func");
		a->acq = !s ? KF_ACQ_EI : (!strcasecmp(s, "pi") ? KF_ACQ_PI :
					   !strcasecmp(s, "lcb") ? KF_ACQ_LCB : KF_ACQ_EI);
		s = kf_experiment_setting(e, "kernel");
		a->rbf = s && !strcmp(s, "rbf");
	} else if (!strcmp(name, "cmaes")) {
		a->kind = KF_ALGO_CMAES;
		a->sigma = setting_double(e, "sigma", 1.0 / 6.0);
	} else if (!strcmp(name, "hyperband")) {
		a->kind = KF_ALGO_HYPERBAND;
		a->r_l = setting_double(e, "r_l", 1);
		a->eta = setting_double(e, "eta", 3);
		if (a->eta <= 1)
			a->eta = 3;
		s = kf_experiment_setting(e, "resource_name");
		a->resource = s ? kf_experiment_param(e, s) : -1;
		if (a->resource < 0)
			return kf_err_set(err, KF_EINPUT, "hyperband: resource_name is not a parameter");
	} else {
		return kf_err_set(err, KF_EINPUT, "unknown algorithm \"%s\"", name);
	}
	return 0;
}

void kf_algo_release(struct kf_algo *a)
{
	free(a->grid_n);
	free(a->ncat);
	a->grid_n = NULL;
	a->ncat = NULL;
}

/* ---- the unit cube ------------------------------------------------------ */

static double clamp01(double u)
{
	return u < 0 ? 0 : u >= 1 ? nextafter(1.0, 0.0) : u;
}

double kf_suggest_decode(const struct kf_tune_param *p, double u, size_t *index)
{
	double v;
	size_t n;

	u = clamp01(u);
	if (index)
		*index = 0;
	if (p->type == KF_PARAM_CATEGORICAL || p->type == KF_PARAM_DISCRETE) {
		size_t i = (size_t)floor(u * (double)p->n_list);

		if (i >= p->n_list)
			i = p->n_list - 1;
		if (index)
			*index = i;
		if (p->type == KF_PARAM_DISCRETE)
			kf_str_to_double(p->list[i], &v);
		else
			v = (double)i;
		return v;
	}
	if (p->log) {
		v = exp(log(p->min) + u * (log(p->max) - log(p->min)));
		if (p->has_step)
			v = p->min + round((v - p->min) / p->step) * p->step;
		else if (p->type == KF_PARAM_INT)
			v = round(v);
		return v < p->min ? p->min : v > p->max ? p->max : v;
	}
	if (p->type == KF_PARAM_INT || p->has_step) {
		/* equal-width buckets over the allowed values */
		double step = p->has_step ? p->step : 1;

		n = (size_t)floor((p->max - p->min) / step + 1e-9) + 1;
		size_t i = (size_t)floor(u * (double)n);

		if (i >= n)
			i = n - 1;
		if (index)
			*index = i;
		return p->min + (double)i * step;
	}
	return p->min + u * (p->max - p->min);
}

char *kf_suggest_value(const struct kf_tune_param *p, double u)
{
	size_t i;
	double v = kf_suggest_decode(p, u, &i);

	if (p->type == KF_PARAM_CATEGORICAL || p->type == KF_PARAM_DISCRETE)
		return kf_xstrdup(p->list[i]);
	if (p->type == KF_PARAM_INT)
		return kf_xasprintf("%.0f", v);
	/* the shortest text within a rounding error of the value, so that
	 * min + 2 * step prints as "0.3", not "0.30000000000000004" */
	for (int prec = 1; prec < 17; prec++) {
		char buf[64];
		double back;

		snprintf(buf, sizeof buf, "%.*g", prec, v);
		back = strtod(buf, NULL);
		if (fabs(back - v) <= 1e-12 * fabs(v))
			return kf_xstrdup(buf);
	}
	return kf_xasprintf("%.17g", v);
}

/* ---- random, grid, sobol -------------------------------------------------- */

static void random_point(const struct kf_algo *a, size_t k, double *u)
{
	struct kf_prng rng;

	kf_prng_seed(&rng, a->seed, k);
	for (size_t j = 0; j < a->d; j++)
		u[j] = kf_prng_uniform(&rng);
}

static int grid_point(const struct kf_algo *a, size_t k, double *u)
{
	if ((double)k >= a->grid_total)
		return KF_SUGGEST_DONE;
	/* the last parameter varies fastest */
	for (size_t j = a->d; j-- > 0;) {
		size_t idx = k % a->grid_n[j];

		k /= a->grid_n[j];
		u[j] = ((double)idx + 0.5) / (double)a->grid_n[j];
	}
	return KF_SUGGEST_OK;
}

static void sobol_point(const struct kf_algo *a, size_t k, double *u)
{
	uint32_t shift[KF_SOBOL_MAX_DIM];

	if (a->scramble) {
		struct kf_prng rng;

		kf_prng_seed(&rng, a->seed, 0x50b01);
		for (size_t j = 0; j < a->d; j++)
			shift[j] = (uint32_t)(kf_prng_next(&rng) >> 32);
	}
	kf_sobol_point(a->d, k, a->scramble ? shift : NULL, u);
}

/* ---- hyperband ------------------------------------------------------------ */

int kf_hyperband_schedule(double r_l, double eta, struct kf_hb_rung *out, int max)
{
	int s_max = (int)floor(log(r_l) / log(eta) + 1e-9);
	int k = 0;

	for (int s = s_max; s >= 0; s--) {
		int n = (int)ceil((double)(s_max + 1) * pow(eta, s) / (double)(s + 1) - 1e-9);
		double r = r_l * pow(eta, -s);
		int count = n;

		for (int i = 0; i <= s; i++) {
			if (i > 0) {
				/* Katib: n_i = ceil(n eta^-(i-1)); keep ceil(n_i / eta) */
				int n_prev = (int)ceil((double)n * pow(eta, -(i - 1)) - 1e-9);

				count = (int)ceil((double)n_prev / eta - 1e-9);
			}
			if (k < max)
				out[k] = (struct kf_hb_rung){ .s = s, .i = i, .n = count,
							      .r = floor(r * pow(eta, i) + 1e-9) };
			k++;
		}
	}
	return k;
}

struct ranked {
	size_t idx;
	double y;
	bool ok;
};

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	if (a->ok != b->ok)
		return a->ok ? -1 : 1;
	if (a->ok && a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int hyperband_next(const struct kf_algo *a, const struct kf_obs *hist, size_t n,
			  struct kf_suggestion *out)
{
	struct kf_hb_rung rungs[256];
	int nr = kf_hyperband_schedule(a->r_l, a->eta, rungs, 256);
	size_t start = 0, prev_start = 0;

	for (int j = 0; j < nr && j < 256; j++) {
		size_t c = (size_t)rungs[j].n;

		if (n < start + c) {
			size_t t = n - start;

			out->bracket = rungs[j].s;
			out->rung = rungs[j].i;
			out->resource = a->resource;
			out->resource_value = rungs[j].r;
			if (rungs[j].i == 0) {
				random_point(a, n, out->u);
				return KF_SUGGEST_OK;
			}
			size_t pc = (size_t)rungs[j - 1].n;
			struct ranked *r = kf_xcalloc(pc, sizeof *r);

			for (size_t i = 0; i < pc; i++) {
				const struct kf_obs *o = &hist[prev_start + i];

				if (o->state == KF_OBS_PENDING) {
					free(r);
					return KF_SUGGEST_WAIT;
				}
				r[i] = (struct ranked){ prev_start + i, o->y, o->state == KF_OBS_DONE };
			}
			qsort(r, pc, sizeof *r, cmp_ranked);
			memcpy(out->u, hist[r[t < pc ? t : pc - 1].idx].u, a->d * sizeof *out->u);
			free(r);
			return KF_SUGGEST_OK;
		}
		prev_start = start;
		start += c;
	}
	return KF_SUGGEST_DONE;
}

/* ---- dispatch ------------------------------------------------------------- */

int kf_suggest_next(const struct kf_algo *a, const struct kf_experiment *e, const struct kf_obs *hist,
		    size_t n, struct kf_suggestion *out, struct kf_err *err)
{
	(void)e;
	(void)err;
	out->resource = -1;
	out->bracket = out->rung = -1;
	switch (a->kind) {
	case KF_ALGO_RANDOM:
		random_point(a, n, out->u);
		return KF_SUGGEST_OK;
	case KF_ALGO_GRID:
		return grid_point(a, n, out->u);
	case KF_ALGO_SOBOL:
		sobol_point(a, n, out->u);
		return KF_SUGGEST_OK;
	case KF_ALGO_TPE:
		kf_tpe_suggest(a, hist, n, out->u);
		return KF_SUGGEST_OK;
	case KF_ALGO_BAYES:
		kf_gp_suggest(a, hist, n, out->u);
		return KF_SUGGEST_OK;
	case KF_ALGO_CMAES:
		return kf_cmaes_suggest(a, hist, n, out->u);
	case KF_ALGO_HYPERBAND:
		return hyperband_next(a, hist, n, out);
	}
	return KF_SUGGEST_DONE;
}
