/* kf_time: clocks, durations and timestamps. */
#ifndef KF_TIME_H
#define KF_TIME_H

#include <stddef.h>
#include <stdint.h>

struct kf_err;

/* Monotonic clock in nanoseconds, for measuring intervals. */
int64_t kf_time_mono_ns(void);
/* Wall clock in milliseconds since the epoch, for records. */
int64_t kf_time_wall_ms(void);
/* Parse a duration as Go and Argo write them ("90s", "1h30m", "500ms", "2d")
 * into milliseconds. A bare number is seconds. */
int kf_duration_parse(const char *s, int64_t *ms, struct kf_err *err);
/* Format milliseconds compactly ("1.2s", "3m4s"). */
void kf_duration_format(int64_t ms, char *buf, size_t size);
/* RFC 3339 UTC ("2026-11-22T05:31:39Z") of epoch milliseconds. */
void kf_time_rfc3339(int64_t wall_ms, char *buf, size_t size);

#endif
