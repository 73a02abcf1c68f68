/* kf_print: the only place that writes messages: errors and warnings to
 * stderr (with the source line and a caret for spec errors), results to
 * stdout with write errors detected (a closed pipe is an error, not a crash). */
#ifndef KF_PRINT_H
#define KF_PRINT_H

#include <cjson/cJSON.h>

#include "util/kf_err.h"
#include "util/kf_output.h"

struct kf_ctx;
struct kf_buf;

/* "kf: error: msg", or "file:l:c: error: msg" + source line + caret. */
void kf_print_error(const struct kf_ctx *ctx, const struct kf_err *err);
void kf_print_errors(const struct kf_ctx *ctx, const struct kf_errlist *list);
void kf_print_warning(const struct kf_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line to stderr unless -q (progress, notes). */
void kf_print_info(const struct kf_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write to stdout; 0, or KF_EIO when stdout is closed or full. */
int kf_print_out(const void *data, size_t len, struct kf_err *err);
int kf_print_outs(const char *s, struct kf_err *err);
int kf_print_buf(const struct kf_buf *b, struct kf_err *err);
/* Render doc with ctx->output (checked against formats) and write it. */
int kf_print_records(const struct kf_ctx *ctx, const cJSON *doc, const struct kf_column *cols,
		     const char *formats, struct kf_err *err);
/* Flush stdout at exit and report a failed write. */
int kf_print_flush(struct kf_err *err);

/* Exit status for a command result, after printing err when rc != 0. */
int kf_print_finish(const struct kf_ctx *ctx, int rc, const struct kf_err *err);

#endif
