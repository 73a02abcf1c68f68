#include "config.h"

#include "serve/kf_proto.h"
#include "serve/kf_model.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables of raw cells -------------------------------------------------- */

/* Array sizes: malloc(0) may return NULL, which kf_xmalloc takes for OOM. */
static size_t nonzero(size_t n)
{
	return n ? n : 1;
}

static void table_init(struct kf_proto_table *t, size_t rows, size_t cols)
{
	size_t i;

	t->rows = rows;
	t->cols = cols;
	t->off = kf_xmalloc(nonzero(rows * cols) * sizeof *t->off);
	for (i = 0; i < rows * cols; i++)
		t->off[i] = SIZE_MAX;
	kf_buf_init(&t->text);
}

void kf_proto_table_release(struct kf_proto_table *t)
{
	free(t->off);
	kf_buf_release(&t->text);
	t->off = NULL;
	t->rows = t->cols = 0;
}

/* The shortest text that reads back as the same double. */
void kf_proto_add_double(struct kf_buf *b, double v)
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
static bool table_set(struct kf_proto_table *t, size_t r, size_t c, const cJSON *v)
{
	size_t *off = &t->off[r * t->cols + c];

	if (cJSON_IsNull(v))
		return true;
	*off = t->text.len;
	if (cJSON_IsNumber(v))
		kf_proto_add_double(&t->text, v->valuedouble);
	else if (cJSON_IsString(v))
		kf_buf_adds(&t->text, v->valuestring);
	else if (cJSON_IsBool(v))
		kf_buf_adds(&t->text, cJSON_IsTrue(v) ? "true" : "false");
	else
		return false;
	kf_buf_addc(&t->text, '\0');
	return true;
}

static long input_index(const struct kf_model *m, const char *name)
{
	size_t i, n = kf_model_n_inputs(m);

	for (i = 0; i < n; i++)
		if (!strcmp(kf_model_input(m, i), name))
			return (long)i;
	return -1;
}

/* "unknown input "faer" (did you mean "fare"?)". */
static void unknown_input(const struct kf_model *m, const char *name, struct kf_err *err)
{
	size_t n = kf_model_n_inputs(m), i;
	const char **names = kf_xmalloc((n ? n : 1) * sizeof *names);
	const char *hint;

	for (i = 0; i < n; i++)
		names[i] = kf_model_input(m, i);
	hint = kf_str_suggest(name, names, n);
	if (hint)
		kf_err_set(err, KF_EINPUT, "unknown input \"%s\" (did you mean \"%s\"?)", name, hint);
	else
		kf_err_set(err, KF_EINPUT, "unknown input \"%s\"", name);
	free(names);
}

/* ---- turning requests into tables --------------------------------------- */

/* Fill row r from an object of named inputs, over context (may be NULL). */
static bool row_from_object(const struct kf_model *m, struct kf_proto_table *t, size_t r, const cJSON *obj,
			    const char *what, struct kf_err *err)
{
	size_t n = kf_model_n_inputs(m), next = 0;
	const cJSON *v;

	if (!cJSON_IsObject(obj)) {
		kf_err_set(err, KF_EINPUT, "%s: expected an object of named inputs", what);
		return false;
	}
	cJSON_ArrayForEach(v, obj) {
		long c;

		/* clients mostly send the inputs in the model's order */
		if (next < n && !strcmp(kf_model_input(m, next), v->string))
			c = (long)next;
		else
			c = input_index(m, v->string);
		next = c < 0 ? 0 : (size_t)c + 1;

		if (c < 0) {
			unknown_input(m, v->string, err);
			kf_err_prefix(err, "%s", what);
			return false;
		}
		if (!table_set(t, r, (size_t)c, v)) {
			kf_err_set(err, KF_EINPUT, "%s: input \"%s\" must be a number, string, boolean or null", what,
				 v->string);
			return false;
		}
	}
	return true;
}

/* TF Serving row format: "instances": [{...}, ...]. */
static bool parse_instances(const struct kf_model *m, const cJSON *list, struct kf_proto_table *t,
			    struct kf_err *err)
{
	size_t r = 0;
	const cJSON *it;

