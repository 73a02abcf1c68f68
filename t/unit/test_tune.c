/* Unit tests of lib/tune: the experiment loader, the algorithms on small
 * known functions, hyperband's brackets, medianstop, metrics parsing. */
#include "config.h"

#include "kf_tap.h"

#include "tune/kf_experiment.h"
#include "tune/kf_medianstop.h"
#include "tune/kf_collect.h"
#include "tune/kf_prng.h"
#include "tune/kf_sobol.h"
#include "tune/kf_suggest.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An experiment over params (YAML list items) with the given algorithm. */
static struct kf_experiment *make(const char *algo, const char *settings, const char *params,
				  int max_trials, int parallel, struct kf_errlist *errs)
{
	struct kf_experiment *e = NULL;
	char *text = kf_xasprintf(
		"apiVersion: kubeflow.org/v1beta1\n"
		"kind: Experiment\n"
		"metadata: {name: t}\n"
		"spec:\n"
		"  objective: {type: minimize, objectiveMetricName: y}\n"
		"  algorithm:\n"
		"    algorithmName: %s\n"
		"    algorithmSettings: [%s]\n"
		"  parallelTrialCount: %d\n"
		"  maxTrialCount: %d\n"
		"  parameters:\n%s"
		"  trialTemplate:\n"
		"    trialParameters: []\n"
		"    trialSpec:\n"
		"      apiVersion: batch/v1\n"
		"      kind: Job\n"
		"      spec: {template: {spec: {containers: [{name: c, command: [\"true\"]}]}}}\n",
		algo, settings, parallel, max_trials, params);

	kf_experiment_load_text(&e, "t.yaml", text, strlen(text), errs);
	free(text);
	return e;
}

static const char *const XY =
	"  - {name: x, parameterType: double, feasibleSpace: {min: \"-5\", max: \"10\"}}\n"
	"  - {name: y, parameterType: double, feasibleSpace: {min: \"0\", max: \"15\"}}\n";

static double branin(const double *v)
{
	double x = v[0], y = v[1];
	double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);

	return pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - t) * cos(x) + 10;
}

/* Run n trials of e's algorithm on f (sequentially); the best value. */
static double optimize(struct kf_experiment *e, double (*f)(const double *), int n, double *trace)
{
	struct kf_algo a;
	struct kf_err err;
	struct kf_obs *hist = kf_xcalloc((size_t)n, sizeof *hist);
	double *us = kf_xcalloc((size_t)n * e->n_params, sizeof *us);
	double best = INFINITY, v[16];
	int k;

	kf_err_clear(&err);
	if (kf_algo_init(&a, e, &err) < 0) {
		printf("# %s\n", err.msg);
		free(hist);
		free(us);
		return NAN;
	}
	for (k = 0; k < n; k++) {
		struct kf_suggestion s = { .u = us + (size_t)k * e->n_params };

		if (kf_suggest_next(&a, e, hist, (size_t)k, &s, &err) != KF_SUGGEST_OK)
			break;
		for (size_t j = 0; j < e->n_params; j++)
			v[j] = kf_suggest_decode(&e->params[j], s.u[j], NULL);
		hist[k] = (struct kf_obs){ .u = s.u, .y = f(v), .state = KF_OBS_DONE };
		if (hist[k].y < best)
			best = hist[k].y;
		if (trace)
			trace[k] = hist[k].y;
	}
	kf_algo_release(&a);
	free(hist);
	free(us);
	return best;
}

static void test_algorithms(void)
{
	static const char *const algos[] = { "random", "sobol", "tpe", "bayesianoptimization", "cmaes" };
	const double opt = 0.397887;

	for (size_t i = 0; i < sizeof algos / sizeof *algos; i++) {
		struct kf_errlist errs = KF_ERRLIST_INIT;
		struct kf_experiment *e = make(algos[i], "{name: random_state, value: \"7\"}", XY, 60, 1,
					       &errs);
		double t1[60], t2[60], best;

		TAP_OK(e != NULL, "%s: experiment loads", algos[i]);
		if (!e) {
			printf("# %s\n", errs.n ? errs.items[0].msg : "?");
			kf_errlist_release(&errs);
			continue;
		}
		best = optimize(e, branin, 60, t1);
		optimize(e, branin, 60, t2);
		TAP_OK(!memcmp(t1, t2, sizeof t1), "%s: the same random_state gives the same trials",
		       algos[i]);
		/* loose bounds: every algorithm beats a handful of random draws */
		TAP_OK(best - opt < (strcmp(algos[i], "random") && strcmp(algos[i], "sobol") ? 0.5 : 3.0),
		       "%s: branin regret %.4f after 60 trials", algos[i], best - opt);
		kf_experiment_free(e);
	}
}

