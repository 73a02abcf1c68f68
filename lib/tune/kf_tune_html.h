/* kf_tune_html: an experiment as a self-contained HTML page (no scripts, no
 * external files): a summary, the objective over the trials with the best
 * so far, a parallel-coordinates SVG of every parameter against the
 * objective, and the trials table. doc is kf_tune's experiment document. */
#ifndef KF_TUNE_HTML_H
#define KF_TUNE_HTML_H

#include <cjson/cJSON.h>

/* Caller frees. */
char *kf_tune_html(const cJSON *doc);

#endif
