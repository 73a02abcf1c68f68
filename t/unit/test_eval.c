/* Unit tests for lib/ml/kf_eval, kf_slice and kf_bless: metrics on cases
 * worked by hand (and checked against scikit-learn), slicing, blessing. */
#include "config.h"

#include "kf_tap.h"
#include "ml/kf_bless.h"
#include "ml/kf_eval.h"
#include "ml/kf_slice.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <float.h>
#include <stdlib.h>
#include <unistd.h>

static double num(const cJSON *m, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(m, name);

	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static cJSON *binary(const double *p, const int *y, size_t n, const struct kf_eval_opts *o)
{
	struct kf_eval *e = kf_eval_new(KF_EVAL_BINARY, 0);
	struct kf_err err;
	cJSON *m;
	size_t i;

	for (i = 0; i < n; i++)
		kf_eval_add_binary(e, p[i], y[i], &err);
	m = kf_eval_metrics(e, o);
	kf_eval_free(e);
	return m;
}

static void test_binary(void)
{
	/* sklearn's documentation examples */
	static const double p1[] = { 0.1, 0.4, 0.35, 0.8 };
	static const int y1[] = { 0, 0, 1, 1 };
	/* ties across classes */
	static const double p2[] = { 0.9, 0.9, 0.5, 0.5, 0.1 };
	static const int y2[] = { 1, 0, 1, 0, 1 };
	static const double p3[] = { 0.5, 0.5, 0.5, 0.5 };
	static const int y3[] = { 0, 1, 0, 1 };
	static const double p4[] = { 0.8, 0.3, 0, 1 };
	static const int y4[] = { 1, 0, 1, 1 };
	static const double at[] = { 0.3, 0.9 };
	struct kf_eval_opts o = { .threshold = NAN, .confusion_at = at, .n_confusion = 2,
				  .curve_points = 100, .calibration_bins = 10 };
	const cJSON *c, *plots;
	cJSON *m;

	m = binary(p1, y1, 4, &o);
	TAP_NEAR(num(m, "auc"), 0.75, 1e-15, "auc of sklearn's example");
	TAP_NEAR(num(m, "auc_pr"), 0.8333333333333333, 1e-15, "average precision of sklearn's example");
	TAP_NEAR(num(m, "example_count"), 4, 0, "example_count");
	TAP_NEAR(num(m, "accuracy"), 0.75, 1e-15, "accuracy at 0.5: only 0.8 predicted positive");
	TAP_NEAR(num(m, "precision"), 1, 0, "precision at 0.5");
	TAP_NEAR(num(m, "recall"), 0.5, 0, "recall at 0.5");
	cJSON_Delete(m);

	m = binary(p2, y2, 5, &o);
	TAP_NEAR(num(m, "auc"), 2.0 / 6, 1e-15, "auc with ties counts them half");
	TAP_NEAR(num(m, "auc_pr"), (0.5 + 0.5 + 0.6) / 3, 1e-15, "average precision steps over tie groups");
	TAP_NEAR(num(m, "precision"), 0.5, 1e-15, "precision at 0.5 (>= threshold)");
	TAP_NEAR(num(m, "recall"), 2.0 / 3, 1e-15, "recall at 0.5");
	TAP_NEAR(num(m, "mean_label"), 0.6, 1e-15, "mean label");
	TAP_NEAR(num(m, "mean_prediction"), 2.9 / 5, 1e-15, "mean prediction");
	TAP_NEAR(num(m, "calibration"), (2.9 / 5) / 0.6, 1e-15, "calibration");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "confusion"), 0);
	TAP_NEAR(num(c, "threshold"), 0.3, 0, "confusion threshold");
	TAP_NEAR(num(c, "tp"), 2, 0, "confusion tp at 0.3");
	TAP_NEAR(num(c, "fp"), 2, 0, "confusion fp at 0.3");
	TAP_NEAR(num(c, "fn"), 1, 0, "confusion fn at 0.3");
	TAP_NEAR(num(c, "tn"), 0, 0, "confusion tn at 0.3");
	plots = cJSON_GetObjectItem(m, "plots");
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(plots, "roc")) == 4, "roc: origin + 3 thresholds");
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(plots, "calibration")) == 10, "10 calibration bins");
	cJSON_Delete(m);

	m = binary(p3, y3, 4, &o);
	TAP_NEAR(num(m, "auc"), 0.5, 1e-15, "all tied: auc 0.5");
	TAP_NEAR(num(m, "auc_pr"), 0.5, 1e-15, "all tied: average precision = prevalence");
	cJSON_Delete(m);

	m = binary(p4, y4, 4, &o);
	TAP_NEAR(num(m, "log_loss"),
		 -(log(0.8) + log(0.7) + log(DBL_EPSILON) + log(1 - DBL_EPSILON)) / 4, 1e-12,
		 "log loss clips at DBL_EPSILON as sklearn does");
	cJSON_Delete(m);

	m = binary(p4, (const int[]){ 1, 1, 1, 1 }, 4, &o);
	TAP_OK(cJSON_IsNull(cJSON_GetObjectItem(m, "auc")), "auc with one class is null");
	cJSON_Delete(m);
}

