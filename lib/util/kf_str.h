/* kf_str: small string helpers and a string vector. */
#ifndef KF_STR_H
#define KF_STR_H

#include <stdbool.h>
#include <stddef.h>

bool kf_str_starts(const char *s, const char *prefix);
bool kf_str_ends(const char *s, const char *suffix);
bool kf_str_eq(const char *a, const char *b);   /* NULL-safe */

/* Edit distance (optimal string alignment: insert, delete, substitute, swap). */
size_t kf_str_distance(const char *a, const char *b);

/* The candidate closest to word, if close enough to be a likely typo
 * (as git's "did you mean"); NULL otherwise. Borrowed from candidates. */
const char *kf_str_suggest(const char *word, const char *const *candidates, size_t n);

/* Parse a whole string as a number; false on trailing garbage or overflow. */
bool kf_str_to_long(const char *s, long *out);
bool kf_str_to_double(const char *s, double *out);

/* A NULL-terminated, heap-owned vector of heap-owned strings. */
struct kf_strv {
	char **v;     /* v[n] == NULL; NULL while empty */
	size_t n;
	size_t cap;
};

#define KF_STRV_INIT { NULL, 0, 0 }

void kf_strv_push(struct kf_strv *sv, const char *s);        /* copies s */
void kf_strv_push_owned(struct kf_strv *sv, char *s);        /* takes s */
void kf_strv_release(struct kf_strv *sv);
bool kf_strv_has(const struct kf_strv *sv, const char *s);
/* Join with sep into a new string the caller frees. */
char *kf_strv_join(const struct kf_strv *sv, const char *sep);

#endif
