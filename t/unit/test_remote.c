/* Unit tests for lib/remote: HTTP rendering and secrets, kubeconfig, the
 * KFP and Kubernetes clients against the protocol double (t/kfp_double.py). */
#include "config.h"

#include "kf_tap.h"
#include "remote/kf_config.h"
#include "remote/kf_http.h"
#include "remote/kf_kfp.h"
#include "remote/kf_kube.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char tmpdir[] = "/tmp/kf-test-remote.XXXXXX";

static void skip(const char *why)
{
	tap_n++;
	printf("ok %d - # SKIP %s\n", tap_n, why);
}

static void write_file(const char *name, const char *text)
{
	char *path = kf_path_join(tmpdir, name);
	struct kf_err err;

	kf_fs_write_atomic(path, text, strlen(text), &err);
	free(path);
}

static char *tmp_path(const char *name)
{
	return kf_path_join(tmpdir, name);
}

static void test_escape(void)
{
	struct kf_buf b = KF_BUF_INIT;

	kf_http_escape(&b, "a b/c?d=é&~_.-");
	TAP_STR(kf_buf_str(&b), "a%20b%2Fc%3Fd%3D%C3%A9%26~_.-", "escape encodes reserved and non-ASCII bytes");
	kf_buf_release(&b);
}

static void test_dry_run_masks_secrets(void)
{
	struct kf_buf out = KF_BUF_INIT;
	struct kf_http_conf conf = { .token = "tok-SECRET", .dry_run = true, .dry_out = &out };
	struct kf_http_req req = {
		.method = "POST", .url = "https://kf.example.com/pipeline/apis/v1beta1/runs",
		.content_type = "application/json", .body = "{\"name\":\"r\"}", .body_len = 12,
	};
	struct kf_http_resp resp;
	struct kf_http *h;
	struct kf_err err;
	char *cookies = tmp_path("cookies.txt");
	int rc;

	write_file("cookies.txt",
		   "# Netscape HTTP Cookie File\n"
		   ".example.com\tTRUE\t/\tTRUE\t0\tauthservice_session\tc00kie-SECRET\n"
		   "#HttpOnly_kf.example.com\tFALSE\t/pipeline\tFALSE\t0\tiap\tiap-SECRET\n"
		   "kf.example.com\tFALSE\t/other\tFALSE\t0\tpathless\tno\n"
		   "kf.example.com\tFALSE\t/\tFALSE\t1\texpired\tno\n"
		   "evil-example.com\tTRUE\t/\tFALSE\t0\tevil\tno\n");
	conf.cookie_file = cookies;
	rc = kf_http_new(&h, &conf, &err);
	TAP_OK(rc == 0, "dry-run client with token and cookie file");
	if (rc)
		goto out;
	rc = kf_http_do(h, &req, &resp, &err);
	TAP_OK(rc == 0 && resp.status == 0, "a dry-run request answers status 0");
	TAP_STR(kf_buf_str(&out),
		"POST https://kf.example.com/pipeline/apis/v1beta1/runs\n"
		"Authorization: Bearer ***\n"
		"Cookie: authservice_session=***; iap=***\n"
		"Content-Type: application/json\n"
		"\n{\"name\":\"r\"}\n\n",
		"dry-run renders method, URL, masked headers (matching cookies only) and body");
	TAP_OK(!strstr(kf_buf_str(&out), "SECRET"), "no secret in the rendering");
	kf_http_resp_release(&resp);
	/* secure cookies are not sent over http */
	kf_buf_reset(&out);
	req.url = "http://kf.example.com/pipeline/x";
	kf_http_do(h, &req, &resp, &err);
	TAP_OK(strstr(kf_buf_str(&out), "Cookie: iap=***\n") != NULL, "a secure cookie is kept off http");
	kf_http_resp_release(&resp);
	kf_buf_reset(&out);
	req.url = "https://alice:pw-SECRET@kf.example.com/pipeline/x?a=b@c";
	kf_http_do(h, &req, &resp, &err);
	TAP_OK(kf_str_starts(kf_buf_str(&out), "POST https://alice:***@kf.example.com/pipeline/x?a=b@c\n"),
	       "a password in the URL is masked");
	kf_http_resp_release(&resp);
	kf_http_free(h);
	write_file("bad-cookies.txt", "kf.example.com\tFALSE\t/\n");
	free(cookies);
	cookies = tmp_path("bad-cookies.txt");
	conf.cookie_file = cookies;
	rc = kf_http_new(&h, &conf, &err);
	TAP_OK(rc == KF_EINPUT && err.line == 1 && strstr(err.msg, "7"), "a malformed cookie line is an error at its line");
out:
	free(cookies);
	kf_buf_release(&out);
}

