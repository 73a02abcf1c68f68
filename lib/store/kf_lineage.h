/* kf_lineage: questions asked of the metadata store — what produced this,
 * what used it, what differs between two runs — and garbage collection of
 * artifacts no kept run or served model references.
 *
 * It reads through kf_store's read-only query API and writes only through
 * kf_store's record calls, so the schema stays kf_store's alone.
 *
 * Ownership: every cJSON returned is the caller's; strings passed in are
 * borrowed for the call.
 *
 * A node is named "artifact/ID", "execution/ID" or "context/ID". A trace
 * walks artifact -> event -> execution -> event -> artifact, and, as ML
 * Metadata counts them, each step from one node to the next is one hop. */
#ifndef KF_LINEAGE_H
#define KF_LINEAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_err;
struct kf_store;

enum kf_lineage_kind { KF_LIN_ARTIFACT, KF_LIN_EXECUTION, KF_LIN_CONTEXT };

struct kf_lineage_ref {
	enum kf_lineage_kind kind;
	int64_t id;
};

/* What a command-line name means: "artifact/12", "execution/7",
 * "context/3" (also "a/12", "e/7", "c/3"), a bare number (an artifact),
 * a sha256 digest or a unique prefix of one (8+ hex digits), or a path on
 * disk (looked up by the digest of its content; the newest artifact wins). */
int kf_lineage_resolve(struct kf_store *st, const char *name, struct kf_lineage_ref *out,
		       struct kf_err *err);
/* "artifact/12" */
void kf_lineage_ref_name(const struct kf_lineage_ref *ref, char *buf, size_t size);

struct kf_lineage_filter {
	const char *type;      /* type name, or NULL */
	const char *run;       /* run id (or unique prefix), or NULL */
	int64_t since_ms;      /* created at or after (wall ms), 0 = any */
	const char *expr;      /* ML Metadata-style predicate, or NULL */
	int64_t limit;         /* 0 = no limit */
};

/* List artifacts, executions or contexts, newest first, as
 * {"kind": "ArtifactList"|..., "items": [...]}. The filter expression:
 *   expr := term { OR term }        term := factor { AND factor }
 *   factor := NOT factor | "(" expr ")" | FIELD OP VALUE
 *   FIELD := id | name | type | uri | digest | state | create_time
 *            | properties.NAME | custom_properties.NAME
 *   OP := = | != | < | <= | > | >= | LIKE     VALUE := 'text' | number | WORD
 * Errors name the column of the expression where they are. */
int kf_lineage_list(struct kf_store *st, enum kf_lineage_kind kind,
		    const struct kf_lineage_filter *f, cJSON **out, struct kf_err *err);

/* One node with its properties, events and contexts; an artifact also gets
 * "producers" and "consumers" (executions), an execution "inputs" and
 * "outputs" (artifacts), a context its "executions" and "artifacts". */
int kf_lineage_show(struct kf_store *st, const struct kf_lineage_ref *ref, cJSON **out,
		    struct kf_err *err);

enum kf_lineage_dir { KF_LIN_UPSTREAM = 1, KF_LIN_DOWNSTREAM = 2, KF_LIN_BOTH = 3 };

/* The subgraph within hops of an artifact or execution:
 * {"kind": "Lineage", "name": ROOT, "nodes": [{id, kind, type, name, uri,
 * digest, state, run, hops, properties}], "edges": [{from, to, type, path}]}.
 * Edges point the way data flows (artifact -> consuming execution,
 * execution -> output artifact). until_type stops the walk at nodes of that
 * type (they are included). hops <= 0 means no limit. An artifact no
 * execution produced is joined to the artifacts with the same digest (a
 * SAME_CONTENT edge, no hop), so the walk crosses between commands. */
int kf_lineage_trace(struct kf_store *st, const struct kf_lineage_ref *root,
		     enum kf_lineage_dir dir, int hops, const char *until_type,
		     cJSON **out, struct kf_err *err);

/* Render a trace as Graphviz DOT (runs as clusters), or as SVG laid out by
 * kf itself (layers left to right, nodes coloured by run, with a legend);
 * html wraps the SVG and a node table in one self-contained page. */
void kf_lineage_render_dot(const cJSON *graph, struct kf_buf *out);
void kf_lineage_render_svg(const cJSON *graph, bool html, struct kf_buf *out);

/* What differs between two runs: parameters, per task state, cached vs
 * executed, input and output digests, output values and metrics:
 * {"kind": "RunDiff", "name": "RUN1..RUN2", "params": [...], "tasks": [...]}.
 * Only differences are listed; *same is true when there are none. */
int kf_lineage_diff(struct kf_store *st, const char *run1, const char *run2, cJSON **out,
		    bool *same, struct kf_err *err);

/* Garbage collection. Kept: every artifact of the newest keep_last runs
 * (keep_last < 0: of every run), every artifact recorded outside a run
 * (by train, analyze, ...), every input of a deployment (kf.Serve) and
 * every artifact sharing content with a kept one. The rest, when its
 * content lives in the store's artifact area, is marked DELETED (first, in
 * one transaction) and its content removed (then), so a crash leaves at
 * worst an unreferenced file the next gc removes. Files in the artifact
 * area no artifact names at all are removed too. dry_run only reports.
 * {"kind": "GcReport", "items": [{digest, uri, artifacts, bytes}], ...}. */
int kf_lineage_gc(struct kf_store *st, int keep_last, bool dry_run, cJSON **out,
		  struct kf_err *err);

#endif