static void test_model_based_beat_random(void)
{
	static const char *const algos[] = { "tpe", "bayesianoptimization", "cmaes" };
	double r_rand = 0, r[3] = { 0 };

	for (int seed = 1; seed <= 5; seed++) {
		char set[64];
		struct kf_errlist errs = KF_ERRLIST_INIT;
		struct kf_experiment *e;

		snprintf(set, sizeof set, "{name: random_state, value: \"%d\"}", seed);
		e = make("random", set, XY, 50, 1, &errs);
		r_rand += optimize(e, branin, 50, NULL);
		kf_experiment_free(e);
		for (int i = 0; i < 3; i++) {
			e = make(algos[i], set, XY, 50, 1, &errs);
			r[i] += optimize(e, branin, 50, NULL);
			kf_experiment_free(e);
		}
		kf_errlist_release(&errs);
	}
	for (int i = 0; i < 3; i++)
		TAP_OK(r[i] < r_rand, "%s beats random on branin over 5 seeds (%.4f < %.4f)", algos[i],
		       r[i] / 5, r_rand / 5);
}

static double cat_objective(const double *v)
{
	/* v[1] is the list index: "adam" (2) is best by far */
	return (v[0] - 0.3) * (v[0] - 0.3) + (v[1] == 2 ? 0 : 1);
}

static void test_tpe_categorical(void)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_experiment *e = make("tpe", "{name: random_state, value: \"3\"}",
		"  - {name: x, parameterType: double, feasibleSpace: {min: \"0\", max: \"1\"}}\n"
		"  - {name: opt, parameterType: categorical, feasibleSpace: {list: [sgd, rmsprop, adam, adagrad, nadam]}}\n",
		40, 1, &errs);
	struct kf_algo a;
	struct kf_err err;
	struct kf_obs hist[40];
	double us[40 * 2], v[2];
	int adam = 0;

	kf_err_clear(&err);
	if (!e || kf_algo_init(&a, e, &err) < 0) {
		TAP_OK(0, "tpe categorical experiment loads");
		return;
	}
	for (int k = 0; k < 40; k++) {
		struct kf_suggestion s = { .u = us + k * 2 };
		size_t idx;

		kf_suggest_next(&a, e, hist, (size_t)k, &s, &err);
		v[0] = kf_suggest_decode(&e->params[0], s.u[0], NULL);
		kf_suggest_decode(&e->params[1], s.u[1], &idx);
		v[1] = (double)idx;
		hist[k] = (struct kf_obs){ .u = s.u, .y = cat_objective(v), .state = KF_OBS_DONE };
		if (k >= 10)
			adam += idx == 2;
	}
	TAP_OK(adam >= 21, "tpe: a categorical's best value is chosen in most model-based trials (%d of 30)",
	       adam);
	kf_algo_release(&a);
	kf_experiment_free(e);
	kf_errlist_release(&errs);
}

