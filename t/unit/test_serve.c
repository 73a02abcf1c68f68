/* Unit tests of lib/serve: batching, the model repository, metrics text. */
#include "config.h"

#include "kf_tap.h"
#include "serve/kf_batch.h"
#include "serve/kf_metrics.h"
#include "serve/kf_repo.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#ifdef KF_HAVE_MICROHTTPD
#include "serve/kf_http.h"
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- batching ------------------------------------------------------------ */

struct job {
	struct kf_batch_item item;
	int id;
	int batch_no;       /* which run answered it */
	size_t batch_items;
};

struct runs {
	pthread_mutex_t lock;
	int n_runs;
	size_t sizes[64];
};

static void run_batch(const void *key, struct kf_batch_item **items, size_t n, void *cls)
{
	struct runs *r = cls;
	size_t i, total = 0;

	(void)key;
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < n; i++) {
		struct job *j = (struct job *)items[i];

		j->batch_no = r->n_runs + 1;
		j->batch_items = n;
		total += items[i]->n;
	}
	if (r->n_runs < 64)
		r->sizes[r->n_runs] = total;
	r->n_runs++;
	pthread_mutex_unlock(&r->lock);
}

static void test_batch(void)
{
	struct runs r = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 } };
	struct job jobs[10];
	struct kf_batch *b;
	int key_a, key_b, i;

	memset(jobs, 0, sizeof jobs);
	/* a long timeout: batches close because they are full */
	b = kf_batch_new(4, 2000000, 1, run_batch, &r);
	for (i = 0; i < 8; i++) {
		jobs[i].id = i;
		jobs[i].item.key = &key_a;
		jobs[i].item.n = 1;
		kf_batch_submit(b, &jobs[i].item);
	}
	kf_batch_free(b);
	TAP_OK(r.n_runs == 2, "8 single instances with max 4 run as 2 batches (got %d)", r.n_runs);
	TAP_OK(r.sizes[0] == 4 && r.sizes[1] == 4, "each batch holds 4 instances");
	TAP_OK(jobs[0].batch_no == 1 && jobs[3].batch_no == 1 && jobs[4].batch_no == 2,
	       "items run in arrival order");

	/* keys never mix; an item bigger than the limit runs alone */
	memset(&r.sizes, 0, sizeof r.sizes);
	r.n_runs = 0;
	b = kf_batch_new(4, 1000, 1, run_batch, &r);
	jobs[0].item.key = &key_a; jobs[0].item.n = 2;
	jobs[1].item.key = &key_b; jobs[1].item.n = 1;
	jobs[2].item.key = &key_a; jobs[2].item.n = 2;
	jobs[3].item.key = &key_a; jobs[3].item.n = 9;
	for (i = 0; i < 4; i++)
		kf_batch_submit(b, &jobs[i].item);
	kf_batch_free(b);
	TAP_OK(jobs[0].batch_no == jobs[2].batch_no && jobs[0].batch_items == 2,
	       "two items of one key share a batch");
	TAP_OK(jobs[1].batch_no != jobs[0].batch_no && jobs[1].batch_items == 1,
	       "another key runs in its own batch");
	TAP_OK(jobs[3].batch_items == 1 && jobs[3].batch_no != jobs[0].batch_no,
	       "an item over the limit runs alone");

	/* a lone item is answered after the timeout, not held forever */
	r.n_runs = 0;
	b = kf_batch_new(64, 1000, 3, run_batch, &r);
	jobs[0].item.key = &key_a; jobs[0].item.n = 1;
	kf_batch_submit(b, &jobs[0].item);
	usleep(200000);
	pthread_mutex_lock(&r.lock);
	TAP_OK(r.n_runs == 1, "a lone item runs when the timeout passes");
	pthread_mutex_unlock(&r.lock);
	kf_batch_free(b);
}

/* ---- repository ---------------------------------------------------------- */

/* A stand-in model: the text of the directory's kf-model.json; "bad" fails. */
static atomic_int n_loaded;

static int fake_load(const char *dir, void **model, void *cls, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	char *path = kf_path_join(dir, "kf-model.json");
	int rc = kf_fs_read_file(path, &b, err);

	(void)cls;
	free(path);
	if (rc == 0 && !strcmp(kf_buf_str(&b), "bad"))
		rc = kf_err_set(err, KF_EINPUT, "bad model");
	if (rc) {
		kf_buf_release(&b);
		return rc;
	}
	*model = kf_buf_detach(&b);
	atomic_fetch_add(&n_loaded, 1);
	return 0;
}

static void fake_unload(void *model, void *cls)
{
	(void)cls;
	free(model);
	atomic_fetch_sub(&n_loaded, 1);
}

