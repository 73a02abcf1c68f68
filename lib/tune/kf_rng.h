/* kf_rng: the one seeded pseudo-random generator of lib/tune.
 *
 * xoshiro256** seeded through splitmix64, so every algorithm is a pure
 * function of its random_state and the trials seen so far: the same seed
 * gives the same suggestions on every machine. */
#ifndef KF_RNG_H
#define KF_RNG_H

#include <stdint.h>

struct kf_rng {
	uint64_t s[4];
};

/* Seed from one number; stream separates independent uses of one seed
 * (trial index, CMA-ES generation, ...). */
void kf_rng_seed(struct kf_rng *r, uint64_t seed, uint64_t stream);
uint64_t kf_rng_next(struct kf_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double kf_rng_uniform(struct kf_rng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t kf_rng_below(struct kf_rng *r, uint64_t n);
/* Standard normal (Box-Muller, both values used). */
double kf_rng_normal(struct kf_rng *r);

#endif
