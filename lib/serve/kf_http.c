#include "config.h"

#include "serve/kf_http.h"
#include "util/kf_buf.h"
#include "util/kf_dl.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 4
#define DEFAULT_MAX_BODY (64u << 20)
#define DEFAULT_TIMEOUT_S 30

struct kf_http {
	struct MHD_Daemon *daemon;
	int listen_fd;
	unsigned port;
	size_t max_body;
	char *token;              /* NULL: no auth */
	kf_http_handler_fn handler;
	void *handler_cls;
	kf_http_log_fn log;
	void *log_cls;
	atomic_long in_flight;    /* requests between headers and completion */
};

/* Who answers: the handler thread (stashes the response) or, once the
 * connection is suspended, the thread calling kf_http_reply. */
enum req_state { REQ_HANDLING, REQ_SUSPENDED, REQ_ANSWERED };

struct kf_http_req {
	struct kf_http *http;
	struct MHD_Connection *conn;
	const char *method;       /* borrowed from MHD, valid until completion */
	const char *path;
	struct kf_buf body;
	bool too_big;
	bool deferred;
	int64_t start_ns;
	pthread_mutex_t lock;
	enum req_state state;
	struct MHD_Response *resp; /* stashed while REQ_HANDLING */
	int status;
	size_t bytes_out;
	size_t n_headers;
	char *headers[MAX_HEADERS][2];
};

int kf_http_secret_eq(const char *given, const char *expected)
{
	size_t n = strlen(expected), m = strlen(given), i;
	unsigned char diff = (unsigned char)(n != m);

	/* walk the whole expected secret whatever the given one holds, so the
	 * time says nothing about how many leading bytes matched */
	for (i = 0; i < n; i++)
		diff |= (unsigned char)expected[i] ^ (unsigned char)(i < m ? given[i] : 0);
	return diff == 0;
}

static struct kf_http_req *req_new(struct kf_http *http, struct MHD_Connection *conn,
				   const char *url, const char *method)
{
	struct kf_http_req *req = kf_xcalloc(1, sizeof *req);

	req->http = http;
	req->conn = conn;
	req->path = url;
	req->method = method;
	req->start_ns = kf_time_mono_ns();
	kf_buf_init(&req->body);
	pthread_mutex_init(&req->lock, NULL);
	req->state = REQ_HANDLING;
	return req;
}

static void req_free(struct kf_http_req *req)
{
	size_t i;

	if (!req)
		return;
	for (i = 0; i < req->n_headers; i++) {
		free(req->headers[i][0]);
		free(req->headers[i][1]);
	}
	if (req->resp)
		MHD_destroy_response(req->resp);
	kf_buf_release(&req->body);
	pthread_mutex_destroy(&req->lock);
	free(req);
}

const char *kf_http_req_method(const struct kf_http_req *req)
{
	return req->method;
}

const char *kf_http_req_path(const struct kf_http_req *req)
{
	return req->path;
}

const char *kf_http_req_body(const struct kf_http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return kf_buf_str(&req->body);
}

const char *kf_http_req_header(const struct kf_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int64_t kf_http_req_start_ns(const struct kf_http_req *req)
{
	return req->start_ns;
}

void kf_http_req_add_header(struct kf_http_req *req, const char *name, const char *value)
{
	if (req->n_headers == MAX_HEADERS)
		return;
	req->headers[req->n_headers][0] = kf_xstrdup(name);
	req->headers[req->n_headers][1] = kf_xstrdup(value);
	req->n_headers++;
}

void kf_http_defer(struct kf_http_req *req)
{
	req->deferred = true;
}

static struct MHD_Response *make_response(struct kf_http_req *req, const char *content_type,
					  char *body, size_t len)
{
	struct MHD_Response *resp;
	size_t i;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return NULL;
	}
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (i = 0; i < req->n_headers; i++)
		MHD_add_response_header(resp, req->headers[i][0], req->headers[i][1]);
	return resp;
}

