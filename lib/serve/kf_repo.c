#include "config.h"

#include "serve/kf_repo.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CONFIG_FILE "kf-serving.yaml"
#define BUNDLE_FILE "kf-model.json"

enum vstate { V_LOADING, V_AVAILABLE, V_FAILED };

struct version {
	long number;
	enum vstate state;
	struct kf_servable *sv;   /* V_AVAILABLE: the repo's reference */
	char *error;              /* V_FAILED: why */
	int64_t stamp;            /* mtimes of the directory at the failed load */
};

struct label {
	char *name;
	long version;
};

struct model {
	char *name;
	char *base;
	bool single;              /* base is itself the model (version 1) */
	bool from_root;
	struct version *versions; /* sorted by number */
	size_t n_versions, cap_versions;
	struct label *labels;
	size_t n_labels;
	long *wanted;             /* versions: from the config, or NULL */
	size_t n_wanted;
	long canary_version;      /* 0: none */
	int canary_percent;
	bool canary_flag;         /* set by kf_repo_set_canary, not the config */
	atomic_ulong counter;     /* unpinned requests, to split for the canary */
};

struct canary {
	char *name;
	long version;
	int percent;
};

struct kf_repo {
	struct kf_repo_ops ops;
	struct canary *canaries;  /* from kf_repo_set_canary, for models to come too */
	size_t n_canaries, cap_canaries;
	pthread_mutex_t lock;     /* the tables below, and every refcount taken */
	pthread_mutex_t scan_lock;
	struct model **models;
	size_t n_models, cap_models;
	struct kf_strv roots;
	pthread_t watcher;
	bool watching, stopping;
	pthread_cond_t stop_cond;
	int64_t interval_ms;
};

struct kf_repo *kf_repo_new(const struct kf_repo_ops *ops)
{
	struct kf_repo *repo = kf_xcalloc(1, sizeof *repo);
	pthread_condattr_t attr;

	repo->ops = *ops;
	pthread_mutex_init(&repo->lock, NULL);
	pthread_mutex_init(&repo->scan_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&repo->stop_cond, &attr);
	pthread_condattr_destroy(&attr);
	return repo;
}

static void servable_free(struct kf_servable *sv)
{
	sv->ops->unload(sv->model, sv->ops->cls);
	free(sv->name);
	free(sv->dir);
	free(sv);
}

void kf_servable_put(struct kf_servable *sv)
{
	if (sv && atomic_fetch_sub(&sv->refs, 1) == 1)
		servable_free(sv);
}

static void model_free(struct model *m)
{
	size_t i;

	for (i = 0; i < m->n_versions; i++) {
		kf_servable_put(m->versions[i].sv);
		free(m->versions[i].error);
	}
	for (i = 0; i < m->n_labels; i++)
		free(m->labels[i].name);
	free(m->labels);
	free(m->wanted);
	free(m->versions);
	free(m->name);
	free(m->base);
	free(m);
}

void kf_repo_free(struct kf_repo *repo)
{
	size_t i;

	if (!repo)
		return;
	if (repo->watching) {
		pthread_mutex_lock(&repo->lock);
		repo->stopping = true;
		pthread_cond_signal(&repo->stop_cond);
		pthread_mutex_unlock(&repo->lock);
		pthread_join(repo->watcher, NULL);
	}
	for (i = 0; i < repo->n_models; i++)
		model_free(repo->models[i]);
	free(repo->models);
	for (i = 0; i < repo->n_canaries; i++)
		free(repo->canaries[i].name);
	free(repo->canaries);
	kf_strv_release(&repo->roots);
	pthread_cond_destroy(&repo->stop_cond);
	pthread_mutex_destroy(&repo->scan_lock);
	pthread_mutex_destroy(&repo->lock);
	free(repo);
}

static struct model *find_model(struct kf_repo *repo, const char *name)
{
	size_t i;

	for (i = 0; i < repo->n_models; i++)
		if (!strcmp(repo->models[i]->name, name))
			return repo->models[i];
	return NULL;
}