static void test_grid(void)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_experiment *e = make("grid", "",
		"  - {name: a, parameterType: int, feasibleSpace: {min: \"1\", max: \"3\"}}\n"
		"  - {name: b, parameterType: double, feasibleSpace: {min: \"0.1\", max: \"0.3\", step: \"0.1\"}}\n"
		"  - {name: c, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}\n",
		18, 1, &errs);
	struct kf_algo a;
	struct kf_err err;
	struct kf_obs hist[19];
	double us[19 * 3];
	char seen[18][64];
	int n = 0, dup = 0;

	kf_err_clear(&err);
	TAP_OK(e && kf_algo_init(&a, e, &err) == 0, "grid: 3 x 3 x 2 space loads");
	if (!e)
		return;
	for (;;) {
		struct kf_suggestion s = { .u = us + n * 3 };
		char *va, *vb, *vc;

		if (kf_suggest_next(&a, e, hist, (size_t)n, &s, &err) != KF_SUGGEST_OK || n >= 19)
			break;
		va = kf_suggest_value(&e->params[0], s.u[0]);
		vb = kf_suggest_value(&e->params[1], s.u[1]);
		vc = kf_suggest_value(&e->params[2], s.u[2]);
		if (n < 18)
			snprintf(seen[n], sizeof seen[n], "%s/%s/%s", va, vb, vc);
		for (int i = 0; i < n && i < 18; i++)
			dup += !strcmp(seen[i], seen[n < 18 ? n : 17]);
		free(va);
		free(vb);
		free(vc);
		hist[n] = (struct kf_obs){ .u = s.u, .y = 0, .state = KF_OBS_DONE };
		n++;
	}
	TAP_OK(n == 18 && dup == 0, "grid: 18 distinct points, then exhausted (%d, %d duplicates)", n, dup);
	TAP_STR(seen[0], "1/0.1/sgd", "grid: first point");
	TAP_STR(seen[17], "3/0.3/adam", "grid: last point");
	TAP_STR(seen[4], "1/0.3/sgd", "grid: the last parameter varies fastest");
	kf_algo_release(&a);
	kf_experiment_free(e);
	kf_errlist_release(&errs);
}

static void test_hyperband(void)
{
	struct kf_hb_rung r[16];
	int n = kf_hyperband_schedule(9, 3, r, 16);
	static const int want_n[] = { 9, 3, 1, 5, 2, 3 };
	static const double want_r[] = { 1, 3, 9, 3, 9, 9 };
	int ok = n == 6;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_experiment *e;

	for (int i = 0; ok && i < 6; i++)
		ok = r[i].n == want_n[i] && r[i].r == want_r[i];
	TAP_OK(ok, "hyperband r_l 9 eta 3: rungs 9@1 3@3 1@9 | 5@3 2@9 | 3@9");
	n = kf_hyperband_schedule(81, 3, r, 16);
	TAP_OK(n == 15 && r[0].n == 81 && r[0].r == 1 && r[4].n == 1 && r[4].r == 81 && r[5].n == 34,
	       "hyperband r_l 81 eta 3: 5 brackets, first 81@1 ... 1@81, then 34@3");

	/* the second rung keeps the best third of the first */
	e = make("hyperband", "{name: r_l, value: \"9\"}, {name: resource_name, value: epochs}",
		 "  - {name: lr, parameterType: double, feasibleSpace: {min: \"0\", max: \"1\"}}\n"
		 "  - {name: epochs, parameterType: int, feasibleSpace: {min: \"1\", max: \"9\"}}\n",
		 23, 9, &errs);
	TAP_OK(e != NULL, "hyperband experiment loads");
	if (e) {
		struct kf_algo a;
		struct kf_err err;
		struct kf_obs hist[24];
		double us[24 * 2];
		int k, rc = 0, waits = 0;

		kf_err_clear(&err);
		kf_algo_init(&a, e, &err);
		for (k = 0; k < 24; k++) {
			struct kf_suggestion s = { .u = us + k * 2 };

			rc = kf_suggest_next(&a, e, hist, (size_t)k, &s, &err);
			if (k == 9) {
				/* rung 0 still running: the next rung waits */
				hist[8].state = KF_OBS_PENDING;
				waits = kf_suggest_next(&a, e, hist, 9, &s, &err) == KF_SUGGEST_WAIT;
				hist[8].state = KF_OBS_DONE;
				rc = kf_suggest_next(&a, e, hist, (size_t)k, &s, &err);
				TAP_OK(s.resource == 1 && s.resource_value == 3 && s.rung == 1,
				       "hyperband: rung 1 runs with epochs 3");
				TAP_OK(s.u[0] == hist[4].u[0], "hyperband: rung 1 starts from the best of rung 0");
			}
			if (rc != KF_SUGGEST_OK)
				break;
			/* the objective: lr distance from 0.5 */
			hist[k] = (struct kf_obs){ .u = s.u, .y = fabs(s.u[0] - 0.5), .state = KF_OBS_DONE };
			if (k == 4)
				hist[k].y = -1;   /* the best of rung 0 */
		}
		TAP_OK(waits, "hyperband: waits for a rung to finish");
		TAP_OK(k == 23 && rc == KF_SUGGEST_DONE, "hyperband: 23 trials, then done (%d)", k);
		kf_algo_release(&a);
		kf_experiment_free(e);
	}
	kf_errlist_release(&errs);
}