void kf_http_reply_owned(struct kf_http_req *req, int status, const char *content_type,
			 char *body, size_t len)
{
	struct MHD_Response *resp = make_response(req, content_type, body, len);
	struct MHD_Connection *conn = NULL;

	pthread_mutex_lock(&req->lock);
	req->status = status;
	req->bytes_out = len;
	if (req->state == REQ_SUSPENDED) {
		/* a suspended connection may be given its response from any
		 * thread; resuming it hands it back to its polling thread */
		if (resp)
			MHD_queue_response(req->conn, (unsigned)status, resp);
		req->state = REQ_ANSWERED;
		conn = req->conn;
	} else {
		req->resp = resp;
	}
	pthread_mutex_unlock(&req->lock);
	if (resp && conn)
		MHD_destroy_response(resp);
	/* after this the request may complete and be freed at any moment */
	if (conn)
		MHD_resume_connection(conn);
}

void kf_http_reply(struct kf_http_req *req, int status, const char *content_type,
		   const char *body, size_t len)
{
	char *copy = kf_xmalloc(len + 1);

	memcpy(copy, body, len);
	copy[len] = '\0';
	kf_http_reply_owned(req, status, content_type, copy, len);
}

static enum MHD_Result queue_now(struct kf_http_req *req, int status, const char *msg)
{
	struct kf_buf b = KF_BUF_INIT;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t len;

	kf_buf_adds(&b, "{\"error\":\"");
	kf_buf_add_json_escaped(&b, msg);
	kf_buf_adds(&b, "\"}");
	len = b.len;
	resp = make_response(req, "application/json", kf_buf_detach(&b), len);
	if (!resp)
		return MHD_NO;
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	req->status = status;
	req->bytes_out = len;
	req->state = REQ_ANSWERED;
	rc = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static bool authorized(struct kf_http *http, struct MHD_Connection *conn)
{
	const char *auth;

	if (!http->token)
		return true;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	return kf_http_secret_eq(auth, http->token);
}

static bool declared_too_big(struct kf_http *http, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno == ERANGE || (end != cl && n > http->max_body);
}

/* The handler has returned: send what it stashed, park the connection
 * for a deferred answer, or answer 500 for a handler that did neither. */
static enum MHD_Result after_handler(struct kf_http_req *req)
{
	enum MHD_Result rc = MHD_YES;

	pthread_mutex_lock(&req->lock);
	if (req->resp) {
		rc = MHD_queue_response(req->conn, (unsigned)req->status, req->resp);
		MHD_destroy_response(req->resp);
		req->resp = NULL;
		req->state = REQ_ANSWERED;
	} else if (req->deferred) {
		MHD_suspend_connection(req->conn);
		req->state = REQ_SUSPENDED;
	} else if (req->state != REQ_ANSWERED) {
		pthread_mutex_unlock(&req->lock);
		return queue_now(req, 500, "request was not answered");
	}
	pthread_mutex_unlock(&req->lock);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct kf_http *http = cls;
	struct kf_http_req *req = *con_cls;

	(void)version;
	if (!req) {
		req = req_new(http, conn, url, method);
		*con_cls = req;
		atomic_fetch_add(&http->in_flight, 1);
		/* answered before the body is read: MHD discards the rest of it
		 * and closes the connection after the response */
		if (!authorized(http, conn))
			return queue_now(req, 401, "missing or invalid bearer token");
		if (declared_too_big(http, conn))
			return queue_now(req, 413, "request body too large");
		return MHD_YES;
	}
	if (req->state != REQ_HANDLING)
		return MHD_YES;
	if (*upload_size) {
		/* a chunked body has no declared length: read and drop the
		 * excess, answer 413 once it is all in */
		if (!req->too_big && req->body.len + *upload_size > http->max_body) {
			req->too_big = true;
			kf_buf_release(&req->body);
		}
		if (!req->too_big)
			kf_buf_add(&req->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->too_big)
		return queue_now(req, 413, "request body too large");
	http->handler(req, http->handler_cls);
	return after_handler(req);
}

static void remote_text(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ci->client_addr;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
	} else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ci->client_addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, size, "%s:%u", host, port);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct kf_http *http = cls;
	struct kf_http_req *req = *con_cls;

