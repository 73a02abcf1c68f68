/* Unit tests for lib/ml: dense math on every backend (one set of test
 * vectors), gradient checks for every model, transforms and their JSON
 * round-trip, the label expression, metrics, and the bundle. */
#include "config.h"

#include "kf_tap.h"
#include "ml/kf_bundle.h"
#include "ml/kf_dense.h"
#include "ml/kf_labelexpr.h"
#include "ml/kf_features.h"
#include "ml/kf_metrics.h"
#include "ml/kf_mf.h"
#include "ml/kf_nn.h"
#include "ml/kf_rng.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <stdlib.h>
#include <unistd.h>

/* CPU and CUDA must agree with the reference within this (float64 sums in
 * a different order). */
#define DEVICE_TOL 1e-9

static void fill(double *v, size_t n, uint64_t seed)
{
	struct kf_rng r;
	size_t i;

	kf_rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		v[i] = kf_rng_uniform(&r) * 2 - 1;
}

static void ref_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, double alpha,
		     const double *a, const double *b, double beta, double *c)
{
	size_t i, j, p;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++) {
			double s = 0;

			for (p = 0; p < k; p++)
				s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
			c[i * n + j] = alpha * s + beta * c[i * n + j];
		}
}

static double max_diff(const double *a, const double *b, size_t n)
{
	double d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs(a[i] - b[i]) > d)
			d = fabs(a[i] - b[i]);
	return d;
}

/* The shared test vectors: every op on backend d against the reference. */
static void check_backend(struct kf_dense *d, const char *label)
{
	static const size_t shapes[][3] = { { 1, 1, 1 }, { 7, 5, 3 }, { 64, 33, 129 }, { 300, 1, 200 }, { 1, 257, 64 } };
	size_t s, t;

	for (s = 0; s < sizeof shapes / sizeof *shapes; s++) {
		size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
		double *a = kf_xmalloc(m * k * sizeof *a), *b = kf_xmalloc(k * n * sizeof *b);
		double *c = kf_xmalloc(m * n * sizeof *c), *r = kf_xmalloc(m * n * sizeof *r);

		for (t = 0; t < 4; t++) {
			bool ta = t & 1, tb = t & 2;

			fill(a, m * k, 1 + s);
			fill(b, k * n, 2 + s);
			fill(c, m * n, 3 + s);
			memcpy(r, c, m * n * sizeof *r);
			kf_dense_gemm(d, ta, tb, m, n, k, 0.5, a, b, 0.25, c);
			ref_gemm(ta, tb, m, n, k, 0.5, a, b, 0.25, r);
			TAP_NEAR(max_diff(c, r, m * n), 0, DEVICE_TOL, "%s gemm %zux%zux%zu ta=%d tb=%d", label, m, n, k, ta, tb);
		}
		free(a);
		free(b);
		free(c);
		free(r);
	}
	{
		double x[12], y[12], bias[4], dx[12], want[12];
		struct kf_adam p = { 0.01, 0.9, 0.999, 1e-8, 0.001, 3 };
		double w[12], g[12], m1[12], v1[12], w2[12], m2[12], v2[12];
		size_t i;

		fill(x, 12, 7);
		fill(bias, 4, 8);
		memcpy(y, x, sizeof y);
		kf_dense_bias_act(d, y, 3, 4, bias, KF_ACT_RELU);
		for (i = 0; i < 12; i++)
			want[i] = x[i] + bias[i % 4] > 0 ? x[i] + bias[i % 4] : 0;
		TAP_NEAR(max_diff(y, want, 12), 0, DEVICE_TOL, "%s bias + relu", label);
		memcpy(y, x, sizeof y);
		kf_dense_bias_act(d, y, 3, 4, bias, KF_ACT_SIGMOID);
		for (i = 0; i < 12; i++)
			want[i] = 1 / (1 + exp(-(x[i] + bias[i % 4])));
		TAP_NEAR(max_diff(y, want, 12), 0, DEVICE_TOL, "%s bias + sigmoid", label);
		fill(dx, 12, 9);
		memcpy(want, dx, sizeof want);
		kf_dense_act_grad(d, dx, y, 12, KF_ACT_SIGMOID);
		for (i = 0; i < 12; i++)
			want[i] *= y[i] * (1 - y[i]);
		TAP_NEAR(max_diff(dx, want, 12), 0, DEVICE_TOL, "%s sigmoid gradient", label);
		fill(w, 12, 10);
		fill(g, 12, 11);
		fill(m1, 12, 12);
		for (i = 0; i < 12; i++)
			v1[i] = fabs(m1[i]);
		memcpy(w2, w, sizeof w);
		memcpy(m2, m1, sizeof m1);
		memcpy(v2, v1, sizeof v1);
		kf_dense_adam(d, w, g, m1, v1, 12, &p);
		for (i = 0; i < 12; i++) {
			double gi = g[i] + p.l2 * w2[i];

			m2[i] = 0.9 * m2[i] + 0.1 * gi;
			v2[i] = 0.999 * v2[i] + 0.001 * gi * gi;
			w2[i] -= 0.01 * (m2[i] / (1 - pow(0.9, 3))) / (sqrt(v2[i] / (1 - pow(0.999, 3))) + 1e-8);
		}
		TAP_NEAR(max_diff(w, w2, 12), 0, DEVICE_TOL, "%s adam step", label);
	}
}

