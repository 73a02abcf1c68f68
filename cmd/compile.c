/* kf compile: a pipeline spec to an Argo Workflow package. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"

#include <stdlib.h>
#include <string.h>

#include "argo/kf_argo_emit.h"
#include "package/kf_package.h"
#include "spec/kf_pipeline.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

static const struct kf_opt compile_opts[] = {
	{ 'o', "output", KF_OPT_REQUIRED, "FILE",
	  "write the package to FILE (.tar.gz, .tgz, .zip, .yaml, .yml; - for stdout)", "file" },
	{ 'p', "param", KF_OPT_REQUIRED, "NAME=VALUE", "set a parameter's default (repeatable)", NULL },
	{ 0, "check", KF_OPT_NONE, NULL, "validate only; write nothing", NULL },
	{ 0, "timestamp", KF_OPT_NONE, NULL, "record the compilation time (output is then not reproducible)",
	  NULL },
	{ 0, NULL, KF_OPT_NONE, NULL, NULL, NULL },
};

/* SPEC.yaml -> SPEC.tar.gz beside it. */
static char *default_output(const char *spec)
{
	size_t n = strlen(spec);

	if (kf_str_ends(spec, ".yaml"))
		n -= 5;
	else if (kf_str_ends(spec, ".yml"))
		n -= 4;
	return kf_xasprintf("%.*s.tar.gz", (int)n, spec);
}

static int run_compile(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline *p = NULL;
	struct kf_pipeline_opts opts = { 0 };
	struct kf_argo_emit_opts eopts = { 0 };
	struct kf_buf yaml = KF_BUF_INIT;
	const char *spec = args->argv[0], *output = kf_args_get(args, "output");
	enum kf_package_format fmt;
	char *store = NULL, *path = NULL;
	int64_t now = kf_time_wall_ms();
	int rc;

	/* a bad -o is a usage error found before any work */
	if (output && strcmp(output, "-") && (rc = kf_package_format_of(output, &fmt, err)))
		return rc;
	if (!output && !strcmp(spec, "-"))
		return kf_err_set(err, KF_EUSAGE, "a spec read from standard input needs -o FILE");
	store = kf_ctx_store_dir(ctx);
	opts.store_dir = store;
	opts.overrides = kf_args_all(args, "param");
	rc = kf_pipeline_load(&p, spec, &opts, &errs);
	if (rc) {
		kf_print_errors(ctx, &errs);
		goto out;
	}
	if (kf_args_has(args, "check"))
		goto out;
	if (kf_args_has(args, "timestamp"))
		eopts.timestamp_ms = now;
	rc = kf_argo_emit_yaml(p, &eopts, &yaml, err);
	if (rc)
		goto out;
	if (output && !strcmp(output, "-")) {
		rc = kf_print_buf(&yaml, err);
		goto out;
	}
	path = output ? kf_xstrdup(output) : default_output(spec);
	rc = kf_package_write(path, kf_buf_str(&yaml), yaml.len,
			      kf_args_has(args, "timestamp") ? now / 1000 : 0, err);
	if (!rc && ctx->verbose)
		kf_print_info(ctx, "wrote %s", path);
out:
	kf_buf_release(&yaml);
	kf_pipeline_free(p);
	kf_errlist_release(&errs);
	free(store);
	free(path);
	return rc;
}

const struct kf_cmd kf_cmd_compile = {
	.name = "compile",
	.summary = "compile a pipeline spec to an Argo Workflow package",
	.usage = "compile SPEC [-o FILE] [-p NAME=VALUE]... [--check] [--timestamp]",
	.description = "Validate SPEC (a kf/v1 Pipeline, see kf-pipeline(5)) and write the Argo Workflow\n"
		       "that the Kubeflow Pipelines v1 compiler would write for it, packed by the\n"
		       "extension of FILE. The default FILE is SPEC with .tar.gz for .yaml.",
	.opts = compile_opts,
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_OWN_OUTPUT,
	.run = run_compile,
};
