/* kf_trainjob: a training-operator TFJob or PyTorchJob (kubeflow.org/v1)
 * run on this machine, one process per replica (man 5 kf-trainjob).
 *
 * Loading validates the manifest as the operator's webhook would and
 * collects every error with file:line:col. Running starts each replica's
 * first container (the one named tensorflow/pytorch, else the first) as a
 * process: its command + args as an argv (never a shell; "kf" is this
 * binary), its env, with what the operator injects:
 *   TFJob:      TF_CONFIG = {"cluster": {"chief": [...], "worker": [...],
 *               "ps": [...]}, "task": {"type": "worker", "index": 1},
 *               "environment": "cloud"}, one 127.0.0.1 port per replica
 *               (an evaluator is not in the cluster, as on a cluster)
 *   PyTorchJob: MASTER_ADDR=127.0.0.1, MASTER_PORT, WORLD_SIZE, RANK
 *               (master 0, worker i is i+1), PYTHONUNBUFFERED=1
 * Success and failure follow the operator: the chief (or master, else
 * worker 0; all workers with successPolicy AllWorkers) decides success; a
 * replica that fails and may not restart fails the job; restartPolicy
 * OnFailure/Always restart a failed replica, ExitCode only for exit codes
 * 128-255 (killed by a signal), Never never; restarts wait 0.2 s doubling
 * to 5 s; runPolicy.backoffLimit (default 6) bounds the restarts of the
 * whole job; activeDeadlineSeconds bounds its time. When the job ends, the
 * replicas still running (a PS) are stopped (SIGTERM, then SIGKILL). */
#ifndef KF_TRAINJOB_H
#define KF_TRAINJOB_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_errlist;
struct kf_trainjob;

struct kf_trainjob_opts {
	const char *self_exe;      /* what "kf" in a command runs */
	const char *log_dir;       /* replica logs: DIR/<type>-<index>.log */
	const char *store_dir;     /* else STORE/trainjobs/<name>/ */
	/* each line a replica prints ("worker-0", line), and job events */
	void (*on_line)(void *arg, const char *replica, const char *line);
	void (*on_event)(void *arg, const char *msg);
	void *arg;
	volatile const int *interrupted;  /* set by a signal handler: stop and fail */
};

void kf_trainjob_opts_init(struct kf_trainjob_opts *o);

/* Load and validate. Errors in the manifest go to errs (with places) and
 * the call returns KF_EINPUT; other failures fill err. */
int kf_trainjob_load(struct kf_trainjob **out, const char *path, struct kf_errlist *errs,
		     struct kf_err *err);
int kf_trainjob_load_text(struct kf_trainjob **out, const char *name, const char *text, size_t len,
			  struct kf_errlist *errs, struct kf_err *err);
void kf_trainjob_free(struct kf_trainjob *tj);

const char *kf_trainjob_name(const struct kf_trainjob *tj);
const char *kf_trainjob_kind(const struct kf_trainjob *tj);

/* What running would start, without starting it: a list of replicas
 * {name, restartPolicy, argv[], env{}} with the variables kf injects. */
int kf_trainjob_describe(struct kf_trainjob *tj, cJSON **out, struct kf_err *err);

/* Run to the end: 0 when the job succeeded, KF_EFAIL (err says why) when it
 * failed, another code when it could not run. */
int kf_trainjob_run(struct kf_trainjob *tj, const struct kf_trainjob_opts *o, struct kf_err *err);

#endif
