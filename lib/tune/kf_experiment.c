/* kf_experiment: load and validate a Katib Experiment. */
#include "config.h"

#include "tune/kf_experiment.h"

#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kf_experiment_algorithms[] = {
	"random", "grid", "sobol", "tpe", "bayesianoptimization", "cmaes", "hyperband", NULL,
};

/* Katib's other algorithm names: known, but not run by kf. */
static const char *const katib_only[] = { "multivariate-tpe", "enas", "darts", "pbt", NULL };

/* The settings each algorithm reads (Katib's names, plus kf's own where noted
 * in kf-experiment(5)). */
static const char *const set_random[] = { "random_state", NULL };
static const char *const set_sobol[] = { "random_state", "scramble", NULL };
static const char *const set_tpe[] = { "random_state", "n_startup_trials", "n_ei_candidates",
				       "gamma", "prior_weight", NULL };
static const char *const set_bo[] = { "random_state", "n_initial_points", "base_estimator",
				      "acq_func", "acq_optimizer", "kernel", NULL };
static const char *const set_cmaes[] = { "random_state", "sigma", NULL };
static const char *const set_hb[] = { "random_state", "r_l", "eta", "resource_name", NULL };
static const char *const set_medianstop[] = { "min_trials_required", "start_step", NULL };

struct ld {
	struct kf_experiment *e;
	struct kf_errlist *errs;
	const char *file;
};

static void bad(struct ld *ld, const struct kf_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct ld *ld, const struct kf_ynode *n, const char *fmt, ...)
{
	struct kf_err err;
	va_list ap;

	kf_err_clear(&err);
	va_start(ap, fmt);
	kf_err_vset(&err, KF_EINPUT, fmt, ap);
	va_end(ap);
	snprintf(err.file, sizeof err.file, "%s", ld->file);
	if (n) {
		err.line = n->line;
		err.col = n->col;
	}
	kf_errlist_add(ld->errs, &err);
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* Unknown and duplicate keys of a map, with a suggestion. */
static void check_keys(struct ld *ld, const struct kf_ynode *map, const char *const *allowed,
		       const char *what)
{
	for (size_t i = 0; map && map->kind == KF_Y_MAP && i < map->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(map, i);
		const char *hint;
		bool known = false;

		for (size_t j = 0; allowed[j]; j++)
			known |= !strcmp(allowed[j], k->value);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(kf_ynode_key(map, j)->value, k->value))
				bad(ld, k, "%s: duplicate key \"%s\"", what, k->value);
		if (known)
			continue;
		hint = kf_str_suggest(k->value, allowed, count(allowed));
		if (hint)
			bad(ld, k, "%s: unknown key \"%s\" (did you mean \"%s\"?)", what, k->value, hint);
		else
			bad(ld, k, "%s: unknown key \"%s\"", what, k->value);
	}
}

static const struct kf_ynode *want_map(struct ld *ld, const struct kf_ynode *n, const char *what)
{
	if (n && n->kind != KF_Y_MAP) {
		bad(ld, n, "%s must be a map, not a %s", what, kf_ynode_kind_name(n));
		return NULL;
	}
	return n;
}

static const struct kf_ynode *want_seq(struct ld *ld, const struct kf_ynode *n, const char *what)
{
	if (n && n->kind != KF_Y_SEQ) {
		bad(ld, n, "%s must be a list, not a %s", what, kf_ynode_kind_name(n));
		return NULL;
	}
	return n;
}

/* A scalar's text (numbers may be written bare or, as Katib does, quoted). */
static const char *want_str(struct ld *ld, const struct kf_ynode *n, const char *what)
{
	if (!n)
		return NULL;
	if (n->kind != KF_Y_SCALAR || (!n->quoted && kf_ynode_scalar_type(n) == KF_YS_NULL)) {
		bad(ld, n, "%s must be a string, not a %s", what, kf_ynode_kind_name(n));
		return NULL;
	}
	return n->value;
}

static bool want_int(struct ld *ld, const struct kf_ynode *n, const char *what, int *out)
{
	long v;

	if (!n)
		return false;
	if (n->kind != KF_Y_SCALAR || !kf_str_to_long(n->value, &v) || v < INT32_MIN || v > INT32_MAX) {
		bad(ld, n, "%s must be an integer", what);
		return false;
	}
	*out = (int)v;
	return true;
}

static bool want_num(struct ld *ld, const struct kf_ynode *n, const char *what, double *out)
{
	if (!n)
		return false;
	if (n->kind != KF_Y_SCALAR || !kf_str_to_double(n->value, out) || !isfinite(*out)) {
		bad(ld, n, "%s must be a number, not \"%s\"", what,
		    n->kind == KF_Y_SCALAR ? n->value : kf_ynode_kind_name(n));
		return false;
	}
	return true;
}

static const char *one_of(struct ld *ld, const struct kf_ynode *n, const char *what,
			  const char *const *choices)
{
	const char *s = want_str(ld, n, what);
	const char *hint;

	if (!s)
		return NULL;
	for (size_t i = 0; choices[i]; i++)
		if (!strcmp(s, choices[i]))
			return choices[i];
	hint = kf_str_suggest(s, choices, count(choices));
	if (hint)
		bad(ld, n, "%s: unknown value \"%s\" (did you mean \"%s\"?)", what, s, hint);
	else
		bad(ld, n, "%s: unknown value \"%s\"", what, s);
	return NULL;
}

/* ---- objective --------------------------------------------------------- */

static long metric_index(const struct kf_experiment *e, const char *name)
{
	for (size_t i = 0; i < e->n_metrics; i++)
		if (!strcmp(e->metrics[i].name, name))
			return (long)i;
	return -1;
}

static void add_metric(struct kf_experiment *e, const char *name)
{
	size_t cap = e->n_metrics;

	KF_GROW(e->metrics, cap, e->n_metrics + 1);
	e->metrics[e->n_metrics].name = kf_xstrdup(name);
	e->metrics[e->n_metrics].strategy = e->maximize ? KF_STRATEGY_MAX : KF_STRATEGY_MIN;
	e->n_metrics++;
}

