/* kf_opts: option parsing, -h text and completion, all derived from each
 * command's one struct kf_opt[] declaration. */
#ifndef KF_OPTS_H
#define KF_OPTS_H

#include <stdio.h>

#include "kf_cmd.h"

/* Parse a command's arguments (argv[0] is the command name). Returns 0 and
 * fills args; 1 when -h was given (help printed to stdout); or a negative
 * KF_E code with err set. args is released with kf_opts_release. */
int kf_opts_parse(const struct kf_cmd *cmd, const char *path, int argc, char **argv,
		  struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err);
void kf_opts_release(struct kf_args *args);

/* The -h text of a command ("usage: kf PATH ..." then options). */
void kf_opts_help(const struct kf_cmd *cmd, const char *path, FILE *out);

/* `kf __complete WORD...`: candidates for the last word, one per line, or
 * ":file" / ":dir" to ask the shell for file names. */
void kf_opts_complete(const struct kf_cmd *const *table, int argc, char **argv, FILE *out);

/* The options every command takes, after its own (-q, -v, --store, -o). */
extern const struct kf_opt kf_common_opts[];
extern const struct kf_opt kf_output_opt[];
/* Options taken before the command name. */
extern const struct kf_opt kf_global_opts[];

#endif
