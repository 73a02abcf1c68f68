/* kf_prng: xoshiro256** (Blackman and Vigna) seeded with splitmix64. */
#include "config.h"

#include "tune/kf_prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void kf_prng_seed(struct kf_prng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	/* a spare normal from Box-Muller is not kept: state is only s[] */
}

uint64_t kf_prng_next(struct kf_prng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double kf_prng_uniform(struct kf_prng *r)
{
	return (double)(kf_prng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t kf_prng_below(struct kf_prng *r, uint64_t n)
{
	/* rejection keeps it unbiased */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = kf_prng_next(r);
	while (x >= lim);
	return x % n;
}

double kf_prng_normal(struct kf_prng *r)
{
	double u1, u2;

	do
		u1 = kf_prng_uniform(r);
	while (u1 <= 0.0);
	u2 = kf_prng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