static int model_cmp(const void *a, const void *b)
{
	return strcmp((*(struct model *const *)a)->name, (*(struct model *const *)b)->name);
}

/* Called with the lock held. */
static struct model *add_model_locked(struct kf_repo *repo, const char *name, const char *dir,
				      bool from_root)
{
	struct model *m = kf_xcalloc(1, sizeof *m);
	size_t i;

	m->name = kf_xstrdup(name);
	m->base = kf_xstrdup(dir);
	m->from_root = from_root;
	atomic_init(&m->counter, 0);
	for (i = 0; i < repo->n_canaries; i++) {
		if (strcmp(repo->canaries[i].name, name))
			continue;
		m->canary_version = repo->canaries[i].version;
		m->canary_percent = repo->canaries[i].percent;
		m->canary_flag = true;
	}
	KF_GROW(repo->models, repo->cap_models, repo->n_models + 1);
	repo->models[repo->n_models++] = m;
	qsort(repo->models, repo->n_models, sizeof *repo->models, model_cmp);
	return m;
}

static bool valid_name(const char *name)
{
	const char *p;

	if (!*name || *name == '.')
		return false;
	for (p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    !strchr("._-", *p))
			return false;
	return true;
}

int kf_repo_add_model(struct kf_repo *repo, const char *name, const char *dir, struct kf_err *err)
{
	int rc = 0;

	if (!valid_name(name))
		return kf_err_set(err, KF_EUSAGE,
				  "invalid model name \"%s\" (letters, digits, \".\", \"_\" and \"-\")", name);
	if (!kf_fs_is_dir(dir))
		return kf_err_set(err, KF_ENOTFOUND, "model directory \"%s\" not found", dir);
	pthread_mutex_lock(&repo->lock);
	if (find_model(repo, name))
		rc = kf_err_set(err, KF_EUSAGE, "model \"%s\" given twice", name);
	else
		add_model_locked(repo, name, dir, false);
	pthread_mutex_unlock(&repo->lock);
	return rc;
}

int kf_repo_add_root(struct kf_repo *repo, const char *root, struct kf_err *err)
{
	if (!kf_fs_is_dir(root))
		return kf_err_set(err, KF_ENOTFOUND, "model repository \"%s\" not found", root);
	pthread_mutex_lock(&repo->lock);
	kf_strv_push(&repo->roots, root);
	pthread_mutex_unlock(&repo->lock);
	return 0;
}

int kf_repo_set_canary(struct kf_repo *repo, const char *name, long version, int percent,
		       struct kf_err *err)
{
	struct model *m;

	if (version <= 0 || percent < 0 || percent > 100)
		return kf_err_set(err, KF_EUSAGE, "canary of \"%s\": want VERSION > 0 and PERCENT 0-100", name);
	pthread_mutex_lock(&repo->lock);
	KF_GROW(repo->canaries, repo->cap_canaries, repo->n_canaries + 1);
	repo->canaries[repo->n_canaries].name = kf_xstrdup(name);
	repo->canaries[repo->n_canaries].version = version;
	repo->canaries[repo->n_canaries++].percent = percent;
	m = find_model(repo, name);
	if (m) {
		m->canary_version = version;
		m->canary_percent = percent;
		m->canary_flag = true;
	}
	pthread_mutex_unlock(&repo->lock);
	return 0;
}

int kf_repo_check_canaries(struct kf_repo *repo, struct kf_err *err)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&repo->lock);
	for (i = 0; i < repo->n_canaries && !rc; i++)
		if (!find_model(repo, repo->canaries[i].name))
			rc = kf_err_set(err, KF_ENOTFOUND, "canary for unknown model \"%s\"", repo->canaries[i].name);
	pthread_mutex_unlock(&repo->lock);
	return rc;
}

/* ---- scanning ---------------------------------------------------------- */

