#include "config.h"

#include "kf_opts.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const struct kf_opt kf_output_opt[] = {
	{ 'o', "output", KF_OPT_REQUIRED, "FORMAT", "output format", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

const struct kf_opt kf_common_opts[] = {
	{ 'q', "quiet", KF_OPT_NONE, NULL, "print only results and errors", NULL },
	{ 'v', "verbose", KF_OPT_NONE, NULL, "print more about what is done (repeat for more)", NULL },
	{ 0, "store", KF_OPT_REQUIRED, "DIR", "metadata and artifact store (default: nearest .kf/, $KF_HOME, ~/.kf)", "dir" },
	{ 0, "out-file", KF_OPT_REQUIRED, "FILE", "write the results to FILE (atomically) instead of standard output", "file" },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

const struct kf_opt kf_global_opts[] = {
	{ 'C', NULL, KF_OPT_REQUIRED, "DIR", "run as if kf was started in DIR", "dir" },
	{ 'r', NULL, KF_OPT_REQUIRED, "NAME", "use the remote NAME of ~/.config/kf/config.yaml", NULL },
	{ 0, "store", KF_OPT_REQUIRED, "DIR", "metadata and artifact store", "dir" },
	{ 'o', "output", KF_OPT_REQUIRED, "FORMAT", "output format: table, json, yaml or name", "table|json|yaml|name" },
	{ 'q', "quiet", KF_OPT_NONE, NULL, "print only results and errors", NULL },
	{ 'v', "verbose", KF_OPT_NONE, NULL, "print more about what is done", NULL },
	{ 0, "color", KF_OPT_REQUIRED, "WHEN", "colour messages: auto, always or never", "auto|always|never" },
	{ 0, "version", KF_OPT_NONE, NULL, "print the version and exit", NULL },
	{ 'h', "help", KF_OPT_NONE, NULL, "show help and exit", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static size_t count_opts(const struct kf_opt *o)
{
	size_t n = 0;

	while (o && (o[n].long_name || o[n].short_name))
		n++;
	return n;
}

static bool collides(const struct kf_opt *own, size_t n, const struct kf_opt *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((o->short_name && own[i].short_name == o->short_name) ||
		    !strcmp(own[i].long_name, o->long_name))
			return true;
	return false;
}

/* The command's options, then -o (for record printers), then the common ones
 * that the command does not itself declare. */
static struct kf_opt *effective_opts(const struct kf_cmd *cmd, size_t *count)
{
	size_t own = count_opts(cmd->opts), n = 0, i;
	struct kf_opt *all = kf_xcalloc(own + 8, sizeof *all);

	for (i = 0; i < own; i++)
		all[n++] = cmd->opts[i];
	if ((cmd->flags & KF_CMD_RECORDS) && !collides(all, n, &kf_output_opt[0])) {
		all[n] = kf_output_opt[0];
		all[n].complete = cmd->formats ? cmd->formats : "table|json|yaml|name";
		n++;
	}
	for (i = 0; kf_common_opts[i].long_name; i++)
		if (!collides(all, n, &kf_common_opts[i]))
			all[n++] = kf_common_opts[i];
	*count = n;
	return all;
}

static void opt_label(const struct kf_opt *o, struct kf_buf *b)
{
	if (o->short_name)
		kf_buf_printf(b, "-%c, ", o->short_name);
	else
		kf_buf_adds(b, "    ");
	kf_buf_printf(b, "--%s", o->long_name);
	if (o->arg == KF_OPT_REQUIRED)
		kf_buf_printf(b, " %s", o->argname ? o->argname : "VALUE");
}

static void print_opt_lines(const struct kf_opt *opts, size_t n, FILE *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct kf_buf b = KF_BUF_INIT;

		opt_label(&opts[i], &b);
		if (b.len < 26)
			fprintf(out, "  %-26s%s\n", kf_buf_str(&b), opts[i].help);
		else
			fprintf(out, "  %s\n  %-26s%s\n", kf_buf_str(&b), "", opts[i].help);
		kf_buf_release(&b);
	}
}

void kf_opts_help(const struct kf_cmd *cmd, const char *path, FILE *out)
{
	const char *u = cmd->usage, *nl;
	size_t own = count_opts(cmd->opts), n, i;
	struct kf_opt *all;
	bool first = true;

	/* usage lines: the first after "usage: ", the rest aligned under it */
	while (u && *u) {
		nl = strchr(u, '\n');
		fprintf(out, "%s kf %.*s\n", first ? "usage:" : "      ",
			(int)(nl ? nl - u : (long)strlen(u)), u);
		first = false;
		u = nl ? nl + 1 : u + strlen(u);
	}
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->description)
		fprintf(out, "\n%s\n", cmd->description);
	if (cmd->subs) {
		fprintf(out, "\ncommands:\n");
		for (i = 0; cmd->subs[i]; i++)
			fprintf(out, "  %-26s%s\n", cmd->subs[i]->name, cmd->subs[i]->summary);
	}
	all = effective_opts(cmd, &n);
	if (own) {
		fprintf(out, "\noptions:\n");
		print_opt_lines(all, own, out);
	}
	fprintf(out, "\ncommon options:\n");
	print_opt_lines(all + own, n - own, out);
	fprintf(out, "  -h, --help                show this help\n");
	if (cmd->flags & KF_CMD_RECORDS)
		fprintf(out, "\nFORMAT is one of %s.\n", cmd->formats ? cmd->formats : "table|json|yaml|name");
	fprintf(out, "\nSee 'man kf-%s' for more.\n", path);
	free(all);
}

int kf_opts_parse(const struct kf_cmd *cmd, const char *path, int argc, char **argv,
		  struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct option *lopts;
	struct kf_buf shorts = KF_BUF_INIT;
	size_t n, i;
	int c, rc = 0, nargs;

	memset(args, 0, sizeof *args);
	args->opts = effective_opts(cmd, &n);
	args->n_opts = n;
	args->vals = kf_xcalloc(n ? n : 1, sizeof *args->vals);
	lopts = kf_xcalloc(n + 2, sizeof *lopts);
	/* '-': positionals come back as 1, in order, so options may follow them
	 * (kf compile spec.yaml -o out.yaml); ':': report missing values */
	kf_buf_adds(&shorts, "-:h");
	for (i = 0; i < n; i++) {
		const struct kf_opt *o = &args->opts[i];

		lopts[i].name = o->long_name;
		lopts[i].has_arg = o->arg == KF_OPT_REQUIRED ? required_argument : no_argument;
		lopts[i].val = o->short_name ? o->short_name : 256 + (int)i;
		if (o->short_name) {
			kf_buf_addc(&shorts, (char)o->short_name);
			if (o->arg == KF_OPT_REQUIRED)
				kf_buf_addc(&shorts, ':');
		}
	}
	lopts[n].name = "help";
	lopts[n].val = 'h';

	args->argv = kf_xcalloc((size_t)argc + 1, sizeof *args->argv);
	nargs = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, kf_buf_str(&shorts), lopts, NULL)) != -1) {
		if (c == 1) {
			args->argv[nargs++] = optarg;
			continue;
		}
		if (c == 'h') {
			kf_opts_help(cmd, path, stdout);
			rc = 1;
			goto out;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (c == ':')
				rc = kf_err_set(err, KF_EUSAGE, "option \"%s\" needs a value", bad);
			else if (optopt && optopt < 256)
				rc = kf_err_set(err, KF_EUSAGE, "unknown option \"-%c\" for \"kf %s\"", optopt, path);
			else {
				const char **names = kf_xcalloc(n + 1, sizeof *names);
				const char *name = bad + (bad[0] == '-' && bad[1] == '-' ? 2 : 0);
				char *eq = kf_xstrdup(name), *p = strchr(eq, '=');
				const char *hint;

				if (p)
					*p = '\0';
				for (i = 0; i < n; i++)
					names[i] = args->opts[i].long_name;
				hint = kf_str_suggest(eq, names, n);
				if (hint)
					rc = kf_err_set(err, KF_EUSAGE,
							"unknown option \"%s\" for \"kf %s\" (did you mean \"--%s\"?)",
							bad, path, hint);
				else
					rc = kf_err_set(err, KF_EUSAGE, "unknown option \"%s\" for \"kf %s\"", bad, path);
				free(eq);
				free(names);
			}
			goto out;
		}
		for (i = 0; i < n; i++) {
			const struct kf_opt *o = &args->opts[i];

			if ((o->short_name && c == o->short_name) || c == 256 + (int)i) {
				args->vals[i].count++;
				if (o->arg == KF_OPT_REQUIRED) {
					args->vals[i].value = optarg;
					kf_strv_push(&args->vals[i].values, optarg);
				}
				break;
			}
		}
	}
	while (optind < argc)
		args->argv[nargs++] = argv[optind++];
	args->argc = nargs;

	/* the common options update the shared context */
	if (kf_args_has(args, "quiet"))
		ctx->quiet = 1;
	ctx->verbose += kf_args_count(args, "verbose");
	if (kf_args_get(args, "store"))
		ctx->store_dir = kf_args_get(args, "store");
	if ((cmd->flags & KF_CMD_RECORDS) && !(cmd->flags & KF_CMD_OWN_OUTPUT) && kf_args_get(args, "output"))
		ctx->output = kf_args_get(args, "output");

	if (nargs < cmd->min_args)
		rc = kf_err_set(err, KF_EUSAGE, "\"kf %s\" needs %s argument%s (see \"kf %s -h\")", path,
				cmd->min_args == 1 ? "an" : "more", cmd->min_args == 1 ? "" : "s", path);
	else if (cmd->max_args >= 0 && nargs > cmd->max_args)
		rc = kf_err_set(err, KF_EUSAGE, "unexpected argument \"%s\" for \"kf %s\" (see \"kf %s -h\")",
				args->argv[cmd->max_args], path, path);
