/* kf serve: a TensorFlow Serving / KServe-compatible REST model server. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "serve/kf_server.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PORT 8501
#define DEFAULT_BATCH_TIMEOUT_US 1000
#define GRACE_MS 30000

static const struct kf_opt serve_opts[] = {
	{ 0, "repo", KF_OPT_REQUIRED, "REPO", "serve every model under REPO (REPO/NAME/VERSION/)", "dir" },
	{ 0, "model", KF_OPT_REQUIRED, "NAME=DIR", "also serve the model in DIR as NAME (repeatable)", NULL },
	{ 0, "name", KF_OPT_REQUIRED, "NAME", "name of the MODEL_DIR model (default: the directory's name)", NULL },
	{ 'p', "port", KF_OPT_REQUIRED, "PORT", "TCP port (default 8501; 0 picks a free one)", NULL },
	{ 0, "address", KF_OPT_REQUIRED, "ADDR", "address to bind (default 127.0.0.1)", NULL },
	{ 0, "token", KF_OPT_REQUIRED, "TOKEN", "require \"Authorization: Bearer TOKEN\" on every request", NULL },
	{ 0, "token-file", KF_OPT_REQUIRED, "FILE", "read the bearer token from FILE", "file" },
	{ 0, "batch-max", KF_OPT_REQUIRED, "N", "merge concurrent requests into batches of up to N instances", NULL },
	{ 0, "batch-timeout-us", KF_OPT_REQUIRED, "T", "wait at most T microseconds to fill a batch (default 1000)", NULL },
	{ 0, "threads", KF_OPT_REQUIRED, "N", "HTTP threads (default 2)", NULL },
	{ 0, "canary", KF_OPT_REQUIRED, "NAME:VERSION=PERCENT", "send PERCENT of NAME's unpinned requests to VERSION", NULL },
	{ 0, "max-body", KF_OPT_REQUIRED, "BYTES", "largest request body (default 67108864); larger get 413", NULL },
	{ 0, "timeout", KF_OPT_REQUIRED, "SECONDS", "close connections idle this long (default 30)", NULL },
	{ 0, "poll-ms", KF_OPT_REQUIRED, "MS", "rescan the repository every MS milliseconds (default 1000; 0 never)", NULL },
	{ 0, "emit", KF_OPT_NONE, NULL, "write a KServe InferenceService for the model and exit", NULL },
	{ 0, "storage-uri", KF_OPT_REQUIRED, "URI", "with --emit: where the cluster finds the model (s3://, gs://, pvc://)", NULL },
	{ 0, "image", KF_OPT_REQUIRED, "IMAGE", "with --emit: the container image holding kf", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

struct serve_state {
	const struct kf_ctx *ctx;
	pthread_mutex_t lock;   /* stderr and the store, from the server threads */
	struct kf_store *store; /* NULL: loads are not recorded */
	const char *address;
	long port;
};

static int parse_count(const struct kf_args *args, const char *name, long min, long max, long dflt,
		       long *out, struct kf_err *err)
{
	const char *v = kf_args_get(args, name);

	*out = dflt;
	if (!v)
		return 0;
	if (!kf_str_to_long(v, out) || *out < min || *out > max)
		return kf_err_set(err, KF_EUSAGE, "--%s wants a number from %ld to %ld, not \"%s\"", name, min,
				  max, v);
	return 0;
}

