#include "config.h"

#include "serve/kf_server.h"
#include "serve/kf_batch.h"
#include "serve/kf_metrics.h"
#include "serve/kf_model.h"
#include "serve/kf_proto.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON "application/json"

struct kf_server {
	struct kf_server_config cfg;
	struct kf_repo *repo;
	struct kf_repo_ops ops;
	struct kf_http *http;
	struct kf_batch *batch;
	struct kf_metrics *metrics;
};


/* One inference request on its way through the batcher. */
struct job {
	struct kf_batch_item item;   /* first: the batcher hands us items */
	struct kf_server *srv;
	struct kf_http_req *req;
	struct kf_servable *sv;
	enum kf_proto_verb verb;
	struct kf_proto_table in;
	char *id;                    /* V2 request id, echoed */
	int64_t queue_ns, compute_ns;
};

/* Array sizes: malloc(0) may return NULL, which kf_xmalloc takes for OOM. */
static size_t nonzero(size_t n)
{
	return n ? n : 1;
}

static void reply_error(struct kf_server *srv, struct kf_http_req *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_error(struct kf_server *srv, struct kf_http_req *req, int status, const char *fmt, ...)
{
	struct kf_buf b = KF_BUF_INIT;
	char msg[1024];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kf_buf_adds(&b, "{\"error\":\"");
	kf_buf_add_json_escaped(&b, msg);
	kf_buf_adds(&b, "\"}");
	len = b.len;
	kf_metrics_response(srv->metrics, status);
	kf_http_reply_owned(req, status, JSON, kf_buf_detach(&b), len);
}

static void reply_buf(struct kf_server *srv, struct kf_http_req *req, int status, const char *type,
		      struct kf_buf *b)
{
	size_t len = b->len;

	kf_metrics_response(srv->metrics, status);
	if (!b->data)
		kf_buf_adds(b, "");
	kf_http_reply_owned(req, status, type, kf_buf_detach(b), len);
}

static void reply_json(struct kf_server *srv, struct kf_http_req *req, int status, cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	size_t len = strlen(text);

	cJSON_Delete(doc);
	kf_metrics_response(srv->metrics, status);
	kf_http_reply_owned(req, status, JSON, text, len);
}


static cJSON *parse_body(struct kf_http_req *req, struct kf_err *err)
{
	const char *end = NULL, *body;
	size_t len;
	cJSON *doc;

	body = kf_http_req_body(req, &len);
	doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!doc) {
		kf_err_set(err, KF_EINPUT, "JSON Parse error: invalid JSON at offset %zu",
			   end && end >= body ? (size_t)(end - body) : (size_t)0);
		return NULL;
	}
	if (!cJSON_IsObject(doc)) {
		kf_err_set(err, KF_EINPUT, "the request body must be a JSON object");
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}


static void job_free(struct job *job)
{
	kf_servable_put(job->sv);
	kf_proto_table_release(&job->in);
	free(job->id);
	free(job);
}

/* Answer one job from its slice of a batch's outputs (NULL: the batch failed). */
static void job_answer(struct job *job, const double *out, const struct kf_err *err)
{
	struct kf_server *srv = job->srv;
	int64_t total = kf_time_mono_ns() - kf_http_req_start_ns(job->req);

	kf_http_req_add_header(job->req, "X-Model-Version", job->sv->version_str);
	if (out) {
		struct kf_buf b = KF_BUF_INIT;

		kf_proto_answer(&b, job->verb, job->sv->model, job->sv->name, job->sv->version_str, job->id,
				job->in.rows, out);
		reply_buf(srv, job->req, 200, JSON, &b);
	} else {
		reply_error(srv, job->req, 500, "%s", err->msg);
	}
	kf_metrics_request(srv->metrics, job->sv->name, job->sv->version_str, out != NULL, total,
			   job->queue_ns, job->compute_ns, job->in.rows);
	job_free(job);
}

/* Run jobs of one servable as one model call and answer each. */
static void run_jobs(struct kf_server *srv, struct job **jobs, size_t n)
{
	const struct kf_model *m = jobs[0]->sv->model;
	size_t rows = 0, cols = kf_model_n_inputs(m), width = kf_model_width(m), i, r, c, at = 0;
	const char **cells;
	double *out;
	struct kf_err err;
	int64_t t0 = kf_time_mono_ns(), compute;
	int rc;

	for (i = 0; i < n; i++)
		rows += jobs[i]->in.rows;
	cells = kf_xmalloc(nonzero(rows * cols) * sizeof *cells);
	out = kf_xmalloc(nonzero(rows * width) * sizeof *out);
	for (i = 0; i < n; i++) {
		const struct kf_proto_table *t = &jobs[i]->in;

		for (r = 0; r < t->rows; r++, at++)
			for (c = 0; c < cols; c++)
				cells[at * cols + c] = kf_proto_cell(t, r, c);
		jobs[i]->queue_ns = t0 - jobs[i]->item.enqueued_ns;
	}
	kf_err_clear(&err);
	rc = rows ? kf_model_predict(m, cells, rows, out, &err) : 0;
	compute = kf_time_mono_ns() - t0;
	kf_metrics_batch(srv->metrics, jobs[0]->sv->name, jobs[0]->sv->version_str, rows);
	for (i = 0, at = 0; i < n; i++) {
		size_t mine = jobs[i]->in.rows;

		jobs[i]->compute_ns = compute;
		job_answer(jobs[i], rc ? NULL : out + at * width, &err);
		at += mine;
	}
	free(cells);
	free(out);
}

static void run_batch(const void *key, struct kf_batch_item **items, size_t n, void *cls)
{
	(void)key;
	run_jobs(cls, (struct job **)items, n);
}

/* ---- routes ------------------------------------------------------------- */

struct target {
	const char *name;
	long version;              /* 0: not pinned */
	const char *label;         /* NULL: none */
};

static const char *tfs_request_text(const struct target *t, char *buf, size_t size)
{
	if (t->version)
		snprintf(buf, size, "Specific(%s, %ld)", t->name, t->version);
	else if (t->label)
		snprintf(buf, size, "Label(%s, %s)", t->name, t->label);
	else
		snprintf(buf, size, "Latest(%s)", t->name);
	return buf;
}

/* The servable for a target, or an answered error (TF Serving's or V2's words). */
static struct kf_servable *lookup(struct kf_server *srv, struct kf_http_req *req, const struct target *t,
				  bool v2)
{
	enum kf_repo_miss miss;
	struct kf_servable *sv = kf_repo_get(srv->repo, t->name, t->version, t->label, &miss);
	char what[256];

	if (sv)
		return sv;
	if (v2 && miss == KF_REPO_NO_MODEL)
		reply_error(srv, req, 404, "Model with name %s does not exist.", t->name);
	else if (v2 && miss == KF_REPO_NO_VERSION)
		reply_error(srv, req, 404, "Model with name %s and version %ld does not exist.", t->name,
			    t->version);
	else if (v2)
		reply_error(srv, req, 503, "Model with name %s is not ready.", t->name);
	else if (miss == KF_REPO_NO_LABEL)
		reply_error(srv, req, 404, "Unrecognized servable version label: %s", t->label);
	else if (miss == KF_REPO_NOT_READY)
		reply_error(srv, req, 503, "Servable not available for request: %s",
			    tfs_request_text(t, what, sizeof what));
	else
		reply_error(srv, req, 404, "Servable not found for request: %s",
			    tfs_request_text(t, what, sizeof what));
	return NULL;
}

static void infer(struct kf_server *srv, struct kf_http_req *req, const struct target *t,
		  enum kf_proto_verb verb)
{
	struct kf_servable *sv;
	struct kf_err err;
	struct job *job;
	cJSON *body;

	kf_err_clear(&err);
	body = parse_body(req, &err);
	if (!body) {
		reply_error(srv, req, 400, "%s", err.msg);
		return;
	}
	sv = lookup(srv, req, t, verb == KF_PROTO_INFER);
	if (!sv) {
		cJSON_Delete(body);
		return;
	}
	job = kf_xcalloc(1, sizeof *job);
	job->srv = srv;
	job->req = req;
	job->sv = sv;
	job->verb = verb;
	if (verb == KF_PROTO_INFER) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");

		if (cJSON_IsString(id))
			job->id = kf_xstrdup(id->valuestring);
	}
	if (kf_proto_parse(sv->model, sv->name, &job->verb, body, &job->in, &err) != 0) {
		cJSON_Delete(body);
		kf_http_req_add_header(req, "X-Model-Version", sv->version_str);
		reply_error(srv, req, 400, "%s", err.msg);
		kf_metrics_request(srv->metrics, sv->name, sv->version_str, false, 0, 0, 0, 0);
		job_free(job);
		return;
	}
	cJSON_Delete(body);
	job->item.key = sv;
	job->item.n = job->in.rows;
	if (srv->batch) {
		kf_http_defer(req);
		kf_batch_submit(srv->batch, &job->item);
	} else {
		job->item.enqueued_ns = kf_time_mono_ns();
		run_jobs(srv, &job, 1);
	}
}

