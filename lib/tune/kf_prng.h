/* kf_prng: the one seeded pseudo-random generator of lib/tune.
 *
 * xoshiro256** seeded through splitmix64, so every algorithm is a pure
 * function of its random_state and the trials seen so far: the same seed
 * gives the same suggestions on every machine. */
#ifndef KF_PRNG_H
#define KF_PRNG_H

#include <stdint.h>

struct kf_prng {
	uint64_t s[4];
};

/* Seed from one number; stream separates independent uses of one seed
 * (trial index, CMA-ES generation, ...). */
void kf_prng_seed(struct kf_prng *r, uint64_t seed, uint64_t stream);
uint64_t kf_prng_next(struct kf_prng *r);
/* Uniform in [0, 1) with 53 random bits. */
double kf_prng_uniform(struct kf_prng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t kf_prng_below(struct kf_prng *r, uint64_t n);
/* Standard normal (Box-Muller, both values used). */
double kf_prng_normal(struct kf_prng *r);

#endif
