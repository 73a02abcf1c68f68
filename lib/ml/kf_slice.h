/* kf_slice: slicing specs and the grouping of rows into slices, with the
 * semantics of TensorFlow Model Analysis' SlicingSpec:
 *
 *   (no spec)                          the overall slice, always present
 *   trip_start_hour                    one slice per value of the column
 *   trip_start_hour=12                 one slice: the rows where it is 12
 *   trip_start_day,trip_start_hour     one slice per pair of values (a cross)
 *   trip_start_day,trip_start_hour=12  one slice per day, among rows at 12
 *
 * A row with a missing (empty) value in any column of a spec is in no slice
 * of that spec. Values are compared as numbers when both sides are numbers
 * ("12" matches "12.0") and as text otherwise; a slice is named by its
 * canonical values ("trip_start_day=3,trip_start_hour=12"), numbers in
 * shortest form. Every row is in the overall slice and in at most one
 * slice per spec.
 *
 *   struct kf_slicer *s;
 *   kf_slicer_new(&s, specs, n_specs, err);
 *   kf_slicer_resolve(s, column_names, n_columns, err);
 *   per row:  n = kf_slicer_row(s, values, ids);   ids[0] is 0, the overall
 *   order = kf_slicer_order(s, &n);                 overall, then by spec
 *   kf_slicer_free(s);
 *
 * Rows are mapped through a cache keyed by their raw cells, so the cost per
 * row and spec is one hash lookup once a value has been seen. */
#ifndef KF_SLICE_H
#define KF_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;

struct kf_slice_spec {
	char *text;      /* as given */
	size_t n;        /* columns crossed */
	char **cols;
	char **values;   /* fixed value of column i, or NULL for every value */
	long *idx;       /* column index once resolved */
};

struct kf_slice {
	char *name;      /* "Overall", or "col=value[,col=value]..." */
	long spec;       /* index of its spec, -1 for the overall slice */
	char **values;   /* canonical value per column of the spec */
	uint64_t count;  /* rows seen */
};

struct kf_slicer;

/* Parse the specs (texts[0..n)); errors name the spec. */
int kf_slicer_new(struct kf_slicer **out, const char *const *texts, size_t n, struct kf_err *err);
void kf_slicer_free(struct kf_slicer *s);

/* Resolve the spec columns against the data's names; an unknown column is
 * KF_EINPUT with a "did you mean". */
int kf_slicer_resolve(struct kf_slicer *s, const char *const *names, size_t n,
		      struct kf_err *err);

size_t kf_slicer_n_specs(const struct kf_slicer *s);
const struct kf_slice_spec *kf_slicer_spec(const struct kf_slicer *s, size_t i);

/* The slices row values[] (by column; "" or NULL missing) belongs to:
 * writes ids (room for 1 + n_specs) and returns how many; ids[0] == 0. */
size_t kf_slicer_row(struct kf_slicer *s, const char *const *values, size_t *ids);

size_t kf_slicer_count(const struct kf_slicer *s);
const struct kf_slice *kf_slicer_get(const struct kf_slicer *s, size_t id);

/* Slice ids in display order: overall, then each spec's slices in spec
 * order, values ascending (numbers numerically, before text). Caller frees. */
size_t *kf_slicer_order(const struct kf_slicer *s, size_t *n);

/* The first spec no row fell into, or -1. */
long kf_slicer_empty_spec(const struct kf_slicer *s);

/* {"name": ..., "features": {"col": "value", ...}} for a slice. */
cJSON *kf_slice_json(const struct kf_slicer *s, size_t id);

#endif
