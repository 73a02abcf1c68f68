/* kf_experiment: a Katib Experiment (kubeflow.org/v1beta1) as kf reads it.
 *
 * kf_experiment_load parses the YAML with kf_yaml, keeps the line and
 * column of what it checks, and validates as Katib's admission webhook
 * and suggestion services do (every error found, each with file:line:col).
 * Parameter values arrive as strings, as Katib writes them ("0.01").
 *
 * The kf extension trialTemplate.pipeline (a kf pipeline path, relative
 * to the experiment file) with trialTemplate.pipelineParams makes each
 * trial a pipeline run instead of Katib's trialSpec.
 *
 * Ownership: the experiment owns every string and the cJSON trialSpec;
 * kf_experiment_free releases all of it. */
#ifndef KF_EXPERIMENT_H
#define KF_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_errlist;

enum kf_param_type { KF_PARAM_INT, KF_PARAM_DOUBLE, KF_PARAM_CATEGORICAL, KF_PARAM_DISCRETE };

/* One search dimension. Numbers are parsed; list holds categorical or
 * discrete values as written. */
struct kf_tune_param {
	char *name;
	enum kf_param_type type;
	double min, max, step;
	bool has_step;
	bool log;                 /* distribution: logUniform */
	char **list;
	size_t n_list;
	int line, col;
};

struct kf_setting {
	char *name;
	char *value;
	int line, col;
};

enum kf_strategy { KF_STRATEGY_MIN, KF_STRATEGY_MAX, KF_STRATEGY_LATEST };

struct kf_metric_spec {
	char *name;
	enum kf_strategy strategy;
};

enum kf_collector {
	KF_COLLECTOR_STDOUT,      /* the default */
	KF_COLLECTOR_FILE,        /* source.fileSystemPath */
	KF_COLLECTOR_NONE,        /* kind: None: metrics come from metrics.json only */
};

enum kf_trial_kind {
	KF_TRIAL_JOB,             /* batch/v1 Job */
	KF_TRIAL_TFJOB,
	KF_TRIAL_PYTORCHJOB,
	KF_TRIAL_WORKFLOW,        /* argoproj.io/v1alpha1 Workflow */
	KF_TRIAL_PIPELINE,        /* kf extension: trialTemplate.pipeline */
};

struct kf_trial_param {
	char *name;
	char *reference;          /* a parameter name, or ${trialSpec.Name}-style metadata */
	char *description;
	long param;               /* index into params, -1 for a metadata reference */
	int line, col;
};

struct kf_experiment {
	char *file;               /* the path as given */
	char *dir;                /* its directory, pipeline paths resolve against it */
	char *name;               /* metadata.name */
	/* objective */
	bool maximize;
	bool has_goal;
	double goal;
	struct kf_metric_spec *metrics;   /* [0] the objective, then additionalMetricNames */
	size_t n_metrics;
	/* algorithm */
	char *algorithm;
	struct kf_setting *settings;
	size_t n_settings;
	char *early_stopping;     /* "medianstop" or NULL */
	struct kf_setting *es_settings;
	size_t n_es_settings;
	/* search space */
	struct kf_tune_param *params;
	size_t n_params;
	int parallel;             /* parallelTrialCount, 3 when absent */
	int max_trials;           /* maxTrialCount, 0 when absent */
	int max_failed;           /* maxFailedTrialCount, -1 when absent */
	char *resume_policy;      /* Never, LongRunning, FromVolume */
	/* metrics collection */
	enum kf_collector collector;
	char *file_path;          /* File: source.fileSystemPath.path */
	bool file_json;           /* File: format JSON (else TEXT) */
	char **filters;           /* source.filter.metricsFormat: regexes with 2 groups */
	size_t n_filters;
	/* trial template */
	enum kf_trial_kind kind;
	char *primary_container;
	struct kf_trial_param *trial_params;
	size_t n_trial_params;
	cJSON *trial_spec;        /* NULL for a pipeline trial */
	char *success_condition, *failure_condition;
	char *pipeline;           /* kf extension: path resolved against dir */
	char **pp_names, **pp_values;   /* pipelineParams, in file order */
	size_t n_pipeline_params;
	cJSON *source;            /* the whole document, for --emit and records */
};

/* Load and validate. KF_EINPUT with each problem in errs (file:line:col),
 * KF_EIO when the file cannot be read. */
int kf_experiment_load(struct kf_experiment **out, const char *path, struct kf_errlist *errs);
int kf_experiment_load_text(struct kf_experiment **out, const char *path, const char *text,
			    size_t len, struct kf_errlist *errs);
void kf_experiment_free(struct kf_experiment *e);

/* The value of algorithm setting name, or NULL. */
const char *kf_experiment_setting(const struct kf_experiment *e, const char *name);
const char *kf_experiment_es_setting(const struct kf_experiment *e, const char *name);
long kf_experiment_param(const struct kf_experiment *e, const char *name);

/* The algorithm names kf runs, NULL-terminated. */
extern const char *const kf_experiment_algorithms[];

/* Substitute ${trialParameters.NAME} (and ${trialSpec.Name} etc.) in every
 * string of the trial spec: values[i] is trial_params[i]'s value. Returns a
 * new document. */
cJSON *kf_experiment_render(const struct kf_experiment *e, const char *trial_name,
			    const char *const *values);
/* The same for one string (pipelineParams); caller frees. */
char *kf_experiment_subst(const struct kf_experiment *e, const char *s, const char *trial_name,
			  const char *const *values);

/* A Katib metricsFormat filter (a Go regexp) as a POSIX extended regexp:
 * glibc knows \w and \s but not \d. Caller frees. */
char *kf_experiment_filter_ere(const char *re);

#endif