static void test_kube_state(void)
{
	static const struct {
		const char *json, *state;
		bool done, ok;
	} cases[] = {
		{ "{\"kind\":\"Workflow\"}", "Pending", false, false },
		{ "{\"kind\":\"Workflow\",\"status\":{\"phase\":\"Running\"}}", "Running", false, false },
		{ "{\"kind\":\"Workflow\",\"status\":{\"phase\":\"Error\"}}", "Error", true, false },
		{ "{\"kind\":\"TFJob\",\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},"
		  "{\"type\":\"Running\",\"status\":\"False\"},{\"type\":\"Succeeded\",\"status\":\"True\"}]}}",
		  "Succeeded", true, true },
		{ "{\"kind\":\"PyTorchJob\",\"status\":{\"conditions\":[{\"type\":\"Running\",\"status\":\"True\"}]}}",
		  "Running", false, false },
		{ "{\"kind\":\"Experiment\",\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\"}]}}",
		  "Failed", true, false },
		{ "{\"kind\":\"InferenceService\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		  "Ready", true, true },
		{ "{\"kind\":\"InferenceService\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
		  "NotReady", false, false },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *o = cJSON_Parse(cases[i].json);
		bool done, ok;
		const char *s = kf_kube_state(o, &done, &ok);

		TAP_OK(!strcmp(s, cases[i].state) && done == cases[i].done && ok == cases[i].ok,
		       "state of %s is %s", cases[i].json, cases[i].state);
		cJSON_Delete(o);
	}
}

static void test_collection_path(void)
{
	cJSON *d = cJSON_Parse("{\"apiVersion\":\"serving.kserve.io/v1beta1\",\"kind\":\"InferenceService\"}");
	struct kf_buf p = KF_BUF_INIT;
	struct kf_err err;

	TAP_OK(kf_kube_collection_path(d, "team-a", &p, &err) == 0, "InferenceService has a collection");
	TAP_STR(kf_buf_str(&p), "/apis/serving.kserve.io/v1beta1/namespaces/team-a/inferenceservices",
		"InferenceService collection path");
	cJSON_Delete(d);
	d = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}");
	TAP_OK(kf_kube_collection_path(d, "x", &p, &err) == KF_EINPUT && strstr(err.msg, "\"Pod\""),
	       "a kind kf does not apply is refused by name");
	cJSON_Delete(d);
	kf_buf_release(&p);
}

static const char tfjob[] =
	"apiVersion: kubeflow.org/v1\n"
	"kind: TFJob\n"
	"metadata:\n"
	"  name: mnist\n"
	"spec:\n"
	"  tfReplicaSpecs: {}\n";

