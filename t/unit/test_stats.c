/* Unit tests for lib/data: the sketches' stated error bounds, statistics,
 * schema I/O and inference, validation and drift. */
#include "config.h"

#include "kf_tap.h"
#include "data/kf_drift.h"
#include "data/kf_report.h"
#include "data/kf_schema.h"
#include "data/kf_sketch.h"
#include "data/kf_stats.h"
#include "data/kf_validate.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <stdint.h>
#include <stdlib.h>

static char tmpdir[] = "/tmp/kf-test-stats.XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *path = kf_xasprintf("%s/%s", tmpdir, name);
	struct kf_err err;

	kf_err_clear(&err);
	if (kf_fs_write_atomic(path, text, strlen(text), &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
	return path;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Every answered quantile has a true rank within the sketch's bound, and the
 * bound is within the one the header states. */
static void check_quant(const char *what, double *v, size_t n, size_t k)
{
	static const double phis[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999 };
	struct kf_quant q;
	double *sorted = kf_xmalloc(n * sizeof *sorted), stated, worst = 0;
	size_t i, p;
	int ok = 1, levels = 0;

	kf_quant_init(&q, k);
	for (i = 0; i < n; i++)
		kf_quant_add(&q, v[i]);
	memcpy(sorted, v, n * sizeof *v);
	qsort(sorted, n, sizeof *sorted, cmp_double);
	for (p = 0; p < sizeof phis / sizeof phis[0]; p++) {
		double got = kf_quant_query(&q, phis[p]), target = phis[p] * (double)n;
		size_t lo = 0, hi = n, less, le;

		/* [less, le]: the ranks the value holds in the data */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (sorted[mid] < got)
				lo = mid + 1;
			else
				hi = mid;
		}
		less = lo;
		for (le = less; le < n && sorted[le] == got; le++)
			;
		if ((double)le < target - (double)kf_quant_err(&q) - 1 ||
		    (double)less > target + (double)kf_quant_err(&q) + 1)
			ok = 0;
		if ((double)less > target && (double)less - target > worst)
			worst = (double)less - target;
		if ((double)le < target && target - (double)le > worst)
			worst = target - (double)le;
		/* rank() is within the bound too */
		if (fabs(kf_quant_rank(&q, got) - (double)le) > (double)kf_quant_err(&q) + 1e-9)
			ok = 0;
	}
	for (i = n / k; i >= 1; i /= 2)
		levels++;
	stated = (double)n * (double)(levels + 1) / (double)k;
	TAP_OK(ok, "%s: quantiles within the tracked rank error %llu (worst seen %.0f)", what,
	       (unsigned long long)kf_quant_err(&q), worst);
	TAP_OK((double)kf_quant_err(&q) <= stated, "%s: tracked error %llu <= stated n(floor(log2(n/k))+1)/k = %.0f",
	       what, (unsigned long long)kf_quant_err(&q), stated);
	kf_quant_release(&q);
	free(sorted);
}

static void test_quant(void)
{
	size_t n = 300000, i;
	double *v = kf_xmalloc(n * sizeof *v);
	struct kf_quant q;

	for (i = 0; i < n; i++)
		v[i] = (double)(rng() % 1000000) / 7.0;
	check_quant("uniform", v, n, 1024);
	for (i = 0; i < n; i++)
		v[i] = (double)i;
	check_quant("ascending", v, n, 1024);
	for (i = 0; i < n; i++)
		v[i] = (double)(n - i);
	check_quant("descending", v, n, 4096);
	for (i = 0; i < n; i++)
		v[i] = (double)(rng() % 5);
	check_quant("five values", v, n, 256);
	for (i = 0; i < n; i++)
		v[i] = exp((double)(rng() % 10000) / 500.0);
	check_quant("skewed", v, n, 512);

	kf_quant_init(&q, 64);
	for (i = 0; i < 63; i++)
		kf_quant_add(&q, (double)(63 - i));
	TAP_OK(kf_quant_err(&q) == 0 && kf_quant_query(&q, 0.5) == 32 && kf_quant_query(&q, 0) == 1 &&
	       kf_quant_query(&q, 1) == 63, "below k values the sketch is exact");
	kf_quant_release(&q);
	kf_quant_init(&q, 0);
	TAP_OK(isnan(kf_quant_query(&q, 0.5)), "an empty sketch answers NaN");
	kf_quant_release(&q);
	free(v);
}

static void test_hll_freq(void)
{
	struct kf_freq f;
	const struct kf_freq_item **top;
	char buf[32];
	size_t i, n;
	uint64_t heavy_true = 0;
	double u;

	kf_freq_init(&f, 0);
	for (i = 0; i < 200000; i++) {
		int len = snprintf(buf, sizeof buf, "v%zu", i % 50000);

		kf_freq_add(&f, buf, (size_t)len, 1);
	}
	u = kf_freq_unique(&f);
	TAP_OK(!f.exact && fabs(u - 50000) / 50000 < 0.05, "distinct past the cap from HyperLogLog: %.0f ~ 50000", u);
	kf_freq_release(&f);

	kf_freq_init(&f, 100);
	for (i = 0; i < 100000; i++) {
		int len;

		if (i % 3 == 0) {
			len = snprintf(buf, sizeof buf, "heavy");
			heavy_true++;
		} else {
			len = snprintf(buf, sizeof buf, "x%llu", (unsigned long long)(rng() % 100000));
		}
		kf_freq_add(&f, buf, (size_t)len, 1);
	}
	top = kf_freq_top(&f, 1, &n);
	TAP_OK(n == 1 && !strcmp(top[0]->s, "heavy"), "Misra-Gries keeps the heavy hitter");
	TAP_OK(n == 1 && top[0]->count <= heavy_true && top[0]->count + f.err >= heavy_true &&
	       f.err <= 100000 / 101 + 1, "its count is low by at most the error bound %llu (<= n/(cap+1))",
	       (unsigned long long)f.err);
	free(top);
	kf_freq_release(&f);

	kf_freq_init(&f, 0);
	kf_freq_add(&f, "b", 1, 2);
	kf_freq_add(&f, "a", 1, 2);
	kf_freq_add(&f, "c", 1, 5);
	kf_freq_add(&f, "a\0z", 3, 1);
	top = kf_freq_top(&f, 0, &n);
	TAP_OK(f.exact && n == 4 && !strcmp(top[0]->s, "c") && !strcmp(top[1]->s, "a") && !strcmp(top[2]->s, "b") &&
	       top[3]->len == 3, "exact counts, ordered by count then value; NUL bytes distinguish values");
	TAP_OK(kf_freq_count(&f, "a", 1) == 2 && kf_freq_count(&f, "zz", 2) == 0, "count lookup");
	free(top);
	kf_freq_release(&f);
}

static void test_stats(void)
{
	static const char csv[] =
		"x,s,b,mixed,empty\n"
		"1,red,true,1,\n"
		"2,blue,false,2,\n"
		"0,red,TRUE,x,\n"
		",red,false,3,\n"
		"4.5,\"g,reen\",true,,\n"
		"nan,blue,,4,\n";
	struct kf_stats_result res;
	struct kf_stats_opts opts = { 0 };
	struct kf_err err;
	struct kf_stats_feature *f;
	const char *paths[1];
	cJSON *doc;
	char *p = write_file("s.csv", csv);
	int rc;

	kf_err_clear(&err);
	paths[0] = p;
	opts.slice = "s";
	rc = kf_stats_compute(&res, paths, 1, &opts, &err);
	TAP_OK(rc == 0 && res.all->rows == 6 && res.all->n == 5, "six rows, five features (%s)", err.msg);
	f = kf_stats_find(res.all, "x");
	TAP_OK(f && f->type == KF_CSV_FLOAT && f->present == 5 && f->nan == 1 && f->finite == 4 && f->zeros == 1,
	       "x: float, 5 present, 1 NaN, 1 zero");
	TAP_NEAR(f->mean, 1.875, 1e-12, "x: mean of the finite values");
	TAP_NEAR(kf_stats_stddev(f), sqrt(((1 - 1.875) * (1 - 1.875) + (2 - 1.875) * (2 - 1.875) +
					  1.875 * 1.875 + (4.5 - 1.875) * (4.5 - 1.875)) / 4), 1e-12,
		 "x: population standard deviation");
	TAP_OK(f->min == 0 && f->max == 4.5 && kf_quant_query(&f->quant, 0.5) == 1, "x: min, max, median");
	f = kf_stats_find(res.all, "s");
	TAP_OK(f && f->type == KF_CSV_STRING && f->freq.n == 3 && kf_freq_count(&f->freq, "red", 3) == 3 &&
	       kf_freq_count(&f->freq, "g,reen", 6) == 1, "s: strings counted exactly, quoted comma kept");
	f = kf_stats_find(res.all, "b");
	TAP_OK(f && f->type == KF_CSV_BOOL && f->n_bool == 5 && f->present == 5, "b: bool, one missing");
	f = kf_stats_find(res.all, "mixed");
	TAP_OK(f && f->type == KF_CSV_STRING && f->n_int == 4 && f->n_string == 1 &&
	       kf_freq_count(&f->freq, "3", 1) == 1 && kf_freq_count(&f->freq, "1", 1) == 0,
	       "mixed: string from its first non-number on");
	f = kf_stats_find(res.all, "empty");
	TAP_OK(f && f->type == KF_CSV_MISSING && f->present == 0, "empty: every value missing");
	TAP_OK(res.nslices == 3 && !strcmp(res.slices[0]->name, "s=red") && res.slices[0]->rows == 3 &&
	       kf_stats_find(res.slices[0], "x")->finite == 2, "slices by s: s=red has 3 rows, 2 with x");
	doc = kf_stats_to_json(&res);
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")) == 4, "JSON: all + 3 slices");
	cJSON_Delete(doc);
	{
		char *html = kf_report_stats_html(&res, NULL, "t <&>");

		TAP_OK(strstr(html, "<svg") && strstr(html, "t &lt;&amp;&gt;") && !strstr(html, "<script") &&
		       !strstr(html, "src=") && !strstr(html, "<link"), "HTML report: inline SVG, escaped title, nothing fetched");
		free(html);
	}
	kf_stats_result_release(&res);

	opts.slice = "nope";
	rc = kf_stats_compute(&res, paths, 1, &opts, &err);
	TAP_OK(rc == KF_EINPUT && strstr(err.msg, "no column \"nope\""), "slice by a missing column: %s", err.msg);
	kf_stats_result_release(&res);
	free(p);
}

/* Threads share out columns: the same numbers whatever their count. */
static void test_threads(void)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_stats_result r1, r3;
	struct kf_stats_opts o1 = { 0 }, o3 = { 0 };
	struct kf_err err;
	const char *paths[1];
	char *p, *j1, *j3;
	cJSON *d1, *d3;
	size_t i;

	kf_buf_adds(&text, "a,b,c,s\n");
	for (i = 0; i < 200000; i++)
		kf_buf_printf(&text, "%zu,%.3f,%llu,k%llu\n", i % 977, (double)(rng() % 100000) / 7.0,
			      (unsigned long long)(rng() % 5), (unsigned long long)(rng() % 50));
	p = write_file("threads.csv", text.data);
	paths[0] = p;
	kf_err_clear(&err);
	o1.threads = 1;
	o3.threads = 3;
	o1.slice = o3.slice = "c";
	kf_stats_compute(&r1, paths, 1, &o1, &err);
	kf_stats_compute(&r3, paths, 1, &o3, &err);
	d1 = kf_stats_to_json(&r1);
	d3 = kf_stats_to_json(&r3);
	j1 = cJSON_PrintUnformatted(d1);
	j3 = cJSON_PrintUnformatted(d3);
	TAP_OK(r1.all->rows == 200000 && r3.nslices == 5 && !strcmp(j1, j3),
	       "1 and 3 threads give the same statistics, slices included");
	cJSON_free(j1);
	cJSON_free(j3);
	cJSON_Delete(d1);
	cJSON_Delete(d3);
	kf_stats_result_release(&r1);
	kf_stats_result_release(&r3);
	kf_buf_release(&text);
	free(p);
}

