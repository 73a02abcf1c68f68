# lib/tune: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/tune/kf_rng.c lib/tune/kf_rng.h \
	lib/tune/kf_experiment.c lib/tune/kf_experiment.h \
	lib/tune/kf_metrics.c lib/tune/kf_metrics.h
