# lib/ml: dense math (CPU, and CUDA when built), feature transforms, the
# built-in models, model bundles, distributed training; `kf train`; its man
# pages and tests.
libkf_a_SOURCES += \
	lib/ml/kf_allreduce.c lib/ml/kf_allreduce.h \
	lib/ml/kf_bundle.c lib/ml/kf_bundle.h \
	lib/ml/kf_dense.c lib/ml/kf_dense.h \
	lib/ml/kf_labelexpr.c lib/ml/kf_labelexpr.h \
	lib/ml/kf_features.c lib/ml/kf_features.h \
	lib/ml/kf_metrics.c lib/ml/kf_metrics.h \
	lib/ml/kf_mf.c lib/ml/kf_mf.h \
	lib/ml/kf_nn.c lib/ml/kf_nn.h \
	lib/ml/kf_rng.h \
	lib/ml/kf_strmap.c lib/ml/kf_strmap.h \
	lib/ml/kf_train.c lib/ml/kf_train.h \
	lib/ml/kf_trainjob.c lib/ml/kf_trainjob.h \
	lib/ml/kf_xgb.c lib/ml/kf_xgb.h

kf_SOURCES += cmd/train.c
dist_man_MANS += man/kf-train.1 man/kf-trainjob.5 man/kf-features.5

check_PROGRAMS += t/unit/test_ml
t_unit_test_ml_SOURCES = t/unit/test_ml.c t/unit/kf_tap.h
t_unit_test_ml_LDADD = $(KF_LIBS)
TESTS += t/unit/test_ml

# CUDA kernels: nvcc compiles lib/ml/cuda/*.cu into libkf.a (--with-cuda).
SUFFIXES = .cu
NVCCFLAGS = -O2 -std=c++14 -Xcompiler -fPIC
.cu.$(OBJEXT):
	$(AM_V_CC)$(NVCC) $(NVCCFLAGS) $(DEFS) -I$(top_builddir) -I$(top_srcdir)/lib $(CJSON_CFLAGS) -c -o $@ $<
if HAVE_CUDA
libkf_a_SOURCES += lib/ml/cuda/kf_dense_cuda.cu
# the CUDA runtime is C++
KF_LIBS += -lstdc++
endif
EXTRA_DIST += lib/ml/cuda/kf_dense_cuda.cu
TESTS += t/5001-train.bats
TESTS += t/5002-trainjob.bats
