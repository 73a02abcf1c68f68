/* run_remote: `kf run ... --remote` and `kf upload`, against a Kubeflow
 * Pipelines API server.
 *
 * cmd/run.c adds KF_RUN_REMOTE_OPTS to its options array and, when
 * kf_run_remote_wanted() says so, hands the whole command to
 * kf_run_remote_submit(); its ls/show/logs subcommands add
 * KF_REMOTE_CONN_OPTS (ls also KF_RUN_REMOTE_LS_OPTS, logs
 * KF_RUN_REMOTE_LOGS_OPTS) and hand over to
 * kf_run_remote_ls/show/logs. The remote-only subcommands (terminate,
 * retry, experiments, schedule) are complete kf_cmd entries for run's .subs. */
#ifndef KF_RUN_REMOTE_H
#define KF_RUN_REMOTE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "kf_cmd.h"

/* How to reach the server, after the option naming it (--remote or --host). */
#define KF_REMOTE_AUTH_OPTS \
	{ 0, "token", KF_OPT_REQUIRED, "TOKEN", "bearer token (default: the remote's, else $KF_TOKEN)", NULL }, \
	{ 0, "token-file", KF_OPT_REQUIRED, "FILE", "read the bearer token from FILE", "file" }, \
	{ 0, "cookie-file", KF_OPT_REQUIRED, "FILE", "send the cookies of a Netscape cookie file (Dex, IAP)", "file" }, \
	{ 0, "ca-file", KF_OPT_REQUIRED, "FILE", "verify the server against the CA certificates in FILE", "file" }, \
	{ 0, "insecure", KF_OPT_NONE, NULL, "do not verify the server's TLS certificate", NULL }, \
	{ 0, "namespace", KF_OPT_REQUIRED, "NS", "Kubeflow profile namespace of a multi-user cluster", NULL }, \
	{ 0, "timeout", KF_OPT_REQUIRED, "DURATION", "give up on a request after DURATION (default 30s)", NULL }, \
	{ 0, "dry-run", KF_OPT_NONE, NULL, "print the HTTP requests instead of sending them", NULL }

#define KF_REMOTE_CONN_OPTS \
	{ 0, "remote", KF_OPT_REQUIRED, "URL", "Kubeflow Pipelines endpoint, or a remote named in the config file", NULL }, \
	KF_REMOTE_AUTH_OPTS

/* kf run SPEC|PKG|PIPELINE_ID --remote URL ...; run's own -p/--param,
 * --params FILE and --name NAME (the run's name) apply as well. */
#define KF_RUN_REMOTE_OPTS \
	KF_REMOTE_CONN_OPTS, \
	{ 0, "experiment", KF_OPT_REQUIRED, "NAME", "remote experiment to run in, created when missing", NULL }, \
	{ 0, "watch", KF_OPT_NONE, NULL, "follow the remote run to its end; exit 1 if it fails", NULL }, \
	{ 0, "poll", KF_OPT_REQUIRED, "DURATION", "how often --watch asks the server (default 5s)", NULL }

/* kf run ls --remote: the runs of one experiment. */
#define KF_RUN_REMOTE_LS_OPTS \
	{ 0, "experiment", KF_OPT_REQUIRED, "NAME", "list the runs of this remote experiment", NULL }

/* kf run logs --remote: how often -f asks the server. */
#define KF_RUN_REMOTE_LOGS_OPTS \
	{ 0, "poll", KF_OPT_REQUIRED, "DURATION", "how often -f asks the server (default 5s)", NULL }

/* True when the run should go to a server: --remote was given, or a remote
 * was named with the global -r NAME ($KF_REMOTE). */
bool kf_run_remote_wanted(const struct kf_args *args);

/* kf run SPEC|PKG|PIPELINE_ID --remote ...: print the run id; with --watch
 * follow it and return KF_EFAIL when it fails. Parameters come from run's
 * --params FILE and -p/--param NAME=VALUE values (these win). */
int kf_run_remote_submit(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);
/* kf run ls|show RUN_ID|logs RUN_ID [STEP] with --remote. */
int kf_run_remote_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);
int kf_run_remote_show(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);
int kf_run_remote_logs(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);

extern const struct kf_cmd kf_cmd_run_terminate;
extern const struct kf_cmd kf_cmd_run_retry;
extern const struct kf_cmd kf_cmd_run_experiments;
extern const struct kf_cmd kf_cmd_run_schedule;

/* For kf upload: connect with the connection options of args, the server
 * named by the option url_opt ("host" or "remote"). */
struct kf_kfp;
struct kf_buf;
struct kf_remote_session {
	struct kf_kfp *kfp;
	struct kf_buf *dry;       /* requests rendered by --dry-run, or NULL */
	const struct kf_ctx *ctx;
};
int kf_remote_session_open(struct kf_ctx *ctx, const struct kf_args *args, const char *url_opt,
			   struct kf_remote_session *s, struct kf_err *err);
/* Load a SPEC (compiled) or PKG to send; prints a spec's errors. */
struct kf_submit;
int kf_remote_load(struct kf_ctx *ctx, const char *path, struct kf_submit *sub, struct kf_err *err);
/* Print the --dry-run rendering (to stdout) and close the session. Returns
 * the command's rc, else the printing's error. Safe on a session never
 * opened (zero-initialised). */
int kf_remote_session_close(struct kf_remote_session *s, int rc, struct kf_err *err);

/* --apply for the commands that write Kubernetes resources (kf compile: an
 * Argo Workflow; kf train: TFJob/PyTorchJob; kf tune: Katib Experiment;
 * kf serve --emit: InferenceService). The command adds KF_KUBE_APPLY_OPTS
 * and, when kf_args_has(args, "apply"), passes the resource it wrote. */
#define KF_KUBE_APPLY_OPTS \
	{ 0, "apply", KF_OPT_NONE, NULL, "create the resource in the cluster of your kubeconfig", NULL }, \
	{ 0, "kubeconfig", KF_OPT_REQUIRED, "FILE", "kubeconfig for --apply (default: $KUBECONFIG, ~/.kube/config)", "file" }, \
	{ 0, "context", KF_OPT_REQUIRED, "NAME", "kubeconfig context for --apply (default: the current one)", NULL }, \
	{ 0, "watch", KF_OPT_NONE, NULL, "with --apply, follow the resource until it is done; exit 1 if it fails", NULL }

/* Create doc (a resource as cJSON) in the cluster: prints "KIND/NAME
 * created" and, with --watch, each state change (stderr); returns
 * KF_EFAIL when the resource ends failed. Honours --namespace and
 * --dry-run when the command has them, and -v (requests traced). */
int kf_kube_apply_cmd(struct kf_ctx *ctx, const struct kf_args *args, const cJSON *doc, struct kf_err *err);

#endif
