/* kf_bless: model validation, TensorFlow Model Analysis style: value
 * thresholds and change thresholds against a baseline model; a model that
 * passes every check is "blessed".
 *
 *   value   METRIC>=X  (lower bound)  METRIC<=X  (upper bound), inclusive
 *   change  METRIC>=X  candidate - baseline >= X      (absolute)
 *           METRIC>=X% (candidate - baseline) / |baseline| >= X / 100
 *           and <= likewise. The operator must agree with the metric's
 *           direction (auc is higher-is-better, so 'auc>=-0.01'; log_loss
 *           lower-is-better, so 'log_loss<=0.01'); metrics with no
 *           direction (example_count, calibration, ...) take either.
 * Without a baseline, change checks are skipped: the first model of a
 * pipeline is judged on its value thresholds only. An undefined metric
 * (null) fails its check. A check applies to the overall slice, or to the
 * slice it names before a colon, as TFMA's per-slice thresholds:
 * 'trip_start_hour=12:auc>=0.7'.
 *
 * A blessing directory holds one file, BLESSED or NOT_BLESSED, as TFX's
 * Evaluator writes, here with the failed checks in it, one per line. */
#ifndef KF_BLESS_H
#define KF_BLESS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct kf_err;

enum kf_bless_op { KF_BLESS_GE, KF_BLESS_LE };

struct kf_bless_check {
	char *text;        /* as given, for messages */
	char *slice;       /* the slice's name, or NULL for the overall slice */
	char *metric;
	enum kf_bless_op op;
	double bound;      /* for relative checks, a fraction (-1% -> -0.01) */
	bool change;       /* against the baseline */
	bool relative;
};

/* Parse '[SLICE:]METRIC>=X' / '[SLICE:]METRIC<=X' (change: X may end in %). */
int kf_bless_parse(struct kf_bless_check *c, const char *text, bool change, struct kf_err *err);
void kf_bless_release(struct kf_bless_check *c);

/* The metrics object of a slice (NULL: the overall one) of the candidate,
 * or of the baseline; NULL when there is no such slice (or no baseline). */
typedef const cJSON *(*kf_bless_find)(void *arg, const char *slice, bool baseline);

/* Judge every check against the metrics find gives. Returns
 * {"blessed": bool, "checks": [{"check", "slice", "metric", "kind": "value"|"change",
 * "value", "baseline", "change", "passed", "skipped", "reason"}]};
 * "reason" says why a failed or skipped check is so. */
cJSON *kf_bless_judge(const struct kf_bless_check *checks, size_t n, kf_bless_find find, void *arg);

/* Write DIR/BLESSED or DIR/NOT_BLESSED (the failed checks' reasons, one a
 * line) and remove the other; DIR is created. */
int kf_bless_write(const char *dir, const cJSON *verdict, struct kf_err *err);

/* Pushing (TFX's Pusher): a model repository is REPO/VERSION/ as TensorFlow
 * Serving lays it out, VERSION a positive number. */

/* The newest version in repo: its number (0 when there is none, or no
 * repo) and, when path is not NULL and there is one, its directory. */
long kf_bless_repo_newest(const char *repo, char **path);

/* Copy the bundle model_dir into repo as version newest + 1: written under a
 * temporary name in repo and renamed, so a server watching repo never loads
 * half a model. When the newest version already holds this model (the same
 * kf-model.json), nothing is copied and *pushed is false. *version is the
 * version that holds the model. repo is created when missing. */
int kf_bless_push(const char *model_dir, const char *repo, long *version, bool *pushed,
		  struct kf_err *err);

#endif
