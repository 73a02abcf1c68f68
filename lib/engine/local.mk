# lib/engine: the local executor: processes and the DAG scheduler
libkf_a_SOURCES += \
	lib/engine/kf_proc.c lib/engine/kf_proc.h \
	lib/engine/kf_engine.c lib/engine/kf_engine.h
