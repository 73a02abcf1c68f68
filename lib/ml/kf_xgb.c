/* kf_xgb: libxgboost wrapper. */
#include "config.h"

#include "ml/kf_xgb.h"
#include "util/kf_dl.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KF_HAVE_XGBOOST
#include <xgboost/c_api.h>

struct kf_xgb {
	BoosterHandle booster;
	size_t n_out;
	char task[16];
	pthread_mutex_t mu;
};

bool kf_xgb_available(void)
{
	return true;
}

static int xgb_fail(struct kf_err *err, const char *what)
{
	return kf_err_set(err, KF_EFAIL, "xgboost: %s: %s", what, XGBGetLastError());
}

static DMatrixHandle matrix(const double *x, const double *y, size_t rows, size_t dim)
{
	float *f = kf_xmalloc((rows * dim + 1) * sizeof *f);
	DMatrixHandle h = NULL;
	size_t i;

	for (i = 0; i < rows * dim; i++)
		f[i] = (float)x[i];
	if (XGDMatrixCreateFromMat(f, rows, dim, NAN, &h) != 0)
		h = NULL;
	free(f);
	if (h && y) {
		float *l = kf_xmalloc((rows + 1) * sizeof *l);

		for (i = 0; i < rows; i++)
			l[i] = (float)y[i];
		XGDMatrixSetFloatInfo(h, "label", l, rows);
		free(l);
	}
	return h;
}

static struct kf_xgb *xgb_new(const char *task, size_t n_out)
{
	struct kf_xgb *m = kf_xcalloc(1, sizeof *m);

	snprintf(m->task, sizeof m->task, "%s", task);
	m->n_out = n_out;
	pthread_mutex_init(&m->mu, NULL);
	return m;
}

int kf_xgb_train(struct kf_xgb **out, const double *x, const double *y, size_t rows,
		 const double *ex, const double *ey, size_t erows, size_t dim,
		 const struct kf_xgb_params *p, struct kf_err *err)
{
	DMatrixHandle dm[2] = { NULL, NULL };
	struct kf_xgb *m;
	char buf[64];
	double best = INFINITY;
	int i, best_iter = 0, rc = KF_EFAIL;

	*out = NULL;
	if ((rc = kf_dl_xgboost(err)) != 0)   /* libxgboost is loaded on first use */
		return rc;
	rc = KF_EFAIL;
	m = xgb_new(p->task, !strcmp(p->task, "multiclass") ? p->n_class : 1);
	dm[0] = matrix(x, y, rows, dim);
	dm[1] = erows ? matrix(ex, ey, erows, dim) : NULL;
	if (!dm[0] || (erows && !dm[1])) {
		xgb_fail(err, "building the data matrix");
		goto out;
	}
	if (XGBoosterCreate(dm, erows ? 2 : 1, &m->booster) != 0) {
		xgb_fail(err, "creating the booster");
		goto out;
	}
	XGBoosterSetParam(m->booster, "objective",
			  !strcmp(p->task, "binary") ? "binary:logistic" :
			  !strcmp(p->task, "multiclass") ? "multi:softprob" : "reg:squarederror");
	if (!strcmp(p->task, "multiclass")) {
		snprintf(buf, sizeof buf, "%zu", p->n_class);
		XGBoosterSetParam(m->booster, "num_class", buf);
	}
	snprintf(buf, sizeof buf, "%d", p->max_depth);
	XGBoosterSetParam(m->booster, "max_depth", buf);
	snprintf(buf, sizeof buf, "%.17g", p->eta);
	XGBoosterSetParam(m->booster, "eta", buf);
	snprintf(buf, sizeof buf, "%.17g", p->subsample);
	XGBoosterSetParam(m->booster, "subsample", buf);
	snprintf(buf, sizeof buf, "%d", p->threads > 0 ? p->threads : 0);
	XGBoosterSetParam(m->booster, "nthread", buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)(p->seed % 2147483647));
	XGBoosterSetParam(m->booster, "seed", buf);
	XGBoosterSetParam(m->booster, "tree_method", "hist");
	XGBoosterSetParam(m->booster, "verbosity", "0");
	for (i = 0; i < p->rounds; i++) {
		if (XGBoosterUpdateOneIter(m->booster, i, dm[0]) != 0) {
			xgb_fail(err, "training");
			goto out;
		}
		if (erows) {
			const char *names[] = { "eval" };
			const char *res, *colon;
			double loss;

			if (XGBoosterEvalOneIter(m->booster, i, &dm[1], names, 1, &res) != 0) {
				xgb_fail(err, "evaluating");
				goto out;
			}
			/* "[i]\teval-logloss:0.123" */
			colon = strrchr(res, ':');
			loss = colon ? strtod(colon + 1, NULL) : INFINITY;
			if (loss < best) {
				best = loss;
				best_iter = i;
			} else if (i - best_iter >= 20) {
				break;
			}
		}
	}
	rc = 0;
