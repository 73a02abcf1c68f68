# lib/util: errors, memory, buffers, strings, hashing, files, time, YAML, output
libkf_a_SOURCES += \
	lib/util/kf_buf.c lib/util/kf_buf.h \
	lib/util/kf_dl.c lib/util/kf_dl.h lib/util/kf_dl_curl.c lib/util/kf_dl_archive.c \
	lib/util/kf_dl_xgboost.c lib/util/kf_dl_microhttpd.c \
	lib/util/kf_err.c lib/util/kf_err.h \
	lib/util/kf_fs.c lib/util/kf_fs.h \
	lib/util/kf_mem.c lib/util/kf_mem.h \
	lib/util/kf_output.c lib/util/kf_output.h \
	lib/util/kf_sha256.c lib/util/kf_sha256.h \
	lib/util/kf_str.c lib/util/kf_str.h \
	lib/util/kf_time.c lib/util/kf_time.h \
	lib/util/kf_yaml.c lib/util/kf_yaml.h

check_PROGRAMS += t/unit/test_util
t_unit_test_util_SOURCES = t/unit/test_util.c t/unit/kf_tap.h
t_unit_test_util_LDADD = $(KF_LIBS)
TESTS += t/unit/test_util

check_PROGRAMS += t/unit/test_yaml_emit
t_unit_test_yaml_emit_SOURCES = t/unit/test_yaml_emit.c t/unit/kf_tap.h
t_unit_test_yaml_emit_LDADD = $(KF_LIBS)
TESTS += t/unit/test_yaml_emit
