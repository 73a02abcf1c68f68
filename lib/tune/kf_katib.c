/* kf_katib: a kf experiment as the Experiment a Katib cluster runs. */
#include "config.h"

#include "tune/kf_katib.h"

#include "argo/kf_argo_emit.h"
#include "tune/kf_experiment.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_yaml.h"

#include <cjson/cJSON.h>
#include <string.h>

#define POD_LABEL "katib.kubeflow.org/model-training"

/* The Workflow's arguments take the pipelineParams values. */
static void set_arguments(const struct kf_experiment *e, cJSON *wf)
{
	cJSON *ps = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(wf, "spec"), "arguments"),
					"parameters");
	cJSON *p;

	cJSON_ArrayForEach(p, ps) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));

		for (size_t i = 0; name && i < e->n_pipeline_params; i++)
			if (!strcmp(name, e->pp_names[i])) {
				if (cJSON_GetObjectItem(p, "value"))
					cJSON_ReplaceItemInObject(p, "value", cJSON_CreateString(e->pp_values[i]));
				else
					cJSON_AddStringToObject(p, "value", e->pp_values[i]);
			}
	}
}

/* Every container template's pod gets Katib's training label. */
static void label_pods(cJSON *wf)
{
	cJSON *t, *templates = cJSON_GetObjectItem(cJSON_GetObjectItem(wf, "spec"), "templates");

	cJSON_ArrayForEach(t, templates) {
		cJSON *md, *labels;

		if (!cJSON_GetObjectItem(t, "container"))
			continue;
		if (!(md = cJSON_GetObjectItem(t, "metadata")))
			md = cJSON_AddObjectToObject(t, "metadata");
		if (!(labels = cJSON_GetObjectItem(md, "labels")))
			labels = cJSON_AddObjectToObject(md, "labels");
		cJSON_DeleteItemFromObject(labels, POD_LABEL);
		cJSON_AddStringToObject(labels, POD_LABEL, "true");
	}
}

int kf_katib_emit(const struct kf_experiment *e, const struct kf_pipeline *p, struct kf_buf *out,
		  struct kf_err *err)
{
	cJSON *doc = cJSON_Duplicate(e->source, 1), *tt, *wf = NULL, *md;
	int rc;

	tt = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"), "trialTemplate");
	if (p && tt) {
		struct kf_argo_emit_opts eo = { 0 };

		if ((rc = kf_argo_emit(p, &eo, &wf, err)) < 0)
			goto out;
		set_arguments(e, wf);
		label_pods(wf);
		/* Katib names each trial's Workflow itself */
		if ((md = cJSON_GetObjectItem(wf, "metadata"))) {
			cJSON_DeleteItemFromObject(md, "name");
			cJSON_DeleteItemFromObject(md, "generateName");
			cJSON_DeleteItemFromObject(md, "namespace");
		}
		cJSON_DeleteItemFromObject(tt, "pipeline");
		cJSON_DeleteItemFromObject(tt, "pipelineParams");
		cJSON_DeleteItemFromObject(tt, "primaryContainerName");
		cJSON_DeleteItemFromObject(tt, "primaryPodLabels");
		cJSON_DeleteItemFromObject(tt, "successCondition");
		cJSON_DeleteItemFromObject(tt, "failureCondition");
		cJSON_AddStringToObject(tt, "primaryContainerName", "main");
		cJSON_AddItemToObject(tt, "primaryPodLabels", cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetObjectItem(tt, "primaryPodLabels"), POD_LABEL, "true");
		cJSON_AddStringToObject(tt, "successCondition", "status.[@this].#(phase==\"Succeeded\")#");
		cJSON_AddStringToObject(tt, "failureCondition", "status.[@this].#(phase==\"Failed\")#");
		cJSON_AddItemToObject(tt, "trialSpec", wf);
		wf = NULL;
	}
	rc = kf_yaml_emit(doc, out, err);
out:
	cJSON_Delete(wf);
	cJSON_Delete(doc);
	return rc;
}
