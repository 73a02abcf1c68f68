# kf lineage: queries over the store (lib/store/kf_lineage) and its command
libkf_a_SOURCES += lib/store/kf_lineage.c lib/store/kf_lineage.h
kf_SOURCES += cmd/lineage.c
dist_man_MANS += man/kf-lineage.1
TESTS += t/8001-lineage.bats
TESTS += t/8002-lineage-e2e.bats