static void test_curve_cap(void)
{
	struct kf_eval *e = kf_eval_new(KF_EVAL_BINARY, 0);
	struct kf_eval_opts o = { .threshold = NAN, .curve_points = 50 };
	struct kf_err err;
	const cJSON *roc, *last;
	cJSON *m;
	int i;

	for (i = 0; i < 10000; i++)
		kf_eval_add_binary(e, (double)(i % 1000) / 1000, i % 3 == 0, &err);
	TAP_OK(kf_eval_count(e) == 10000, "count");
	m = kf_eval_metrics(e, &o);
	roc = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "plots"), "roc");
	TAP_OK(cJSON_GetArraySize(roc) <= 51, "roc curve capped (%d points)", cJSON_GetArraySize(roc));
	last = cJSON_GetArrayItem(roc, cJSON_GetArraySize(roc) - 1);
	TAP_NEAR(cJSON_GetArrayItem(last, 0)->valuedouble, 1, 0, "roc ends at fpr 1");
	TAP_NEAR(cJSON_GetArrayItem(last, 1)->valuedouble, 1, 0, "roc ends at tpr 1");
	cJSON_Delete(m);
	kf_eval_free(e);
}

static void test_multiclass_regression(void)
{
	static const double prob[][3] = {
		{ 0.7, 0.2, 0.1 }, { 0.1, 0.8, 0.1 }, { 0.3, 0.3, 0.4 }, { 0.5, 0.5, 0 },
	};
	static const size_t lab[] = { 0, 1, 1, 1 };
	static const char *const classes[] = { "a", "b", "c" };
	static const double yr[] = { 3, -0.5, 2, 7 }, pr[] = { 2.5, 0, 2, 8 };
	struct kf_eval_opts o = { .threshold = NAN, .classes = classes };
	struct kf_eval *e = kf_eval_new(KF_EVAL_MULTICLASS, 3);
	const cJSON *pc;
	cJSON *m;
	size_t i;
	double ll;

	for (i = 0; i < 4; i++)
		kf_eval_add_multiclass(e, prob[i], lab[i]);
	m = kf_eval_metrics(e, &o);
	/* argmax: a, b, c, a (first maximum) */
	TAP_NEAR(num(m, "accuracy"), 0.5, 1e-15, "multiclass accuracy");
	pc = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "per_class"), 1);
	TAP_STR(cJSON_GetObjectItem(pc, "class")->valuestring, "b", "per-class name");
	TAP_NEAR(num(pc, "precision"), 1, 0, "precision of b");
	TAP_NEAR(num(pc, "recall"), 1.0 / 3, 1e-15, "recall of b");
	ll = -(log(0.7) + log(0.8) + log(0.3) + log(0.5 / (1 + DBL_EPSILON))) / 4;
	TAP_NEAR(num(m, "log_loss"), ll, 1e-12, "multiclass log loss clips and renormalises");
	TAP_NEAR(num(m, "precision"), (0.5 + 1 + 0) / 3, 1e-15, "macro precision");
	cJSON_Delete(m);
	kf_eval_free(e);

	e = kf_eval_new(KF_EVAL_REGRESSION, 0);
	for (i = 0; i < 4; i++)
		kf_eval_add_regression(e, pr[i], yr[i]);
	m = kf_eval_metrics(e, NULL);
	TAP_NEAR(num(m, "mse"), 0.375, 1e-15, "mse (sklearn's example)");
	TAP_NEAR(num(m, "rmse"), sqrt(0.375), 1e-15, "rmse");
	TAP_NEAR(num(m, "mae"), 0.5, 1e-15, "mae");
	TAP_NEAR(num(m, "r2"), 0.9486081370449679, 1e-15, "r2 (sklearn's example)");
	cJSON_Delete(m);
	kf_eval_free(e);

	e = kf_eval_new(KF_EVAL_REGRESSION, 0);
	kf_eval_add_regression(e, 1, 2);
	kf_eval_add_regression(e, 2, 2);
	m = kf_eval_metrics(e, NULL);
	TAP_NEAR(num(m, "r2"), 0, 0, "r2 with constant labels and errors is 0");
	cJSON_Delete(m);
	kf_eval_free(e);
	TAP_OK(kf_eval_metric_direction("auc") > 0 && kf_eval_metric_direction("log_loss") < 0 &&
	       kf_eval_metric_direction("example_count") == 0, "metric directions");
	TAP_OK(kf_eval_task_parse("regression") == KF_EVAL_REGRESSION && kf_eval_task_parse("x") < 0,
	       "task names");
}