static bool parse_version(const char *s, long *v)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return kf_str_to_long(s, v) && *v > 0;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Numbered subdirectories of base, sorted. */
static void list_versions(const char *base, long **out, size_t *n)
{
	DIR *d = opendir(base);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path;
		long v;

		if (!parse_version(de->d_name, &v))
			continue;
		path = kf_path_join(base, de->d_name);
		if (kf_fs_is_dir(path)) {
			KF_GROW(*out, cap, *n + 1);
			(*out)[(*n)++] = v;
		}
		free(path);
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof **out, long_cmp);
}

/* What changes when files are copied into a version directory. */
static int64_t dir_stamp(const char *dir)
{
	char *bundle = kf_path_join(dir, BUNDLE_FILE);
	struct stat st;
	int64_t stamp = 0;

	if (stat(dir, &st) == 0)
		stamp = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (stat(bundle, &st) == 0)
		stamp ^= (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec + (int64_t)st.st_size;
	free(bundle);
	return stamp;
}

struct config {
	long *wanted;
	size_t n_wanted;
	struct label *labels;
	size_t n_labels;
	int canary_percent;
};

static void config_release(struct config *c)
{
	size_t i;

	for (i = 0; i < c->n_labels; i++)
		free(c->labels[i].name);
	free(c->labels);
	free(c->wanted);
	memset(c, 0, sizeof *c);
}

static int yaml_version(const struct kf_ynode *n, const char *path, long *v, struct kf_err *err)
{
	if (!kf_ynode_is_scalar(n) || kf_ynode_scalar_type(n) != KF_YS_INT || !kf_str_to_long(n->value, v) ||
	    *v <= 0)
		return kf_err_at(err, KF_EINPUT, path, n->line, n->col, "a version must be a number > 0");
	return 0;
}

/* REPO/NAME/kf-serving.yaml; a missing file is an empty config. */
static int config_load(const char *base, struct config *c, struct kf_err *err)
{
	char *path = kf_path_join(base, CONFIG_FILE);
	struct kf_ydoc doc = { 0 };
	const struct kf_ynode *root, *n;
	size_t i, cap = 0;
	int rc = 0;

	memset(c, 0, sizeof *c);
	if (!kf_fs_exists(path))
		goto out;
	rc = kf_yaml_load_file(&doc, path, err);
	if (rc)
		goto out;
	root = doc.root;
	if (!root || root->kind != KF_Y_MAP) {
		rc = kf_err_at(err, KF_EINPUT, path, root ? root->line : 1, root ? root->col : 1,
			       "expected a map with versions, labels, canary_percent");
		goto out;
	}
	for (i = 0; i < root->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(root, i);

		if (!kf_str_eq(k->value, "versions") && !kf_str_eq(k->value, "labels") &&
		    !kf_str_eq(k->value, "canary_percent")) {
			rc = kf_err_at(err, KF_EINPUT, path, k->line, k->col,
				       "unknown key \"%s\" (want versions, labels, canary_percent)", k->value);
			goto out;
		}
	}
	if ((n = kf_ynode_get(root, "versions"))) {
		if (n->kind != KF_Y_SEQ) {
			rc = kf_err_at(err, KF_EINPUT, path, n->line, n->col, "versions must be a list");
			goto out;
		}
		c->wanted = kf_xcalloc(n->n ? n->n : 1, sizeof *c->wanted);
		for (i = 0; i < n->n; i++) {
			rc = yaml_version(n->items[i], path, &c->wanted[i], err);
			if (rc)
				goto out;
		}
		c->n_wanted = n->n;
	}
	if ((n = kf_ynode_get(root, "labels"))) {
		if (n->kind != KF_Y_MAP) {
			rc = kf_err_at(err, KF_EINPUT, path, n->line, n->col, "labels must be a map");
			goto out;
		}
		for (i = 0; i < n->n; i++) {
			long v;

			rc = yaml_version(kf_ynode_val(n, i), path, &v, err);
			if (rc)
				goto out;
			KF_GROW(c->labels, cap, c->n_labels + 1);
			c->labels[c->n_labels].name = kf_xstrdup(kf_ynode_key(n, i)->value);
			c->labels[c->n_labels++].version = v;
		}
	}
	if ((n = kf_ynode_get(root, "canary_percent"))) {
		long p;

		if (!kf_ynode_is_scalar(n) || !kf_str_to_long(n->value, &p) || p < 0 || p > 100) {
			rc = kf_err_at(err, KF_EINPUT, path, n->line, n->col, "canary_percent must be 0-100");
			goto out;
		}
		c->canary_percent = (int)p;
	}
out:
	if (rc)
		config_release(c);
	kf_ydoc_release(&doc);
	free(path);
	return rc;
}

static long label_version(const struct label *labels, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(labels[i].name, name))
			return labels[i].version;
	return 0;
}

