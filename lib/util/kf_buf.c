#include "config.h"

#include "util/kf_buf.h"
#include "util/kf_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kf_buf_init(struct kf_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void kf_buf_release(struct kf_buf *b)
{
	free(b->data);
	kf_buf_init(b);
}

void kf_buf_reset(struct kf_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void kf_buf_grow(struct kf_buf *b, size_t extra)
{
	KF_GROW(b->data, b->cap, b->len + extra + 1);
}

void kf_buf_add(struct kf_buf *b, const void *data, size_t len)
{
	kf_buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void kf_buf_adds(struct kf_buf *b, const char *s)
{
	kf_buf_add(b, s, strlen(s));
}

void kf_buf_addc(struct kf_buf *b, char c)
{
	kf_buf_add(b, &c, 1);
}

/* True when fmt's only conversions are %s and %%: most of kf's formats
 * (names, paths, Argo references), which then skip vsnprintf (~1,000
 * instructions a call, and kf_buf_vprintf calls it twice). */
static int only_strings(const char *fmt)
{
	const char *p;

	for (p = fmt; (p = strchr(p, '%')); p += 2)
		if (p[1] != 's' && p[1] != '%')
			return 0;
	return 1;
}

void kf_buf_vprintf(struct kf_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	if (only_strings(fmt)) {
		const char *p = fmt, *q;

		while ((q = strchr(p, '%'))) {
			const char *s = q[1] == '%' ? "%" : va_arg(ap, const char *);

			if (q > p)
				kf_buf_add(b, p, (size_t)(q - p));
			if (!s)
				s = "(null)";   /* what glibc prints */
			if (*s)
				kf_buf_add(b, s, strlen(s));
			p = q + 2;
		}
		if (*p)
			kf_buf_add(b, p, strlen(p));
		return;
	}

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n <= 0)
		return;
	kf_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void kf_buf_printf(struct kf_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kf_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void kf_buf_add_json_escaped(struct kf_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': kf_buf_adds(b, "\\\""); break;
		case '\\': kf_buf_adds(b, "\\\\"); break;
		case '\n': kf_buf_adds(b, "\\n"); break;
		case '\r': kf_buf_adds(b, "\\r"); break;
		case '\t': kf_buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20)
				kf_buf_printf(b, "\\u%04x", c);
			else
				kf_buf_addc(b, (char)c);
		}
	}
}

void kf_buf_add_html_escaped(struct kf_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': kf_buf_adds(b, "&amp;"); break;
		case '<': kf_buf_adds(b, "&lt;"); break;
		case '>': kf_buf_adds(b, "&gt;"); break;
		case '"': kf_buf_adds(b, "&quot;"); break;
		case '\'': kf_buf_adds(b, "&#39;"); break;
		default: kf_buf_addc(b, *s);
		}
	}
}

const char *kf_buf_str(const struct kf_buf *b)
{
	return b->data ? b->data : "";
}

char *kf_buf_detach(struct kf_buf *b)
{
	char *s = b->data ? b->data : kf_xstrdup("");

	kf_buf_init(b);
	return s;
}
