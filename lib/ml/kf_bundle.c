/* kf_bundle: model bundle load/save, transform and predict. */
#include "config.h"

#include "ml/kf_bundle.h"
#include "ml/kf_dense.h"
#include "ml/kf_features.h"
#include "ml/kf_mf.h"
#include "ml/kf_nn.h"
#include "ml/kf_xgb.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum bkind { B_NN, B_MF, B_XGB };

struct kf_bundle {
	cJSON *meta;
	char *kind, *task;
	enum bkind bk;
	struct kf_features fs;
	struct kf_nn nn;
	struct kf_mf *mf;
	struct kf_xgb *xgb;
	size_t n_out;
	char **out_names;
	/* Single-threaded CPU backend: it has no state besides its ops, so
	 * concurrent predicts can share it. */
	struct kf_dense *dense;
};

/* ---- weights ------------------------------------------------------------ */

int kf_bundle_write_weights(const char *dir, const char *name, const double *w, size_t n,
			    char hex[65], struct kf_err *err)
{
	unsigned char *bytes = kf_xmalloc(n * 8 + 1);
	char *path = kf_path_join(dir, name);
	size_t i;
	int rc;

	/* Little-endian float64, whatever the host. */
	for (i = 0; i < n; i++) {
		uint64_t u;
		int b;

		memcpy(&u, &w[i], 8);
		for (b = 0; b < 8; b++)
			bytes[i * 8 + (size_t)b] = (unsigned char)(u >> (8 * b));
	}
	kf_sha256_hex(bytes, n * 8, hex);
	rc = kf_fs_write_atomic(path, bytes, n * 8, err);
	free(path);
	free(bytes);
	return rc;
}

int kf_bundle_read_weights(const char *dir, const char *name, double *w, size_t n,
			   const char *sha256, struct kf_err *err)
{
	struct kf_buf buf = KF_BUF_INIT;
	char *path = kf_path_join(dir, name);
	char hex[65];
	size_t i;
	int rc;

	rc = kf_fs_read_file(path, &buf, err);
	if (rc < 0)
		goto out;
	rc = KF_EINPUT;
	if (buf.len != n * 8) {
		kf_err_set(err, rc, "%s: %zu bytes, expected %zu (%zu weights)", path, buf.len, n * 8, n);
		goto out;
	}
	kf_sha256_hex(buf.data ? buf.data : "", buf.len, hex);
	if (sha256 && strcmp(hex, sha256)) {
		kf_err_set(err, rc, "%s: sha256 %s does not match kf-model.json", path, hex);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)buf.data + i * 8;
		uint64_t u = 0;
		int b;

		for (b = 7; b >= 0; b--)
			u = (u << 8) | p[b];
		memcpy(&w[i], &u, 8);
	}
	rc = 0;
out:
	kf_buf_release(&buf);
	free(path);
	return rc;
}

int kf_bundle_write_meta(const char *dir, const cJSON *meta, struct kf_err *err)
{
	char *text = cJSON_Print(meta), *path = kf_path_join(dir, KF_BUNDLE_META);
	size_t len = strlen(text);
	int rc;

	text = kf_xrealloc(text, len + 2);
	text[len++] = '\n';
	rc = kf_fs_write_atomic(path, text, len, err);
	free(text);
	free(path);
	return rc;
}

static const char *const head_names[] = { "logistic", "softmax", "linear" };

cJSON *kf_bundle_nn_json(const struct kf_nn *nn, const char *weights_sha256)
{
	cJSON *m = cJSON_CreateObject(), *sizes;
	size_t l;

	cJSON_AddStringToObject(m, "head", head_names[nn->head]);
	sizes = cJSON_AddArrayToObject(m, "layers");
	for (l = 0; l <= nn->n_layers; l++)
		cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)nn->sizes[l]));
	cJSON_AddNumberToObject(m, "dropout", nn->dropout);
	cJSON_AddNumberToObject(m, "l2", nn->l2);
	cJSON_AddStringToObject(m, "weights", KF_BUNDLE_WEIGHTS);
	cJSON_AddNumberToObject(m, "weightsCount", (double)nn->n_params);
	if (weights_sha256)
		cJSON_AddStringToObject(m, "weightsSha256", weights_sha256);
	return m;
}

int kf_bundle_nn_from_json(struct kf_nn *nn, const cJSON *model, const char *dir,
			   struct kf_err *err)
{
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(model, "head");
	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(model, "layers"), *it;
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(model, "weightsSha256");
	size_t sizes[64], n = 0, h;
	int rc;

