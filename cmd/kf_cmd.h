/* kf_cmd: what a command is. Each cmd/<name>.c ends with one
 *   const struct kf_cmd kf_cmd_<name> = { .name, .summary, .usage, ... };
 * and cmd/kf.c lists them in one alphabetical table. Options are declared
 * once (struct kf_opt[]): -h, getopt_long and `kf __complete` all derive
 * from that array. A command file parses, calls lib/, and prints. */
#ifndef KF_CMD_H
#define KF_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "util/kf_err.h"
#include "util/kf_str.h"

enum kf_opt_arg { KF_OPT_NONE, KF_OPT_REQUIRED };

struct kf_opt {
	int short_name;        /* 'o', or 0 for long-only */
	const char *long_name; /* "output" */
	enum kf_opt_arg arg;
	const char *argname;   /* "FILE", shown in help */
	const char *help;      /* one line, lowercase */
	const char *complete;  /* completion of the value: "file", "dir", or "a|b|c" */
};

/* Values of parsed options, parallel to the command's kf_opt array. */
struct kf_optval {
	int count;              /* times given */
	const char *value;      /* last value (borrowed from argv) */
	struct kf_strv values;  /* every value, in order */
};

struct kf_ctx;

struct kf_args {
	int argc;                  /* positional arguments */
	char **argv;
	const struct kf_opt *opts; /* the command's options then the common ones */
	struct kf_optval *vals;    /* parallel to opts */
	size_t n_opts;
};

/* Flags that let the front-end do shared set-up. */
enum {
	KF_CMD_RECORDS = 1 << 0,   /* prints records: accepts -o table|json|yaml|name */
	KF_CMD_HIDDEN = 1 << 1,    /* not listed in help (kf __complete) */
	KF_CMD_OWN_OUTPUT = 1 << 2 /* declares its own -o (kf compile: output file) */
};

struct kf_cmd {
	const char *name;
	const char *summary;        /* one line for `kf help` */
	const char *usage;          /* synopsis lines without "kf ", '\n'-separated */
	const char *description;    /* a paragraph for -h, or NULL */
	const struct kf_opt *opts;  /* terminated by an entry with long_name NULL */
	const char *formats;        /* -o choices for KF_CMD_RECORDS, "table|json|yaml|name" when NULL */
	const struct kf_cmd *const *subs; /* subcommands, NULL-terminated, or NULL */
	int min_args, max_args;     /* positional arguments; max -1 = any */
	const char *args_complete;  /* completion of positionals: "file", "dir", NULL */
	unsigned flags;
	/* 0, or a negative KF_E code with err filled (the front-end prints it
	 * and exits with its status); a command that printed its own errors
	 * returns the code with err->msg left empty. */
	int (*run)(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);
};

/* Shared state the front-end sets up before a command runs. */
struct kf_ctx {
	const char *progname;     /* "kf" */
	char *self_exe;           /* absolute path of this binary, or NULL */
	const char *store_dir;    /* --store DIR, or NULL for the default lookup */
	const char *output;       /* -o FORMAT, or NULL */
	int quiet, verbose;
	bool color;               /* colour on stderr */
	bool stderr_tty;
	const struct kf_cmd *cmd; /* the command running (for messages) */
	const char *cmd_path;     /* "run ls" */
};

/* Option accessors, by long name. */
bool kf_args_has(const struct kf_args *a, const char *long_name);
int kf_args_count(const struct kf_args *a, const char *long_name);
const char *kf_args_get(const struct kf_args *a, const char *long_name);
const struct kf_strv *kf_args_all(const struct kf_args *a, const char *long_name);

/* The store directory for this invocation: --store, else the nearest .kf/
 * up from the working directory, else $KF_HOME, else ~/.kf. Caller frees. */
char *kf_ctx_store_dir(const struct kf_ctx *ctx);

#endif
