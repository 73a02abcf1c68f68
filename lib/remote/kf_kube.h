/* kf_kube: the Kubernetes API, as far as kf needs it: read kubeconfig,
 * create the custom resources kf writes (Argo Workflow, TFJob, PyTorchJob,
 * Katib Experiment, KServe InferenceService) and watch them until done.
 *
 * Kubeconfig: the files of $KUBECONFIG (colon-separated, the first file
 * naming a context, cluster or user wins, as kubectl merges them), else
 * ~/.kube/config. From the current context (or the one asked for): the
 * cluster's server, certificate-authority(-data), insecure-skip-tls-verify;
 * the user's token, tokenFile, client-certificate(-data) and
 * client-key(-data). Exec and auth-provider plugins are not run: such a user
 * is an error that says to use a token. Relative paths are relative to the
 * kubeconfig file, as kubectl reads them.
 *
 * Watching polls GET of the resource (no watch stream) and reads the status
 * each controller writes: Workflow status.phase; TFJob, PyTorchJob and
 * Experiment the Succeeded/Failed conditions; InferenceService Ready. */
#ifndef KF_KUBE_H
#define KF_KUBE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_err;
struct kf_kube;

struct kf_kube_conf {
	const char *kubeconfig;   /* a file, or NULL: $KUBECONFIG, else ~/.kube/config */
	const char *context;      /* NULL: current-context */
	const char *namespace;    /* NULL: the resource's, else the context's, else "default" */
	int64_t timeout_ms;       /* one request; 0 = 30 s */
	bool dry_run;             /* render the requests into dry_out, send nothing */
	struct kf_buf *dry_out;
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

int kf_kube_new(struct kf_kube **out, const struct kf_kube_conf *conf, struct kf_err *err);
void kf_kube_free(struct kf_kube *k);
const char *kf_kube_server(const struct kf_kube *k);     /* https://host:6443 */
const char *kf_kube_namespace(const struct kf_kube *k);  /* the default namespace */

/* What to do after creating: nothing, or poll until the resource is done. */
struct kf_kube_watch {
	bool watch;
	int64_t poll_ms;          /* 0 = 2 s */
	int64_t deadline_ms;      /* give up after this long; 0 = never */
	/* called on every state change (progress for the command to print) */
	void (*on_state)(void *arg, const cJSON *obj, const char *state);
	void *arg;
};

/* Create doc (a cJSON resource) and, when w->watch, wait until it is done.
 * *out (may be NULL) is the last object the server returned. KF_EFAIL
 * when it ended failed, KF_EENV for the server's refusals (its message
 * verbatim), KF_EINPUT for a kind kf does not apply. */
int kf_kube_apply(struct kf_kube *k, const cJSON *doc, const struct kf_kube_watch *w, cJSON **out,
		  struct kf_err *err);
/* The same for every document of a YAML file; *out (may be NULL) is the
 * array of the objects created. Stops at the first failure. */
int kf_kube_apply_file(struct kf_kube *k, const char *path, const struct kf_kube_watch *w, cJSON **out,
		       struct kf_err *err);

/* Poll *obj (as created) until it is done; *obj is replaced by each
 * answer. KF_EFAIL when it ended failed or the deadline passed. */
int kf_kube_watch(struct kf_kube *k, cJSON **obj, const struct kf_kube_watch *w, struct kf_err *err);

/* GET a resource named by apiVersion, kind, metadata.name and namespace. */
int kf_kube_get(struct kf_kube *k, const cJSON *ref, cJSON **out, struct kf_err *err);

/* The API path of a resource's collection (namespace ns), e.g.
 * /apis/kubeflow.org/v1/namespaces/default/tfjobs; KF_EINPUT for a kind kf
 * does not know. */
int kf_kube_collection_path(const cJSON *doc, const char *ns, struct kf_buf *path, struct kf_err *err);

/* A resource's state as its controller reports it ("Running", "Succeeded",
 * "Failed", "Ready"), and whether that is final and a success. */
const char *kf_kube_state(const cJSON *obj, bool *done, bool *ok);

#endif
