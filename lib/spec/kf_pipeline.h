/* kf_pipeline: a kf/v1 Pipeline spec as a validated in-memory model.
 *
 * kf_pipeline_load reads PIPELINE.yaml, the component files it references
 * (relative paths, or https:// URLs fetched once and cached under
 * <store>/cache/components/<sha256>), applies -p overrides and validates the
 * whole thing, collecting every error it finds (file:line:col in the file the
 * mistake is in). On success the model is complete: every template is parsed,
 * every reference resolved to an index, dependencies computed and sorted,
 * steps in a topological order.
 *
 * Ownership: everything reachable from a struct kf_pipeline is owned by it
 * and freed by kf_pipeline_free; all pointers in the model are borrowed
 * from it and stay valid until then. Functions that return char * or fill a
 * kf_strv / kf_buf hand the result to the caller.
 *
 * The same model feeds the Argo emitter (kf compile) and the local engine
 * (kf run); kf_component_expand turns a step's component into the argv to
 * exec, resolving placeholders through caller callbacks. */
#ifndef KF_PIPELINE_H
#define KF_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/kf_err.h"
#include "util/kf_str.h"

struct kf_buf;
struct kf_expr;

/* A place in a source file; file is borrowed from the pipeline. */
struct kf_pos {
	const char *file;
	int line, col;
};

/* ---- templates: "text {{params.x}} more {{steps.s.outputs.y}}" ------- */

enum kf_ref_kind {
	KF_REF_TEXT,      /* literal text */
	KF_REF_PARAM,     /* {{params.NAME}}: name */
	KF_REF_OUTPUT,    /* {{steps.STEP.outputs.NAME}}: step, name */
	KF_REF_ITEM,      /* {{item}} (name NULL) or {{item.KEY}} (name = KEY) */
	KF_REF_RUN_ID,    /* {{run.id}} */
	KF_REF_RUN_NAME,  /* {{run.name}} */
	KF_REF_RUN_STATUS /* {{run.status}}: onExit only */
};

struct kf_ref {
	enum kf_ref_kind kind;
	char *text;       /* KF_REF_TEXT: the text */
	char *step;       /* KF_REF_OUTPUT: step name */
	char *name;       /* PARAM: parameter; OUTPUT: output; ITEM: key or NULL */
	size_t index;     /* resolved: PARAM -> params[], OUTPUT -> steps[] */
	size_t output;    /* resolved: OUTPUT -> the step component's outputs[] */
};

struct kf_tmpl {
	char *raw;              /* as written */
	struct kf_ref *parts;
	size_t n;
	struct kf_pos pos;
};

/* Parse raw into t (t->raw is a copy). On a syntax error returns KF_EINPUT
 * with err placed at pos (column advanced to the bad "{{"). Names are not
 * resolved here. */
int kf_tmpl_parse(struct kf_tmpl *t, const char *raw, struct kf_pos pos, struct kf_err *err);
void kf_tmpl_release(struct kf_tmpl *t);
/* True when the template is exactly one reference and no text. */
bool kf_tmpl_is_single(const struct kf_tmpl *t, enum kf_ref_kind kind);
bool kf_tmpl_has(const struct kf_tmpl *t, enum kf_ref_kind kind);

/* Values for template expansion at run time. Each callback returns a
 * borrowed string, or NULL with err filled when the value is unavailable. */
struct kf_tmpl_values {
	void *ctx;
	const char *(*param)(void *ctx, size_t index, struct kf_err *err);
	const char *(*output)(void *ctx, size_t step, size_t output, struct kf_err *err);
	/* key NULL: the whole item (JSON text for objects/lists, else the scalar) */
	const char *(*item)(void *ctx, const char *key, struct kf_err *err);
	const char *(*run)(void *ctx, enum kf_ref_kind kind, struct kf_err *err);
};

/* Expand t into a new string the caller frees (*out). */
int kf_tmpl_expand(const struct kf_tmpl *t, const struct kf_tmpl_values *vals, char **out,
		   struct kf_err *err);

/* ---- types ------------------------------------------------------------ */

/* Parameter types kf checks values against; any other KFP type name
 * ("Dataset", "Model", ...) is KF_TYPE_OTHER and compared by name. */
enum kf_type {
	KF_TYPE_NONE,       /* untyped */
	KF_TYPE_STRING,
	KF_TYPE_INTEGER,
	KF_TYPE_FLOAT,
	KF_TYPE_BOOL,
	KF_TYPE_JSONARRAY,
	KF_TYPE_JSONOBJECT,
	KF_TYPE_OTHER
};

