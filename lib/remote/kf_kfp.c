/* kf_kfp: Kubeflow Pipelines v1beta1 REST client over kf_http. */
#include "config.h"

#include "remote/kf_config.h"
#include "remote/kf_http.h"
#include "remote/kf_kfp.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API "/apis/v1beta1"

struct kf_kfp {
	struct kf_http *http;
	char *host;
	char *namespace;
	bool dry_run;
};

int kf_kfp_new(struct kf_kfp **out, const struct kf_remote *remote, const struct kf_kfp_conf *conf,
	       struct kf_err *err)
{
	struct kf_http_conf hc = {
		.token = remote->token,
		.cookie_file = remote->cookie_file,
		.ca_file = remote->ca_file,
		.insecure = remote->insecure,
		.timeout_ms = conf->timeout_ms,
		.retries = conf->retries == 0 ? 2 : conf->retries,
		.dry_run = conf->dry_run,
		.dry_out = conf->dry_out,
		.trace = conf->trace,
		.trace_arg = conf->trace_arg,
	};
	struct kf_kfp *k = kf_xcalloc(1, sizeof *k);
	int rc;

	*out = NULL;
	rc = kf_http_new(&k->http, &hc, err);
	if (rc) {
		free(k);
		return rc;
	}
	k->host = kf_xstrdup(remote->host);
	k->namespace = remote->namespace ? kf_xstrdup(remote->namespace) : NULL;
	k->dry_run = conf->dry_run;
	*out = k;
	return 0;
}

void kf_kfp_free(struct kf_kfp *k)
{
	if (!k)
		return;
	kf_http_free(k->http);
	free(k->host);
	free(k->namespace);
	free(k);
}

bool kf_kfp_is_dry_run(const struct kf_kfp *k)
{
	return k->dry_run;
}

/* Query parameters: NULL-terminated name, value pairs; NULL values skipped. */
static char *make_url(const struct kf_kfp *k, const char *path, const char *const *query)
{
	struct kf_buf u = KF_BUF_INIT;
	char sep = '?';
	size_t i;

	kf_buf_printf(&u, "%s%s", k->host, path);
	for (i = 0; query && query[i]; i += 2) {
		if (!query[i + 1])
			continue;
		kf_buf_printf(&u, "%c%s=", sep, query[i]);
		kf_http_escape(&u, query[i + 1]);
		sep = '&';
	}
	return kf_buf_detach(&u);
}

/* The server's message for an error answer: the JSON fields the API
 * server writes (apiStatus.error, googleRpcStatus.message, and the
 * error_message of the 1.x gateway), else the start of the body. */
static int status_error(const char *method, const char *path, const struct kf_http_resp *resp,
			struct kf_err *err)
{
	static const char *const fields[] = { "error_message", "error", "message" };
	cJSON *doc = cJSON_Parse(kf_buf_str(&resp->body));
	const char *msg = NULL, *hint = "";
	char text[400];
	size_t i;

	for (i = 0; doc && i < 3 && !msg; i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, fields[i]);

		if (cJSON_IsString(f) && *f->valuestring)
			msg = f->valuestring;
	}
	if (!msg) {
		size_t n = strcspn(kf_buf_str(&resp->body), "\r\n");

		snprintf(text, sizeof text, "%.*s", (int)(n < 300 ? n : 300), kf_buf_str(&resp->body));
		msg = text[0] ? text : "no message";
	}
	if (resp->status == 401 || resp->status == 403)
		hint = " (check the token or the cookie file)";
	if (resp->status >= 300 && resp->status < 400) {
		/* Dex and IAP send a request without a session to their login page */
		kf_err_set(err, KF_EENV, "%s %s: HTTP %ld: redirected to \"%s\": a login page? "
			   "(check the cookie file or the token)", method, path, resp->status,
			   resp->location ? resp->location : "");
		cJSON_Delete(doc);
		return KF_EENV;
	}
	kf_err_set(err, KF_EENV, "%s %s: HTTP %ld: %s%s", method, path, resp->status, msg, hint);
	cJSON_Delete(doc);
	return KF_EENV;
}

/* Send a request and parse its JSON answer into *out (may be NULL for
 * calls that answer {}). body is JSON text or NULL. */
