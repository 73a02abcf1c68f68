/* kf_proto: the JSON of the serving protocols.
 *
 * A request body becomes a table of raw cells (text, as a CSV holds them;
 * NULL when missing) in the model's input order:
 *   TF Serving :predict  "instances": [{name: value, ...}, ...]   (rows)
 *                        "inputs": {name: [value, ...], ...}       (columns)
 *   :classify/:regress   "examples": [{...}], optional "context": {...}
 *   Open Inference       "inputs": [{"name", "shape", "datatype", "data"}]
 * and a model's outputs become the answer in the same protocol. Errors
 * are the client's (KF_EINPUT) with the message to send back. */
#ifndef KF_PROTO_H
#define KF_PROTO_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/kf_buf.h"

struct kf_err;
struct kf_model;

enum kf_proto_verb {
	KF_PROTO_PREDICT_ROWS,
	KF_PROTO_PREDICT_COLUMNS,
	KF_PROTO_CLASSIFY,
	KF_PROTO_REGRESS,
	KF_PROTO_INFER,
};

/* rows × cols cells, their text in one arena. */
struct kf_proto_table {
	size_t rows, cols;
	size_t *off;              /* offsets into text; SIZE_MAX: missing */
	struct kf_buf text;
};

/* Parse body for verb into t (released on error). A :predict body sets
 * *verb to rows or columns by its shape; name is for messages. */
int kf_proto_parse(const struct kf_model *m, const char *name, enum kf_proto_verb *verb,
		   const cJSON *body, struct kf_proto_table *t, struct kf_err *err);
void kf_proto_table_release(struct kf_proto_table *t);
/* Cell (r, c), or NULL when missing. */
const char *kf_proto_cell(const struct kf_proto_table *t, size_t r, size_t c);

/* Append the answer to rows of out (rows × the model's width). id: the
 * V2 request id, or NULL. */
void kf_proto_answer(struct kf_buf *b, enum kf_proto_verb verb, const struct kf_model *m, const char *name,
		     const char *version, const char *id, size_t rows, const double *out);

/* The shortest text that reads back as the same double (NaN, Infinity
 * as TF Serving writes them). */
void kf_proto_add_double(struct kf_buf *b, double v);

#endif
