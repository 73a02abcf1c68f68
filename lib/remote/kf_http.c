/* kf_http: libcurl easy handle behind a small request/response API. */
#include "config.h"

#include "remote/kf_http.h"
#include "util/kf_dl.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"
#include "util/kf_str.h"
#include "util/kf_time.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One line of a Netscape cookie file. */
struct cookie {
	char *domain;     /* without the leading dot */
	bool subdomains;  /* also sent to hosts below domain */
	char *path;
	bool secure;      /* https only */
	long long expires; /* epoch seconds, 0 = session cookie */
	char *name, *value;
};

struct kf_http {
	CURL *curl;
	struct kf_http_conf conf;  /* strings point into owned copies below */
	char *token, *ca_file, *cert_file, *key_file;
	void *ca_pem, *cert_pem, *key_pem;
	struct cookie *cookies;
	size_t n_cookies, cap_cookies;
};

static void trace(const struct kf_http *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void trace(const struct kf_http *h, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!h->conf.trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	h->conf.trace(h->conf.trace_arg, line);
}

static void *dup_mem(const void *p, size_t len)
{
	void *d;

	if (!p)
		return NULL;
	d = kf_xmalloc(len ? len : 1);
	memcpy(d, p, len);
	return d;
}

static char *dup_str(const char *s)
{
	return s ? kf_xstrdup(s) : NULL;
}

static char *field_dup(const char *start, const char *end)
{
	return kf_xstrndup(start, (size_t)(end - start));
}

/* Split line on tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* The Netscape cookie file format that curl, wget and browser extensions
 * write: domain, subdomains flag, path, secure flag, expiry, name, value. */
static int load_cookies(struct kf_http *h, const char *path, struct kf_err *err)
{
	struct kf_buf text = KF_BUF_INIT;
	char *line, *next;
	int lineno = 0, rc;

	rc = kf_fs_read_file(path, &text, err);
	if (rc) {
		kf_err_prefix(err, "cookie file");
		rc = KF_EENV;
		err->code = rc;
		goto out;
	}
	for (line = text.data; line && *line; line = next) {
		char *f[8];
		struct cookie *c;
		size_t n;
		bool httponly = false;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (kf_str_starts(line, "#HttpOnly_")) {
			line += strlen("#HttpOnly_");
			httponly = true;
		}
		if (!*line || (*line == '#' && !httponly))
			continue;
		n = split_tabs(line, f, 8);
		if (n != 7) {
			rc = kf_err_at(err, KF_EINPUT, path, lineno, 1,
				       "cookie line has %zu fields, a Netscape cookie file has 7", n);
			goto out;
		}
		KF_GROW(h->cookies, h->cap_cookies, h->n_cookies + 1);
		c = &h->cookies[h->n_cookies++];
		c->domain = field_dup(f[0] + (f[0][0] == '.'), f[0] + strlen(f[0]));
		c->subdomains = !strcmp(f[1], "TRUE") || f[0][0] == '.';
		c->path = kf_xstrdup(f[2]);
		c->secure = !strcmp(f[3], "TRUE");
		c->expires = strtoll(f[4], NULL, 10);
		c->name = kf_xstrdup(f[5]);
		c->value = kf_xstrdup(f[6]);
	}
out:
	kf_buf_release(&text);
	return rc;
}

int kf_http_new(struct kf_http **out, const struct kf_http_conf *conf, struct kf_err *err)
{
	struct kf_http *h = kf_xcalloc(1, sizeof *h);
	int rc = 0;

	*out = NULL;
	h->conf = *conf;
	h->conf.token = h->token = dup_str(conf->token);
	h->conf.ca_file = h->ca_file = dup_str(conf->ca_file);
	h->conf.cert_file = h->cert_file = dup_str(conf->cert_file);
	h->conf.key_file = h->key_file = dup_str(conf->key_file);
	h->conf.ca_pem = h->ca_pem = dup_mem(conf->ca_pem, conf->ca_pem_len);
	h->conf.cert_pem = h->cert_pem = dup_mem(conf->cert_pem, conf->cert_pem_len);
	h->conf.key_pem = h->key_pem = dup_mem(conf->key_pem, conf->key_pem_len);
	h->conf.cookie_file = NULL;
	if (h->conf.timeout_ms <= 0)
		h->conf.timeout_ms = 30000;
	if (h->conf.connect_timeout_ms <= 0)
		h->conf.connect_timeout_ms = 10000;
	if (h->conf.backoff_ms <= 0)
		h->conf.backoff_ms = 500;
	if (h->conf.retries < 0)
		h->conf.retries = 0;
	if (conf->cookie_file) {
		rc = load_cookies(h, conf->cookie_file, err);
		if (rc)
			goto out;
	}
#if LIBCURL_VERSION_NUM < 0x074d00
	if (conf->ca_pem || conf->cert_pem || conf->key_pem) {
		rc = kf_err_set(err, KF_EENV, "certificates given as data need libcurl 7.77 or later");
		goto out;
	}
#endif
	if (conf->ca_file && !kf_fs_exists(conf->ca_file)) {
		rc = kf_err_set(err, KF_EENV, "CA file \"%s\" does not exist", conf->ca_file);
		goto out;
	}
	if (!conf->dry_run) {
		/* libcurl is loaded on first use: a clear exit-3 error when missing */
		if ((rc = kf_dl_curl(err)) != 0)
			goto out;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			rc = kf_err_set(err, KF_EENV, "cannot initialise libcurl");
			goto out;
		}
		h->curl = curl_easy_init();
		if (!h->curl) {
			curl_global_cleanup();
			rc = kf_err_set(err, KF_EENV, "cannot initialise libcurl");
			goto out;
		}
	}
out:
	if (rc) {
		kf_http_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void kf_http_free(struct kf_http *h)
{
	size_t i;

	if (!h)
		return;
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	for (i = 0; i < h->n_cookies; i++) {
		free(h->cookies[i].domain);
		free(h->cookies[i].path);
		free(h->cookies[i].name);
		free(h->cookies[i].value);
	}
	free(h->cookies);
	free(h->token);
	free(h->ca_file);
	free(h->cert_file);
	free(h->key_file);
	free(h->ca_pem);
	free(h->cert_pem);
	free(h->key_pem);
	free(h);
}

bool kf_http_is_dry_run(const struct kf_http *h)
{
	return h->conf.dry_run;
}

void kf_http_resp_release(struct kf_http_resp *resp)
{
	kf_buf_release(&resp->body);
	free(resp->location);
	resp->location = NULL;
	resp->status = 0;
}

void kf_http_escape(struct kf_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			kf_buf_addc(out, (char)c);
		} else {
			kf_buf_addc(out, '%');
			kf_buf_addc(out, hex[c >> 4]);
			kf_buf_addc(out, hex[c & 15]);
		}
	}
}

