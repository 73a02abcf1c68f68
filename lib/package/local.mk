# lib/package: sources, command, man pages and tests of this area
libkf_a_SOURCES += lib/package/kf_package.c lib/package/kf_package.h
