/* kf_tune: run a Katib Experiment locally.
 *
 * Trials are processes, up to parallelTrialCount at a time: a batch/v1
 * Job trial runs its primary container's command, args and env (with
 * ${trialParameters.x} substituted) in the trial's own directory; a kf
 * pipeline trial is a run of the local engine in a child process, sharing
 * the store, so steps whose inputs do not change are cache hits across
 * trials; an Argo Workflow trial is the same after kf run's import; a
 * TFJob or PyTorchJob trial is kf train's training-operator runner in a
 * child process. A trial's output (its pod log, or its steps' logs) goes to
 * <store>/tune/EXPERIMENT/trials/TRIAL/log, and its metrics are collected
 * from there (or from the File collector's path, or from mlpipeline-metrics
 * outputs) when it ends; a trial that succeeded without reporting its
 * objective is MetricsUnavailable and counts as failed.
 *
 * The experiment ends as Katib's does: goal reached, maxFailedTrialCount
 * exceeded, maxTrialCount trials run, or the search space exhausted. Its
 * state is <store>/tune/EXPERIMENT/experiment.json, rewritten (atomically)
 * on every state change, so an interrupted experiment resumes: trials that
 * were running are started again with the same parameters. The experiment
 * and each trial are also kf.Experiment / kf.Trial contexts in the store,
 * a pipeline trial's execution associated with its kf.Run context.
 *
 * lib code: reports state changes through on_event, prints nothing. */
#ifndef KF_TUNE_H
#define KF_TUNE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_experiment;

struct kf_tune_opts {
	const char *store_dir;
	const char *self_exe;     /* what a pipeline step's "kf" runs */
	int parallel;             /* -j: 0 keeps parallelTrialCount */
	bool resume;              /* continue the experiment saved under its name */
	/* state changes: the experiment document (as in experiment.json) and
	 * the index of the trial that changed, -1 for the experiment */
	void (*on_event)(void *ctx, const cJSON *doc, int trial);
	void *cb_ctx;
};

/* Run (or resume) e. *doc receives the final experiment document (the
 * caller's). Returns 0 when a best trial exists, KF_EFAIL when none does,
 * KF_EINTR when interrupted (state saved), other codes for errors. */
int kf_tune_run(struct kf_experiment *e, const struct kf_tune_opts *o, cJSON **doc,
		struct kf_err *err);

/* <store>/tune/NAME; caller frees. */
char *kf_tune_dir(const char *store_dir, const char *name);
/* The saved experiment document; KF_ENOTFOUND naming it when missing. */
int kf_tune_load(const char *store_dir, const char *name, cJSON **doc, struct kf_err *err);
/* Names of the saved experiments, sorted. */
int kf_tune_list(const char *store_dir, cJSON **names, struct kf_err *err);
/* The saved copy of the experiment file (for --resume without a file). */
char *kf_tune_source_path(const char *store_dir, const char *name);
/* The trial named by name or by its number (1-based); NULL when none. */
const cJSON *kf_tune_trial(const cJSON *doc, const char *name);
/* A trial's log path; caller frees. */
char *kf_tune_trial_log(const char *store_dir, const char *exp, const char *trial);

#endif
