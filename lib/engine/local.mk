# lib/engine: the local executor: processes and the DAG scheduler
libkf_a_SOURCES += \
	lib/engine/kf_proc.c lib/engine/kf_proc.h \
	lib/engine/kf_engine.c lib/engine/kf_engine.h

# Argo Workflow import (kf run PACKAGE); lib/argo/local.mk is the emitter's.
libkf_a_SOURCES += lib/argo/kf_argo_import.c lib/argo/kf_argo_import.h

kf_SOURCES += cmd/run.c
dist_man_MANS += man/kf-run.1
TESTS += t/3001-run.bats
TESTS += t/3002-cache.bats t/3003-store.bats t/3004-resume.bats t/3005-argo.bats t/3006-manage.bats

check_PROGRAMS += t/unit/test_engine
t_unit_test_engine_SOURCES = t/unit/test_engine.c t/unit/kf_tap.h
t_unit_test_engine_LDADD = $(KF_LIBS)
TESTS += t/unit/test_engine