static void test_kubeconfig_dry_run(void)
{
	struct kf_buf out = KF_BUF_INIT;
	struct kf_kube_conf conf = { .dry_run = true, .dry_out = &out };
	struct kf_kube *k;
	struct kf_err err;
	char *a = tmp_path("kc-a"), *b = tmp_path("kc-b"), *list, *job = tmp_path("tfjob.yaml");
	int rc;

	/* two files as kubectl merges them: the first to name a thing wins */
	write_file("kc-a",
		   "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
		   "contexts:\n- name: lab\n  context: {cluster: lab, user: alice, namespace: team-a}\n"
		   "- name: cloud\n  context: {cluster: cloud, user: bob}\n"
		   "users:\n- name: alice\n  user: {tokenFile: alice.token}\n"
		   "- name: bob\n  user:\n    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}\n");
	write_file("alice.token", "alice-SECRET\n");
	write_file("kc-b",
		   "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
		   "clusters:\n- name: lab\n  cluster:\n    server: https://10.0.0.1:6443/\n"
		   "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
		   "- name: cloud\n  cluster: {server: 'https://cloud:443'}\n");
	write_file("tfjob.yaml", tfjob);
	list = kf_xasprintf("%s:%s/missing:%s", a, tmpdir, b);
	setenv("KUBECONFIG", list, 1);
	rc = kf_kube_new(&k, &conf, &err);
	TAP_OK(rc == 0, "merged KUBECONFIG list loads (%s)", rc ? err.msg : "ok");
	if (rc == 0) {
		TAP_STR(kf_kube_server(k), "https://10.0.0.1:6443", "server of the current context's cluster");
		TAP_STR(kf_kube_namespace(k), "team-a", "namespace of the current context");
		rc = kf_kube_apply_file(k, job, NULL, NULL, &err);
		TAP_OK(rc == 0, "dry-run apply of a TFJob");
		TAP_OK(kf_str_starts(kf_buf_str(&out),
				     "POST https://10.0.0.1:6443/apis/kubeflow.org/v1/namespaces/team-a/tfjobs\n"
				     "Authorization: Bearer ***\nContent-Type: application/json\n\n{\"apiVersion\":"),
		       "dry-run renders the POST with the token masked");
		TAP_OK(!strstr(kf_buf_str(&out), "SECRET"), "the tokenFile's token is not shown");
		kf_kube_free(k);
	}
	conf.context = "cloud";
	rc = kf_kube_new(&k, &conf, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "user \"bob\" gets its credentials from a plugin"),
	       "an exec plugin user is refused with the reason");
	conf.context = "nope";
	rc = kf_kube_new(&k, &conf, &err);
	TAP_STR(err.msg, "kubeconfig has no context \"nope\"", "an unknown context is named");
	unsetenv("KUBECONFIG");
	setenv("HOME", tmpdir, 1);
	conf.context = NULL;
	rc = kf_kube_new(&k, &conf, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "no kubeconfig"), "no kubeconfig at all is an environment error");
	free(list);
	free(a);
	free(b);
	free(job);
	kf_buf_release(&out);
}

/* ---- against the protocol double ---------------------------------------- */

struct double_proc {
	pid_t pid;
	char dir[512];
	char url[64];
};

static bool have_python_yaml(void)
{
	char *argv[] = { "python3", "-c", "import yaml", NULL };
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "python3", NULL, NULL, argv, environ) != 0)
		return false;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Start the double; extra (NULL-terminated, up to 6) are more arguments. */
