/* kf_argo_emit: a kf_pipeline as the Argo Workflow the KFP v1 compiler
 * (SDK 1.8) would write for the same pipeline.
 *
 * One container template per step, a DAG template for the pipeline, for the
 * exit handler (exit-handler-1), for each condition (condition-N) and loop
 * (for-loop-N); values travel as parameters, files as artifacts under
 * /tmp/outputs/NAME/data and /tmp/inputs/NAME/data; the pipelines.kubeflow.org
 * annotations and labels as KFP writes them. Templates and DAG tasks are
 * sorted by name; the output depends only on the pipeline (and the
 * timestamp when one is asked for).
 *
 * Ownership: the returned cJSON document is the caller's (cJSON_Delete). */
#ifndef KF_ARGO_EMIT_H
#define KF_ARGO_EMIT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "spec/kf_pipeline.h"

struct kf_buf;

/* The KFP SDK version kf's output corresponds to (labels and annotations). */
#define KF_ARGO_KFP_SDK_VERSION "1.8.22"

struct kf_argo_emit_opts {
	int64_t timestamp_ms;   /* pipeline_compilation_time, epoch ms; 0: not written */
};

int kf_argo_emit(const struct kf_pipeline *p, const struct kf_argo_emit_opts *opts, cJSON **out,
		 struct kf_err *err);
/* The same as YAML appended to out. */
int kf_argo_emit_yaml(const struct kf_pipeline *p, const struct kf_argo_emit_opts *opts,
		      struct kf_buf *out, struct kf_err *err);

/* JSON as Python's json.dumps(sort_keys=True) writes it (", " and ": "
 * separators, non-ASCII escaped), for the annotations KFP tools parse. */
char *kf_argo_pyjson(const cJSON *j);

#endif