/* "Integer", "int", "Float", "float", ... -> kind (case-insensitive). */
enum kf_type kf_type_of(const char *name);
const char *kf_type_name(enum kf_type t);   /* canonical: "Integer" */
/* Does the text parse as a value of that type? (JsonArray: a JSON list.) */
bool kf_type_check_value(enum kf_type t, const char *value);

/* ---- parameters ------------------------------------------------------- */

struct kf_param {
	char *name;
	char *type;           /* as written, NULL when untyped */
	enum kf_type kind;
	char *default_value;  /* text form (JSON for lists/maps), NULL when required */
	char *value;          /* the -p override, else the default; NULL if none */
	char *description;
	struct kf_pos pos;
};

/* ---- components (KFP v1 component spec) ------------------------------- */

enum kf_ph_kind {
	KF_PH_STRING,      /* literal text */
	KF_PH_INPUT_VALUE, /* {inputValue: NAME} */
	KF_PH_INPUT_PATH,  /* {inputPath: NAME} */
	KF_PH_OUTPUT_PATH, /* {outputPath: NAME} */
	KF_PH_CONCAT,      /* {concat: [...]}: parts joined into one string */
	KF_PH_IF           /* {if: {cond, then, else}}: zero or more argv items */
};

enum kf_cond_kind {
	KF_COND_CONST,      /* cond: true/false (or a string "true"/"false") */
	KF_COND_IS_PRESENT, /* cond: {isPresent: NAME} */
	KF_COND_INPUT_VALUE /* cond: {inputValue: NAME}: true when the value is "true" */
};

struct kf_ph {
	enum kf_ph_kind kind;
	char *text;            /* STRING: the text; INPUT_* / OUTPUT_PATH: the name */
	size_t index;          /* INPUT_*: inputs[]; OUTPUT_PATH: outputs[] */
	struct kf_ph *items;   /* CONCAT: parts; IF: then-items */
	size_t n;
	/* IF only */
	enum kf_cond_kind cond;
	bool cond_const;
	char *cond_name;       /* IS_PRESENT / INPUT_VALUE: the input */
	size_t cond_index;
	struct kf_ph *else_items;
	size_t n_else;
	struct kf_pos pos;
};

/* How a component uses an input or output (bits). */
enum {
	KF_USE_VALUE = 1 << 0, /* {inputValue} somewhere */
	KF_USE_PATH = 1 << 1   /* {inputPath} / {outputPath} somewhere */
};

struct kf_io {
	char *name;
	char *type;            /* as written (a string; a map type is kept as JSON text), or NULL */
	enum kf_type kind;
	char *description;
	char *default_value;   /* inputs: NULL when none */
	bool optional;
	unsigned uses;         /* KF_USE_* bits, computed at load */
	struct kf_pos pos;
};

struct kf_env {
	char *name;
	struct kf_ph value;
};

struct kf_component {
	char *key;             /* name under spec.components, or the step's name when inline */
	char *name;            /* the component spec's name (may be NULL) */
	char *description;
	struct kf_io *inputs;
	size_t n_inputs;
	struct kf_io *outputs;
	size_t n_outputs;
	struct kf_ph image;
	struct kf_ph *command;
	size_t n_command;
	struct kf_ph *args;
	size_t n_args;
	struct kf_env *env;
	size_t n_env;
	char *file;            /* file it was read from (for errors) */
	char *url;             /* the ref as written (path or URL), NULL when inline */
	char digest[65];       /* sha256 hex of the component's text */
	cJSON *spec;           /* the component spec as written, for annotations */
	struct kf_pos pos;
};

/* Index of the named input/output, or -1. */
long kf_component_input(const struct kf_component *c, const char *name);
long kf_component_output(const struct kf_component *c, const char *name);

/* Callbacks that give placeholders their run-time values.
 * input_value: the argument's value (or the default); NULL when absent
 *   (no argument, no default), which makes {isPresent} false.
 * input_path: a local path holding the input's data (a file the engine
 *   wrote from a value, or the producing step's output file); NULL when absent.
 * output_path: the local path the program must write the output to.
 * The strings are borrowed; they must live until kf_component_expand returns. */
struct kf_expand_cb {
	void *ctx;
	const char *(*input_value)(void *ctx, size_t input);
	const char *(*input_path)(void *ctx, size_t input);
	const char *(*output_path)(void *ctx, size_t output);
};

/* Append the command then the args of c to argv, placeholders resolved.
 * An absent input used by {inputValue}/{inputPath} outside an if-isPresent
 * is an error naming it (KF_EINPUT). */
int kf_component_expand(const struct kf_component *c, const struct kf_expand_cb *cb,
			struct kf_strv *argv, struct kf_err *err);
