/* kf: the front-end. Global options, the command table, dispatch, help. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_opts.h"
#include "kf_print.h"
#include "remote/kf_config.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct kf_cmd kf_cmd_analyze;
extern const struct kf_cmd kf_cmd_compile;
extern const struct kf_cmd kf_cmd_lineage;
extern const struct kf_cmd kf_cmd_run;
extern const struct kf_cmd kf_cmd_serve;
extern const struct kf_cmd kf_cmd_train;
extern const struct kf_cmd kf_cmd_tune;
extern const struct kf_cmd kf_cmd_upload;
extern const struct kf_cmd kf_cmd_version;

/* Every command, alphabetically. Exact names only: no prefix matching, so
 * scripts never break when a command is added. */
static const struct kf_cmd *const commands[] = {
	&kf_cmd_analyze,
	&kf_cmd_compile,
	&kf_cmd_lineage,
	&kf_cmd_run,
#ifdef KF_HAVE_MICROHTTPD
	&kf_cmd_serve,
#endif
	&kf_cmd_train,
	&kf_cmd_tune,
	&kf_cmd_upload,
	&kf_cmd_version,
	NULL,
};

static void print_main_help(FILE *out)
{
	size_t i;

	fprintf(out, "usage: kf [-C DIR] [-r NAME] [--store DIR] [-o FORMAT] [-q] [-v] [--color=WHEN] COMMAND [ARGS]\n"
		     "       kf help [COMMAND]\n"
		     "       kf --version\n\n"
		     "Kubeflow's machine-learning workflow from the command line.\n\ncommands:\n");
	for (i = 0; commands[i]; i++)
		if (!(commands[i]->flags & KF_CMD_HIDDEN))
			fprintf(out, "  %-12s%s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nglobal options:\n");
	for (i = 0; kf_global_opts[i].long_name || kf_global_opts[i].short_name; i++) {
		const struct kf_opt *o = &kf_global_opts[i];
		char label[64];

		if (o->short_name && o->long_name)
			snprintf(label, sizeof label, "-%c, --%s%s%s", o->short_name, o->long_name,
				 o->arg ? " " : "", o->arg ? o->argname : "");
		else if (o->short_name)
			snprintf(label, sizeof label, "-%c %s", o->short_name, o->argname);
		else
			snprintf(label, sizeof label, "    --%s%s%s", o->long_name, o->arg ? " " : "",
				 o->arg ? o->argname : "");
		fprintf(out, "  %-24s%s\n", label, o->help);
	}
	fprintf(out, "\nRun 'kf help COMMAND' or 'kf COMMAND -h' for a command's options,\n"
		     "'man kf' for exit codes, environment and files.\n");
}

