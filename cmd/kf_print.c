#include "config.h"

#include "kf_print.h"
#include "kf_cmd.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *red(const struct kf_ctx *ctx)
{
	return ctx && ctx->color ? "\033[1;31m" : "";
}

static const char *yellow(const struct kf_ctx *ctx)
{
	return ctx && ctx->color ? "\033[1;33m" : "";
}

static const char *reset(const struct kf_ctx *ctx)
{
	return ctx && ctx->color ? "\033[0m" : "";
}

/* The source line under a spec error, then a caret under the token. */
static void print_source_line(const struct kf_err *err)
{
	char *line = NULL;
	size_t cap = 0, n, i, width;
	ssize_t len;
	int lineno = 0;
	FILE *f;

	f = fopen(err->file, "r");
	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) >= 0)
		if (++lineno == err->line)
			break;
	fclose(f);
	if (lineno != err->line || len < 0) {
		free(line);
		return;
	}
	n = (size_t)len;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	line[n] = '\0';
	fprintf(stderr, "  %s\n  ", line);
	for (i = 0; i + 1 < (size_t)err->col && i < n; i++)
		fputc(line[i] == '\t' ? '\t' : ' ', stderr);
	/* underline the token the column points at */
	width = 0;
	for (i = (size_t)err->col - 1; i < n && !strchr(" \t,:]}#", line[i]); i++)
		width++;
	if (!width)
		width = 1;
	while (width--)
		fputc('^', stderr);
	fputc('\n', stderr);
	free(line);
}

void kf_print_error(const struct kf_ctx *ctx, const struct kf_err *err)
{
	if (err->file[0] && err->line > 0) {
		fprintf(stderr, "%s:%d:%d: %serror:%s %s\n", err->file, err->line,
			err->col > 0 ? err->col : 1, red(ctx), reset(ctx), err->msg);
		if (err->col > 0)
			print_source_line(err);
	} else if (err->file[0]) {
		fprintf(stderr, "%s: %serror:%s %s\n", err->file, red(ctx), reset(ctx), err->msg);
	} else {
		fprintf(stderr, "kf: %serror:%s %s\n", red(ctx), reset(ctx),
			err->msg[0] ? err->msg : "unknown error");
	}
}

void kf_print_errors(const struct kf_ctx *ctx, const struct kf_errlist *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		kf_print_error(ctx, &list->items[i]);
	if (list->n > 1)
		fprintf(stderr, "kf: %zu errors\n", list->n);
}

void kf_print_warning(const struct kf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kf: %swarning:%s ", yellow(ctx), reset(ctx));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void kf_print_info(const struct kf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx && ctx->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int kf_print_out(const void *data, size_t len, struct kf_err *err)
{
	if (len && fwrite(data, 1, len, stdout) != len)
		return kf_err_sys(err, "cannot write to standard output");
	return 0;
}

int kf_print_outs(const char *s, struct kf_err *err)
{
	return kf_print_out(s, strlen(s), err);
}

int kf_print_buf(const struct kf_buf *b, struct kf_err *err)
{
	return kf_print_out(kf_buf_str(b), b->len, err);
}

int kf_print_records(const struct kf_ctx *ctx, const cJSON *doc, const struct kf_column *cols,
		     const char *formats, struct kf_err *err)
{
	struct kf_buf out = KF_BUF_INIT;
	int rc;

	rc = kf_output_check(ctx->output, formats ? formats : "table|json|yaml|name", err);
	if (!rc)
		rc = kf_output_render(&out, ctx->output, doc, cols, err);
	if (!rc)
		rc = kf_print_buf(&out, err);
	kf_buf_release(&out);
	return rc;
}

int kf_print_flush(struct kf_err *err)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return kf_err_sys(err, "cannot write to standard output");
	return 0;
}

int kf_print_finish(const struct kf_ctx *ctx, int rc, const struct kf_err *err)
{
	struct kf_err flush_err;

	kf_err_clear(&flush_err);
	if (rc) {
		/* a reader that went away (kf ... | head -1) is not worth a message */
		if (err->msg[0] && err->sys_errno != EPIPE)
			kf_print_error(ctx, err);
		return kf_err_exit_status(err->code ? err->code : rc);
	}
	if (kf_print_flush(&flush_err)) {
		if (flush_err.sys_errno != EPIPE)
			kf_print_error(ctx, &flush_err);
		return kf_err_exit_status(KF_EIO);
	}
	return 0;
}