static struct version *find_version(struct model *m, long number)
{
	size_t i;

	for (i = 0; i < m->n_versions; i++)
		if (m->versions[i].number == number)
			return &m->versions[i];
	return NULL;
}

/* Called with the lock held. */
static struct version *add_version(struct model *m, long number)
{
	size_t i;

	KF_GROW(m->versions, m->cap_versions, m->n_versions + 1);
	for (i = m->n_versions; i > 0 && m->versions[i - 1].number > number; i--)
		m->versions[i] = m->versions[i - 1];
	memset(&m->versions[i], 0, sizeof m->versions[i]);
	m->versions[i].number = number;
	m->versions[i].state = V_LOADING;
	m->n_versions++;
	return &m->versions[i];
}

/* Called with the lock held: the version leaves the table; requests that
 * hold its servable finish with it. */
static void drop_version(struct model *m, struct version *v, struct kf_servable **unloaded)
{
	size_t i = (size_t)(v - m->versions);

	*unloaded = v->sv;
	free(v->error);
	memmove(&m->versions[i], &m->versions[i + 1], (m->n_versions - i - 1) * sizeof *v);
	m->n_versions--;
}

static bool has(const long *list, size_t n, long v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static void event(struct kf_repo *repo, const char *name, long version, const char *dir,
		  const char *what, const struct kf_err *err)
{
	if (repo->ops.event)
		repo->ops.event(name, version, dir, what, err, repo->ops.cls);
}

/* Load one version outside the lock, then publish it. */
static void load_version(struct kf_repo *repo, struct model *m, long number, const char *dir)
{
	struct kf_servable *sv = NULL;
	struct version *v;
	struct kf_err err;
	void *handle = NULL;
	int rc;

	kf_err_clear(&err);
	rc = repo->ops.load(dir, &handle, repo->ops.cls, &err);
	if (rc == 0) {
		sv = kf_xcalloc(1, sizeof *sv);
		sv->name = kf_xstrdup(m->name);
		sv->version = number;
		snprintf(sv->version_str, sizeof sv->version_str, "%ld", number);
		sv->dir = kf_xstrdup(dir);
		sv->model = handle;
		sv->ops = &repo->ops;
		atomic_init(&sv->refs, 1);
	}
	pthread_mutex_lock(&repo->lock);
	v = find_version(m, number);
	if (!v)
		v = add_version(m, number);
	free(v->error);
	v->error = NULL;
	if (sv) {
		v->state = V_AVAILABLE;
		v->sv = sv;
	} else {
		v->state = V_FAILED;
		v->error = kf_xstrdup(err.msg);
		v->stamp = dir_stamp(dir);
	}
	pthread_mutex_unlock(&repo->lock);
	event(repo, m->name, number, dir, sv ? "load" : "load-failed", sv ? NULL : &err);
}

static long highest_available(struct model *m, long except)
{
	size_t i;

	for (i = m->n_versions; i > 0; i--)
		if (m->versions[i - 1].state == V_AVAILABLE && m->versions[i - 1].number != except)
			return m->versions[i - 1].number;
	return 0;
}

/* The versions a model should serve, given its directories and config. */
static void wanted_versions(struct model *m, const long *present, size_t n_present,
			    const struct config *c, long **out, size_t *n_out)
{
	size_t i, cap = 0, n = 0;
	long *w = NULL;

#define WANT(v) do { if ((v) > 0 && has(present, n_present, (v)) && !has(w, n, (v))) { \
		KF_GROW(w, cap, n + 1); w[n++] = (v); } } while (0)
	if (c->n_wanted) {
		for (i = 0; i < c->n_wanted; i++)
			WANT(c->wanted[i]);
	} else if (n_present) {
		long newest = present[n_present - 1];
		struct version *v = find_version(m, newest);

		WANT(newest);
		/* availability first: while the newest has not loaded, the
		 * one serving keeps serving */
		if (!v || v->state != V_AVAILABLE)
			WANT(highest_available(m, newest));
	}
	for (i = 0; i < m->n_labels; i++)
		WANT(m->labels[i].version);
	WANT(m->canary_version);
