# lib/serve: sources, command, man pages and tests of this area.
# The repository, batching and metrics need no HTTP library and are always
# built (and unit-tested); the server and `kf serve` need libmicrohttpd.
libkf_a_SOURCES += \
	lib/serve/kf_batch.c lib/serve/kf_batch.h \
	lib/serve/kf_metrics.c lib/serve/kf_metrics.h \
	lib/serve/kf_repo.c lib/serve/kf_repo.h

if HAVE_MICROHTTPD
libkf_a_SOURCES += \
	lib/serve/kf_http.c lib/serve/kf_http.h \
	lib/serve/kf_model.c lib/serve/kf_model.h \
	lib/serve/kf_proto.c lib/serve/kf_proto.h \
	lib/serve/kf_server.c lib/serve/kf_server.h
kf_SOURCES += cmd/serve.c
dist_man_MANS += man/kf-serve.1
TESTS += t/7001-serve.bats t/7002-serve-taxi.bats
endif
EXTRA_DIST += man/kf-serve.1 t/7001-serve.bats t/7002-serve-taxi.bats

check_PROGRAMS += t/unit/test_serve
t_unit_test_serve_SOURCES = t/unit/test_serve.c t/unit/kf_tap.h
t_unit_test_serve_LDADD = $(KF_LIBS)
TESTS += t/unit/test_serve
