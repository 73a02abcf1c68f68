/* kf_http: a small HTTP/1.1 server on libmicrohttpd, for kf serve.
 *
 * A pool of threads polls the connections (epoll); each complete request
 * (headers and body) goes to one handler callback, which answers it with
 * kf_http_reply(). A handler that cannot answer at once (dynamic batching)
 * calls kf_http_defer() and returns; the connection is parked without
 * holding a thread, and kf_http_reply() from any thread later sends the
 * answer. The server itself enforces the body limit (413), the bearer
 * token (401, compared in constant time) and an idle timeout per
 * connection, and reports each finished request to an access-log callback.
 *
 * The struct MHD_Daemon stays inside kf_http.c. Nothing here prints. */
#ifndef KF_HTTP_H
#define KF_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct kf_err;
struct kf_http;
struct kf_http_req;

typedef void (*kf_http_handler_fn)(struct kf_http_req *req, void *cls);

/* One finished request, for the access log. */
struct kf_http_log_entry {
	const char *remote;    /* "127.0.0.1:53211" */
	const char *method;
	const char *path;
	int status;            /* 0 when the connection broke before an answer */
	size_t bytes_in, bytes_out;
	int64_t duration_ns;   /* from the request's headers to its completion */
};

typedef void (*kf_http_log_fn)(const struct kf_http_log_entry *entry, void *cls);

struct kf_http_config {
	const char *address;      /* IPv4 or IPv6 literal; "127.0.0.1" when NULL */
	unsigned port;            /* 0: any free port, see kf_http_port() */
	unsigned threads;         /* polling threads; 0 means 2 */
	size_t max_body;          /* larger request bodies are answered 413; 0 = 64 MiB */
	unsigned timeout_s;       /* idle connection timeout; 0 = 30 s */
	const char *token;        /* bearer token every request must carry, or NULL */
	kf_http_handler_fn handler;
	void *handler_cls;
	kf_http_log_fn log;       /* NULL: no access log */
	void *log_cls;
};

/* Bind and start serving. cfg's strings are copied. */
int kf_http_start(struct kf_http **out, const struct kf_http_config *cfg, struct kf_err *err);
/* The port bound (useful after asking for port 0). */
unsigned kf_http_port(const struct kf_http *http);
/* Graceful stop: close the listening socket at once, let requests in flight
 * finish (waiting up to grace_ms), then close every connection and free. */
void kf_http_stop(struct kf_http *http, int64_t grace_ms);

/* The request, valid until it is answered. */
const char *kf_http_req_method(const struct kf_http_req *req);
const char *kf_http_req_path(const struct kf_http_req *req);   /* decoded, no query */
const char *kf_http_req_body(const struct kf_http_req *req, size_t *len); /* NUL-terminated */
const char *kf_http_req_header(const struct kf_http_req *req, const char *name);
/* Monotonic time the request's headers arrived (for queue-time metrics). */
int64_t kf_http_req_start_ns(const struct kf_http_req *req);

/* Add a response header (copied) before kf_http_reply; at most 4. */
void kf_http_req_add_header(struct kf_http_req *req, const char *name, const char *value);
/* Answer: exactly once per request, from the handler or, after
 * kf_http_defer(), from any thread. body is copied. */
void kf_http_reply(struct kf_http_req *req, int status, const char *content_type,
		   const char *body, size_t len);
/* Same, taking a malloc'd body (freed by the server). */
void kf_http_reply_owned(struct kf_http_req *req, int status, const char *content_type,
			 char *body, size_t len);
/* Called by the handler before returning without an answer. */
void kf_http_defer(struct kf_http_req *req);

/* Equal strings, in time that depends only on the length of expected. */
int kf_http_secret_eq(const char *given, const char *expected);

#endif
