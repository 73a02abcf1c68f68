/* kf_submit: what `kf upload` and `kf run --remote` send for a file the
 * user names: the package bytes to upload and the Argo Workflow (as JSON
 * text, for a run's workflow_manifest).
 *
 * A package (.tar.gz/.tgz/.zip, or a .yaml/.yml Argo Workflow) is sent as
 * the file holds it, after the checks the API server makes (format by
 * extension and magic bytes, a Workflow inside, at most 32 MiB). A kf
 * pipeline spec (apiVersion kf/v1) is compiled first, to the very bytes
 * `kf compile SPEC -o NAME.tar.gz` writes. */
#ifndef KF_SUBMIT_H
#define KF_SUBMIT_H

#include <stdbool.h>

#include "util/kf_buf.h"

struct kf_err;
struct kf_errlist;

struct kf_submit {
	char *filename;          /* file name to upload under ("pipeline.tar.gz") */
	struct kf_buf package;   /* the bytes to upload */
	char *workflow_json;     /* the Argo Workflow as JSON text */
	char *name;              /* the pipeline's name (spec name or workflow generateName) */
	bool compiled;           /* the input was a spec, compiled here */
};

/* Load path. A spec's errors go to errs (all of them, with their places)
 * and the code is returned with err->msg empty; other errors fill err.
 * store_dir is where https component references are cached (or NULL). */
int kf_submit_load(const char *path, const char *store_dir, struct kf_submit *out, struct kf_errlist *errs,
		   struct kf_err *err);
void kf_submit_release(struct kf_submit *s);

#endif