static const char *dtype_v2(const struct kf_model *m, size_t i)
{
	return kf_model_input_numeric(m, i) ? "FP64" : "BYTES";
}

/* GET /v1/models/NAME[/versions/V|/labels/L]: TF Serving's model status. */
static void tfs_status(struct kf_server *srv, struct kf_http_req *req, const struct target *t)
{
	cJSON *desc = kf_repo_describe(srv->repo, t->name), *doc, *list, *v;
	long want = t->version;

	if (!desc) {
		reply_error(srv, req, 404, "Could not find any versions of model %s", t->name);
		return;
	}
	if (t->label) {
		cJSON *lv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(desc, "labels"), t->label);

		if (!lv) {
			cJSON_Delete(desc);
			reply_error(srv, req, 404, "Unrecognized servable version label: %s", t->label);
			return;
		}
		want = (long)lv->valuedouble;
	}
	doc = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(doc, "model_version_status");
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(desc, "versions")) {
		long number = (long)cJSON_GetObjectItem(v, "version")->valuedouble;
		const char *state = cJSON_GetObjectItem(v, "state")->valuestring;
		const char *error = cJSON_GetObjectItem(v, "error")->valuestring;
		cJSON *e, *status;
		char num[24];

		if (want && number != want)
			continue;
		snprintf(num, sizeof num, "%ld", number);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "version", num);
		/* TF Serving's states: a failed load has ended */
		cJSON_AddStringToObject(e, "state", !strcmp(state, "FAILED") ? "END" : state);
		status = cJSON_AddObjectToObject(e, "status");
		cJSON_AddStringToObject(status, "error_code", *error ? "UNKNOWN" : "OK");
		cJSON_AddStringToObject(status, "error_message", error);
		cJSON_AddItemToArray(list, e);
	}
	cJSON_Delete(desc);
	if (want && cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(doc);
		reply_error(srv, req, 404, "Could not find version %ld of model %s", want, t->name);
		return;
	}
	reply_json(srv, req, 200, doc);
}

