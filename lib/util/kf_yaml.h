/* kf_yaml: YAML documents with source positions, and YAML output.
 *
 * kf_yaml_load parses with libyaml into a tree of kf_ynode that keeps the
 * line and column of every node, so spec errors can point at the place.
 * Aliases are expanded with a node budget (no "billion laughs").
 * The tree is owned by the kf_ydoc; release frees it all.
 *
 * kf_yaml_emit writes a cJSON document as block-style YAML, deterministic
 * for the same input, quoting any string a YAML 1.1 reader (kubectl, PyYAML)
 * would otherwise take for a number, bool or null. */
#ifndef KF_YAML_H
#define KF_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_err;

enum kf_ynode_kind { KF_Y_SCALAR, KF_Y_SEQ, KF_Y_MAP };

/* How a plain (unquoted) scalar resolves. */
enum kf_yscalar_type { KF_YS_STRING, KF_YS_NULL, KF_YS_BOOL, KF_YS_INT, KF_YS_FLOAT };

struct kf_ynode {
	enum kf_ynode_kind kind;
	int line, col;            /* 1-based place of the node's first character */
	char *value;              /* scalar text (NUL-terminated; may hold NUL bytes before len) */
	size_t len;               /* scalar length */
	bool quoted;              /* quoted or block scalar: always a string */
	size_t n;                 /* items of a sequence, pairs of a map */
	struct kf_ynode **items;  /* seq: items[i]; map: items[2i] key, items[2i+1] value */
};

struct kf_ydoc {
	char *file;               /* name used in errors */
	char *text;               /* the source, for quoting lines under errors */
	size_t text_len;
	size_t n_roots;           /* documents in the stream */
	struct kf_ynode **roots;  /* roots[0] is "the" document; NULL when n_roots == 0 */
	struct kf_ynode *root;    /* == roots[0] or NULL */
};

int kf_yaml_load(struct kf_ydoc *doc, const char *file, const char *text, size_t len,
		 struct kf_err *err);
int kf_yaml_load_file(struct kf_ydoc *doc, const char *path, struct kf_err *err);
void kf_ydoc_release(struct kf_ydoc *doc);

/* The text of 1-based line (without newline) and its length; NULL if none. */
const char *kf_ydoc_line(const struct kf_ydoc *doc, int line, size_t *len);

/* Map lookup: the value node for key, or NULL. */
const struct kf_ynode *kf_ynode_get(const struct kf_ynode *map, const char *key);
const struct kf_ynode *kf_ynode_key(const struct kf_ynode *map, size_t i);
const struct kf_ynode *kf_ynode_val(const struct kf_ynode *map, size_t i);
bool kf_ynode_is_scalar(const struct kf_ynode *n);
/* Scalar type: quoted scalars are strings; plain ones resolve as YAML 1.2's
 * core schema does (true/false, null/~, ints, floats). */
enum kf_yscalar_type kf_ynode_scalar_type(const struct kf_ynode *n);
const char *kf_ynode_kind_name(const struct kf_ynode *n);   /* "string", "list", "map", ... */

/* Convert a subtree to cJSON (scalars typed by kf_ynode_scalar_type). */
cJSON *kf_ynode_to_json(const struct kf_ynode *n);

/* How a YAML 1.1 reader resolves a plain scalar (the stricter of the two,
 * used to decide when output must be quoted). */
enum kf_yscalar_type kf_yaml_resolve_11(const char *s);

/* Append doc as YAML (one document, no "---", ends with a newline).
 * kf_yaml_emit writes it directly where it can and through libyaml's event
 * emitter otherwise; kf_yaml_emit_events always uses libyaml (the reference
 * the tests compare kf_yaml_emit against, byte for byte). */
int kf_yaml_emit(const cJSON *doc, struct kf_buf *out, struct kf_err *err);
int kf_yaml_emit_events(const cJSON *doc, struct kf_buf *out, struct kf_err *err);

#endif
