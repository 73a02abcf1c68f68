/* kf_store: the local metadata store (.kf/kf.db) and the content-addressed
 * artifact area (.kf/artifacts/sha256/ab/cdef...).
 *
 * The metadata follows ML Metadata (MLMD): types, artifacts, executions,
 * events (INPUT/OUTPUT with a path), contexts (pipeline, run, experiment,
 * trial, ...) with parent contexts, attributions (artifact-context) and
 * associations (execution-context); man 5 kf-store documents the tables.
 * kf adds its own run, task and cache tables for the local engine.
 *
 * Ownership: a struct kf_store is opened and closed by one caller and used
 * from one thread. Strings passed in are borrowed for the call; char *
 * returned is the caller's; cJSON documents returned are the caller's.
 * Several processes may use one store at once (WAL, busy timeout).
 *
 * Recording what a command did is ONE call, kf_store_record(): an execution
 * of some type, with input artifacts, output artifacts, properties and the
 * contexts it belongs to, written in one transaction. Example (what
 * `kf analyze stats` does):
 *
 *	struct kf_store_props ep = KF_STORE_PROPS_INIT, sp = KF_STORE_PROPS_INIT;
 *	struct kf_store_ref in = { .path = "data", .type = "Dataset",
 *				   .file = "data/train.csv" };
 *	struct kf_store_ref out = { .path = "statistics", .type = "Statistics",
 *				    .file = "out/stats.json", .put = true, .props = &sp };
 *	struct kf_store_record rec = { .type = "kf.AnalyzeStats", .name = "stats",
 *				       .state = KF_EXEC_COMPLETE, .props = &ep,
 *				       .inputs = &in, .n_inputs = 1,
 *				       .outputs = &out, .n_outputs = 1 };
 *	int64_t ctx_id, exec_id;
 *
 *	kf_store_props_int(&sp, "num_examples", 1000);
 *	kf_store_props_str(&ep, "command", "kf analyze stats");
 *	if (kf_store_context(st, "kf.Analysis", "taxi", NULL, 0, &ctx_id, err) < 0 ||
 *	    (rec.contexts = &ctx_id, rec.n_contexts = 1,
 *	     kf_store_record(st, &rec, &exec_id, err) < 0))
 *		goto out;
 *	// out.id, out.digest and out.uri now name the stored artifact
 *
 * Types are created on first use (by name and kind). Type names used by kf:
 * artifacts "Dataset", "Statistics", "Schema", "Anomalies", "Model",
 * "ModelBlessing", "Metrics", "Artifact" (a pipeline step's output);
 * executions "kf.Step", "kf.Train", "kf.Analyze*", "kf.Serve", "kf.Trial";
 * contexts "kf.Pipeline", "kf.Run", "kf.Experiment", "kf.Trial". */
#ifndef KF_STORE_H
#define KF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/kf_sha256.h"

struct kf_err;
struct kf_store;

/* The schema version this build writes; older stores are migrated on open. */
#define KF_STORE_SCHEMA_VERSION 1

/* The kinds of types, as MLMD numbers them (Type.type_kind). */
enum kf_store_kind {
	KF_KIND_EXECUTION = 0,
	KF_KIND_ARTIFACT = 1,
	KF_KIND_CONTEXT = 2,
};

/* Artifact.state, MLMD's numbering. */
enum kf_artifact_state {
	KF_ART_UNKNOWN = 0, KF_ART_PENDING = 1, KF_ART_LIVE = 2,
	KF_ART_MARKED_FOR_DELETION = 3, KF_ART_DELETED = 4,
	KF_ART_ABANDONED = 5, KF_ART_REFERENCE = 6,
};

/* Execution.last_known_state, MLMD's numbering. */
enum kf_exec_state {
	KF_EXEC_UNKNOWN = 0, KF_EXEC_NEW = 1, KF_EXEC_RUNNING = 2,
	KF_EXEC_COMPLETE = 3, KF_EXEC_FAILED = 4, KF_EXEC_CACHED = 5,
	KF_EXEC_CANCELED = 6,
};

