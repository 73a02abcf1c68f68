/* kf_kube: kubeconfig and custom resources over kf_http. */
#include "config.h"

#include "remote/kf_http.h"
#include "remote/kf_kube.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kf_kube {
	struct kf_http *http;
	char *server;
	char *namespace;
	bool dry_run;
};

/* The kinds kf applies, and their API collections. */
static const struct {
	const char *group, *kind, *plural;
} kinds[] = {
	{ "argoproj.io", "Workflow", "workflows" },
	{ "kubeflow.org", "TFJob", "tfjobs" },
	{ "kubeflow.org", "PyTorchJob", "pytorchjobs" },
	{ "kubeflow.org", "Experiment", "experiments" },
	{ "serving.kserve.io", "InferenceService", "inferenceservices" },
};

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jobj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

/* ---- kubeconfig --------------------------------------------------------- */

struct kcfile {
	char *path;
	char *dir;   /* relative paths in the file are relative to here */
	cJSON *doc;
};

struct kubeconfig {
	struct kcfile *files;
	size_t n, cap;
};

static void kubeconfig_release(struct kubeconfig *kc)
{
	size_t i;

	for (i = 0; i < kc->n; i++) {
		free(kc->files[i].path);
		free(kc->files[i].dir);
		cJSON_Delete(kc->files[i].doc);
	}
	free(kc->files);
	memset(kc, 0, sizeof *kc);
}

static int kubeconfig_add(struct kubeconfig *kc, const char *path, struct kf_err *err)
{
	struct kf_ydoc doc;
	struct kcfile *f;
	int rc;

	rc = kf_yaml_load_file(&doc, path, err);
	if (rc)
		return rc == KF_EIO ? KF_EENV : rc;
	KF_GROW(kc->files, kc->cap, kc->n + 1);
	f = &kc->files[kc->n++];
	f->path = kf_xstrdup(path);
	f->dir = kf_path_dirname(path);
	f->doc = doc.root ? kf_ynode_to_json(doc.root) : cJSON_CreateObject();
	kf_ydoc_release(&doc);
	if (!cJSON_IsObject(f->doc))
		return kf_err_at(err, KF_EINPUT, path, 1, 1, "a kubeconfig is a map (apiVersion v1, kind Config)");
	return 0;
}

static int kubeconfig_load(struct kubeconfig *kc, const char *explicit_path, struct kf_err *err)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	int rc = 0;

	memset(kc, 0, sizeof *kc);
	if (explicit_path)
		return kubeconfig_add(kc, explicit_path, err);
	if (env && *env) {
		char *list = kf_xstrdup(env), *save = NULL, *p;

		for (p = strtok_r(list, ":", &save); p && !rc; p = strtok_r(NULL, ":", &save))
			if (kf_fs_exists(p))   /* kubectl skips missing files of the list */
				rc = kubeconfig_add(kc, p, err);
		free(list);
		if (!rc && kc->n == 0)
			rc = kf_err_set(err, KF_EENV, "no file of KUBECONFIG=\"%s\" exists", env);
		return rc;
	}
	if (home && *home) {
		char *path = kf_xasprintf("%s/.kube/config", home);

		if (kf_fs_exists(path))
			rc = kubeconfig_add(kc, path, err);
		else
			rc = kf_err_set(err, KF_EENV, "no kubeconfig: set KUBECONFIG or create \"%s\"", path);
		free(path);
		return rc;
	}
	return kf_err_set(err, KF_EENV, "no kubeconfig: set KUBECONFIG");
}

/* The first entry called name in the list "contexts"/"clusters"/"users",
 * its inner object (context/cluster/user) and the file it came from. */
