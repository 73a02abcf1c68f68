/* kf_allreduce: synchronous gradient summing over loopback TCP, for the
 * built-in trainers' data-parallel mode (TF_CONFIG with several workers).
 *
 * A star: one hub sums what every participant sends, in rank order (so the
 * result is the same on every run), and sends the sum back to all. The hub
 * is either participant 0 (no parameter server in the job) or a separate
 * process that only reduces (the job's PS replica: kf_allreduce_serve).
 * Messages are a native-endian uint64 count then that many doubles; the
 * peers are the same host. Connecting retries for up to a minute while the
 * hub starts. */
#ifndef KF_ALLREDUCE_H
#define KF_ALLREDUCE_H

#include <stddef.h>

struct kf_err;
struct kf_allreduce;

/* Join as participant rank of world. hub is "HOST:PORT"; hub_is_rank0:
 * rank 0 listens there itself, else a kf_allreduce_serve process does. */
int kf_allreduce_open(struct kf_allreduce **out, const char *hub, int hub_is_rank0, int rank,
		      int world, struct kf_err *err);
/* v[0..n) becomes the sum over all participants. Every participant must
 * call with the same n in the same order. */
int kf_allreduce_sum(struct kf_allreduce *a, double *v, size_t n, struct kf_err *err);
void kf_allreduce_close(struct kf_allreduce *a);

/* Run a reduce-only hub on addr ("HOST:PORT") for world participants until
 * they all disconnect. */
int kf_allreduce_serve(const char *addr, int world, struct kf_err *err);

#endif
