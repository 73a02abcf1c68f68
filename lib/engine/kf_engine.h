/* kf_engine: run a pipeline locally.
 *
 * A parallel DAG executor over the spec model (struct kf_pipeline): steps
 * run as processes (kf_proc) up to `jobs` at a time, parallelFor fans out
 * within its parallelism, `when` skips, retries back off, timeouts kill a
 * step's process group, onExit always runs and sees {{run.status}}. Every
 * step's outputs go into the store's content-addressed area and every
 * execution into its ML Metadata tables; a step whose cache key (component
 * digest, resolved command/args/env/image, input values and input artifact
 * digests) was seen before reuses the recorded outputs. Run and task rows
 * are written as the run goes (batched: at most 50 ms after the fact), so
 * `resume` can finish a run that was interrupted or killed without redoing
 * the steps recorded as completed.
 *
 * Layout: <store>/runs/RUN/TASK/{stdout,stderr} logs, work/ (the step's
 * working directory), inputs/NAME/data (values given as files),
 * out-NAME (an output, moved into the store on success).
 *
 * The engine prints nothing: it reports state changes through on_event.
 * One engine runs in a process at a time: it reaps every child of the
 * process and handles SIGINT/SIGTERM/SIGHUP while it runs (kf tune runs
 * trials in parallel as separate `kf run` processes, or one after another
 * here). */
#ifndef KF_ENGINE_H
#define KF_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_pipeline;
struct kf_store;

/* One state change of a task (or of the run: task NULL). */
struct kf_engine_event {
	const char *run;
	const char *task;        /* "step" or "step[2]"; NULL for the run */
	const char *state;       /* Pending Running Succeeded Failed Skipped Omitted Cached Retrying */
	int attempt;
	int exit_code;           /* -1 when none */
	int64_t elapsed_ms;      /* since the task (or run) started */
	const char *message;     /* why, or NULL */
};

enum kf_runner { KF_RUNNER_HOST, KF_RUNNER_DOCKER, KF_RUNNER_PODMAN };

struct kf_engine_opts {
	struct kf_store *store;
	int jobs;                      /* 0: the number of CPUs */
	bool no_cache;
	int64_t max_cache_staleness_ms; /* 0: any age */
	enum kf_runner runner;
	const char *self_exe;          /* what a step's "kf" command runs */
	const char *run_id;            /* NULL: make one */
	const char *run_name;          /* NULL: the pipeline's name */
	const char *source;            /* spec or package path, for the record */
	const cJSON *plan;             /* kept in the run row for resume */
	bool resume;                   /* continue run_id: finished tasks are kept */
	int64_t parent_context;        /* also a parent of the kf.Run context (a
					* kf.Trial, ...); 0: only the kf.Pipeline */
	int64_t grace_ms;              /* SIGTERM to SIGKILL; 0: 5 s */
	void (*on_event)(void *ctx, const struct kf_engine_event *ev);
	void *cb_ctx;
};

struct kf_engine_result {
	char *run_id;
	char *state;                   /* Succeeded, Failed, Interrupted */
	char *failed_task;             /* the first task that failed, or NULL */
	int exit_code;                 /* of failed_task, -1 when none */
	char *stderr_path;             /* its stderr log */
};

void kf_engine_result_release(struct kf_engine_result *r);

/* The run's id is chosen before anything starts and reported by the first
 * event, so --detach can print it. Returns 0 when the run succeeded,
 * KF_EFAIL when a step failed (err names it, its exit code and the log),
 * KF_EINTR when interrupted, other codes for errors before or outside the
 * steps (bad input, store). */
int kf_engine_run(struct kf_pipeline *p, const struct kf_engine_opts *o,
		  struct kf_engine_result *res, struct kf_err *err);

/* The directory of a run's logs: <store>/runs/RUN. */
char *kf_engine_run_dir(struct kf_store *s, const char *run);

#endif