static void test_dense(void)
{
	struct kf_err err;
	struct kf_dense *d1, *d4;
	double *a = kf_xmalloc(200 * 150 * sizeof *a), *b = kf_xmalloc(150 * 90 * sizeof *b);
	double *c1 = kf_xcalloc(200 * 90, sizeof *c1), *c4 = kf_xcalloc(200 * 90, sizeof *c4);

	kf_dense_cpu_open(&d1, 1, &err);
	kf_dense_cpu_open(&d4, 4, &err);
	check_backend(d1, "cpu/1");
	check_backend(d4, "cpu/4");
	fill(a, 200 * 150, 1);
	fill(b, 150 * 90, 2);
	kf_dense_gemm(d1, false, false, 200, 90, 150, 1, a, b, 0, c1);
	kf_dense_gemm(d4, false, false, 200, 90, 150, 1, a, b, 0, c4);
	TAP_OK(!memcmp(c1, c4, 200 * 90 * sizeof *c1), "gemm is bit-identical on 1 and 4 threads");
	kf_dense_close(d1);
	kf_dense_close(d4);
	free(a);
	free(b);
	free(c1);
	free(c4);
	if (kf_dense_cuda_available()) {
		struct kf_dense *g;

		TAP_OK(kf_dense_open(&g, "cuda", 0, &err) == 0, "cuda backend opens");
		check_backend(g, "cuda");
		kf_dense_close(g);
	} else {
		TAP_OK(kf_dense_open(&d1, "cuda", 0, &err) == KF_EENV, "cuda without a device is an environment error");
		printf("# needs:cuda: no CUDA device (cuda test vectors skipped)\n");
	}
}

/* Central differences against the analytic gradient on a small model. */
static void gradcheck(enum kf_nn_head head, const size_t *hidden, size_t nh, size_t out, double l2,
		      const char *name)
{
	struct kf_nn nn;
	struct kf_nn_work w;
	struct kf_dense *d;
	struct kf_err err;
	double x[6 * 5], y[6], *g, worst = 0;
	size_t i;

	kf_dense_cpu_open(&d, 1, &err);
	kf_nn_init(&nn, head, 5, hidden, nh, out, 42, &err);
	nn.l2 = l2;
	fill(nn.params, nn.n_params, 3);   /* non-zero everywhere, also the convex models */
	fill(x, 30, 4);
	for (i = 0; i < 6; i++)
		y[i] = head == KF_NN_LOGISTIC ? (double)(i % 2) : head == KF_NN_SOFTMAX ? (double)(i % out) : x[i] * 3;
	kf_nn_work_init(&w, &nn, 6);
	kf_nn_loss_grad(&nn, d, &w, x, y, 6, NULL);
	g = kf_xmalloc(nn.n_params * sizeof *g);
	memcpy(g, w.grad, nn.n_params * sizeof *g);
	for (i = 0; i < nn.n_params; i++) {
		double keep = nn.params[i], h = 1e-6, lp, lm, num;

		nn.params[i] = keep + h;
		lp = kf_nn_loss(&nn, d, &w, x, y, 6);
		nn.params[i] = keep - h;
		lm = kf_nn_loss(&nn, d, &w, x, y, 6);
		nn.params[i] = keep;
		num = (lp - lm) / (2 * h);
		if (fabs(num - g[i]) / fmax(1, fabs(num)) > worst)
			worst = fabs(num - g[i]) / fmax(1, fabs(num));
	}
	TAP_NEAR(worst, 0, 1e-6, "gradient check: %s (%zu parameters)", name, nn.n_params);
	free(g);
	kf_nn_work_release(&w, &nn);
	kf_nn_release(&nn);
	kf_dense_close(d);
}

