/* kf_output: render a command's result (a cJSON document) as a table,
 * JSON, YAML or names. Records are objects carrying "kind" and "name"; a
 * list is {"kind": "...List", "items": [...]}. JSON and YAML are the stable
 * contract; tables are for people and may change. */
#ifndef KF_OUTPUT_H
#define KF_OUTPUT_H

#include <cjson/cJSON.h>

struct kf_buf;
struct kf_err;

/* One table column: header text and a dotted path into each record
 * ("status.state"); arrays are joined with ",". */
struct kf_column {
	const char *header;
	const char *path;
};

/* format: "table", "json", "yaml" or "name" (NULL = table). cols ends with
 * {NULL, NULL}; NULL cols makes a KEY/VALUE table of a single record. */
int kf_output_render(struct kf_buf *out, const char *format, const cJSON *doc,
		     const struct kf_column *cols, struct kf_err *err);

/* Is format one of the names in choices ("table|json|yaml|name")? */
int kf_output_check(const char *format, const char *choices, struct kf_err *err);

/* Value at a dotted path, or NULL. */
const cJSON *kf_json_path(const cJSON *doc, const char *path);
/* A scalar as text: strings as is, numbers shortest, bools, "" for null;
 * arrays joined with ",". Caller frees. */
char *kf_json_text(const cJSON *v);

#endif