out:
	free(lopts);
	kf_buf_release(&shorts);
	return rc;
}

void kf_opts_release(struct kf_args *args)
{
	size_t i;

	for (i = 0; i < args->n_opts; i++)
		kf_strv_release(&args->vals[i].values);
	free(args->vals);
	free((void *)args->opts);
	free(args->argv);
	memset(args, 0, sizeof *args);
}

static int find_opt(const struct kf_args *a, const char *long_name)
{
	size_t i;

	for (i = 0; i < a->n_opts; i++)
		if (!strcmp(a->opts[i].long_name, long_name))
			return (int)i;
	return -1;
}

bool kf_args_has(const struct kf_args *a, const char *long_name)
{
	return kf_args_count(a, long_name) > 0;
}

int kf_args_count(const struct kf_args *a, const char *long_name)
{
	int i = find_opt(a, long_name);

	return i < 0 ? 0 : a->vals[i].count;
}

const char *kf_args_get(const struct kf_args *a, const char *long_name)
{
	int i = find_opt(a, long_name);

	return i < 0 ? NULL : a->vals[i].value;
}

const struct kf_strv *kf_args_all(const struct kf_args *a, const char *long_name)
{
	static const struct kf_strv empty = KF_STRV_INIT;
	int i = find_opt(a, long_name);

	return i < 0 ? &empty : &a->vals[i].values;
}