/* url for messages: a password in it ("https://user:pw@host") as ***. */
static char *shown_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *colon, *end;

	if (!scheme)
		return kf_xstrdup(url);
	end = scheme + 3 + strcspn(scheme + 3, "/?#");
	at = memchr(scheme + 3, '@', (size_t)(end - scheme - 3));
	colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if (!colon)
		return kf_xstrdup(url);
	return kf_xasprintf("%.*s:***%s", (int)(colon - url), url, at);
}

/* Scheme, host and path of url, for matching cookies. */
struct url_parts {
	char scheme[16];
	char host[256];
	char path[1024];
};

static int url_split(const char *url, struct url_parts *u, struct kf_err *err)
{
	const char *p = strstr(url, "://"), *host, *end;
	size_t n;

	memset(u, 0, sizeof *u);
	if (!p || (size_t)(p - url) >= sizeof u->scheme)
		return kf_err_set(err, KF_EUSAGE, "\"%s\" is not an http or https URL", url);
	memcpy(u->scheme, url, (size_t)(p - url));
	if (strcmp(u->scheme, "http") && strcmp(u->scheme, "https"))
		return kf_err_set(err, KF_EUSAGE, "\"%s\" is not an http or https URL", url);
	host = p + 3;
	end = host + strcspn(host, "/?#");
	if (strchr(host, '@') && strchr(host, '@') < end)
		host = strchr(host, '@') + 1;
	n = (size_t)(end - host);
	if (n == 0 || n >= sizeof u->host)
		return kf_err_set(err, KF_EUSAGE, "\"%s\" has no host", url);
	memcpy(u->host, host, n);
	/* [v6]:port or host:port -> host */
	if (u->host[0] == '[') {
		char *close = strchr(u->host, ']');

		if (close)
			close[1] = '\0';
	} else if (strchr(u->host, ':')) {
		*strchr(u->host, ':') = '\0';
	}
	n = strcspn(end, "?#");
	if (n == 0)
		strcpy(u->path, "/");
	else
		snprintf(u->path, sizeof u->path, "%.*s", (int)n, end);
	return 0;
}

static bool cookie_matches(const struct cookie *c, const struct url_parts *u, long long now)
{
	size_t hl = strlen(u->host), dl = strlen(c->domain), pl = strlen(c->path);

	if (c->expires && c->expires < now)
		return false;
	if (c->secure && strcmp(u->scheme, "https"))
		return false;
	if (strcasecmp(u->host, c->domain)) {
		if (!c->subdomains || hl <= dl || u->host[hl - dl - 1] != '.' ||
		    strcasecmp(u->host + hl - dl, c->domain))
			return false;
	}
	if (strncmp(u->path, c->path, pl))
		return false;
	/* "/a" matches "/a", "/a/b" but not "/ab" */
	return pl == 0 || c->path[pl - 1] == '/' || u->path[pl] == '\0' || u->path[pl] == '/';
}