static const struct kf_cmd *find_cmd(const struct kf_cmd *const *table, const char *name)
{
	size_t i;

	for (i = 0; table && table[i]; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

static int unknown_command(const struct kf_cmd *const *table, const char *prefix, const char *name)
{
	const char *names[64];
	const char *hint;
	size_t n = 0;

	while (table[n] && n < 64) {
		names[n] = table[n]->name;
		n++;
	}
	hint = kf_str_suggest(name, names, n);
	fprintf(stderr, "kf: error: unknown command \"%s%s\"", prefix, name);
	if (hint)
		fprintf(stderr, " (did you mean \"%s%s\"?)", prefix, hint);
	fprintf(stderr, "\nRun 'kf help' for the list of commands.\n");
	return 2;
}

/* `kf help [CMD [SUB]]`: the same text as `kf CMD [SUB] -h`. */
static int run_help(int argc, char **argv)
{
	const struct kf_cmd *cmd;
	char path[128];

	if (argc < 2) {
		print_main_help(stdout);
		return 0;
	}
	cmd = find_cmd(commands, argv[1]);
	if (!cmd)
		return unknown_command(commands, "", argv[1]);
	snprintf(path, sizeof path, "%s", cmd->name);
	if (argc > 2 && cmd->subs) {
		const struct kf_cmd *sub = find_cmd(cmd->subs, argv[2]);

		if (!sub) {
			char prefix[64];

			snprintf(prefix, sizeof prefix, "%s ", cmd->name);
			return unknown_command(cmd->subs, prefix, argv[2]);
		}
		snprintf(path, sizeof path, "%s %s", cmd->name, sub->name);
		cmd = sub;
	}
	kf_opts_help(cmd, path, stdout);
	return 0;
}

/* --out-file FILE: standard output goes to a temporary file beside FILE,
 * renamed into place when the command ran (exit 0 or 1), so a pipeline step
 * that reads FILE never sees half a result; removed otherwise. */
struct out_file {
	const char *path;
	char *tmp;
	int saved_stdout;
};

static int out_file_open(struct out_file *of, const char *path, struct kf_err *err)
{
	int fd;

	of->path = path;
	of->tmp = kf_xasprintf("%s.tmp.XXXXXX", path);
	fflush(stdout);
	fd = mkstemp(of->tmp);
	if (fd < 0) {
		kf_err_sys(err, "cannot create \"%s\"", path);
		free(of->tmp);
		of->tmp = NULL;
		return KF_EIO;
	}
	of->saved_stdout = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	return 0;
}

static int out_file_close(struct out_file *of, int rc, struct kf_err *err)
{
	bool keep = rc == 0 || rc == KF_EFAIL;
	int frc = 0;

	if (!of->tmp)
		return rc;
	if (fflush(stdout) != 0 || fsync(STDOUT_FILENO) != 0)
		frc = kf_err_sys(err, "cannot write \"%s\"", of->path);
	dup2(of->saved_stdout, STDOUT_FILENO);
	close(of->saved_stdout);
	if (keep && !frc) {
		mode_t mask = umask(0);

		umask(mask);
		chmod(of->tmp, 0666 & ~mask);
		if (rename(of->tmp, of->path) != 0)
			frc = kf_err_sys(err, "cannot rename into \"%s\"", of->path);
	}
	if (!keep || frc)
		unlink(of->tmp);
	free(of->tmp);
	of->tmp = NULL;
	return frc ? frc : rc;
}

static int run_command(struct kf_ctx *ctx, const struct kf_cmd *cmd, int argc, char **argv)
{
	struct kf_args args;
	struct kf_err err;
	char path[128];
	int rc;

	kf_err_clear(&err);
	snprintf(path, sizeof path, "%s", cmd->name);
	/* a subcommand when the first argument names one (kf run ls) */
	if (cmd->subs && argc > 1) {
		const struct kf_cmd *sub = find_cmd(cmd->subs, argv[1]);

		if (sub) {
			snprintf(path, sizeof path, "%s %s", cmd->name, sub->name);
			cmd = sub;
			argc--;
			argv++;
		} else if (!cmd->run && argv[1][0] != '-') {
			char prefix[64];

			snprintf(prefix, sizeof prefix, "%s ", cmd->name);
			return unknown_command(cmd->subs, prefix, argv[1]);
		}
	}
	ctx->cmd = cmd;
	ctx->cmd_path = path;
	rc = kf_opts_parse(cmd, path, argc, argv, ctx, &args, &err);
	if (rc == 1) {
		kf_opts_release(&args);
		return kf_print_finish(ctx, 0, &err);
	}
	if (rc == 0 && !cmd->run) {
		kf_opts_help(cmd, path, stderr);
		kf_opts_release(&args);
		return 2;
	}
	if (rc == 0) {
		struct out_file of = { NULL, NULL, -1 };
		const char *out_path = kf_args_get(&args, "out-file");

		if (out_path)
			rc = out_file_open(&of, out_path, &err);
		if (rc == 0)
			rc = cmd->run(ctx, &args, &err);
		if (out_path)
			rc = out_file_close(&of, rc, &err);
	}
	kf_opts_release(&args);
	return kf_print_finish(ctx, rc, &err);
}

static int version_line(void)
{
	printf("kf %s\n", PACKAGE_VERSION);
	return kf_print_finish(NULL, 0, NULL);
}

static bool want_color(const char *when)
{
	const char *no = getenv("NO_COLOR");

	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	return isatty(STDERR_FILENO) && !(no && *no) && !kf_str_eq(getenv("TERM"), "dumb");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "color", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kf_ctx ctx = { .progname = "kf" };
	const char *color = "auto";
	const struct kf_cmd *cmd;
	int c, rc;

	/* a closed pipe must be a write error we report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+C:o:qvhr:", lopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (chdir(optarg) != 0) {
				fprintf(stderr, "kf: error: cannot change to directory \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'r': {
			struct kf_remote r;
			struct kf_err e;

			/* a remote of the config file: checked now, used by the
			 * remote commands through $KF_REMOTE */
			kf_err_clear(&e);
			if (kf_config_remote_resolve(optarg, &r, &e) != 0) {
				kf_print_error(&ctx, &e);
				return kf_err_exit_status(e.code);
			}
			kf_remote_release(&r);
			setenv("KF_REMOTE", optarg, 1);
			break;
		}
		case 's': ctx.store_dir = optarg; break;
		case 'o': ctx.output = optarg; break;
		case 'q': ctx.quiet = 1; break;
		case 'v': ctx.verbose++; break;
		case 'c':
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never")) {
				fprintf(stderr, "kf: error: --color must be auto, always or never\n");
				return 2;
			}
			color = optarg;
			break;
		case 'V':
			return version_line();
		case 'h':
			print_main_help(stdout);
			return kf_print_finish(NULL, 0, NULL);
		case ':':
			fprintf(stderr, "kf: error: option \"%s\" needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "kf: error: unknown option \"%s\"\nRun 'kf help' for usage.\n",
				argv[optind - 1]);
			return 2;
		}
	}
	ctx.self_exe = kf_fs_self_exe();
	ctx.stderr_tty = isatty(STDERR_FILENO);
	ctx.color = want_color(color);
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		print_main_help(stderr);
		rc = 2;
	} else if (!strcmp(argv[0], "help")) {
		rc = run_help(argc, argv);
		if (rc == 0)
			rc = kf_print_finish(&ctx, 0, NULL);
	} else if (!strcmp(argv[0], "__complete")) {
		kf_opts_complete(commands, argc - 1, argv + 1, stdout);
		rc = kf_print_finish(&ctx, 0, NULL);
	} else if ((cmd = find_cmd(commands, argv[0]))) {
		rc = run_command(&ctx, cmd, argc, argv);
	} else {
		rc = unknown_command(commands, "", argv[0]);
	}
	free(ctx.self_exe);
	return rc;
}

char *kf_ctx_store_dir(const struct kf_ctx *ctx)
{
	const char *home = getenv("KF_HOME");
	char *dir, *candidate;

	if (ctx->store_dir)
		return kf_path_absolute(ctx->store_dir);
	/* the nearest .kf/ up from the working directory, as git finds .git */
	dir = kf_path_absolute(".");
	for (;;) {
		char *parent;

		candidate = kf_path_join(dir, ".kf");
		if (kf_fs_is_dir(candidate)) {
			free(dir);
			return candidate;
		}
		free(candidate);
		if (!strcmp(dir, "/"))
			break;
		parent = kf_path_dirname(dir);
		free(dir);
		dir = parent;
	}
	free(dir);
	if (home && *home)
		return kf_path_absolute(home);
	home = getenv("HOME");
	return kf_path_join(home && *home ? home : "/tmp", ".kf");
}
