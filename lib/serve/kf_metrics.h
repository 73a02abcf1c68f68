/* kf_metrics: the model server's counters, in Prometheus text format.
 *
 * Per model and version, the names Triton users already scrape:
 *   nv_inference_request_success, nv_inference_request_failure (requests),
 *   nv_inference_count (instances), nv_inference_exec_count (batches run),
 *   nv_inference_request_duration_us, nv_inference_queue_duration_us,
 *   nv_inference_compute_infer_duration_us (cumulative microseconds);
 * and, as histograms, kf_inference_request_duration_seconds,
 * kf_inference_queue_duration_seconds, kf_inference_compute_duration_seconds,
 * kf_inference_batch_size; server-wide kf_models_loaded and
 * kf_http_responses_total{code}. All functions are thread-safe. */
#ifndef KF_METRICS_H
#define KF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kf_buf;
struct kf_metrics;

struct kf_metrics *kf_metrics_new(void);
void kf_metrics_free(struct kf_metrics *m);

/* One inference request to model/version, finished. */
void kf_metrics_request(struct kf_metrics *m, const char *model, const char *version, bool ok,
			int64_t request_ns, int64_t queue_ns, int64_t compute_ns, size_t instances);
/* One batch of instances run by model/version. */
void kf_metrics_batch(struct kf_metrics *m, const char *model, const char *version, size_t size);
/* Any HTTP response, by status code. */
void kf_metrics_response(struct kf_metrics *m, int status);
void kf_metrics_models_loaded(struct kf_metrics *m, long n);

/* Append the exposition text (version 0.0.4). */
void kf_metrics_render(struct kf_metrics *m, struct kf_buf *out);

#endif
