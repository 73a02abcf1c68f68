/* kf_katib: the Katib Experiment for a cluster (kf tune --emit).
 *
 * An experiment whose trials are Katib's own trialSpec is written back
 * as it is. One whose trials are a kf pipeline gets, in place of kf's
 * trialTemplate.pipeline and pipelineParams, the pipeline compiled to the
 * Argo Workflow kf compile writes, its arguments set to the pipelineParams
 * values (the ${trialParameters.x} references stay for Katib to fill in),
 * and what Katib needs for a Workflow trial: successCondition and
 * failureCondition on the Workflow's phase, primaryContainerName "main"
 * (Argo's) and primaryPodLabels matching the label kf puts on every step's
 * pod, so that Katib's metrics collector reads the steps' output. */
#ifndef KF_KATIB_H
#define KF_KATIB_H

struct kf_buf;
struct kf_err;
struct kf_experiment;
struct kf_pipeline;

/* Append the Experiment as YAML to out. p is the loaded pipeline of a
 * pipeline experiment, NULL otherwise. */
int kf_katib_emit(const struct kf_experiment *e, const struct kf_pipeline *p, struct kf_buf *out,
		  struct kf_err *err);

#endif
