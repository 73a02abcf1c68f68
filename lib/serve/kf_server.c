#include "config.h"

#include "serve/kf_server.h"
#include "serve/kf_batch.h"
#include "serve/kf_metrics.h"
#include "serve/kf_model.h"
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

enum verb { V_PREDICT_ROWS, V_PREDICT_COLUMNS, V_CLASSIFY, V_REGRESS, V_INFER };

/* Raw inputs of one request: rows × cols cells of text, kept in one arena. */
struct table {
	size_t rows, cols;
	size_t *off;              /* rows × cols offsets into text, SIZE_MAX: missing */
	struct kf_buf text;
};

/* One inference request on its way through the batcher. */
struct job {
	struct kf_batch_item item;   /* first: the batcher hands us items */
	struct kf_server *srv;
	struct kf_http_req *req;
	struct kf_servable *sv;
	enum verb verb;
	struct table in;
	char *id;                    /* V2 request id, echoed */
	int64_t queue_ns, compute_ns;
};

/* ---- small helpers ------------------------------------------------------- */

/* Array sizes: malloc(0) may return NULL, which kf_xmalloc takes for OOM. */
static size_t nonzero(size_t n)
{
	return n ? n : 1;
}

static void table_init(struct table *t, size_t rows, size_t cols)
{
	size_t i;

	t->rows = rows;
	t->cols = cols;
	t->off = kf_xmalloc(nonzero(rows * cols) * sizeof *t->off);
	for (i = 0; i < rows * cols; i++)
		t->off[i] = SIZE_MAX;
	kf_buf_init(&t->text);
}

static void table_release(struct table *t)
{
	free(t->off);
	kf_buf_release(&t->text);
}

