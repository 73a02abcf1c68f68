/* kf_stats: per-feature statistics of tabular data in one pass, with
 * memory bounded by the number of columns (and slices), not by the rows.
 *
 * For every column: values present and missing (an empty field), the
 * kinds of the values seen (bool, int, float, string) and their join, the
 * column's type. For numbers: mean and standard deviation (shifted sums:
 * the population deviation, as TFDV reports it), zeros, NaN and infinities,
 * min and max (exact), quantiles and the median from a kf_quant sketch
 * (rank error reported), histograms derived from the sketch. For strings
 * and booleans: distinct values, top values with counts, average length
 * (kf_freq: exact up to its cap, then Misra-Gries and HyperLogLog).
 *
 * A column starts counting its values as strings at its first value that
 * is not a number (or from the start when named in as_strings): the top
 * values of a column that turns from numbers to strings cover the values
 * from that point on.
 *
 * Several inputs accumulate into one dataset, columns matched by name; a
 * column one input lacks is missing in its rows. With a slice column, each
 * of its values (up to KF_STATS_MAX_SLICES) also gets its own dataset.
 *
 * Rows are read in batches; the columns of a batch are shared out between
 * threads (each column, in every dataset, only ever updated by one), so
 * the results do not depend on the number of threads. When waiting for the
 * other threads takes longer than the reading thread's own share (CPUs
 * busy elsewhere), the reading thread goes on alone. */
#ifndef KF_STATS_H
#define KF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/kf_csv.h"
#include "data/kf_sketch.h"

struct kf_err;
struct kf_strv;
struct kf_stats_dict;

#define KF_STATS_MAX_SLICES 100
#define KF_STATS_TOP 20          /* top values in the output */
#define KF_STATS_BUCKETS 10      /* histogram buckets */

struct kf_stats_feature {
	char *name;
	enum kf_csv_type type;        /* join of the kinds of the present values */
	uint64_t present;
	uint64_t n_bool, n_int, n_float, n_string;
	/* numbers (int and float values) */
	uint64_t num;                 /* numeric values, NaN and infinities included */
	uint64_t finite, zeros, nan, pinf, ninf;
	double shift, s1, s2;         /* sums of (v - shift) and its square, shift = the first value */
	double mean, m2, min, max;    /* over the finite values (mean, m2 set by kf_stats_compute) */
	struct kf_quant quant;
	struct kf_stats_dict *dict;   /* numbers by their text while few (see kf_stats.c) */
	bool dict_off;
	/* strings and booleans */
	bool counting_strings;
	struct kf_freq freq;
};

struct kf_stats {
	char *name;                   /* "all", or "COL=VALUE" for a slice */
	uint64_t rows;
	struct kf_stats_feature *f;   /* in order of first appearance */
	size_t n;
};

struct kf_stats_opts {
	const char *slice;                 /* column to slice by, or NULL */
	bool skip_bad_rows;
	const struct kf_strv *as_strings;  /* columns counted as strings from the start */
	enum kf_csv_format format;         /* KF_CSV_AUTO unless told */
	size_t threads;                    /* 0: one per CPU, at most 4; 1: none */
};

struct kf_stats_result {
	char *source;                 /* the inputs, comma-separated */
	struct kf_stats *all;
	struct kf_stats **slices;     /* in order of first appearance */
	size_t nslices;
	uint64_t bad_rows;
	char *first_bad;              /* "FILE:LINE: message" of the first skipped row */
};

/* Read every path ("-" = stdin) and compute the statistics. */
int kf_stats_compute(struct kf_stats_result *res, const char *const *paths, size_t npaths,
		     const struct kf_stats_opts *opts, struct kf_err *err);
void kf_stats_result_release(struct kf_stats_result *res);

/* The feature of that name, or NULL. */
struct kf_stats_feature *kf_stats_find(const struct kf_stats *s, const char *name);
/* "INT", "FLOAT", "STRING", "BOOL", or "NONE" when every value is missing. */
const char *kf_stats_type_name(enum kf_csv_type t);
double kf_stats_stddev(const struct kf_stats_feature *f);
bool kf_stats_is_numeric(const struct kf_stats_feature *f);

/* Histograms from the sketch: n buckets, lo/hi edges and (fractional)
 * counts. Equal-width between min and max, or equal-mass at quantiles. */
void kf_stats_histogram(struct kf_stats_feature *f, size_t n, double *lo, double *hi, double *count);
void kf_stats_quantile_histogram(struct kf_stats_feature *f, size_t n, double *lo, double *hi,
				 double *count);

/* The statistics as kf's JSON document (kind DatasetStatisticsList): one
 * item per dataset (all rows, then each slice). */
cJSON *kf_stats_to_json(struct kf_stats_result *res);
cJSON *kf_stats_feature_json(struct kf_stats_feature *f, uint64_t rows);

#endif