	memset(nn, 0, sizeof *nn);
	if (!cJSON_IsString(head) || !cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 2 ||
	    cJSON_GetArraySize(layers) > 64)
		return kf_err_set(err, KF_EINPUT, "%s/kf-model.json: bad \"model\" section", dir);
	cJSON_ArrayForEach(it, layers) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 1)
			return kf_err_set(err, KF_EINPUT, "%s/kf-model.json: bad layer size", dir);
		sizes[n++] = (size_t)it->valuedouble;
	}
	for (h = 0; h < 3; h++)
		if (!strcmp(head->valuestring, head_names[h]))
			break;
	if (h == 3)
		return kf_err_set(err, KF_EINPUT, "%s/kf-model.json: unknown head \"%s\"", dir, head->valuestring);
	rc = kf_nn_init(nn, (enum kf_nn_head)h, sizes[0], sizes + 1, n - 2, sizes[n - 1], 0, err);
	if (rc < 0)
		return rc;
	it = cJSON_GetObjectItemCaseSensitive(model, "dropout");
	nn->dropout = cJSON_IsNumber(it) ? it->valuedouble : 0;
	it = cJSON_GetObjectItemCaseSensitive(model, "l2");
	nn->l2 = cJSON_IsNumber(it) ? it->valuedouble : 0;
	rc = kf_bundle_read_weights(dir, KF_BUNDLE_WEIGHTS, nn->params, nn->n_params,
				    cJSON_IsString(sha) ? sha->valuestring : NULL, err);
	if (rc < 0)
		kf_nn_release(nn);
	return rc;
}

/* ---- load --------------------------------------------------------------- */

static void set_outputs(struct kf_bundle *b)
{
	const cJSON *label = cJSON_GetObjectItemCaseSensitive(b->meta, "label");
	const cJSON *classes = cJSON_GetObjectItemCaseSensitive(label, "classes"), *c;
	size_t i = 0;

	b->out_names = kf_xcalloc(b->n_out + 1, sizeof *b->out_names);
	if (!strcmp(b->task, "multiclass") && cJSON_GetArraySize(classes) == (int)b->n_out) {
		cJSON_ArrayForEach(c, classes)
			b->out_names[i++] = kf_xstrdup(cJSON_IsString(c) ? c->valuestring : "");
		return;
	}
	for (i = 0; i < b->n_out; i++)
		b->out_names[i] = kf_xstrdup(!strcmp(b->task, "binary") ? "probability" :
					     !strcmp(b->task, "recommend") ? "score" : "value");
}

int kf_bundle_load(struct kf_bundle **out, const char *dir, struct kf_err *err)
{
	struct kf_bundle *b = kf_xcalloc(1, sizeof *b);
	struct kf_buf text = KF_BUF_INIT;
	char *path = kf_path_join(dir, KF_BUNDLE_META);
	const cJSON *kind, *task, *model, *features;
	int rc;

	*out = NULL;
	rc = kf_fs_read_file(path, &text, err);
	if (rc < 0) {
		if (err->sys_errno == ENOENT)
			kf_err_set(err, KF_ENOTFOUND, "\"%s\" is not a model bundle (no kf-model.json)", dir);
		goto out;
	}
	rc = KF_EINPUT;
	b->meta = cJSON_ParseWithLength(text.data ? text.data : "", text.len);
	if (!b->meta || !cJSON_IsObject(b->meta)) {
		kf_err_set(err, rc, "%s: not valid JSON", path);
		goto out;
	}
	kind = cJSON_GetObjectItemCaseSensitive(b->meta, "kind");
	task = cJSON_GetObjectItemCaseSensitive(b->meta, "task");
	model = cJSON_GetObjectItemCaseSensitive(b->meta, "model");
	features = cJSON_GetObjectItemCaseSensitive(b->meta, "features");
	if (!cJSON_IsString(kind) || !cJSON_IsString(task) || !cJSON_IsObject(model)) {
		kf_err_set(err, rc, "%s: missing \"kind\", \"task\" or \"model\"", path);
		goto out;
	}
	b->kind = kf_xstrdup(kind->valuestring);
	b->task = kf_xstrdup(task->valuestring);
	if (features && (rc = kf_features_from_json(&b->fs, features, err)) < 0)
		goto out;
	if (!strcmp(b->kind, "mf")) {
		b->bk = B_MF;
		rc = kf_mf_load(&b->mf, model, dir, err);
		b->n_out = 1;
	} else if (!strcmp(b->kind, "xgboost")) {
		b->bk = B_XGB;
		rc = kf_xgb_load(&b->xgb, model, dir, err);
		if (rc == 0)
			b->n_out = kf_xgb_outputs(b->xgb);
	} else {
		b->bk = B_NN;
		rc = kf_bundle_nn_from_json(&b->nn, model, dir, err);
		if (rc == 0 && b->nn.sizes[0] != b->fs.dim) {
			rc = kf_err_set(err, KF_EINPUT, "%s: model input %zu does not match the transform's %zu",
					path, b->nn.sizes[0], b->fs.dim);
			goto out;
		}
		if (rc == 0)
			b->n_out = kf_nn_outputs(&b->nn);
	}
	if (rc < 0)
		goto out;
	set_outputs(b);
	rc = kf_dense_cpu_open(&b->dense, 1, err);
out:
	kf_buf_release(&text);
	free(path);
	if (rc < 0)
		kf_bundle_free(b);
	else
		*out = b;
	return rc;
}

