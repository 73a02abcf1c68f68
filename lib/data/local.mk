# lib/data: CSV/JSON Lines reader, sketches, statistics, schema, validation,
# drift, HTML reports; `kf analyze`; its man page and tests.
libkf_a_SOURCES += \
	lib/data/kf_csv.c lib/data/kf_csv.h \
	lib/data/kf_drift.c lib/data/kf_drift.h \
	lib/data/kf_report.c lib/data/kf_report.h \
	lib/data/kf_schema.c lib/data/kf_schema.h \
	lib/data/kf_sketch.c lib/data/kf_sketch.h \
	lib/data/kf_stats.c lib/data/kf_stats.h \
	lib/data/kf_validate.c lib/data/kf_validate.h
kf_SOURCES += cmd/analyze.c
dist_man_MANS += man/kf-analyze.1

check_PROGRAMS += t/unit/test_csv t/unit/test_stats
t_unit_test_csv_SOURCES = t/unit/test_csv.c t/unit/kf_tap.h
t_unit_test_csv_LDADD = $(KF_LIBS)
t_unit_test_stats_SOURCES = t/unit/test_stats.c t/unit/kf_tap.h
t_unit_test_stats_LDADD = $(KF_LIBS)
TESTS += t/unit/test_csv t/unit/test_stats
TESTS += t/6001-analyze-stats.bats
TESTS += t/6002-analyze-schema.bats t/6003-analyze-validate.bats
TESTS += t/6004-analyze-drift.bats
