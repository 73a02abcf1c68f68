/* kf_gp: the bayesianoptimization algorithm (see kf_gp.c). */
#ifndef KF_GP_H
#define KF_GP_H

#include "tune/kf_suggest.h"

/* The next point u (a->d coordinates) after hist[0..n). */
void kf_gp_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u);

#endif
