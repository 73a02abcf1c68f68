/* kf_trainjob: TFJob/PyTorchJob validation and local execution. */
#include "config.h"

#include "ml/kf_trainjob.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLICAS 256
#define DEFAULT_BACKOFF_LIMIT 6

enum policy { P_NEVER, P_ONFAILURE, P_ALWAYS, P_EXITCODE };
static const char *const policy_names[] = { "Never", "OnFailure", "Always", "ExitCode" };

struct rspec {
	char *type;           /* "Worker" */
	char *lower;          /* "worker" */
	int replicas;
	enum policy policy;
	struct kf_strv argv;  /* command + args */
	struct kf_strv env;   /* NAME=VALUE */
	char *workdir;
};

struct replica {
	struct rspec *spec;
	int index;
	int port;
	pid_t pid;
	int fd;               /* merged stdout+stderr */
	FILE *log;
	struct kf_buf partial;
	int restarts;
	bool done, succeeded, failed;
	int64_t restart_at;   /* mono ms; 0 when not waiting */
	int last_status;
	char name[64];
};

struct kf_trainjob {
	char *file, *name;
	bool pytorch;
	struct rspec *specs;
	size_t n_specs;
	long backoff_limit, deadline_s;
	char *clean_policy;
	bool all_workers;
	struct replica *reps;
	size_t n_reps;
};

void kf_trainjob_opts_init(struct kf_trainjob_opts *o)
{
	memset(o, 0, sizeof *o);
}

const char *kf_trainjob_name(const struct kf_trainjob *tj) { return tj->name; }
const char *kf_trainjob_kind(const struct kf_trainjob *tj) { return tj->pytorch ? "PyTorchJob" : "TFJob"; }

void kf_trainjob_free(struct kf_trainjob *tj)
{
	size_t i;

	if (!tj)
		return;
	for (i = 0; i < tj->n_specs; i++) {
		free(tj->specs[i].type);
		free(tj->specs[i].lower);
		kf_strv_release(&tj->specs[i].argv);
		kf_strv_release(&tj->specs[i].env);
		free(tj->specs[i].workdir);
	}
	free(tj->specs);
	for (i = 0; i < tj->n_reps; i++) {
		kf_buf_release(&tj->reps[i].partial);
		if (tj->reps[i].log)
			fclose(tj->reps[i].log);
	}
	free(tj->reps);
	free(tj->clean_policy);
	free(tj->file);
	free(tj->name);
	free(tj);
}

/* ---- validation ------------------------------------------------------------ */

struct vctx {
	const struct kf_ydoc *doc;
	struct kf_errlist *errs;
};