/* The shortest text that reads back as the same double. */
static void add_double(struct kf_buf *b, double v)
{
	char tmp[40];

	if (isnan(v)) {
		kf_buf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		kf_buf_adds(b, v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	/* whole numbers (counts, ids, hours) are most raw inputs: no printf */
	if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
		char *p = tmp + sizeof tmp;
		long long n = (long long)v;
		unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;

		*--p = '\0';
		do
			*--p = (char)('0' + u % 10);
		while (u /= 10);
		if (n < 0)
			*--p = '-';
		kf_buf_adds(b, p);
		return;
	}
	snprintf(tmp, sizeof tmp, "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof tmp, "%.17g", v);
	kf_buf_adds(b, tmp);
}

static void add_json_str(struct kf_buf *b, const char *s)
{
	kf_buf_addc(b, '"');
	kf_buf_add_json_escaped(b, s);
	kf_buf_addc(b, '"');
}

/* Set cell (r, c) from a JSON scalar; false for arrays and objects. */
static bool table_set(struct table *t, size_t r, size_t c, const cJSON *v)
{
	size_t *off = &t->off[r * t->cols + c];

	if (cJSON_IsNull(v))
		return true;
	*off = t->text.len;
	if (cJSON_IsNumber(v))
		add_double(&t->text, v->valuedouble);
	else if (cJSON_IsString(v))
		kf_buf_adds(&t->text, v->valuestring);
	else if (cJSON_IsBool(v))
		kf_buf_adds(&t->text, cJSON_IsTrue(v) ? "true" : "false");
	else
		return false;
	kf_buf_addc(&t->text, '\0');
	return true;
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
	kf_buf_adds(&b, "{\"error\":");
	add_json_str(&b, msg);
	kf_buf_adds(&b, "}");
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

static long input_index(const struct kf_model *m, const char *name)
{
	size_t i, n = kf_model_n_inputs(m);

	for (i = 0; i < n; i++)
		if (!strcmp(kf_model_input(m, i), name))
			return (long)i;
	return -1;
}

/* "unknown input "faer" (did you mean "fare"?)" into msg. */
static void unknown_input(const struct kf_model *m, const char *name, char *msg, size_t size)
{
	size_t n = kf_model_n_inputs(m), i;
	const char **names = kf_xmalloc((n ? n : 1) * sizeof *names);
	const char *hint;

	for (i = 0; i < n; i++)
		names[i] = kf_model_input(m, i);
	hint = kf_str_suggest(name, names, n);
	if (hint)
		snprintf(msg, size, "unknown input \"%s\" (did you mean \"%s\"?)", name, hint);
	else
		snprintf(msg, size, "unknown input \"%s\"", name);
	free(names);
}

static cJSON *parse_body(struct kf_http_req *req, char *msg, size_t size)
{
	const char *end = NULL, *body;
	size_t len;
	cJSON *doc;

	body = kf_http_req_body(req, &len);
	doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!doc) {
		snprintf(msg, size, "JSON Parse error: invalid JSON at offset %zu",
			 end && end >= body ? (size_t)(end - body) : (size_t)0);
		return NULL;
	}
	if (!cJSON_IsObject(doc)) {
		snprintf(msg, size, "the request body must be a JSON object");
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* ---- turning requests into tables --------------------------------------- */

/* Fill row r from an object of named inputs, over context (may be NULL). */
static bool row_from_object(const struct kf_model *m, struct table *t, size_t r, const cJSON *obj,
			    const char *what, char *msg, size_t size)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj)) {
		snprintf(msg, size, "%s: expected an object of named inputs", what);
		return false;
	}
	cJSON_ArrayForEach(v, obj) {
		long c = input_index(m, v->string);

		if (c < 0) {
			char hint[512];

			unknown_input(m, v->string, hint, sizeof hint);
			snprintf(msg, size, "%s: %s", what, hint);
			return false;
		}
		if (!table_set(t, r, (size_t)c, v)) {
			snprintf(msg, size, "%s: input \"%s\" must be a number, string, boolean or null", what,
				 v->string);
			return false;
		}
	}
	return true;
}

/* TF Serving row format: "instances": [{...}, ...]. */
static bool parse_instances(const struct kf_model *m, const cJSON *list, struct table *t, char *msg,
			    size_t size)
{
	size_t r = 0;
	const cJSON *it;

	if (!cJSON_IsArray(list)) {
		snprintf(msg, size, "\"instances\" must be a list");
		return false;
	}
	table_init(t, (size_t)cJSON_GetArraySize(list), kf_model_n_inputs(m));
	cJSON_ArrayForEach(it, list) {
		char what[48];

		snprintf(what, sizeof what, "instance %zu", r);
		if (!row_from_object(m, t, r++, it, what, msg, size))
			return false;
	}
	return true;
}

/* TF Serving columnar format: "inputs": {"name": [v0, v1, ...], ...}. */
static bool parse_columns(const struct kf_model *m, const cJSON *obj, struct table *t, char *msg,
			  size_t size)
{
	const cJSON *col, *v;
	long rows = -1;

	if (!cJSON_IsObject(obj)) {
		snprintf(msg, size, "\"inputs\" must be an object of named input lists");
		return false;
	}
	cJSON_ArrayForEach(col, obj) {
		if (input_index(m, col->string) < 0) {
			unknown_input(m, col->string, msg, size);
			return false;
		}
		if (!cJSON_IsArray(col)) {
			snprintf(msg, size, "input \"%s\" must be a list", col->string);
			return false;
		}
		if (rows >= 0 && cJSON_GetArraySize(col) != rows) {
			snprintf(msg, size, "input \"%s\" has %d values, the others %ld", col->string,
				 cJSON_GetArraySize(col), rows);
			return false;
		}
		rows = cJSON_GetArraySize(col);
	}
	table_init(t, rows < 0 ? 0 : (size_t)rows, kf_model_n_inputs(m));
	cJSON_ArrayForEach(col, obj) {
		size_t c = (size_t)input_index(m, col->string), r = 0;

		cJSON_ArrayForEach(v, col) {
			if (!table_set(t, r++, c, v)) {
				snprintf(msg, size, "input \"%s\" must hold numbers, strings, booleans or nulls",
					 col->string);
				return false;
			}
		}
	}
	return true;
}

/* :classify and :regress: "examples" with an optional shared "context". */
static bool parse_examples(const struct kf_model *m, const cJSON *body, struct table *t, char *msg,
			   size_t size)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "examples");
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(body, "context");
	const cJSON *it, *v;
	size_t r = 0;

	if (!cJSON_IsArray(list)) {
		snprintf(msg, size, "\"examples\" must be a list");
		return false;
	}
	if (context && !cJSON_IsObject(context)) {
		snprintf(msg, size, "\"context\" must be an object");
		return false;
	}
	table_init(t, (size_t)cJSON_GetArraySize(list), kf_model_n_inputs(m));
	cJSON_ArrayForEach(it, list) {
		char what[48];

		snprintf(what, sizeof what, "example %zu", r);
		if (context && cJSON_IsObject(it)) {
			cJSON_ArrayForEach(v, context) {
				if (cJSON_GetObjectItemCaseSensitive(it, v->string)) {
					snprintf(msg, size, "%s: feature \"%s\" is also in the context", what,
						 v->string);
					return false;
				}
			}
			if (!row_from_object(m, t, r, context, "context", msg, size))
				return false;
		}
		if (!row_from_object(m, t, r++, it, what, msg, size))
			return false;
	}
	return true;
}

