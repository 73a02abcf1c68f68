/* kf_labelexpr: the tiny expression language of --label-expr, e.g.
 *   tips > 0.2 * fare
 *   payment_type == "Credit Card" && fare >= 5
 *
 * Numbers, column names (letters, digits, '_', '.'), "strings" and
 * 'strings', + - * /, comparisons == != < <= > >=, && || ! and parentheses.
 * == and != compare text when either side is a string literal, numbers
 * otherwise. A missing or non-numeric cell is NaN in arithmetic, and any
 * comparison with NaN is false (so the TFX taxi label is 0 when fare is
 * missing). Nothing is executed: the expression is parsed once into a tree
 * and evaluated per row. */
#ifndef KF_LABELEXPR_H
#define KF_LABELEXPR_H

#include <stddef.h>

struct kf_err;
struct kf_labelexpr;

/* Parse text; column names are resolved against names[0..n). */
int kf_labelexpr_parse(struct kf_labelexpr **out, const char *text, const char *const *names, size_t n,
		  struct kf_err *err);
void kf_labelexpr_free(struct kf_labelexpr *e);

/* Value for one row, values[i] the text of column i ("" or NULL = missing).
 * Comparisons and logic give 1 or 0; arithmetic may give NaN. */
double kf_labelexpr_eval(const struct kf_labelexpr *e, const char *const *values);

/* The columns the expression reads: *cols (caller frees) of *n indices. */
void kf_labelexpr_columns(const struct kf_labelexpr *e, size_t **cols, size_t *n);

#endif
