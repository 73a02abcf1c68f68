/* kf_config: which remote a command talks to, and with what credentials.
 *
 * Named remotes live in ~/.config/kf/config.yaml ($XDG_CONFIG_HOME/kf/,
 * or the file $KF_CONFIG names):
 *
 *   default: prod                 # used when nothing else names a remote
 *   remotes:
 *     prod:
 *       host: https://kubeflow.example.com/pipeline
 *       token-file: ~/.config/kf/prod.token   # or token: ...
 *       cookie-file: ~/.config/kf/prod.cookies
 *       ca-file: /etc/ssl/certs/corp.pem
 *       insecure: false
 *       namespace: kubeflow-user-example-com
 *
 * A remote is chosen by, in order: the command's --remote/--host value (a
 * URL, or a name from the file), $KF_REMOTE (set by the global `-r NAME`),
 * $KF_HOST, the file's default. Each setting then comes from the flag, else
 * the named remote; the token last from $KF_TOKEN (never over a remote's
 * own token: a token exported for one cluster must not go to another). */
#ifndef KF_CONFIG_H
#define KF_CONFIG_H

#include <stdbool.h>

struct kf_err;

/* What the command line said; NULL/false for "not given". Borrowed. */
struct kf_remote_flags {
	const char *remote;       /* --remote / --host: URL or remote name */
	const char *token;
	const char *token_file;
	const char *cookie_file;
	const char *ca_file;
	const char *namespace;
	bool insecure;
};

/* A resolved remote. Every string is owned; NULL when not set. */
struct kf_remote {
	char *name;               /* the remote's name in the config file, or NULL */
	char *host;               /* base URL without a trailing slash */
	char *token;              /* bearer token (read from token-file when one is named) */
	char *token_file;
	char *cookie_file;
	char *ca_file;
	char *namespace;          /* multi-user Kubeflow profile namespace */
	bool insecure;
};

/* Path of the config file (it may not exist). Caller frees. */
char *kf_config_path(void);

/* The remote called name in the config file, without flags or environment
 * (for the front-end's `-r NAME` to check the name early). A missing file
 * or name is KF_ENOTFOUND; errors in the file name file:line:col. */
int kf_config_remote_resolve(const char *name, struct kf_remote *out, struct kf_err *err);

/* The remote for a command: flags, environment and config file combined as
 * the header comment says. KF_EUSAGE when no remote is named anywhere. */
int kf_config_remote(const struct kf_remote_flags *flags, struct kf_remote *out, struct kf_err *err);

void kf_remote_release(struct kf_remote *r);

#endif
