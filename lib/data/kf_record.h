/* kf_record: how kf analyze records what it did in the store (kf_store):
 * one execution with its input artifacts (the data files, a schema) and
 * the one artifact it wrote (statistics, schema or anomalies), stored
 * content-addressed, in a kf.Analysis context named after the first input.
 *
 * Data files are identified by their digest, computed by a thread of its
 * own while the analysis reads them (kf_record_digests), so that recording
 * costs no time where a CPU is free. Files larger than KF_RECORD_DIGEST_MAX
 * are recorded by path, size and modification time instead: hashing them
 * would cost more than the analysis. Standard input ("-") has no name and
 * is not recorded as an artifact. */
#ifndef KF_RECORD_H
#define KF_RECORD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/kf_store.h"

struct kf_err;

#define KF_RECORD_DIGEST_MAX ((int64_t)64 << 20)

struct kf_record_input {
	const char *event;   /* the event path: "data", "schema", "baseline", ... */
	const char *type;    /* artifact type: "Dataset", "Schema" */
	const char *file;    /* "-" for standard input (not recorded) */
	const char *digest;  /* computed already (kf_record_digest), or NULL */
};

struct kf_record_output {
	const char *event;   /* "statistics", "schema", "anomalies", "drift" */
	const char *type;    /* "Statistics", "Schema", "Anomalies" */
	const char *content;
	size_t len;
	const struct kf_store_props *props;
};

/* Record the execution (exec_type, exec_name) in the store at dir, created
 * if needed. *exec_id (may be NULL) gets its id. */
int kf_record_analysis(const char *dir, const char *exec_type, const char *exec_name,
		       const struct kf_store_props *exec_props, const struct kf_record_input *in,
		       size_t nin, const struct kf_record_output *out, int64_t *exec_id, struct kf_err *err);

/* The digests of files, computed in the background. */
struct kf_record_digests {
	pthread_t thread;
	bool started;
	size_t n;
	char *const *files;                   /* borrowed until released */
	char (*hex)[KF_SHA256_HEX_LEN + 1];   /* "" when not computed */
};

void kf_record_digests_start(struct kf_record_digests *d, char *const *files, size_t n);
void kf_record_digests_join(struct kf_record_digests *d);
/* The digest of file i after a join, or NULL (stdin, too large, unreadable). */
const char *kf_record_digest(const struct kf_record_digests *d, size_t i);
void kf_record_digests_release(struct kf_record_digests *d);   /* joins first; accepts a zeroed one */

#endif
