# lib/spec: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/spec/kf_pipeline.c lib/spec/kf_pipeline.h \
	lib/spec/kf_component.c lib/spec/kf_tmpl.c lib/spec/kf_fetch.c lib/spec/kf_spec_load.h \
	lib/spec/kf_expr.c lib/spec/kf_expr.h
