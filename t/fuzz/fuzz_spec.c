/* libFuzzer target: the spec + component loader, then the Argo emitter.
 *
 *   make fuzz-spec FUZZ_TIME=60      (configure found clang)
 *
 * Component refs stay local (no network: offline, no store); a ref to a
 * special file is refused by the loader itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "argo/kf_argo_emit.h"
#include "spec/kf_pipeline.h"
#include "util/kf_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_pipeline_opts opts = { .offline = true };
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline *p = NULL;
	struct kf_buf out = KF_BUF_INIT;
	struct kf_err err;

	if (kf_pipeline_load_text(&p, "fuzz.yaml", (const char *)data, size, &opts, &errs) == 0) {
		kf_err_clear(&err);
		kf_argo_emit_yaml(p, NULL, &out, &err);
	}
	kf_buf_release(&out);
	kf_pipeline_free(p);
	kf_errlist_release(&errs);
	return 0;
}
