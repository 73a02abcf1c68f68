/* kf_report: self-contained HTML reports — one file, inline CSS and SVG,
 * no script and nothing fetched — readable in any browser without Jupyter.
 *
 * A generic builder (headings, paragraphs, tables whose rows can be
 * highlighted, cells holding text or an inline SVG chart) and the SVG
 * charts (histogram, horizontal bars), then the pages kf analyze prints:
 * statistics (the Facets-overview layout: one row per feature with its
 * missing share and a chart, anomalies highlighted) and drift.
 *
 *   struct kf_report *r = kf_report_new("title");
 *   kf_report_heading(r, 2, "features");
 *   kf_report_table_begin(r, (const char *[]){ "feature", "chart", NULL });
 *   kf_report_row_begin(r, false); kf_report_cell(r, "fare"); ...
 *   char *html = kf_report_finish(r);    (the caller frees html; r is gone) */
#ifndef KF_REPORT_H
#define KF_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_stats_result;

struct kf_report;

struct kf_report *kf_report_new(const char *title);
void kf_report_free(struct kf_report *r);
char *kf_report_finish(struct kf_report *r);

void kf_report_heading(struct kf_report *r, int level, const char *text);
void kf_report_text(struct kf_report *r, const char *text);           /* a paragraph */
void kf_report_note(struct kf_report *r, bool bad, const char *text); /* a coloured banner */
void kf_report_table_begin(struct kf_report *r, const char *const *headers);  /* NULL-terminated */
void kf_report_row_begin(struct kf_report *r, bool highlight);
void kf_report_cell(struct kf_report *r, const char *text);
void kf_report_cellf(struct kf_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kf_report_cell_html(struct kf_report *r, const char *html);     /* trusted markup (SVG) */
void kf_report_row_end(struct kf_report *r);
void kf_report_table_end(struct kf_report *r);

/* SVG charts appended to out. */
void kf_report_svg_histogram(struct kf_buf *out, const double *lo, const double *hi, const double *count,
			     size_t n);
void kf_report_svg_bars(struct kf_buf *out, const char *const *labels, const double *values, size_t n);
/* A small bar showing a share 0..1 (the missing-values column). */
void kf_report_svg_share(struct kf_buf *out, double share);

/* The statistics page; anomalies (a kf_validate list, or NULL) are listed
 * first and their features' rows highlighted. */
char *kf_report_stats_html(struct kf_stats_result *res, const cJSON *anomalies, const char *title);
/* The drift page for a kf_drift_compare list. */
char *kf_report_drift_html(const cJSON *drift, const char *title);

#endif
