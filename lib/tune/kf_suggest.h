/* kf_suggest: the search algorithms, behind one call.
 *
 * Every algorithm works in the unit cube: a parameter's value is decoded
 * from a coordinate in [0, 1) (linear or logarithmic for int and double,
 * a bucket per value for categorical and discrete; step quantizes). An
 * algorithm is a pure function of its settings, its random_state and the
 * history of trials in creation order, so an interrupted experiment that
 * is resumed suggests what it would have suggested (with one trial at a
 * time; with several, which trials have finished when the next is asked
 * for depends on timing, as on a cluster).
 *
 * All algorithms minimize: the caller negates a maximized objective. */
#ifndef KF_SUGGEST_H
#define KF_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tune/kf_experiment.h"

struct kf_err;

enum kf_obs_state { KF_OBS_PENDING, KF_OBS_DONE, KF_OBS_FAILED };

/* One trial as the algorithms see it. */
struct kf_obs {
	const double *u;          /* d coordinates, as suggested */
	double y;                 /* the objective to minimize, when DONE */
	enum kf_obs_state state;
};

enum kf_algo_kind {
	KF_ALGO_RANDOM, KF_ALGO_GRID, KF_ALGO_SOBOL, KF_ALGO_TPE, KF_ALGO_BAYES, KF_ALGO_CMAES,
	KF_ALGO_HYPERBAND,
};

enum kf_acq { KF_ACQ_EI, KF_ACQ_PI, KF_ACQ_LCB };

/* An algorithm with its settings resolved (defaults filled in). */
struct kf_algo {
	enum kf_algo_kind kind;
	uint64_t seed;            /* random_state, 0 when absent */
	size_t d;                 /* dimensions */
	/* tpe */
	int n_startup;            /* n_startup_trials (10) */
	int n_ei;                 /* n_ei_candidates (24) */
	double gamma;             /* fraction of "good" trials; 0: ceil(0.1 n) capped at 25 */
	double prior_weight;      /* 1 */
	/* bayesianoptimization */
	int n_initial;            /* n_initial_points (10) */
	enum kf_acq acq;          /* acq_func: ei (and skopt's gp_hedge), pi, lcb */
	bool rbf;                 /* kernel: rbf, else matern52 */
	/* cmaes */
	double sigma;             /* initial step in unit space (1/6 of the range) */
	/* sobol */
	bool scramble;            /* random digital shift (true) */
	/* hyperband */
	double r_l, eta;
	long resource;            /* index of resource_name's parameter */
	size_t *ncat;             /* values of each categorical parameter, 0 for the others */
	/* grid */
	size_t *grid_n;           /* points per dimension */
	double grid_total;
};

/* What to run next. u has d entries (the caller's array). Hyperband sets
 * resource >= 0 with the value that replaces that parameter's. */
struct kf_suggestion {
	double *u;
	long resource;
	double resource_value;
	int bracket, rung;        /* hyperband: -1 otherwise */
};

enum { KF_SUGGEST_OK = 0, KF_SUGGEST_WAIT = 1, KF_SUGGEST_DONE = 2 };

int kf_algo_init(struct kf_algo *a, const struct kf_experiment *e, struct kf_err *err);
void kf_algo_release(struct kf_algo *a);

/* The next trial given the history (hist[i] is trial i). KF_SUGGEST_WAIT
 * when it needs running trials to finish first (a CMA-ES generation, a
 * hyperband rung), KF_SUGGEST_DONE when the search space is exhausted. */
int kf_suggest_next(const struct kf_algo *a, const struct kf_experiment *e, const struct kf_obs *hist,
		    size_t n, struct kf_suggestion *out, struct kf_err *err);

/* The value of parameter p at coordinate u: a number for int/double
 * (quantized), the list index for categorical/discrete. */
double kf_suggest_decode(const struct kf_tune_param *p, double u, size_t *index);
/* The same as the text a trial receives ("0.0123", "7", "adam"). Caller frees. */
char *kf_suggest_value(const struct kf_tune_param *p, double u);

/* Hyperband's schedule as Katib's suggestion service runs it: for bracket
 * s = s_max..0 (s_max = floor(log(r_l) / log(eta))), rung 0 samples
 * n = ceil((s_max + 1) eta^s / (s + 1)) configurations at resource
 * r = r_l eta^-s, and each later rung i keeps the best ceil(n_(i-1) / eta)
 * of the previous one at resource r eta^i. */
struct kf_hb_rung {
	int s, i;                 /* bracket and rung */
	int n;                    /* trials in the rung */
	double r;                 /* the resource_name parameter's value */
};

/* Fills up to max rungs in execution order; returns how many there are. */
int kf_hyperband_schedule(double r_l, double eta, struct kf_hb_rung *out, int max);

#endif
