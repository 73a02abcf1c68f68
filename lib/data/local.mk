# lib/data: CSV/JSON Lines reader, sketches, statistics, schema, validation,
# drift, HTML reports; `kf analyze`; its man page and tests.
libkf_a_SOURCES += \
	lib/data/kf_csv.c lib/data/kf_csv.h \
	lib/data/kf_drift.c lib/data/kf_drift.h \
	lib/data/kf_record.c lib/data/kf_record.h \
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
TESTS += t/6005-analyze-store.bats

# libFuzzer target for the CSV / JSON Lines reader (clang only).
FUZZ_CSV_TIME = 60
FUZZ_CSV_SRCS = t/fuzz/fuzz_csv.c lib/data/kf_csv.c lib/util/kf_buf.c lib/util/kf_err.c lib/util/kf_mem.c
if HAVE_CLANG
t/fuzz/fuzz_csv: $(FUZZ_CSV_SRCS:%=$(srcdir)/%)
	@mkdir -p t/fuzz
	$(CLANG) -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined \
		-I$(top_srcdir)/lib -I$(top_builddir) $(CJSON_CFLAGS) $(ARCHIVE_CFLAGS) \
		-o $@ $(FUZZ_CSV_SRCS:%=$(srcdir)/%) $(CJSON_LIBS) $(ARCHIVE_LIBS) -lm

# Run it FUZZ_CSV_TIME seconds on a corpus seeded from the fixtures.
fuzz-csv: t/fuzz/fuzz_csv
	@mkdir -p t/fuzz/corpus-csv
	for f in $(srcdir)/t/fixtures/6001/*.tsv $(srcdir)/t/fixtures/6003/*.csv; do \
		printf ',' | cat - "$$f" >t/fuzz/corpus-csv/seed-$$(basename "$$f"); done
	printf '\001a,b\n1,"x\n""y"\n' >t/fuzz/corpus-csv/seed-quoted
	printf '\002{"a": 1, "b": [1]}\n{"c": null}\n' >t/fuzz/corpus-csv/seed-jsonl
	t/fuzz/fuzz_csv -max_total_time=$(FUZZ_CSV_TIME) -artifact_prefix=t/fuzz/ \
		-max_len=4096 -timeout=10 t/fuzz/corpus-csv
else
fuzz-csv:
	@echo "fuzz-csv: clang was not found by configure" >&2; exit 1
endif
.PHONY: fuzz-csv
CLEANFILES += t/fuzz/fuzz_csv
TESTS += t/6006-analyze-example.bats