#undef WANT
	*out = w;
	*n_out = n;
}

static char *version_dir(const struct model *m, long number)
{
	char name[24];

	if (m->single)
		return kf_xstrdup(m->base);
	snprintf(name, sizeof name, "%ld", number);
	return kf_path_join(m->base, name);
}

static int scan_model(struct kf_repo *repo, struct model *m, struct kf_err *err)
{
	struct config c = { 0 };
	long *present = NULL, *wanted = NULL;
	size_t n_present = 0, n_wanted = 0, i;
	char *bundle;
	int rc;

	bundle = kf_path_join(m->base, BUNDLE_FILE);
	m->single = kf_fs_exists(bundle);
	free(bundle);
	rc = m->single ? 0 : config_load(m->base, &c, err);
	if (rc)
		return rc;
	if (m->single) {
		present = kf_xmalloc(sizeof *present);
		present[0] = 1;
		n_present = 1;
	} else {
		list_versions(m->base, &present, &n_present);
	}
	pthread_mutex_lock(&repo->lock);
	/* the config's labels and canary share take effect at once */
	for (i = 0; i < m->n_labels; i++)
		free(m->labels[i].name);
	free(m->labels);
	m->labels = c.labels;
	m->n_labels = c.n_labels;
	c.labels = NULL;
	c.n_labels = 0;
	if (!m->canary_flag) {
		m->canary_version = c.canary_percent ? label_version(m->labels, m->n_labels, "canary") : 0;
		m->canary_percent = c.canary_percent;
	}
	wanted_versions(m, present, n_present, &c, &wanted, &n_wanted);
	pthread_mutex_unlock(&repo->lock);

	for (i = 0; i < n_wanted; i++) {
		struct version *v;
		char *dir = version_dir(m, wanted[i]);
		bool load;

		pthread_mutex_lock(&repo->lock);
		v = find_version(m, wanted[i]);
		/* a failed version is retried once its files change */
		load = !v || (v->state == V_FAILED && v->stamp != dir_stamp(dir));
		pthread_mutex_unlock(&repo->lock);
		if (load)
			load_version(repo, m, wanted[i], dir);
		free(dir);
	}
	/* recompute: a newest version that just loaded retires the old one */
	free(wanted);
	pthread_mutex_lock(&repo->lock);
	wanted_versions(m, present, n_present, &c, &wanted, &n_wanted);
	for (i = m->n_versions; i > 0; i--) {
		struct version *v = &m->versions[i - 1];
		struct kf_servable *gone = NULL;
		long number = v->number;
		char *dir;

		if (has(wanted, n_wanted, number))
			continue;
		dir = version_dir(m, number);
		drop_version(m, v, &gone);
		pthread_mutex_unlock(&repo->lock);
		if (gone)
			event(repo, m->name, number, dir, "unload", NULL);
		kf_servable_put(gone);
		free(dir);
		pthread_mutex_lock(&repo->lock);
	}
	pthread_mutex_unlock(&repo->lock);
	free(wanted);
	free(present);
	config_release(&c);
	return 0;
}