static int call(struct kf_kfp *k, const char *method, const char *path, const char *const *query,
		const cJSON *body, const struct kf_http_file *file, cJSON **out, struct kf_err *err)
{
	struct kf_http_req req = { .method = method, .idempotent = !strcmp(method, "GET") };
	struct kf_http_resp resp;
	char *url = make_url(k, path, query), *text = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (body) {
		text = cJSON_PrintUnformatted(body);
		req.content_type = "application/json";
		req.body = text;
		req.body_len = strlen(text);
	}
	req.url = url;
	req.file = file;
	rc = kf_http_do(k->http, &req, &resp, err);
	if (rc)
		goto out;
	if (k->dry_run)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = status_error(method, path, &resp, err);
		goto out;
	}
	if (out) {
		*out = cJSON_Parse(resp.body.len ? resp.body.data : "{}");
		if (!*out || !cJSON_IsObject(*out)) {
			cJSON_Delete(*out);
			*out = NULL;
			rc = kf_err_set(err, KF_EENV, "%s %s: the answer is not a JSON object", method, path);
		}
	}
out:
	kf_http_resp_release(&resp);
	free(url);
	free(text);
	return rc;
}

/* In dry-run, what the server would have answered: an object whose id
 * says where the real id would come from. */
static cJSON *placeholder(const char *id, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", id);
	if (name)
		cJSON_AddStringToObject(o, "name", name);
	return o;
}

int kf_kfp_healthz(struct kf_kfp *k, cJSON **out, struct kf_err *err)
{
	int rc = call(k, "GET", API "/healthz", NULL, NULL, NULL, out, err);

	if (!rc && k->dry_run)
		*out = cJSON_CreateObject();
	return rc;
}

int kf_kfp_upload(struct kf_kfp *k, const struct kf_kfp_upload *u, cJSON **out, struct kf_err *err)
{
	const char *pipeline_q[] = {
		"name", u->name, "description", u->description, "namespace", k->namespace, NULL,
	};
	const char *version_q[] = {
		"name", u->name, "pipelineid", u->pipeline_id, "description", u->description,
		"namespace", k->namespace, NULL,
	};
	struct kf_http_file file = { "uploadfile", u->filename, u->data, u->len };
	int rc;

	if (u->pipeline_id)
		rc = call(k, "POST", API "/pipelines/upload_version", version_q, NULL, &file, out, err);
	else
		rc = call(k, "POST", API "/pipelines/upload", pipeline_q, NULL, &file, out, err);
	if (!rc && k->dry_run)
		*out = placeholder(u->pipeline_id ? "<new pipeline version id>" : "<new pipeline id>", u->name);
	return rc;
}

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

static const char *const list_names[] = {
	[KF_KFP_EXPERIMENTS] = "experiments",
	[KF_KFP_RUNS] = "runs",
	[KF_KFP_JOBS] = "jobs",
	[KF_KFP_PIPELINES] = "pipelines",
};