/* Event.type, MLMD's numbering (kf writes INPUT and OUTPUT). */
enum kf_event_type {
	KF_EVENT_UNKNOWN = 0, KF_EVENT_DECLARED_OUTPUT = 1, KF_EVENT_DECLARED_INPUT = 2,
	KF_EVENT_INPUT = 3, KF_EVENT_OUTPUT = 4,
	KF_EVENT_INTERNAL_INPUT = 5, KF_EVENT_INTERNAL_OUTPUT = 6,
	KF_EVENT_PENDING_OUTPUT = 7,
};

/* Property value types, MLMD's PropertyType numbering (JSON = STRUCT). */
enum kf_prop_type {
	KF_PROP_INT = 1, KF_PROP_DOUBLE = 2, KF_PROP_STRING = 3, KF_PROP_JSON = 4,
};

const char *kf_artifact_state_name(int state);   /* "LIVE" */
int kf_artifact_state_parse(const char *name);   /* -1 if unknown */
const char *kf_exec_state_name(int state);       /* "COMPLETE" */
int kf_exec_state_parse(const char *name);       /* -1 if unknown */
const char *kf_event_type_name(int type);        /* "INPUT" */

/* ---- typed properties ------------------------------------------------ */

struct kf_store_prop {
	char *name;
	enum kf_prop_type type;
	int64_t i;
	double d;
	char *s;          /* STRING value, or JSON text */
};

struct kf_store_props {
	struct kf_store_prop *items;
	size_t n, cap;
};

#define KF_STORE_PROPS_INIT { NULL, 0, 0 }

void kf_store_props_int(struct kf_store_props *p, const char *name, int64_t v);
void kf_store_props_double(struct kf_store_props *p, const char *name, double v);
void kf_store_props_str(struct kf_store_props *p, const char *name, const char *v);
void kf_store_props_json(struct kf_store_props *p, const char *name, const cJSON *v);
/* Every member of a JSON object: integral numbers INT, other numbers
 * DOUBLE, strings STRING, booleans INT 0/1, objects/arrays JSON. */
void kf_store_props_from_json(struct kf_store_props *p, const cJSON *obj);
void kf_store_props_release(struct kf_store_props *p);

/* ---- opening --------------------------------------------------------- */

/* Open (creating if needed) the store in dir: dir/kf.db, dir/artifacts/,
 * dir/runs/. Migrates an older schema; refuses a newer one. */
int kf_store_open(const char *dir, struct kf_store **out, struct kf_err *err);
void kf_store_close(struct kf_store *s);
const char *kf_store_dir(const struct kf_store *s);
/* The schema version of the open store. */
int kf_store_schema_version(struct kf_store *s);

/* Group many writes in one transaction (BEGIN IMMEDIATE). Calls nest: only
 * the outermost commit writes. Every kf_store_* write call is atomic on its
 * own; batching only makes many of them cheaper. */
int kf_store_begin(struct kf_store *s, struct kf_err *err);
int kf_store_commit(struct kf_store *s, struct kf_err *err);
void kf_store_rollback(struct kf_store *s);

/* ---- content-addressed artifacts ------------------------------------- */

/* Digest of a file, or of a directory tree. A directory's digest is the
 * sha256 of "kf-dir-v1\n" followed by, for each entry in bytewise name
 * order, "<kind> <digest> <name>\0" where kind is 'f' (file), 'x'
 * (executable file) or 'd' (directory, its own digest recursively).
 * Symlinks and special files are refused. */
int kf_store_digest_path(const char *path, char hex[KF_SHA256_HEX_LEN + 1],
			 bool *is_dir, struct kf_err *err);

enum { KF_PUT_MOVE = 1 << 0 };   /* rename src into the store when possible */

/* Put a file or directory tree into the artifact area, read-only, under
 * its digest. It is written under a temporary name and renamed, so no
 * reader ever sees half an artifact. An artifact already present is kept.
 * hex receives the digest; *path (if not NULL) the final path. */
