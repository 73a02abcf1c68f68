# lib/spec: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/spec/kf_pipeline.c lib/spec/kf_pipeline.h \
	lib/spec/kf_component.c lib/spec/kf_tmpl.c lib/spec/kf_fetch.c lib/spec/kf_spec_load.h \
	lib/spec/kf_expr.c lib/spec/kf_expr.h

check_PROGRAMS += t/unit/test_spec
t_unit_test_spec_SOURCES = t/unit/test_spec.c t/unit/kf_tap.h
t_unit_test_spec_LDADD = $(KF_LIBS)
TESTS += t/unit/test_spec
TESTS += t/1001-compile.bats t/1002-spec-errors.bats t/1005-lazy-libs.bats
EXTRA_DIST += t/1001-compile.bats t/1002-spec-errors.bats t/1005-lazy-libs.bats

# libFuzzer target for the spec + component loader (clang only): the library
# sources it reaches are compiled into it with coverage instrumentation.
FUZZ_TIME = 60
FUZZ_SPEC_SRCS = t/fuzz/fuzz_spec.c lib/spec/kf_pipeline.c lib/spec/kf_component.c \
	lib/spec/kf_tmpl.c lib/spec/kf_fetch.c lib/spec/kf_expr.c lib/argo/kf_argo_emit.c \
	lib/util/kf_buf.c lib/util/kf_err.c lib/util/kf_fs.c lib/util/kf_mem.c lib/util/kf_sha256.c \
	lib/util/kf_str.c lib/util/kf_time.c lib/util/kf_yaml.c lib/util/kf_dl.c lib/util/kf_dl_curl.c
if HAVE_CLANG
t/fuzz/fuzz_spec: $(FUZZ_SPEC_SRCS:%=$(srcdir)/%)
	@mkdir -p t/fuzz
	$(CLANG) -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-I$(top_srcdir)/lib -I$(top_builddir) $(YAML_CFLAGS) $(CJSON_CFLAGS) $(CURL_CFLAGS) \
		-o $@ $(FUZZ_SPEC_SRCS:%=$(srcdir)/%) $(YAML_LIBS) $(CJSON_LIBS) $(LIBS) -lm

# Run it FUZZ_TIME seconds on a corpus seeded from examples/ and the fixtures.
fuzz-spec: t/fuzz/fuzz_spec
	@mkdir -p t/fuzz/corpus-spec
	cp $(srcdir)/examples/basic/*.yaml $(srcdir)/t/fixtures/1001/*.yaml \
		$(srcdir)/t/fixtures/1002/*.yaml t/fuzz/corpus-spec/
	cd $(srcdir)/t/fixtures/1002 && $(abs_builddir)/t/fuzz/fuzz_spec -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=$(abs_builddir)/t/fuzz/ \
		-max_len=8192 -timeout=10 -dict=$(abs_srcdir)/t/fuzz/spec.dict $(abs_builddir)/t/fuzz/corpus-spec
else
fuzz-spec:
	@echo "fuzz-spec: clang was not found by configure" >&2; exit 1
endif
fuzz: fuzz-spec
.PHONY: fuzz fuzz-spec
CLEANFILES += t/fuzz/fuzz_spec
