/* kf_cmaes: the cmaes algorithm (see kf_cmaes.c). */
#ifndef KF_CMAES_H
#define KF_CMAES_H

#include "tune/kf_suggest.h"

/* The next point u after hist[0..n): KF_SUGGEST_OK, or KF_SUGGEST_WAIT
 * while the previous generation has trials running. */
int kf_cmaes_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u);

#endif
