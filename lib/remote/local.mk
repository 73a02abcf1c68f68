# lib/remote: sources, command, man pages and tests of this area
libkf_a_SOURCES += \
	lib/remote/kf_config.c lib/remote/kf_config.h \
	lib/remote/kf_http.c lib/remote/kf_http.h \
	lib/remote/kf_kfp.c lib/remote/kf_kfp.h