static void test_gradients(void)
{
	static const size_t h2[] = { 4, 3 };

	gradcheck(KF_NN_LOGISTIC, NULL, 0, 1, 0.01, "logistic");
	gradcheck(KF_NN_SOFTMAX, NULL, 0, 3, 0.01, "softmax");
	gradcheck(KF_NN_LINEAR, NULL, 0, 1, 0.01, "linear");
	gradcheck(KF_NN_LOGISTIC, h2, 2, 1, 0.001, "mlp (logistic head)");
	gradcheck(KF_NN_SOFTMAX, h2, 2, 3, 0, "mlp (softmax head)");
	gradcheck(KF_NN_LINEAR, h2, 1, 1, 0, "mlp (linear head)");
}

static void mf_gradcheck(bool implicit)
{
	struct kf_mf_params p = { 3, 2, 0.1, 2, implicit, 5 };
	struct kf_mf *m = kf_mf_new(implicit);
	struct kf_err err;
	double *gx, *gy, *x, worst = 0, after = 0;
	size_t i, nx;
	const char *items[3];
	double scores[3];

	kf_mf_add(m, "u1", "a", 5);
	kf_mf_add(m, "u1", "b", 3);
	kf_mf_add(m, "u2", "a", 4);
	kf_mf_add(m, "u2", "c", 1);
	kf_mf_add(m, "u3", "b", 2);
	kf_mf_add(m, "u3", "c", 5);
	kf_mf_add(m, "u3", "c", 1);
	kf_mf_fit(m, &p, NULL, NULL, &err);
	nx = kf_mf_users(m) * 3;
	gx = kf_xmalloc(nx * sizeof *gx);
	gy = kf_xmalloc(kf_mf_items(m) * 3 * sizeof *gy);
	x = kf_mf_user_factors(m);
	kf_mf_gradient(m, gx, gy);
	for (i = 0; i < nx; i++) {
		double keep = x[i], h = 1e-6, lp, lm, num;

		x[i] = keep + h;
		lp = kf_mf_objective(m);
		x[i] = keep - h;
		lm = kf_mf_objective(m);
		x[i] = keep;
		num = (lp - lm) / (2 * h);
		if (fabs(num - gx[i]) / fmax(1, fabs(num)) > worst)
			worst = fabs(num - gx[i]) / fmax(1, fabs(num));
	}
	TAP_NEAR(worst, 0, 1e-5, "gradient check: mf %s", implicit ? "implicit" : "explicit");
	kf_mf_als_step(m, true);
	kf_mf_gradient(m, gx, gy);
	for (i = 0; i < nx; i++)
		after = fmax(after, fabs(gx[i]));
	TAP_NEAR(after, 0, 1e-8, "mf %s: an ALS user step zeroes the user gradient", implicit ? "implicit" : "explicit");
	TAP_OK(kf_mf_recommend(m, "u1", 3, items, scores) == 1 && !strcmp(items[0], "c"),
	       "mf %s recommends only the unseen item", implicit ? "implicit" : "explicit");
	free(gx);
	free(gy);
	kf_mf_free(m);
}

