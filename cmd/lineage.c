/* kf lineage: ask the metadata store what produced what. */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "store/kf_lineage.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_store(struct kf_ctx *ctx, struct kf_store **st, struct kf_err *err)
{
	char *dir = kf_ctx_store_dir(ctx);
	int rc = kf_store_open(dir, st, err);

	free(dir);
	return rc;
}

static int parse_hops(const struct kf_args *args, int *hops, struct kf_err *err)
{
	const char *h = kf_args_get(args, "hops");
	long v;

	*hops = 0;
	if (!h)
		return 0;
	if (!kf_str_to_long(h, &v) || v < 1 || v > 1000)
		return kf_err_set(err, KF_EUSAGE, "--hops must be a number from 1 to 1000, not \"%s\"", h);
	*hops = (int)v;
	return 0;
}

static int parse_dir(const struct kf_args *args, enum kf_lineage_dir *dir, struct kf_err *err)
{
	int n = kf_args_has(args, "upstream") + kf_args_has(args, "downstream") + kf_args_has(args, "both");

	if (n > 1)
		return kf_err_set(err, KF_EUSAGE, "give one of --upstream, --downstream and --both");
	*dir = kf_args_has(args, "downstream") ? KF_LIN_DOWNSTREAM
	     : kf_args_has(args, "both") ? KF_LIN_BOTH : KF_LIN_UPSTREAM;
	return 0;
}

/* ---- ls --------------------------------------------------------------------- */

