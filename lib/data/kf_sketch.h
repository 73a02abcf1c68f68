/* kf_sketch: bounded-memory summaries of a stream, for kf_stats.
 *
 * kf_quant — quantiles. A deterministic compactor hierarchy (the
 *   merge-and-reduce scheme KLL builds on): level h holds items of weight
 *   2^h; a full level is sorted and every other item (alternating offset)
 *   moves up with twice the weight. One compaction at level h moves any
 *   rank by at most 2^h, so the sketch tracks the sum of those weights: the
 *   largest possible rank error, kf_quant_err(), exact and not probabilistic.
 *   It is at most n * (floor(log2(n / k)) + 1) / k, and 0 while n < k (exact).
 *   Memory: 2k doubles per level, log2(n / k) + 1 levels. A column with at
 *   most KF_QUANT_EXACT distinct values is counted exactly instead (error 0).
 *
 * kf_hll — HyperLogLog distinct count, 2^12 one-byte registers: standard
 *   error 1.04 / sqrt(4096) = 1.6%.
 *
 * kf_freq — value frequencies: exact counts while the number of distinct
 *   values stays within cap (and their bytes within a budget); beyond that
 *   Misra-Gries, where each count is low by at most kf_freq_err() and every
 *   value more frequent than n / (cap + 1) is kept. Feeds a kf_hll with the
 *   same hash, so the distinct count goes on past the cap. */
#ifndef KF_SKETCH_H
#define KF_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t kf_sketch_hash(const void *data, size_t len);

/* ---- quantiles ---- */
struct kf_quant_level;

struct kf_quant_slot {
	uint64_t bits;    /* the value's bits */
	uint64_t count;   /* 0: an empty slot */
};

struct kf_quant {
	size_t k;                      /* items per level before it compacts (even) */
	size_t nlevels;
	struct kf_quant_level *lv;
	uint64_t n;                    /* values added */
	uint64_t err;                  /* largest possible rank error so far */
	uint64_t *keys;                /* 2k scratch keys for sorting */
	/* exact mode, until more than KF_QUANT_EXACT distinct values: each
	 * value and its count (no sorting, no error); then replayed into the
	 * compactors */
	bool spilled;
	struct kf_quant_slot *eslot;   /* open addressing, 2 * KF_QUANT_EXACT slots */
	size_t elast;                  /* slot of the last value added */
	size_t en;                     /* distinct values */
	/* sorted (value, cumulative weight) summary, rebuilt after adds */
	double *sv;
	uint64_t *sw;
	size_t sn;
	bool dirty;
};

#define KF_QUANT_K 4096
#define KF_QUANT_EXACT 1024

void kf_quant_init(struct kf_quant *q, size_t k);   /* k 0 = KF_QUANT_K */
void kf_quant_release(struct kf_quant *q);
void kf_quant_add(struct kf_quant *q, double v);    /* v must not be NaN */
void kf_quant_add_n(struct kf_quant *q, double v, uint64_t n);   /* v, n times */
/* The value whose rank is phi * n (0 <= phi <= 1), within kf_quant_err()
 * ranks; NaN when empty. */
double kf_quant_query(struct kf_quant *q, double phi);
/* Estimated number of values <= x (within kf_quant_err()). */
double kf_quant_rank(struct kf_quant *q, double x);
uint64_t kf_quant_err(const struct kf_quant *q);

/* ---- distinct count ---- */
#define KF_HLL_P 12

struct kf_hll {
	uint8_t reg[1u << KF_HLL_P];
};

void kf_hll_add(struct kf_hll *h, uint64_t hash);
double kf_hll_estimate(const struct kf_hll *h);

/* ---- frequencies ---- */
struct kf_freq_item {
	char *s;          /* NUL-terminated copy (may hold NULs before len) */
	size_t len;
	uint64_t hash;
	uint64_t count;
};

struct kf_freq {
	struct kf_freq_item *items;
	size_t n, items_cap;
	uint32_t *table;   /* open addressing: item index + 1, 0 empty */
	size_t tsize;
	size_t cap;        /* distinct values kept */
	size_t bytes, max_bytes;
	uint64_t total;    /* values added */
	uint64_t err;      /* Misra-Gries decrements: counts are low by at most this */
	uint64_t str_bytes;  /* total length of the values added */
	bool exact;        /* never dropped a value: counts and distinct are exact */
	struct kf_hll hll;
};

#define KF_FREQ_CAP 10000
#define KF_FREQ_MAX_BYTES ((size_t)16 << 20)

void kf_freq_init(struct kf_freq *f, size_t cap);   /* cap 0 = KF_FREQ_CAP */
void kf_freq_release(struct kf_freq *f);
void kf_freq_add(struct kf_freq *f, const char *s, size_t len, uint64_t count);
/* Distinct values: exact while f->exact, else the HyperLogLog estimate. */
double kf_freq_unique(const struct kf_freq *f);
/* The count of a value (0 if not kept). */
uint64_t kf_freq_count(const struct kf_freq *f, const char *s, size_t len);
/* Items sorted by count (descending), then value; the array is the caller's
 * (free it), the items borrowed. *n = min(k, kept) (k 0 = all). */
const struct kf_freq_item **kf_freq_top(const struct kf_freq *f, size_t k, size_t *n);

#endif
