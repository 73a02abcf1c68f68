/* kf_dl: libcurl, libarchive, libxgboost and libmicrohttpd, loaded on
 * first use.
 *
 * Linking them costs every kf process ~30 shared libraries (TLS, Kerberos,
 * LDAP, ICU, compressors...) and most of its start-up, for the few commands
 * that fetch, pack, train or serve (libxgboost adds libstdc++, libgomp and
 * their constructors, libmicrohttpd GnuTLS). kf links none of them:
 * kf_dl_curl.c, kf_dl_archive.c, kf_dl_xgboost.c and kf_dl_microhttpd.c
 * define the curl_*, archive_*, XGB* and MHD_* functions kf calls, with the
 * prototypes of <curl/curl.h>, <archive.h>, <xgboost/c_api.h> and
 * <microhttpd.h>, and each forwards to the real one, found with dlopen and
 * dlsym the first time any is called. Code that uses them includes the
 * usual headers and changes nothing, except that it should call kf_dl_curl,
 * kf_dl_archive, kf_dl_xgboost or kf_dl_microhttpd before the first use:
 * they return 0, or KF_EENV with "libcurl.so.4 not found: install
 * libcurl4" (exit 3). Without that call a missing library makes the
 * constructors (curl_easy_init, archive_read_new, MHD_start_daemon...)
 * return NULL and everything else fail, never crash.
 * Loading is thread-safe (pthread_once); the libraries stay loaded. */
#ifndef KF_DL_H
#define KF_DL_H

struct kf_err;

int kf_dl_curl(struct kf_err *err);
int kf_dl_archive(struct kf_err *err);
int kf_dl_xgboost(struct kf_err *err);   /* libxgboost.so.0, when built with it */
int kf_dl_microhttpd(struct kf_err *err); /* libmicrohttpd.so.12, when built with it */

/* ---- for the forwarding modules ---------------------------------------- */

struct kf_dl_lib {
	const char *soname;          /* "libcurl.so.4" */
	const char *package;         /* the Debian package that has it */
	const char *const *names;    /* symbols to resolve, n of them */
	void **fns;                  /* filled with their addresses */
	unsigned n;
	void *handle;                /* NULL until loaded */
	char msg[192];               /* why loading failed */
};

/* Load lib (once; the caller serialises) and resolve all its symbols. */
void kf_dl_load(struct kf_dl_lib *lib);
/* 0 when lib loaded, else KF_EENV with lib->msg. */
int kf_dl_result(const struct kf_dl_lib *lib, struct kf_err *err);

/* What every forwarding module defines, given its static struct kf_dl_lib
 * lib and void *fns[] indexed by F_<function>: the loader (once,
 * thread-safe), the public check kf_dl_<library>(), and the forwarders,
 * which return fail (or do nothing) when the library cannot be loaded. */
#define KF_DL_LOADER(check) \
	static pthread_once_t once = PTHREAD_ONCE_INIT; \
	static void load(void) { kf_dl_load(&lib); } \
	static int loaded(void) { pthread_once(&once, load); return lib.handle != NULL; } \
	int check(struct kf_err *err) { loaded(); return kf_dl_result(&lib, err); }
#define KF_DL_FORWARD(ret, name, params, args, fail) \
	ret name params \
	{ \
		if (!loaded()) \
			return fail; \
		return ((ret (*) params)fns[F_##name]) args; \
	}
#define KF_DL_FORWARD_VOID(name, params, args) \
	void name params \
	{ \
		if (loaded()) \
			((void (*) params)fns[F_##name]) args; \
	}

#endif