static const struct kf_opt ls_opts[] = {
	{ 0, "type", KF_OPT_REQUIRED, "TYPE", "only this type (Model, Dataset, kf.Step, kf.Run, ...)", NULL },
	{ 0, "run", KF_OPT_REQUIRED, "RUN", "only those of this run", NULL },
	{ 0, "since", KF_OPT_REQUIRED, "DURATION", "only those created within DURATION (1h, 2d)", NULL },
	{ 0, "filter", KF_OPT_REQUIRED, "EXPR", "ML Metadata-style predicate, e.g. \"type = 'Model' AND properties.auc > 0.9\"", NULL },
	{ 0, "limit", KF_OPT_REQUIRED, "N", "at most N, newest first", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_ls(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column art_cols[] = {
		{ "NAME", "name" }, { "TYPE", "type" }, { "LABEL", "label" }, { "STATE", "state" },
		{ "CREATED", "created" }, { "URI", "uri" }, { NULL, NULL },
	};
	static const struct kf_column exec_cols[] = {
		{ "NAME", "name" }, { "TYPE", "type" }, { "LABEL", "label" }, { "STATE", "state" },
		{ "CREATED", "created" }, { NULL, NULL },
	};
	static const struct kf_column ctx_cols[] = {
		{ "NAME", "name" }, { "TYPE", "type" }, { "LABEL", "label" }, { "CREATED", "created" },
		{ NULL, NULL },
	};
	static const char *const what[] = { "artifacts", "executions", "contexts" };
	struct kf_lineage_filter f = { 0 };
	struct kf_store *st = NULL;
	cJSON *doc = NULL;
	int kind = -1, i, rc;
	long limit;

	for (i = 0; i < 3; i++)
		if (!strcmp(args->argv[0], what[i]))
			kind = i;
	if (kind < 0)
		return kf_err_set(err, KF_EUSAGE, "\"kf lineage ls\" lists artifacts, executions or contexts, not \"%s\"",
				  args->argv[0]);
	f.type = kf_args_get(args, "type");
	f.run = kf_args_get(args, "run");
	f.expr = kf_args_get(args, "filter");
	if (kf_args_get(args, "since")) {
		int64_t ms;

		if ((rc = kf_duration_parse(kf_args_get(args, "since"), &ms, err)))
			return KF_EUSAGE;
		f.since_ms = kf_time_wall_ms() - ms;
	}
	if (kf_args_get(args, "limit")) {
		if (!kf_str_to_long(kf_args_get(args, "limit"), &limit) || limit < 1)
			return kf_err_set(err, KF_EUSAGE, "--limit must be a positive number");
		f.limit = limit;
	}
	if ((rc = open_store(ctx, &st, err)))
		return rc;
	rc = kf_lineage_list(st, (enum kf_lineage_kind)kind, &f, &doc, err);
	if (!rc)
		rc = kf_print_records(ctx, doc, kind == 0 ? art_cols : kind == 1 ? exec_cols : ctx_cols, NULL, err);
	cJSON_Delete(doc);
	kf_store_close(st);
	return rc;
}

static const struct kf_cmd lineage_ls = {
	.name = "ls",
	.summary = "list artifacts, executions or contexts",
	.usage = "lineage ls artifacts|executions|contexts [--type T] [--run RUN] [--since DURATION] [--filter EXPR] [--limit N]",
	.opts = ls_opts,
	.min_args = 1,
	.max_args = 1,
	.args_complete = "artifacts|executions|contexts",
	.flags = KF_CMD_RECORDS,
	.run = run_ls,
};

/* ---- show -------------------------------------------------------------------- */

static void print_related(struct kf_buf *out, const char *title, const cJSON *list)
{
	const cJSON *r;

	if (!cJSON_IsArray(list))
		return;
	kf_buf_printf(out, "%s:%s\n", title, list->child ? "" : " (none)");
	for (r = list->child; r; r = r->next) {
		char *n = kf_json_text(cJSON_GetObjectItemCaseSensitive(r, "name"));
		char *t = kf_json_text(cJSON_GetObjectItemCaseSensitive(r, "type"));
		char *l = kf_json_text(cJSON_GetObjectItemCaseSensitive(r, "label"));
		char *s = kf_json_text(cJSON_GetObjectItemCaseSensitive(r, "state"));
		char *run = kf_json_text(cJSON_GetObjectItemCaseSensitive(r, "run"));

		kf_buf_printf(out, "  %-18s %-20s %-20s %-10s %s\n", n, t, l, s, run);
		free(n);
		free(t);
		free(l);
		free(s);
		free(run);
	}
}

static void render_show(struct kf_buf *out, const cJSON *doc)
{
	static const char *const scalar_fields[] = { "name", "kind", "type", "label", "uri", "digest", "state", NULL };
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(doc, "properties");
	const cJSON *ctxs = cJSON_GetObjectItemCaseSensitive(doc, "contexts"), *c;
	size_t i;

	for (i = 0; scalar_fields[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, scalar_fields[i]);
		char *t;

		if (!v || cJSON_IsNull(v))
			continue;
		t = kf_json_text(v);
		kf_buf_printf(out, "%-12s%s\n", scalar_fields[i], t);
		free(t);
	}
	{
		const cJSON *ct = cJSON_GetObjectItemCaseSensitive(doc, "create_time");
		char when[32];

		if (cJSON_IsNumber(ct)) {
			kf_time_rfc3339((int64_t)ct->valuedouble, when, sizeof when);
			kf_buf_printf(out, "%-12s%s\n", "created", when);
		}
	}
	for (c = cJSON_IsArray(ctxs) ? ctxs->child : NULL; c; c = c->next) {
		char *t = kf_json_text(cJSON_GetObjectItemCaseSensitive(c, "type"));
		char *n = kf_json_text(cJSON_GetObjectItemCaseSensitive(c, "name"));

		kf_buf_printf(out, "%-12s%s %s\n", "context", t, n);
		free(t);
		free(n);
	}
	if (cJSON_IsObject(props) && props->child) {
		kf_buf_adds(out, "properties:\n");
		for (c = props->child; c; c = c->next) {
			char *t = kf_json_text(c);

			kf_buf_printf(out, "  %s: %s\n", c->string, t);
			free(t);
		}
	}
	print_related(out, "produced by", cJSON_GetObjectItemCaseSensitive(doc, "producers"));
	print_related(out, "consumed by", cJSON_GetObjectItemCaseSensitive(doc, "consumers"));
	print_related(out, "inputs", cJSON_GetObjectItemCaseSensitive(doc, "inputs"));
	print_related(out, "outputs", cJSON_GetObjectItemCaseSensitive(doc, "outputs"));
	print_related(out, "executions", cJSON_GetObjectItemCaseSensitive(doc, "executions"));
	print_related(out, "artifacts", cJSON_GetObjectItemCaseSensitive(doc, "artifacts"));
}

static int run_show(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_store *st = NULL;
	struct kf_lineage_ref ref;
	cJSON *doc = NULL;
	int rc;

	if ((rc = kf_output_check(ctx->output, "table|json|yaml|name", err)))
		return rc;
	if ((rc = open_store(ctx, &st, err)))
		return rc;
	rc = kf_lineage_resolve(st, args->argv[0], &ref, err);
	if (!rc)
		rc = kf_lineage_show(st, &ref, &doc, err);
	if (!rc && (!ctx->output || !strcmp(ctx->output, "table"))) {
		struct kf_buf out = KF_BUF_INIT;

		render_show(&out, doc);
		rc = kf_print_buf(&out, err);
		kf_buf_release(&out);
	} else if (!rc) {
		rc = kf_print_records(ctx, doc, NULL, NULL, err);
	}
	cJSON_Delete(doc);
	kf_store_close(st);
	return rc;
}

static const struct kf_cmd lineage_show = {
	.name = "show",
	.summary = "one artifact, execution or context with what produced and used it",
	.usage = "lineage show ID|PATH|DIGEST",
	.description = "ID is artifact/N, execution/N or context/N (a bare N is an artifact). A path\n"
		       "on disk is looked up by the digest of its content.",
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_show,
};

/* ---- trace / graph ------------------------------------------------------------ */

#define WALK_OPTS \
	{ 0, "upstream", KF_OPT_NONE, NULL, "walk towards what produced it (the default)", NULL }, \
	{ 0, "downstream", KF_OPT_NONE, NULL, "walk towards what used it", NULL }, \
	{ 0, "both", KF_OPT_NONE, NULL, "walk both ways", NULL }, \
	{ 0, "hops", KF_OPT_REQUIRED, "N", "at most N steps from node to node (default: no limit)", NULL }, \
	{ 0, "until", KF_OPT_REQUIRED, "TYPE", "stop at nodes of this type", NULL }

static const struct kf_opt trace_opts[] = {
	WALK_OPTS,
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int trace_common(struct kf_ctx *ctx, struct kf_args *args, cJSON **graph, struct kf_err *err)
{
	struct kf_store *st = NULL;
	struct kf_lineage_ref ref;
	enum kf_lineage_dir dir = KF_LIN_UPSTREAM;
	int hops = 0, rc;

	if ((rc = parse_hops(args, &hops, err)) || (rc = parse_dir(args, &dir, err)))
		return rc;
	if ((rc = open_store(ctx, &st, err)))
		return rc;
	rc = kf_lineage_resolve(st, args->argv[0], &ref, err);
	if (!rc)
		rc = kf_lineage_trace(st, &ref, dir, hops, kf_args_get(args, "until"), graph, err);
	kf_store_close(st);
	return rc;
}

static int run_trace(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "NAME", "name" }, { "TYPE", "type" }, { "LABEL", "label" }, { "STATE", "state" },
		{ "RUN", "run" }, { "HOPS", "hops" }, { NULL, NULL },
	};
	cJSON *graph = NULL;
	int rc;

	if ((rc = kf_output_check(ctx->output, "table|json|yaml|name", err)))
		return rc;
	rc = trace_common(ctx, args, &graph, err);
	if (!rc)
		rc = kf_print_records(ctx, graph, cols, NULL, err);
	cJSON_Delete(graph);
	return rc;
}

static const struct kf_cmd lineage_trace = {
	.name = "trace",
	.summary = "the lineage subgraph around an artifact or execution",
	.usage = "lineage trace ID [--upstream|--downstream|--both] [--hops N] [--until TYPE]",
	.description = "Walks artifact -> event -> execution -> event -> artifact; each step from one\n"
		       "node to the next is one hop, as ML Metadata counts them.",
	.opts = trace_opts,
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_trace,
};

static int run_graph(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	struct kf_buf out = KF_BUF_INIT;
	const char *fmt = ctx->output ? ctx->output : "svg";
	cJSON *graph = NULL;
	int rc;

	if ((rc = kf_output_check(fmt, "svg|dot|html", err)))
		return rc;
	rc = trace_common(ctx, args, &graph, err);
	if (rc)
		return rc;
	if (!strcmp(fmt, "dot"))
		kf_lineage_render_dot(graph, &out);
	else
		kf_lineage_render_svg(graph, !strcmp(fmt, "html"), &out);
	rc = kf_print_buf(&out, err);
	kf_buf_release(&out);
	cJSON_Delete(graph);
	return rc;
}

static const struct kf_cmd lineage_graph = {
	.name = "graph",
	.summary = "draw the lineage subgraph as SVG, HTML or Graphviz DOT",
	.usage = "lineage graph ID [--upstream|--downstream|--both] [--hops N] [--until TYPE] [-o svg|dot|html]",
	.description = "SVG and HTML are laid out by kf itself (no Graphviz needed): layers left to\n"
		       "right in the direction data flows, nodes coloured by run.",
	.opts = trace_opts,
	.formats = "svg|dot|html",
	.min_args = 1,
	.max_args = 1,
	.args_complete = "file",
	.flags = KF_CMD_RECORDS,
	.run = run_graph,
};

/* ---- diff ----------------------------------------------------------------------- */

static const struct kf_opt diff_opts[] = {
	{ 0, "exit-code", KF_OPT_NONE, NULL, "exit 1 when the runs differ", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_diff(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "WHAT", "what" }, { "NAME", "name" }, { "RUN1", "run1" }, { "RUN2", "run2" }, { NULL, NULL },
	};
	struct kf_store *st = NULL;
	cJSON *doc = NULL;
	bool same = true;
	int rc;

	if ((rc = kf_output_check(ctx->output, "table|json|yaml|name", err)))
		return rc;
	if ((rc = open_store(ctx, &st, err)))
		return rc;
	rc = kf_lineage_diff(st, args->argv[0], args->argv[1], &doc, &same, err);
	kf_store_close(st);
	if (rc)
		return rc;
	if (same && (!ctx->output || !strcmp(ctx->output, "table")))
		kf_print_info(ctx, "runs %s and %s do not differ", args->argv[0], args->argv[1]);
	else
		rc = kf_print_records(ctx, doc, cols, NULL, err);
	cJSON_Delete(doc);
	if (!rc && !same && kf_args_has(args, "exit-code"))
		return KF_EFAIL;
	return rc;
}

static const struct kf_cmd lineage_diff = {
	.name = "diff",
	.summary = "what differs between two runs",
	.usage = "lineage diff RUN1 RUN2 [--exit-code]",
	.description = "Parameters, step states, cached vs executed, input and output digests,\n"
		       "output values and metrics.",
	.opts = diff_opts,
	.min_args = 2,
	.max_args = 2,
	.flags = KF_CMD_RECORDS,
	.run = run_diff,
};

/* ---- gc ------------------------------------------------------------------------- */

static const struct kf_opt gc_opts[] = {
	{ 0, "keep-last", KF_OPT_REQUIRED, "N", "keep the artifacts of the newest N runs (default: of all runs)", NULL },
	{ 0, "dry-run", KF_OPT_NONE, NULL, "only say what would be removed", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static int run_gc(struct kf_ctx *ctx, struct kf_args *args, struct kf_err *err)
{
	static const struct kf_column cols[] = {
		{ "DIGEST", "name" }, { "BYTES", "bytes" }, { "ARTIFACTS", "artifacts" }, { "REASON", "reason" },
		{ NULL, NULL },
	};
	struct kf_store *st = NULL;
	const cJSON *items;
	cJSON *doc = NULL;
	long keep = -1;
	int rc;

	if ((rc = kf_output_check(ctx->output, "table|json|yaml|name", err)))
		return rc;
	if (kf_args_get(args, "keep-last") &&
	    (!kf_str_to_long(kf_args_get(args, "keep-last"), &keep) || keep < 0))
		return kf_err_set(err, KF_EUSAGE, "--keep-last must be a number, 0 or more");
	if ((rc = open_store(ctx, &st, err)))
		return rc;
	rc = kf_lineage_gc(st, (int)keep, kf_args_has(args, "dry-run"), &doc, err);
	kf_store_close(st);
	if (!doc)
		return rc;
	items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	if (!rc && (cJSON_GetArraySize(items) > 0 || (ctx->output && strcmp(ctx->output, "table"))))
		rc = kf_print_records(ctx, doc, cols, NULL, err);
	if (!ctx->output || !strcmp(ctx->output, "table"))
		kf_print_info(ctx, "%s %d artifact%s, %.0f bytes",
			      kf_args_has(args, "dry-run") ? "would remove" : "removed",
			      cJSON_GetArraySize(items), cJSON_GetArraySize(items) == 1 ? "" : "s",
			      cJSON_GetObjectItemCaseSensitive(doc, "bytes")->valuedouble);
	cJSON_Delete(doc);
	return rc;
}

static const struct kf_cmd lineage_gc = {
	.name = "gc",
	.summary = "remove artifacts no kept run or served model references",
	.usage = "lineage gc [--keep-last N] [--dry-run]",
	.description = "Artifacts recorded outside runs (train, analyze) and inputs of deployments\n"
		       "are always kept, and so is any content a kept artifact shares.",
	.opts = gc_opts,
	.min_args = 0,
	.max_args = 0,
	.flags = KF_CMD_RECORDS,
	.run = run_gc,
};

const struct kf_cmd kf_cmd_lineage = {
	.name = "lineage",
	.summary = "ask the metadata store what produced what",
	.usage = "lineage ls|show|trace|graph|diff|gc ...",
	.subs = (const struct kf_cmd *const[]){ &lineage_diff, &lineage_gc, &lineage_graph, &lineage_ls,
						&lineage_show, &lineage_trace, NULL },
	.min_args = 0,
	.max_args = 0,
};