static bool double_start_with(struct double_proc *d, const char *mode, char *const *extra)
{
	const char *src = getenv("KF_SRCDIR");
	char *script = kf_xasprintf("%s/t/kfp_double.py", src ? src : ".");
	char *argv[14] = { "python3", script, "--state", d->dir, "--mode", (char *)mode, NULL };
	size_t j;
	char *port_path;
	struct kf_buf port = KF_BUF_INIT;
	struct kf_err err;
	int i, rc;

	for (j = 0; extra && extra[j] && j < 6; j++)
		argv[6 + j] = extra[j];
	snprintf(d->dir, sizeof d->dir, "%s/double-%s%s", tmpdir, mode, extra ? "-tls" : "");
	kf_fs_mkdirs(d->dir, &err);
	rc = posix_spawnp(&d->pid, "python3", NULL, NULL, argv, environ);
	free(script);
	if (rc != 0)
		return false;
	port_path = kf_path_join(d->dir, "port");
	for (i = 0; i < 200 && !kf_fs_exists(port_path); i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
	rc = kf_fs_read_file(port_path, &port, &err);
	free(port_path);
	if (rc == 0)
		snprintf(d->url, sizeof d->url, "%s://127.0.0.1:%s", extra ? "https" : "http", kf_buf_str(&port));
	kf_buf_release(&port);
	return rc == 0;
}

static bool double_start(struct double_proc *d, const char *mode)
{
	return double_start_with(d, mode, NULL);
}

/* Stop it; true when it saw no request the API does not allow. */
static bool double_stop(struct double_proc *d)
{
	char *failures = kf_path_join(d->dir, "failures.log");
	struct kf_buf text = KF_BUF_INIT;
	struct kf_err err;
	bool clean;
	int st;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
	clean = !kf_fs_exists(failures);
	if (!clean && kf_fs_read_file(failures, &text, &err) == 0)
		printf("# protocol failures:\n# %s\n", kf_buf_str(&text));
	kf_buf_release(&text);
	free(failures);
	return clean;
}

static void double_control(const struct double_proc *d, const char *json)
{
	char *path = kf_path_join(d->dir, "control.json");
	struct kf_err err;

	kf_fs_write_atomic(path, json, strlen(json), &err);
	free(path);
}

struct states {
	struct kf_strv seen;
};

static void on_state(void *arg, const cJSON *obj, const char *state)
{
	(void)obj;
	kf_strv_push(&((struct states *)arg)->seen, state);
}

static void test_kube_against_double(void)
{
	struct double_proc d;
	struct kf_kube_conf conf = { 0 };
	struct states st = { KF_STRV_INIT };
	struct kf_kube_watch w = { .watch = true, .poll_ms = 10, .on_state = on_state, .arg = &st };
	struct kf_kube *k = NULL;
	struct kf_err err;
	cJSON *out = NULL, *doc;
	char *kc = tmp_path("kc-double"), *job = tmp_path("tfjob.yaml"), *text, *joined;
	int rc;

	if (!double_start(&d, "kube")) {
		skip("the protocol double did not start");
		goto out;
	}
	text = kf_xasprintf("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			    "contexts: [{name: t, context: {cluster: c, user: u}}]\n"
			    "clusters: [{name: c, cluster: {server: '%s'}}]\n"
			    "users: [{name: u, user: {token: kube-t0ken}}]\n", d.url);
	write_file("kc-double", text);
	free(text);
	conf.kubeconfig = kc;
	double_control(&d, "{\"token\": \"kube-t0ken\"}");
	rc = kf_kube_new(&k, &conf, &err);
	TAP_OK(rc == 0, "kube client from a token kubeconfig");
	if (rc)
		goto stop;
	TAP_STR(kf_kube_namespace(k), "default", "namespace defaults to \"default\"");
	rc = kf_kube_apply_file(k, job, &w, &out, &err);
	joined = kf_strv_join(&st.seen, ",");
	TAP_OK(rc == 0, "TFJob applied and watched to the end (%s)", rc ? err.msg : "ok");
	TAP_STR(joined, "Pending,Running,Succeeded", "the watch saw each state once");
	free(joined);
	TAP_STR(cJSON_GetArrayItem(out, 0) ? cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0),
			"metadata"), "namespace")->valuestring : NULL, "default", "created in the default namespace");
	cJSON_Delete(out);
	out = NULL;

	double_control(&d, "{\"token\": \"kube-t0ken\", \"kube_phases\": [\"Running\", \"Failed\"]}");
	doc = cJSON_Parse("{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Workflow\","
			  "\"metadata\":{\"generateName\":\"hello-\",\"namespace\":\"team-b\"},\"spec\":{}}");
	rc = kf_kube_apply(k, doc, &w, &out, &err);
	TAP_OK(rc == KF_EFAIL && kf_str_starts(err.msg, "Workflow \"hello-"), "a failed Workflow is KF_EFAIL (%s)",
	       err.msg);
	cJSON_Delete(out);
	out = NULL;
	w.watch = false;
	rc = kf_kube_apply(k, doc, &w, &out, &err);
	TAP_OK(rc == 0 && kf_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "namespace")->valuestring,
				    "team-b"), "generateName gets a name; the resource's namespace is used");
	cJSON_Delete(out);
	out = NULL;
	cJSON_Delete(doc);

	/* every document of a file, in order */
	write_file("two.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nspec: {}\n"
			       "---\napiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n"
			       "metadata: {name: model}\nspec: {}\n");
	text = tmp_path("two.yaml");
	rc = kf_kube_apply_file(k, text, &w, &out, &err);
	free(text);
	TAP_OK(rc == 0 && cJSON_GetArraySize(out) == 2 &&
	       kf_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "kind")->valuestring, "InferenceService"),
	       "a two-document file creates both, in order (%s)", rc ? err.msg : "ok");
	cJSON_Delete(out);
	out = NULL;

	rc = kf_kube_apply_file(k, job, &w, NULL, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "HTTP 409: tfjobs.kubeflow.org \"mnist\" already exists"),
	       "the server's refusal verbatim (%s)", err.msg);
	double_control(&d, "{\"token\": \"another\"}");
	doc = cJSON_Parse("{\"apiVersion\":\"kubeflow.org/v1\",\"kind\":\"TFJob\",\"metadata\":{\"name\":\"mnist\"}}");
	rc = kf_kube_get(k, doc, &out, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "HTTP 401: Unauthorized"), "a refused token is exit 3 (%s)", err.msg);
	cJSON_Delete(doc);
	kf_kube_free(k);