	if (!cJSON_IsArray(list)) {
		kf_err_set(err, KF_EINPUT, "\"instances\" must be a list");
		return false;
	}
	table_init(t, (size_t)cJSON_GetArraySize(list), kf_model_n_inputs(m));
	cJSON_ArrayForEach(it, list) {
		char what[48];

		snprintf(what, sizeof what, "instance %zu", r);
		if (!row_from_object(m, t, r++, it, what, err))
			return false;
	}
	return true;
}

/* TF Serving columnar format: "inputs": {"name": [v0, v1, ...], ...}. */
static bool parse_columns(const struct kf_model *m, const cJSON *obj, struct kf_proto_table *t,
			  struct kf_err *err)
{
	const cJSON *col, *v;
	long rows = -1;

	if (!cJSON_IsObject(obj)) {
		kf_err_set(err, KF_EINPUT, "\"inputs\" must be an object of named input lists");
		return false;
	}
	cJSON_ArrayForEach(col, obj) {
		if (input_index(m, col->string) < 0) {
			unknown_input(m, col->string, err);
			return false;
		}
		if (!cJSON_IsArray(col)) {
			kf_err_set(err, KF_EINPUT, "input \"%s\" must be a list", col->string);
			return false;
		}
		if (rows >= 0 && cJSON_GetArraySize(col) != rows) {
			kf_err_set(err, KF_EINPUT, "input \"%s\" has %d values, the others %ld", col->string,
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
				kf_err_set(err, KF_EINPUT, "input \"%s\" must hold numbers, strings, booleans or nulls",
					 col->string);
				return false;
			}
		}
	}
	return true;
}

/* :classify and :regress: "examples" with an optional shared "context". */
static bool parse_examples(const struct kf_model *m, const cJSON *body, struct kf_proto_table *t,
			   struct kf_err *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "examples");
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(body, "context");
	const cJSON *it, *v;
	size_t r = 0;

	if (!cJSON_IsArray(list)) {
		kf_err_set(err, KF_EINPUT, "\"examples\" must be a list");
		return false;
	}
	if (context && !cJSON_IsObject(context)) {
		kf_err_set(err, KF_EINPUT, "\"context\" must be an object");
		return false;
	}
	table_init(t, (size_t)cJSON_GetArraySize(list), kf_model_n_inputs(m));
	cJSON_ArrayForEach(it, list) {
		char what[48];

		snprintf(what, sizeof what, "example %zu", r);
		if (context && cJSON_IsObject(it)) {
			cJSON_ArrayForEach(v, context) {
				if (cJSON_GetObjectItemCaseSensitive(it, v->string)) {
					kf_err_set(err, KF_EINPUT, "%s: feature \"%s\" is also in the context", what,
						 v->string);
					return false;
				}
			}
			if (!row_from_object(m, t, r, context, "context", err))
				return false;
		}
		if (!row_from_object(m, t, r++, it, what, err))
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
static bool v2_column(const struct kf_model *m, const cJSON *in, size_t c, struct kf_proto_table *t,
		      struct kf_err *err)
{
	const char *name = kf_model_input(m, c);
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "data");
	const cJSON **leaves = NULL;
	size_t n = 0, cap = 0, r;
	bool bytes, ok = false;

	bytes = !strcmp(dt->valuestring, "BYTES");
	if (!bytes && !numeric_type(dt->valuestring)) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": unsupported datatype \"%s\"", name, dt->valuestring);
		return false;
	}
	if (bytes && kf_model_input_numeric(m, c)) {
		kf_err_set(err, KF_EINPUT, "input \"%s\" is numeric: got datatype BYTES", name);
		return false;
	}
	if (!cJSON_IsArray(data)) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": \"data\" must be a list", name);
		return false;
	}
	flatten(data, &leaves, &n, &cap);
	if (n != t->rows) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": shape says %zu values, data has %zu", name, t->rows, n);
		goto out;
	}
	for (r = 0; r < n; r++) {
		const cJSON *v = leaves[r];
		bool fits = bytes ? cJSON_IsString(v)
			: !strcmp(dt->valuestring, "BOOL") ? cJSON_IsBool(v) : cJSON_IsNumber(v);

		if (!fits) {
			kf_err_set(err, KF_EINPUT, "input \"%s\": value %zu does not match datatype %s", name, r,
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
static bool v2_rows(const cJSON *in, const char *name, long *rows, struct kf_err *err)
{
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape"), *d;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "data");
	long dims[2] = { 0, 1 };
	size_t have;
	int n = 0;

	if (!cJSON_IsArray(shape)) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": \"shape\" must be a list of integers", name);
		return false;
	}
	cJSON_ArrayForEach(d, shape) {
		if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15 ||
		    d->valuedouble != floor(d->valuedouble) || n == 2) {
			kf_err_set(err, KF_EINPUT, "input \"%s\": shape must be [N] or [N, 1]", name);
			return false;
		}
		dims[n++] = (long)d->valuedouble;
	}
	if (n == 0 || dims[1] != 1) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": shape must be [N] or [N, 1]", name);
		return false;
	}
	if (!cJSON_IsArray(data)) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": \"data\" must be a list", name);
		return false;
	}
	have = count_leaves(data);
	if ((size_t)dims[0] != have) {
		kf_err_set(err, KF_EINPUT, "input \"%s\": shape says %ld values, data has %zu", name, dims[0], have);
		return false;
	}
	*rows = dims[0];
	return true;
}

