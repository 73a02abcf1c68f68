/* kf analyze model: sliced evaluation, comparison and blessing of models. */
#ifndef KF_CMD_ANALYZE_MODEL_H
#define KF_CMD_ANALYZE_MODEL_H

#include "kf_cmd.h"

extern const struct kf_cmd kf_cmd_analyze_model;

#endif