stop:
	TAP_OK(double_stop(&d), "the Kubernetes double saw only valid requests");
out:
	kf_strv_release(&st.seen);
	free(kc);
	free(job);
}

/* A CA, a server certificate for 127.0.0.1 and a client certificate, by
 * the openssl tool; the client's as base64 too (kubeconfig *-data). */
static bool make_certs(void)
{
	char *script = kf_xasprintf(
		"cd '%s' && ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
		"openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=kf-test-ca && "
		"printf 'subjectAltName=IP:127.0.0.1\\n' >srv.ext && "
		"openssl req $ec -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
		"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
		"-extfile srv.ext && "
		"openssl req $ec -keyout cli.key -out cli.csr -subj /CN=kf-user && "
		"openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 && "
		"openssl base64 -A -in cli.pem -out cli.pem.b64 && openssl base64 -A -in cli.key -out cli.key.b64",
		tmpdir);
	char *argv[] = { "sh", "-c", script, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "sh", &fa, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	free(script);
	return st == 0;
}

static char *slurp(const char *name)
{
	char *path = tmp_path(name);
	struct kf_buf b = KF_BUF_INIT;
	struct kf_err err;

	kf_fs_read_file(path, &b, &err);
	free(path);
	return kf_buf_detach(&b);
}

static void test_kube_tls(void)
{
	struct double_proc d;
	char *srv = tmp_path("srv.pem"), *key = tmp_path("srv.key"), *ca = tmp_path("ca.pem");
	char *extra[] = { "--tls-cert", srv, "--tls-key", key, "--tls-client-ca", ca, NULL };
	struct kf_kube_conf conf = { 0 };
	struct kf_kube *k = NULL;
	struct kf_err err;
	char *kc = tmp_path("kc-tls"), *job = tmp_path("tfjob.yaml"), *cert = NULL, *ckey = NULL, *text;
	cJSON *out = NULL;
	int rc;

	if (!make_certs()) {
		skip("openssl could not make test certificates");
		goto out;
	}
	if (!double_start_with(&d, "kube", extra)) {
		skip("the TLS protocol double did not start");
		goto out;
	}
	cert = slurp("cli.pem.b64");
	ckey = slurp("cli.key.b64");
	/* certificate-authority as a path relative to the kubeconfig file */
	text = kf_xasprintf("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			    "contexts: [{name: t, context: {cluster: c, user: u, namespace: ml}}]\n"
			    "clusters: [{name: c, cluster: {server: '%s', certificate-authority: ca.pem}}]\n"
			    "users: [{name: u, user: {client-certificate-data: %s, client-key-data: %s}}]\n",
			    d.url, cert, ckey);
	write_file("kc-tls", text);
	free(text);
	conf.kubeconfig = kc;
	rc = kf_kube_new(&k, &conf, &err);
	TAP_OK(rc == 0, "kubeconfig with a CA file and client certificate data");
	if (!rc) {
		rc = kf_kube_apply_file(k, job, NULL, &out, &err);
		TAP_OK(rc == 0, "applied over TLS with a client certificate (%s)", rc ? err.msg : "ok");
		TAP_STR(rc ? NULL : cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "metadata"),
							"namespace")->valuestring, "ml", "in the context's namespace");
		cJSON_Delete(out);
		kf_kube_free(k);
	}
	/* without the client certificate the server refuses the handshake */
	text = kf_xasprintf("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			    "contexts: [{name: t, context: {cluster: c, user: u}}]\n"
			    "clusters: [{name: c, cluster: {server: '%s', certificate-authority: ca.pem}}]\n"
			    "users: [{name: u, user: {token: x}}]\n", d.url);
	write_file("kc-tls", text);
	free(text);
	rc = kf_kube_new(&k, &conf, &err);
	if (!rc) {
		rc = kf_kube_apply_file(k, job, NULL, NULL, &err);
		TAP_OK(rc == KF_EENV, "no client certificate: refused (%s)", err.msg);
		kf_kube_free(k);
	}
	TAP_OK(double_stop(&d), "the TLS double saw only valid requests");