static cJSON *tfs_tensor(const char *name, const char *dtype, long width)
{
	cJSON *t = cJSON_CreateObject(), *shape, *dims, *d;

	cJSON_AddStringToObject(t, "dtype", dtype);
	shape = cJSON_AddObjectToObject(t, "tensor_shape");
	dims = cJSON_AddArrayToObject(shape, "dim");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "size", "-1");
	cJSON_AddStringToObject(d, "name", "");
	cJSON_AddItemToArray(dims, d);
	if (width > 1) {
		char w[24];

		snprintf(w, sizeof w, "%ld", width);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "size", w);
		cJSON_AddStringToObject(d, "name", "");
		cJSON_AddItemToArray(dims, d);
	}
	cJSON_AddFalseToObject(shape, "unknown_rank");
	cJSON_AddStringToObject(t, "name", name);
	return t;
}

/* GET .../metadata: TF Serving's GetModelMetadata with the one signature. */
static void tfs_metadata(struct kf_server *srv, struct kf_http_req *req, const struct target *t)
{
	struct kf_servable *sv = lookup(srv, req, t, false);
	const struct kf_model *m;
	cJSON *doc, *spec, *sigs, *sig, *ins, *outs;
	size_t i;

	if (!sv)
		return;
	m = sv->model;
	doc = cJSON_CreateObject();
	spec = cJSON_AddObjectToObject(doc, "model_spec");
	cJSON_AddStringToObject(spec, "name", sv->name);
	cJSON_AddStringToObject(spec, "signature_name", "");
	cJSON_AddStringToObject(spec, "version", sv->version_str);
	sigs = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "metadata"),
							       "signature_def"), "signature_def");
	sig = cJSON_AddObjectToObject(sigs, "serving_default");
	ins = cJSON_AddObjectToObject(sig, "inputs");
	for (i = 0; i < kf_model_n_inputs(m); i++)
		cJSON_AddItemToObject(ins, kf_model_input(m, i),
				      tfs_tensor(kf_model_input(m, i),
						 kf_model_input_numeric(m, i) ? "DT_DOUBLE" : "DT_STRING", 1));
	outs = cJSON_AddObjectToObject(sig, "outputs");
	cJSON_AddItemToObject(outs, kf_model_output(m),
			      tfs_tensor(kf_model_output(m), "DT_DOUBLE", (long)kf_model_width(m)));
	cJSON_AddStringToObject(sig, "method_name", "tensorflow/serving/predict");
	kf_http_req_add_header(req, "X-Model-Version", sv->version_str);
	kf_servable_put(sv);
	reply_json(srv, req, 200, doc);
}

