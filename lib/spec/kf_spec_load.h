/* kf_spec_load: what the spec loader's files share (private to lib/spec). */
#ifndef KF_SPEC_LOAD_H
#define KF_SPEC_LOAD_H

#include "spec/kf_pipeline.h"
#include "util/kf_yaml.h"

struct kf_loader {
	struct kf_pipeline *p;
	struct kf_errlist *errs;
	const struct kf_pipeline_opts *opts;
	char *dir;                 /* directory refs resolve against */
	int code;                  /* KF_EINPUT, or KF_EENV/KF_EIO when those happened */
};

/* Record an error at node n of file (n may be NULL: the file itself). */
void kf_loader_error(struct kf_loader *ld, const char *file, const struct kf_ynode *n,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void kf_loader_add(struct kf_loader *ld, const struct kf_err *err);
/* A file name kept by the pipeline (stable for kf_pos). */
const char *kf_loader_file(struct kf_loader *ld, const char *name);
struct kf_pos kf_loader_pos(const char *file, const struct kf_ynode *n);

/* Report keys of map not in allowed (NULL-terminated), with a suggestion,
 * and duplicate keys. what names the map in messages. */
void kf_loader_check_keys(struct kf_loader *ld, const char *file, const struct kf_ynode *map,
			  const char *const *allowed, const char *what);

/* Parse a component spec (a map) read from file. Errors go to ld; the
 * result is NULL when it is unusable. text/len: the bytes it came from (for
 * the digest), or NULL to hash the spec's JSON. */
struct kf_component *kf_component_parse(struct kf_loader *ld, const char *file,
					const struct kf_ynode *n, const char *key,
					const char *text, size_t len);
void kf_component_free(struct kf_component *c);

/* Fetch an https:// URL into buf (at most max bytes); KF_EENV on failure. */
int kf_spec_fetch(const char *url, struct kf_buf *buf, size_t max, struct kf_err *err);

#endif
