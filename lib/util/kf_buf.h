/* kf_buf: a growable byte buffer, always NUL-terminated.
 * A zero-initialised struct kf_buf (KF_BUF_INIT) is an empty buffer. */
#ifndef KF_BUF_H
#define KF_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kf_buf {
	char *data;   /* NUL-terminated, NULL while empty and never grown */
	size_t len;
	size_t cap;
};

#define KF_BUF_INIT { NULL, 0, 0 }

void kf_buf_init(struct kf_buf *b);
void kf_buf_release(struct kf_buf *b);
void kf_buf_reset(struct kf_buf *b);          /* len = 0, keeps memory */
void kf_buf_grow(struct kf_buf *b, size_t extra);
void kf_buf_add(struct kf_buf *b, const void *data, size_t len);
void kf_buf_adds(struct kf_buf *b, const char *s);
void kf_buf_addc(struct kf_buf *b, char c);
void kf_buf_printf(struct kf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kf_buf_vprintf(struct kf_buf *b, const char *fmt, va_list ap);
/* Append s with JSON string escaping, without the surrounding quotes. */
void kf_buf_add_json_escaped(struct kf_buf *b, const char *s);
/* Append s with HTML/XML escaping (& < > " '). */
void kf_buf_add_html_escaped(struct kf_buf *b, const char *s);
/* "" rather than NULL for an empty buffer. */
const char *kf_buf_str(const struct kf_buf *b);
/* Hand the string to the caller, who frees it; the buffer is emptied. */
char *kf_buf_detach(struct kf_buf *b);

#endif
