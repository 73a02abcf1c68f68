/* kf_strmap: a string -> size_t hash map (open addressing, FNV-1a), for
 * vocabularies, value counts and id lookups. Keys are copied. Lookups on a
 * map nobody writes are safe from many threads. */
#ifndef KF_STRMAP_H
#define KF_STRMAP_H

#include <stddef.h>

struct kf_strmap {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

#define KF_STRMAP_INIT { NULL, NULL, 0, 0 }

/* The value slot of key, or NULL. */
size_t *kf_strmap_get(const struct kf_strmap *m, const char *key);
/* The value slot of key, added with value 0 when new. */
size_t *kf_strmap_put(struct kf_strmap *m, const char *key);
void kf_strmap_release(struct kf_strmap *m);

#endif
