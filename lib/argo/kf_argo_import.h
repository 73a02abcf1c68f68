/* kf_argo_import: an Argo Workflow package back into a kf/v1 pipeline.
 *
 * Reads the Workflows that `kf compile` writes and those the KFP v1 SDK
 * compiles (dag and container templates, parameters, artifacts, when,
 * withItems/withParam, onExit, retryStrategy, activeDeadlineSeconds) and
 * writes the equivalent kf/v1 Pipeline spec (as JSON, which is YAML), so
 * that the spec loader builds the one model the engine runs. Container
 * paths (/tmp/inputs/..., /tmp/outputs/... or any path an artifact or an
 * output parameter names) become {inputPath}/{outputPath} placeholders, so
 * they are remapped to local paths at run time. Nested DAG templates
 * (KFP's condition-N and for-loop-N groups) are flattened into steps named
 * by their path.
 *
 * A construct that cannot run locally (resource/script-less templates such
 * as `resource`, `suspend`, volumes from a PersistentVolumeClaim, ...) is
 * a KF_EINPUT error naming the field and the template, before anything
 * runs. */
#ifndef KF_ARGO_IMPORT_H
#define KF_ARGO_IMPORT_H

#include <stddef.h>

struct kf_buf;
struct kf_err;

/* file: the name used in errors. spec receives the kf/v1 pipeline text. */
int kf_argo_import(const char *file, const char *yaml, size_t len, struct kf_buf *spec,
		   struct kf_err *err);

#endif