static void test_ranking(void)
{
	static const unsigned char hit[] = { 1, 0, 1 };
	struct kf_eval *e = kf_eval_new(KF_EVAL_RANKING, 0);
	double idcg = 1 + 1 / log2(3) + 0.5 + 1 / log2(5);
	cJSON *m;

	kf_eval_add_ranking(e, hit, 3, 4);
	kf_eval_add_ranking(e, hit, 3, 0); /* no relevant item: not a query */
	m = kf_eval_metrics(e, NULL);
	TAP_NEAR(num(m, "example_count"), 1, 0, "queries without relevant items are not counted");
	TAP_NEAR(num(m, "precision@1"), 1, 1e-15, "precision@1");
	TAP_NEAR(num(m, "precision@5"), 0.4, 1e-15, "precision@5 divides by 5");
	TAP_NEAR(num(m, "recall@5"), 0.5, 1e-15, "recall@5");
	TAP_NEAR(num(m, "ndcg@5"), 1.5 / idcg, 1e-15, "ndcg@5 against the ideal of 4 relevant items");
	TAP_NEAR(num(m, "ndcg@10"), 1.5 / idcg, 1e-15, "ndcg@10: no more hits");
	TAP_OK(kf_eval_metric_direction("ndcg@10") > 0 && kf_eval_metric_direction("precision@5") > 0,
	       "ranking metrics are higher-is-better");
	cJSON_Delete(m);
	kf_eval_free(e);
}

