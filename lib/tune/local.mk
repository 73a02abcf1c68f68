# lib/tune: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/tune/kf_prng.c lib/tune/kf_prng.h \
	lib/tune/kf_experiment.c lib/tune/kf_experiment.h \
	lib/tune/kf_collect.c lib/tune/kf_collect.h \
	lib/tune/kf_suggest.c lib/tune/kf_suggest.h \
	lib/tune/kf_sobol.c lib/tune/kf_sobol.h \
	lib/tune/kf_tpe.c lib/tune/kf_tpe.h \
	lib/tune/kf_gp.c lib/tune/kf_gp.h \
	lib/tune/kf_cmaes.c lib/tune/kf_cmaes.h \
	lib/tune/kf_medianstop.c lib/tune/kf_medianstop.h \
	lib/tune/kf_tune.c lib/tune/kf_tune.h \
	lib/tune/kf_tune_html.c lib/tune/kf_tune_html.h \
	lib/tune/kf_katib.c lib/tune/kf_katib.h

check_PROGRAMS += t/unit/test_tune
t_unit_test_tune_SOURCES = t/unit/test_tune.c t/unit/kf_tap.h
t_unit_test_tune_LDADD = $(KF_LIBS)
TESTS += t/unit/test_tune

kf_SOURCES += cmd/tune.c
dist_man_MANS += man/kf-tune.1 man/kf-experiment.5
TESTS += t/4001-tune.bats