/* GET /v1/models: KServe V1's list. */
static void v1_list(struct kf_server *srv, struct kf_http_req *req)
{
	struct kf_strv names = KF_STRV_INIT;
	cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "models");
	size_t i;

	kf_repo_names(srv->repo, &names);
	for (i = 0; i < names.n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(names.v[i]));
	kf_strv_release(&names);
	reply_json(srv, req, 200, doc);
}

static bool parse_number(const char *s, long *v)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return *s && kf_str_to_long(s, v) && *v > 0;
}

/* /v1/models/NAME[/versions/V|/labels/L][/metadata][:verb] */
static void route_v1(struct kf_server *srv, struct kf_http_req *req, const char *rest, bool post)
{
	char *copy = kf_xstrdup(rest), *verb = strrchr(copy, ':'), *seg[5], *save = NULL, *s;
	struct target t = { 0 };
	size_t n = 0;
	bool metadata = false;

	if (verb)
		*verb++ = '\0';
	for (s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == 5)
			goto not_found;
		seg[n++] = s;
	}
	if (n == 0)
		goto not_found;
	t.name = seg[0];
	if (n >= 3 && !strcmp(seg[1], "versions")) {
		if (!parse_number(seg[2], &t.version)) {
			reply_error(srv, req, 400, "Failed to convert version: %s to numeric.", seg[2]);
			goto out;
		}
	} else if (n >= 3 && !strcmp(seg[1], "labels")) {
		t.label = seg[2];
	} else if (n != 1 && !(n == 2 && !strcmp(seg[1], "metadata"))) {
		goto not_found;
	}
	if ((n == 2) || (n == 4 && !strcmp(seg[3], "metadata")))
		metadata = true;
	else if (n != 1 && n != 3)
		goto not_found;
	if (post && verb && !metadata) {
		if (!strcmp(verb, "predict"))
			infer(srv, req, &t, KF_PROTO_PREDICT_ROWS);
		else if (!strcmp(verb, "classify"))
			infer(srv, req, &t, KF_PROTO_CLASSIFY);
		else if (!strcmp(verb, "regress"))
			infer(srv, req, &t, KF_PROTO_REGRESS);
		else
			reply_error(srv, req, 404, "unknown verb \"%s\" (want predict, classify or regress)", verb);
	} else if (!post && !verb) {
		if (metadata)
			tfs_metadata(srv, req, &t);
		else
			tfs_status(srv, req, &t);
	} else {
		reply_error(srv, req, 405, "method %s not allowed here", kf_http_req_method(req));
	}
	goto out;
not_found:
	reply_error(srv, req, 404, "no such endpoint: %s", kf_http_req_path(req));
out:
	free(copy);
}