static void write_version(const char *base, const char *v, const char *text)
{
	struct kf_err err;
	char *dir = kf_path_join(base, v), *file = kf_path_join(dir, "kf-model.json");

	kf_fs_mkdirs(dir, &err);
	kf_fs_write_atomic(file, text, strlen(text), &err);
	free(file);
	free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	struct kf_err err;
	char *file = kf_path_join(dir, name);

	kf_fs_write_atomic(file, text, strlen(text), &err);
	free(file);
}

static const char *model_text(struct kf_servable *sv)
{
	return sv ? sv->model : "(none)";
}

static void test_repo(const char *tmp)
{
	struct kf_repo_ops ops = { fake_load, fake_unload, NULL, NULL };
	char *root = kf_path_join(tmp, "repo"), *taxi = kf_path_join(root, "taxi");
	struct kf_strv names = KF_STRV_INIT;
	struct kf_servable *sv, *held;
	enum kf_repo_miss miss;
	struct kf_repo *repo;
	struct kf_err err;
	cJSON *doc;
	int i, canary;

	write_version(taxi, "1", "one");
	write_version(taxi, "2", "two");
	write_version(taxi, "x", "not a version");
	repo = kf_repo_new(&ops);
	TAP_OK(kf_repo_add_root(repo, root, &err) == 0, "add a repository root");
	TAP_OK(kf_repo_scan(repo, &err) == 0, "scan it");
	kf_repo_names(repo, &names);
	TAP_OK(names.n == 1 && !strcmp(names.v[0], "taxi"), "one model, named after its directory");
	kf_strv_release(&names);
	sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	TAP_STR(model_text(sv), "two", "the newest version serves by default");
	TAP_OK(kf_repo_loaded(repo) == 1 && n_loaded == 1, "only the newest is loaded");
	kf_servable_put(sv);
	sv = kf_repo_get(repo, "taxi", 1, NULL, &miss);
	TAP_OK(!sv && miss == KF_REPO_NO_VERSION, "an unserved version is not found");
	sv = kf_repo_get(repo, "nope", 0, NULL, &miss);
	TAP_OK(!sv && miss == KF_REPO_NO_MODEL, "an unknown model is not found");

	/* a new version: loaded, and the old one unloaded after its last user */
	held = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	write_version(taxi, "3", "three");
	kf_repo_scan(repo, &err);
	sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	TAP_STR(model_text(sv), "three", "a new version serves after a scan");
	kf_servable_put(sv);
	TAP_STR(model_text(held), "two", "a request holding the old version still has it");
	TAP_OK(n_loaded == 2, "the old version stays in memory while held");
	kf_servable_put(held);
	TAP_OK(n_loaded == 1, "and is unloaded by its last put");

	/* a broken newest version: the previous one keeps serving */
	write_version(taxi, "4", "bad");
	kf_repo_scan(repo, &err);
	sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	TAP_STR(model_text(sv), "three", "a version that fails to load does not replace the serving one");
	kf_servable_put(sv);
	doc = kf_repo_describe(repo, "taxi");
	{
		char *s = cJSON_PrintUnformatted(doc);

		TAP_STR(s, "{\"name\":\"taxi\",\"versions\":[{\"version\":3,\"state\":\"AVAILABLE\",\"error\":\"\"},"
			   "{\"version\":4,\"state\":\"FAILED\",\"error\":\"bad model\"}],\"labels\":{},\"default\":3}",
			"describe shows states and errors");
		free(s);
	}
	cJSON_Delete(doc);
	write_version(taxi, "4", "four");
	kf_repo_scan(repo, &err);
	sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	TAP_STR(model_text(sv), "four", "a fixed version is retried and serves");
	kf_servable_put(sv);

	/* labels and a canary share from kf-serving.yaml */
	write_file(taxi, "kf-serving.yaml", "labels: {stable: 3, canary: 4}\ncanary_percent: 25\n");
	TAP_OK(kf_repo_scan(repo, &err) == 0, "scan with a config: %s", err.msg);
	sv = kf_repo_get(repo, "taxi", 0, "stable", &miss);
	TAP_STR(model_text(sv), "three", "the stable label");
	kf_servable_put(sv);
	sv = kf_repo_get(repo, "taxi", 0, "beta", &miss);
	TAP_OK(!sv && miss == KF_REPO_NO_LABEL, "an unknown label");
	canary = 0;
	for (i = 0; i < 100; i++) {
		sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
		canary += sv && sv->version == 4;
		kf_servable_put(sv);
	}
	TAP_OK(canary == 25, "25%% of unpinned requests go to the canary (got %d)", canary);
	TAP_OK(kf_repo_set_canary(repo, "taxi", 4, 0, &err) == 0, "a canary flag overrides the config");
	sv = kf_repo_get(repo, "taxi", 0, NULL, &miss);
	TAP_STR(model_text(sv), "three", "with 0%% everything goes to stable");
	kf_servable_put(sv);

	write_file(taxi, "kf-serving.yaml", "labels: {stable: 3}\nversion: 2\n");
	TAP_OK(kf_repo_scan(repo, &err) == KF_EINPUT, "a config with an unknown key is an error");
	TAP_OK(strstr(err.msg, "unknown key \"version\"") && err.line == 2, "naming the key and line: %s",
	       err.msg);
	sv = kf_repo_get(repo, "taxi", 0, "stable", &miss);
	TAP_STR(model_text(sv), "three", "and what served keeps serving");
	kf_servable_put(sv);

	/* a single model directory is version 1 */
	{
		char *single = kf_path_join(taxi, "1");

		TAP_OK(kf_repo_add_model(repo, "solo", single, &err) == 0, "add a single model directory");
		TAP_OK(kf_repo_add_model(repo, "solo", single, &err) == KF_EUSAGE, "a name given twice");
		TAP_OK(kf_repo_add_model(repo, "a/b", single, &err) == KF_EUSAGE, "a name with a slash");
		free(single);
	}
	write_file(taxi, "kf-serving.yaml", "versions: [3]\n");
	kf_repo_scan(repo, &err);
	sv = kf_repo_get(repo, "solo", 1, NULL, &miss);
	TAP_STR(model_text(sv), "one", "served as version 1");
	kf_servable_put(sv);
	TAP_OK(kf_repo_ready(repo, NULL), "ready when every model serves");
	kf_repo_free(repo);
	TAP_OK(n_loaded == 0, "free unloads everything");
	free(taxi);
	free(root);
}

