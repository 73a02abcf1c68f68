# lib/spec: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/spec/kf_pipeline.c lib/spec/kf_pipeline.h \
	lib/spec/kf_component.c lib/spec/kf_tmpl.c lib/spec/kf_fetch.c lib/spec/kf_spec_load.h \
	lib/spec/kf_expr.c lib/spec/kf_expr.h

check_PROGRAMS += t/unit/test_spec
t_unit_test_spec_SOURCES = t/unit/test_spec.c t/unit/kf_tap.h
t_unit_test_spec_LDADD = $(KF_LIBS)
TESTS += t/unit/test_spec
TESTS += t/1001-compile.bats t/1002-spec-errors.bats
