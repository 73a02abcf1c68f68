#include "config.h"

#include "util/kf_dl.h"
#include "util/kf_err.h"

#include <dlfcn.h>
#include <stdio.h>

void kf_dl_load(struct kf_dl_lib *lib)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	unsigned i;

	if (!h) {
		snprintf(lib->msg, sizeof lib->msg, "%s not found: install %s", lib->soname, lib->package);
		return;
	}
	for (i = 0; i < lib->n; i++) {
		lib->fns[i] = dlsym(h, lib->names[i]);
		if (!lib->fns[i]) {
			snprintf(lib->msg, sizeof lib->msg, "%s has no \"%s\": install a newer %s",
				 lib->soname, lib->names[i], lib->package);
			dlclose(h);
			return;
		}
	}
	lib->handle = h;
}

int kf_dl_result(const struct kf_dl_lib *lib, struct kf_err *err)
{
	if (lib->handle)
		return 0;
	return kf_err_set(err, KF_EENV, "%s", lib->msg);
}
