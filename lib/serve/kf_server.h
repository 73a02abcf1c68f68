/* kf_server: the model server behind `kf serve`.
 *
 * It joins the pieces: a kf_repo of kf_model versions, the kf_http server,
 * kf_batch (when batching is on) and kf_metrics, and speaks the protocols:
 *
 *   TensorFlow Serving REST   GET  /v1/models/NAME[/versions/V|/labels/L][/metadata]
 *                             POST /v1/models/NAME[/versions/V|/labels/L]:predict|:classify|:regress
 *   KServe V1                 GET  /v1/models
 *   Open Inference (V2)       GET  /v2, /v2/health/live, /v2/health/ready,
 *                                  /v2/models/NAME[/versions/V][/ready]
 *                             POST /v2/models/NAME[/versions/V]/infer
 *   Prometheus                GET  /metrics
 *
 * Every answer from a model carries the header X-Model-Version (and V2
 * bodies their model_version), so a canary split is visible. */
#ifndef KF_SERVER_H
#define KF_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "serve/kf_http.h"
#include "serve/kf_repo.h"

struct kf_err;
struct kf_server;

struct kf_server_config {
	const char *address;        /* NULL: 127.0.0.1 */
	unsigned port;
	unsigned threads;
	size_t max_body;
	unsigned timeout_s;
	const char *token;
	size_t batch_max;           /* 0 or 1: no batching */
	int64_t batch_timeout_us;
	int64_t poll_ms;            /* repository scan interval; 0: no watching */
	kf_http_log_fn log;         /* access log, or NULL */
	void *log_cls;
	/* load/unload events of the repository, or NULL */
	void (*event)(const char *name, long version, const char *dir, const char *what,
		      const struct kf_err *err, void *cls);
	void *event_cls;
};

struct kf_server *kf_server_new(const struct kf_server_config *cfg);
/* Add models here before kf_server_start. */
struct kf_repo *kf_server_repo(struct kf_server *srv);
/* Load the models, start listening, start watching the repository. */
int kf_server_start(struct kf_server *srv, struct kf_err *err);
unsigned kf_server_port(const struct kf_server *srv);
/* Stop accepting, finish requests in flight (up to grace_ms), unload. */
void kf_server_free(struct kf_server *srv, int64_t grace_ms);

#endif