/* The per-column dictionary of short number texts changes nothing: a
 * column of short texts and the same numbers written long (past the
 * dictionary's 16 bytes) have the same statistics. */
static void test_dict(void)
{
	struct kf_buf text = KF_BUF_INIT;
	struct kf_stats_result r;
	struct kf_err err;
	const char *paths[1];
	struct kf_stats_feature *fa, *fb;
	char *p;
	size_t i;
	int same = 1, q;

	kf_buf_adds(&text, "a,b,big,bigl,turn\n");
	for (i = 0; i < 50000; i++) {
		long v = (long)(rng() % 900) - 450;
		long w = (long)(rng() % 5000);

		kf_buf_printf(&text, "%ld%s,%+020ld%s,%ld,%019ld,%s\n", v, i % 3 ? "" : ".0", v, i % 3 ? "" : ".0",
			      w, w, i < 40000 ? (i % 2 ? "1.5" : "2") : "x");
	}
	p = write_file("dict.csv", text.data);
	paths[0] = p;
	kf_err_clear(&err);
	kf_stats_compute(&r, paths, 1, NULL, &err);
	fa = kf_stats_find(r.all, "a");
	fb = kf_stats_find(r.all, "b");
	same = fa->present == fb->present && fa->n_int == fb->n_int && fa->n_float == fb->n_float &&
	       fa->mean == fb->mean && fa->m2 == fb->m2 && fa->min == fb->min && fa->max == fb->max &&
	       fa->zeros == fb->zeros && kf_quant_err(&fa->quant) == 0 && kf_quant_err(&fb->quant) == 0;
	for (q = 0; q <= 20; q++)
		same &= kf_quant_query(&fa->quant, q / 20.0) == kf_quant_query(&fb->quant, q / 20.0);
	TAP_OK(same, "short texts (dictionary) and long texts (parsed each time): the same statistics");
	fa = kf_stats_find(r.all, "big");
	fb = kf_stats_find(r.all, "bigl");
	TAP_OK(fa->present == 50000 && fa->mean == fb->mean && fa->min == fb->min && fa->max == fb->max &&
	       fa->n_int == fb->n_int && kf_quant_err(&fa->quant) <= 50000 * 5 / 4096,
	       "past the dictionary's size: the same numbers, quantiles within the sketch's bound (%llu %.17g %.17g)",
	       (unsigned long long)kf_quant_err(&fa->quant), fa->mean, fb->mean);
	fa = kf_stats_find(r.all, "turn");
	TAP_OK(fa->type == KF_CSV_STRING && fa->n_float == 20000 && fa->n_int == 20000 && fa->n_string == 10000 &&
	       fa->finite == 40000 && fa->mean == 1.75 && kf_quant_query(&fa->quant, 0.25) == 1.5 &&
	       kf_quant_query(&fa->quant, 0.75) == 2, "numbers then strings: the numbers all counted");
	kf_stats_result_release(&r);
	kf_buf_release(&text);
	free(p);
}

