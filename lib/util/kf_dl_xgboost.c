/* The XGBoost C API functions kf calls, forwarding to libxgboost.so.0
 * loaded on first use (see kf_dl.h): libxgboost brings libstdc++, libgomp
 * and libdmlc with their static constructors, ~3 ms of every kf start-up
 * otherwise. Built only when configure found libxgboost. */
#include "config.h"

#include "util/kf_dl.h"
#include "util/kf_err.h"

#ifdef KF_HAVE_XGBOOST
#include <pthread.h>
#include <xgboost/c_api.h>

/* X(name, (parameters), (arguments)): all return int, -1 when not loaded */
#define XGB_FUNCS(X) \
	X(XGBoosterCreate, (const DMatrixHandle dmats[], bst_ulong len, BoosterHandle *out), \
	  (dmats, len, out)) \
	X(XGBoosterEvalOneIter, (BoosterHandle h, int iter, DMatrixHandle dmats[], const char *evnames[], \
				 bst_ulong len, const char **out), (h, iter, dmats, evnames, len, out)) \
	X(XGBoosterFree, (BoosterHandle h), (h)) \
	X(XGBoosterLoadModel, (BoosterHandle h, const char *fname), (h, fname)) \
	X(XGBoosterPredict, (BoosterHandle h, DMatrixHandle dmat, int mask, unsigned ntree, int training, \
			     bst_ulong *out_len, const float **out), (h, dmat, mask, ntree, training, out_len, out)) \
	X(XGBoosterSaveModel, (BoosterHandle h, const char *fname), (h, fname)) \
	X(XGBoosterSetParam, (BoosterHandle h, const char *name, const char *value), (h, name, value)) \
	X(XGBoosterUpdateOneIter, (BoosterHandle h, int iter, DMatrixHandle dtrain), (h, iter, dtrain)) \
	X(XGDMatrixCreateFromMat, (const float *data, bst_ulong nrow, bst_ulong ncol, float missing, \
				   DMatrixHandle *out), (data, nrow, ncol, missing, out)) \
	X(XGDMatrixFree, (DMatrixHandle h), (h)) \
	X(XGDMatrixSetFloatInfo, (DMatrixHandle h, const char *field, const float *array, bst_ulong len), \
	  (h, field, array, len))

#define ENUM_X(name, params, args) F_##name,
enum { XGB_FUNCS(ENUM_X) F_XGBGetLastError, F_N };

#define NAME_X(name, params, args) #name,
static const char *const names[F_N] = { XGB_FUNCS(NAME_X) "XGBGetLastError" };

static void *fns[F_N];
static struct kf_dl_lib lib = { "libxgboost.so.0", "libxgboost0", names, fns, F_N, NULL, "" };
KF_DL_LOADER(kf_dl_xgboost)

#define DEF_X(name, params, args) KF_DL_FORWARD(int, name, params, args, -1)
XGB_FUNCS(DEF_X)

/* After a -1 from any of the above: the library's message, or why it
 * could not be loaded. */
const char *XGBGetLastError(void);   /* c_api.h declares it without a prototype */

const char *XGBGetLastError(void)
{
	if (!loaded())
		return lib.msg;
	return ((const char *(*)(void))fns[F_XGBGetLastError])();
}
#else
int kf_dl_xgboost(struct kf_err *err)
{
	return kf_err_set(err, KF_EENV, "kf was built without libxgboost");
}
#endif
