/* kf_eval_html: a `kf analyze model` result (kf_evaluate.h) as one
 * self-contained HTML file: no scripts or styles from elsewhere, no
 * network. Metrics per slice as a table that sorts on a header click (a
 * few lines of inline JavaScript), an SVG bar chart per metric with the
 * models side by side, and for the overall slice the ROC and
 * precision-recall curves and the calibration plot, models overlaid. */
#ifndef KF_EVAL_HTML_H
#define KF_EVAL_HTML_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_buf;

/* metrics[0..n): the metrics the table and bar charts show. */
void kf_eval_html(const cJSON *doc, const char *const *metrics, size_t n, struct kf_buf *out);

#endif
