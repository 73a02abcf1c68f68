/* kf_sobol: Sobol points in Gray code order. */
#include "config.h"

#include "tune/kf_sobol.h"

/* Joe and Kuo (2008), new-joe-kuo-6.21201: for dimensions 2.., the degree s
 * of the primitive polynomial, its coefficients a, and the initial
 * direction numbers m_1..m_s. Dimension 1 is the van der Corput sequence. */
static const struct {
	unsigned s, a;
	unsigned m[8];
} dirs[KF_SOBOL_MAX_DIM - 1] = {
	{ 1, 0, { 1 } },
	{ 2, 1, { 1, 3 } },
	{ 3, 1, { 1, 3, 1 } },
	{ 3, 2, { 1, 1, 1 } },
	{ 4, 1, { 1, 1, 3, 3 } },
	{ 4, 4, { 1, 3, 5, 13 } },
	{ 5, 2, { 1, 1, 5, 5, 17 } },
	{ 5, 4, { 1, 1, 5, 5, 5 } },
	{ 5, 7, { 1, 1, 7, 11, 19 } },
	{ 5, 11, { 1, 1, 5, 1, 1 } },
	{ 5, 13, { 1, 1, 1, 3, 11 } },
	{ 5, 14, { 1, 3, 5, 5, 31 } },
	{ 6, 1, { 1, 3, 3, 9, 7, 49 } },
	{ 6, 13, { 1, 1, 1, 15, 21, 21 } },
	{ 6, 16, { 1, 3, 1, 13, 27, 49 } },
	{ 6, 19, { 1, 1, 1, 15, 7, 5 } },
	{ 6, 22, { 1, 3, 1, 15, 13, 25 } },
	{ 6, 25, { 1, 1, 5, 5, 19, 61 } },
	{ 7, 1, { 1, 3, 7, 11, 23, 15, 103 } },
	{ 7, 4, { 1, 3, 7, 13, 13, 15, 69 } },
};

#define BITS 32

/* Direction numbers v_1..v_32 of dimension j (0-based), scaled by 2^32. */
static void directions(size_t j, uint32_t v[BITS])
{
	if (j == 0) {
		for (unsigned i = 0; i < BITS; i++)
			v[i] = (uint32_t)1 << (BITS - 1 - i);
		return;
	}
	unsigned s = dirs[j - 1].s, a = dirs[j - 1].a;

	for (unsigned i = 0; i < s && i < BITS; i++)
		v[i] = dirs[j - 1].m[i] << (BITS - 1 - i);
	for (unsigned i = s; i < BITS; i++) {
		uint32_t x = v[i - s] ^ (v[i - s] >> s);

		for (unsigned k = 1; k < s; k++)
			if ((a >> (s - 1 - k)) & 1)
				x ^= v[i - k];
		v[i] = x;
	}
}

void kf_sobol_point(size_t d, uint64_t index, const uint32_t *shift, double *x)
{
	for (size_t j = 0; j < d && j < KF_SOBOL_MAX_DIM; j++) {
		uint32_t v[BITS], acc = 0;
		uint64_t k = index ^ (index >> 1);   /* Gray code order, as scipy and Joe-Kuo */

		directions(j, v);
		for (unsigned i = 0; k && i < BITS; i++, k >>= 1)
			if (k & 1)
				acc ^= v[i];
		if (shift)
			acc ^= shift[j];
		x[j] = (double)acc / 4294967296.0;
	}
}