static bool numeric_type(const char *dt)
{
	static const char *const types[] = {
		"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
		"FP16", "FP32", "FP64", NULL,
	};
	size_t i;

	for (i = 0; types[i]; i++)
		if (!strcmp(dt, types[i]))
			return true;
	return false;
}

/* Depth-first leaves of a (possibly nested) tensor_data array. */
static void flatten(const cJSON *data, const cJSON ***out, size_t *n, size_t *cap)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, data) {
		if (cJSON_IsArray(v)) {
			flatten(v, out, n, cap);
		} else {
			KF_GROW(*out, *cap, *n + 1);
			(*out)[(*n)++] = v;
		}
	}
}

/* One V2 input tensor into column c of t (rows already known). */
static bool v2_column(const struct kf_model *m, const cJSON *in, size_t c, struct table *t, char *msg,
		      size_t size)
{
	const char *name = kf_model_input(m, c);
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "data");
	const cJSON **leaves = NULL;
	size_t n = 0, cap = 0, r;
	bool bytes, ok = false;

	bytes = !strcmp(dt->valuestring, "BYTES");
	if (!bytes && !numeric_type(dt->valuestring)) {
		snprintf(msg, size, "input \"%s\": unsupported datatype \"%s\"", name, dt->valuestring);
		return false;
	}
	if (bytes && kf_model_input_numeric(m, c)) {
		snprintf(msg, size, "input \"%s\" is numeric: got datatype BYTES", name);
		return false;
	}
	if (!cJSON_IsArray(data)) {
		snprintf(msg, size, "input \"%s\": \"data\" must be a list", name);
		return false;
	}
	flatten(data, &leaves, &n, &cap);
	if (n != t->rows) {
		snprintf(msg, size, "input \"%s\": shape says %zu values, data has %zu", name, t->rows, n);
		goto out;
	}
	for (r = 0; r < n; r++) {
		const cJSON *v = leaves[r];
		bool fits = bytes ? cJSON_IsString(v)
			: !strcmp(dt->valuestring, "BOOL") ? cJSON_IsBool(v) : cJSON_IsNumber(v);

		if (!fits) {
			snprintf(msg, size, "input \"%s\": value %zu does not match datatype %s", name, r,
				 dt->valuestring);
			goto out;
		}
		table_set(t, r, c, v);
	}
	ok = true;
out:
	free(leaves);
	return ok;
}

/* Leaves of a nested tensor_data array. */
static size_t count_leaves(const cJSON *data)
{
	const cJSON *v;
	size_t n = 0;

	cJSON_ArrayForEach(v, data)
		n += cJSON_IsArray(v) ? count_leaves(v) : 1;
	return n;
}

/* Rows of a V2 shape: [n] or [n, 1], n matching the data (so a shape
 * never asks for more memory than the body holds values). */
static bool v2_rows(const cJSON *in, const char *name, long *rows, char *msg, size_t size)
{
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape"), *d;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "data");
	long dims[2] = { 0, 1 };
	size_t have;
	int n = 0;

	if (!cJSON_IsArray(shape)) {
		snprintf(msg, size, "input \"%s\": \"shape\" must be a list of integers", name);
		return false;
	}
	cJSON_ArrayForEach(d, shape) {
		if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15 ||
		    d->valuedouble != floor(d->valuedouble) || n == 2) {
			snprintf(msg, size, "input \"%s\": shape must be [N] or [N, 1]", name);
			return false;
		}
		dims[n++] = (long)d->valuedouble;
	}
	if (n == 0 || dims[1] != 1) {
		snprintf(msg, size, "input \"%s\": shape must be [N] or [N, 1]", name);
		return false;
	}
	if (!cJSON_IsArray(data)) {
		snprintf(msg, size, "input \"%s\": \"data\" must be a list", name);
		return false;
	}
	have = count_leaves(data);
	if ((size_t)dims[0] != have) {
		snprintf(msg, size, "input \"%s\": shape says %ld values, data has %zu", name, dims[0], have);
		return false;
	}
	*rows = dims[0];
	return true;
}

