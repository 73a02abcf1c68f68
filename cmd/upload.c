/* kf upload: send a package (or a spec, compiled) to Kubeflow Pipelines. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "run_remote.h"
#include "remote/kf_kfp.h"
#include "remote/kf_submit.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct kf_opt upload_opts[] = {
	{ 0, "host", KF_OPT_REQUIRED, "URL", "Kubeflow Pipelines endpoint, or a remote named in the config file (default: $KF_HOST)", NULL },
	KF_REMOTE_AUTH_OPTS,
	{ 0, "name", KF_OPT_REQUIRED, "NAME", "pipeline (or version) name (default: the spec's name or the file name)", NULL },
	{ 0, "description", KF_OPT_REQUIRED, "TEXT", "pipeline (or version) description", NULL },
	{ 0, "version-of", KF_OPT_REQUIRED, "PIPELINE", "upload as a new version of PIPELINE (a name or an id)", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static bool is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* --version-of takes an id, or a name looked up on the server. */
static int pipeline_id(struct kf_kfp *kfp, const char *ref, char **id, struct kf_err *err)
{
	cJSON *p = NULL;
	const cJSON *v;
	int rc;

	*id = NULL;
	if (!ref)
		return 0;
	if (is_uuid(ref)) {
		*id = kf_xstrdup(ref);
		return 0;
	}
	rc = kf_kfp_pipeline_find(kfp, ref, &p, err);
	if (rc)
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(p, "id");
	*id = kf_xstrdup(cJSON_IsString(v) ? v->valuestring : "");
	cJSON_Delete(p);
	return 0;
}

static int run_upload(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = { { "ID", "id" }, { "NAME", "name" }, { NULL, NULL } };
	struct kf_remote_session s = { 0 };
	struct kf_submit sub;
	struct kf_kfp_upload up = { 0 };
	cJSON *obj = NULL, *rec = NULL, *it;
	char *pid = NULL;
	bool have_sub = false;
	int rc;

	rc = kf_remote_load(ctx, args->argv[0], &sub, err);
	if (rc)
		goto out;
	have_sub = true;
	rc = kf_remote_session_open(ctx, args, "host", &s, err);
	if (rc)
		goto out;
	rc = pipeline_id(s.kfp, kf_args_get(args, "version-of"), &pid, err);
	if (rc)
		goto out;
	up.filename = sub.filename;
	up.data = kf_buf_str(&sub.package);
	up.len = sub.package.len;
	up.name = kf_args_get(args, "name");
	/* a compiled spec is named after the pipeline, not a temp file */
	if (!up.name && sub.compiled)
		up.name = sub.name;
	up.description = kf_args_get(args, "description");
	up.pipeline_id = pid;
	rc = kf_kfp_upload(s.kfp, &up, &obj, err);
	if (rc || kf_kfp_is_dry_run(s.kfp))
		goto out;
	if (!ctx->output || !strcmp(ctx->output, "table")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
		char *line = kf_xasprintf("%s\n", cJSON_IsString(id) ? id->valuestring : "");

		rc = kf_print_outs(line, err);
		free(line);
		goto out;
	}
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "kind", pid ? "PipelineVersion" : "Pipeline");
	cJSON_ArrayForEach(it, obj)
		cJSON_AddItemToObject(rec, it->string, cJSON_Duplicate(it, 1));
	rc = kf_print_records(ctx, rec, cols, "table|json|yaml|name", err);
out:
	rc = kf_remote_session_close(&s, rc, err);
	if (have_sub)
		kf_submit_release(&sub);
	cJSON_Delete(obj);
	cJSON_Delete(rec);
	free(pid);
	return rc;
}

const struct kf_cmd kf_cmd_upload = {
	.name = "upload",
	.summary = "upload a pipeline package or spec to Kubeflow Pipelines",
	.usage = "upload PKG|SPEC [--host URL] [--name NAME] [--description TEXT] [--version-of PIPELINE] [--dry-run] [options]",
	.description = "Uploads a package (.tar.gz, .zip or an Argo Workflow .yaml) as it is, or\n"
		       "a kf pipeline spec compiled as `kf compile` does, and prints the new\n"
		       "pipeline's id (-o json: the whole object the server returned).",
	.opts = upload_opts,
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_upload,
};
