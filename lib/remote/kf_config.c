/* kf_config: named remotes from the config file, flags and environment. */
#include "config.h"

#include "remote/kf_config.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const remote_keys[] = {
	"host", "token", "token-file", "cookie-file", "ca-file", "insecure", "namespace",
};
#define N_REMOTE_KEYS (sizeof remote_keys / sizeof remote_keys[0])

char *kf_config_path(void)
{
	const char *p = getenv("KF_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (p && *p)
		return kf_xstrdup(p);
	if (xdg && *xdg)
		return kf_xasprintf("%s/kf/config.yaml", xdg);
	return kf_xasprintf("%s/.config/kf/config.yaml", home && *home ? home : "/");
}

/* "~/x" -> "$HOME/x"; anything else copied. */
static char *expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (kf_str_starts(path, "~/") && home && *home)
		return kf_xasprintf("%s/%s", home, path + 2);
	return kf_xstrdup(path);
}

static void set_str(char **dst, const char *value, bool path)
{
	free(*dst);
	*dst = path ? expand_home(value) : kf_xstrdup(value);
}

void kf_remote_release(struct kf_remote *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->host);
	free(r->token);
	free(r->token_file);
	free(r->cookie_file);
	free(r->ca_file);
	free(r->namespace);
	memset(r, 0, sizeof *r);
}

static int node_err(struct kf_err *err, const struct kf_ydoc *doc, const struct kf_ynode *n, int code,
		    const char *msg)
{
	return kf_err_at(err, code, doc->file, n->line, n->col, "%s", msg);
}

/* Fill r from the map node of one remote. */
static int read_remote(const struct kf_ydoc *doc, const struct kf_ynode *map, struct kf_remote *r,
		       struct kf_err *err)
{
	size_t i;

	if (map->kind != KF_Y_MAP)
		return node_err(err, doc, map, KF_EINPUT, "a remote is a map of settings (host, token-file, ...)");
	for (i = 0; i < map->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(map, i), *v = kf_ynode_val(map, i);
		const char *key = k->value;

		if (!kf_ynode_is_scalar(v)) {
			return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
					 "\"%s\" must be a single value, not a %s", key, kf_ynode_kind_name(v));
		}
		if (!strcmp(key, "host"))
			set_str(&r->host, v->value, false);
		else if (!strcmp(key, "token"))
			set_str(&r->token, v->value, false);
		else if (!strcmp(key, "token-file"))
			set_str(&r->token_file, v->value, true);
		else if (!strcmp(key, "cookie-file"))
			set_str(&r->cookie_file, v->value, true);
		else if (!strcmp(key, "ca-file"))
			set_str(&r->ca_file, v->value, true);
		else if (!strcmp(key, "namespace"))
			set_str(&r->namespace, v->value, false);
		else if (!strcmp(key, "insecure")) {
			if (kf_ynode_scalar_type(v) != KF_YS_BOOL)
				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "\"insecure\" must be true or false");
			r->insecure = !strcmp(v->value, "true") || !strcmp(v->value, "True") ||
				      !strcmp(v->value, "TRUE");
		} else {
			const char *hint = kf_str_suggest(key, remote_keys, N_REMOTE_KEYS);

			if (hint)
				return kf_err_at(err, KF_EINPUT, doc->file, k->line, k->col,
						 "unknown remote setting \"%s\" (did you mean \"%s\"?)", key, hint);
			return kf_err_at(err, KF_EINPUT, doc->file, k->line, k->col,
					 "unknown remote setting \"%s\"", key);
		}
	}
	return 0;
}

/* Load the config file; *missing is set when it does not exist. */
static int load(struct kf_ydoc *doc, bool *missing, struct kf_err *err)
{
	char *path = kf_config_path();
	int rc = 0;

	memset(doc, 0, sizeof *doc);
	*missing = !kf_fs_exists(path);
	if (!*missing)
		rc = kf_yaml_load_file(doc, path, err);
	if (!rc && !*missing && doc->root && doc->root->kind != KF_Y_MAP)
		rc = node_err(err, doc, doc->root, KF_EINPUT, "the kf config file is a map with \"remotes\"");
	free(path);
	return rc;
}

static int find_remote(const struct kf_ydoc *doc, const char *name, struct kf_remote *out,
		       struct kf_err *err)
{
	const struct kf_ynode *remotes = kf_ynode_get(doc->root, "remotes");
	const char *names[64];
	const char *hint;
	size_t i, n = 0;

	if (remotes && remotes->kind != KF_Y_MAP)
		return node_err(err, doc, remotes, KF_EINPUT, "\"remotes\" is a map from names to remotes");
	for (i = 0; remotes && i < remotes->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(remotes, i);
		int rc;

		if (strcmp(k->value, name)) {
			if (n < 64)
				names[n++] = k->value;
			continue;
		}
		out->name = kf_xstrdup(name);
		rc = read_remote(doc, kf_ynode_val(remotes, i), out, err);
		if (!rc && !out->host)
			rc = node_err(err, doc, k, KF_EINPUT, "remote has no \"host\"");
		return rc;
	}
	hint = kf_str_suggest(name, names, n);
	if (hint)
		return kf_err_set(err, KF_ENOTFOUND, "no remote \"%s\" in \"%s\" (did you mean \"%s\"?)", name,
				  doc->file, hint);
	return kf_err_set(err, KF_ENOTFOUND, "no remote \"%s\" in \"%s\"", name, doc->file);
}