void kf_bundle_free(struct kf_bundle *b)
{
	size_t i;

	if (!b)
		return;
	cJSON_Delete(b->meta);
	kf_features_release(&b->fs);
	if (b->nn.params)
		kf_nn_release(&b->nn);
	kf_mf_free(b->mf);
	kf_xgb_free(b->xgb);
	for (i = 0; b->out_names && i < b->n_out; i++)
		free(b->out_names[i]);
	free(b->out_names);
	kf_dense_close(b->dense);
	free(b->kind);
	free(b->task);
	free(b);
}

const char *kf_bundle_kind(const struct kf_bundle *b) { return b->kind; }
const char *kf_bundle_task(const struct kf_bundle *b) { return b->task; }
const cJSON *kf_bundle_meta(const struct kf_bundle *b) { return b->meta; }
size_t kf_bundle_n_inputs(const struct kf_bundle *b) { return b->fs.n_inputs; }
const char *kf_bundle_input(const struct kf_bundle *b, size_t i) { return b->fs.inputs[i]; }
bool kf_bundle_input_numeric(const struct kf_bundle *b, size_t i) { return b->fs.numeric[i]; }
size_t kf_bundle_dim(const struct kf_bundle *b) { return b->fs.dim; }
size_t kf_bundle_n_outputs(const struct kf_bundle *b) { return b->n_out; }
const struct kf_features *kf_bundle_features(const struct kf_bundle *b) { return &b->fs; }

const char *kf_bundle_output_name(const struct kf_bundle *b, size_t j)
{
	return j < b->n_out ? b->out_names[j] : NULL;
}

/* ---- transform ----------------------------------------------------------- */

void kf_bundle_transform(const struct kf_bundle *b, const char *const *values, double *x)
{
	kf_features_apply(&b->fs, values, x, false);
}

int kf_bundle_transform_named(const struct kf_bundle *b, const char *const *names,
			      const char *const *values, size_t n, double *x, struct kf_err *err)
{
	const char **v = kf_xcalloc(b->fs.n_inputs + 1, sizeof *v);
	size_t i;

	(void)err;
	for (i = 0; i < n; i++) {
		long c = kf_features_input(&b->fs, names[i]);

		if (c >= 0)
			v[c] = values[i];
	}
	kf_features_apply(&b->fs, v, x, false);
	free(v);
	return 0;
}

int kf_bundle_transform_json(const struct kf_bundle *b, const cJSON *obj, double *x,
			     struct kf_err *err)
{
	size_t n = b->fs.n_inputs, i;
	const char **v;
	char (*num)[40];
	int rc = 0;

	if (!cJSON_IsObject(obj))
		return kf_err_set(err, KF_EINPUT, "an instance must be a JSON object of input columns");
	v = kf_xcalloc(n + 1, sizeof *v);
	num = kf_xcalloc(n + 1, sizeof *num);
	for (i = 0; i < n; i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, b->fs.inputs[i]);

		if (!it || cJSON_IsNull(it)) {
			v[i] = NULL;
		} else if (cJSON_IsString(it)) {
			v[i] = it->valuestring;
		} else if (cJSON_IsNumber(it)) {
			snprintf(num[i], sizeof num[i], "%.17g", it->valuedouble);
			v[i] = num[i];
		} else if (cJSON_IsBool(it)) {
			v[i] = cJSON_IsTrue(it) ? "true" : "false";
		} else {
			rc = kf_err_set(err, KF_EINPUT, "input \"%s\" must be a number, string, boolean or null",
					b->fs.inputs[i]);
			goto out;
		}
	}
	kf_features_apply(&b->fs, v, x, false);
out:
	free(v);
	free(num);
	return rc;
}

/* ---- predict --------------------------------------------------------------- */

#define PREDICT_CHUNK 256

int kf_bundle_predict(const struct kf_bundle *b, const double *x, size_t rows, double *out,
		      struct kf_err *err)
{
	struct kf_nn_work w;
	size_t r;

	if (b->bk == B_XGB)
		return kf_xgb_predict(b->xgb, x, rows, b->fs.dim, out, err);
	if (b->bk == B_MF)
		return kf_err_set(err, KF_EUSAGE, "an mf model predicts with kf_bundle_recommend or kf_bundle_mf_score");
	kf_nn_work_init(&w, &b->nn, rows < PREDICT_CHUNK ? (rows ? rows : 1) : PREDICT_CHUNK);
	for (r = 0; r < rows; r += w.batch) {
		size_t n = rows - r < w.batch ? rows - r : w.batch;

		kf_nn_predict(&b->nn, b->dense, &w, x + r * b->fs.dim, n, out + r * b->n_out);
	}
	kf_nn_work_release(&w, &b->nn);
	return 0;
}

int kf_bundle_recommend(const struct kf_bundle *b, const char *user, size_t k,
			const char **items, double *scores, struct kf_err *err)
{
	if (b->bk != B_MF)
		return kf_err_set(err, KF_EUSAGE, "model kind \"%s\" does not recommend (only mf does)", b->kind);
	return kf_mf_recommend(b->mf, user, k, items, scores);
}

double kf_bundle_mf_score(const struct kf_bundle *b, const char *user, const char *item)
{
	return b->bk == B_MF ? kf_mf_score(b->mf, user, item) : NAN;
}