static const cJSON *kubeconfig_find(const struct kubeconfig *kc, const char *list, const char *inner,
				    const char *name, const struct kcfile **from)
{
	size_t i;

	for (i = 0; i < kc->n; i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(kc->files[i].doc, list), *it;

		cJSON_ArrayForEach(it, arr) {
			if (kf_str_eq(jstr(it, "name"), name)) {
				*from = &kc->files[i];
				return jobj(it, inner) ? jobj(it, inner) : cJSON_GetObjectItemCaseSensitive(it, inner);
			}
		}
	}
	return NULL;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard base64 (whitespace ignored, padding optional). */
static int b64_decode(const char *s, struct kf_buf *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (; *s; s++) {
		int v;

		if (*s == '=' || *s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
			continue;
		v = b64_value((unsigned char)*s);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kf_buf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

/* A credential given as FIELD (a path) or FIELD-data (base64 PEM). */
static int pem_field(const cJSON *o, const char *field, const struct kcfile *f, char **path,
		     struct kf_buf *data, struct kf_err *err)
{
	char data_key[64];
	const char *p = jstr(o, field), *d;

	snprintf(data_key, sizeof data_key, "%s-data", field);
	d = jstr(o, data_key);
	if (d) {
		if (b64_decode(d, data) != 0)
			return kf_err_set(err, KF_EINPUT, "%s: \"%s\" is not base64", f->path, data_key);
		return 0;
	}
	if (p)
		*path = p[0] == '/' ? kf_xstrdup(p) : kf_path_join(f->dir, p);
	return 0;
}

struct creds {
	char *server, *namespace;
	char *token;
	char *ca_file, *cert_file, *key_file;
	struct kf_buf ca, cert, key;
	bool insecure;
};

static void creds_release(struct creds *c)
{
	free(c->server);
	free(c->namespace);
	free(c->token);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	kf_buf_release(&c->ca);
	kf_buf_release(&c->cert);
	kf_buf_release(&c->key);
}

static int read_user(const cJSON *user, const struct kcfile *f, const char *name, struct creds *c,
		     struct kf_err *err)
{
	const char *token_file = jstr(user, "tokenFile");
	int rc;

	if (cJSON_GetObjectItemCaseSensitive(user, "exec") || cJSON_GetObjectItemCaseSensitive(user, "auth-provider"))
		return kf_err_set(err, KF_EENV,
				  "%s: user \"%s\" gets its credentials from a plugin (exec or auth-provider), which "
				  "kf does not run; give the user a token, a tokenFile or a client certificate",
				  f->path, name);
	if (jstr(user, "token")) {
		c->token = kf_xstrdup(jstr(user, "token"));
	} else if (token_file) {
		struct kf_buf t = KF_BUF_INIT;
		char *path = token_file[0] == '/' ? kf_xstrdup(token_file) : kf_path_join(f->dir, token_file);

		rc = kf_fs_read_file(path, &t, err);
		free(path);
		if (rc) {
			kf_buf_release(&t);
			kf_err_prefix(err, "user \"%s\" tokenFile", name);
			return KF_EENV;
		}
		while (t.len && (t.data[t.len - 1] == '\n' || t.data[t.len - 1] == '\r' || t.data[t.len - 1] == ' '))
			t.data[--t.len] = '\0';
		c->token = kf_buf_detach(&t);
	}
	rc = pem_field(user, "client-certificate", f, &c->cert_file, &c->cert, err);
	if (!rc)
		rc = pem_field(user, "client-key", f, &c->key_file, &c->key, err);
	return rc;
}

static int resolve_creds(const struct kubeconfig *kc, const struct kf_kube_conf *conf, struct creds *c,
			 struct kf_err *err)
{
	const struct kcfile *cf = NULL, *uf = NULL, *xf = NULL;
	const cJSON *ctx, *cluster, *user;
	const char *ctx_name = conf->context, *cluster_name, *user_name;
	const cJSON *v;
	size_t i;
	int rc;

	for (i = 0; !ctx_name && i < kc->n; i++)
		ctx_name = jstr(kc->files[i].doc, "current-context");
	if (!ctx_name || !*ctx_name)
		return kf_err_set(err, KF_EENV, "%s: no current-context; name one with a context", kc->files[0].path);
	ctx = kubeconfig_find(kc, "contexts", "context", ctx_name, &xf);
	if (!ctx)
		return kf_err_set(err, KF_EENV, "kubeconfig has no context \"%s\"", ctx_name);
	cluster_name = jstr(ctx, "cluster");
	user_name = jstr(ctx, "user");
	cluster = cluster_name ? kubeconfig_find(kc, "clusters", "cluster", cluster_name, &cf) : NULL;
	if (!cluster)
		return kf_err_set(err, KF_EENV, "%s: context \"%s\" names no known cluster", xf->path, ctx_name);
	if (!jstr(cluster, "server"))
		return kf_err_set(err, KF_EENV, "%s: cluster \"%s\" has no server", cf->path, cluster_name);
	c->server = kf_xstrdup(jstr(cluster, "server"));
	while (kf_str_ends(c->server, "/"))
		c->server[strlen(c->server) - 1] = '\0';
	if (jstr(ctx, "namespace"))
		c->namespace = kf_xstrdup(jstr(ctx, "namespace"));
	v = cJSON_GetObjectItemCaseSensitive(cluster, "insecure-skip-tls-verify");
	c->insecure = cJSON_IsTrue(v);
	rc = pem_field(cluster, "certificate-authority", cf, &c->ca_file, &c->ca, err);
	if (rc)
		return rc;
	if (user_name) {
		user = kubeconfig_find(kc, "users", "user", user_name, &uf);
		if (!user)
			return kf_err_set(err, KF_EENV, "%s: context \"%s\" names no known user \"%s\"", xf->path,
					  ctx_name, user_name);
		if (cJSON_IsObject(user))
			rc = read_user(user, uf, user_name, c, err);
	}
	return rc;
}

int kf_kube_new(struct kf_kube **out, const struct kf_kube_conf *conf, struct kf_err *err)
{
	struct kubeconfig kc;
	struct creds c;
	struct kf_kube *k = NULL;
	struct kf_http_conf hc = { 0 };
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof c);
	rc = kubeconfig_load(&kc, conf->kubeconfig, err);
	if (rc)
		goto out;
	rc = resolve_creds(&kc, conf, &c, err);
	if (rc)
		goto out;
	hc.token = c.token;
	hc.ca_file = c.ca_file;
	hc.ca_pem = c.ca.data;
	hc.ca_pem_len = c.ca.len;
	hc.cert_file = c.cert_file;
	hc.key_file = c.key_file;
	hc.cert_pem = c.cert.data;
	hc.cert_pem_len = c.cert.len;
	hc.key_pem = c.key.data;
	hc.key_pem_len = c.key.len;
	hc.insecure = c.insecure;
	hc.timeout_ms = conf->timeout_ms;
	hc.retries = 2;
	hc.dry_run = conf->dry_run;
	hc.dry_out = conf->dry_out;
	hc.trace = conf->trace;
	hc.trace_arg = conf->trace_arg;
	k = kf_xcalloc(1, sizeof *k);
	rc = kf_http_new(&k->http, &hc, err);
	if (rc) {
		free(k);
		k = NULL;
		goto out;
	}
	k->server = c.server;
	c.server = NULL;
	k->namespace = conf->namespace ? kf_xstrdup(conf->namespace)
				       : c.namespace ? kf_xstrdup(c.namespace) : kf_xstrdup("default");
	k->dry_run = conf->dry_run;
	*out = k;
out:
	creds_release(&c);
	kubeconfig_release(&kc);
	return rc;
}

void kf_kube_free(struct kf_kube *k)
{
	if (!k)
		return;
	kf_http_free(k->http);
	free(k->server);
	free(k->namespace);
	free(k);
}

const char *kf_kube_server(const struct kf_kube *k)
{
	return k->server;
}

const char *kf_kube_namespace(const struct kf_kube *k)
{
	return k->namespace;
}

/* ---- resources ---------------------------------------------------------- */

int kf_kube_collection_path(const cJSON *doc, const char *ns, struct kf_buf *path, struct kf_err *err)
{
	const char *av = jstr(doc, "apiVersion"), *kind = jstr(doc, "kind"), *slash;
	size_t i;

	if (!av || !kind)
		return kf_err_set(err, KF_EINPUT, "a resource needs apiVersion and kind");
	slash = strchr(av, '/');
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(kinds[i].kind, kind) || !slash || strlen(kinds[i].group) != (size_t)(slash - av) ||
		    strncmp(kinds[i].group, av, (size_t)(slash - av)))
			continue;
		kf_buf_printf(path, "/apis/%s/namespaces/", av);
		kf_http_escape(path, ns);
		kf_buf_printf(path, "/%s", kinds[i].plural);
		return 0;
	}
	return kf_err_set(err, KF_EINPUT,
			  "kf applies Workflow, TFJob, PyTorchJob, Experiment and InferenceService resources, "
			  "not \"%s\" of \"%s\"", kind, av);
}

static const char *resource_ns(const struct kf_kube *k, const cJSON *doc)
{
	const char *ns = jstr(jobj(doc, "metadata"), "namespace");

	return ns && *ns ? ns : k->namespace;
}

/* The server's message: a Status object's message, else the body. */
static int kube_error(const char *method, const char *path, const struct kf_http_resp *resp,
		      struct kf_err *err)
{
	cJSON *doc = cJSON_Parse(kf_buf_str(&resp->body));
	const char *msg = jstr(doc, "message");
	size_t n = strcspn(kf_buf_str(&resp->body), "\r\n");

	if (msg && *msg)
		kf_err_set(err, KF_EENV, "%s %s: HTTP %ld: %s", method, path, resp->status, msg);
	else
		kf_err_set(err, KF_EENV, "%s %s: HTTP %ld: %.*s", method, path, resp->status,
			   (int)(n < 300 ? n : 300), kf_buf_str(&resp->body));
	cJSON_Delete(doc);
	return KF_EENV;
}

static int kube_call(struct kf_kube *k, const char *method, const char *path, const cJSON *body, cJSON **out,
		     struct kf_err *err)
{
	struct kf_http_req req = { .method = method, .idempotent = !strcmp(method, "GET") };
	struct kf_http_resp resp;
	char *url = kf_xasprintf("%s%s", k->server, path), *text = NULL;
	int rc;

	*out = NULL;
	if (body) {
		text = cJSON_PrintUnformatted(body);
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	req.url = url;
	rc = kf_http_do(k->http, &req, &resp, err);
	if (rc || k->dry_run)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = kube_error(method, path, &resp, err);
		goto out;
	}
	*out = cJSON_Parse(kf_buf_str(&resp.body));
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = kf_err_set(err, KF_EENV, "%s %s: the answer is not a JSON object", method, path);
	}
out:
	kf_http_resp_release(&resp);
	free(url);
	free(text);
	return rc;
}

