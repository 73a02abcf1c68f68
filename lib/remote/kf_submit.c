/* kf_submit: the package and workflow sent for a SPEC or PKG path. */
#include "config.h"

#include "argo/kf_argo_emit.h"
#include "package/kf_package.h"
#include "spec/kf_pipeline.h"
#include "remote/kf_submit.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void kf_submit_release(struct kf_submit *s)
{
	if (!s)
		return;
	free(s->filename);
	kf_buf_release(&s->package);
	free(s->workflow_json);
	free(s->name);
	memset(s, 0, sizeof *s);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Check the workflow YAML as the API server does and keep it as JSON. */
static int take_workflow(const char *path, const struct kf_buf *yaml, struct kf_submit *out,
			 struct kf_err *err)
{
	struct kf_ydoc doc;
	cJSON *wf = NULL;
	const cJSON *meta;
	const char *gen;
	int rc;

	rc = kf_yaml_load(&doc, path, kf_buf_str(yaml), yaml->len, err);
	if (rc)
		return rc;
	wf = doc.root ? kf_ynode_to_json(doc.root) : NULL;
	if (!cJSON_IsObject(wf) || !kf_str_eq(jstr(wf, "apiVersion"), "argoproj.io/v1alpha1") ||
	    !kf_str_eq(jstr(wf, "kind"), "Workflow")) {
		rc = kf_err_at(err, KF_EINPUT, path, doc.root ? doc.root->line : 1, doc.root ? doc.root->col : 1,
			       "not an Argo Workflow (apiVersion argoproj.io/v1alpha1, kind Workflow) "
			       "nor a kf pipeline spec");
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(wf, "metadata");
	gen = jstr(meta, "name") ? jstr(meta, "name") : jstr(meta, "generateName");
	if (gen) {
		out->name = kf_xstrdup(gen);
		/* generateName "my-pipeline-" names the pipeline "my-pipeline" */
		if (!jstr(meta, "name") && kf_str_ends(out->name, "-"))
			out->name[strlen(out->name) - 1] = '\0';
	}
	out->workflow_json = cJSON_PrintUnformatted(wf);
out:
	cJSON_Delete(wf);
	kf_ydoc_release(&doc);
	return rc;
}

/* A kf spec says apiVersion kf/v1 at its top. */
static bool is_spec(const char *path, const struct kf_buf *text)
{
	struct kf_ydoc doc;
	struct kf_err ignored;
	const struct kf_ynode *v;
	bool spec = false;

	if (kf_yaml_load(&doc, path, kf_buf_str(text), text->len, &ignored))
		return false;
	v = kf_ynode_get(doc.root, "apiVersion");
	spec = v && kf_ynode_is_scalar(v) && kf_str_starts(v->value, "kf/");
	kf_ydoc_release(&doc);
	return spec;
}

static int load_package(const char *path, struct kf_submit *out, struct kf_err *err)
{
	struct kf_buf yaml = KF_BUF_INIT;
	int rc;

	rc = kf_fs_read_file(path, &out->package, err);
	if (rc)
		goto out;
	if (out->package.len > KF_PACKAGE_MAX_SIZE) {
		rc = kf_err_set(err, KF_EINPUT, "\"%s\" is %zu bytes; the API server takes at most 32 MiB", path,
				out->package.len);
		goto out;
	}
	rc = kf_package_read_mem(path, kf_buf_str(&out->package), out->package.len, &yaml, NULL, err);
	if (rc)
		goto out;
	rc = take_workflow(path, &yaml, out, err);
out:
	kf_buf_release(&yaml);
	return rc;
}

/* Compile as `kf compile SPEC -o NAME.tar.gz` does: same YAML, same
 * deterministic archive (mtime 0), same file name. */
static int compile_spec(const char *path, const char *store_dir, struct kf_submit *out,
			struct kf_errlist *errs, struct kf_err *err)
{
	struct kf_pipeline_opts opts = { .store_dir = store_dir };
	struct kf_argo_emit_opts eopts = { 0 };
	struct kf_pipeline *p = NULL;
	struct kf_buf yaml = KF_BUF_INIT;
	const char *base = kf_path_basename(path);
	size_t n = strlen(base);
	int rc;

	rc = kf_pipeline_load(&p, path, &opts, errs);
	if (rc) {
		kf_err_clear(err);
		err->code = rc;
		goto out;
	}
	rc = kf_argo_emit_yaml(p, &eopts, &yaml, err);
	if (!rc)
		rc = kf_package_encode(KF_PACKAGE_TGZ, kf_buf_str(&yaml), yaml.len, 0, &out->package, err);
	if (rc)
		goto out;
	n -= kf_str_ends(base, ".yaml") ? 5 : kf_str_ends(base, ".yml") ? 4 : 0;
	out->filename = kf_xasprintf("%.*s.tar.gz", (int)n, base);
	out->compiled = true;
	rc = take_workflow(path, &yaml, out, err);
	if (!rc && p->name) {
		free(out->name);
		out->name = kf_xstrdup(p->name);
	}
out:
	kf_buf_release(&yaml);
	kf_pipeline_free(p);
	return rc;
}

int kf_submit_load(const char *path, const char *store_dir, struct kf_submit *out, struct kf_errlist *errs,
		   struct kf_err *err)
{
	enum kf_package_format fmt;
	struct kf_buf text = KF_BUF_INIT;
	int rc;

	memset(out, 0, sizeof *out);
	rc = kf_package_format_of(path, &fmt, err);
	if (rc)
		return rc;
	if (fmt == KF_PACKAGE_YAML) {
		rc = kf_fs_read_file(path, &text, err);
		if (rc)
			goto out;
		if (is_spec(path, &text)) {
			rc = compile_spec(path, store_dir, out, errs, err);
			goto out;
		}
	}
	out->filename = kf_xstrdup(kf_path_basename(path));
	rc = load_package(path, out, err);
out:
	kf_buf_release(&text);
	if (rc)
		kf_submit_release(out);
	return rc;
}