static void test_sobol(void)
{
	static const double p1000[] = {
		0.2197265625, 0.0966796875, 0.5185546875, 0.6767578125, 0.2802734375, 0.9072265625,
		0.0458984375, 0.8994140625, 0.5009765625, 0.0693359375, 0.0849609375, 0.2548828125,
		0.1611328125, 0.3837890625, 0.1435546875, 0.3701171875, 0.7197265625, 0.3447265625,
		0.9912109375, 0.7255859375, 0.5224609375,
	};
	static const double p2047[] = {
		0.00048828125, 0.62744140625, 0.93115234375, 0.35107421875, 0.63037109375,
		0.65771484375, 0.11767578125, 0.03173828125, 0.91455078125, 0.44580078125,
		0.49853515625, 0.88525390625, 0.58447265625, 0.98779296875, 0.48876953125,
		0.67822265625, 0.54150390625, 0.82373046875, 0.10986328125, 0.03662109375,
		0.35791015625,
	};
	double x[KF_SOBOL_MAX_DIM];
	int ok = 1, strat = 1;

	kf_sobol_point(21, 1000, NULL, x);
	for (int j = 0; j < 21; j++)
		ok &= x[j] == p1000[j];
	kf_sobol_point(21, 2047, NULL, x);
	for (int j = 0; j < 21; j++)
		ok &= x[j] == p2047[j];
	TAP_OK(ok, "sobol: points 1000 and 2047 in 21 dimensions match scipy's qmc.Sobol");
	/* the first 2^k points put one point in each interval of 2^-k, per dimension */
	for (int j = 0; j < 21; j++) {
		int hit[64] = { 0 };

		for (int i = 0; i < 64; i++) {
			double y[KF_SOBOL_MAX_DIM];

			kf_sobol_point(21, (uint64_t)i, NULL, y);
			hit[(int)(y[j] * 64)]++;
		}
		for (int i = 0; i < 64; i++)
			strat &= hit[i] == 1;
	}
	TAP_OK(strat, "sobol: the first 64 points stratify every dimension");
}

static void test_decode(void)
{
	struct kf_tune_param lr = { .name = "lr", .type = KF_PARAM_DOUBLE, .min = 1e-4, .max = 1e-1,
				    .log = true };
	struct kf_tune_param n = { .name = "n", .type = KF_PARAM_INT, .min = 2, .max = 5 };
	char *s;

	TAP_NEAR(kf_suggest_decode(&lr, 0.5, NULL), sqrt(1e-4 * 1e-1), 1e-12, "logUniform: the middle "
		 "is the geometric mean");
	TAP_NEAR(kf_suggest_decode(&n, 0.0, NULL), 2, 0, "int: 0 decodes to min");
	TAP_NEAR(kf_suggest_decode(&n, 0.999, NULL), 5, 0, "int: ~1 decodes to max");
	TAP_NEAR(kf_suggest_decode(&n, 0.26, NULL), 3, 0, "int: equal buckets per value");
	s = kf_suggest_value(&n, 0.6);
	TAP_STR(s, "4", "int value text");
	free(s);
	s = kf_suggest_value(&lr, 0.0);
	TAP_STR(s, "0.0001", "double value text is the shortest that reads back");
	free(s);
}

static void test_rng(void)
{
	struct kf_prng a, b;
	int same = 1, differ = 0;
	double sum = 0;

	kf_prng_seed(&a, 42, 3);
	kf_prng_seed(&b, 42, 3);
	for (int i = 0; i < 100; i++)
		same &= kf_prng_next(&a) == kf_prng_next(&b);
	kf_prng_seed(&b, 42, 4);
	for (int i = 0; i < 100; i++)
		differ += kf_prng_next(&a) != kf_prng_next(&b);
	for (int i = 0; i < 10000; i++)
		sum += kf_prng_uniform(&a);
	TAP_OK(same, "rng: same seed and stream, same numbers");
	TAP_OK(differ == 100, "rng: another stream, other numbers");
	TAP_NEAR(sum / 10000, 0.5, 0.01, "rng: uniform mean");
}