/* ---- completion -------------------------------------------------------- */

static const struct kf_cmd *find_cmd(const struct kf_cmd *const *table, const char *name)
{
	size_t i;

	for (i = 0; table && table[i]; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

static const struct kf_opt *find_opt_word(const struct kf_opt *opts, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[0] == '-' && w[1] == '-' && opts[i].long_name && !strcmp(w + 2, opts[i].long_name))
			return &opts[i];
		if (w[0] == '-' && w[1] && !w[2] && w[1] == opts[i].short_name)
			return &opts[i];
	}
	return NULL;
}

static void complete_value(const char *hint, FILE *out)
{
	const char *p;

	if (!hint || !strcmp(hint, "file")) {
		fputs(":file\n", out);
		return;
	}
	if (!strcmp(hint, "dir")) {
		fputs(":dir\n", out);
		return;
	}
	for (p = hint; *p; p++)
		fputc(*p == '|' ? '\n' : *p, out);
	fputc('\n', out);
}

void kf_opts_complete(const struct kf_cmd *const *table, int argc, char **argv, FILE *out)
{
	const struct kf_cmd *cmd = NULL;
	const char *cur = argc > 0 ? argv[argc - 1] : "";
	struct kf_opt *opts = NULL;
	size_t n = 0, i;
	int w;

	/* global options and their values before the command */
	for (w = 0; w < argc - 1; w++) {
		const struct kf_opt *o = find_opt_word(kf_global_opts, count_opts(kf_global_opts), argv[w]);

		if (argv[w][0] == '-') {
			if (o && o->arg == KF_OPT_REQUIRED && !strchr(argv[w], '='))
				w++;
			continue;
		}
		cmd = find_cmd(table, argv[w]);
		break;
	}
	if (!cmd) {
		if (argc >= 2) {
			const struct kf_opt *o = find_opt_word(kf_global_opts, count_opts(kf_global_opts), argv[argc - 2]);

			if (o && o->arg == KF_OPT_REQUIRED) {
				complete_value(o->complete, out);
				return;
			}
		}
		if (cur[0] == '-') {
			for (i = 0; i < count_opts(kf_global_opts); i++)
				if (kf_global_opts[i].long_name)
					fprintf(out, "--%s\n", kf_global_opts[i].long_name);
			return;
		}
		for (i = 0; table[i]; i++)
			if (!(table[i]->flags & KF_CMD_HIDDEN))
				fprintf(out, "%s\n", table[i]->name);
		return;
	}
	/* subcommand: the first non-option word after the command that names one */
	for (w = w + 1; w < argc - 1 && cmd->subs; w++) {
		const struct kf_cmd *sub;

		if (argv[w][0] == '-')
			continue;
		sub = find_cmd(cmd->subs, argv[w]);
		if (sub)
			cmd = sub;
		break;
	}
	opts = effective_opts(cmd, &n);
	if (argc >= 2) {
		const struct kf_opt *o = find_opt_word(opts, n, argv[argc - 2]);

		if (o && o->arg == KF_OPT_REQUIRED) {
			complete_value(o->complete, out);
			goto out;
		}
	}
	if (cur[0] == '-') {
		for (i = 0; i < n; i++)
			fprintf(out, "--%s\n", opts[i].long_name);
		fputs("--help\n", out);
		goto out;
	}
	if (cmd->subs) {
		bool any_positional = false;

		for (i = (size_t)w; i < (size_t)argc - 1; i++)
			if (argv[i][0] != '-')
				any_positional = true;
		if (!any_positional) {
			for (i = 0; cmd->subs[i]; i++)
				fprintf(out, "%s\n", cmd->subs[i]->name);
			if (cmd->max_args != 0 && cmd->args_complete)
				complete_value(cmd->args_complete, out);
			goto out;
		}
	}
	if (cmd->max_args != 0)
		complete_value(cmd->args_complete, out);
out:
	free(opts);
}