/* Open Inference: "inputs": [{"name", "shape", "datatype", "data"}, ...],
 * one tensor per raw input. */
static bool parse_v2(const struct kf_model *m, const cJSON *body, struct kf_proto_table *t,
		     struct kf_err *err)
{
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(body, "inputs");
	const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(body, "outputs");
	const cJSON *in, *o;
	long rows = -1;

	if (!cJSON_IsArray(inputs) || cJSON_GetArraySize(inputs) == 0) {
		kf_err_set(err, KF_EINPUT, "\"inputs\" must be a non-empty list of tensors");
		return false;
	}
	cJSON_ArrayForEach(in, inputs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
		const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
		long n;

		if (!cJSON_IsString(name) || !cJSON_IsString(dt) ||
		    !cJSON_GetObjectItemCaseSensitive(in, "data")) {
			kf_err_set(err, KF_EINPUT, "each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
			return false;
		}
		if (input_index(m, name->valuestring) < 0) {
			unknown_input(m, name->valuestring, err);
			return false;
		}
		if (!v2_rows(in, name->valuestring, &n, err))
			return false;
		if (rows >= 0 && n != rows) {
			kf_err_set(err, KF_EINPUT, "input \"%s\" has %ld rows, the others %ld", name->valuestring, n, rows);
			return false;
		}
		rows = n;
	}
	cJSON_ArrayForEach(o, outputs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");

		if (!cJSON_IsString(name) || strcmp(name->valuestring, kf_model_output(m))) {
			kf_err_set(err, KF_EINPUT, "unknown output \"%s\" (the model has \"%s\")",
				 cJSON_IsString(name) ? name->valuestring : "", kf_model_output(m));
			return false;
		}
	}
	table_init(t, (size_t)rows, kf_model_n_inputs(m));
	cJSON_ArrayForEach(in, inputs) {
		const char *name = cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring;

		if (!v2_column(m, in, (size_t)input_index(m, name), t, err))
			return false;
	}
	return true;
}


/* ---- answering ------------------------------------------------------------ */

static void add_row(struct kf_buf *b, const double *v, size_t width)
{
	size_t j;

	if (width == 1) {
		kf_proto_add_double(b, v[0]);
		return;
	}
	kf_buf_addc(b, '[');
	for (j = 0; j < width; j++) {
		if (j)
			kf_buf_addc(b, ',');
		kf_proto_add_double(b, v[j]);
	}
	kf_buf_addc(b, ']');
}

static void add_classes(struct kf_buf *b, const struct kf_model *m, const double *v)
{
	size_t j, width = kf_model_width(m);

	if (kf_model_task(m) == KF_MODEL_BINARY) {
		/* both classes, as TF Serving's binary classifiers answer */
		kf_buf_adds(b, "[[\"0\",");
		kf_proto_add_double(b, 1 - v[0]);
		kf_buf_adds(b, "],[\"1\",");
		kf_proto_add_double(b, v[0]);
		kf_buf_adds(b, "]]");
		return;
	}
	kf_buf_addc(b, '[');
	for (j = 0; j < width; j++) {
		kf_buf_adds(b, j ? ",[" : "[");
		add_json_str(b, kf_model_class(m, j));
		kf_buf_addc(b, ',');
		kf_proto_add_double(b, v[j]);
		kf_buf_addc(b, ']');
	}
	kf_buf_addc(b, ']');
}

void kf_proto_answer(struct kf_buf *b, enum kf_proto_verb verb, const struct kf_model *m, const char *name,
		     const char *version, const char *id, size_t rows, const double *out)
{
	size_t width = kf_model_width(m), r;
	const char *key = verb == KF_PROTO_PREDICT_ROWS ? "predictions"
		: verb == KF_PROTO_PREDICT_COLUMNS ? "outputs" : "results";

	if (verb == KF_PROTO_INFER) {
		kf_buf_adds(b, "{\"model_name\":");
		add_json_str(b, name);
		kf_buf_adds(b, ",\"model_version\":");
		add_json_str(b, version);
		if (id) {
			kf_buf_adds(b, ",\"id\":");
			add_json_str(b, id);
		}
		kf_buf_adds(b, ",\"outputs\":[{\"name\":");
		add_json_str(b, kf_model_output(m));
		kf_buf_printf(b, ",\"datatype\":\"FP64\",\"shape\":[%zu", rows);
		if (width > 1)
			kf_buf_printf(b, ",%zu", width);
		kf_buf_adds(b, "],\"data\":[");
		for (r = 0; r < rows * width; r++) {
			if (r)
				kf_buf_addc(b, ',');
			kf_proto_add_double(b, out[r]);
		}
		kf_buf_adds(b, "]}]}");
		return;
	}
	kf_buf_printf(b, "{\"%s\":[", key);
	for (r = 0; r < rows; r++) {
		if (r)
			kf_buf_addc(b, ',');
		if (verb == KF_PROTO_CLASSIFY)
			add_classes(b, m, out + r * width);
		else
			add_row(b, out + r * width, width);
	}
	kf_buf_adds(b, "]}");
}

const char *kf_proto_cell(const struct kf_proto_table *t, size_t r, size_t c)
{
	size_t off = t->off[r * t->cols + c];

	return off == SIZE_MAX ? NULL : t->text.data + off;
}

/* The verb's request shape into t: rows, columns, examples or tensors. */
int kf_proto_parse(const struct kf_model *m, const char *name, enum kf_proto_verb *verb,
		   const cJSON *body, struct kf_proto_table *t, struct kf_err *err)
{
	enum kf_model_task task = kf_model_task(m);
	const cJSON *rows, *cols;
	bool ok = false;

	memset(t, 0, sizeof *t);
	switch (*verb) {
	case KF_PROTO_INFER:
		ok = parse_v2(m, body, t, err);
		break;
	case KF_PROTO_CLASSIFY:
	case KF_PROTO_REGRESS:
		if (*verb == KF_PROTO_CLASSIFY && task == KF_MODEL_REGRESSION)
			kf_err_set(err, KF_EINPUT, "model \"%s\" is a regression model: use :regress", name);
		else if (*verb == KF_PROTO_REGRESS && task != KF_MODEL_REGRESSION)
			kf_err_set(err, KF_EINPUT, "model \"%s\" is a classifier: use :classify or :predict", name);
		else
			ok = parse_examples(m, body, t, err);
		break;
	case KF_PROTO_PREDICT_ROWS:
	case KF_PROTO_PREDICT_COLUMNS:
		rows = cJSON_GetObjectItemCaseSensitive(body, "instances");
		cols = cJSON_GetObjectItemCaseSensitive(body, "inputs");
		if (rows && cols)
			kf_err_set(err, KF_EINPUT, "use either \"instances\" (rows) or \"inputs\" (columns), not both");
		else if (!rows && !cols)
			kf_err_set(err, KF_EINPUT, "missing \"instances\" or \"inputs\"");
		else if (rows)
			ok = parse_instances(m, rows, t, err);
		else
			ok = parse_columns(m, cols, t, err);
		*verb = cols ? KF_PROTO_PREDICT_COLUMNS : KF_PROTO_PREDICT_ROWS;
		break;
	}
	if (ok)
		return 0;
	kf_proto_table_release(t);
	return KF_EINPUT;
}