static void verr(struct vctx *v, const struct kf_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void verr(struct vctx *v, const struct kf_ynode *n, const char *fmt, ...)
{
	struct kf_err e;
	va_list ap;

	kf_err_clear(&e);
	va_start(ap, fmt);
	kf_err_vset(&e, KF_EINPUT, fmt, ap);
	va_end(ap);
	snprintf(e.file, sizeof e.file, "%s", v->doc->file);
	e.line = n ? n->line : 1;
	e.col = n ? n->col : 1;
	kf_errlist_add(v->errs, &e);
}

static const char *scalar(const struct kf_ynode *n)
{
	return n && kf_ynode_is_scalar(n) ? n->value : NULL;
}

static bool get_int(struct vctx *v, const struct kf_ynode *n, const char *what, long lo, long *out)
{
	long l;

	if (!n)
		return false;
	if (!kf_ynode_is_scalar(n) || n->quoted || !kf_str_to_long(n->value, &l) || l < lo) {
		verr(v, n, "%s must be an integer >= %ld", what, lo);
		return false;
	}
	*out = l;
	return true;
}

static bool dns1035(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || !islower((unsigned char)s[0]) || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static void str_list(struct vctx *v, const struct kf_ynode *n, const char *what, struct kf_strv *out)
{
	size_t i;

	if (!n)
		return;
	if (n->kind != KF_Y_SEQ) {
		verr(v, n, "%s must be a list of strings", what);
		return;
	}
	for (i = 0; i < n->n; i++) {
		if (!kf_ynode_is_scalar(n->items[i])) {
			verr(v, n->items[i], "%s must be a list of strings", what);
			continue;
		}
		kf_strv_push(out, n->items[i]->value);
	}
}

static void parse_container(struct vctx *v, struct rspec *r, const struct kf_ynode *tmpl, const char *want,
			    const struct kf_ynode *at)
{
	const struct kf_ynode *pod = kf_ynode_get(tmpl, "spec"), *ctrs = kf_ynode_get(pod, "containers");
	const struct kf_ynode *c = NULL, *env;
	size_t i;

	if (!tmpl || !ctrs || ctrs->kind != KF_Y_SEQ || ctrs->n == 0) {
		verr(v, tmpl ? tmpl : at, "replica %s: template.spec.containers must list at least one container", r->type);
		return;
	}
	for (i = 0; i < ctrs->n; i++)
		if (kf_str_eq(scalar(kf_ynode_get(ctrs->items[i], "name")), want))
			c = ctrs->items[i];
	if (!c) {
		verr(v, ctrs, "replica %s: no container named \"%s\" (the training operator requires one)", r->type, want);
		return;
	}
	str_list(v, kf_ynode_get(c, "command"), "command", &r->argv);
	str_list(v, kf_ynode_get(c, "args"), "args", &r->argv);
	if (!kf_ynode_get(c, "command"))
		verr(v, c, "replica %s: container \"%s\" has no command: kf runs the command locally and cannot know the image's entrypoint",
		     r->type, want);
	if (scalar(kf_ynode_get(c, "workingDir")))
		r->workdir = kf_xstrdup(scalar(kf_ynode_get(c, "workingDir")));
	env = kf_ynode_get(c, "env");
	for (i = 0; env && env->kind == KF_Y_SEQ && i < env->n; i++) {
		const char *name = scalar(kf_ynode_get(env->items[i], "name"));
		const struct kf_ynode *val = kf_ynode_get(env->items[i], "value");

		if (!name) {
			verr(v, env->items[i], "env entries need a name");
			continue;
		}
		if (kf_ynode_get(env->items[i], "valueFrom")) {
			verr(v, kf_ynode_get(env->items[i], "valueFrom"),
			     "env \"%s\": valueFrom (secrets, config maps, fields) cannot be resolved locally", name);
			continue;
		}
		kf_strv_push_owned(&r->env, kf_xasprintf("%s=%s", name, scalar(val) ? scalar(val) : ""));
	}
}

static int validate(struct kf_trainjob *tj, const struct kf_ydoc *doc, struct kf_errlist *errs)
{
	static const char *const tf_types[] = { "Chief", "Master", "PS", "Worker", "Evaluator" };
	static const char *const pt_types[] = { "Master", "Worker" };
	struct vctx v = { doc, errs };
	const struct kf_ynode *root = doc->root, *n, *spec, *rs, *rp;
	const char *kind, *api;
	size_t before = errs->n, i;
	long l;

	if (!root || root->kind != KF_Y_MAP) {
		verr(&v, root, "a training job must be a TFJob or PyTorchJob manifest (a map)");
		return KF_EINPUT;
	}
	api = scalar(kf_ynode_get(root, "apiVersion"));
	kind = scalar(kf_ynode_get(root, "kind"));
	if (!kf_str_eq(api, "kubeflow.org/v1"))
		verr(&v, kf_ynode_get(root, "apiVersion") ? kf_ynode_get(root, "apiVersion") : root,
		     "apiVersion must be \"kubeflow.org/v1\"");
	if (!kf_str_eq(kind, "TFJob") && !kf_str_eq(kind, "PyTorchJob")) {
		verr(&v, kf_ynode_get(root, "kind") ? kf_ynode_get(root, "kind") : root,
		     "kind must be TFJob or PyTorchJob");
		return KF_EINPUT;
	}
	tj->pytorch = !strcmp(kind, "PyTorchJob");
	n = kf_ynode_get(kf_ynode_get(root, "metadata"), "name");
	if (!scalar(n))
		verr(&v, kf_ynode_get(root, "metadata") ? kf_ynode_get(root, "metadata") : root, "metadata.name is required");
	else if (!dns1035(n->value))
		verr(&v, n, "metadata.name \"%s\" must be a DNS-1035 label (lowercase letters, digits, '-')", n->value);
	tj->name = kf_xstrdup(scalar(n) ? n->value : "job");
	spec = kf_ynode_get(root, "spec");
	rs = kf_ynode_get(spec, tj->pytorch ? "pytorchReplicaSpecs" : "tfReplicaSpecs");
	if (!rs || rs->kind != KF_Y_MAP || rs->n == 0) {
		verr(&v, spec ? spec : root, "spec.%s is required", tj->pytorch ? "pytorchReplicaSpecs" : "tfReplicaSpecs");
		return KF_EINPUT;
	}
	tj->specs = kf_xcalloc(rs->n, sizeof *tj->specs);
	for (i = 0; i < rs->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(rs, i), *r = kf_ynode_val(rs, i), *pol;
		const char *const *types = tj->pytorch ? pt_types : tf_types;
		size_t nt = tj->pytorch ? 2 : 5, t;
		struct rspec *s;

		for (t = 0; t < nt; t++)
			if (!strcmp(k->value, types[t]))
				break;
		if (t == nt) {
			const char *hint = kf_str_suggest(k->value, types, nt);

			verr(&v, k, "unknown replica type \"%s\"%s%s%s", k->value, hint ? " (did you mean \"" : "",
			     hint ? hint : "", hint ? "\"?)" : "");
			continue;
		}
		s = &tj->specs[tj->n_specs++];
		s->type = kf_xstrdup(k->value);
		s->lower = kf_xstrdup(k->value);
		for (char *c = s->lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		s->replicas = 1;
		if (get_int(&v, kf_ynode_get(r, "replicas"), "replicas", 0, &l))
			s->replicas = (int)l;
		s->policy = tj->pytorch ? P_ONFAILURE : P_NEVER;
		pol = kf_ynode_get(r, "restartPolicy");
		if (pol) {
			size_t p;

			for (p = 0; p < 4; p++)
				if (kf_str_eq(scalar(pol), policy_names[p]))
					break;
			if (p == 4)
				verr(&v, pol, "restartPolicy must be Always, OnFailure, Never or ExitCode");
			else
				s->policy = (enum policy)p;
		}
		if ((!strcmp(s->type, "Chief") || !strcmp(s->type, "Master")) && s->replicas != 1 &&
		    (tj->pytorch || s->replicas > 1))
			verr(&v, kf_ynode_get(r, "replicas") ? kf_ynode_get(r, "replicas") : k,
			     "%s must have exactly 1 replica", s->type);
		parse_container(&v, s, kf_ynode_get(r, "template"), tj->pytorch ? "pytorch" : "tensorflow", k);
	}
	if (!tj->pytorch && kf_ynode_get(rs, "Chief") && kf_ynode_get(rs, "Master"))
		verr(&v, kf_ynode_get(rs, "Master"), "a TFJob has a Chief or a Master, not both");
	if (tj->pytorch && !kf_ynode_get(rs, "Master"))
		verr(&v, rs, "a PyTorchJob needs a Master replica");
	tj->backoff_limit = DEFAULT_BACKOFF_LIMIT;
	rp = kf_ynode_get(spec, "runPolicy");
	if (rp) {
		const struct kf_ynode *c = kf_ynode_get(rp, "cleanPodPolicy");

		if (get_int(&v, kf_ynode_get(rp, "backoffLimit"), "backoffLimit", 0, &l))
			tj->backoff_limit = l;
		if (get_int(&v, kf_ynode_get(rp, "activeDeadlineSeconds"), "activeDeadlineSeconds", 1, &l))
			tj->deadline_s = l;
		if (c && !kf_str_eq(scalar(c), "All") && !kf_str_eq(scalar(c), "Running") && !kf_str_eq(scalar(c), "None"))
			verr(&v, c, "cleanPodPolicy must be All, Running or None");
		tj->clean_policy = kf_xstrdup(scalar(c) ? scalar(c) : "None");
	}
	n = kf_ynode_get(spec, "successPolicy");
	if (n) {
		if (!kf_str_eq(scalar(n), "") && !kf_str_eq(scalar(n), "AllWorkers"))
			verr(&v, n, "successPolicy must be \"\" or AllWorkers");
		tj->all_workers = kf_str_eq(scalar(n), "AllWorkers");
	}
	return errs->n > before ? KF_EINPUT : 0;
}

int kf_trainjob_load_text(struct kf_trainjob **out, const char *name, const char *text, size_t len,
			  struct kf_errlist *errs, struct kf_err *err)
{
	struct kf_trainjob *tj = kf_xcalloc(1, sizeof *tj);
	struct kf_ydoc doc = { 0 };
	int rc;

	*out = NULL;
	rc = kf_yaml_load(&doc, name, text, len, err);
	if (rc < 0) {
		if (err->line)
			kf_errlist_add(errs, err);
		kf_trainjob_free(tj);
		return rc;
	}
	tj->file = kf_xstrdup(name);
	rc = validate(tj, &doc, errs);
	kf_ydoc_release(&doc);
	if (rc < 0) {
		kf_err_set(err, rc, "%s: invalid training job", name);
		kf_trainjob_free(tj);
		return rc;
	}
	*out = tj;
	return 0;
}

int kf_trainjob_load(struct kf_trainjob **out, const char *path, struct kf_errlist *errs,
		     struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	int rc;

	*out = NULL;
	rc = kf_fs_read_file(path, &b, err);
	if (rc == 0)
		rc = kf_trainjob_load_text(out, path, kf_buf_str(&b), b.len, errs, err);
	kf_buf_release(&b);
	return rc;
}

/* ---- running ------------------------------------------------------------------ */

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static const struct rspec *spec_of(const struct kf_trainjob *tj, const char *type)
{
	size_t i;

	for (i = 0; i < tj->n_specs; i++)
		if (!strcmp(tj->specs[i].type, type))
			return &tj->specs[i];
	return NULL;
}

static char *tf_config(const struct kf_trainjob *tj, const struct replica *self)
{
	cJSON *root = cJSON_CreateObject(), *cl = cJSON_AddObjectToObject(root, "cluster"), *task;
	static const char *const order[] = { "Chief", "Master", "PS", "Worker" };
	char *text, addr[64];
	size_t i, t;

	for (t = 0; t < 4; t++) {
		const struct rspec *s = spec_of(tj, order[t]);
		cJSON *arr;

		if (!s || s->replicas == 0)
			continue;
		arr = cJSON_AddArrayToObject(cl, s->lower);
		for (i = 0; i < tj->n_reps; i++)
			if (tj->reps[i].spec == s) {
				snprintf(addr, sizeof addr, "127.0.0.1:%d", tj->reps[i].port);
				cJSON_AddItemToArray(arr, cJSON_CreateString(addr));
			}
	}
	task = cJSON_AddObjectToObject(root, "task");
	cJSON_AddStringToObject(task, "type", self->spec->lower);
	cJSON_AddNumberToObject(task, "index", self->index);
	cJSON_AddStringToObject(root, "environment", "cloud");
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* The environment the operator would give this replica, after its own. */
static void replica_env(const struct kf_trainjob *tj, const struct replica *r, struct kf_strv *env)
{
	size_t i;

	for (i = 0; i < r->spec->env.n; i++)
		kf_strv_push(env, r->spec->env.v[i]);
	if (!tj->pytorch) {
		char *cfg = tf_config(tj, r);

		kf_strv_push_owned(env, kf_xasprintf("TF_CONFIG=%s", cfg));
		free(cfg);
		return;
	}
	{
		int world = 0, master_port = 0, rank;

		for (i = 0; i < tj->n_reps; i++) {
			world++;
			if (!strcmp(tj->reps[i].spec->type, "Master"))
				master_port = tj->reps[i].port;
		}
		rank = !strcmp(r->spec->type, "Master") ? 0 : r->index + 1;
		kf_strv_push(env, "MASTER_ADDR=127.0.0.1");
		kf_strv_push_owned(env, kf_xasprintf("MASTER_PORT=%d", master_port));
		kf_strv_push_owned(env, kf_xasprintf("WORLD_SIZE=%d", world));
		kf_strv_push_owned(env, kf_xasprintf("RANK=%d", rank));
		kf_strv_push(env, "PYTHONUNBUFFERED=1");
	}
}

static void event(const struct kf_trainjob_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void event(const struct kf_trainjob_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!o->on_event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->on_event(o->arg, msg);
}

static int start(const struct kf_trainjob *tj, struct replica *r, const struct kf_trainjob_opts *o,
		 struct kf_err *err)
{
	struct kf_strv env = KF_STRV_INIT;
	int pfd[2];
	pid_t pid;
	size_t i;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return kf_err_sys(err, "pipe");
	replica_env(tj, r, &env);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		kf_strv_release(&env);
		return kf_err_sys(err, "fork");
	}
	if (pid == 0) {
		const char *exe = r->spec->argv.v[0];

		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		for (i = 0; i < env.n; i++)
			putenv(env.v[i]);
		if (r->spec->workdir && chdir(r->spec->workdir) < 0) {
			fprintf(stderr, "kf: cannot change to workingDir \"%s\": %s\n", r->spec->workdir, strerror(errno));
			_exit(127);
		}
		if (!strcmp(exe, "kf") && o->self_exe)
			exe = o->self_exe;
		if (strchr(exe, '/'))
			execv(exe, r->spec->argv.v);
		else
			execvp(exe, r->spec->argv.v);
		fprintf(stderr, "kf: cannot run \"%s\": %s\n", r->spec->argv.v[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	kf_strv_release(&env);
	r->pid = pid;
	r->fd = pfd[0];
	r->restart_at = 0;
	event(o, "%s: started (pid %d)", r->name, (int)pid);
	return 0;
}

static void emit_line(struct replica *r, const struct kf_trainjob_opts *o, const char *line)
{
	if (r->log)
		fprintf(r->log, "%s\n", line);
	if (o->on_line)
		o->on_line(o->arg, r->name, line);
}

/* Read what the replica wrote (the pipe is non-blocking); at EOF flush a
 * last partial line. Returns true at EOF. */
static bool drain(struct replica *r, const struct kf_trainjob_opts *o, bool eof)
{
	char buf[4096];
	ssize_t n = -1;
	char *nl;

	while (!eof && (n = read(r->fd, buf, sizeof buf)) > 0)
		kf_buf_add(&r->partial, buf, (size_t)n);
	if (!eof && n == 0)
		eof = true;
	while (r->partial.len && (nl = memchr(r->partial.data, '\n', r->partial.len))) {
		size_t len = (size_t)(nl - r->partial.data);

		*nl = '\0';
		emit_line(r, o, r->partial.data);
		memmove(r->partial.data, nl + 1, r->partial.len - len - 1);
		r->partial.len -= len + 1;
		r->partial.data[r->partial.len] = '\0';
	}
	if (eof && r->partial.len) {
		emit_line(r, o, r->partial.data);
		kf_buf_reset(&r->partial);
	}
	return eof;
}

static bool restartable(const struct replica *r, int code)
{
	switch (r->spec->policy) {
	case P_NEVER: return false;
	case P_ONFAILURE: return code != 0;
	case P_ALWAYS: return true;
	case P_EXITCODE: return code >= 128 && code <= 255;
	}
	return false;
}

/* Does this replica decide the job's success? */
static bool decides(const struct kf_trainjob *tj, const struct replica *r)
{
	if (spec_of(tj, "Chief") || spec_of(tj, "Master"))
		return !strcmp(r->spec->type, "Chief") || !strcmp(r->spec->type, "Master");
	return !strcmp(r->spec->type, "Worker") && (tj->all_workers || r->index == 0);
}

static void stop_all(struct kf_trainjob *tj, const struct kf_trainjob_opts *o)
{
	int64_t until;
	size_t i;
	bool any = false;

	for (i = 0; i < tj->n_reps; i++)
		if (tj->reps[i].pid > 0) {
			kill(tj->reps[i].pid, SIGTERM);
			any = true;
		}
	until = kf_time_mono_ns() / 1000000 + 5000;
	while (any && kf_time_mono_ns() / 1000000 < until) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		any = false;
		for (i = 0; i < tj->n_reps; i++) {
			struct replica *r = &tj->reps[i];

			if (r->pid > 0 && waitpid(r->pid, NULL, WNOHANG) == r->pid) {
				r->pid = 0;
				event(o, "%s: stopped", r->name);
			} else if (r->pid > 0) {
				any = true;
			}
		}
		if (any)
			nanosleep(&ts, NULL);
	}
	for (i = 0; i < tj->n_reps; i++) {
		struct replica *r = &tj->reps[i];

		if (r->pid > 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
			r->pid = 0;
		}
		if (r->fd >= 0) {
			if (!drain(r, o, false))
				drain(r, o, true);
			close(r->fd);
			r->fd = -1;
		}
	}
}

static int open_logs(struct kf_trainjob *tj, const struct kf_trainjob_opts *o, struct kf_err *err)
{
	char *dir, *path;
	size_t i;
	int rc;

	if (o->log_dir)
		dir = kf_xstrdup(o->log_dir);
	else if (o->store_dir) {
		char *base = kf_path_join(o->store_dir, "trainjobs");

		dir = kf_path_join(base, tj->name);
		free(base);
	} else {
		return 0;
	}
	rc = kf_fs_mkdirs(dir, err);
	for (i = 0; rc == 0 && i < tj->n_reps; i++) {
		char file[80];

		snprintf(file, sizeof file, "%s.log", tj->reps[i].name);
		path = kf_path_join(dir, file);
		tj->reps[i].log = fopen(path, "w");
		if (!tj->reps[i].log)
			rc = kf_err_sys(err, "cannot write \"%s\"", path);
		else
			setvbuf(tj->reps[i].log, NULL, _IOLBF, 0);
		free(path);
	}
	free(dir);
	return rc;
}

static int64_t now_ms(void)
{
	return kf_time_mono_ns() / 1000000;
}

/* The replicas, in the operator's order, each with a free loopback port. */
static int make_replicas(struct kf_trainjob *tj, struct kf_err *err)
{
	size_t s;

	if (tj->reps)
		return 0;
	tj->reps = kf_xcalloc(MAX_REPLICAS, sizeof *tj->reps);
	for (s = 0; s < tj->n_specs; s++) {
		int k;

		for (k = 0; k < tj->specs[s].replicas; k++) {
			struct replica *r;

			if (tj->n_reps == MAX_REPLICAS)
				return kf_err_set(err, KF_EINPUT, "%s: more than %d replicas", tj->file, MAX_REPLICAS);
			r = &tj->reps[tj->n_reps++];
			r->spec = &tj->specs[s];
			r->index = k;
			r->fd = -1;
			r->port = free_port();
			snprintf(r->name, sizeof r->name, "%s-%d", r->spec->lower, k);
		}
	}
	if (tj->n_reps == 0)
		return kf_err_set(err, KF_EINPUT, "%s: the job has no replicas", tj->file);
	return 0;
}

int kf_trainjob_describe(struct kf_trainjob *tj, cJSON **out, struct kf_err *err)
{
	cJSON *list;
	size_t i, k;
	int rc;

	*out = NULL;
	rc = make_replicas(tj, err);
	if (rc < 0)
		return rc;
	list = cJSON_CreateArray();
	for (i = 0; i < tj->n_reps; i++) {
		const struct replica *r = &tj->reps[i];
		struct kf_strv env = KF_STRV_INIT;
		cJSON *o = cJSON_CreateObject(), *argv, *e;

		cJSON_AddStringToObject(o, "name", r->name);
		cJSON_AddStringToObject(o, "restartPolicy", policy_names[r->spec->policy]);
		argv = cJSON_AddArrayToObject(o, "argv");
		for (k = 0; k < r->spec->argv.n; k++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(r->spec->argv.v[k]));
		e = cJSON_AddObjectToObject(o, "env");
		replica_env(tj, r, &env);
		for (k = 0; k < env.n; k++) {
			char *eq = strchr(env.v[k], '=');

			*eq = '\0';
			cJSON_DeleteItemFromObjectCaseSensitive(e, env.v[k]);
			cJSON_AddStringToObject(e, env.v[k], eq + 1);
		}
		kf_strv_release(&env);
		cJSON_AddItemToArray(list, o);
	}
	*out = list;
	return 0;
}

int kf_trainjob_run(struct kf_trainjob *tj, const struct kf_trainjob_opts *o, struct kf_err *err)
{
	size_t i;
	int64_t t0 = now_ms();
	long total_restarts = 0;
	int rc = 0;
	bool finished = false;

	rc = make_replicas(tj, err);
	if (rc < 0)
		return rc;
	rc = open_logs(tj, o, err);
	if (rc < 0)
		return rc;
	event(o, "%s \"%s\": %zu replica(s)", kf_trainjob_kind(tj), tj->name, tj->n_reps);
	for (i = 0; i < tj->n_reps; i++)
		if ((rc = start(tj, &tj->reps[i], o, err)) < 0) {
			stop_all(tj, o);
			return rc;
		}
	while (!finished) {
		struct pollfd pfd[MAX_REPLICAS];
		struct replica *who[MAX_REPLICAS];
		size_t n = 0;
		bool any_alive = false, all_decided = true;

		for (i = 0; i < tj->n_reps; i++)
			if (tj->reps[i].fd >= 0) {
				pfd[n].fd = tj->reps[i].fd;
				pfd[n].events = POLLIN;
				who[n++] = &tj->reps[i];
			}
		if (poll(pfd, n, 100) < 0 && errno != EINTR) {
			rc = kf_err_sys(err, "poll");
			break;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR) && drain(who[i], o, false)) {
				close(who[i]->fd);
				who[i]->fd = -1;
			}
		/* exits and restarts */
		for (i = 0; i < tj->n_reps; i++) {
			struct replica *r = &tj->reps[i];
			int st, code;

			if (r->pid > 0 && waitpid(r->pid, &st, WNOHANG) == r->pid) {
				r->pid = 0;
				if (r->fd >= 0) {
					if (!drain(r, o, false))
						drain(r, o, true);
					close(r->fd);
					r->fd = -1;
				}
				code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				r->last_status = code;
				if (code == 0 && (decides(tj, r) || r->spec->policy != P_ALWAYS)) {
					r->done = r->succeeded = true;
					event(o, "%s: succeeded", r->name);
				} else if (restartable(r, code) && total_restarts < tj->backoff_limit) {
					int64_t delay = 200LL << (r->restarts < 5 ? r->restarts : 5);

					r->restarts++;
					total_restarts++;
					r->restart_at = now_ms() + (delay > 5000 ? 5000 : delay);
					event(o, "%s: exited with status %d, restarting (%s, restart %ld of backoffLimit %ld)",
					      r->name, code, policy_names[r->spec->policy], total_restarts, tj->backoff_limit);
				} else {
					r->done = r->failed = true;
					if (restartable(r, code))
						kf_err_set(err, KF_EFAIL, "%s \"%s\" failed: %s exited with status %d and the job reached backoffLimit %ld",
							   kf_trainjob_kind(tj), tj->name, r->name, code, tj->backoff_limit);
					else
						kf_err_set(err, KF_EFAIL, "%s \"%s\" failed: %s exited with status %d (restartPolicy %s)",
							   kf_trainjob_kind(tj), tj->name, r->name, code, policy_names[r->spec->policy]);
					event(o, "%s: failed with status %d", r->name, code);
				}
			}
			if (!r->done && r->pid == 0 && r->restart_at && now_ms() >= r->restart_at &&
			    (rc = start(tj, r, o, err)) < 0)
				break;
			if (r->pid > 0 || r->restart_at)
				any_alive = true;
		}
		if (rc < 0)
			break;
		/* the job's state */
		for (i = 0; i < tj->n_reps; i++) {
			struct replica *r = &tj->reps[i];

			if (r->failed && strcmp(r->spec->type, "Evaluator")) {
				rc = KF_EFAIL;
				finished = true;
			}
			if (decides(tj, r) && !r->succeeded)
				all_decided = false;
		}
		if (!finished && all_decided) {
			event(o, "%s \"%s\" succeeded", kf_trainjob_kind(tj), tj->name);
			finished = true;
		}
		if (!finished && !any_alive) {
			rc = kf_err_set(err, KF_EFAIL, "%s \"%s\" failed: every replica exited without the job succeeding",
					kf_trainjob_kind(tj), tj->name);
			finished = true;
		}
		if (!finished && tj->deadline_s && now_ms() - t0 > tj->deadline_s * 1000) {
			rc = kf_err_set(err, KF_EFAIL, "%s \"%s\" failed: activeDeadlineSeconds %ld exceeded",
					kf_trainjob_kind(tj), tj->name, tj->deadline_s);
			finished = true;
		}
		if (!finished && o->interrupted && *o->interrupted) {
			rc = kf_err_set(err, KF_EINTR, "interrupted");
			finished = true;
		}
	}
	stop_all(tj, o);
	return rc;
}
