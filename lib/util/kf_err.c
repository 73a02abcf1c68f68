#include "config.h"

#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kf_err_clear(struct kf_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->sys_errno = 0;
	err->file[0] = '\0';
	err->line = err->col = 0;
	err->msg[0] = '\0';
}

int kf_err_vset(struct kf_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->sys_errno = 0;
	err->file[0] = '\0';
	err->line = err->col = 0;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	return code;
}

int kf_err_set(struct kf_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kf_err_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int kf_err_at(struct kf_err *err, int code, const char *file, int line, int col,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kf_err_vset(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		snprintf(err->file, sizeof err->file, "%s", file ? file : "");
		err->line = line;
		err->col = col;
	}
	return code;
}

int kf_err_sys(struct kf_err *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	kf_err_vset(err, KF_EIO, fmt, ap);
	va_end(ap);
	if (err) {
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(saved));
		err->sys_errno = saved;
	}
	errno = saved;
	return KF_EIO;
}

void kf_err_prefix(struct kf_err *err, const char *fmt, ...)
{
	char prefix[256], old[KF_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
}

int kf_err_exit_status(int code)
{
	switch (code) {
	case KF_OK:
		return 0;
	case KF_EFAIL:
		return 1;
	case KF_EUSAGE:
	case KF_EINPUT:
	case KF_ENOTFOUND:
		return 2;
	case KF_EINTR:
		return 130;
	default:
		return 3;
	}
}

void kf_err_format(const struct kf_err *err, char *buf, size_t size)
{
	if (err->file[0] && err->line > 0)
		snprintf(buf, size, "%s:%d:%d: error: %s", err->file, err->line,
			 err->col > 0 ? err->col : 1, err->msg);
	else if (err->file[0])
		snprintf(buf, size, "%s: error: %s", err->file, err->msg);
	else
		snprintf(buf, size, "%s", err->msg);
}

void kf_errlist_add(struct kf_errlist *list, const struct kf_err *err)
{
	KF_GROW(list->items, list->cap, list->n + 1);
	list->items[list->n++] = *err;
}

void kf_errlist_release(struct kf_errlist *list)
{
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}
