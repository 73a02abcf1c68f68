/* The curl_* functions kf calls, forwarding to libcurl.so.4 loaded on first
 * use (see kf_dl.h). */
#include "config.h"

#define CURL_DISABLE_TYPECHECK 1   /* curl_easy_setopt/getinfo are defined here */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>

#include "util/kf_dl.h"

/* X(return type, name, (parameters), (arguments), value when not loaded);
 * XV for the void ones. */
#define CURL_FUNCS(X, XV) \
	X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT) \
	XV(curl_global_cleanup, (void), ()) \
	X(CURL *, curl_easy_init, (void), (), NULL) \
	X(CURLcode, curl_easy_perform, (CURL *curl), (curl), CURLE_FAILED_INIT) \
	XV(curl_easy_cleanup, (CURL *curl), (curl)) \
	XV(curl_easy_reset, (CURL *curl), (curl)) \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data), \
	  (list, data), NULL) \
	XV(curl_slist_free_all, (struct curl_slist *list), (list)) \
	X(curl_mime *, curl_mime_init, (CURL *easy), (easy), NULL) \
	XV(curl_mime_free, (curl_mime *mime), (mime)) \
	X(curl_mimepart *, curl_mime_addpart, (curl_mime *mime), (mime), NULL) \
	X(CURLcode, curl_mime_name, (curl_mimepart *part, const char *name), (part, name), \
	  CURLE_FAILED_INIT) \
	X(CURLcode, curl_mime_filename, (curl_mimepart *part, const char *filename), \
	  (part, filename), CURLE_FAILED_INIT) \
	X(CURLcode, curl_mime_type, (curl_mimepart *part, const char *mimetype), \
	  (part, mimetype), CURLE_FAILED_INIT) \
	X(CURLcode, curl_mime_data, (curl_mimepart *part, const char *data, size_t datasize), \
	  (part, data, datasize), CURLE_FAILED_INIT) \
	X(char *, curl_easy_escape, (CURL *handle, const char *string, int length), \
	  (handle, string, length), NULL) \
	XV(curl_free, (void *p), (p))

#define ENUM_X(ret, name, params, args, fail) F_##name,
#define ENUM_XV(name, params, args) F_##name,
enum { CURL_FUNCS(ENUM_X, ENUM_XV) F_curl_easy_setopt, F_curl_easy_getinfo,
       F_curl_easy_strerror, F_curl_version, F_N };

#define NAME_X(ret, name, params, args, fail) #name,
#define NAME_XV(name, params, args) #name,
static const char *const names[F_N] = {
	CURL_FUNCS(NAME_X, NAME_XV) "curl_easy_setopt", "curl_easy_getinfo",
	"curl_easy_strerror", "curl_version",
};

static void *fns[F_N];
static struct kf_dl_lib lib = { "libcurl.so.4", "libcurl4", names, fns, F_N, NULL, "" };
KF_DL_LOADER(kf_dl_curl)

#define DEF_X KF_DL_FORWARD
#define DEF_XV KF_DL_FORWARD_VOID
CURL_FUNCS(DEF_X, DEF_XV)

/* The option number says the type of the one variadic argument
 * (CURLOPTTYPE_*): pass it on as that type. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	CURLcode (*f)(CURL *, CURLoption, ...);
	CURLcode rc;
	va_list ap;

	if (!loaded())
		return CURLE_FAILED_INIT;
	f = (CURLcode (*)(CURL *, CURLoption, ...))fns[F_curl_easy_setopt];
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = f(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = f(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = f(curl, option, va_arg(ap, void (*)(void)));
#ifdef CURLOPTTYPE_BLOB
	else if (option >= CURLOPTTYPE_BLOB)
		rc = f(curl, option, va_arg(ap, void *));   /* struct curl_blob * */
#endif
	else
		rc = f(curl, option, va_arg(ap, curl_off_t));
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	CURLcode (*f)(CURL *, CURLINFO, ...);
	CURLcode rc;
	va_list ap;

	if (!loaded())
		return CURLE_FAILED_INIT;
	f = (CURLcode (*)(CURL *, CURLINFO, ...))fns[F_curl_easy_getinfo];
	va_start(ap, info);
	rc = f(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
	if (!loaded())
		return lib.msg;
	return ((const char *(*)(CURLcode))fns[F_curl_easy_strerror])(code);
}

char *curl_version(void)
{
	static char none[] = "";

	if (!loaded())
		return none;
	return ((char *(*)(void))fns[F_curl_version])();
}
