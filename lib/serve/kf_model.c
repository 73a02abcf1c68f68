#include "config.h"

#include "serve/kf_model.h"
#include "ml/kf_bundle.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <stdlib.h>
#include <string.h>

struct kf_model {
	struct kf_bundle *bundle;
	enum kf_model_task task;
	size_t dim, width;
};

int kf_model_load(const char *dir, struct kf_model **out, struct kf_err *err)
{
	struct kf_model *m;
	const char *task;
	int rc;

	*out = NULL;
	m = kf_xcalloc(1, sizeof *m);
	rc = kf_bundle_load(&m->bundle, dir, err);
	if (rc)
		goto out;
	task = kf_bundle_task(m->bundle);
	if (!strcmp(task, "binary")) {
		m->task = KF_MODEL_BINARY;
	} else if (!strcmp(task, "multiclass")) {
		m->task = KF_MODEL_MULTICLASS;
	} else if (!strcmp(task, "regression")) {
		m->task = KF_MODEL_REGRESSION;
	} else {
		rc = kf_err_set(err, KF_EINPUT, "model \"%s\": a %s model (%s) cannot be served", dir, task,
				kf_bundle_kind(m->bundle));
		goto out;
	}
	m->dim = kf_bundle_dim(m->bundle);
	m->width = kf_bundle_n_outputs(m->bundle);
	if (m->width == 0) {
		rc = kf_err_set(err, KF_EINPUT, "model \"%s\" has no outputs", dir);
		goto out;
	}
	*out = m;
	m = NULL;
out:
	kf_model_free(m);
	return rc;
}

void kf_model_free(struct kf_model *m)
{
	if (!m)
		return;
	if (m->bundle)
		kf_bundle_free(m->bundle);
	free(m);
}

const char *kf_model_kind(const struct kf_model *m)
{
	return kf_bundle_kind(m->bundle);
}

enum kf_model_task kf_model_task(const struct kf_model *m)
{
	return m->task;
}

size_t kf_model_n_inputs(const struct kf_model *m)
{
	return kf_bundle_n_inputs(m->bundle);
}

const char *kf_model_input(const struct kf_model *m, size_t i)
{
	return kf_bundle_input(m->bundle, i);
}

bool kf_model_input_numeric(const struct kf_model *m, size_t i)
{
	return kf_bundle_input_numeric(m->bundle, i);
}

const char *kf_model_output(const struct kf_model *m)
{
	/* one value per class reads better as one tensor than as k names */
	return m->task == KF_MODEL_MULTICLASS ? "probabilities" : kf_bundle_output_name(m->bundle, 0);
}

size_t kf_model_width(const struct kf_model *m)
{
	return m->width;
}

const char *kf_model_class(const struct kf_model *m, size_t j)
{
	if (m->task == KF_MODEL_BINARY)
		return "1";
	return kf_bundle_output_name(m->bundle, j);
}

int kf_model_predict(const struct kf_model *m, const char *const *cells, size_t rows, double *out,
		     struct kf_err *err)
{
	size_t n = kf_model_n_inputs(m), r;
	double *x = kf_xmalloc((rows * m->dim > 0 ? rows * m->dim : 1) * sizeof *x);
	int rc;

	for (r = 0; r < rows; r++)
		kf_bundle_transform(m->bundle, cells + r * n, x + r * m->dim);
	rc = kf_bundle_predict(m->bundle, x, rows, out, err);
	free(x);
	return rc;
}