int kf_config_remote_resolve(const char *name, struct kf_remote *out, struct kf_err *err)
{
	struct kf_ydoc doc;
	bool missing;
	int rc;

	memset(out, 0, sizeof *out);
	rc = load(&doc, &missing, err);
	if (rc)
		goto out;
	if (missing) {
		char *path = kf_config_path();

		rc = kf_err_set(err, KF_ENOTFOUND, "no remote \"%s\": \"%s\" does not exist", name, path);
		free(path);
		goto out;
	}
	rc = find_remote(&doc, name, out, err);
out:
	kf_ydoc_release(&doc);
	if (rc)
		kf_remote_release(out);
	return rc;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The name of the config file's default remote, or NULL. Caller frees. */
static int default_name(char **out, struct kf_err *err)
{
	struct kf_ydoc doc;
	const struct kf_ynode *d;
	bool missing;
	int rc;

	*out = NULL;
	rc = load(&doc, &missing, err);
	if (!rc && !missing && (d = kf_ynode_get(doc.root, "default"))) {
		if (kf_ynode_is_scalar(d))
			*out = kf_xstrdup(d->value);
		else
			rc = node_err(err, &doc, d, KF_EINPUT, "\"default\" is the name of a remote");
	}
	kf_ydoc_release(&doc);
	return rc;
}

static int read_token_file(const char *path, char **out, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	int rc;

	rc = kf_fs_read_file(path, &b, err);
	if (rc) {
		kf_err_prefix(err, "token file");
		goto out;
	}
	while (b.len && isspace((unsigned char)b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if (!b.len) {
		rc = kf_err_set(err, KF_EENV, "token file \"%s\" is empty", path);
		goto out;
	}
	free(*out);
	*out = kf_buf_detach(&b);
out:
	kf_buf_release(&b);
	return rc;
}

static bool is_url(const char *s)
{
	return kf_str_starts(s, "http://") || kf_str_starts(s, "https://");
}

/* Which remote: a URL into out->host, or a name looked up in the file. */
static int choose(const struct kf_remote_flags *f, struct kf_remote *out, struct kf_err *err)
{
	const char *name = NULL;
	char *dflt = NULL;
	int rc = 0;

	if (f->remote && is_url(f->remote)) {
		out->host = kf_xstrdup(f->remote);
		return 0;
	}
	if (f->remote && strstr(f->remote, "://"))
		return kf_err_set(err, KF_EUSAGE, "\"%s\" is not an http or https URL", f->remote);
	if (f->remote)
		name = f->remote;
	else if (env("KF_REMOTE"))
		name = env("KF_REMOTE");
	else if (env("KF_HOST")) {
		out->host = kf_xstrdup(env("KF_HOST"));
		return 0;
	} else {
		rc = default_name(&dflt, err);
		if (rc)
			return rc;
		name = dflt;
	}
	if (!name)
		return kf_err_set(err, KF_EUSAGE,
				  "no remote given: use --remote URL, -r NAME, KF_HOST, or a default in the config file");
	rc = kf_config_remote_resolve(name, out, err);
	free(dflt);
	return rc;
}

int kf_config_remote(const struct kf_remote_flags *f, struct kf_remote *out, struct kf_err *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	rc = choose(f, out, err);
	if (rc)
		goto out;
	if (!is_url(out->host)) {
		rc = kf_err_set(err, KF_EUSAGE, "remote host \"%s\" is not an http or https URL", out->host);
		goto out;
	}
	while (kf_str_ends(out->host, "/"))
		out->host[strlen(out->host) - 1] = '\0';
	/* flags, then the remote's own credentials, then $KF_TOKEN: a token
	 * exported for one cluster must not travel to a remote that has its own */
	if (f->token) {
		set_str(&out->token, f->token, false);
	} else if (f->token_file) {
		set_str(&out->token_file, f->token_file, false);
		rc = read_token_file(out->token_file, &out->token, err);
	} else if (out->token) {
		/* the remote's token */
	} else if (out->token_file) {
		rc = read_token_file(out->token_file, &out->token, err);
	} else if (env("KF_TOKEN")) {
		set_str(&out->token, env("KF_TOKEN"), false);
	}
	if (rc)
		goto out;
	if (f->cookie_file)
		set_str(&out->cookie_file, f->cookie_file, false);
	if (f->ca_file)
		set_str(&out->ca_file, f->ca_file, false);
	if (f->namespace)
		set_str(&out->namespace, f->namespace, false);
	if (f->insecure)
		out->insecure = true;
out:
	if (rc)
		kf_remote_release(out);
	return rc;
}
