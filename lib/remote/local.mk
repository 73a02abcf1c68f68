# lib/remote: Kubeflow Pipelines and Kubernetes clients (libcurl), kf upload,
# kf run --remote, and their tests against the protocol double t/kfp_double.py
libkf_a_SOURCES += \
	lib/remote/kf_config.c lib/remote/kf_config.h \
	lib/remote/kf_http.c lib/remote/kf_http.h \
	lib/remote/kf_kfp.c lib/remote/kf_kfp.h \
	lib/remote/kf_kube.c lib/remote/kf_kube.h \
	lib/remote/kf_submit.c lib/remote/kf_submit.h

kf_SOURCES += cmd/upload.c cmd/run_remote.c cmd/run_remote.h
dist_man_MANS += man/kf-upload.1
EXTRA_DIST += t/kfp_double.py
TESTS += t/2001-upload.bats

check_PROGRAMS += t/unit/test_remote
t_unit_test_remote_SOURCES = t/unit/test_remote.c t/unit/kf_tap.h
t_unit_test_remote_LDADD = $(KF_LIBS)
TESTS += t/unit/test_remote
TESTS += t/2002-run-remote.bats
