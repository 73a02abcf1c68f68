/* kf_http: the HTTP requests of the remote clients, through libcurl.
 *
 * The CURL handle stays inside this module; callers describe a request
 * (method, URL, JSON body or one multipart file) and get the status and the
 * body back. The connection settings of a remote live in struct
 * kf_http_conf: bearer token, cookies from a Netscape cookie file (clusters
 * behind Dex or IAP), CA bundle, client certificate, timeouts and retries.
 *
 * Secrets never leave the request: the trace (-v) and the dry-run rendering
 * print "Authorization: Bearer ***" and cookie names with "***" for values.
 * Only idempotent requests are retried, with a doubling back-off, on network
 * failures and on 502/503/504. A dry-run client sends nothing: it renders
 * each request (method, URL, headers, body) into conf.dry_out and answers
 * with status 0 and an empty body. */
#ifndef KF_HTTP_H
#define KF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kf_buf.h"

struct kf_err;
struct kf_http;

struct kf_http_conf {
	const char *token;          /* bearer token, or NULL */
	const char *cookie_file;    /* Netscape cookie file, or NULL */
	const char *ca_file;        /* PEM CA bundle file, or NULL for the system's */
	const void *ca_pem;         /* PEM CA bundle in memory (kubeconfig *-data) */
	size_t ca_pem_len;
	const char *cert_file;      /* client certificate and key files (PEM), or NULL */
	const char *key_file;
	const void *cert_pem;       /* the same in memory */
	size_t cert_pem_len;
	const void *key_pem;
	size_t key_pem_len;
	bool insecure;              /* skip TLS verification: only when the user asked */
	int64_t timeout_ms;         /* one attempt, whole request; 0 = 30 s */
	int64_t connect_timeout_ms; /* 0 = 10 s */
	int retries;                /* extra attempts of idempotent requests; < 0 = none */
	int64_t backoff_ms;         /* first wait between attempts, doubled each time; 0 = 500 ms */
	bool dry_run;               /* render requests into dry_out instead of sending them */
	struct kf_buf *dry_out;
	/* one line per request, response and retry, secrets masked (for -v) */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

/* The one file of a multipart/form-data request. */
struct kf_http_file {
	const char *field;          /* form field name ("uploadfile") */
	const char *filename;       /* file name sent with it */
	const void *data;
	size_t len;
};

struct kf_http_req {
	const char *method;         /* "GET", "POST", "DELETE" */
	const char *url;
	const char *content_type;   /* of body, e.g. "application/json" */
	const void *body;           /* or NULL: no body */
	size_t body_len;
	const struct kf_http_file *file; /* multipart upload instead of body, or NULL */
	bool idempotent;            /* safe to send twice: may be retried */
};

struct kf_http_resp {
	long status;                /* HTTP status; 0 in dry-run */
	struct kf_buf body;
	char *location;             /* where a 3xx answer points (redirects are not followed), or NULL */
};

/* A client with conf's settings; reads the cookie file now (a missing or
 * unreadable one is an error). conf's strings are copied. */
int kf_http_new(struct kf_http **out, const struct kf_http_conf *conf, struct kf_err *err);
void kf_http_free(struct kf_http *h);
bool kf_http_is_dry_run(const struct kf_http *h);

/* Send req. 0 with resp filled for any HTTP status (the caller decides what
 * a status means), or KF_EENV when no answer came (refused, timed out, the
 * connection dropped, TLS failed), naming the request. resp is initialised
 * here and released with kf_http_resp_release. */
int kf_http_do(struct kf_http *h, const struct kf_http_req *req, struct kf_http_resp *resp,
	       struct kf_err *err);
void kf_http_resp_release(struct kf_http_resp *resp);

/* Append s percent-encoded for a URL query value or path segment. */
void kf_http_escape(struct kf_buf *out, const char *s);

#endif