static void load_objective(struct ld *ld, const struct kf_ynode *o, const struct kf_ynode *spec)
{
	static const char *const keys[] = { "type", "goal", "objectiveMetricName",
					    "additionalMetricNames", "metricStrategies", NULL };
	static const char *const types[] = { "minimize", "maximize", NULL };
	static const char *const strategies[] = { "min", "max", "latest", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *n;
	const char *s;

	if (!o) {
		bad(ld, spec, "spec.objective is required");
		return;
	}
	if (!want_map(ld, o, "spec.objective"))
		return;
	check_keys(ld, o, keys, "spec.objective");
	n = kf_ynode_get(o, "type");
	if (!n)
		bad(ld, o, "spec.objective.type is required (minimize or maximize)");
	else if ((s = one_of(ld, n, "spec.objective.type", types)))
		e->maximize = !strcmp(s, "maximize");
	if ((n = kf_ynode_get(o, "goal")))
		e->has_goal = want_num(ld, n, "spec.objective.goal", &e->goal);
	n = kf_ynode_get(o, "objectiveMetricName");
	if (!n || !(s = want_str(ld, n, "spec.objective.objectiveMetricName")) || !*s) {
		bad(ld, n ? n : o, "spec.objective.objectiveMetricName is required");
		add_metric(e, "objective");
	} else {
		add_metric(e, s);
	}
	if ((n = want_seq(ld, kf_ynode_get(o, "additionalMetricNames"),
			  "spec.objective.additionalMetricNames"))) {
		for (size_t i = 0; i < n->n; i++) {
			s = want_str(ld, n->items[i], "an additional metric name");
			if (!s)
				continue;
			if (metric_index(e, s) >= 0)
				bad(ld, n->items[i], "metric \"%s\" is named twice (the objective "
				    "metric must not be in additionalMetricNames)", s);
			else
				add_metric(e, s);
		}
	}
	if ((n = want_seq(ld, kf_ynode_get(o, "metricStrategies"), "spec.objective.metricStrategies"))) {
		for (size_t i = 0; i < n->n; i++) {
			static const char *const skeys[] = { "name", "value", NULL };
			const struct kf_ynode *m = want_map(ld, n->items[i], "a metric strategy");
			const char *name, *v;
			long mi;

			if (!m)
				continue;
			check_keys(ld, m, skeys, "metricStrategies");
			name = want_str(ld, kf_ynode_get(m, "name"), "metricStrategies.name");
			v = one_of(ld, kf_ynode_get(m, "value"), "metricStrategies.value", strategies);
			if (!name || !v) {
				if (!kf_ynode_get(m, "name") || !kf_ynode_get(m, "value"))
					bad(ld, m, "a metric strategy needs name and value");
				continue;
			}
			mi = metric_index(e, name);
			if (mi < 0) {
				bad(ld, kf_ynode_get(m, "name"), "metric strategy for \"%s\", which is "
				    "neither the objective nor an additional metric", name);
				continue;
			}
			e->metrics[mi].strategy = !strcmp(v, "min") ? KF_STRATEGY_MIN :
						  !strcmp(v, "max") ? KF_STRATEGY_MAX : KF_STRATEGY_LATEST;
		}
	}
}

/* ---- algorithm and early stopping ------------------------------------- */

static void load_settings(struct ld *ld, const struct kf_ynode *seq, const char *what,
			  struct kf_setting **out, size_t *n_out)
{
	static const char *const keys[] = { "name", "value", NULL };

	if (!(seq = want_seq(ld, seq, what)))
		return;
	*out = kf_xcalloc(seq->n ? seq->n : 1, sizeof **out);
	for (size_t i = 0; i < seq->n; i++) {
		const struct kf_ynode *m = want_map(ld, seq->items[i], "a setting");
		const char *name, *value;

		if (!m)
			continue;
		check_keys(ld, m, keys, what);
		name = want_str(ld, kf_ynode_get(m, "name"), "setting name");
		value = want_str(ld, kf_ynode_get(m, "value"), "setting value");
		if (!name) {
			if (!kf_ynode_get(m, "name"))
				bad(ld, m, "%s: a setting needs a name", what);
			continue;
		}
		for (size_t j = 0; j < *n_out; j++)
			if (!strcmp((*out)[j].name, name))
				bad(ld, m, "%s: setting \"%s\" given twice", what, name);
		(*out)[*n_out].name = kf_xstrdup(name);
		(*out)[*n_out].value = kf_xstrdup(value ? value : "");
		(*out)[*n_out].line = m->line;
		(*out)[*n_out].col = m->col;
		(*n_out)++;
	}
}

static void bad_setting(struct ld *ld, const struct kf_setting *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad_setting(struct ld *ld, const struct kf_setting *s, const char *fmt, ...)
{
	struct kf_ynode at = { .line = s->line, .col = s->col };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bad(ld, &at, "%s", msg);
}

static void check_setting_names(struct ld *ld, const struct kf_setting *set, size_t n,
				const char *const *allowed, const char *algo)
{
	for (size_t i = 0; i < n; i++) {
		const char *hint;
		bool ok = false;

		for (size_t j = 0; allowed[j]; j++)
			ok |= !strcmp(allowed[j], set[i].name);
		if (ok)
			continue;
		hint = kf_str_suggest(set[i].name, allowed, count(allowed));
		if (hint)
			bad_setting(ld, &set[i], "unknown setting \"%s\" for algorithm \"%s\" (did you "
				    "mean \"%s\"?)", set[i].name, algo, hint);
		else
			bad_setting(ld, &set[i], "unknown setting \"%s\" for algorithm \"%s\"",
				    set[i].name, algo);
	}
}

static const struct kf_setting *find_setting(const struct kf_setting *set, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(set[i].name, name))
			return &set[i];
	return NULL;
}

/* A setting that must be an integer in [lo, hi]. */
static void setting_int(struct ld *ld, const struct kf_setting *s, long lo, long hi)
{
	long v;

	if (s && (!kf_str_to_long(s->value, &v) || v < lo || v > hi)) {
		if (hi == INT32_MAX)
			bad_setting(ld, s, "setting \"%s\" must be an integer >= %ld, not \"%s\"",
				    s->name, lo, s->value);
		else
			bad_setting(ld, s, "setting \"%s\" must be an integer in [%ld, %ld], not \"%s\"",
				    s->name, lo, hi, s->value);
	}
}

static void setting_num(struct ld *ld, const struct kf_setting *s, double lo, double hi)
{
	double v;

	if (s && (!kf_str_to_double(s->value, &v) || !(v > lo) || !(v < hi)))
		bad_setting(ld, s, "setting \"%s\" must be a number in (%g, %g), not \"%s\"",
			    s->name, lo, hi, s->value);
}

static void setting_choice(struct ld *ld, const struct kf_setting *s, const char *const *choices)
{
	if (!s)
		return;
	for (size_t i = 0; choices[i]; i++)
		if (!strcmp(s->value, choices[i]))
			return;
	bad_setting(ld, s, "setting \"%s\": unknown value \"%s\"", s->name, s->value);
}

static void load_algorithm(struct ld *ld, const struct kf_ynode *a, const struct kf_ynode *spec)
{
	static const char *const keys[] = { "algorithmName", "algorithmSettings", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *n;
	const char *name;

	if (!a) {
		bad(ld, spec, "spec.algorithm is required");
		return;
	}
	if (!want_map(ld, a, "spec.algorithm"))
		return;
	check_keys(ld, a, keys, "spec.algorithm");
	n = kf_ynode_get(a, "algorithmName");
	if (!n || !(name = want_str(ld, n, "spec.algorithm.algorithmName"))) {
		if (!n)
			bad(ld, a, "spec.algorithm.algorithmName is required");
		return;
	}
	for (size_t i = 0; kf_experiment_algorithms[i]; i++)
		if (!strcmp(name, kf_experiment_algorithms[i]))
			e->algorithm = kf_xstrdup(name);
	if (!e->algorithm) {
		const char *hint;
		bool katib = false;

		for (size_t i = 0; katib_only[i]; i++)
			katib |= !strcmp(name, katib_only[i]);
		hint = kf_str_suggest(name, kf_experiment_algorithms, count(kf_experiment_algorithms));
		if (katib)
			bad(ld, n, "algorithm \"%s\" is Katib's but kf does not run it (kf runs: random, "
			    "grid, sobol, tpe, bayesianoptimization, cmaes, hyperband)", name);
		else if (hint)
			bad(ld, n, "unknown algorithm \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			bad(ld, n, "unknown algorithm \"%s\"", name);
		return;
	}
	load_settings(ld, kf_ynode_get(a, "algorithmSettings"), "spec.algorithm.algorithmSettings",
		      &e->settings, &e->n_settings);
}

static void check_algorithm(struct ld *ld)
{
	struct kf_experiment *e = ld->e;
	const struct kf_setting *set = e->settings;
	size_t n = e->n_settings;
	const char *const *allowed;
	const char *a = e->algorithm;

	if (!a)
		return;
	allowed = !strcmp(a, "sobol") ? set_sobol : !strcmp(a, "tpe") ? set_tpe :
		  !strcmp(a, "bayesianoptimization") ? set_bo : !strcmp(a, "cmaes") ? set_cmaes :
		  !strcmp(a, "hyperband") ? set_hb : set_random;
	check_setting_names(ld, set, n, allowed, a);
	setting_int(ld, find_setting(set, n, "random_state"), 0, INT32_MAX);
	if (!strcmp(a, "sobol")) {
		static const char *const tf[] = { "true", "false", NULL };

		setting_choice(ld, find_setting(set, n, "scramble"), tf);
	} else if (!strcmp(a, "tpe")) {
		setting_int(ld, find_setting(set, n, "n_startup_trials"), 1, INT32_MAX);
		setting_int(ld, find_setting(set, n, "n_ei_candidates"), 1, INT32_MAX);
		setting_num(ld, find_setting(set, n, "gamma"), 0, 1);
		setting_num(ld, find_setting(set, n, "prior_weight"), 0, 1e9);
	} else if (!strcmp(a, "bayesianoptimization")) {
		static const char *const est[] = { "GP", NULL };
		static const char *const acq[] = { "ei", "EI", "gp_hedge", "lcb", "LCB", "pi", "PI", NULL };
		static const char *const opt[] = { "auto", "sampling", "lbfgs", NULL };
		static const char *const ker[] = { "matern52", "rbf", NULL };

		setting_int(ld, find_setting(set, n, "n_initial_points"), 1, INT32_MAX);
		setting_choice(ld, find_setting(set, n, "base_estimator"), est);
		setting_choice(ld, find_setting(set, n, "acq_func"), acq);
		setting_choice(ld, find_setting(set, n, "acq_optimizer"), opt);
		setting_choice(ld, find_setting(set, n, "kernel"), ker);
	} else if (!strcmp(a, "cmaes")) {
		setting_num(ld, find_setting(set, n, "sigma"), 0, 1e300);
	} else if (!strcmp(a, "hyperband")) {
		const struct kf_setting *rl = find_setting(set, n, "r_l");
		const struct kf_setting *eta = find_setting(set, n, "eta");
		const struct kf_setting *res = find_setting(set, n, "resource_name");
		double r, et = 3;

		if (!rl || !res) {
			bad(ld, NULL, "hyperband: settings r_l and resource_name must be set");
			return;
		}
		if (!kf_str_to_double(rl->value, &r) || !(r >= 1)) {
			bad_setting(ld, rl, "setting \"r_l\" must be a number >= 1, not \"%s\"", rl->value);
			return;
		}
		if (eta) {
			setting_num(ld, eta, 1, 1e9);
			if (!kf_str_to_double(eta->value, &et) || et <= 1)
				return;
		}
		if (kf_experiment_param(e, res->value) < 0)
			bad_setting(ld, res, "hyperband: resource_name \"%s\" is not a parameter",
				    res->value);
		{
			int smax = (int)floor(log(r) / log(et) + 1e-9);
			long need = lround(pow(et, smax));

			if (e->parallel < need)
				bad_setting(ld, rl, "hyperband: parallelTrialCount must be at least %ld "
					    "(eta^s_max for r_l %s and eta %g)", need, rl->value, et);
		}
	}
}

static void load_early_stopping(struct ld *ld, const struct kf_ynode *es)
{
	static const char *const keys[] = { "algorithmName", "algorithmSettings", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *n;
	const char *name;

	if (!es || !want_map(ld, es, "spec.earlyStopping"))
		return;
	check_keys(ld, es, keys, "spec.earlyStopping");
	n = kf_ynode_get(es, "algorithmName");
	if (!n) {
		bad(ld, es, "spec.earlyStopping.algorithmName is required");
		return;
	}
	if (!(name = want_str(ld, n, "spec.earlyStopping.algorithmName")))
		return;
	if (strcmp(name, "medianstop")) {
		static const char *const names[] = { "medianstop", NULL };
		const char *hint = kf_str_suggest(name, names, 1);

		if (hint)
			bad(ld, n, "unknown early stopping algorithm \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			bad(ld, n, "unknown early stopping algorithm \"%s\"", name);
		return;
	}
	e->early_stopping = kf_xstrdup(name);
	load_settings(ld, kf_ynode_get(es, "algorithmSettings"), "spec.earlyStopping.algorithmSettings",
		      &e->es_settings, &e->n_es_settings);
	check_setting_names(ld, e->es_settings, e->n_es_settings, set_medianstop, "medianstop");
	setting_int(ld, find_setting(e->es_settings, e->n_es_settings, "min_trials_required"), 1,
		    INT32_MAX);
	setting_int(ld, find_setting(e->es_settings, e->n_es_settings, "start_step"), 1, INT32_MAX);
}

/* ---- parameters ------------------------------------------------------- */

static bool is_integral(double v)
{
	return v == floor(v) && fabs(v) < 9007199254740992.0;
}

static void load_param(struct ld *ld, const struct kf_ynode *m, struct kf_tune_param *p)
{
	static const char *const keys[] = { "name", "parameterType", "feasibleSpace", NULL };
	static const char *const fkeys[] = { "min", "max", "step", "list", "distribution", NULL };
	static const char *const types[] = { "int", "double", "categorical", "discrete", NULL };
	static const char *const dists[] = { "uniform", "logUniform", "normal", "logNormal", NULL };
	const struct kf_ynode *fs, *n, *lmin, *lmax;
	const char *s;
	bool numeric;

	p->line = m->line;
	p->col = m->col;
	check_keys(ld, m, keys, "parameter");
	s = want_str(ld, kf_ynode_get(m, "name"), "parameter name");
	if (!s || !*s) {
		bad(ld, m, "a parameter needs a name");
		p->name = kf_xstrdup("");
	} else {
		p->name = kf_xstrdup(s);
	}
	n = kf_ynode_get(m, "parameterType");
	if (!n) {
		bad(ld, m, "parameter \"%s\": parameterType is required (int, double, categorical or "
		    "discrete)", p->name);
		return;
	}
	if (!(s = one_of(ld, n, "parameterType", types)))
		return;
	p->type = !strcmp(s, "int") ? KF_PARAM_INT : !strcmp(s, "double") ? KF_PARAM_DOUBLE :
		  !strcmp(s, "categorical") ? KF_PARAM_CATEGORICAL : KF_PARAM_DISCRETE;
	numeric = p->type == KF_PARAM_INT || p->type == KF_PARAM_DOUBLE;
	fs = kf_ynode_get(m, "feasibleSpace");
	if (!fs) {
		bad(ld, m, "parameter \"%s\": feasibleSpace is required", p->name);
		return;
	}
	if (!want_map(ld, fs, "feasibleSpace"))
		return;
	check_keys(ld, fs, fkeys, "feasibleSpace");
	lmin = kf_ynode_get(fs, "min");
	lmax = kf_ynode_get(fs, "max");
	if (numeric) {
		if (!lmin || !lmax) {
			bad(ld, fs, "parameter \"%s\": %s needs feasibleSpace.min and feasibleSpace.max",
			    p->name, s);
			return;
		}
		if (!want_num(ld, lmin, "feasibleSpace.min", &p->min) ||
		    !want_num(ld, lmax, "feasibleSpace.max", &p->max))
			return;
		if (p->type == KF_PARAM_INT && (!is_integral(p->min) || !is_integral(p->max))) {
			bad(ld, !is_integral(p->min) ? lmin : lmax,
			    "parameter \"%s\": int bounds must be integers", p->name);
			return;
		}
		if (p->min > p->max) {
			bad(ld, lmax, "parameter \"%s\": feasibleSpace.max %g is below min %g", p->name,
			    p->max, p->min);
			return;
		}
		if ((n = kf_ynode_get(fs, "step"))) {
			if (!want_num(ld, n, "feasibleSpace.step", &p->step))
				return;
			if (!(p->step > 0) || (p->type == KF_PARAM_INT && !is_integral(p->step))) {
				bad(ld, n, "parameter \"%s\": step must be a positive %s", p->name,
				    p->type == KF_PARAM_INT ? "integer" : "number");
				return;
			}
			p->has_step = true;
		}
		if (kf_ynode_get(fs, "list"))
			bad(ld, kf_ynode_get(fs, "list"), "parameter \"%s\": %s takes min and max, not a "
			    "list", p->name, s);
	} else {
		const struct kf_ynode *l = kf_ynode_get(fs, "list");

		if (lmin || lmax || kf_ynode_get(fs, "step"))
			bad(ld, lmin ? lmin : lmax ? lmax : kf_ynode_get(fs, "step"),
			    "parameter \"%s\": %s takes a list, not min/max/step", p->name, s);
		if (!l || (l->kind == KF_Y_SEQ && l->n == 0)) {
			bad(ld, l ? l : fs, "parameter \"%s\": %s needs a non-empty feasibleSpace.list",
			    p->name, s);
			return;
		}
		if (!want_seq(ld, l, "feasibleSpace.list"))
			return;
		p->list = kf_xcalloc(l->n, sizeof *p->list);
		for (size_t i = 0; i < l->n; i++) {
			const char *v = want_str(ld, l->items[i], "a list value");
			double d;

			if (!v)
				v = "";
			if (p->type == KF_PARAM_DISCRETE && !kf_str_to_double(v, &d))
				bad(ld, l->items[i], "parameter \"%s\": discrete value \"%s\" is not a "
				    "number", p->name, v);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(p->list[j], v))
					bad(ld, l->items[i], "parameter \"%s\": value \"%s\" is listed "
					    "twice", p->name, v);
			p->list[i] = kf_xstrdup(v);
			p->n_list++;
		}
	}
	if ((n = kf_ynode_get(fs, "distribution")) && (s = one_of(ld, n, "distribution", dists))) {
		if (!strcmp(s, "normal") || !strcmp(s, "logNormal"))
			bad(ld, n, "parameter \"%s\": distribution \"%s\" is not supported by kf (use "
			    "uniform or logUniform)", p->name, s);
		else if (!strcmp(s, "logUniform")) {
			if (!numeric)
				bad(ld, n, "parameter \"%s\": logUniform needs an int or double", p->name);
			else if (!(p->min > 0))
				bad(ld, lmin, "parameter \"%s\": logUniform needs min > 0", p->name);
			else
				p->log = true;
		}
	}
}

static void load_params(struct ld *ld, const struct kf_ynode *seq, const struct kf_ynode *spec)
{
	struct kf_experiment *e = ld->e;

	if (!seq) {
		if (kf_ynode_get(spec, "nasConfig"))
			bad(ld, kf_ynode_get(spec, "nasConfig"), "spec.nasConfig: neural architecture "
			    "search (enas, darts) is not supported by kf");
		else
			bad(ld, spec, "spec.parameters is required");
		return;
	}
	if (!want_seq(ld, seq, "spec.parameters"))
		return;
	if (seq->n == 0) {
		bad(ld, seq, "spec.parameters is empty");
		return;
	}
	e->params = kf_xcalloc(seq->n, sizeof *e->params);
	for (size_t i = 0; i < seq->n; i++) {
		const struct kf_ynode *m = want_map(ld, seq->items[i], "a parameter");

		if (!m)
			continue;
		load_param(ld, m, &e->params[e->n_params]);
		for (size_t j = 0; j < e->n_params; j++)
			if (*e->params[j].name && !strcmp(e->params[j].name, e->params[e->n_params].name))
				bad(ld, m, "parameter \"%s\" is declared twice", e->params[j].name);
		e->n_params++;
	}
}

/* Grid points of one parameter; 0 when it cannot be gridded. */
static double grid_points(const struct kf_tune_param *p)
{
	switch (p->type) {
	case KF_PARAM_INT:
		return floor((p->max - p->min) / (p->has_step ? p->step : 1) + 1e-9) + 1;
	case KF_PARAM_DOUBLE:
		return p->has_step ? floor((p->max - p->min) / p->step + 1e-9) + 1 : 0;
	default:
		return (double)p->n_list;
	}
}

static void check_grid(struct ld *ld)
{
	struct kf_experiment *e = ld->e;
	double total = 1;

	if (!e->algorithm || strcmp(e->algorithm, "grid"))
		return;
	for (size_t i = 0; i < e->n_params; i++) {
		const struct kf_tune_param *p = &e->params[i];
		struct kf_ynode at = { .line = p->line, .col = p->col };

		if (p->type == KF_PARAM_DOUBLE && !p->has_step) {
			bad(ld, &at, "grid: parameter \"%s\" is a double and needs feasibleSpace.step",
			    p->name);
			return;
		}
		total *= grid_points(p);
	}
	if (e->max_trials > 0 && total < e->max_trials)
		bad(ld, NULL, "grid: maxTrialCount %d is more than the %.0f combinations of the search "
		    "space", e->max_trials, total);
}

/* ---- metrics collector ------------------------------------------------ */

char *kf_experiment_filter_ere(const char *re)
{
	struct kf_buf b = KF_BUF_INIT;

	for (const char *p = re; *p; p++) {
		if (p[0] == '\\' && p[1] == 'd') {
			kf_buf_adds(&b, "[0-9]");
			p++;
		} else if (p[0] == '\\' && p[1] == 'D') {
			kf_buf_adds(&b, "[^0-9]");
			p++;
		} else if (p[0] == '\\' && p[1]) {
			kf_buf_add(&b, p, 2);
			p++;
		} else {
			kf_buf_addc(&b, *p);
		}
	}
	return kf_buf_detach(&b);
}

static void load_collector(struct ld *ld, const struct kf_ynode *mc)
{
	static const char *const keys[] = { "collector", "source", NULL };
	static const char *const ckeys[] = { "kind", "customCollector", NULL };
	static const char *const skeys[] = { "fileSystemPath", "filter", "httpGet", NULL };
	static const char *const fkeys[] = { "path", "kind", "format", NULL };
	static const char *const kinds[] = { "StdOut", "File", "None", "TensorFlowEvent",
					     "PrometheusMetric", "Custom", "Push", NULL };
	static const char *const formats[] = { "TEXT", "JSON", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *c, *src, *n, *fsp, *flt;
	const char *kind = "StdOut";

	e->collector = KF_COLLECTOR_STDOUT;
	if (!mc || !want_map(ld, mc, "spec.metricsCollectorSpec"))
		return;
	check_keys(ld, mc, keys, "spec.metricsCollectorSpec");
	if ((c = want_map(ld, kf_ynode_get(mc, "collector"), "collector"))) {
		check_keys(ld, c, ckeys, "collector");
		if ((n = kf_ynode_get(c, "kind")) && !(kind = one_of(ld, n, "collector.kind", kinds)))
			return;
		if (strcmp(kind, "StdOut") && strcmp(kind, "File") && strcmp(kind, "None")) {
			bad(ld, n, "collector kind \"%s\" is not supported by kf (StdOut, File or None)",
			    kind);
			return;
		}
	}
	e->collector = !strcmp(kind, "File") ? KF_COLLECTOR_FILE :
		       !strcmp(kind, "None") ? KF_COLLECTOR_NONE : KF_COLLECTOR_STDOUT;
	src = want_map(ld, kf_ynode_get(mc, "source"), "source");
	check_keys(ld, src, skeys, "source");
	fsp = src ? want_map(ld, kf_ynode_get(src, "fileSystemPath"), "fileSystemPath") : NULL;
	if (fsp) {
		static const char *const fk[] = { "File", "Directory", NULL };
		const char *s;

		check_keys(ld, fsp, fkeys, "fileSystemPath");
		if ((s = want_str(ld, kf_ynode_get(fsp, "path"), "fileSystemPath.path")))
			e->file_path = kf_xstrdup(s);
		if ((n = kf_ynode_get(fsp, "format")) && (s = one_of(ld, n, "fileSystemPath.format", formats)))
			e->file_json = !strcmp(s, "JSON");
		if ((n = kf_ynode_get(fsp, "kind")) && (s = one_of(ld, n, "fileSystemPath.kind", fk)) &&
		    !strcmp(s, "Directory"))
			bad(ld, n, "fileSystemPath kind \"Directory\" is for TensorFlowEvent, which kf "
			    "does not collect");
	}
	if (e->collector == KF_COLLECTOR_FILE && !e->file_path)
		bad(ld, src ? src : mc, "collector File needs source.fileSystemPath.path");
	if (src && kf_ynode_get(src, "httpGet"))
		bad(ld, kf_ynode_get(src, "httpGet"), "source.httpGet is not supported by kf");
	flt = src ? want_map(ld, kf_ynode_get(src, "filter"), "filter") : NULL;
	if (flt) {
		static const char *const flk[] = { "metricsFormat", NULL };
		const struct kf_ynode *l;

		check_keys(ld, flt, flk, "filter");
		if ((l = want_seq(ld, kf_ynode_get(flt, "metricsFormat"), "filter.metricsFormat"))) {
			e->filters = kf_xcalloc(l->n ? l->n : 1, sizeof *e->filters);
			for (size_t i = 0; i < l->n; i++) {
				const char *s = want_str(ld, l->items[i], "a metrics format");
				char *ere;
				regex_t re;
				int rc;

				if (!s)
					continue;
				ere = kf_experiment_filter_ere(s);
				rc = regcomp(&re, ere, REG_EXTENDED);
				if (rc) {
					char msg[128];

					regerror(rc, &re, msg, sizeof msg);
					bad(ld, l->items[i], "metrics format \"%s\": %s", s, msg);
				} else {
					if (re.re_nsub < 2)
						bad(ld, l->items[i], "metrics format \"%s\" needs two groups: "
						    "the name and the value", s);
					regfree(&re);
				}
				free(ere);
				e->filters[e->n_filters++] = kf_xstrdup(s);
			}
		}
	}
}

/* ---- trial template --------------------------------------------------- */

static const char *const meta_refs[] = {
	"${trialSpec.Name}", "${trialSpec.Namespace}", "${trialSpec.Kind}", "${trialSpec.APIVersion}",
	NULL,
};

static bool is_meta_ref(const char *s)
{
	if (kf_str_starts(s, "${trialSpec.Labels[") || kf_str_starts(s, "${trialSpec.Annotations["))
		return kf_str_ends(s, "]}");
	for (size_t i = 0; meta_refs[i]; i++)
		if (!strcmp(s, meta_refs[i]))
			return true;
	return false;
}

/* Every ${trialParameters.X} in s must be declared; mark the used ones. */
static void scan_refs(struct ld *ld, const struct kf_ynode *at, const char *s, bool *used)
{
	struct kf_experiment *e = ld->e;
	const char *p = s;

	while ((p = strstr(p, "${trialParameters."))) {
		const char *name = p + strlen("${trialParameters.");
		const char *end = strchr(name, '}');
		bool found = false;

		if (!end) {
			bad(ld, at, "unterminated \"${trialParameters.\" in \"%s\"", s);
			return;
		}
		for (size_t i = 0; i < e->n_trial_params; i++)
			if (strlen(e->trial_params[i].name) == (size_t)(end - name) &&
			    !strncmp(e->trial_params[i].name, name, (size_t)(end - name))) {
				used[i] = true;
				found = true;
			}
		if (!found)
			bad(ld, at, "\"${trialParameters.%.*s}\" is not in trialTemplate.trialParameters",
			    (int)(end - name), name);
		p = end + 1;
	}
}

static void scan_node(struct ld *ld, const struct kf_ynode *n, bool *used)
{
	if (!n)
		return;
	if (n->kind == KF_Y_SCALAR) {
		scan_refs(ld, n, n->value, used);
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		scan_node(ld, n->items[n->kind == KF_Y_MAP ? 2 * i + 1 : i], used);
}

static const struct kf_ynode *job_container(struct ld *ld, const struct kf_ynode *ts)
{
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *spec = kf_ynode_get(ts, "spec");
	const struct kf_ynode *tmpl = spec ? kf_ynode_get(spec, "template") : NULL;
	const struct kf_ynode *pod = tmpl ? kf_ynode_get(tmpl, "spec") : NULL;
	const struct kf_ynode *cs = pod ? kf_ynode_get(pod, "containers") : NULL;

	if (!cs || cs->kind != KF_Y_SEQ || cs->n == 0) {
		bad(ld, ts, "trialSpec: a Job needs spec.template.spec.containers");
		return NULL;
	}
	for (size_t i = 0; i < cs->n; i++) {
		const struct kf_ynode *name = kf_ynode_get(cs->items[i], "name");

		if (!e->primary_container ||
		    (name && name->kind == KF_Y_SCALAR && !strcmp(name->value, e->primary_container)))
			return cs->items[i];
	}
	bad(ld, cs, "trialSpec: no container named \"%s\" (primaryContainerName)", e->primary_container);
	return NULL;
}

static void load_trial_spec(struct ld *ld, const struct kf_ynode *ts)
{
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *meta, *c;
	const char *api, *kind;

	if (!want_map(ld, ts, "trialTemplate.trialSpec"))
		return;
	api = want_str(ld, kf_ynode_get(ts, "apiVersion"), "trialSpec.apiVersion");
	kind = want_str(ld, kf_ynode_get(ts, "kind"), "trialSpec.kind");
	if (!api || !kind) {
		bad(ld, ts, "trialSpec needs apiVersion and kind");
		return;
	}
	if ((meta = kf_ynode_get(ts, "metadata")) && meta->kind == KF_Y_MAP) {
		if (kf_ynode_get(meta, "name"))
			bad(ld, kf_ynode_get(meta, "name"), "trialSpec must not set metadata.name");
		if (kf_ynode_get(meta, "namespace"))
			bad(ld, kf_ynode_get(meta, "namespace"), "trialSpec must not set "
			    "metadata.namespace");
	}
	e->trial_spec = kf_ynode_to_json(ts);
	if (!strcmp(kind, "Job") && !strcmp(api, "batch/v1")) {
		e->kind = KF_TRIAL_JOB;
		if ((c = job_container(ld, ts)) && !kf_ynode_get(c, "command") && !kf_ynode_get(c, "args"))
			bad(ld, c, "trialSpec: the container has no command (kf runs it as a local "
			    "process and cannot know the image's entrypoint)");
		else if (c && !kf_ynode_get(c, "command"))
			bad(ld, c, "trialSpec: the container has args but no command (kf cannot know "
			    "the image's entrypoint)");
		return;
	}
	if ((!strcmp(kind, "TFJob") || !strcmp(kind, "PyTorchJob")) && !strcmp(api, "kubeflow.org/v1")) {
		/* run by kf train's training-operator runner, which validates it */
		e->kind = !strcmp(kind, "TFJob") ? KF_TRIAL_TFJOB : KF_TRIAL_PYTORCHJOB;
		return;
	}
	if (!strcmp(kind, "Workflow") && !strcmp(api, "argoproj.io/v1alpha1")) {
		/* imported as kf run imports a Workflow, when a trial starts */
		e->kind = KF_TRIAL_WORKFLOW;
		return;
	}
	if (!e->success_condition || !e->failure_condition)
		bad(ld, kf_ynode_get(ts, "kind"), "trialSpec kind \"%s\" needs successCondition and "
		    "failureCondition", kind);
	else
		bad(ld, kf_ynode_get(ts, "kind"), "trialSpec kind \"%s\" cannot run locally (kf runs "
		    "batch/v1 Job, TFJob, PyTorchJob and Argo Workflow trials, and kf pipeline trials)", kind);
}

static void load_template(struct ld *ld, const struct kf_ynode *t, const struct kf_ynode *spec)
{
	static const char *const keys[] = { "primaryContainerName", "trialParameters", "trialSpec",
					    "configMap", "successCondition", "failureCondition",
					    "primaryPodLabels", "retain", "pipeline", "pipelineParams",
					    NULL };
	static const char *const pkeys[] = { "name", "description", "reference", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *n, *ts, *pl;
	const char *s;
	bool *used = NULL;
	int sources;

	if (!t) {
		bad(ld, spec, "spec.trialTemplate is required");
		return;
	}
	if (!want_map(ld, t, "spec.trialTemplate"))
		return;
	check_keys(ld, t, keys, "spec.trialTemplate");
	if ((s = want_str(ld, kf_ynode_get(t, "primaryContainerName"), "primaryContainerName")))
		e->primary_container = kf_xstrdup(s);
	if ((s = want_str(ld, kf_ynode_get(t, "successCondition"), "successCondition")))
		e->success_condition = kf_xstrdup(s);
	if ((s = want_str(ld, kf_ynode_get(t, "failureCondition"), "failureCondition")))
		e->failure_condition = kf_xstrdup(s);
	if ((n = want_seq(ld, kf_ynode_get(t, "trialParameters"), "trialParameters"))) {
		e->trial_params = kf_xcalloc(n->n ? n->n : 1, sizeof *e->trial_params);
		for (size_t i = 0; i < n->n; i++) {
			const struct kf_ynode *m = want_map(ld, n->items[i], "a trial parameter");
			struct kf_trial_param *tp;
			const char *name, *ref;

			if (!m)
				continue;
			check_keys(ld, m, pkeys, "trialParameters");
			name = want_str(ld, kf_ynode_get(m, "name"), "trialParameters.name");
			ref = want_str(ld, kf_ynode_get(m, "reference"), "trialParameters.reference");
			if (!name || !ref) {
				bad(ld, m, "a trial parameter needs name and reference");
				continue;
			}
			tp = &e->trial_params[e->n_trial_params];
			for (size_t j = 0; j < e->n_trial_params; j++)
				if (!strcmp(e->trial_params[j].name, name))
					bad(ld, m, "trial parameter \"%s\" is declared twice", name);
			tp->name = kf_xstrdup(name);
			tp->reference = kf_xstrdup(ref);
			tp->line = m->line;
			tp->col = m->col;
			s = want_str(ld, kf_ynode_get(m, "description"), "description");
			tp->description = s ? kf_xstrdup(s) : NULL;
			tp->param = kf_experiment_param(e, ref);
			if (tp->param < 0 && !is_meta_ref(ref)) {
				const char *names[64];
				size_t k = 0;
				const char *hint;

				for (size_t j = 0; j < e->n_params && k < 64; j++)
					names[k++] = e->params[j].name;
				hint = kf_str_suggest(ref, names, k);
				if (hint)
					bad(ld, kf_ynode_get(m, "reference"), "trial parameter \"%s\": "
					    "reference \"%s\" is not a parameter (did you mean \"%s\"?)",
					    name, ref, hint);
				else
					bad(ld, kf_ynode_get(m, "reference"), "trial parameter \"%s\": "
					    "reference \"%s\" is neither a parameter nor trial metadata",
					    name, ref);
			}
			e->n_trial_params++;
		}
	}
	used = kf_xcalloc(e->n_trial_params + 1, sizeof *used);
	ts = kf_ynode_get(t, "trialSpec");
	pl = kf_ynode_get(t, "pipeline");
	sources = !!ts + !!pl + !!kf_ynode_get(t, "configMap");
	if (sources != 1) {
		bad(ld, t, sources ? "trialTemplate takes one of trialSpec, configMap and pipeline" :
		    "trialTemplate needs trialSpec (or kf's pipeline)");
		goto out;
	}
	if (kf_ynode_get(t, "configMap")) {
		bad(ld, kf_ynode_get(t, "configMap"), "trialTemplate.configMap needs a cluster; put the "
		    "template in trialSpec");
		goto out;
	}
	if (ts) {
		if (kf_ynode_get(t, "pipelineParams"))
			bad(ld, kf_ynode_get(t, "pipelineParams"), "pipelineParams goes with pipeline, "
			    "not trialSpec");
		load_trial_spec(ld, ts);
		scan_node(ld, ts, used);
	} else if ((s = want_str(ld, pl, "trialTemplate.pipeline"))) {
		const struct kf_ynode *pp = want_map(ld, kf_ynode_get(t, "pipelineParams"),
						     "pipelineParams");

		e->kind = KF_TRIAL_PIPELINE;
		e->pipeline = s[0] == '/' ? kf_xstrdup(s) : kf_path_join(e->dir, s);
		if (!kf_fs_exists(e->pipeline))
			bad(ld, pl, "pipeline \"%s\" does not exist", s);
		if (pp) {
			e->pp_names = kf_xcalloc(pp->n ? pp->n : 1, sizeof *e->pp_names);
			e->pp_values = kf_xcalloc(pp->n ? pp->n : 1, sizeof *e->pp_values);
			for (size_t i = 0; i < pp->n; i++) {
				const struct kf_ynode *v = kf_ynode_val(pp, i);
				const char *vs = want_str(ld, v, "a pipeline parameter value");

				e->pp_names[i] = kf_xstrdup(kf_ynode_key(pp, i)->value);
				e->pp_values[i] = kf_xstrdup(vs ? vs : "");
				e->n_pipeline_params++;
				if (vs)
					scan_refs(ld, v, vs, used);
			}
		}
	}
	for (size_t i = 0; i < e->n_trial_params; i++)
		if (!used[i]) {
			struct kf_ynode at = { .line = e->trial_params[i].line, .col = e->trial_params[i].col };

			bad(ld, &at, "trial parameter \"%s\" is not used in the trial template",
			    e->trial_params[i].name);
		}
out:
	free(used);
}

/* ---- the document ----------------------------------------------------- */

static bool dns1035(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 40 || !islower((unsigned char)s[0]) || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static void load_counts(struct ld *ld, const struct kf_ynode *spec)
{
	static const char *const policies[] = { "Never", "LongRunning", "FromVolume", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *pn = kf_ynode_get(spec, "parallelTrialCount");
	const struct kf_ynode *mn = kf_ynode_get(spec, "maxTrialCount");
	const struct kf_ynode *fn = kf_ynode_get(spec, "maxFailedTrialCount");
	const char *s;

	e->parallel = 3;
	e->max_failed = -1;
	if (pn && want_int(ld, pn, "parallelTrialCount", &e->parallel) && e->parallel <= 0)
		bad(ld, pn, "parallelTrialCount must be greater than 0");
	if (mn && want_int(ld, mn, "maxTrialCount", &e->max_trials) && e->max_trials <= 0)
		bad(ld, mn, "maxTrialCount must be greater than 0");
	if (fn && want_int(ld, fn, "maxFailedTrialCount", &e->max_failed) && e->max_failed < 0)
		bad(ld, fn, "maxFailedTrialCount must not be negative");
	if (e->max_trials > 0 && pn && e->parallel > e->max_trials)
		bad(ld, pn, "parallelTrialCount %d must not be greater than maxTrialCount %d",
		    e->parallel, e->max_trials);
	if (e->max_trials > 0 && e->max_failed > e->max_trials)
		bad(ld, fn, "maxFailedTrialCount %d must not be greater than maxTrialCount %d",
		    e->max_failed, e->max_trials);
	if (e->max_trials > 0 && !pn && e->parallel > e->max_trials)
		e->parallel = e->max_trials;
	if ((s = one_of(ld, kf_ynode_get(spec, "resumePolicy"), "resumePolicy", policies)))
		e->resume_policy = kf_xstrdup(s);
}

static void load_root(struct ld *ld, const struct kf_ynode *root)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec", "status", NULL };
	static const char *const skeys[] = { "algorithm", "earlyStopping", "maxFailedTrialCount",
					     "maxTrialCount", "metricsCollectorSpec", "nasConfig",
					     "objective", "parallelTrialCount", "parameters",
					     "resumePolicy", "trialTemplate", NULL };
	struct kf_experiment *e = ld->e;
	const struct kf_ynode *meta, *spec, *n;
	const char *s;

	if (!root || root->kind != KF_Y_MAP) {
		bad(ld, root, "an Experiment must be a map");
		return;
	}
	check_keys(ld, root, keys, "Experiment");
	n = kf_ynode_get(root, "apiVersion");
	s = want_str(ld, n, "apiVersion");
	if (!s || strcmp(s, "kubeflow.org/v1beta1"))
		bad(ld, n ? n : root, "apiVersion must be \"kubeflow.org/v1beta1\"");
	n = kf_ynode_get(root, "kind");
	s = want_str(ld, n, "kind");
	if (!s || strcmp(s, "Experiment"))
		bad(ld, n ? n : root, "kind must be \"Experiment\"");
	meta = want_map(ld, kf_ynode_get(root, "metadata"), "metadata");
	n = meta ? kf_ynode_get(meta, "name") : NULL;
	if (!n)
		bad(ld, meta ? meta : root, "metadata.name is required");
	else if ((s = want_str(ld, n, "metadata.name"))) {
		if (!dns1035(s))
			bad(ld, n, "metadata.name \"%s\" must be a DNS-1035 label of at most 40 "
			    "characters", s);
		e->name = kf_xstrdup(s);
	}
	spec = kf_ynode_get(root, "spec");
	if (!spec) {
		bad(ld, root, "spec is required");
		return;
	}
	if (!want_map(ld, spec, "spec"))
		return;
	check_keys(ld, spec, skeys, "spec");
	load_objective(ld, kf_ynode_get(spec, "objective"), spec);
	load_params(ld, kf_ynode_get(spec, "parameters"), spec);
	load_counts(ld, spec);
	load_algorithm(ld, kf_ynode_get(spec, "algorithm"), spec);
	check_algorithm(ld);
	check_grid(ld);
	load_early_stopping(ld, kf_ynode_get(spec, "earlyStopping"));
	load_collector(ld, kf_ynode_get(spec, "metricsCollectorSpec"));
	load_template(ld, kf_ynode_get(spec, "trialTemplate"), spec);
	if (e->max_trials == 0 && e->algorithm && strcmp(e->algorithm, "grid") &&
	    strcmp(e->algorithm, "hyperband"))
		bad(ld, spec, "spec.maxTrialCount is required for algorithm \"%s\" (its search "
		    "never ends on its own)", e->algorithm);
}

int kf_experiment_load_text(struct kf_experiment **out, const char *path, const char *text,
			    size_t len, struct kf_errlist *errs)
{
	struct kf_ydoc doc = { 0 };
	struct kf_experiment *e;
	struct kf_err err;
	struct ld ld;
	size_t before = errs->n;
	int rc;

	*out = NULL;
	kf_err_clear(&err);
	rc = kf_yaml_load(&doc, path, text, len, &err);
	if (rc < 0) {
		kf_errlist_add(errs, &err);
		return rc;
	}
	e = kf_xcalloc(1, sizeof *e);
	e->file = kf_xstrdup(path);
	e->dir = kf_path_dirname(path);
	ld = (struct ld){ .e = e, .errs = errs, .file = path };
	if (doc.n_roots != 1)
		bad(&ld, NULL, "expected one YAML document, found %zu", doc.n_roots);
	else {
		load_root(&ld, doc.root);
		e->source = kf_ynode_to_json(doc.root);
	}
	kf_ydoc_release(&doc);
	if (errs->n > before) {
		kf_experiment_free(e);
		return KF_EINPUT;
	}
	*out = e;
	return 0;
}

int kf_experiment_load(struct kf_experiment **out, const char *path, struct kf_errlist *errs)
{
	struct kf_buf buf = KF_BUF_INIT;
	struct kf_err err;
	int rc;

	*out = NULL;
	kf_err_clear(&err);
	rc = kf_fs_read_file(path, &buf, &err);
	if (rc < 0) {
		kf_errlist_add(errs, &err);
		goto out;
	}
	rc = kf_experiment_load_text(out, path, kf_buf_str(&buf), buf.len, errs);
out:
	kf_buf_release(&buf);
	return rc;
}

static void free_settings(struct kf_setting *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].value);
	}
	free(s);
}

void kf_experiment_free(struct kf_experiment *e)
{
	if (!e)
		return;
	free(e->file);
	free(e->dir);
	free(e->name);
	for (size_t i = 0; i < e->n_metrics; i++)
		free(e->metrics[i].name);
	free(e->metrics);
	free(e->algorithm);
	free_settings(e->settings, e->n_settings);
	free(e->early_stopping);
	free_settings(e->es_settings, e->n_es_settings);
	for (size_t i = 0; i < e->n_params; i++) {
		free(e->params[i].name);
		for (size_t j = 0; j < e->params[i].n_list; j++)
			free(e->params[i].list[j]);
		free(e->params[i].list);
	}
	free(e->params);
	free(e->resume_policy);
	free(e->file_path);
	for (size_t i = 0; i < e->n_filters; i++)
		free(e->filters[i]);
	free(e->filters);
	free(e->primary_container);
	for (size_t i = 0; i < e->n_trial_params; i++) {
		free(e->trial_params[i].name);
		free(e->trial_params[i].reference);
		free(e->trial_params[i].description);
	}
	free(e->trial_params);
	cJSON_Delete(e->trial_spec);
	free(e->success_condition);
	free(e->failure_condition);
	free(e->pipeline);
	for (size_t i = 0; i < e->n_pipeline_params; i++) {
		free(e->pp_names[i]);
		free(e->pp_values[i]);
	}
	free(e->pp_names);
	free(e->pp_values);
	cJSON_Delete(e->source);
	free(e);
}

const char *kf_experiment_setting(const struct kf_experiment *e, const char *name)
{
	const struct kf_setting *s = find_setting(e->settings, e->n_settings, name);

	return s ? s->value : NULL;
}

const char *kf_experiment_es_setting(const struct kf_experiment *e, const char *name)
{
	const struct kf_setting *s = find_setting(e->es_settings, e->n_es_settings, name);

	return s ? s->value : NULL;
}

long kf_experiment_param(const struct kf_experiment *e, const char *name)
{
	for (size_t i = 0; i < e->n_params; i++)
		if (!strcmp(e->params[i].name, name))
			return (long)i;
	return -1;
}

/* ---- substitution ------------------------------------------------------ */

static const char *meta_value(const struct kf_experiment *e, const char *ref, const char *trial)
{
	if (!strcmp(ref, "${trialSpec.Name}"))
		return trial;
	if (!strcmp(ref, "${trialSpec.Namespace}"))
		return "default";
	if (!strcmp(ref, "${trialSpec.Kind}") || !strcmp(ref, "${trialSpec.APIVersion}")) {
		const cJSON *v = cJSON_GetObjectItem(e->trial_spec, ref[12] == 'K' ? "kind" : "apiVersion");

		return cJSON_IsString(v) ? v->valuestring : "";
	}
	return "";   /* labels and annotations: a local trial has none */
}

char *kf_experiment_subst(const struct kf_experiment *e, const char *s, const char *trial_name,
			  const char *const *values)
{
	struct kf_buf b = KF_BUF_INIT;
	const char *p = s, *q;

	while ((q = strstr(p, "${trialParameters."))) {
		const char *name = q + strlen("${trialParameters.");
		const char *end = strchr(name, '}');
		bool done = false;

		if (!end)
			break;
		kf_buf_add(&b, p, (size_t)(q - p));
		for (size_t i = 0; i < e->n_trial_params && !done; i++) {
			const struct kf_trial_param *tp = &e->trial_params[i];

			if (strlen(tp->name) != (size_t)(end - name) ||
			    strncmp(tp->name, name, (size_t)(end - name)))
				continue;
			kf_buf_adds(&b, tp->param >= 0 ? values[i] : meta_value(e, tp->reference, trial_name));
			done = true;
		}
		if (!done)
			kf_buf_add(&b, q, (size_t)(end + 1 - q));
		p = end + 1;
	}
	kf_buf_adds(&b, p);
	return kf_buf_detach(&b);
}

static void render(const struct kf_experiment *e, cJSON *n, const char *trial, const char *const *values)
{
	cJSON *c;

	if (cJSON_IsString(n) && strstr(n->valuestring, "${trialParameters.")) {
		char *s = kf_experiment_subst(e, n->valuestring, trial, values);

		cJSON_SetValuestring(n, s);
		free(s);
		return;
	}
	cJSON_ArrayForEach(c, n)
		render(e, c, trial, values);
}

cJSON *kf_experiment_render(const struct kf_experiment *e, const char *trial_name,
			    const char *const *values)
{
	cJSON *doc = cJSON_Duplicate(e->trial_spec, 1);

	if (doc)
		render(e, doc, trial_name, values);
	return doc;
}