/* New model directories under the roots (removed ones keep their entry
 * and simply end up with no versions). */
static void scan_roots(struct kf_repo *repo)
{
	size_t r;

	for (r = 0; r < repo->roots.n; r++) {
		DIR *d = opendir(repo->roots.v[r]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			char *path;

			if (!valid_name(de->d_name))
				continue;
			path = kf_path_join(repo->roots.v[r], de->d_name);
			pthread_mutex_lock(&repo->lock);
			if (kf_fs_is_dir(path) && !find_model(repo, de->d_name))
				add_model_locked(repo, de->d_name, path, true);
			pthread_mutex_unlock(&repo->lock);
			free(path);
		}
		closedir(d);
	}
}

int kf_repo_scan(struct kf_repo *repo, struct kf_err *err)
{
	struct kf_strv names = KF_STRV_INIT;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&repo->scan_lock);
	scan_roots(repo);
	kf_repo_names(repo, &names);
	for (i = 0; i < names.n; i++) {
		struct model *m;

		pthread_mutex_lock(&repo->lock);
		m = find_model(repo, names.v[i]);  /* models are never removed */
		pthread_mutex_unlock(&repo->lock);
		if (m && scan_model(repo, m, err) != 0 && !rc)
			rc = err->code;
	}
	pthread_mutex_unlock(&repo->scan_lock);
	kf_strv_release(&names);
	return rc;
}

static void *watch_loop(void *arg)
{
	struct kf_repo *repo = arg;

	pthread_mutex_lock(&repo->lock);
	while (!repo->stopping) {
		struct timespec ts;
		int64_t due = kf_time_mono_ns() + repo->interval_ms * 1000000;
		struct kf_err err;

		ts.tv_sec = (time_t)(due / 1000000000);
		ts.tv_nsec = (long)(due % 1000000000);
		while (!repo->stopping && pthread_cond_timedwait(&repo->stop_cond, &repo->lock, &ts) != ETIMEDOUT)
			;
		if (repo->stopping)
			break;
		pthread_mutex_unlock(&repo->lock);
		/* a bad config is reported by the event of the next load; the
		 * versions serving keep serving */
		kf_err_clear(&err);
		kf_repo_scan(repo, &err);
		pthread_mutex_lock(&repo->lock);
	}
	pthread_mutex_unlock(&repo->lock);
	return NULL;
}

void kf_repo_watch(struct kf_repo *repo, int64_t interval_ms)
{
	if (repo->watching)
		return;
	repo->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	if (pthread_create(&repo->watcher, NULL, watch_loop, repo) == 0)
		repo->watching = true;
}

/* ---- lookups ----------------------------------------------------------- */

static struct kf_servable *take(struct model *m, long number)
{
	struct version *v = find_version(m, number);

	if (!v || v->state != V_AVAILABLE)
		return NULL;
	atomic_fetch_add(&v->sv->refs, 1);
	return v->sv;
}

/* Every percent-th request of each hundred goes to the canary, evenly
 * spread: request k does when floor((k+1)p/100) > floor(kp/100). */
static bool canary_turn(struct model *m)
{
	unsigned long k = atomic_fetch_add(&m->counter, 1) % 100;

	return ((k + 1) * (unsigned long)m->canary_percent) / 100 > (k * (unsigned long)m->canary_percent) / 100;
}