/* The Cookie header value for url, real or masked; "" when none match. */
static void cookie_header(const struct kf_http *h, const struct url_parts *u, bool masked,
			  struct kf_buf *out)
{
	long long now = (long long)time(NULL);
	size_t i;

	for (i = 0; i < h->n_cookies; i++) {
		if (!cookie_matches(&h->cookies[i], u, now))
			continue;
		if (out->len)
			kf_buf_adds(out, "; ");
		kf_buf_printf(out, "%s=%s", h->cookies[i].name, masked ? "***" : h->cookies[i].value);
	}
}

/* The headers of req, one "Name: value" per string, secrets masked or not. */
static void request_headers(const struct kf_http *h, const struct kf_http_req *req,
			    const struct url_parts *u, bool masked, struct kf_strv *out)
{
	struct kf_buf cookies = KF_BUF_INIT;

	if (h->conf.token && *h->conf.token)
		kf_strv_push_owned(out, kf_xasprintf("Authorization: Bearer %s",
						     masked ? "***" : h->conf.token));
	cookie_header(h, u, masked, &cookies);
	if (cookies.len)
		kf_strv_push_owned(out, kf_xasprintf("Cookie: %s", cookies.data));
	if (req->file)
		kf_strv_push(out, "Content-Type: multipart/form-data");
	else if (req->body && req->content_type)
		kf_strv_push_owned(out, kf_xasprintf("Content-Type: %s", req->content_type));
	kf_buf_release(&cookies);
}

static void render_dry(struct kf_http *h, const struct kf_http_req *req, const struct url_parts *u,
		       const char *shown)
{
	struct kf_strv hdrs = KF_STRV_INIT;
	struct kf_buf *o = h->conf.dry_out;
	size_t i;

	if (!o)
		return;
	request_headers(h, req, u, true, &hdrs);
	kf_buf_printf(o, "%s %s\n", req->method, shown);
	for (i = 0; i < hdrs.n; i++)
		kf_buf_printf(o, "%s\n", hdrs.v[i]);
	if (req->file) {
		char hex[65];

		kf_sha256_hex(req->file->data, req->file->len, hex);
		kf_buf_printf(o, "\n[form field \"%s\": file \"%s\", %zu bytes, sha256 %s]\n",
			      req->file->field, req->file->filename, req->file->len, hex);
	} else if (req->body) {
		kf_buf_addc(o, '\n');
		kf_buf_add(o, req->body, req->body_len);
		kf_buf_addc(o, '\n');
	}
	kf_buf_addc(o, '\n');
	kf_strv_release(&hdrs);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	kf_buf_add(arg, data, size * n);
	return size * n;
}

/* Network failures worth another attempt of an idempotent request. */
static bool transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

#if LIBCURL_VERSION_NUM >= 0x074d00
static void set_blob(CURL *curl, CURLoption opt, const void *data, size_t len)
{
	struct curl_blob blob = { (void *)data, len, CURL_BLOB_COPY };

	curl_easy_setopt(curl, opt, &blob);
}
#endif

static void set_tls(struct kf_http *h)
{
	CURL *c = h->curl;

	if (h->conf.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->conf.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->conf.ca_file);
#if LIBCURL_VERSION_NUM >= 0x074d00
	if (h->conf.ca_pem)
		set_blob(c, CURLOPT_CAINFO_BLOB, h->conf.ca_pem, h->conf.ca_pem_len);
	if (h->conf.cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->conf.cert_file);
	if (h->conf.key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->conf.key_file);
	if (h->conf.cert_pem) {
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		set_blob(c, CURLOPT_SSLCERT_BLOB, h->conf.cert_pem, h->conf.cert_pem_len);
	}
	if (h->conf.key_pem) {
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		set_blob(c, CURLOPT_SSLKEY_BLOB, h->conf.key_pem, h->conf.key_pem_len);
	}
#endif
}