/* The image and each env value, resolved the same way (*out caller's). */
int kf_component_expand_image(const struct kf_component *c, const struct kf_expand_cb *cb,
			      char **out, struct kf_err *err);
int kf_component_expand_env(const struct kf_component *c, size_t i, const struct kf_expand_cb *cb,
			    char **out, struct kf_err *err);

/* ---- steps ------------------------------------------------------------ */

struct kf_arg {
	char *input;           /* the component input it sets */
	size_t index;          /* -> component inputs[] */
	struct kf_tmpl value;  /* lists/maps as written are kept as JSON text */
	struct kf_pos pos;     /* of the key */
};

struct kf_kv {
	char *key;
	char *value;
	struct kf_pos pos;
};

enum kf_loop_kind {
	KF_LOOP_NONE,
	KF_LOOP_LIST,   /* parallelFor: [a, b] (loop_items) */
	KF_LOOP_PARAM,  /* parallelFor: "{{params.X}}" (loop_ref) */
	KF_LOOP_OUTPUT  /* parallelFor: "{{steps.S.outputs.Y}}" (loop_ref) */
};

struct kf_retry {
	int limit;              /* 0: no retries */
	int64_t backoff_ms;     /* 0: no backoff */
	double factor;          /* 0 when not given */
	int64_t max_backoff_ms; /* 0 when not given */
};

struct kf_step {
	char *name;
	struct kf_pos pos;
	struct kf_component *component;   /* borrowed from the pipeline */
	struct kf_arg *args;              /* in the component's input order */
	size_t n_args;
	struct kf_strv after;             /* as written */
	size_t *deps;                     /* every step this one waits for, ascending index */
	size_t n_deps;
	struct kf_expr *when;             /* NULL when always */
	char *when_raw;
	struct kf_pos when_pos;
	enum kf_loop_kind loop;
	cJSON *loop_items;                /* KF_LOOP_LIST: the array */
	struct kf_tmpl loop_ref;          /* KF_LOOP_PARAM / OUTPUT */
	struct kf_pos loop_pos;
	int parallelism;                  /* 0 = unlimited */
	struct kf_retry retry;
	int64_t timeout_ms;               /* 0 = none */
	bool cache;                       /* default true */
	char *cpu, *memory;               /* Kubernetes quantities, NULL when not set */
	int gpu;                          /* 0 when not set */
	struct kf_kv *node_selector;
	size_t n_node_selector;
	struct kf_kv *env;
	size_t n_env;
	bool is_exit;                     /* the pipeline's onExit step */
};

/* The argument for input i of a step's component, or NULL when not given. */
const struct kf_arg *kf_step_arg(const struct kf_step *s, size_t input);

/* ---- the pipeline ----------------------------------------------------- */

struct kf_pipeline {
	char *file;                       /* the spec's path as given */
	char *name;                       /* metadata.name */
	char *description;                /* NULL when none */
	struct kf_param *params;
	size_t n_params;
	struct kf_component **components; /* named ones, then inline ones */
	size_t n_components;
	struct kf_step *steps;            /* in the order written */
	size_t n_steps;
	struct kf_step *on_exit;          /* NULL when none; not in steps[] */
	size_t *order;                    /* steps[] indexes, dependencies first */
	struct kf_strv files;             /* every file read (owns the kf_pos file strings) */
	struct kf_step_index *index;      /* name lookup (private) */
};

struct kf_pipeline_opts {
	const char *store_dir;            /* for the https component cache; NULL: no cache */
	const struct kf_strv *overrides;  /* "NAME=VALUE" (-p), or NULL */
	bool require_params;              /* a parameter with no value is an error (kf run) */
	bool offline;                     /* never fetch: a URL not in the cache is an error */
};

/* Load and validate path. On error returns KF_EINPUT (spec errors, each
 * added to errs) or KF_EIO/KF_EENV (a file or URL that cannot be read, also
 * in errs), and *out is NULL. */
int kf_pipeline_load(struct kf_pipeline **out, const char *path, const struct kf_pipeline_opts *opts,
		     struct kf_errlist *errs);
/* The same from text already in memory; refs resolve against dirname(path). */
int kf_pipeline_load_text(struct kf_pipeline **out, const char *path, const char *text, size_t len,
			  const struct kf_pipeline_opts *opts, struct kf_errlist *errs);
void kf_pipeline_free(struct kf_pipeline *p);

/* Index of the named step or param, or -1 (hash lookup). */
long kf_pipeline_step(const struct kf_pipeline *p, const char *name);
long kf_pipeline_param(const struct kf_pipeline *p, const char *name);

#endif