	(void)toe;
	if (!req)
		return;
	*con_cls = NULL;
	if (http->log) {
		struct kf_http_log_entry e;
		char remote[INET6_ADDRSTRLEN + 8];

		remote_text(conn, remote, sizeof remote);
		e.remote = remote;
		e.method = req->method;
		e.path = req->path;
		e.status = req->state == REQ_ANSWERED ? req->status : 0;
		e.bytes_in = req->body.len;
		e.bytes_out = req->bytes_out;
		e.duration_ns = kf_time_mono_ns() - req->start_ns;
		http->log(&e, http->log_cls);
	}
	req_free(req);
	atomic_fetch_sub(&http->in_flight, 1);
}

/* Bind the socket ourselves so a taken port or a bad address is an error
 * with a reason, which MHD_start_daemon would only report as NULL. */
static int bind_listen(const char *address, unsigned port, bool *v6, int *fd_out,
		       unsigned *port_out, struct kf_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	*v6 = false;
	if (inet_pton(AF_INET, address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, address, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
		*v6 = true;
	} else {
		return kf_err_set(err, KF_EUSAGE, "invalid listen address \"%s\" (want an IPv4 or IPv6 literal)",
				  address);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return kf_err_sys(err, "cannot create a socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
		kf_err_sys(err, "cannot listen on \"%s\" port %u", address, port);
		close(fd);
		err->code = KF_EENV;
		return KF_EENV;
	}
	len = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port_out = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	*fd_out = fd;
	return 0;
}

int kf_http_start(struct kf_http **out, const struct kf_http_config *cfg, struct kf_err *err)
{
	struct kf_http *http;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ITC;
	bool v6;
	int rc;

	*out = NULL;
	if ((rc = kf_dl_microhttpd(err)) != 0)   /* libmicrohttpd is loaded on first use */
		return rc;
	http = kf_xcalloc(1, sizeof *http);
	http->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
	http->token = cfg->token ? kf_xstrdup(cfg->token) : NULL;
	http->handler = cfg->handler;
	http->handler_cls = cfg->handler_cls;
	http->log = cfg->log;
	http->log_cls = cfg->log_cls;
	atomic_init(&http->in_flight, 0);
	rc = bind_listen(cfg->address ? cfg->address : "127.0.0.1", cfg->port, &v6, &http->listen_fd,
			 &http->port, err);
	if (rc)
		goto out;
	if (v6)
		flags |= MHD_USE_IPv6;
	http->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, http,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)http->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 2),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->timeout_s ? cfg->timeout_s : DEFAULT_TIMEOUT_S),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, http,
		MHD_OPTION_END);
	if (!http->daemon) {
		close(http->listen_fd);
		rc = kf_err_set(err, KF_EENV, "cannot start the HTTP server on port %u", http->port);
		goto out;
	}
	*out = http;
	http = NULL;
out:
	if (http) {
		free(http->token);
		free(http);
	}
	return rc;
}

unsigned kf_http_port(const struct kf_http *http)
{
	return http->port;
}

void kf_http_stop(struct kf_http *http, int64_t grace_ms)
{
	MHD_socket fd;
	int64_t deadline;

	if (!http)
		return;
	fd = MHD_quiesce_daemon(http->daemon);
	deadline = kf_time_mono_ns() + grace_ms * 1000000;
	while (atomic_load(&http->in_flight) > 0 && kf_time_mono_ns() < deadline) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(http->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(http->token);
	free(http);
}
