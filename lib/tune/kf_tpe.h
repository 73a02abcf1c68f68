/* kf_tpe: the tpe algorithm (see kf_tpe.c). */
#ifndef KF_TPE_H
#define KF_TPE_H

#include "tune/kf_suggest.h"

/* The next point u (a->d coordinates) after hist[0..n). */
void kf_tpe_suggest(const struct kf_algo *a, const struct kf_obs *hist, size_t n, double *u);

#endif