/* Open Inference: "inputs": [{"name", "shape", "datatype", "data"}, ...],
 * one tensor per raw input. */
static bool parse_v2(const struct kf_model *m, const cJSON *body, struct table *t, char *msg, size_t size)
{
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(body, "inputs");
	const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(body, "outputs");
	const cJSON *in, *o;
	long rows = -1;

	if (!cJSON_IsArray(inputs) || cJSON_GetArraySize(inputs) == 0) {
		snprintf(msg, size, "\"inputs\" must be a non-empty list of tensors");
		return false;
	}
	cJSON_ArrayForEach(in, inputs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
		const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
		long n;

		if (!cJSON_IsString(name) || !cJSON_IsString(dt) ||
		    !cJSON_GetObjectItemCaseSensitive(in, "data")) {
			snprintf(msg, size, "each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
			return false;
		}
		if (input_index(m, name->valuestring) < 0) {
			unknown_input(m, name->valuestring, msg, size);
			return false;
		}
		if (!v2_rows(in, name->valuestring, &n, msg, size))
			return false;
		if (rows >= 0 && n != rows) {
			snprintf(msg, size, "input \"%s\" has %ld rows, the others %ld", name->valuestring, n, rows);
			return false;
		}
		rows = n;
	}
	cJSON_ArrayForEach(o, outputs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");

		if (!cJSON_IsString(name) || strcmp(name->valuestring, kf_model_output(m))) {
			snprintf(msg, size, "unknown output \"%s\" (the model has \"%s\")",
				 cJSON_IsString(name) ? name->valuestring : "", kf_model_output(m));
			return false;
		}
	}
	table_init(t, (size_t)rows, kf_model_n_inputs(m));
	cJSON_ArrayForEach(in, inputs) {
		const char *name = cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring;

		if (!v2_column(m, in, (size_t)input_index(m, name), t, msg, size))
			return false;
	}
	return true;
}

/* ---- answering ------------------------------------------------------------ */

static void add_row(struct kf_buf *b, const double *v, size_t width)
{
	size_t j;

	if (width == 1) {
		add_double(b, v[0]);
		return;
	}
	kf_buf_addc(b, '[');
	for (j = 0; j < width; j++) {
		if (j)
			kf_buf_addc(b, ',');
		add_double(b, v[j]);
	}
	kf_buf_addc(b, ']');
}

static void add_classes(struct kf_buf *b, const struct kf_model *m, const double *v)
{
	size_t j, width = kf_model_width(m);

	if (kf_model_task(m) == KF_MODEL_BINARY) {
		/* both classes, as TF Serving's binary classifiers answer */
		kf_buf_adds(b, "[[\"0\",");
		add_double(b, 1 - v[0]);
		kf_buf_adds(b, "],[\"1\",");
		add_double(b, v[0]);
		kf_buf_adds(b, "]]");
		return;
	}
	kf_buf_addc(b, '[');
	for (j = 0; j < width; j++) {
		kf_buf_adds(b, j ? ",[" : "[");
		add_json_str(b, kf_model_class(m, j));
		kf_buf_addc(b, ',');
		add_double(b, v[j]);
		kf_buf_addc(b, ']');
	}
	kf_buf_addc(b, ']');
}

static void format_answer(const struct job *job, const double *out, struct kf_buf *b)
{
	const struct kf_model *m = job->sv->model;
	size_t width = kf_model_width(m), r;
	const char *key = job->verb == V_PREDICT_ROWS ? "predictions"
		: job->verb == V_PREDICT_COLUMNS ? "outputs" : "results";

	if (job->verb == V_INFER) {
		kf_buf_adds(b, "{\"model_name\":");
		add_json_str(b, job->sv->name);
		kf_buf_adds(b, ",\"model_version\":");
		add_json_str(b, job->sv->version_str);
		if (job->id) {
			kf_buf_adds(b, ",\"id\":");
			add_json_str(b, job->id);
		}
		kf_buf_adds(b, ",\"outputs\":[{\"name\":");
		add_json_str(b, kf_model_output(m));
		kf_buf_printf(b, ",\"datatype\":\"FP64\",\"shape\":[%zu", job->in.rows);
		if (width > 1)
			kf_buf_printf(b, ",%zu", width);
		kf_buf_adds(b, "],\"data\":[");
		for (r = 0; r < job->in.rows * width; r++) {
			if (r)
				kf_buf_addc(b, ',');
			add_double(b, out[r]);
		}
		kf_buf_adds(b, "]}]}");
		return;
	}
	kf_buf_printf(b, "{\"%s\":[", key);
	for (r = 0; r < job->in.rows; r++) {
		if (r)
			kf_buf_addc(b, ',');
		if (job->verb == V_CLASSIFY)
			add_classes(b, m, out + r * width);
		else
			add_row(b, out + r * width, width);
	}
	kf_buf_adds(b, "]}");
}

static void job_free(struct job *job)
{
	kf_servable_put(job->sv);
	table_release(&job->in);
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

		format_answer(job, out, &b);
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
		const struct table *t = &jobs[i]->in;

		for (r = 0; r < t->rows; r++, at++)
			for (c = 0; c < cols; c++) {
				size_t off = t->off[r * cols + c];

				cells[at * cols + c] = off == SIZE_MAX ? NULL : t->text.data + off;
			}
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

static void infer(struct kf_server *srv, struct kf_http_req *req, const struct target *t, enum verb verb)
{
	struct kf_servable *sv;
	struct job *job;
	cJSON *body;
	char msg[1024];
	bool ok = false;

	body = parse_body(req, msg, sizeof msg);
	if (!body) {
		reply_error(srv, req, 400, "%s", msg);
		return;
	}
	sv = lookup(srv, req, t, verb == V_INFER);
	if (!sv) {
		cJSON_Delete(body);
		return;
	}
	job = kf_xcalloc(1, sizeof *job);
	job->srv = srv;
	job->req = req;
	job->sv = sv;
	job->verb = verb;
	msg[0] = '\0';
	if (verb == V_INFER) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");

		if (cJSON_IsString(id))
			job->id = kf_xstrdup(id->valuestring);
		ok = parse_v2(sv->model, body, &job->in, msg, sizeof msg);
	} else if (verb == V_CLASSIFY || verb == V_REGRESS) {
		enum kf_model_task task = kf_model_task(sv->model);

		if (verb == V_CLASSIFY && task == KF_MODEL_REGRESSION)
			snprintf(msg, sizeof msg, "model \"%s\" is a regression model: use :regress", sv->name);
		else if (verb == V_REGRESS && task != KF_MODEL_REGRESSION)
			snprintf(msg, sizeof msg, "model \"%s\" is a classifier: use :classify or :predict",
				 sv->name);
		else
			ok = parse_examples(sv->model, body, &job->in, msg, sizeof msg);
	} else {
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(body, "instances");
		const cJSON *cols = cJSON_GetObjectItemCaseSensitive(body, "inputs");

		if (rows && cols)
			snprintf(msg, sizeof msg, "use either \"instances\" (rows) or \"inputs\" (columns), not both");
		else if (!rows && !cols)
			snprintf(msg, sizeof msg, "missing \"instances\" or \"inputs\"");
		else if (rows)
			ok = parse_instances(sv->model, rows, &job->in, msg, sizeof msg);
		else
			ok = parse_columns(sv->model, cols, &job->in, msg, sizeof msg);
		if (cols)
			job->verb = V_PREDICT_COLUMNS;
	}
	cJSON_Delete(body);
	if (!ok) {
		kf_http_req_add_header(req, "X-Model-Version", sv->version_str);
		reply_error(srv, req, 400, "%s", msg);
		kf_metrics_request(srv->metrics, sv->name, sv->version_str, false, 0, 0, 0, 0);
		job_free(job);
		return;
	}
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
			infer(srv, req, &t, V_PREDICT_ROWS);
		else if (!strcmp(verb, "classify"))
			infer(srv, req, &t, V_CLASSIFY);
		else if (!strcmp(verb, "regress"))
			infer(srv, req, &t, V_REGRESS);
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
			infer(srv, req, &t, V_INFER);
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
