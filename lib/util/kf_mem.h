/* kf_mem: allocation that never returns NULL.
 * Allocation failure is not an error a caller can handle usefully here: it
 * prints one line to stderr and aborts (STYLE.md, Memory). */
#ifndef KF_MEM_H
#define KF_MEM_H

#include <stddef.h>

void *kf_xmalloc(size_t size);
void *kf_xcalloc(size_t n, size_t size);
void *kf_xrealloc(void *ptr, size_t size);
/* Grow an array of n elements of elem size to hold at least want: doubles. */
void *kf_xgrow(void *ptr, size_t elem, size_t *cap, size_t want);
char *kf_xstrdup(const char *s);
char *kf_xstrndup(const char *s, size_t n);
char *kf_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define KF_GROW(ptr, cap, want) ((ptr) = kf_xgrow((ptr), sizeof *(ptr), &(cap), (want)))

#endif
