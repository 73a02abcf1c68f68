# lib/store: the SQLite metadata store and content-addressed artifacts
libkf_a_SOURCES += lib/store/kf_store.c lib/store/kf_store.h
dist_man_MANS += man/kf-store.5

check_PROGRAMS += t/unit/test_store
t_unit_test_store_SOURCES = t/unit/test_store.c t/unit/kf_tap.h
t_unit_test_store_LDADD = $(KF_LIBS)
TESTS += t/unit/test_store
