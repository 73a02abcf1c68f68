/* kf_fetch: https:// component references, fetched with libcurl. */
#include "config.h"

#include "spec/kf_spec_load.h"

#include <curl/curl.h>
#include <string.h>

#include "util/kf_buf.h"
#include "util/kf_dl.h"

struct sink {
	struct kf_buf *buf;
	size_t max;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->buf->len + size * n > s->max) {
		s->too_big = true;
		return 0;
	}
	kf_buf_add(s->buf, data, size * n);
	return size * n;
}

int kf_spec_fetch(const char *url, struct kf_buf *buf, size_t max, struct kf_err *err)
{
	struct sink sink = { buf, max, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc = 0;

	rc = kf_dl_curl(err);   /* libcurl is loaded on first use */
	if (rc)
		return rc;
	c = curl_easy_init();
	if (!c)
		return kf_err_set(err, KF_EENV, "cannot initialise libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kf/" PACKAGE_VERSION);
	cc = curl_easy_perform(c);
	if (sink.too_big)
		rc = kf_err_set(err, KF_EENV, "cannot fetch \"%s\": larger than %zu bytes", url, max);
	else if (cc != CURLE_OK)
		rc = kf_err_set(err, KF_EENV, "cannot fetch \"%s\": %s", url,
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status != 200)
		rc = kf_err_set(err, KF_EENV, "cannot fetch \"%s\": HTTP status %ld", url, status);
	curl_easy_cleanup(c);
	return rc;
}