/* Every page of a list call, filtered by filter (JSON text) and owner. */
static int list_all(struct kf_kfp *k, enum kf_kfp_kind kind, const char *filter, const char *experiment_id,
		    cJSON **out, struct kf_err *err)
{
	const char *what = list_names[kind];
	char path[64];
	char *token = NULL;
	int rc = 0, pages;

	*out = cJSON_CreateArray();
	snprintf(path, sizeof path, API "/%s", what);
	for (pages = 0; pages < 1000; pages++) {
		const char *query[] = {
			"page_token", token, "page_size", "100",
			"sort_by", kind == KF_KFP_RUNS || kind == KF_KFP_JOBS ? "created_at desc" : NULL,
			"filter", filter,
			"resource_reference_key.type", NULL, "resource_reference_key.id", NULL, NULL,
		};
		cJSON *page = NULL, *items, *item;
		const char *next;

		if (experiment_id) {
			query[9] = "EXPERIMENT";
			query[11] = experiment_id;
		} else if (k->namespace && kind == KF_KFP_EXPERIMENTS) {
			query[9] = "NAMESPACE";
			query[11] = k->namespace;
		}
		rc = call(k, "GET", path, query, NULL, NULL, &page, err);
		if (rc || k->dry_run)
			break;
		items = cJSON_DetachItemFromObjectCaseSensitive(page, what);
		while (cJSON_IsArray(items) && (item = cJSON_DetachItemFromArray(items, 0)))
			cJSON_AddItemToArray(*out, item);
		cJSON_Delete(items);
		next = str_field(page, "next_page_token");
		free(token);
		token = next && *next ? kf_xstrdup(next) : NULL;
		cJSON_Delete(page);
		if (!token)
			break;
	}
	free(token);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int kf_kfp_list(struct kf_kfp *k, enum kf_kfp_kind kind, const char *experiment_id, cJSON **out,
		struct kf_err *err)
{
	return list_all(k, kind, NULL, experiment_id, out, err);
}

/* {"predicates":[{"key":"name","op":"EQUALS","string_value":name}]} */
static char *name_filter(const char *name)
{
	cJSON *f = cJSON_CreateObject(), *preds = cJSON_AddArrayToObject(f, "predicates");
	cJSON *p = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(p, "key", "name");
	cJSON_AddStringToObject(p, "op", "EQUALS");
	cJSON_AddStringToObject(p, "string_value", name);
	cJSON_AddItemToArray(preds, p);
	text = cJSON_PrintUnformatted(f);
	cJSON_Delete(f);
	return text;
}

static int find_named(struct kf_kfp *k, enum kf_kfp_kind kind, const char *what, const char *name,
		      cJSON **out, struct kf_err *err)
{
	char *filter = name_filter(name);
	cJSON *items = NULL, *it;
	int rc;

	*out = NULL;
	rc = list_all(k, kind, filter, NULL, &items, err);
	free(filter);
	if (rc)
		return rc;
	/* the filter is the server's; check the name here too */
	cJSON_ArrayForEach(it, items) {
		if (kf_str_eq(str_field(it, "name"), name)) {
			*out = cJSON_Duplicate(it, 1);
			break;
		}
	}
	cJSON_Delete(items);
	if (!*out)
		return kf_err_set(err, KF_ENOTFOUND, "no %s \"%s\" on the server", what, name);
	return 0;
}

int kf_kfp_pipeline_find(struct kf_kfp *k, const char *name, cJSON **out, struct kf_err *err)
{
	int rc = find_named(k, KF_KFP_PIPELINES, "pipeline", name, out, err);

	if (rc == KF_ENOTFOUND && k->dry_run) {
		*out = placeholder("<id of pipeline>", name);
		return 0;
	}
	return rc;
}

int kf_kfp_experiment_find(struct kf_kfp *k, const char *name, cJSON **out, struct kf_err *err)
{
	return find_named(k, KF_KFP_EXPERIMENTS, "experiment", name, out, err);
}

static cJSON *resource_ref(const char *type, const char *id, const char *relationship)
{
	cJSON *r = cJSON_CreateObject(), *key = cJSON_AddObjectToObject(r, "key");

	cJSON_AddStringToObject(key, "type", type);
	cJSON_AddStringToObject(key, "id", id);
	cJSON_AddStringToObject(r, "relationship", relationship);
	return r;
}

int kf_kfp_experiment_ensure(struct kf_kfp *k, const char *name, cJSON **out, bool *created,
			     struct kf_err *err)
{
	cJSON *body;
	int rc;

	*created = false;
	rc = kf_kfp_experiment_find(k, name, out, err);
	if (rc != KF_ENOTFOUND)
		return rc;
	kf_err_clear(err);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name);
	if (k->namespace) {
		cJSON *refs = cJSON_AddArrayToObject(body, "resource_references");

		cJSON_AddItemToArray(refs, resource_ref("NAMESPACE", k->namespace, "OWNER"));
	}
	rc = call(k, "POST", API "/experiments", NULL, body, NULL, out, err);
	cJSON_Delete(body);
	if (!rc && k->dry_run)
		*out = placeholder("<new experiment id>", name);
	if (!rc)
		*created = true;
	return rc;
}

static cJSON *pipeline_spec(const struct kf_kfp_spec *s)
{
	cJSON *ps = cJSON_CreateObject();
	size_t i;

	if (s->workflow_manifest)
		cJSON_AddStringToObject(ps, "workflow_manifest", s->workflow_manifest);
	else if (s->pipeline_id)
		cJSON_AddStringToObject(ps, "pipeline_id", s->pipeline_id);
	if (s->params && s->params->n) {
		cJSON *params = cJSON_AddArrayToObject(ps, "parameters");

		for (i = 0; i < s->params->n; i++) {
			const char *kv = s->params->v[i], *eq = strchr(kv, '=');
			cJSON *p = cJSON_CreateObject();
			char *name = eq ? kf_xstrndup(kv, (size_t)(eq - kv)) : kf_xstrdup(kv);

			cJSON_AddStringToObject(p, "name", name);
			cJSON_AddStringToObject(p, "value", eq ? eq + 1 : "");
			cJSON_AddItemToArray(params, p);
			free(name);
		}
	}
	return ps;
}

