/* kf_sobol: the Sobol low-discrepancy sequence (Joe and Kuo's direction
 * numbers, new-joe-kuo-6.21201, dimensions 1..21), optionally with a
 * random digital shift. */
#ifndef KF_SOBOL_H
#define KF_SOBOL_H

#include <stddef.h>
#include <stdint.h>

#define KF_SOBOL_MAX_DIM 21

/* Point index (0-based) of the d-dimensional sequence into x; shift is
 * NULL or d 32-bit masks XORed into the coordinates. d <= KF_SOBOL_MAX_DIM. */
void kf_sobol_point(size_t d, uint64_t index, const uint32_t *shift, double *x);

#endif
