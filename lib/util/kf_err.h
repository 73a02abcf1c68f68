/* kf_err: the one error type of libkf.
 *
 * Fallible functions return 0 on success or a negative KF_E* code, and fill
 * a caller-owned struct kf_err. The struct is fixed-size (no heap), so it can
 * be filled anywhere, including on allocation paths. The command layer maps
 * the code to an exit status with kf_err_exit_status() and prints it. */
#ifndef KF_ERR_H
#define KF_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum kf_errcode {
	KF_OK = 0,
	KF_EFAIL = -1,   /* the job ran and failed: a step, anomalies, not blessed (exit 1) */
	KF_EUSAGE = -2,  /* bad usage: unknown flag, wrong arguments (exit 2) */
	KF_EINPUT = -3,  /* invalid input: spec error, bad data, unknown id (exit 2) */
	KF_ENOTFOUND = -4, /* a named thing does not exist (exit 2) */
	KF_EENV = -5,    /* environment: missing dependency, network, remote refused (exit 3) */
	KF_EIO = -6,     /* a file or system call failed (exit 3) */
	KF_EINTR = -7,   /* interrupted by a signal (exit 130) */
};

#define KF_ERR_MSG_MAX 1024
#define KF_ERR_FILE_MAX 512

struct kf_err {
	int code;                    /* enum kf_errcode, 0 when no error */
	int sys_errno;               /* errno when a system call failed, else 0 */
	char file[KF_ERR_FILE_MAX];  /* input file the error is in, "" when none */
	int line, col;               /* 1-based place in file, 0 when unknown */
	char msg[KF_ERR_MSG_MAX];    /* lowercase, no final period */
};

void kf_err_clear(struct kf_err *err);

/* Set code and message; returns code so callers can `return kf_err_set(...)`. */
int kf_err_set(struct kf_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kf_err_vset(struct kf_err *err, int code, const char *fmt, va_list ap);

/* Same, with the place in a user-written file. */
int kf_err_at(struct kf_err *err, int code, const char *file, int line, int col,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A failed system call: appends ": strerror(errno)" and records errno. */
int kf_err_sys(struct kf_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the message with "CONTEXT: " (e.g. the step or request name). */
void kf_err_prefix(struct kf_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Exit status for a code, as DESIGN.md section 1 defines them. */
int kf_err_exit_status(int code);

/* Render "file:line:col: error: msg" or "msg" into buf. */
void kf_err_format(const struct kf_err *err, char *buf, size_t size);

/* Several errors collected before giving up (spec validation reports all it
 * finds). The list owns its array; each entry is a full kf_err. */
struct kf_errlist {
	struct kf_err *items;
	size_t n, cap;
};

#define KF_ERRLIST_INIT { NULL, 0, 0 }

void kf_errlist_add(struct kf_errlist *list, const struct kf_err *err);
void kf_errlist_release(struct kf_errlist *list);

#endif