/* ---- metrics ------------------------------------------------------------- */

static void test_metrics(void)
{
	struct kf_metrics *m = kf_metrics_new();
	struct kf_buf b = KF_BUF_INIT;

	kf_metrics_request(m, "taxi", "2", true, 3000000, 1000000, 500000, 5);
	kf_metrics_request(m, "taxi", "2", false, 0, 0, 0, 0);
	kf_metrics_batch(m, "taxi", "2", 5);
	kf_metrics_models_loaded(m, 1);
	kf_metrics_response(m, 200);
	kf_metrics_response(m, 404);
	kf_metrics_render(m, &b);
	TAP_OK(strstr(b.data, "# TYPE nv_inference_request_success counter\n"
			      "nv_inference_request_success{model=\"taxi\",version=\"2\"} 1\n") != NULL,
	       "success counter");
	TAP_OK(strstr(b.data, "nv_inference_request_failure{model=\"taxi\",version=\"2\"} 1\n") != NULL,
	       "failure counter");
	TAP_OK(strstr(b.data, "nv_inference_count{model=\"taxi\",version=\"2\"} 5\n") != NULL, "instances");
	TAP_OK(strstr(b.data, "nv_inference_request_duration_us{model=\"taxi\",version=\"2\"} 3000\n") != NULL,
	       "cumulative request microseconds");
	TAP_OK(strstr(b.data, "kf_inference_request_duration_seconds_bucket{model=\"taxi\",version=\"2\",le=\"0.0025\"} 0\n"
			      "kf_inference_request_duration_seconds_bucket{model=\"taxi\",version=\"2\",le=\"0.005\"} 1\n") != NULL,
	       "a 3 ms request falls in the 5 ms bucket, cumulatively");
	TAP_OK(strstr(b.data, "kf_inference_request_duration_seconds_bucket{model=\"taxi\",version=\"2\",le=\"+Inf\"} 1\n"
			      "kf_inference_request_duration_seconds_sum{model=\"taxi\",version=\"2\"} 0.003\n"
			      "kf_inference_request_duration_seconds_count{model=\"taxi\",version=\"2\"} 1\n") != NULL,
	       "+Inf bucket, sum and count");
	TAP_OK(strstr(b.data, "kf_inference_batch_size_bucket{model=\"taxi\",version=\"2\",le=\"8\"} 1\n") != NULL,
	       "batch size histogram");
	TAP_OK(strstr(b.data, "kf_models_loaded 1\n") != NULL, "models loaded gauge");
	TAP_OK(strstr(b.data, "kf_http_responses_total{code=\"404\"} 1\n") != NULL, "responses by code");
	kf_buf_release(&b);
	kf_metrics_free(m);
}

int main(void)
{
	char tmpl[] = "/tmp/kf-test-serve.XXXXXX";
	char *tmp = mkdtemp(tmpl);
	struct kf_err err;

	test_batch();
	test_metrics();
	if (tmp) {
		test_repo(tmp);
		kf_fs_remove_tree(tmp, &err);
	}
#ifdef KF_HAVE_MICROHTTPD
	TAP_OK(kf_http_secret_eq("s3cret", "s3cret"), "equal secrets");
	TAP_OK(!kf_http_secret_eq("s3cre", "s3cret") && !kf_http_secret_eq("s3cretx", "s3cret") &&
	       !kf_http_secret_eq("", "s3cret") && !kf_http_secret_eq("S3cret", "s3cret"),
	       "prefixes, extensions and case differ");
#endif
	return tap_done();
}