int kf_store_put(struct kf_store *s, const char *src, unsigned flags,
		 char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err);
int kf_store_put_file(struct kf_store *s, const char *src, unsigned flags,
		      char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err);
int kf_store_put_dir(struct kf_store *s, const char *src, unsigned flags,
		     char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err);
/* Path where the artifact with this digest lives (it may not exist). */
char *kf_store_blob_path(const struct kf_store *s, const char *hex);
/* Re-hash a stored artifact: KF_EFAIL naming it when it differs. */
int kf_store_blob_verify(struct kf_store *s, const char *hex, struct kf_err *err);
/* Remove a stored artifact from disk (gc); a missing one is not an error. */
int kf_store_blob_remove(struct kf_store *s, const char *hex, struct kf_err *err);

/* ---- MLMD records ---------------------------------------------------- */

/* Id of the type (kind, name), created when missing. */
int kf_store_type(struct kf_store *s, enum kf_store_kind kind, const char *name,
		  int64_t *id, struct kf_err *err);

/* Id of the context (type, name), created with props and parent (0 = none)
 * when missing; an existing one gets props merged in. */
int kf_store_context(struct kf_store *s, const char *type, const char *name,
		     const struct kf_store_props *props, int64_t parent,
		     int64_t *id, struct kf_err *err);

/* An artifact taking part in an execution. Give either id (an existing
 * artifact), or the fields to find or make one:
 *   file: a local file or directory; its digest is computed. With put the
 *         content is copied (or moved, with move) into the artifact area and
 *         uri becomes the stored path; without put uri is file's absolute
 *         path.
 *   digest/uri: known already (no file).
 * An INPUT without id reuses the newest LIVE artifact with the same digest
 * and uri (so lineage connects across commands), else makes one. An OUTPUT
 * always makes a new artifact. On return id, digest and uri are filled. */
struct kf_store_ref {
	const char *path;        /* event path: the input/output name */
	int64_t id;
	const char *type;        /* artifact type name, "Artifact" when NULL */
	const char *name;        /* optional artifact name */
	const char *file;
	bool put, move;
	const char *uri;
	const char *digest_in;   /* a known digest (with uri, without file) */
	const struct kf_store_props *props;
	int state;               /* 0 = LIVE */
	/* filled on return */
	char digest[KF_SHA256_HEX_LEN + 1];
	char *uri_out;           /* owned by the ref: kf_store_ref_release */
};

void kf_store_ref_release(struct kf_store_ref *r);

struct kf_store_record {
	const char *type;        /* execution type name */
	const char *name;        /* optional execution name */
	int state;               /* enum kf_exec_state */
	const struct kf_store_props *props;
	struct kf_store_ref *inputs;
	size_t n_inputs;
	struct kf_store_ref *outputs;
	size_t n_outputs;
	const int64_t *contexts; /* associations + attributions of every artifact */
	size_t n_contexts;
	int64_t start_ms, end_ms;  /* 0 = now */
};

/* Record one execution with its events, artifacts and contexts, atomically. */
int kf_store_record(struct kf_store *s, struct kf_store_record *r, int64_t *exec_id,
		    struct kf_err *err);

/* Lower-level pieces of the same (each atomic). */
int kf_store_execution_add(struct kf_store *s, const char *type, const char *name, int state,
			   const struct kf_store_props *props, int64_t *id, struct kf_err *err);
int kf_store_execution_set_state(struct kf_store *s, int64_t id, int state,
				 const struct kf_store_props *props, struct kf_err *err);
int kf_store_artifact_set_state(struct kf_store *s, int64_t id, int state, struct kf_err *err);
int kf_store_event_add(struct kf_store *s, int64_t artifact, int64_t execution,
		       enum kf_event_type type, const char *path, struct kf_err *err);
int kf_store_associate(struct kf_store *s, int64_t context, int64_t execution, struct kf_err *err);
int kf_store_attribute(struct kf_store *s, int64_t context, int64_t artifact, struct kf_err *err);

