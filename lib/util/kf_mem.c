#include "config.h"

#include "util/kf_mem.h"
#include "util/kf_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
	fprintf(stderr, "kf: fatal: out of memory allocating %zu bytes\n", size);
	abort();
}

void *kf_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

void *kf_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory(n * size);
	return p;
}

void *kf_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

void *kf_xgrow(void *ptr, size_t elem, size_t *cap, size_t want)
{
	size_t n = *cap;

	if (want <= n)
		return ptr;
	if (n < 8)
		n = 8;
	while (n < want)
		n *= 2;
	if (n > ((size_t)-1) / elem)
		out_of_memory((size_t)-1);
	ptr = kf_xrealloc(ptr, n * elem);
	*cap = n;
	return ptr;
}

char *kf_xstrdup(const char *s)
{
	return kf_xstrndup(s, strlen(s));
}

char *kf_xstrndup(const char *s, size_t n)
{
	char *p = kf_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *kf_xasprintf(const char *fmt, ...)
{
	struct kf_buf b = KF_BUF_INIT;
	va_list ap;

	/* kf_buf_vprintf copies text-and-%s formats without vsnprintf */
	va_start(ap, fmt);
	kf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return b.data ? kf_buf_detach(&b) : kf_xstrdup("");
}