out:
	free(srv);
	free(key);
	free(ca);
	free(kc);
	free(job);
	free(cert);
	free(ckey);
}

static const char workflow_json[] =
	"{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Workflow\",\"metadata\":{\"generateName\":\"hello-\"},"
	"\"spec\":{\"entrypoint\":\"hello\",\"arguments\":{\"parameters\":[{\"name\":\"message\",\"value\":\"hi\"}]},"
	"\"templates\":[{\"name\":\"echo\",\"container\":{\"image\":\"alpine\"}},"
	"{\"name\":\"hello\",\"dag\":{\"tasks\":[{\"name\":\"a\",\"template\":\"echo\"},"
	"{\"name\":\"b\",\"template\":\"echo\",\"dependencies\":[\"a\"]}]}}]}}";

static const char *run_status(const cJSON *detail)
{
	const cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(detail, "run"), "status");

	return cJSON_IsString(s) ? s->valuestring : "";
}

static void test_kfp_against_double(void)
{
	struct double_proc d;
	struct kf_remote remote = { 0 };
	struct kf_kfp_conf conf = { 0 };
	struct kf_strv params = KF_STRV_INIT;
	struct kf_kfp_run_req req = { .name = "r1" };
	struct kf_kfp_job_req job = { .name = "nightly", .interval_s = 1800, .max_concurrency = 2 };
	struct kf_kfp *k = NULL;
	struct kf_err err;
	cJSON *exp = NULL, *detail = NULL, *list = NULL, *steps, *j = NULL;
	char run_id[64] = "", job_id[64] = "";
	bool created;
	int rc, i;

	if (!double_start(&d, "kfp")) {
		skip("the protocol double did not start");
		return;
	}
	remote.host = d.url;
	rc = kf_kfp_new(&k, &remote, &conf, &err);
	TAP_OK(rc == 0, "kfp client");
	if (rc)
		goto stop;
	rc = kf_kfp_healthz(k, &list, &err);
	TAP_OK(rc == 0 && cJSON_IsFalse(cJSON_GetObjectItem(list, "multi_user")), "healthz");
	cJSON_Delete(list);
	list = NULL;
	/* more than a page (100) of experiments: the list follows next_page_token */
	for (i = 0; i < 120; i++) {
		char name[32];

		snprintf(name, sizeof name, "exp-%03d", i);
		rc = kf_kfp_experiment_ensure(k, name, &exp, &created, &err);
		cJSON_Delete(exp);
		exp = NULL;
		if (rc)
			break;
	}
	rc = rc ? rc : kf_kfp_list(k, KF_KFP_EXPERIMENTS, NULL, &list, &err);
	TAP_OK(rc == 0 && cJSON_GetArraySize(list) == 121, "every page of a list is read (%d items)",
	       rc ? -1 : cJSON_GetArraySize(list));
	cJSON_Delete(list);
	list = NULL;
	rc = kf_kfp_experiment_ensure(k, "exp-007", &exp, &created, &err);
	TAP_OK(rc == 0 && !created, "an existing experiment is found by name, not created again");
	cJSON_Delete(exp);
	exp = NULL;
	rc = kf_kfp_experiment_ensure(k, "nightly", &exp, &created, &err);
	TAP_OK(rc == 0 && created, "a missing experiment is created");
	req.experiment_id = cJSON_GetObjectItem(exp, "id")->valuestring;
	kf_strv_push(&params, "message=hello there");
	req.spec.workflow_manifest = workflow_json;
	req.spec.params = &params;
	rc = kf_kfp_run_create(k, &req, &detail, &err);
	TAP_OK(rc == 0, "run created (%s)", rc ? err.msg : "ok");
	if (rc)
		goto stop;
	snprintf(run_id, sizeof run_id, "%s",
		 cJSON_GetObjectItem(cJSON_GetObjectItem(detail, "run"), "id")->valuestring);
	TAP_STR(run_status(detail), "Pending", "a new run is Pending");
	for (i = 0; i < 5 && !kf_kfp_status_done(run_status(detail)); i++) {
		cJSON_Delete(detail);
		detail = NULL;
		rc = kf_kfp_run_get(k, run_id, &detail, &err);
		if (rc)
			break;
	}
	TAP_OK(rc == 0 && i == 2 && kf_kfp_status_ok(run_status(detail)), "the run went Running then Succeeded");
	steps = kf_kfp_run_steps(detail);
	TAP_OK(cJSON_GetArraySize(steps) == 2 && kf_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 0), "name")->valuestring, "a"),
	       "steps come from the live workflow manifest, in start order");
	cJSON_Delete(steps);
	rc = kf_kfp_run_retry(k, run_id, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "HTTP 400: Invalid input error: Workflow cannot be retried"),
	       "a refusal keeps the server's message (%s)", err.msg);
	rc = kf_kfp_run_terminate(k, run_id, &err);
	TAP_OK(rc == 0, "terminate");
	rc = kf_kfp_run_retry(k, run_id, &err);
	TAP_OK(rc == 0, "retry after terminate");
	rc = kf_kfp_list(k, KF_KFP_RUNS, req.experiment_id, &list, &err);
	TAP_OK(rc == 0 && cJSON_GetArraySize(list) == 1, "the experiment lists its run");
	cJSON_Delete(list);
	list = NULL;

	kf_strv_release(&params);
	kf_strv_push(&params, "nosuch=1");
	cJSON_Delete(detail);
	detail = NULL;
	rc = kf_kfp_run_create(k, &req, &detail, &err);
	TAP_STR(err.msg, "POST /apis/v1beta1/runs: HTTP 400: Invalid input error: Unrecognized input parameter: nosuch",
		"an unknown parameter is the server's error");

	job.experiment_id = req.experiment_id;
	job.spec.workflow_manifest = workflow_json;
	job.start_time = "2026-01-01T00:00:00Z";
	rc = kf_kfp_job_create(k, &job, &j, &err);
	TAP_OK(rc == 0, "periodic recurring run created (%s)", rc ? err.msg : "ok");
	if (!rc)
		snprintf(job_id, sizeof job_id, "%s", cJSON_GetObjectItem(j, "id")->valuestring);
	cJSON_Delete(j);
	j = NULL;
	job.interval_s = 0;
	job.cron = "0 0 * * *";
	job.name = "cron";
	rc = kf_kfp_job_create(k, &job, &j, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "Expected 6 fields, found 5"), "a 5-field cron is the server's error");
	rc = kf_kfp_job_enable(k, job_id, false, &err);
	TAP_OK(rc == 0, "disable");
	rc = kf_kfp_job_get(k, job_id, &j, &err);
	TAP_OK(rc == 0 && cJSON_IsFalse(cJSON_GetObjectItem(j, "enabled")), "disabled on the server");
	cJSON_Delete(j);
	j = NULL;
	rc = kf_kfp_list(k, KF_KFP_JOBS, NULL, &list, &err);
	TAP_OK(rc == 0 && cJSON_GetArraySize(list) == 1, "list recurring runs");
	cJSON_Delete(list);
	list = NULL;
	rc = kf_kfp_job_delete(k, job_id, &err);
	TAP_OK(rc == 0, "delete");
	rc = kf_kfp_job_get(k, job_id, &j, &err);
	TAP_OK(rc == KF_EENV && strstr(err.msg, "HTTP 404"), "gone after delete");
stop:
	kf_kfp_free(k);
	kf_strv_release(&params);
	cJSON_Delete(exp);
	cJSON_Delete(detail);
	TAP_OK(double_stop(&d), "the KFP double saw only valid requests");
}

int main(void)
{
	struct kf_err err;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_escape();
	test_dry_run_masks_secrets();
	test_kube_state();
	test_collection_path();
	test_kubeconfig_dry_run();
	if (have_python_yaml()) {
		test_kube_against_double();
		test_kube_tls();
		test_kfp_against_double();
	} else {
		skip("python3 with yaml is not installed: no protocol double");
	}
	kf_fs_remove_tree(tmpdir, &err);
	return tap_done();
}