static void test_schema(void)
{
	static const char pbtxt[] =
		"# a comment\n"
		"feature {\n  name: \"pay\"\n  type: BYTES\n  domain: \"pay\"\n"
		"  presence { min_fraction: 1.0 min_count: 1 }\n  not_in_environment: \"SERVING\"\n}\n"
		"feature < name: 'n' type: INT int_domain { min: 0 max: 10 } unknown_field: [1, 2] >\n"
		"feature { name: \"f\" type: FLOAT float_domain { disallow_nan: true } "
		"  drift_comparator { jensen_shannon_divergence { threshold: 0.1 } } }\n"
		"string_domain { name: \"pay\" value: \"Cash\" value: \"Card\" }\n"
		"default_environment: \"TRAINING\"\ndefault_environment: \"SERVING\"\n";
	struct kf_schema s, s2;
	struct kf_buf out = KF_BUF_INIT;
	struct kf_err err;
	const struct kf_strv *dom;
	cJSON *json;
	char *p;
	int rc;

	kf_err_clear(&err);
	rc = kf_schema_parse_pbtxt(&s, pbtxt, sizeof pbtxt - 1, "s.pbtxt", &err);
	TAP_OK(rc == 0 && s.n == 3 && s.nd == 1 && s.default_env.n == 2, "text format parses (%s)", err.msg);
	dom = kf_schema_domain_of(&s, kf_schema_find(&s, "pay"));
	TAP_OK(dom && dom->n == 2 && !strcmp(dom->v[1], "Card"), "named string domain resolved");
	TAP_OK(s.f[1].type == KF_SCHEMA_INT && s.f[1].has_int_domain && s.f[1].int_max == 10, "<> messages, int_domain");
	TAP_OK(s.f[2].disallow_nan && s.f[2].has_jsd && s.f[2].jsd == 0.1, "float_domain and drift_comparator");
	TAP_OK(!kf_schema_in_env(&s, &s.f[0], "SERVING") && kf_schema_in_env(&s, &s.f[0], "TRAINING") &&
	       kf_schema_in_env(&s, &s.f[1], "SERVING") && !kf_schema_in_env(&s, &s.f[1], "EVAL") &&
	       kf_schema_in_env(&s, &s.f[0], NULL), "environments: not_in_environment, default_environment");

	kf_schema_to_pbtxt(&s, &out);
	rc = kf_schema_parse_pbtxt(&s2, out.data, out.len, "again", &err);
	kf_buf_reset(&out);
	kf_schema_to_pbtxt(&s2, &out);
	{
		struct kf_buf first = KF_BUF_INIT;

		kf_schema_to_pbtxt(&s, &first);
		TAP_STR(kf_buf_str(&out), kf_buf_str(&first), "text format round trip");
		kf_buf_release(&first);
	}
	kf_schema_release(&s2);
	json = kf_schema_to_json(&s);
	rc = kf_schema_from_json(&s2, json, "json", &err);
	kf_buf_reset(&out);
	kf_schema_to_pbtxt(&s2, &out);
	{
		struct kf_buf first = KF_BUF_INIT;

		kf_schema_to_pbtxt(&s, &first);
		TAP_OK(rc == 0 && !strcmp(kf_buf_str(&out), kf_buf_str(&first)), "JSON round trip");
		kf_buf_release(&first);
	}
	cJSON_Delete(json);
	kf_schema_release(&s2);
	kf_schema_release(&s);

	rc = kf_schema_parse_pbtxt(&s, "feature {\n  name: \"x\"\n  type INT\n}\n", 34, "bad.pbtxt", &err);
	TAP_OK(rc == KF_EINPUT && !strcmp(err.file, "bad.pbtxt") && err.line == 3 && err.col == 8 &&
	       strstr(err.msg, "expected ':' or '{'"), "syntax error at line:col (%d:%d %s)", err.line, err.col, err.msg);
	kf_schema_release(&s);
	rc = kf_schema_parse_pbtxt(&s, "feature { name: \"x\" domain: \"nope\" }", 36, "d.pbtxt", &err);
	TAP_OK(rc == KF_EINPUT && strstr(err.msg, "no string_domain named \"nope\""), "dangling domain: %s", err.msg);
	kf_schema_release(&s);

	p = write_file("s.yaml", "feature:\n- name: a\n  type: INT\n  presence: {minCount: \"1\"}\n");
	rc = kf_schema_load(&s, p, &err);
	TAP_OK(rc == 0 && s.n == 1 && s.f[0].type == KF_SCHEMA_INT && s.f[0].min_count == 1,
	       "kf YAML with proto3 JSON names (int64 as a string)");
	kf_schema_release(&s);
	free(p);
	kf_buf_release(&out);
}