struct kf_servable *kf_repo_get(struct kf_repo *repo, const char *name, long version,
				const char *label, enum kf_repo_miss *miss)
{
	struct kf_servable *sv = NULL;
	struct model *m;
	long number;

	pthread_mutex_lock(&repo->lock);
	m = find_model(repo, name);
	*miss = KF_REPO_FOUND;
	if (!m) {
		*miss = KF_REPO_NO_MODEL;
		goto out;
	}
	if (version > 0) {
		number = version;
	} else if (label) {
		number = label_version(m->labels, m->n_labels, label);
		if (!number) {
			*miss = KF_REPO_NO_LABEL;
			goto out;
		}
	} else {
		long canary = m->canary_percent ? m->canary_version : 0;

		number = label_version(m->labels, m->n_labels, "stable");
		if (!number || !find_version(m, number) || find_version(m, number)->state != V_AVAILABLE)
			number = highest_available(m, canary);
		if (canary && find_version(m, canary) && find_version(m, canary)->state == V_AVAILABLE &&
		    (canary_turn(m) || !number))
			number = canary;
	}
	sv = take(m, number);
	if (!sv)
		*miss = find_version(m, number) ? KF_REPO_NOT_READY
			: version > 0 || label ? KF_REPO_NO_VERSION : KF_REPO_NOT_READY;
out:
	pthread_mutex_unlock(&repo->lock);
	return sv;
}

void kf_repo_names(struct kf_repo *repo, struct kf_strv *names)
{
	size_t i;

	pthread_mutex_lock(&repo->lock);
	for (i = 0; i < repo->n_models; i++)
		kf_strv_push(names, repo->models[i]->name);
	pthread_mutex_unlock(&repo->lock);
}

static const char *state_name(enum vstate s)
{
	switch (s) {
	case V_LOADING: return "LOADING";
	case V_AVAILABLE: return "AVAILABLE";
	case V_FAILED: return "FAILED";
	}
	return "UNKNOWN";
}

cJSON *kf_repo_describe(struct kf_repo *repo, const char *name)
{
	cJSON *doc = NULL, *list, *labels;
	struct model *m;
	size_t i;
	long def;

	pthread_mutex_lock(&repo->lock);
	m = find_model(repo, name);
	if (!m)
		goto out;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "name", m->name);
	list = cJSON_AddArrayToObject(doc, "versions");
	for (i = 0; i < m->n_versions; i++) {
		cJSON *v = cJSON_CreateObject();

		cJSON_AddNumberToObject(v, "version", (double)m->versions[i].number);
		cJSON_AddStringToObject(v, "state", state_name(m->versions[i].state));
		cJSON_AddStringToObject(v, "error", m->versions[i].error ? m->versions[i].error : "");
		cJSON_AddItemToArray(list, v);
	}
	labels = cJSON_AddObjectToObject(doc, "labels");
	for (i = 0; i < m->n_labels; i++)
		cJSON_AddNumberToObject(labels, m->labels[i].name, (double)m->labels[i].version);
	def = label_version(m->labels, m->n_labels, "stable");
	if (!def || !find_version(m, def) || find_version(m, def)->state != V_AVAILABLE)
		def = highest_available(m, m->canary_percent ? m->canary_version : 0);
	cJSON_AddNumberToObject(doc, "default", (double)def);
	if (m->canary_version && m->canary_percent) {
		cJSON *c = cJSON_AddObjectToObject(doc, "canary");

		cJSON_AddNumberToObject(c, "version", (double)m->canary_version);
		cJSON_AddNumberToObject(c, "percent", m->canary_percent);
	}
out:
	pthread_mutex_unlock(&repo->lock);
	return doc;
}

long kf_repo_loaded(struct kf_repo *repo)
{
	long n = 0;
	size_t i, j;

	pthread_mutex_lock(&repo->lock);
	for (i = 0; i < repo->n_models; i++)
		for (j = 0; j < repo->models[i]->n_versions; j++)
			n += repo->models[i]->versions[j].state == V_AVAILABLE;
	pthread_mutex_unlock(&repo->lock);
	return n;
}

bool kf_repo_ready(struct kf_repo *repo, char **unready)
{
	bool ready = true;
	size_t i;

	pthread_mutex_lock(&repo->lock);
	for (i = 0; i < repo->n_models && ready; i++) {
		ready = highest_available(repo->models[i], 0) > 0;
		if (!ready && unready)
			*unready = kf_xstrdup(repo->models[i]->name);
	}
	pthread_mutex_unlock(&repo->lock);
	return ready;
}
