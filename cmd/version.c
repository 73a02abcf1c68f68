/* kf version: the version and the features built in. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *features(void)
{
	cJSON *f = cJSON_CreateArray();

	cJSON_AddItemToArray(f, cJSON_CreateString("yaml"));
	cJSON_AddItemToArray(f, cJSON_CreateString("json"));
	cJSON_AddItemToArray(f, cJSON_CreateString("archive"));
	cJSON_AddItemToArray(f, cJSON_CreateString("curl"));
	cJSON_AddItemToArray(f, cJSON_CreateString("sqlite"));
#ifdef KF_HAVE_MICROHTTPD
	cJSON_AddItemToArray(f, cJSON_CreateString("serve"));
#endif
#ifdef KF_HAVE_XGBOOST
	cJSON_AddItemToArray(f, cJSON_CreateString("xgboost"));
#endif
#ifdef KF_HAVE_CUDA
	cJSON_AddItemToArray(f, cJSON_CreateString("cuda"));
#endif
	return f;
}

static int run_version(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "NAME", "name" }, { "VERSION", "version" }, { "FEATURES", "features" }, { NULL, NULL },
	};
	cJSON *doc;
	int rc;

	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "Version");
	cJSON_AddStringToObject(doc, "name", "kf");
	cJSON_AddStringToObject(doc, "version", PACKAGE_VERSION);
	cJSON_AddItemToObject(doc, "features", features());
	if (!ctx->output || !strcmp(ctx->output, "table")) {
		char *list = kf_json_text(cJSON_GetObjectItem(doc, "features"));

		printf("kf %s\nfeatures: %s\n", PACKAGE_VERSION, list);
		free(list);
		rc = 0;
	} else {
		rc = kf_print_records(ctx, doc, cols, "table|json|yaml", err);
	}
	cJSON_Delete(doc);
	return rc;
}

const struct kf_cmd kf_cmd_version = {
	.name = "version",
	.summary = "print the version and the features built in",
	.usage = "version [-o table|json|yaml]",
	.formats = "table|json|yaml",
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_version,
};
