/* kf_rng: a small seeded generator (splitmix64) so that training, sampling
 * and shuffling are the same for the same seed on every platform. */
#ifndef KF_RNG_H
#define KF_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

struct kf_rng {
	uint64_t s;
};

static inline void kf_rng_seed(struct kf_rng *r, uint64_t seed)
{
	r->s = seed ^ 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t kf_rng_next(struct kf_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double kf_rng_uniform(struct kf_rng *r)
{
	return (double)(kf_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n). */
static inline size_t kf_rng_below(struct kf_rng *r, size_t n)
{
	return n ? (size_t)(kf_rng_next(r) % n) : 0;
}

/* Standard normal (Box-Muller). */
static inline double kf_rng_normal(struct kf_rng *r)
{
	double u = kf_rng_uniform(r), v = kf_rng_uniform(r);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Fisher-Yates shuffle of n indices. */
static inline void kf_rng_shuffle(struct kf_rng *r, size_t *idx, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = kf_rng_below(r, i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* FNV-1a 64: the stable hash behind hash buckets and crosses. */
static inline uint64_t kf_hash_bytes(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define KF_HASH_INIT 0xcbf29ce484222325ULL

#endif