static void test_expr(void)
{
	static const char *const names[] = { "tips", "fare", "payment_type" };
	static const char *const r1[] = { "3", "10", "Credit Card" };
	static const char *const r2[] = { "1", "10", "Cash" };
	static const char *const r3[] = { "5", "", "Cash" };
	struct kf_labelexpr *e;
	struct kf_err err;

	TAP_OK(kf_labelexpr_parse(&e, "tips > 0.2 * fare", names, 3, &err) == 0, "parse the taxi label");
	TAP_NEAR(kf_labelexpr_eval(e, r1), 1, 0, "3 > 0.2*10");
	TAP_NEAR(kf_labelexpr_eval(e, r2), 0, 0, "1 > 0.2*10 is false");
	TAP_NEAR(kf_labelexpr_eval(e, r3), 0, 0, "missing fare is false");
	kf_labelexpr_free(e);
	TAP_OK(kf_labelexpr_parse(&e, "payment_type == \"Credit Card\" && !(fare < 5)", names, 3, &err) == 0,
	       "parse strings, && and !");
	TAP_NEAR(kf_labelexpr_eval(e, r1), 1, 0, "string equality");
	TAP_NEAR(kf_labelexpr_eval(e, r2), 0, 0, "string inequality");
	kf_labelexpr_free(e);
	TAP_OK(kf_labelexpr_parse(&e, "tipz > 1", names, 3, &err) == KF_EUSAGE, "unknown column");
	TAP_STR(err.msg, "--label-expr: unknown column \"tipz\" (did you mean \"tips\"?)", "did you mean");
	TAP_OK(kf_labelexpr_parse(&e, "tips > (1", names, 3, &err) == KF_EUSAGE, "unbalanced parenthesis");
	TAP_STR(err.msg, "--label-expr: column 10: expected \")\"", "the place of a syntax error");
}

static void test_metrics(void)
{
	double s[] = { 0.1, 0.4, 0.35, 0.8 }, y[] = { 0, 0, 1, 1 };
	double s2[] = { 0.5, 0.5, 0.5, 0.5 };

	TAP_NEAR(kf_metrics_auc(s, y, 4), 0.75, 1e-12, "auc of the sklearn example");
	TAP_NEAR(kf_metrics_auc(s2, y, 4), 0.5, 1e-12, "auc with all ties");
	TAP_NEAR(kf_metrics_accuracy(s, y, 4), 0.75, 1e-12, "accuracy");
	TAP_NEAR(kf_metrics_logloss(s, y, 4), (-log(0.9) - log(0.6) - log(0.35) - log(0.8)) / 4, 1e-12, "log loss");
}

static const char *const cols[] = { "num", "skew", "cat", "small", "lab" };

static void row_of(size_t i, char buf[5][32], const char *v[5])
{
	static const char *const cats[] = { "red", "green", "blue", "", "violet" };

	snprintf(buf[0], 32, "%g", (double)(i % 17) * 1.5);
	snprintf(buf[1], 32, i % 50 == 0 ? "%g" : "%g", i % 50 == 0 ? 5000.0 : (double)(i % 7) + 0.5);
	snprintf(buf[2], 32, "%s", cats[i % 5]);
	snprintf(buf[3], 32, "%zu", i % 3);
	snprintf(buf[4], 32, "%zu", (i % 3 == 0 || i % 5 == 1) ? (size_t)1 : (size_t)0);
	if (i % 11 == 0)
		buf[0][0] = '\0';   /* missing */
	for (int c = 0; c < 5; c++)
		v[c] = buf[c];
}