/* GET /v2/models/NAME[/versions/V]: model metadata. */
static void v2_metadata(struct kf_server *srv, struct kf_http_req *req, const struct target *t)
{
	struct kf_servable *sv = lookup(srv, req, t, true);
	cJSON *doc, *versions, *list, *desc, *v;
	const struct kf_model *m;
	size_t i;

	if (!sv)
		return;
	m = sv->model;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "name", sv->name);
	versions = cJSON_AddArrayToObject(doc, "versions");
	desc = kf_repo_describe(srv->repo, sv->name);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(desc, "versions")) {
		char num[24];

		if (strcmp(cJSON_GetObjectItem(v, "state")->valuestring, "AVAILABLE"))
			continue;
		snprintf(num, sizeof num, "%ld", (long)cJSON_GetObjectItem(v, "version")->valuedouble);
		cJSON_AddItemToArray(versions, cJSON_CreateString(num));
	}
	cJSON_Delete(desc);
	{
		char platform[64];

		snprintf(platform, sizeof platform, "kf_%s", kf_model_kind(m));
		cJSON_AddStringToObject(doc, "platform", platform);
	}
	list = cJSON_AddArrayToObject(doc, "inputs");
	for (i = 0; i < kf_model_n_inputs(m); i++) {
		cJSON *e = cJSON_CreateObject();
		int shape[1] = { -1 };

		cJSON_AddStringToObject(e, "name", kf_model_input(m, i));
		cJSON_AddStringToObject(e, "datatype", dtype_v2(m, i));
		cJSON_AddItemToObject(e, "shape", cJSON_CreateIntArray(shape, 1));
		cJSON_AddItemToArray(list, e);
	}
	list = cJSON_AddArrayToObject(doc, "outputs");
	{
		cJSON *e = cJSON_CreateObject();
		int shape[2] = { -1, (int)kf_model_width(m) };

		cJSON_AddStringToObject(e, "name", kf_model_output(m));
		cJSON_AddStringToObject(e, "datatype", "FP64");
		cJSON_AddItemToObject(e, "shape", cJSON_CreateIntArray(shape, kf_model_width(m) > 1 ? 2 : 1));
		cJSON_AddItemToArray(list, e);
	}
	kf_http_req_add_header(req, "X-Model-Version", sv->version_str);
	kf_servable_put(sv);
	reply_json(srv, req, 200, doc);
}

static void v2_ready(struct kf_server *srv, struct kf_http_req *req, const struct target *t)
{
	enum kf_repo_miss miss;
	struct kf_servable *sv = kf_repo_get(srv->repo, t->name, t->version, NULL, &miss);
	cJSON *doc;

	if (!sv && (miss == KF_REPO_NO_MODEL || miss == KF_REPO_NO_VERSION)) {
		lookup(srv, req, t, true);
		return;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "name", t->name);
	cJSON_AddBoolToObject(doc, "ready", sv != NULL);
	kf_servable_put(sv);
	reply_json(srv, req, sv ? 200 : 503, doc);
}

/* /v2/models/NAME[/versions/V][/ready|/infer] */
static void route_v2_model(struct kf_server *srv, struct kf_http_req *req, const char *rest, bool post)
{
	char *copy = kf_xstrdup(rest), *seg[5], *save = NULL, *s, *action = NULL;
	struct target t = { 0 };
	size_t n = 0;

	for (s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == 5)
			goto not_found;
		seg[n++] = s;
	}
	if (n == 0)
		goto not_found;
	t.name = seg[0];
	if (n >= 3 && !strcmp(seg[1], "versions")) {
		if (!parse_number(seg[2], &t.version)) {
			reply_error(srv, req, 400, "invalid model version \"%s\"", seg[2]);
			goto out;
		}
		if (n == 4)
			action = seg[3];
		else if (n != 3)
			goto not_found;
	} else if (n == 2) {
		action = seg[1];
	} else if (n != 1) {
		goto not_found;
	}
	if (action && strcmp(action, "ready") && strcmp(action, "infer"))
		goto not_found;
	if (action && !strcmp(action, "infer")) {
		if (post)
			infer(srv, req, &t, KF_PROTO_INFER);
		else
			reply_error(srv, req, 405, "method %s not allowed here", kf_http_req_method(req));
	} else if (post) {
		reply_error(srv, req, 405, "method %s not allowed here", kf_http_req_method(req));
	} else if (action) {
		v2_ready(srv, req, &t);
	} else {
		v2_metadata(srv, req, &t);
	}
	goto out;
not_found:
	reply_error(srv, req, 404, "no such endpoint: %s", kf_http_req_path(req));
out:
	free(copy);
}

