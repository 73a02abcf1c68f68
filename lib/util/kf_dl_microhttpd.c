/* The libmicrohttpd functions kf calls, forwarding to libmicrohttpd.so.12
 * loaded on first use (see kf_dl.h): it brings GnuTLS and eight more
 * libraries, ~2 ms of every kf start-up otherwise, for `kf serve` alone.
 * Built only when configure found libmicrohttpd. */
#include "config.h"

#include "util/kf_dl.h"
#include "util/kf_err.h"

#ifdef KF_HAVE_MICROHTTPD
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

#define C struct MHD_Connection *c
#define R struct MHD_Response *r
#define D struct MHD_Daemon *d

/* X(return type, name, (parameters), (arguments), value when not loaded);
 * XV for the void ones. */
#define MHD_FUNCS(X, XV) \
	X(enum MHD_Result, MHD_add_response_header, (R, const char *h, const char *v), (r, h, v), MHD_NO) \
	X(struct MHD_Response *, MHD_create_response_from_buffer, \
	  (size_t size, void *buf, enum MHD_ResponseMemoryMode mode), (size, buf, mode), NULL) \
	XV(MHD_destroy_response, (R), (r)) \
	X(const char *, MHD_lookup_connection_value, (C, enum MHD_ValueKind kind, const char *key), \
	  (c, kind, key), NULL) \
	X(enum MHD_Result, MHD_queue_response, (C, unsigned int status, R), (c, status, r), MHD_NO) \
	X(MHD_socket, MHD_quiesce_daemon, (D), (d), MHD_INVALID_SOCKET) \
	XV(MHD_resume_connection, (C), (c)) \
	XV(MHD_suspend_connection, (C), (c)) \
	XV(MHD_stop_daemon, (D), (d))

#define ENUM_X(ret, name, params, args, fail) F_##name,
#define ENUM_XV(name, params, args) F_##name,
enum { MHD_FUNCS(ENUM_X, ENUM_XV) F_MHD_start_daemon_va, F_MHD_get_connection_info, F_N };

#define NAME_X(ret, name, params, args, fail) #name,
#define NAME_XV(name, params, args) #name,
static const char *const names[F_N] = {
	MHD_FUNCS(NAME_X, NAME_XV) "MHD_start_daemon_va", "MHD_get_connection_info",
};

static void *fns[F_N];
static struct kf_dl_lib lib = { "libmicrohttpd.so.12", "libmicrohttpd12", names, fns, F_N, NULL, "" };
KF_DL_LOADER(kf_dl_microhttpd)

#define DEF_X KF_DL_FORWARD
#define DEF_XV KF_DL_FORWARD_VOID
MHD_FUNCS(DEF_X, DEF_XV)

/* The option list goes on as a va_list, to MHD_start_daemon_va. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				     void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	if (!loaded())
		return NULL;
	va_start(ap, dh_cls);
	d = ((struct MHD_Daemon *(*)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
				     MHD_AccessHandlerCallback, void *, va_list))fns[F_MHD_start_daemon_va])(
		flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* No info type kf asks for takes an argument after info_type. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
							enum MHD_ConnectionInfoType type, ...)
{
	if (!loaded())
		return NULL;
	return ((const union MHD_ConnectionInfo *(*)(struct MHD_Connection *, enum MHD_ConnectionInfoType,
						     ...))fns[F_MHD_get_connection_info])(c, type);
}
#else
int kf_dl_microhttpd(struct kf_err *err)
{
	return kf_err_set(err, KF_EENV, "kf was built without libmicrohttpd");
}
#endif