out:
	if (dm[0])
		XGDMatrixFree(dm[0]);
	if (dm[1])
		XGDMatrixFree(dm[1]);
	if (rc < 0)
		kf_xgb_free(m);
	else
		*out = m;
	return rc;
}

int kf_xgb_save(const struct kf_xgb *m, const char *dir, cJSON **model, struct kf_err *err)
{
	char *path = kf_path_join(dir, "model.json"), hex[65];
	int rc;

	*model = NULL;
	if (XGBoosterSaveModel(m->booster, path) != 0) {
		rc = xgb_fail(err, "saving the model");
		goto out;
	}
	rc = kf_sha256_file(path, hex, err);
	if (rc < 0)
		goto out;
	*model = cJSON_CreateObject();
	cJSON_AddStringToObject(*model, "file", "model.json");
	cJSON_AddStringToObject(*model, "sha256", hex);
	cJSON_AddStringToObject(*model, "task", m->task);
	cJSON_AddNumberToObject(*model, "outputs", (double)m->n_out);
out:
	free(path);
	return rc;
}

int kf_xgb_load(struct kf_xgb **out, const cJSON *model, const char *dir, struct kf_err *err)
{
	const cJSON *task = cJSON_GetObjectItemCaseSensitive(model, "task");
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(model, "outputs");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(model, "sha256");
	char *path = kf_path_join(dir, "model.json"), hex[65];
	struct kf_xgb *m = NULL;
	int rc;

	*out = NULL;
	rc = kf_sha256_file(path, hex, err);
	if (rc < 0)
		goto out;
	if (!cJSON_IsString(task) || !cJSON_IsNumber(outs) || (cJSON_IsString(sha) && strcmp(sha->valuestring, hex))) {
		rc = kf_err_set(err, KF_EINPUT, "%s: does not match kf-model.json", path);
		goto out;
	}
	if ((rc = kf_dl_xgboost(err)) != 0)
		goto out;
	m = xgb_new(task->valuestring, (size_t)outs->valuedouble);
	if (XGBoosterCreate(NULL, 0, &m->booster) != 0 || XGBoosterLoadModel(m->booster, path) != 0) {
		rc = xgb_fail(err, "loading the model");
		goto out;
	}
	XGBoosterSetParam(m->booster, "nthread", "1");
	*out = m;
	m = NULL;
out:
	kf_xgb_free(m);
	free(path);
	return rc;
}

size_t kf_xgb_outputs(const struct kf_xgb *m)
{
	return m->n_out;
}

int kf_xgb_predict(struct kf_xgb *m, const double *x, size_t rows, size_t dim, double *out,
		   struct kf_err *err)
{
	DMatrixHandle dm = matrix(x, NULL, rows, dim);
	const float *res;
	bst_ulong len = 0, i;
	int rc = 0;

	if (!dm)
		return xgb_fail(err, "building the data matrix");
	pthread_mutex_lock(&m->mu);
	if (XGBoosterPredict(m->booster, dm, 0, 0, 0, &len, &res) != 0) {
		rc = xgb_fail(err, "predicting");
	} else if (len != rows * m->n_out) {
		rc = kf_err_set(err, KF_EFAIL, "xgboost: %llu predictions for %zu rows", (unsigned long long)len, rows);
	} else {
		for (i = 0; i < len; i++)
			out[i] = res[i];
	}
	pthread_mutex_unlock(&m->mu);
	XGDMatrixFree(dm);
	return rc;
}

void kf_xgb_free(struct kf_xgb *m)
{
	if (!m)
		return;
	if (m->booster)
		XGBoosterFree(m->booster);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

#else /* !KF_HAVE_XGBOOST */

static int absent(struct kf_err *err)
{
	return kf_err_set(err, KF_EENV, "this kf was built without xgboost (install libxgboost-dev and reconfigure)");
}

bool kf_xgb_available(void) { return false; }

int kf_xgb_train(struct kf_xgb **out, const double *x, const double *y, size_t rows,
		 const double *ex, const double *ey, size_t erows, size_t dim,
		 const struct kf_xgb_params *p, struct kf_err *err)
{
	(void)x; (void)y; (void)rows; (void)ex; (void)ey; (void)erows; (void)dim; (void)p;
	*out = NULL;
	return absent(err);
}

int kf_xgb_save(const struct kf_xgb *m, const char *dir, cJSON **model, struct kf_err *err)
{
	(void)m; (void)dir;
	*model = NULL;
	return absent(err);
}

int kf_xgb_load(struct kf_xgb **out, const cJSON *model, const char *dir, struct kf_err *err)
{
	(void)model; (void)dir;
	*out = NULL;
	return absent(err);
}

size_t kf_xgb_outputs(const struct kf_xgb *m) { (void)m; return 0; }

int kf_xgb_predict(struct kf_xgb *m, const double *x, size_t rows, size_t dim, double *out,
		   struct kf_err *err)
{
	(void)m; (void)x; (void)rows; (void)dim; (void)out;
	return absent(err);
}

void kf_xgb_free(struct kf_xgb *m) { (void)m; }

#endif