static void handle(struct kf_http_req *req, void *cls)
{
	struct kf_server *srv = cls;
	const char *path = kf_http_req_path(req), *method = kf_http_req_method(req);
	bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	if (!post && !get) {
		reply_error(srv, req, 405, "method %s not allowed", method);
	} else if (kf_str_starts(path, "/v1/models/") && path[11]) {
		route_v1(srv, req, path + 11, post);
	} else if (kf_str_starts(path, "/v2/models/") && path[11]) {
		route_v2_model(srv, req, path + 11, post);
	} else if (post) {
		reply_error(srv, req, 404, "no such endpoint: POST %s", path);
	} else if (!strcmp(path, "/v1/models") || !strcmp(path, "/v1/models/")) {
		v1_list(srv, req);
	} else if (!strcmp(path, "/v2/health/live")) {
		reply_json(srv, req, 200, cJSON_Parse("{\"live\": true}"));
	} else if (!strcmp(path, "/v2/health/ready")) {
		bool ready = kf_repo_ready(srv->repo, NULL);

		reply_json(srv, req, ready ? 200 : 503, cJSON_Parse(ready ? "{\"ready\": true}" : "{\"ready\": false}"));
	} else if (!strcmp(path, "/v2") || !strcmp(path, "/v2/")) {
		reply_json(srv, req, 200,
			   cJSON_Parse("{\"name\": \"kf\", \"version\": \"" PACKAGE_VERSION "\", \"extensions\": []}"));
	} else if (!strcmp(path, "/metrics")) {
		struct kf_buf b = KF_BUF_INIT;

		kf_metrics_models_loaded(srv->metrics, kf_repo_loaded(srv->repo));
		kf_metrics_render(srv->metrics, &b);
		reply_buf(srv, req, 200, "text/plain; version=0.0.4", &b);
	} else {
		reply_error(srv, req, 404, "no such endpoint: %s", path);
	}
}

/* ---- life cycle ----------------------------------------------------------- */

static int model_load(const char *dir, void **model, void *cls, struct kf_err *err)
{
	(void)cls;
	return kf_model_load(dir, (struct kf_model **)model, err);
}

static void model_unload(void *model, void *cls)
{
	(void)cls;
	kf_model_free(model);
}

static void model_event(const char *name, long version, const char *dir, const char *what,
			const struct kf_err *err, void *cls)
{
	struct kf_server *srv = cls;

	kf_metrics_models_loaded(srv->metrics, kf_repo_loaded(srv->repo));
	if (srv->cfg.event)
		srv->cfg.event(name, version, dir, what, err, srv->cfg.event_cls);
}

struct kf_server *kf_server_new(const struct kf_server_config *cfg)
{
	struct kf_server *srv = kf_xcalloc(1, sizeof *srv);

	srv->cfg = *cfg;
	srv->metrics = kf_metrics_new();
	srv->ops.load = model_load;
	srv->ops.unload = model_unload;
	srv->ops.event = model_event;
	srv->ops.cls = srv;
	srv->repo = kf_repo_new(&srv->ops);
	return srv;
}

struct kf_repo *kf_server_repo(struct kf_server *srv)
{
	return srv->repo;
}

int kf_server_start(struct kf_server *srv, struct kf_err *err)
{
	struct kf_http_config hc = {
		.address = srv->cfg.address,
		.port = srv->cfg.port,
		.threads = srv->cfg.threads,
		.max_body = srv->cfg.max_body,
		.timeout_s = srv->cfg.timeout_s,
		.token = srv->cfg.token,
		.handler = handle,
		.handler_cls = srv,
		.log = srv->cfg.log,
		.log_cls = srv->cfg.log_cls,
	};

	char *unready = NULL;
	int rc;

	rc = kf_repo_scan(srv->repo, err);
	if (!rc)
		rc = kf_repo_check_canaries(srv->repo, err);
	if (rc)
		return rc;
	/* as TensorFlow Serving does, refuse to start without every model */
	if (!kf_repo_ready(srv->repo, &unready)) {
		rc = kf_err_set(err, KF_EINPUT, "model \"%s\" has no version that loads", unready);
		free(unready);
		return rc;
	}
	if (srv->cfg.batch_max > 1)
		srv->batch = kf_batch_new(srv->cfg.batch_max, srv->cfg.batch_timeout_us,
					   srv->cfg.threads ? srv->cfg.threads : 2, run_batch, srv);
	rc = kf_http_start(&srv->http, &hc, err);
	if (rc)
		return rc;
	if (srv->cfg.poll_ms > 0)
		kf_repo_watch(srv->repo, srv->cfg.poll_ms);
	return 0;
}

unsigned kf_server_port(const struct kf_server *srv)
{
	return srv->http ? kf_http_port(srv->http) : 0;
}

void kf_server_free(struct kf_server *srv, int64_t grace_ms)
{
	if (!srv)
		return;
	/* the batcher keeps answering while the server drains */
	kf_http_stop(srv->http, grace_ms);
	kf_batch_free(srv->batch);
	kf_repo_free(srv->repo);
	kf_metrics_free(srv->metrics);
	free(srv);
}