/* The fields runs and jobs share. */
static cJSON *run_like(const char *name, const char *description, const char *experiment_id,
		       const struct kf_kfp_spec *spec)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "name", name);
	if (description)
		cJSON_AddStringToObject(body, "description", description);
	cJSON_AddItemToObject(body, "pipeline_spec", pipeline_spec(spec));
	if (experiment_id) {
		cJSON *refs = cJSON_AddArrayToObject(body, "resource_references");

		cJSON_AddItemToArray(refs, resource_ref("EXPERIMENT", experiment_id, "OWNER"));
	}
	return body;
}

int kf_kfp_run_create(struct kf_kfp *k, const struct kf_kfp_run_req *req, cJSON **out, struct kf_err *err)
{
	cJSON *body = run_like(req->name, req->description, req->experiment_id, &req->spec);
	int rc;

	rc = call(k, "POST", API "/runs", NULL, body, NULL, out, err);
	cJSON_Delete(body);
	if (!rc && k->dry_run) {
		*out = cJSON_CreateObject();
		cJSON_AddItemToObject(*out, "run", placeholder("<new run id>", req->name));
	}
	return rc;
}

/* API + "/" + kind + "/" + escaped id + suffix */
static char *id_path(const char *kind, const char *id, const char *suffix)
{
	struct kf_buf p = KF_BUF_INIT;

	kf_buf_printf(&p, API "/%s/", kind);
	kf_http_escape(&p, id);
	kf_buf_adds(&p, suffix);
	return kf_buf_detach(&p);
}

static int id_call(struct kf_kfp *k, const char *method, const char *kind, const char *id,
		   const char *suffix, cJSON **out, struct kf_err *err)
{
	char *path = id_path(kind, id, suffix);
	cJSON *ignored = NULL;
	int rc;

	rc = call(k, method, path, NULL, NULL, NULL, out ? out : &ignored, err);
	cJSON_Delete(ignored);
	free(path);
	if (!rc && out && k->dry_run)
		*out = placeholder(id, NULL);
	return rc;
}

int kf_kfp_run_get(struct kf_kfp *k, const char *run_id, cJSON **out, struct kf_err *err)
{
	int rc = id_call(k, "GET", "runs", run_id, "", out, err);

	if (!rc && k->dry_run) {
		cJSON *run = *out;

		*out = cJSON_CreateObject();
		cJSON_AddItemToObject(*out, "run", run);
	}
	return rc;
}

int kf_kfp_run_terminate(struct kf_kfp *k, const char *run_id, struct kf_err *err)
{
	return id_call(k, "POST", "runs", run_id, "/terminate", NULL, err);
}

int kf_kfp_run_retry(struct kf_kfp *k, const char *run_id, struct kf_err *err)
{
	return id_call(k, "POST", "runs", run_id, "/retry", NULL, err);
}

int kf_kfp_run_log(struct kf_kfp *k, const char *run_id, const char *node_id, struct kf_buf *out,
		   struct kf_err *err)
{
	struct kf_http_req req = { .method = "GET", .idempotent = true };
	struct kf_http_resp resp;
	struct kf_buf path = KF_BUF_INIT;
	char *url;
	int rc;

	/* the log route is served by the API server beside the v1beta1 ones */
	kf_buf_adds(&path, "/apis/v1alpha1/runs/");
	kf_http_escape(&path, run_id);
	kf_buf_adds(&path, "/nodes/");
	kf_http_escape(&path, node_id);
	kf_buf_adds(&path, "/log");
	url = make_url(k, path.data, NULL);
	req.url = url;
	rc = kf_http_do(k->http, &req, &resp, err);
	if (!rc && !k->dry_run) {
		if (resp.status < 200 || resp.status > 299)
			rc = status_error("GET", path.data, &resp, err);
		else
			kf_buf_add(out, kf_buf_str(&resp.body), resp.body.len);
	}
	kf_http_resp_release(&resp);
	kf_buf_release(&path);
	free(url);
	return rc;
}

