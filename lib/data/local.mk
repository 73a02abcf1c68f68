# lib/data: CSV/JSON Lines reader, statistics, schema, validation, drift,
# HTML reports; `kf analyze`; its man page and tests.
libkf_a_SOURCES += \
	lib/data/kf_csv.c lib/data/kf_csv.h

check_PROGRAMS += t/unit/test_csv
t_unit_test_csv_SOURCES = t/unit/test_csv.c t/unit/kf_tap.h
t_unit_test_csv_LDADD = $(KF_LIBS)
TESTS += t/unit/test_csv
