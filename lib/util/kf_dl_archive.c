/* The archive_* functions kf calls, forwarding to libarchive.so.13 loaded
 * on first use (see kf_dl.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "util/kf_dl.h"

#define A struct archive *a
#define E struct archive_entry *e

/* X(return type, name, (parameters), (arguments), value when not loaded);
 * XV for the void ones. */
#define ARCHIVE_FUNCS(X, XV) \
	X(struct archive *, archive_read_new, (void), (), NULL) \
	X(struct archive *, archive_write_new, (void), (), NULL) \
	X(struct archive_entry *, archive_entry_new, (void), (), NULL) \
	XV(archive_entry_free, (E), (e)) \
	X(const char *, archive_error_string, (A), (a), lib.msg) \
	X(int, archive_read_free, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_filter_all, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_filter_gzip, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_format_raw, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_format_tar, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_format_zip, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_read_open, (A, void *data, archive_open_callback *o, archive_read_callback *r, \
				   archive_close_callback *c), (a, data, o, r, c), ARCHIVE_FATAL) \
	X(int, archive_read_open_memory, (A, const void *buf, size_t size), (a, buf, size), ARCHIVE_FATAL) \
	X(int, archive_read_next_header, (A, struct archive_entry **ep), (a, ep), ARCHIVE_FATAL) \
	X(la_ssize_t, archive_read_data, (A, void *buf, size_t size), (a, buf, size), ARCHIVE_FATAL) \
	X(int, archive_write_free, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_write_close, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_write_add_filter_gzip, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_write_set_format_ustar, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_write_set_format_zip, (A), (a), ARCHIVE_FATAL) \
	X(int, archive_write_set_bytes_in_last_block, (A, int n), (a, n), ARCHIVE_FATAL) \
	X(int, archive_write_set_filter_option, (A, const char *m, const char *o, const char *v), \
	  (a, m, o, v), ARCHIVE_FATAL) \
	X(int, archive_write_set_format_option, (A, const char *m, const char *o, const char *v), \
	  (a, m, o, v), ARCHIVE_FATAL) \
	X(int, archive_write_open, (A, void *data, archive_open_callback *o, archive_write_callback *w, \
				    archive_close_callback *c), (a, data, o, w, c), ARCHIVE_FATAL) \
	X(int, archive_write_header, (A, E), (a, e), ARCHIVE_FATAL) \
	X(la_ssize_t, archive_write_data, (A, const void *buf, size_t size), (a, buf, size), ARCHIVE_FATAL) \
	X(__LA_MODE_T, archive_entry_filetype, (E), (e), 0) \
	X(const char *, archive_entry_pathname, (E), (e), NULL) \
	X(const char *, archive_entry_hardlink, (E), (e), NULL) \
	X(const char *, archive_entry_symlink, (E), (e), NULL) \
	X(la_int64_t, archive_entry_size, (E), (e), 0) \
	XV(archive_entry_set_filetype, (E, unsigned int t), (e, t)) \
	XV(archive_entry_set_pathname, (E, const char *p), (e, p)) \
	XV(archive_entry_set_perm, (E, __LA_MODE_T m), (e, m)) \
	XV(archive_entry_set_size, (E, la_int64_t n), (e, n)) \
	XV(archive_entry_set_uid, (E, la_int64_t n), (e, n)) \
	XV(archive_entry_set_gid, (E, la_int64_t n), (e, n)) \
	XV(archive_entry_set_mtime, (E, time_t t, long ns), (e, t, ns))

#define ENUM_X(ret, name, params, args, fail) F_##name,
#define ENUM_XV(name, params, args) F_##name,
enum { ARCHIVE_FUNCS(ENUM_X, ENUM_XV) F_archive_set_error, F_N };

#define NAME_X(ret, name, params, args, fail) #name,
#define NAME_XV(name, params, args) #name,
static const char *const names[F_N] = { ARCHIVE_FUNCS(NAME_X, NAME_XV) "archive_set_error" };

static void *fns[F_N];
static struct kf_dl_lib lib = { "libarchive.so.13", "libarchive13", names, fns, F_N, NULL, "" };
KF_DL_LOADER(kf_dl_archive)

#define DEF_X KF_DL_FORWARD
#define DEF_XV KF_DL_FORWARD_VOID
ARCHIVE_FUNCS(DEF_X, DEF_XV)

/* printf-like: format here, pass the text on. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!loaded())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	((void (*)(struct archive *, int, const char *, ...))fns[F_archive_set_error])(a, err, "%s", msg);
}