int kf_kube_get(struct kf_kube *k, const cJSON *ref, cJSON **out, struct kf_err *err)
{
	struct kf_buf path = KF_BUF_INIT;
	const char *name = jstr(jobj(ref, "metadata"), "name");
	int rc;

	*out = NULL;
	if (!name)
		return kf_err_set(err, KF_EINPUT, "a resource to get needs metadata.name");
	rc = kf_kube_collection_path(ref, resource_ns(k, ref), &path, err);
	if (!rc) {
		kf_buf_addc(&path, '/');
		kf_http_escape(&path, name);
		rc = kube_call(k, "GET", path.data, NULL, out, err);
	}
	kf_buf_release(&path);
	return rc;
}

/* The condition of type t whose status is "True", or NULL. */
static const cJSON *condition_true(const cJSON *obj, const char *type)
{
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(jobj(obj, "status"), "conditions"), *c;

	cJSON_ArrayForEach(c, conds)
		if (kf_str_eq(jstr(c, "type"), type) && kf_str_eq(jstr(c, "status"), "True"))
			return c;
	return NULL;
}

const char *kf_kube_state(const cJSON *obj, bool *done, bool *ok)
{
	const char *kind = jstr(obj, "kind");
	const cJSON *status = jobj(obj, "status");
	const char *phase;

	*done = *ok = false;
	if (kf_str_eq(kind, "Workflow")) {
		phase = jstr(status, "phase");
		if (!phase || !*phase)
			return "Pending";
		*done = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Error");
		*ok = !strcmp(phase, "Succeeded");
		return phase;
	}
	if (kf_str_eq(kind, "InferenceService")) {
		*done = *ok = condition_true(obj, "Ready") != NULL;
		return *done ? "Ready" : "NotReady";
	}
	/* training-operator jobs and Katib experiments */
	if (condition_true(obj, "Succeeded")) {
		*done = *ok = true;
		return "Succeeded";
	}
	if (condition_true(obj, "Failed")) {
		*done = true;
		return "Failed";
	}
	if (condition_true(obj, "Restarting"))
		return "Restarting";
	if (condition_true(obj, "Running"))
		return "Running";
	if (condition_true(obj, "Created"))
		return "Created";
	return "Pending";
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Why a finished resource failed, from its status, for the error. */
static const char *failure_message(const cJSON *obj)
{
	const cJSON *c = condition_true(obj, "Failed");
	const char *m = jstr(c, "message");

	if (m)
		return m;
	m = jstr(jobj(obj, "status"), "message");
	return m ? m : "";
}

int kf_kube_watch(struct kf_kube *k, cJSON **obj, const struct kf_kube_watch *w, struct kf_err *err)
{
	int64_t start = kf_time_mono_ns(), poll = w->poll_ms > 0 ? w->poll_ms : 2000;
	char last[64] = "";
	const char *kind = jstr(*obj, "kind"), *name = jstr(jobj(*obj, "metadata"), "name");
	char *label = kf_xasprintf("%s \"%s\"", kind ? kind : "resource", name ? name : "");
	int rc = 0;

	for (;;) {
		bool done, ok;
		const char *state = kf_kube_state(*obj, &done, &ok);
		cJSON *next = NULL;

		if (strcmp(state, last)) {
			snprintf(last, sizeof last, "%s", state);
			if (w->on_state)
				w->on_state(w->arg, *obj, state);
		}
		if (done) {
			if (!ok)
				rc = kf_err_set(err, KF_EFAIL, "%s ended %s%s%s", label, state,
						*failure_message(*obj) ? ": " : "", failure_message(*obj));
			break;
		}
		if (w->deadline_ms > 0 && (kf_time_mono_ns() - start) / 1000000 >= w->deadline_ms) {
			rc = kf_err_set(err, KF_EFAIL, "%s is still %s after the deadline", label, state);
			break;
		}
		sleep_ms(poll);
		rc = kf_kube_get(k, *obj, &next, err);
		if (rc)
			break;
		cJSON_Delete(*obj);
		*obj = next;
	}
	free(label);
	return rc;
}

int kf_kube_apply(struct kf_kube *k, const cJSON *doc, const struct kf_kube_watch *w, cJSON **out,
		  struct kf_err *err)
{
	struct kf_buf path = KF_BUF_INIT;
	cJSON *obj = NULL;
	int rc;

	if (out)
		*out = NULL;
	rc = kf_kube_collection_path(doc, resource_ns(k, doc), &path, err);
	if (rc)
		goto out;
	rc = kube_call(k, "POST", path.data, doc, &obj, err);
	if (rc || k->dry_run)
		goto out;
	if (w && w->watch)
		rc = kf_kube_watch(k, &obj, w, err);
out:
	if (out && !rc)
		*out = obj;
	else
		cJSON_Delete(obj);
	kf_buf_release(&path);
	return rc;
}

int kf_kube_apply_file(struct kf_kube *k, const char *path, const struct kf_kube_watch *w, cJSON **out,
		       struct kf_err *err)
{
	struct kf_ydoc doc;
	cJSON *all = cJSON_CreateArray();
	size_t i;
	int rc;

	if (out)
		*out = NULL;
	rc = kf_yaml_load_file(&doc, path, err);
	if (rc) {
		cJSON_Delete(all);
		return rc;
	}
	for (i = 0; i < doc.n_roots && !rc; i++) {
		cJSON *res = kf_ynode_to_json(doc.roots[i]), *made = NULL;

		if (!cJSON_IsObject(res)) {
			rc = kf_err_at(err, KF_EINPUT, path, doc.roots[i]->line, doc.roots[i]->col,
				       "a resource is a map with apiVersion and kind");
		} else {
			rc = kf_kube_apply(k, res, w, &made, err);
			if (!rc && made)
				cJSON_AddItemToArray(all, made);
		}
		cJSON_Delete(res);
	}
	kf_ydoc_release(&doc);
	if (out && !rc)
		*out = all;
	else
		cJSON_Delete(all);
	return rc;
}
