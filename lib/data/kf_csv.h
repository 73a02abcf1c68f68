/* kf_csv: a streaming reader for CSV (RFC 4180) and JSON Lines.
 *
 * One row at a time, in one pass, with memory bounded by the longest row:
 *   struct kf_csv *c;
 *   if (kf_csv_open(&c, "data.csv", NULL, err) < 0) ...
 *   while ((rc = kf_csv_next(c, &row, err)) > 0)
 *           use row.fields[0 .. row.n-1]
 *   kf_csv_free(c);
 *
 * CSV: quoted fields with "" escapes, embedded delimiters and newlines,
 * CRLF or LF line ends, a UTF-8 byte order mark, a header row (names are
 * required to be unique), blank lines skipped. A quote inside an unquoted
 * field is literal; text after a closing quote is appended (as pandas does).
 * A row with a different number of fields than the header ("ragged") or an
 * unterminated quote is an error naming FILE:LINE, or, with skip_bad_rows,
 * is counted (kf_csv_bad_rows) and skipped.
 *
 * JSON Lines: one object per line; the first object's keys are the first
 * columns and a key first seen later appends a column (kf_csv_ncols grows;
 * earlier rows lacked it). Strings are taken as is, numbers and booleans as
 * their text, null as missing, arrays and objects as compact JSON.
 *
 * Input: a path or "-" for stdin; gzip-compressed input is detected by its
 * magic bytes, whatever the name. JSON Lines is chosen by the name
 * (.jsonl, .ndjson, optionally .gz) or by a first byte of '{'.
 *
 * Fields are zero-copy where possible: they point into the reader's buffer
 * (unescaped in place), are NUL-terminated at len, may contain NUL bytes,
 * and stay valid until the next kf_csv_next or kf_csv_free. An empty field
 * (len 0) is a missing value. */
#ifndef KF_CSV_H
#define KF_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kf_err;

enum kf_csv_format { KF_CSV_AUTO, KF_CSV_CSV, KF_CSV_JSONL };

struct kf_csv_opts {
	enum kf_csv_format format;  /* KF_CSV_AUTO: by name, then by content */
	char delim;                 /* CSV field separator; 0 = ',' */
	bool no_header;             /* CSV: the first row is data; columns are named "1".."N" */
	bool skip_bad_rows;         /* count and skip malformed rows instead of failing */
	size_t max_row;             /* longest row accepted, bytes; 0 = KF_CSV_MAX_ROW */
};

#define KF_CSV_MAX_ROW ((size_t)64 << 20)

struct kf_csv_field {
	const char *s;   /* NUL-terminated at s[len]; may hold NUL bytes before it */
	size_t len;      /* 0: missing */
};

struct kf_csv_row {
	const struct kf_csv_field *fields;  /* one per column, in column order */
	size_t n;                           /* == kf_csv_ncols() */
	long line;                          /* 1-based line the row starts on */
};

struct kf_csv;

/* Open path ("-" = stdin) and read the header. opts may be NULL. The name
 * used in errors is path ("stdin" for "-"). An input with no header row is
 * an error (KF_EINPUT); a header with no data rows is not. */
int kf_csv_open(struct kf_csv **out, const char *path, const struct kf_csv_opts *opts,
		struct kf_err *err);
void kf_csv_free(struct kf_csv *c);

/* 1 and the next row; 0 at the end of input; a negative KF_E code on error
 * (KF_EINPUT for malformed data, with file and line set; KF_EIO). */
int kf_csv_next(struct kf_csv *c, struct kf_csv_row *row, struct kf_err *err);

/* Several rows at once, all valid together until the next call: as many
 * as the buffer holds, at most max_rows. 1 and the batch, 0 at the end,
 * or < 0. Mixing it with kf_csv_next is fine. */
struct kf_csv_batch {
	const struct kf_csv_field *fields;   /* row r, column j: fields[r * ncols + j] */
	const long *lines;                   /* the line each row starts on */
	size_t nrows, ncols;
};

int kf_csv_next_batch(struct kf_csv *c, struct kf_csv_batch *b, size_t max_rows, struct kf_err *err);

size_t kf_csv_ncols(const struct kf_csv *c);
const char *kf_csv_colname(const struct kf_csv *c, size_t i);
/* Index of a column by name, or -1. */
long kf_csv_colindex(const struct kf_csv *c, const char *name);
const char *kf_csv_name(const struct kf_csv *c);           /* the name used in errors */
enum kf_csv_format kf_csv_format(const struct kf_csv *c);   /* what was detected */
bool kf_csv_gzip(const struct kf_csv *c);                   /* input was gzip-compressed */
uint64_t kf_csv_rows(const struct kf_csv *c);               /* data rows returned so far */
uint64_t kf_csv_bad_rows(const struct kf_csv *c);           /* rows skipped (skip_bad_rows) */
/* The first skipped row's error ("FILE:LINE: message"), or NULL. */
const char *kf_csv_first_bad(const struct kf_csv *c);

/* ---- value typing ---------------------------------------------------
 * The types a column can have, ordered so that kf_csv_type_join gives the
 * narrowest type holding both: missing < bool, int < float < string. */
enum kf_csv_type {
	KF_CSV_MISSING = 0,  /* empty field */
	KF_CSV_BOOL,         /* true/false, any case */
	KF_CSV_INT,          /* [+-]digits, fits int64 */
	KF_CSV_FLOAT,        /* decimal or exponent notation, nan, inf, infinity */
	KF_CSV_STRING,
};

/* Classify one field and parse it: *iv for INT, *dv for INT/FLOAT (and
 * BOOL as 0/1). Either pointer may be NULL. Fast path for plain decimals;
 * the double is the correctly rounded value of the text. */
enum kf_csv_type kf_csv_classify(const char *s, size_t len, int64_t *iv, double *dv);
enum kf_csv_type kf_csv_type_join(enum kf_csv_type a, enum kf_csv_type b);
const char *kf_csv_type_name(enum kf_csv_type t);   /* "missing", "bool", "int", "float", "string" */

/* Parse a whole field as a number (int or float syntax); false otherwise. */
bool kf_csv_parse_double(const char *s, size_t len, double *out);

#endif
