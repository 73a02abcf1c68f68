# lib/argo: sources, command, man pages and tests of this area
libkf_a_SOURCES += lib/argo/kf_argo_emit.c lib/argo/kf_argo_emit.h
kf_SOURCES += cmd/compile.c
dist_man_MANS += man/kf-compile.1 man/kf-pipeline.5