static void test_medianstop(void)
{
	struct kf_medianstop ms = { .min_trials = 2, .start_step = 3, .maximize = true };
	const double good[] = { 0.5, 0.6, 0.7, 0.9 }, ok[] = { 0.4, 0.5, 0.6 };
	const double bad[] = { 0.1, 0.2, 0.3 }, early[] = { 0.1, 0.1 };
	double avgs[2], median;

	avgs[0] = kf_medianstop_average(&ms, good, 4);
	TAP_NEAR(avgs[0], 0.6, 1e-12, "medianstop: the average of the first start_step values");
	TAP_OK(!kf_medianstop_median(&ms, avgs, 1, &median), "medianstop: no rule below min_trials_required");
	avgs[1] = kf_medianstop_average(&ms, ok, 3);
	TAP_OK(kf_medianstop_median(&ms, avgs, 2, &median), "medianstop: a rule at min_trials_required");
	TAP_NEAR(median, 0.55, 1e-12, "medianstop: the median of the averages");
	TAP_OK(kf_medianstop_stop(&ms, median, bad, 3), "medianstop: stops a trial below the median");
	TAP_OK(!kf_medianstop_stop(&ms, median, early, 2), "medianstop: not before start_step");
	TAP_OK(!kf_medianstop_stop(&ms, median, good, 3), "medianstop: keeps a trial above the median");
	ms.maximize = false;
	TAP_OK(kf_medianstop_stop(&ms, median, good, 3), "medianstop: minimizing, stops one above");
}

static void test_metrics(void)
{
	static const struct kf_metric_spec names[] = {
		{ "loss", KF_STRATEGY_MIN }, { "accuracy", KF_STRATEGY_MAX }, { "a", KF_STRATEGY_LATEST },
		{ "b", KF_STRATEGY_LATEST }, { "c", KF_STRATEGY_LATEST }, { "d", KF_STRATEGY_LATEST },
		{ "Validation-accuracy", KF_STRATEGY_LATEST },
	};
	const char *text =
		"epoch 1: loss=1e-05 accuracy=0.9\n"
		"a = -1.5, b=5, c=.5 d=5.\n"
		"Validation-accuracy=0.97 other=3\n"
		"loss=2.5E+2\n";
	struct kf_collect m = KF_COLLECT_INIT;
	struct kf_err err;
	double v;

	kf_err_clear(&err);
	kf_collect_parse_text(&m, text, strlen(text), NULL, 0, names, 7, &err);
	TAP_OK(kf_collect_value(&m, "loss", KF_STRATEGY_MIN, &v) && v == 1e-05, "regex: loss=1e-05");
	TAP_OK(kf_collect_value(&m, "loss", KF_STRATEGY_LATEST, &v) && v == 250, "regex: 2.5E+2");
	TAP_OK(kf_collect_value(&m, "accuracy", KF_STRATEGY_MAX, &v) && v == 0.9, "regex: accuracy=0.9");
	TAP_OK(kf_collect_value(&m, "a", KF_STRATEGY_LATEST, &v) && v == -1.5, "regex: a = -1.5");
	TAP_OK(kf_collect_value(&m, "b", KF_STRATEGY_LATEST, &v) && v == 5, "regex: b=5");
	TAP_OK(kf_collect_value(&m, "c", KF_STRATEGY_LATEST, &v) && v == 0.5, "regex: c=.5");
	TAP_OK(kf_collect_value(&m, "d", KF_STRATEGY_LATEST, &v) && v == 5, "regex: d=5.");
	TAP_OK(kf_collect_value(&m, "Validation-accuracy", KF_STRATEGY_LATEST, &v) && v == 0.97,
	       "regex: a name with a dash");
	TAP_OK(kf_collect_count(&m, "other") == 0, "regex: names not asked for are dropped");
	kf_collect_release(&m);

	{
		char *filters[] = { "\"([a-z]+)\":\\s*(-?\\d+\\.?\\d*)" };
		const char *t2 = "{\"loss\": 0.25, \"accuracy\": 0.75}\n";

		kf_collect_parse_text(&m, t2, strlen(t2), filters, 1, names, 2, &err);
		TAP_OK(kf_collect_value(&m, "loss", KF_STRATEGY_MIN, &v) && v == 0.25 &&
		       kf_collect_value(&m, "accuracy", KF_STRATEGY_MAX, &v) && v == 0.75,
		       "metricsFormat filter with \\d and \\s");
		kf_collect_release(&m);
	}
	{
		const char *j = "{\"loss\": \"0.5\", \"timestamp\": \"x\"}\n\n{\"loss\": 0.25}\n";

		TAP_OK(kf_collect_parse_json_lines(&m, j, strlen(j), names, 2, &err) == 0 &&
		       kf_collect_count(&m, "loss") == 2 &&
		       kf_collect_value(&m, "loss", KF_STRATEGY_LATEST, &v) && v == 0.25,
		       "JSON lines: strings and numbers");
		kf_collect_release(&m);
	}
	{
		const char *one = "{\"accuracy\": 0.875, \"auc\": \"0.9\", \"loss\": 0.3}\n";
		const char *lines = "{\"loss\": 0.5}\n{\"loss\": 0.25}\n";

		TAP_OK(kf_collect_parse_json(&m, one, strlen(one), names, 2, &err) == 0 &&
		       kf_collect_value(&m, "accuracy", KF_STRATEGY_MAX, &v) && v == 0.875 &&
		       kf_collect_count(&m, "auc") == 0 && kf_collect_count(&m, "loss") == 1,
		       "one JSON object (kf train's metrics.json)");
		kf_collect_release(&m);
		TAP_OK(kf_collect_parse_json(&m, lines, strlen(lines), names, 2, &err) == 0 &&
		       kf_collect_count(&m, "loss") == 2, "JSON: lines when not one document");
		kf_collect_release(&m);
	}
	{
		const char *k = "{\"metrics\": [{\"name\": \"accuracy\", \"numberValue\": 0.8, \"format\": \"RAW\"}]}";

		TAP_OK(kf_collect_parse_kfp(&m, k, strlen(k), names, 2, &err) == 0 &&
		       kf_collect_value(&m, "accuracy", KF_STRATEGY_MAX, &v) && v == 0.8,
		       "KFP metrics document");
		kf_collect_release(&m);
	}
}