static void test_features(void)
{
	static const bool skip[5] = { false, false, false, false, true };
	struct kf_features fs, back;
	struct kf_features_fit *fit;
	struct kf_err err;
	char buf[5][32];
	const char *v[5];
	double *x1, *x2;
	cJSON *j;
	char *text;
	size_t i;
	bool same = true;

	kf_features_fit_new(&fit, NULL, cols, 5, skip, 1, &err);
	for (i = 0; i < 500; i++) {
		row_of(i, buf, v);
		kf_features_fit_add(fit, v);
	}
	TAP_OK(kf_features_fit_finish(fit, &fs, &err) == 0, "fit an inferred spec");
	TAP_OK(fs.n == 4, "four features (the label is skipped): %zu", fs.n);
	TAP_STR(kf_ft_kind_name(fs.f[0].kind), "zscore", "num -> zscore");
	TAP_STR(kf_ft_kind_name(fs.f[1].kind), "log", "heavy tail -> log");
	TAP_STR(kf_ft_kind_name(fs.f[2].kind), "onehot", "strings -> onehot");
	TAP_STR(kf_ft_kind_name(fs.f[3].kind), "onehot", "small integers -> onehot");
	TAP_OK(fs.f[2].n_vocab == 5 && fs.f[2].width == 6, "vocabulary of 5 (missing is a category) + OOV");
	/* round trip through JSON text */
	j = kf_features_to_json(&fs);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	j = cJSON_Parse(text);
	TAP_OK(kf_features_from_json(&back, j, &err) == 0, "transform loads back from JSON");
	x1 = kf_xmalloc(fs.dim * sizeof *x1);
	x2 = kf_xmalloc(fs.dim * sizeof *x2);
	for (i = 0; i < 600; i++) {
		row_of(i * 7 + 3, buf, v);
		if (i == 599)
			v[2] = "never-seen";
		kf_features_apply(&fs, v, x1, false);
		kf_features_apply(&back, v, x2, false);
		if (memcmp(x1, x2, fs.dim * sizeof *x1))
			same = false;
	}
	TAP_OK(same && back.dim == fs.dim, "fitted and reloaded transforms give bit-identical vectors");
	TAP_NEAR(x1[fs.f[2].offset + fs.f[2].n_vocab], 1, 0, "an unseen category goes to the OOV slot");
	free(x1);
	free(x2);
	free(text);
	cJSON_Delete(j);
	kf_features_release(&back);
	kf_features_release(&fs);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_spec(void)
{
	char dir[] = "/tmp/kf-test-ml.XXXXXX";
	struct kf_features spec, fs;
	struct kf_features_fit *fit;
	struct kf_err err;
	char path[256], buf[5][32];
	const char *v[5];
	double x[64];
	size_t i;

	mkdtemp(dir);
	snprintf(path, sizeof path, "%s/f.yaml", dir);
	write_file(path, "apiVersion: kf/v1\nkind: Features\nfeatures:\n"
			 "  - {column: num, transform: bucketize, buckets: 4, missing: median}\n"
			 "  - {column: skew, transform: minmax}\n"
			 "  - {column: cat, transform: onehot, topK: 2}\n"
			 "  - {column: cat, name: cat_h, transform: hash, buckets: 8}\n"
			 "  - {cross: [cat, small], buckets: 16}\n");
	TAP_OK(kf_features_load_spec(&spec, path, &err) == 0, "load a feature spec");
	TAP_OK(kf_features_fit_new(&fit, &spec, cols, 5, NULL, 1, &err) == 0, "resolve its columns");
	for (i = 0; i < 300; i++) {
		row_of(i, buf, v);
		kf_features_fit_add(fit, v);
	}
	kf_features_fit_finish(fit, &fs, &err);
	kf_features_release(&spec);
	TAP_OK(fs.dim == 4 + 1 + 3 + 8 + 16, "dim = 4 buckets + 1 + (2 + OOV) + 8 + 16: %zu", fs.dim);
	TAP_OK(fs.f[0].n_bounds == 3, "quantile boundaries: %zu", fs.f[0].n_bounds);
	row_of(1, buf, v);
	kf_features_apply(&fs, v, x, false);
	{
		double s = 0;

		for (i = 0; i < fs.dim; i++)
			if (i != fs.f[1].offset)
				s += x[i];
		TAP_NEAR(s, 4, 0, "one slot set per categorical feature");
	}
	kf_features_release(&fs);
	write_file(path, "features:\n  - {column: num, transfrom: zscore}\n");
	TAP_OK(kf_features_load_spec(&spec, path, &err) == KF_EINPUT, "unknown key");
	TAP_OK(err.line == 2 && err.col == 19, "error at 2:19 (%d:%d)", err.line, err.col);
	TAP_STR(err.msg, "unknown key \"transfrom\" (did you mean \"transform\"?)", "key typo message");
	write_file(path, "features:\n  - {column: nmu, transform: zscore}\n");
	kf_features_load_spec(&spec, path, &err);
	TAP_OK(kf_features_fit_new(&fit, &spec, cols, 5, NULL, 1, &err) == KF_EINPUT, "unknown column");
	TAP_STR(err.msg, "feature \"nmu\": no column \"nmu\" in the data (did you mean \"num\"?)", "column typo");
	kf_features_release(&spec);
	kf_fs_remove_tree(dir, &err);
}

static void test_bundle(void)
{
	char dir[] = "/tmp/kf-test-bundle.XXXXXX";
	static const size_t hidden[] = { 3 };
	struct kf_nn nn;
	struct kf_features fs;
	struct kf_features_fit *fit;
	struct kf_bundle *b;
	struct kf_dense *d;
	struct kf_nn_work w;
	struct kf_err err;
	char hex[65], buf[5][32];
	const char *v[5];
	double *x, p1, p2;
	cJSON *meta;
	static const bool skip[5] = { false, false, false, false, true };
	size_t i;

	mkdtemp(dir);
	kf_features_fit_new(&fit, NULL, cols, 5, skip, 1, &err);
	for (i = 0; i < 100; i++) {
		row_of(i, buf, v);
		kf_features_fit_add(fit, v);
	}
	kf_features_fit_finish(fit, &fs, &err);
	kf_nn_init(&nn, KF_NN_LOGISTIC, fs.dim, hidden, 1, 1, 9, &err);
	fill(nn.params, nn.n_params, 5);
	kf_bundle_write_weights(dir, KF_BUNDLE_WEIGHTS, nn.params, nn.n_params, hex, &err);
	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "kind", "mlp");
	cJSON_AddStringToObject(meta, "task", "binary");
	cJSON_AddItemToObject(meta, "model", kf_bundle_nn_json(&nn, hex));
	cJSON_AddItemToObject(meta, "features", kf_features_to_json(&fs));
	TAP_OK(kf_bundle_write_meta(dir, meta, &err) == 0, "write a bundle");
	TAP_OK(kf_bundle_load(&b, dir, &err) == 0, "load it back");
	TAP_STR(kf_bundle_kind(b), "mlp", "kind");
	TAP_STR(kf_bundle_output_name(b, 0), "probability", "output name");
	x = kf_xmalloc(fs.dim * sizeof *x);
	row_of(78, buf, v);
	kf_features_apply(&fs, v, x, false);
	kf_dense_cpu_open(&d, 1, &err);
	kf_nn_work_init(&w, &nn, 1);
	kf_nn_predict(&nn, d, &w, x, 1, &p1);
	{
		cJSON *obj = cJSON_CreateObject();

		cJSON_AddNumberToObject(obj, "num", atof(v[0]));
		cJSON_AddNumberToObject(obj, "skew", atof(v[1]));
		cJSON_AddStringToObject(obj, "cat", v[2]);
		cJSON_AddNumberToObject(obj, "small", atof(v[3]));
		TAP_OK(kf_bundle_transform_json(b, obj, x, &err) == 0, "transform a JSON instance");
		cJSON_Delete(obj);
	}
	kf_bundle_predict(b, x, 1, &p2, &err);
	TAP_OK(p1 == p2, "the bundle predicts exactly what the trained model did (%.17g)", p2);
	kf_bundle_free(b);
	free(x);
	kf_nn_work_release(&w, &nn);
	kf_dense_close(d);
	cJSON_Delete(meta);
	kf_nn_release(&nn);
	kf_features_release(&fs);
	kf_fs_remove_tree(dir, &err);
}

int main(void)
{
	test_dense();
	test_gradients();
	mf_gradcheck(false);
	mf_gradcheck(true);
	test_expr();
	test_metrics();
	test_features();
	test_spec();
	test_bundle();
	return tap_done();
}