static void test_validate_drift(void)
{
	static const char train[] = "pay,n,f\nCash,1,0.5\nCard,2,1.5\nCash,3,2.5\nCash,4,3.5\n";
	static const char serve[] = "pay,n,f,extra\nCash,1.5,0.5,x\nBitcoin,2,nan,y\nCard,,inf,z\nBitcoin,9,1,w\n";
	struct kf_stats_result a, b;
	struct kf_schema s;
	struct kf_schema_infer_opts io = { 0 };
	struct kf_err err;
	const char *pa[1], *pb[1];
	cJSON *anom, *it, *drift;
	char *fa = write_file("train.csv", train), *fb = write_file("serve.csv", serve);
	struct kf_buf types = KF_BUF_INIT;
	struct kf_drift_threshold th[1] = { { "pay", 0.2 } };
	bool drifted;
	const char *at;

	kf_err_clear(&err);
	pa[0] = fa;
	pb[0] = fb;
	kf_stats_compute(&a, pa, 1, NULL, &err);
	kf_stats_compute(&b, pb, 1, NULL, &err);
	io.ranges = true;
	kf_schema_infer(&s, a.all, &io);
	TAP_OK(s.n == 3 && s.f[0].domain && s.f[0].has_min_fraction && s.f[1].has_int_domain && s.f[1].int_max == 4 &&
	       s.f[2].disallow_nan, "inferred: string domain, presence, ranges, disallow_nan");
	anom = kf_validate(&s, b.all, NULL);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(anom, "items"))
		kf_buf_printf(&types, "%s:%s ", cJSON_GetObjectItem(it, "name")->valuestring,
			      cJSON_GetObjectItem(it, "type")->valuestring);
	TAP_STR(kf_buf_str(&types),
		"pay:ENUM_TYPE_UNEXPECTED_STRING_VALUES n:FEATURE_TYPE_LOW_FRACTION_PRESENT n:UNEXPECTED_DATA_TYPE "
		"n:INT_TYPE_BIG_INT f:FLOAT_TYPE_HAS_NAN f:FLOAT_TYPE_HAS_INF extra:SCHEMA_NEW_COLUMN ",
		"the anomalies, by TFDV type");
	it = cJSON_GetArrayItem(cJSON_GetObjectItem(anom, "items"), 0);
	TAP_STR(cJSON_GetObjectItem(it, "description")->valuestring,
		"Examples contain values missing from the schema: Bitcoin (~50%).", "unexpected value with its share");
	cJSON_Delete(anom);

	drift = kf_drift_compare(a.all, a.all, th, 1, &drifted);
	TAP_OK(!drifted, "a dataset does not drift from itself");
	cJSON_Delete(drift);
	TAP_NEAR(kf_drift_linf(kf_stats_find(a.all, "pay"), kf_stats_find(b.all, "pay"), &at), 0.5, 1e-12,
		 "L-infinity: Cash 0.75 -> 0.25, Bitcoin 0 -> 0.5");
	TAP_OK(at && (!strcmp(at, "Cash") || !strcmp(at, "Bitcoin")), "names a value with the largest difference");
	drift = kf_drift_compare(a.all, b.all, th, 1, &drifted);
	TAP_OK(drifted, "pay drifted above 0.2");
	cJSON_Delete(drift);
	kf_schema_release(&s);
	kf_stats_result_release(&a);
	kf_stats_result_release(&b);
	kf_buf_release(&types);
	free(fa);
	free(fb);
}

int main(void)
{
	struct kf_err err;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_quant();
	test_hll_freq();
	test_stats();
	test_threads();
	test_dict();
	test_schema();
	test_validate_drift();
	kf_err_clear(&err);
	kf_fs_remove_tree(tmpdir, &err);
	return tap_done();
}
