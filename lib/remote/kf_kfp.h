/* kf_kfp: a client of the Kubeflow Pipelines v1beta1 REST API.
 *
 * The calls and field names follow the API's swagger files
 * (shared/anchors/kfp-v1/api/, one .swagger.json per service): pipelines upload and
 * upload_version (multipart field "uploadfile"), experiments, runs and jobs
 * (recurring runs). Objects come back as the server's JSON (cJSON, the
 * caller's to delete), snake_case as the API writes them.
 *
 * An answer with an HTTP error status becomes KF_EENV with the server's own
 * message ("error_message", "error" or "message") verbatim. In dry-run mode
 * nothing is sent: every request is rendered into the dry-run buffer and
 * the ids the server would assign read "<new experiment id>" and so on. */
#ifndef KF_KFP_H
#define KF_KFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_err;
struct kf_kfp;
struct kf_remote;
struct kf_strv;

struct kf_kfp_conf {
	int64_t timeout_ms;       /* one request; 0 = 30 s */
	int retries;              /* of idempotent requests; 0 = 2, < 0 = none */
	bool dry_run;
	struct kf_buf *dry_out;   /* where dry-run requests are rendered */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

int kf_kfp_new(struct kf_kfp **out, const struct kf_remote *remote, const struct kf_kfp_conf *conf,
	       struct kf_err *err);
void kf_kfp_free(struct kf_kfp *k);
bool kf_kfp_is_dry_run(const struct kf_kfp *k);

/* GET /apis/v1beta1/healthz. */
int kf_kfp_healthz(struct kf_kfp *k, cJSON **out, struct kf_err *err);

/* A package to upload, as a new pipeline or as a version of pipeline_id. */
struct kf_kfp_upload {
	const char *filename;     /* sent as the file's name; the server reads its extension */
	const void *data;
	size_t len;
	const char *name;         /* or NULL: the server names it after the file */
	const char *description;  /* or NULL */
	const char *pipeline_id;  /* NULL: new pipeline; else upload_version of it */
};

/* apiPipeline, or apiPipelineVersion when u->pipeline_id is set. */
int kf_kfp_upload(struct kf_kfp *k, const struct kf_kfp_upload *u, cJSON **out, struct kf_err *err);

/* The pipeline, experiment or job called name (KF_ENOTFOUND when none). */
int kf_kfp_pipeline_find(struct kf_kfp *k, const char *name, cJSON **out, struct kf_err *err);
int kf_kfp_experiment_find(struct kf_kfp *k, const char *name, cJSON **out, struct kf_err *err);
/* The experiment called name, created when missing (*created says so). */
int kf_kfp_experiment_ensure(struct kf_kfp *k, const char *name, cJSON **out, bool *created,
			     struct kf_err *err);

/* What a run or job executes: a workflow (JSON text of the Argo Workflow)
 * or an uploaded pipeline, with parameter overrides ("name=value"). */
struct kf_kfp_spec {
	const char *workflow_manifest;
	const char *pipeline_id;
	const struct kf_strv *params;
};

struct kf_kfp_run_req {
	const char *name;
	const char *description;  /* or NULL */
	const char *experiment_id; /* or NULL: the server's default experiment */
	struct kf_kfp_spec spec;
};

/* POST /runs: the apiRunDetail {run, pipeline_runtime}. */
int kf_kfp_run_create(struct kf_kfp *k, const struct kf_kfp_run_req *req, cJSON **out, struct kf_err *err);
int kf_kfp_run_get(struct kf_kfp *k, const char *run_id, cJSON **out, struct kf_err *err);
int kf_kfp_run_terminate(struct kf_kfp *k, const char *run_id, struct kf_err *err);
int kf_kfp_run_retry(struct kf_kfp *k, const char *run_id, struct kf_err *err);
/* The text log of one step (pod node) of a run. */
int kf_kfp_run_log(struct kf_kfp *k, const char *run_id, const char *node_id, struct kf_buf *out,
		   struct kf_err *err);

/* Recurring run: a trigger every interval_s seconds or on a cron schedule. */
struct kf_kfp_job_req {
	const char *name;
	const char *description;
	const char *experiment_id;
	struct kf_kfp_spec spec;
	int64_t interval_s;       /* > 0: periodic_schedule */
	const char *cron;         /* else: cron_schedule (6 fields, seconds first) */
	const char *start_time;   /* RFC 3339, or NULL */
	const char *end_time;
	int max_concurrency;      /* 1..10 */
	bool no_catchup;
};

int kf_kfp_job_create(struct kf_kfp *k, const struct kf_kfp_job_req *req, cJSON **out, struct kf_err *err);
int kf_kfp_job_get(struct kf_kfp *k, const char *job_id, cJSON **out, struct kf_err *err);
int kf_kfp_job_enable(struct kf_kfp *k, const char *job_id, bool enable, struct kf_err *err);
int kf_kfp_job_delete(struct kf_kfp *k, const char *job_id, struct kf_err *err);

/* Lists, every page: a cJSON array of apiExperiment, apiRun or apiJob.
 * experiment_id (or NULL) keeps the runs/jobs of one experiment. */
enum kf_kfp_kind { KF_KFP_EXPERIMENTS, KF_KFP_RUNS, KF_KFP_JOBS, KF_KFP_PIPELINES };
int kf_kfp_list(struct kf_kfp *k, enum kf_kfp_kind kind, const char *experiment_id, cJSON **out,
		struct kf_err *err);

/* Run status helpers. A run is finished when its status is Succeeded,
 * Failed, Skipped or Error (as the KFP SDK decides). */
bool kf_kfp_status_done(const char *status);
bool kf_kfp_status_ok(const char *status);
/* The steps (pod nodes) of a run detail's live workflow manifest, as an
 * array of {id, name, phase, message, started_at, finished_at} sorted by
 * start time then name. Never NULL. */
cJSON *kf_kfp_run_steps(const cJSON *detail);

#endif
