/* kf_strmap: open-addressing string map. */
#include "config.h"

#include "ml/kf_rng.h"
#include "ml/kf_strmap.h"
#include "util/kf_mem.h"

#include <stdlib.h>
#include <string.h>

static size_t slot(const struct kf_strmap *m, const char *k)
{
	size_t i = (size_t)kf_hash_bytes(k, strlen(k), KF_HASH_INIT) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], k))
		i = (i + 1) & (m->cap - 1);
	return i;
}

size_t *kf_strmap_get(const struct kf_strmap *m, const char *key)
{
	size_t i;

	if (!m || !m->cap)
		return NULL;
	i = slot(m, key);
	return m->keys[i] ? &m->vals[i] : NULL;
}

size_t *kf_strmap_put(struct kf_strmap *m, const char *key)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct kf_strmap big = { NULL, NULL, m->cap ? m->cap * 2 : 64, m->n };
		size_t j;

		big.keys = kf_xcalloc(big.cap, sizeof *big.keys);
		big.vals = kf_xcalloc(big.cap, sizeof *big.vals);
		for (j = 0; j < m->cap; j++)
			if (m->keys[j]) {
				i = slot(&big, m->keys[j]);
				big.keys[i] = m->keys[j];
				big.vals[i] = m->vals[j];
			}
		free(m->keys);
		free(m->vals);
		*m = big;
	}
	i = slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = kf_xstrdup(key);
		m->vals[i] = 0;
		m->n++;
	}
	return &m->vals[i];
}

void kf_strmap_release(struct kf_strmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}