static void test_slices(void)
{
	static const char *const names[] = { "day", "hour", "pay" };
	static const char *const rows[][3] = {
		{ "1", "12", "Cash" }, { "2", "12.0", "Card" }, { "1", "3", "Cash" },
		{ "2", "", "Cash" }, { "1", "12", "" }, { "1", "1e1", "Cash" }, { "1", "0.50", "Card" },
	};
	static const char *const specs[] = { "hour", "day,hour=12", "pay=Cash", "pay" };
	struct kf_slicer *s;
	struct kf_err err;
	size_t ids[5], n, i, *order;
	const size_t nrows = sizeof rows / sizeof rows[0];
	struct kf_buf all = KF_BUF_INIT;
	int rc;

	rc = kf_slicer_new(&s, specs, 4, &err);
	TAP_OK(rc == 0, "specs parse");
	rc = kf_slicer_resolve(s, names, 3, &err);
	TAP_OK(rc == 0, "specs resolve");
	for (i = 0; i < nrows; i++) {
		n = kf_slicer_row(s, rows[i], ids);
		TAP_OK(ids[0] == 0, "row %zu in overall", i);
		if (i == 3)
			TAP_OK(n == 3, "missing hour: overall + pay=Cash twice (%zu)", n);
		if (i == 4)
			TAP_OK(n == 3, "missing pay: overall, hour, day at 12 (%zu)", n);
	}
	order = kf_slicer_order(s, &n);
	for (i = 0; i < n; i++)
		kf_buf_printf(&all, "%s:%llu ", kf_slicer_get(s, order[i])->name,
			      (unsigned long long)kf_slicer_get(s, order[i])->count);
	TAP_STR(kf_buf_str(&all),
		"Overall:7 hour=0.5:1 hour=3:1 hour=10:1 hour=12:3 day=1,hour=12:2 day=2,hour=12:1 "
		"pay=Cash:4 pay=Card:2 pay=Cash:4 ",
		"slices, counts and order");
	TAP_OK(kf_slicer_empty_spec(s) == -1, "no empty spec");
	free(order);
	kf_buf_release(&all);
	kf_slicer_free(s);

	rc = kf_slicer_new(&s, (const char *const[]){ "hour=25" }, 1, &err);
	kf_slicer_resolve(s, names, 3, &err);
	kf_slicer_row(s, rows[0], ids);
	TAP_OK(kf_slicer_empty_spec(s) == 0, "a value no row has is an empty spec");
	kf_slicer_free(s);

	rc = kf_slicer_new(&s, (const char *const[]){ "hours" }, 1, &err);
	rc = kf_slicer_resolve(s, names, 3, &err);
	TAP_STR(err.msg, "slice \"hours\": no column \"hours\" in the data (did you mean \"hour\"?)",
		"unknown column suggests");
	kf_slicer_free(s);
	rc = kf_slicer_new(&s, (const char *const[]){ "a,a" }, 1, &err);
	TAP_OK(rc == KF_EUSAGE && !s, "column twice is an error: %s", err.msg);
	rc = kf_slicer_new(&s, (const char *const[]){ "a=" }, 1, &err);
	TAP_OK(rc == KF_EUSAGE, "empty value is an error: %s", err.msg);
}

struct two {
	const cJSON *cand, *base;
};

static const cJSON *find_two(void *arg, const char *slice, bool baseline)
{
	const struct two *t = arg;
	const cJSON *m = baseline ? t->base : t->cand;

	return slice ? cJSON_GetObjectItem(cJSON_GetObjectItem(m, "slices"), slice) : m;
}