/* Trailing whitespace (a newline) is not part of a token file's token. */
static int read_token(const char *path, char **token, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	int rc = kf_fs_read_file(path, &b, err);

	if (rc)
		return rc;
	while (b.len && strchr(" \t\r\n", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if (!b.len) {
		kf_buf_release(&b);
		return kf_err_set(err, KF_EUSAGE, "token file \"%s\" is empty", path);
	}
	*token = kf_buf_detach(&b);
	return 0;
}

/* A model name from a directory: its base name, or the parent's for ".../NAME/1". */
static char *name_of_dir(const char *dir)
{
	char *abs = kf_path_absolute(dir), *name;
	size_t n = strlen(abs);

	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	name = kf_xstrdup(kf_path_basename(abs));
	free(abs);
	return name;
}

static int add_models(struct kf_repo *repo, const struct kf_args *args, struct kf_err *err)
{
	const struct kf_strv *models = kf_args_all(args, "model");
	size_t i;
	int rc;

	if (args->argc == 1) {
		char *name = kf_args_get(args, "name") ? kf_xstrdup(kf_args_get(args, "name"))
						       : name_of_dir(args->argv[0]);

		rc = kf_repo_add_model(repo, name, args->argv[0], err);
		free(name);
		if (rc)
			return rc;
	}
	if (kf_args_get(args, "repo")) {
		rc = kf_repo_add_root(repo, kf_args_get(args, "repo"), err);
		if (rc)
			return rc;
	}
	for (i = 0; models && i < models->n; i++) {
		const char *eq = strchr(models->v[i], '=');
		char *name;

		if (!eq || eq == models->v[i] || !eq[1])
			return kf_err_set(err, KF_EUSAGE, "--model wants NAME=DIR, not \"%s\"", models->v[i]);
		name = kf_xstrndup(models->v[i], (size_t)(eq - models->v[i]));
		rc = kf_repo_add_model(repo, name, eq + 1, err);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_canaries(struct kf_repo *repo, const struct kf_args *args, struct kf_err *err)
{
	const struct kf_strv *list = kf_args_all(args, "canary");
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		const char *spec = list->v[i], *colon = strrchr(spec, ':'), *eq = strchr(spec, '=');
		long version, percent;
		char *name, *num;
		int rc;

		if (!colon || !eq || eq < colon || colon == spec)
			return kf_err_set(err, KF_EUSAGE, "--canary wants NAME:VERSION=PERCENT, not \"%s\"", spec);
		num = kf_xstrndup(colon + 1, (size_t)(eq - colon - 1));
		if (!kf_str_to_long(num, &version) || !kf_str_to_long(eq + 1, &percent)) {
			free(num);
			return kf_err_set(err, KF_EUSAGE, "--canary wants NAME:VERSION=PERCENT, not \"%s\"", spec);
		}
		free(num);
		name = kf_xstrndup(spec, (size_t)(colon - spec));
		rc = kf_repo_set_canary(repo, name, version, (int)percent, err);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

static void access_log(const struct kf_http_log_entry *e, void *cls)
{
	struct serve_state *st = cls;

	pthread_mutex_lock(&st->lock);
	fprintf(stderr, "%s \"%s %s\" %d %zu %.3fms\n", e->remote, e->method, e->path, e->status,
		e->bytes_out, (double)e->duration_ns / 1e6);
	pthread_mutex_unlock(&st->lock);
}

/* A kf.Serve execution with the model as its input, in the kf.Serving
 * context of the model's name: what was deployed, where, when. */
static int record_load(struct serve_state *st, const char *name, long version, const char *dir,
		       struct kf_err *err)
{
	struct kf_store_props props = KF_STORE_PROPS_INIT;
	struct kf_store_ref in = { .path = "model", .type = "Model" };
	struct kf_store_record rec = { .type = "kf.Serve", .state = KF_EXEC_COMPLETE };
	char *abs_dir = kf_path_absolute(dir), exec_name[256];
	int64_t ctx_id, exec_id;
	int rc;

	/* by content: the bundle kf train recorded, the pipeline step's output
	 * and this copy share one digest, which is how lineage joins them */
	in.file = abs_dir;
	snprintf(exec_name, sizeof exec_name, "%s:%ld", name, version);
	kf_store_props_str(&props, "model", name);
	kf_store_props_int(&props, "version", version);
	kf_store_props_str(&props, "dir", abs_dir);
	kf_store_props_str(&props, "address", st->address ? st->address : "127.0.0.1");
	kf_store_props_int(&props, "port", st->port);
	rec.name = exec_name;
	rec.props = &props;
	rec.inputs = &in;
	rec.n_inputs = 1;
	rc = kf_store_context(st->store, "kf.Serving", name, NULL, 0, &ctx_id, err);
	if (rc == 0) {
		rec.contexts = &ctx_id;
		rec.n_contexts = 1;
		rc = kf_store_record(st->store, &rec, &exec_id, err);
	}
	kf_store_ref_release(&in);
	kf_store_props_release(&props);
	free(abs_dir);
	return rc < 0 ? rc : 0;
}

static void model_event(const char *name, long version, const char *dir, const char *what,
			const struct kf_err *err, void *cls)
{
	struct serve_state *st = cls;
	struct kf_err serr;

	pthread_mutex_lock(&st->lock);
	if (err) {
		kf_print_warning(st->ctx, "model \"%s\" version %ld: %s", name, version, err->msg);
	} else {
		kf_print_info(st->ctx, "kf serve: %s model \"%s\" version %ld from \"%s\"",
			      !strcmp(what, "load") ? "loaded" : "unloaded", name, version, dir);
		kf_err_clear(&serr);
		if (st->store && !strcmp(what, "load") && record_load(st, name, version, dir, &serr) != 0)
			kf_print_warning(st->ctx, "model \"%s\" version %ld: not recorded in the store: %s", name,
					 version, serr.msg);
	}
	pthread_mutex_unlock(&st->lock);
}

/* ---- --emit --------------------------------------------------------------- */

static bool dns_label(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* An InferenceService whose predictor is a kf container serving the model
 * that KServe's storage initializer puts in /mnt/models. */
static int emit(const struct kf_args *args, struct kf_err *err)
{
	const char *uri = kf_args_get(args, "storage-uri");
	const char *image = kf_args_get(args, "image");
	char *name = NULL;
	cJSON *doc, *meta, *pred, *containers, *c, *argv, *env, *e, *ports, *p;
	struct kf_buf out = KF_BUF_INIT;
	int rc;

	if (!uri)
		return kf_err_set(err, KF_EUSAGE,
				  "--emit needs --storage-uri (where the cluster finds the model: s3://, gs://, pvc://)");
	if (args->argc != 1 && !kf_args_get(args, "name"))
		return kf_err_set(err, KF_EUSAGE, "--emit serves one model: give MODEL_DIR or --name");
	name = kf_args_get(args, "name") ? kf_xstrdup(kf_args_get(args, "name")) : name_of_dir(args->argv[0]);
	if (!dns_label(name)) {
		rc = kf_err_set(err, KF_EUSAGE,
				"model name \"%s\" is not a valid resource name (lowercase letters, digits, \"-\"): use --name",
				name);
		free(name);
		return rc;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "apiVersion", "serving.kserve.io/v1beta1");
	cJSON_AddStringToObject(doc, "kind", "InferenceService");
	meta = cJSON_AddObjectToObject(doc, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	pred = cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "spec"), "predictor");
	containers = cJSON_AddArrayToObject(pred, "containers");
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(containers, c);
	cJSON_AddStringToObject(c, "name", "kserve-container");
	cJSON_AddStringToObject(c, "image", image ? image : "kf:" PACKAGE_VERSION);
	argv = cJSON_AddArrayToObject(c, "args");
	{
		const char *words[] = { "serve", "/mnt/models", "--name", name, "--address", "0.0.0.0",
					"--port", "8080", NULL };
		size_t i;

		for (i = 0; words[i]; i++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(words[i]));
	}
	env = cJSON_AddArrayToObject(c, "env");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", "STORAGE_URI");
	cJSON_AddStringToObject(e, "value", uri);
	cJSON_AddItemToArray(env, e);
	ports = cJSON_AddArrayToObject(c, "ports");
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "containerPort", 8080);
	cJSON_AddStringToObject(p, "protocol", "TCP");
	cJSON_AddItemToArray(ports, p);
	rc = kf_yaml_emit(doc, &out, err);
	if (rc == 0)
		rc = kf_print_buf(&out, err);
	kf_buf_release(&out);
	cJSON_Delete(doc);
	free(name);
	return rc;
}

/* ---- serving -------------------------------------------------------------- */

static int run_serve(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct serve_state st = { .ctx = ctx, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct kf_server_config cfg = { 0 };
	struct kf_server *srv = NULL;
	char *token = NULL;
	long port, threads, batch_max, batch_timeout, max_body, timeout, poll_ms;
	sigset_t sigs;
	int rc, sig;

	if (kf_args_has(args, "emit"))
		return emit(args, err);
	if (args->argc == 0 && !kf_args_get(args, "repo") && !kf_args_count(args, "model"))
		return kf_err_set(err, KF_EUSAGE, "nothing to serve: give MODEL_DIR, --repo REPO or --model NAME=DIR");
	if (kf_args_get(args, "token") && kf_args_get(args, "token-file"))
		return kf_err_set(err, KF_EUSAGE, "give --token or --token-file, not both");
	if ((rc = parse_count(args, "port", 0, 65535, DEFAULT_PORT, &port, err)) ||
	    (rc = parse_count(args, "threads", 1, 256, 2, &threads, err)) ||
	    (rc = parse_count(args, "batch-max", 1, 1 << 20, 1, &batch_max, err)) ||
	    (rc = parse_count(args, "batch-timeout-us", 0, 10000000, DEFAULT_BATCH_TIMEOUT_US, &batch_timeout, err)) ||
	    (rc = parse_count(args, "max-body", 1, 1L << 40, 64L << 20, &max_body, err)) ||
	    (rc = parse_count(args, "timeout", 1, 86400, 30, &timeout, err)) ||
	    (rc = parse_count(args, "poll-ms", 0, 86400000, 1000, &poll_ms, err)))
		return rc;
	if (kf_args_get(args, "token-file") && (rc = read_token(kf_args_get(args, "token-file"), &token, err)))
		return rc;
	if (kf_args_get(args, "token"))
		token = kf_xstrdup(kf_args_get(args, "token"));

	cfg.address = kf_args_get(args, "address");
	cfg.port = (unsigned)port;
	cfg.threads = (unsigned)threads;
	cfg.max_body = (size_t)max_body;
	cfg.timeout_s = (unsigned)timeout;
	cfg.token = token;
	cfg.batch_max = (size_t)batch_max;
	cfg.batch_timeout_us = batch_timeout;
	cfg.poll_ms = poll_ms;
	cfg.log = ctx->verbose ? access_log : NULL;
	cfg.log_cls = &st;
	cfg.event = model_event;
	cfg.event_cls = &st;
	st.address = cfg.address;
	st.port = port;
	{
		char *store_dir = kf_ctx_store_dir(ctx);
		struct kf_err serr;

		/* serving without a writable store is still serving */
		kf_err_clear(&serr);
		if (kf_store_open(store_dir, &st.store, &serr) != 0) {
			kf_print_warning(ctx, "deployments are not recorded: %s", serr.msg);
			st.store = NULL;
		}
		free(store_dir);
	}

	/* the server's threads inherit this mask: only sigwait below sees
	 * SIGINT and SIGTERM, and then the shutdown is an orderly one */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	srv = kf_server_new(&cfg);
	rc = add_models(kf_server_repo(srv), args, err);
	if (!rc)
		rc = add_canaries(kf_server_repo(srv), args, err);
	if (!rc)
		rc = kf_server_start(srv, err);
	if (rc)
		goto out;
	pthread_mutex_lock(&st.lock);
	fprintf(stderr, "kf serve: listening on http://%s%s%s:%u\n",
		cfg.address && strchr(cfg.address, ':') ? "[" : "", cfg.address ? cfg.address : "127.0.0.1",
		cfg.address && strchr(cfg.address, ':') ? "]" : "", kf_server_port(srv));
	pthread_mutex_unlock(&st.lock);
	sigwait(&sigs, &sig);
	kf_print_info(ctx, "kf serve: %s: finishing requests in flight", sig == SIGINT ? "interrupted" : "terminated");
out:
	kf_server_free(srv, GRACE_MS);
	kf_store_close(st.store);
	free(token);
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	return rc;
}

const struct kf_cmd kf_cmd_serve = {
	.name = "serve",
	.summary = "serve models over REST (TensorFlow Serving, KServe V1 and V2)",
	.usage = "serve [options] MODEL_DIR\n"
		 "serve [options] --repo REPO [--model NAME=DIR]...\n"
		 "serve --emit --storage-uri URI [--image IMAGE] MODEL_DIR",
	.description = "Serve trained model bundles: GET/POST /v1/models/NAME[:predict|:classify|:regress] as\n"
		       "TensorFlow Serving does, /v2/models/NAME/infer as KServe's Open Inference Protocol,\n"
		       "/metrics for Prometheus. Requests carry raw features; the model's fitted transform is\n"
		       "applied before the model. SIGTERM or SIGINT finishes the requests in flight and exits 0.",
	.opts = serve_opts,
	.min_args = 0,
	.max_args = 1,
	.args_complete = "dir",
	.run = run_serve,
};