int kf_kfp_job_create(struct kf_kfp *k, const struct kf_kfp_job_req *req, cJSON **out, struct kf_err *err)
{
	cJSON *body = run_like(req->name, req->description, req->experiment_id, &req->spec);
	cJSON *trigger = cJSON_AddObjectToObject(body, "trigger"), *sched;
	char num[32];
	int rc;

	if (req->interval_s > 0) {
		sched = cJSON_AddObjectToObject(trigger, "periodic_schedule");
		snprintf(num, sizeof num, "%lld", (long long)req->interval_s);
		/* int64 travels as a JSON string in the proto3 mapping */
		cJSON_AddStringToObject(sched, "interval_second", num);
	} else {
		sched = cJSON_AddObjectToObject(trigger, "cron_schedule");
		cJSON_AddStringToObject(sched, "cron", req->cron);
	}
	if (req->start_time)
		cJSON_AddStringToObject(sched, "start_time", req->start_time);
	if (req->end_time)
		cJSON_AddStringToObject(sched, "end_time", req->end_time);
	snprintf(num, sizeof num, "%d", req->max_concurrency > 0 ? req->max_concurrency : 1);
	cJSON_AddStringToObject(body, "max_concurrency", num);
	cJSON_AddBoolToObject(body, "enabled", 1);
	if (req->no_catchup)
		cJSON_AddBoolToObject(body, "no_catchup", 1);
	rc = call(k, "POST", API "/jobs", NULL, body, NULL, out, err);
	cJSON_Delete(body);
	if (!rc && k->dry_run)
		*out = placeholder("<new recurring run id>", req->name);
	return rc;
}

int kf_kfp_job_get(struct kf_kfp *k, const char *job_id, cJSON **out, struct kf_err *err)
{
	return id_call(k, "GET", "jobs", job_id, "", out, err);
}

int kf_kfp_job_enable(struct kf_kfp *k, const char *job_id, bool enable, struct kf_err *err)
{
	return id_call(k, "POST", "jobs", job_id, enable ? "/enable" : "/disable", NULL, err);
}

int kf_kfp_job_delete(struct kf_kfp *k, const char *job_id, struct kf_err *err)
{
	return id_call(k, "DELETE", "jobs", job_id, "", NULL, err);
}

bool kf_kfp_status_done(const char *status)
{
	static const char *const done[] = { "succeeded", "failed", "skipped", "error" };
	size_t i;

	for (i = 0; status && i < 4; i++)
		if (!strcasecmp(status, done[i]))
			return true;
	return false;
}

bool kf_kfp_status_ok(const char *status)
{
	return status && (!strcasecmp(status, "succeeded") || !strcasecmp(status, "skipped"));
}

static int step_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	const char *sx = str_field(x, "started_at"), *sy = str_field(y, "started_at");
	int c;

	/* steps not started yet sort last */
	c = strcmp(sx && *sx ? sx : "~", sy && *sy ? sy : "~");
	return c ? c : strcmp(str_field(x, "name"), str_field(y, "name"));
}

cJSON *kf_kfp_run_steps(const cJSON *detail)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(detail, "pipeline_runtime");
	const char *manifest = str_field(rt, "workflow_manifest");
	cJSON *wf = manifest ? cJSON_Parse(manifest) : NULL, *steps = cJSON_CreateArray();
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(wf, "status"), *n;
	cJSON **v = NULL;
	size_t cnt = 0, cap = 0, i;

	nodes = cJSON_GetObjectItemCaseSensitive(nodes, "nodes");
	cJSON_ArrayForEach(n, nodes) {
		const char *name = str_field(n, "displayName");
		cJSON *s;

		if (!kf_str_eq(str_field(n, "type"), "Pod"))
			continue;
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "id", str_field(n, "id") ? str_field(n, "id") : n->string);
		cJSON_AddStringToObject(s, "name", name ? name : (str_field(n, "name") ? str_field(n, "name") : ""));
		cJSON_AddStringToObject(s, "phase", str_field(n, "phase") ? str_field(n, "phase") : "Pending");
		cJSON_AddStringToObject(s, "message", str_field(n, "message") ? str_field(n, "message") : "");
		cJSON_AddStringToObject(s, "started_at", str_field(n, "startedAt") ? str_field(n, "startedAt") : "");
		cJSON_AddStringToObject(s, "finished_at", str_field(n, "finishedAt") ? str_field(n, "finishedAt") : "");
		KF_GROW(v, cap, cnt + 1);
		v[cnt++] = s;
	}
	if (cnt)
		qsort(v, cnt, sizeof *v, step_cmp);
	for (i = 0; i < cnt; i++)
		cJSON_AddItemToArray(steps, v[i]);
	free(v);
	cJSON_Delete(wf);
	return steps;
}