static void test_loader_errors(void)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_experiment *e;
	int found = 0;

	e = make("tpee", "", XY, 5, 1, &errs);
	TAP_OK(!e && errs.n == 1 && strstr(errs.items[0].msg, "did you mean \"tpe\"") &&
	       errs.items[0].line == 7, "unknown algorithm: did you mean, at its line");
	kf_errlist_release(&errs);
	e = make("grid", "", XY, 5, 1, &errs);
	for (size_t i = 0; i < errs.n; i++)
		found += strstr(errs.items[i].msg, "needs feasibleSpace.step") != NULL;
	TAP_OK(!e && found == 1, "grid: a double without step is an error");
	kf_errlist_release(&errs);
	e = make("random", "", XY, 2, 3, &errs);
	TAP_OK(!e && errs.n == 1 && strstr(errs.items[0].msg, "must not be greater than maxTrialCount"),
	       "parallelTrialCount > maxTrialCount is an error");
	kf_errlist_release(&errs);
	e = make("random", "",
		 "  - {name: x, parameterType: int, feasibleSpace: {min: \"1\"}}\n"
		 "  - {name: c, parameterType: categorical, feasibleSpace: {}}\n", 2, 1, &errs);
	TAP_OK(!e && errs.n == 2 && strstr(errs.items[0].msg, "needs feasibleSpace.min and") &&
	       strstr(errs.items[1].msg, "needs a non-empty feasibleSpace.list"),
	       "int needs min and max, categorical a list");
	kf_errlist_release(&errs);
	e = make("tpe", "{name: n_startup, value: \"3\"}", XY, 5, 1, &errs);
	TAP_OK(!e && errs.n == 1 && strstr(errs.items[0].msg, "unknown setting \"n_startup\""),
	       "unknown algorithm setting");
	kf_errlist_release(&errs);
}

int main(void)
{
	test_rng();
	test_decode();
	test_sobol();
	test_grid();
	test_tpe_categorical();
	test_hyperband();
	test_medianstop();
	test_metrics();
	test_loader_errors();
	test_algorithms();
	test_model_based_beat_random();
	return tap_done();
}
