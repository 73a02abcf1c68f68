/* kf_repo: the model repository of kf serve.
 *
 * A model is a base directory holding numbered version directories, as
 * TensorFlow Serving lays them out (REPO/NAME/1/, REPO/NAME/2/, ...), or a
 * single model directory served as version 1. By default the highest
 * version is served; REPO/NAME/kf-serving.yaml may instead say
 *
 *   versions: [2, 3]            # serve exactly these
 *   labels: {stable: 2, canary: 3}
 *   canary_percent: 10          # share of unpinned requests for "canary"
 *
 * Every labelled version is served too. A scan (kf_repo_scan, or the
 * polling watcher) loads versions that appeared and unloads the ones that
 * disappeared or are no longer wanted; when the newest version fails to
 * load, the one serving keeps serving. Loaded versions are refcounted
 * servables: a request holds one from kf_repo_get to kf_servable_put, so a
 * version unloaded meanwhile is freed only after its last request.
 *
 * What a model is belongs to the caller: the ops load a directory into an
 * opaque handle and unload it. All functions are thread-safe. */
#ifndef KF_REPO_H
#define KF_REPO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_repo;
struct kf_strv;

struct kf_repo_ops {
	/* Load the model in dir into *model; 0 or a KF_E code with err. */
	int (*load)(const char *dir, void **model, void *cls, struct kf_err *err);
	void (*unload)(void *model, void *cls);
	/* Optional: told after each load attempt (err NULL on success) and
	 * each unload, e.g. to record a deployment or log. */
	void (*event)(const char *name, long version, const char *dir, const char *what,
		      const struct kf_err *err, void *cls);
	void *cls;
};

/* One loaded model version. Read-only for users; hold it between
 * kf_repo_get and kf_servable_put. */
struct kf_servable {
	char *name;
	long version;
	char version_str[24];
	char *dir;
	void *model;
	atomic_long refs;
	const struct kf_repo_ops *ops;
};

/* Why kf_repo_get found nothing. */
enum kf_repo_miss {
	KF_REPO_FOUND,
	KF_REPO_NO_MODEL,    /* no model of that name */
	KF_REPO_NO_VERSION,  /* the model exists, not that version */
	KF_REPO_NO_LABEL,    /* the model exists, not that label */
	KF_REPO_NOT_READY,   /* known but not loaded (loading, or failed) */
};

struct kf_repo *kf_repo_new(const struct kf_repo_ops *ops);
/* Stop the watcher and unload everything (waits for nothing: servables
 * still held are freed by their last put). */
void kf_repo_free(struct kf_repo *repo);

/* Serve every subdirectory of root as a model named after it (new ones
 * appear on later scans). */
int kf_repo_add_root(struct kf_repo *repo, const char *root, struct kf_err *err);
/* Serve one model: dir is a model directory (version 1) or a base of
 * numbered version directories. */
int kf_repo_add_model(struct kf_repo *repo, const char *name, const char *dir, struct kf_err *err);
/* Send percent (0-100) of name's unpinned requests to version; name may
 * be a model a later scan finds under a root. */
int kf_repo_set_canary(struct kf_repo *repo, const char *name, long version, int percent,
		       struct kf_err *err);
/* After a scan: an error for a canary of a model that does not exist. */
int kf_repo_check_canaries(struct kf_repo *repo, struct kf_err *err);

/* Bring the loaded set in line with the directories. Load failures are
 * not errors of the scan (the version is marked failed, with its reason);
 * an error is returned only for an unreadable root or config. */
int kf_repo_scan(struct kf_repo *repo, struct kf_err *err);
/* Scan every interval_ms on a thread of its own, until kf_repo_free. */
void kf_repo_watch(struct kf_repo *repo, int64_t interval_ms);

/* The servable for name at version (> 0), else label (non-NULL), else the
 * default: the "stable" label or newest version, or the canary for its
 * share of requests. Returns NULL and says why in *miss. */
struct kf_servable *kf_repo_get(struct kf_repo *repo, const char *name, long version,
				const char *label, enum kf_repo_miss *miss);
void kf_servable_put(struct kf_servable *sv);

/* Model names, sorted. */
void kf_repo_names(struct kf_repo *repo, struct kf_strv *names);
/* {"name", "versions": [{"version": N, "state": "AVAILABLE"|"LOADING"|"FAILED",
 * "error": "..."}], "labels": {...}, "default": N} or NULL for an unknown model. */
cJSON *kf_repo_describe(struct kf_repo *repo, const char *name);
/* Versions loaded, over all models. */
long kf_repo_loaded(struct kf_repo *repo);
/* True when every model has a version serving; else false and, when
 * unready is not NULL, the first model without one (caller frees). */
bool kf_repo_ready(struct kf_repo *repo, char **unready);

#endif