/* One attempt. Returns the curl code; *status and body filled on CURLE_OK. */
static CURLcode attempt(struct kf_http *h, const struct kf_http_req *req, const struct url_parts *u,
			long *status, struct kf_buf *body, char **location, char *errbuf)
{
	struct curl_slist *hl = NULL;
	struct kf_strv hdrs = KF_STRV_INIT;
	curl_mime *mime = NULL;
	CURL *c = h->curl;
	CURLcode rc;
	size_t i;

	curl_easy_reset(c);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kf/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->conf.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->conf.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	set_tls(h);
	request_headers(h, req, u, false, &hdrs);
	for (i = 0; i < hdrs.n; i++)
		if (!req->file || !kf_str_starts(hdrs.v[i], "Content-Type:"))
			hl = curl_slist_append(hl, hdrs.v[i]);
	hl = curl_slist_append(hl, "Accept: application/json");
	/* no 100-continue round trip before every upload */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (req->file) {
		curl_mimepart *part;

		mime = curl_mime_init(c);
		part = curl_mime_addpart(mime);
		curl_mime_name(part, req->file->field);
		curl_mime_filename(part, req->file->filename);
		curl_mime_type(part, "application/octet-stream");
		curl_mime_data(part, req->file->data, req->file->len);
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	} else if (!strcmp(req->method, "POST") || req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		char *loc = NULL;

		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		/* a login page (Dex, IAP) answers with a redirect: say where */
		if (*status >= 300 && *status < 400 && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
		    loc)
			*location = kf_xstrdup(loc);
	}
	curl_slist_free_all(hl);
	curl_mime_free(mime);
	kf_strv_release(&hdrs);
	return rc;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void trace_request(struct kf_http *h, const struct kf_http_req *req, const struct url_parts *u,
			  const char *shown)
{
	struct kf_strv hdrs = KF_STRV_INIT;
	size_t i;

	if (!h->conf.trace)
		return;
	request_headers(h, req, u, true, &hdrs);
	trace(h, "> %s %s", req->method, shown);
	for (i = 0; i < hdrs.n; i++)
		trace(h, "> %s", hdrs.v[i]);
	if (req->file)
		trace(h, "> [file \"%s\" in form field \"%s\", %zu bytes]", req->file->filename,
		      req->file->field, req->file->len);
	else if (req->body)
		trace(h, "> [%zu bytes of %s]", req->body_len, req->content_type ? req->content_type : "data");
	kf_strv_release(&hdrs);
}

static bool retry_status(long status)
{
	return status == 502 || status == 503 || status == 504;
}

int kf_http_do(struct kf_http *h, const struct kf_http_req *req, struct kf_http_resp *resp,
	       struct kf_err *err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct url_parts u;
	int64_t wait = h->conf.backoff_ms;
	int tries = req->idempotent ? 1 + h->conf.retries : 1, n, rc;
	CURLcode cc = CURLE_OK;
	char *shown;

	kf_buf_init(&resp->body);
	resp->status = 0;
	resp->location = NULL;
	rc = url_split(req->url, &u, err);
	if (rc)
		return rc;
	shown = shown_url(req->url);
	if (h->conf.dry_run) {
		render_dry(h, req, &u, shown);
		goto out;
	}
	trace_request(h, req, &u, shown);
	for (n = 1; n <= tries; n++) {
		int64_t t0 = kf_time_mono_ns();

		kf_buf_reset(&resp->body);
		free(resp->location);
		resp->location = NULL;
		resp->status = 0;
		cc = attempt(h, req, &u, &resp->status, &resp->body, &resp->location, errbuf);
		if (cc == CURLE_OK)
			trace(h, "< %ld (%zu bytes in %lld ms)", resp->status, resp->body.len,
			      (long long)((kf_time_mono_ns() - t0) / 1000000));
		if (cc == CURLE_OK && !retry_status(resp->status))
			goto out;
		if (cc != CURLE_OK && !transient(cc))
			break;
		if (n < tries) {
			if (cc == CURLE_OK)
				trace(h, "retrying %s %s in %lld ms (attempt %d of %d): HTTP %ld", req->method,
				      shown, (long long)wait, n + 1, tries, resp->status);
			else
				trace(h, "retrying %s %s in %lld ms (attempt %d of %d): %s", req->method,
				      shown, (long long)wait, n + 1, tries, errbuf[0] ? errbuf : curl_easy_strerror(cc));
			sleep_ms(wait);
			wait *= 2;
		}
	}
	if (cc == CURLE_OK)
		goto out; /* the last answer was a 502/503/504: the caller reports it */
	kf_buf_release(&resp->body);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		char d[32];

		if (h->conf.timeout_ms % 1000 == 0)
			snprintf(d, sizeof d, "%llds", (long long)(h->conf.timeout_ms / 1000));
		else
			kf_duration_format(h->conf.timeout_ms, d, sizeof d);
		if (tries > 1)
			rc = kf_err_set(err, KF_EENV, "%s %s: no answer within %s, %d times", req->method, shown,
					d, tries);
		else
			rc = kf_err_set(err, KF_EENV, "%s %s: no answer within %s", req->method, shown, d);
		goto out;
	}
	rc = kf_err_set(err, KF_EENV, "%s %s: %s", req->method, shown, errbuf[0] ? errbuf : curl_easy_strerror(cc));
out:
	free(shown);
	return rc;
}
