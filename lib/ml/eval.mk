# lib/ml evaluation (`kf analyze model`): metrics, slices, blessing, the
# command and its tests. Kept apart from lib/ml/local.mk (the trainers').
libkf_a_SOURCES += \
	lib/ml/kf_bless.c lib/ml/kf_bless.h \
	lib/ml/kf_eval.c lib/ml/kf_eval.h \
	lib/ml/kf_eval_html.c lib/ml/kf_eval_html.h \
	lib/ml/kf_evaluate.c lib/ml/kf_evaluate.h \
	lib/ml/kf_slice.c lib/ml/kf_slice.h
kf_SOURCES += cmd/analyze_model.c cmd/analyze_model.h

check_PROGRAMS += t/unit/test_eval
t_unit_test_eval_SOURCES = t/unit/test_eval.c t/unit/kf_tap.h
t_unit_test_eval_LDADD = $(KF_LIBS)
TESTS += t/unit/test_eval
TESTS += t/6501-analyze-model.bats t/6502-analyze-model-sklearn.bats