static void test_bless(void)
{
	struct kf_bless_check c[4];
	struct kf_err err;
	cJSON *cand = cJSON_Parse("{\"auc\": 0.80, \"log_loss\": 0.5, \"auc_pr\": null,"
				  " \"slices\": {\"h=12\": {\"auc\": 0.6}}}");
	cJSON *base = cJSON_Parse("{\"auc\": 0.82, \"log_loss\": 0.45, \"slices\": {\"h=12\": {\"auc\": 0.7}}}");
	struct two both = { cand, base }, alone = { cand, NULL };
	struct kf_bless_check sc[3];
	cJSON *v;
	const cJSON *ch;
	char dir[] = "/tmp/kf-test-bless.XXXXXX";
	char *path;
	struct kf_buf text = KF_BUF_INIT;

	TAP_OK(kf_bless_parse(&c[0], "auc>=0.7", false, &err) == 0, "parse value threshold");
	TAP_OK(kf_bless_parse(&c[1], "auc >= -1%", true, &err) == 0 && c[1].relative &&
	       fabs(c[1].bound + 0.01) < 1e-15, "parse relative change");
	TAP_OK(kf_bless_parse(&c[2], "log_loss<=0.01", true, &err) == 0, "parse absolute change");
	TAP_OK(kf_bless_parse(&c[3], "auc_pr>=0.1", false, &err) == 0, "parse another");
	TAP_OK(kf_bless_parse(&(struct kf_bless_check){ 0 }, "log_loss>=-0.1", true, &err) == KF_EUSAGE,
	       "direction mismatch rejected");
	TAP_STR(err.msg, "change \"log_loss>=-0.1\": log_loss is lower-is-better, write 'log_loss<=-0.1'",
		"direction message");
	TAP_OK(kf_bless_parse(&(struct kf_bless_check){ 0 }, "auc>0.7", false, &err) == KF_EUSAGE,
	       "strict operator rejected");
	TAP_OK(kf_bless_parse(&(struct kf_bless_check){ 0 }, "auc>=x", false, &err) == KF_EUSAGE,
	       "non-number rejected");

	v = kf_bless_judge(c, 3, find_two, &alone);
	TAP_OK(cJSON_IsTrue(cJSON_GetObjectItem(v, "blessed")), "no baseline: value thresholds only");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 1);
	TAP_OK(cJSON_IsTrue(cJSON_GetObjectItem(ch, "skipped")), "change check skipped");
	cJSON_Delete(v);

	v = kf_bless_judge(c, 4, find_two, &both);
	TAP_OK(cJSON_IsFalse(cJSON_GetObjectItem(v, "blessed")), "with baseline: not blessed");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 1);
	TAP_STR(cJSON_GetObjectItem(ch, "reason")->valuestring,
		"auc changed by -2.439% (0.8 against the baseline's 0.82), below -1% (auc >= -1%)",
		"relative reason");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 2);
	TAP_STR(cJSON_GetObjectItem(ch, "reason")->valuestring,
		"log_loss changed by +0.05 (0.5 against the baseline's 0.45), above 0.01 (log_loss<=0.01)",
		"absolute reason");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 3);
	TAP_OK(cJSON_IsFalse(cJSON_GetObjectItem(ch, "passed")), "undefined metric fails");

	TAP_OK(mkdtemp(dir) != NULL, "temp dir");
	TAP_OK(kf_bless_write(dir, v, &err) == 0, "write verdict");
	path = kf_path_join(dir, "NOT_BLESSED");
	TAP_OK(kf_fs_read_file(path, &text, &err) == 0, "NOT_BLESSED written");
	TAP_OK(strstr(kf_buf_str(&text), "auc changed by") && strstr(kf_buf_str(&text), "log_loss changed"),
	       "NOT_BLESSED lists every failed check");
	free(path);
	kf_buf_release(&text);
	cJSON_Delete(v);
	v = kf_bless_judge(c, 1, find_two, &both);
	TAP_OK(kf_bless_write(dir, v, &err) == 0, "write blessed");
	path = kf_path_join(dir, "NOT_BLESSED");
	TAP_OK(!kf_fs_exists(path), "NOT_BLESSED removed when blessed");
	free(path);
	path = kf_path_join(dir, "BLESSED");
	TAP_OK(kf_fs_exists(path), "BLESSED written");
	free(path);
	kf_fs_remove_tree(dir, &err);
	cJSON_Delete(v);

	/* per-slice checks */
	TAP_OK(kf_bless_parse(&sc[0], "h=12:auc>=0.65", false, &err) == 0 && !strcmp(sc[0].slice, "h=12") &&
	       !strcmp(sc[0].metric, "auc"), "parse a slice's threshold");
	TAP_OK(kf_bless_parse(&sc[1], "h=12 : auc>=-1%", true, &err) == 0, "parse a slice's change");
	TAP_OK(kf_bless_parse(&sc[2], "h=13:auc>=0.1", false, &err) == 0, "parse another slice");
	TAP_OK(kf_bless_parse(&(struct kf_bless_check){ 0 }, ":auc>=0.1", false, &err) == KF_EUSAGE,
	       "empty slice name rejected");
	v = kf_bless_judge(sc, 3, find_two, &both);
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 0);
	TAP_STR(cJSON_GetObjectItem(ch, "reason")->valuestring,
		"h=12: auc 0.6 is below the lower bound 0.65 (h=12:auc>=0.65)", "slice reason");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 1);
	TAP_OK(cJSON_IsFalse(cJSON_GetObjectItem(ch, "passed")) && cJSON_GetObjectItem(ch, "change") &&
	       fabs(cJSON_GetObjectItem(ch, "change")->valuedouble + 0.1 / 0.7) < 1e-12,
	       "slice change against the baseline's slice");
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "checks"), 2);
	TAP_STR(cJSON_GetObjectItem(ch, "reason")->valuestring,
		"no slice \"h=13\" in the evaluation (h=13:auc>=0.1)", "a missing slice fails");
	cJSON_Delete(v);
	for (int i = 0; i < 3; i++)
		kf_bless_release(&sc[i]);
	cJSON_Delete(cand);
	cJSON_Delete(base);
	for (int i = 0; i < 4; i++)
		kf_bless_release(&c[i]);
}

int main(void)
{
	test_binary();
	test_curve_cap();
	test_multiclass_regression();
	test_ranking();
	test_slices();
	test_bless();
	return tap_done();
}