/* ---- reading --------------------------------------------------------- */

/* One artifact / execution / context as a JSON object: id, type, name,
 * uri, digest, state, create_time, update_time, properties{...} and, for
 * artifacts and executions, events[{execution|artifact, type, path}] and
 * contexts[ids]. KF_ENOTFOUND when missing. */
int kf_store_artifact_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err);
int kf_store_execution_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err);
int kf_store_context_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err);

/* Any read-only SQL over the schema of man 5 kf-store, with ?1..?N bound
 * from binds (a JSON array of numbers/strings/null, or NULL): rows as an
 * array of objects keyed by column name. Writes are refused. */
int kf_store_query(struct kf_store *s, const char *sql, const cJSON *binds, cJSON **rows,
		   struct kf_err *err);

/* ---- kf runs, tasks and the step cache -------------------------------- */

/* Run and task states are Argo's node phases, as text: "Pending",
 * "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted", and
 * kf's "Cached" (task) and "Interrupted" (run). */
struct kf_store_run {
	const char *id;          /* unique; kf_store_run_new_id makes one */
	const char *name;
	const char *pipeline;
	const char *source;      /* the spec or package path, absolute */
	const cJSON *params;     /* resolved parameters */
	const cJSON *plan;       /* what resume needs to restart (engine's) */
	const char *state;
	int64_t context_id;      /* kf.Run context */
};

/* A fresh run id: NAME-XXXXXXXX (name sanitised, random suffix). */
char *kf_store_run_new_id(const char *name);
int kf_store_run_add(struct kf_store *s, const struct kf_store_run *run, struct kf_err *err);
/* State change; finished stamps the end time; message may be NULL. */
int kf_store_run_set_state(struct kf_store *s, const char *run, const char *state,
			   bool finished, const char *message, struct kf_err *err);
int kf_store_run_set_pid(struct kf_store *s, const char *run, long pid, struct kf_err *err);
/* The run as JSON: id, name, pipeline, source, params, plan, state,
 * message, pid, created, started, finished (ms), context_id. A unique id
 * prefix is accepted. */
int kf_store_run_get(struct kf_store *s, const char *run, cJSON **out, struct kf_err *err);
/* Runs, newest first (limit 0 = all), without plans. */
int kf_store_run_list(struct kf_store *s, size_t limit, cJSON **out, struct kf_err *err);
/* Delete a run's rows (tasks, cache entries it made stay valid only while
 * their artifacts exist); its MLMD records are kept for lineage. */
int kf_store_run_delete(struct kf_store *s, const char *run, struct kf_err *err);

struct kf_store_task {
	const char *run;
	const char *task;        /* step name, "step[3]" for a fan-out item */
	const char *step;        /* spec step name */
	const char *state;
	int attempt;
	int exit_code;           /* -1 when none */
	int64_t started_ms, finished_ms;   /* 0 = unset */
	int64_t execution_id;    /* 0 = none */
	const char *cache_key;
	const cJSON *outputs;    /* {"params": {...}, "artifacts": {name: {digest, uri}}} */
	const char *message;
	long pid;                /* its process group while Running, else 0 */
};

/* Insert or replace a task row. */
int kf_store_task_put(struct kf_store *s, const struct kf_store_task *t, struct kf_err *err);
/* Tasks of a run in start order as JSON objects with the fields above. */
int kf_store_task_list(struct kf_store *s, const char *run, cJSON **out, struct kf_err *err);

/* Cache: key -> outputs of the execution that made them. A hit older than
 * max_age_ms (0 = any age) is a miss, and so is one whose stored artifacts
 * are gone. *outputs is NULL on a miss. */
int kf_store_cache_get(struct kf_store *s, const char *key, int64_t max_age_ms,
		       cJSON **outputs, int64_t *execution_id, struct kf_err *err);
int kf_store_cache_put(struct kf_store *s, const char *key, const cJSON *outputs,
		       int64_t execution_id, struct kf_err *err);

#endif
