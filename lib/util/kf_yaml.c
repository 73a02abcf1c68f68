#include "config.h"

#include "util/kf_yaml.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Aliases are expanded into copies; past this many nodes a document is refused. */
#define KF_YAML_MAX_NODES 2000000
#define KF_YAML_MAX_DEPTH 512

struct loader {
	yaml_document_t *ydoc;
	const char *file;
	size_t budget;
	struct kf_err *err;
};

static void node_free(struct kf_ynode *n)
{
	size_t i, count;

	if (!n)
		return;
	count = n->kind == KF_Y_MAP ? 2 * n->n : n->n;
	for (i = 0; i < count; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

static struct kf_ynode *convert(struct loader *ld, yaml_node_t *yn, int depth)
{
	struct kf_ynode *n;

	if (!yn)
		return NULL;
	if (depth > KF_YAML_MAX_DEPTH || ld->budget == 0) {
		kf_err_at(ld->err, KF_EINPUT, ld->file, (int)yn->start_mark.line + 1,
			  (int)yn->start_mark.column + 1,
			  depth > KF_YAML_MAX_DEPTH ? "document nested too deeply"
						    : "document expands to too many nodes (alias bomb?)");
		return NULL;
	}
	ld->budget--;
	n = kf_xcalloc(1, sizeof *n);
	n->line = (int)yn->start_mark.line + 1;
	n->col = (int)yn->start_mark.column + 1;
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n->kind = KF_Y_SCALAR;
		n->len = yn->data.scalar.length;
		n->value = kf_xstrndup((const char *)yn->data.scalar.value, n->len);
		n->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;
		size_t i = 0;

		n->kind = KF_Y_SEQ;
		n->n = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
		n->items = kf_xcalloc(n->n ? n->n : 1, sizeof *n->items);
		for (it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++, i++) {
			n->items[i] = convert(ld, yaml_document_get_node(ld->ydoc, *it), depth + 1);
			if (!n->items[i])
				goto fail;
		}
		break;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;
		size_t i = 0;

		n->kind = KF_Y_MAP;
		n->n = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
		n->items = kf_xcalloc(n->n ? 2 * n->n : 1, sizeof *n->items);
		for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top; p++, i += 2) {
			n->items[i] = convert(ld, yaml_document_get_node(ld->ydoc, p->key), depth + 1);
			if (!n->items[i])
				goto fail;
			n->items[i + 1] = convert(ld, yaml_document_get_node(ld->ydoc, p->value), depth + 1);
			if (!n->items[i + 1])
				goto fail;
		}
		break;
	}
	default:
		n->kind = KF_Y_SCALAR;
		n->value = kf_xstrdup("");
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static int parser_error(yaml_parser_t *p, const char *file, struct kf_err *err)
{
	const char *what = p->problem ? p->problem : "invalid YAML";

	if (p->context)
		return kf_err_at(err, KF_EINPUT, file, (int)p->problem_mark.line + 1,
				 (int)p->problem_mark.column + 1, "invalid YAML: %s %s", what, p->context);
	return kf_err_at(err, KF_EINPUT, file, (int)p->problem_mark.line + 1,
			 (int)p->problem_mark.column + 1, "invalid YAML: %s", what);
}

int kf_yaml_load(struct kf_ydoc *doc, const char *file, const char *text, size_t len,
		 struct kf_err *err)
{
	struct loader ld = { NULL, file, KF_YAML_MAX_NODES, err };
	yaml_parser_t parser;
	size_t cap = 0;
	int rc = 0;

	memset(doc, 0, sizeof *doc);
	doc->file = kf_xstrdup(file);
	doc->text = kf_xstrndup(text, len);
	doc->text_len = len;
	if (!yaml_parser_initialize(&parser))
		return kf_err_set(err, KF_EIO, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)doc->text, len);
	for (;;) {
		yaml_document_t ydoc;
		yaml_node_t *root;
		struct kf_ynode *n;

		if (!yaml_parser_load(&parser, &ydoc)) {
			rc = parser_error(&parser, file, err);
			break;
		}
		root = yaml_document_get_root_node(&ydoc);
		if (!root) {
			yaml_document_delete(&ydoc);
			break;
		}
		ld.ydoc = &ydoc;
		n = convert(&ld, root, 0);
		yaml_document_delete(&ydoc);
		if (!n) {
			rc = KF_EINPUT;
			break;
		}
		KF_GROW(doc->roots, cap, doc->n_roots + 1);
		doc->roots[doc->n_roots++] = n;
	}
	yaml_parser_delete(&parser);
	doc->root = doc->n_roots ? doc->roots[0] : NULL;
	return rc;
}

int kf_yaml_load_file(struct kf_ydoc *doc, const char *path, struct kf_err *err)
{
	struct kf_buf buf = KF_BUF_INIT;
	int rc;

	memset(doc, 0, sizeof *doc);
	rc = kf_fs_read_file(path, &buf, err);
	if (rc == 0)
		rc = kf_yaml_load(doc, path, kf_buf_str(&buf), buf.len, err);
	kf_buf_release(&buf);
	return rc;
}

void kf_ydoc_release(struct kf_ydoc *doc)
{
	size_t i;

	for (i = 0; i < doc->n_roots; i++)
		node_free(doc->roots[i]);
	free(doc->roots);
	free(doc->file);
	free(doc->text);
	memset(doc, 0, sizeof *doc);
}

const char *kf_ydoc_line(const struct kf_ydoc *doc, int line, size_t *len)
{
	const char *p = doc->text, *end = doc->text + doc->text_len, *eol;
	int i;

	if (!p || line < 1)
		return NULL;
	for (i = 1; i < line; i++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	if (eol > p && eol[-1] == '\r')
		eol--;
	*len = (size_t)(eol - p);
	return p;
}

const struct kf_ynode *kf_ynode_get(const struct kf_ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != KF_Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct kf_ynode *k = map->items[2 * i];

		if (k->kind == KF_Y_SCALAR && strcmp(k->value, key) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

const struct kf_ynode *kf_ynode_key(const struct kf_ynode *map, size_t i)
{
	return map->items[2 * i];
}

const struct kf_ynode *kf_ynode_val(const struct kf_ynode *map, size_t i)
{
	return map->items[2 * i + 1];
}

bool kf_ynode_is_scalar(const struct kf_ynode *n)
{
	return n && n->kind == KF_Y_SCALAR;
}

/* Digits with optional sign, per the regex of the YAML 1.2 core schema. */
static bool is_int12(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'x') && s[2]) {
		int hex = s[1] == 'x';

		for (s += 2; *s; s++)
			if (hex ? !isxdigit((unsigned char)*s) : (*s < '0' || *s > '7'))
				return false;
		return true;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

static bool is_float12(const char *s)
{
	int digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF"))
		return true;
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return true;
	while (isdigit((unsigned char)*s))
		s++, digits++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			digits++;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

static enum kf_yscalar_type resolve_12(const char *s)
{
	/* fast path for the common case: a word longer than any keyword */
	if (isalpha((unsigned char)s[0]) && s[1] && s[2] && s[3] && s[4] && s[5])
		return KF_YS_STRING;
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return KF_YS_NULL;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
	    !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return KF_YS_BOOL;
	if (is_int12(s))
		return KF_YS_INT;
	if (is_float12(s))
		return KF_YS_FLOAT;
	return KF_YS_STRING;
}

enum kf_yscalar_type kf_ynode_scalar_type(const struct kf_ynode *n)
{
	if (n->kind != KF_Y_SCALAR || n->quoted)
		return KF_YS_STRING;
	return resolve_12(n->value);
}

const char *kf_ynode_kind_name(const struct kf_ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case KF_Y_SEQ: return "a list";
	case KF_Y_MAP: return "a map";
	default: break;
	}
	switch (kf_ynode_scalar_type(n)) {
	case KF_YS_NULL: return "null";
	case KF_YS_BOOL: return "a boolean";
	case KF_YS_INT: return "an integer";
	case KF_YS_FLOAT: return "a number";
	default: return "a string";
	}
}

static bool is_true(const char *s)
{
	return !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE");
}

cJSON *kf_ynode_to_json(const struct kf_ynode *n)
{
	cJSON *j;
	size_t i;

	switch (n->kind) {
	case KF_Y_SEQ:
		j = cJSON_CreateArray();
		for (i = 0; i < n->n; i++)
			cJSON_AddItemToArray(j, kf_ynode_to_json(n->items[i]));
		return j;
	case KF_Y_MAP:
		j = cJSON_CreateObject();
		for (i = 0; i < n->n; i++) {
			const struct kf_ynode *k = n->items[2 * i];

			cJSON_AddItemToObject(j, k->kind == KF_Y_SCALAR ? k->value : "",
					      kf_ynode_to_json(n->items[2 * i + 1]));
		}
		return j;
	default:
		break;
	}
	switch (kf_ynode_scalar_type(n)) {
	case KF_YS_NULL: return cJSON_CreateNull();
	case KF_YS_BOOL: return cJSON_CreateBool(is_true(n->value));
	case KF_YS_INT:
		return cJSON_CreateNumber((double)strtoll(n->value, NULL, 0));
	case KF_YS_FLOAT: {
		const char *s = n->value + (*n->value == '-' || *n->value == '+');
		double sign = *n->value == '-' ? -1 : 1;

		if (s[0] == '.' && (s[1] == 'i' || s[1] == 'I'))
			return cJSON_CreateNumber(sign * INFINITY);
		if (s[0] == '.' && (s[1] == 'n' || s[1] == 'N'))
			return cJSON_CreateNumber(NAN);
		return cJSON_CreateNumber(strtod(n->value, NULL));
	}
	default:
		return cJSON_CreateString(n->value);
	}
}

/* YAML 1.1 adds yes/no/on/off/y/n booleans, 0b/0 octal/_ ints, sexagesimal
 * numbers and dotted floats without digits before the point. */
enum kf_yscalar_type kf_yaml_resolve_11(const char *s)
{
	static const char *const bools[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
		"false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
	};
	enum kf_yscalar_type t = resolve_12(s);
	size_t i;
	const char *p;
	bool digit = false;

	if (t != KF_YS_STRING)
		return t;
	/* the words are at most 5 letters: skip them for longer strings */
	if (strnlen(s, 6) <= 5)
		for (i = 0; i < sizeof bools / sizeof bools[0]; i++)
			if (!strcmp(s, bools[i]))
				return KF_YS_BOOL;
	/* numbers with '_', ':' (sexagesimal), 0b binary: anything made only of
	 * digits, signs, '.', '_', ':', 'e', 'x', 'b' and hex digits that holds a
	 * digit is quoted to be safe. */
	p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return KF_YS_STRING;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (!strchr("._:+-eExXbBoOabcdefABCDEF", *p))
			return KF_YS_STRING;
	}
	if (!digit)
		return KF_YS_STRING;
	if (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.')
		return KF_YS_FLOAT;
	return KF_YS_STRING;
}

/* ---- emitter ----------------------------------------------------------- */

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
	kf_buf_add(data, buffer, size);
	return 1;
}

static bool needs_quotes(const char *s)
{
	const unsigned char *p;

	if (kf_yaml_resolve_11(s) != KF_YS_STRING)
		return true;
	/* leading/trailing space, indicators or "{{" would change meaning unquoted;
	 * libyaml checks most indicators itself, but quoting "{{...}}" keeps Argo
	 * templates readable and unambiguous */
	if (s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' '))
		return true;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p == '{' || *p == '}' || *p == '#' || *p == '\'' || *p == '"' || *p == '\t')
			return true;
	return false;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, yaml_scalar_style_t style, bool plain_ok)
{
	yaml_event_t ev;

	/* quoted_implicit always: a string libyaml cannot write plain is still
	 * a string, and would otherwise get a "!" tag */
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text),
				     plain_ok, 1, style);
	return yaml_emitter_emit(e, &ev);
}

static void format_number(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, ".nan");
	else if (isinf(v))
		snprintf(buf, size, v < 0 ? "-.inf" : ".inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.17g", v);
	/* shortest form that reads back the same */
	if (!isnan(v) && !isinf(v) && v != floor(v)) {
		int prec;

		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static int emit_node(yaml_emitter_t *e, const cJSON *j)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[64];

	if (cJSON_IsObject(j)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    j->child ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return 0;
		for (c = j->child; c; c = c->next) {
			const char *k = c->string ? c->string : "";

			if (!emit_scalar(e, k, needs_quotes(k) ? YAML_SINGLE_QUOTED_SCALAR_STYLE
							       : YAML_ANY_SCALAR_STYLE, !needs_quotes(k)))
				return 0;
			if (!emit_node(e, c))
				return 0;
		}
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev);
	}
	if (cJSON_IsArray(j)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     j->child ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return 0;
		for (c = j->child; c; c = c->next)
			if (!emit_node(e, c))
				return 0;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev);
	}
	if (cJSON_IsString(j)) {
		const char *s = j->valuestring;

		if (strchr(s, '\n'))
			return emit_scalar(e, s, YAML_LITERAL_SCALAR_STYLE, false);
		if (needs_quotes(s))
			return emit_scalar(e, s, YAML_SINGLE_QUOTED_SCALAR_STYLE, false);
		return emit_scalar(e, s, YAML_ANY_SCALAR_STYLE, true);
	}
	if (cJSON_IsNumber(j)) {
		format_number(j->valuedouble, num, sizeof num);
		return emit_scalar(e, num, YAML_PLAIN_SCALAR_STYLE, true);
	}
	if (cJSON_IsBool(j))
		return emit_scalar(e, cJSON_IsTrue(j) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE, true);
	return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE, true);
}

int kf_yaml_emit_events(const cJSON *doc, struct kf_buf *out, struct kf_err *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&e))
		return kf_err_set(err, KF_EIO, "cannot initialise the YAML emitter");
	yaml_emitter_set_output(&e, emit_write, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	ok = yaml_emitter_emit(&e, &ev);
	if (ok) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		ok = yaml_emitter_emit(&e, &ev);
	}
	if (ok)
		ok = emit_node(&e, doc);
	if (ok) {
		yaml_document_end_event_initialize(&ev, 1);
		ok = yaml_emitter_emit(&e, &ev);
	}
	if (ok) {
		yaml_stream_end_event_initialize(&ev);
		ok = yaml_emitter_emit(&e, &ev);
	}
	if (!ok) {
		kf_err_set(err, KF_EIO, "cannot write YAML: %s", e.problem ? e.problem : "emitter error");
		yaml_emitter_delete(&e);
		return KF_EIO;
	}
	yaml_emitter_delete(&e);
	return 0;
}

/* ---- direct writer ------------------------------------------------------ *
 * libyaml's event emitter costs ~20 instructions a byte and compile writes
 * megabytes, so kf_yaml_emit writes block YAML itself, byte for byte what
 * kf_yaml_emit_events writes (the same choices libyaml's
 * yaml_emitter_analyze_scalar / select_scalar_style make, with width -1,
 * indent 2). Anything outside what it reproduces exactly -- bytes other than
 * printable ASCII and '\n', keys libyaml would not write as simple keys,
 * literal blocks libyaml would double-quote or mark with "+" -- makes it
 * give up, and the document goes through libyaml instead. */

/* cJSON_IsObject and friends are calls into the shared library, per node */
#define JTYPE(j) ((j)->type & 0xff)
#define IS_OBJ(j) (JTYPE(j) == cJSON_Object)
#define IS_ARR(j) (JTYPE(j) == cJSON_Array)
#define IS_STR(j) (JTYPE(j) == cJSON_String && (j)->valuestring)

enum wstyle { W_PLAIN, W_SINGLE, W_LITERAL, W_SLOW };

/* Strings often repeat by address (keys are literals, a compiled workflow
 * references each component's spec from every template that uses it):
 * their style is remembered here rather than worked out again. The
 * document does not change while it is written, so an address stands for
 * its text. Keys and values are remembered apart (keys cannot be literal
 * blocks). */
#define STYLE_CACHE 256

struct style_memo {
	const char *s;
	size_t len;
	enum wstyle style;
};

struct ywriter {
	struct kf_buf *b;
	struct style_memo memo[2][STYLE_CACHE];
};

static inline void w_add(struct ywriter *w, const char *s, size_t n)
{
	struct kf_buf *b = w->b;

	if (b->len + n + 1 > b->cap)
		kf_buf_grow(b, n > b->len ? n : b->len);   /* doubling: linear in total */
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void w_spaces(struct ywriter *w, int n)
{
	static const char sp[] = "                                                                ";

	while (n > 0) {
		int k = n < 64 ? n : 64;

		w_add(w, sp, (size_t)k);
		n -= k;
	}
}

static bool is_plain_indicator(unsigned char c)
{
	return c && strchr("#,[]{}&*!|>'\"%@`", c);
}

/* kf_yaml_resolve_11(s) != KF_YS_STRING, quickly: only what starts like a
 * number and the null/bool words resolve to anything but a string. */
static bool may_resolve(const char *s, size_t n)
{
	static const char *const words[] = {
		"~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON",
		"off", "Off", "OFF",
	};
	size_t i;

	if (strchr("0123456789+-.", s[0]))
		return kf_yaml_resolve_11(s) != KF_YS_STRING;
	if (n > 5)
		return false;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (words[i][0] == s[0] && !strcmp(words[i], s))
			return true;
	return false;
}

/* Byte classes: anything but printable ASCII and '\n' sends the document
 * to libyaml; C_QUOTE bytes make needs_quotes true. */
enum { C_BAD = 1, C_NL = 2, C_QUOTE = 4 };

static inline unsigned byte_class(unsigned char c)
{
	if (c - 0x20u > 0x5eu)
		return c == '\n' ? C_NL : C_BAD;
	return c == '{' || c == '}' || c == '#' || c == '\'' || c == '"' ? C_QUOTE : 0;
}

/* The style libyaml ends up with for a string (kf_yaml_emit_events asks for
 * literal when it holds a newline, single quotes when needs_quotes, else
 * plain where the analysis allows it). */
static enum wstyle string_style(const char *s, size_t *lenp, bool key)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;
	unsigned cls = 0;
	bool plain = true;

	for (n = 0; p[n]; n++)
		cls |= byte_class(p[n]);
	*lenp = n;
	if (cls & C_BAD)
		return W_SLOW;
	if (cls & C_NL) {
		if (key)
			return W_SLOW;
		/* trailing space or a space before a break: libyaml double-quotes;
		 * two trailing breaks (or only one): "|+", open-ended */
		if (p[n - 1] == ' ' || strstr(s, " \n"))
			return W_SLOW;
		if (p[n - 1] == '\n' && (n == 1 || p[n - 2] == '\n'))
			return W_SLOW;
		return W_LITERAL;
	}
	if (n == 0)
		return W_SINGLE;
	if (key && n > 128)
		return W_SLOW;
	if ((cls & C_QUOTE) || p[0] == ' ' || p[n - 1] == ' ')
		return W_SINGLE;
	if (may_resolve(s, n))
		return W_SINGLE;
	if (n >= 3 && ((p[0] == '-' && p[1] == '-' && p[2] == '-') ||
		       (p[0] == '.' && p[1] == '.' && p[2] == '.')))
		return W_SINGLE;
	for (i = 0; i < n && plain; i++) {
		bool next_ws = i + 1 == n || p[i + 1] == ' ';

		if (i == 0) {
			if (is_plain_indicator(p[0]) ||
			    ((p[0] == '?' || p[0] == ':' || p[0] == '-') && next_ws))
				plain = false;
		} else if (p[i] == ':' && next_ws) {
			plain = false;
		} else if (p[i] == '#' && p[i - 1] == ' ') {
			plain = false;
		}
	}
	return plain ? W_PLAIN : W_SINGLE;
}

static enum wstyle memo_style(struct ywriter *w, const char *s, size_t *lenp, bool key)
{
	struct style_memo *m = &w->memo[key][((uintptr_t)s >> 3) % STYLE_CACHE];

	if (m->s != s) {
		m->s = s;
		m->style = string_style(s, &m->len, key);
	}
	*lenp = m->len;
	return m->style;
}

static void w_single(struct ywriter *w, const char *s, size_t n)
{
	const char *q;

	w_add(w, "'", 1);
	while ((q = memchr(s, '\'', n))) {
		w_add(w, s, (size_t)(q - s) + 1);
		w_add(w, "'", 1);
		n -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	w_add(w, s, n);
	w_add(w, "'", 1);
}

/* "|" with libyaml's hints, then the lines at indent; ends with a newline. */
static void w_literal(struct ywriter *w, const char *s, size_t n, int indent)
{
	const char *end = s + n;

	w_add(w, "|", 1);
	if (s[0] == ' ' || s[0] == '\n')
		w_add(w, "2", 1);
	if (s[n - 1] != '\n')
		w_add(w, "-", 1);
	w_add(w, "\n", 1);
	while (s < end) {
		const char *e = memchr(s, '\n', (size_t)(end - s));

		if (!e)
			e = end;
		if (e > s) {
			w_spaces(w, indent);
			w_add(w, s, (size_t)(e - s));
		}
		w_add(w, "\n", 1);
		s = e + 1;
	}
}

/* A scalar after "key:" or "- " (sep is the " " that goes before it there,
 * "" where the line already ends in a space); then the newline. */
static bool w_scalar(struct ywriter *w, const cJSON *j, int indent)
{
	char num[64];
	const char *t;
	size_t n;

	if (IS_STR(j)) {
		t = j->valuestring;
		switch (memo_style(w, t, &n, false)) {
		case W_PLAIN:
			w_add(w, t, n);
			break;
		case W_SINGLE:
			w_single(w, t, n);
			break;
		case W_LITERAL:
			w_literal(w, t, n, indent);
			return true;
		default:
			return false;
		}
	} else {
		if (cJSON_IsNumber(j)) {
			format_number(j->valuedouble, num, sizeof num);
			t = num;
		} else if (cJSON_IsBool(j)) {
			t = cJSON_IsTrue(j) ? "true" : "false";
		} else {
			t = "null";
		}
		w_add(w, t, strlen(t));
	}
	w_add(w, "\n", 1);
	return true;
}

static bool w_node(struct ywriter *w, const cJSON *j, int indent, bool inline_first);

/* The pairs of a non-empty map at indent; the first goes on the current
 * line when inline_first (after "- "). */
static bool w_map(struct ywriter *w, const cJSON *j, int indent, bool inline_first)
{
	const cJSON *c;
	size_t n;

	for (c = j->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		bool coll = (IS_OBJ(c) || IS_ARR(c)) && c->child;

		if (c != j->child || !inline_first)
			w_spaces(w, indent);
		switch (memo_style(w, k, &n, true)) {
		case W_PLAIN:
			w_add(w, k, n);
			break;
		case W_SINGLE:
			w_single(w, k, n);
			break;
		default:
			return false;
		}
		if (coll) {
			w_add(w, ":\n", 2);
			/* sequences in a map are not indented (libyaml's "indentless") */
			if (!w_node(w, c, IS_ARR(c) ? indent : indent + 2, false))
				return false;
		} else {
			w_add(w, ": ", 2);
			if (!w_node(w, c, indent + 2, true))
				return false;
		}
	}
	return true;
}

static bool w_seq(struct ywriter *w, const cJSON *j, int indent, bool inline_first)
{
	const cJSON *c;

	for (c = j->child; c; c = c->next) {
		if (c != j->child || !inline_first)
			w_spaces(w, indent);
		w_add(w, "- ", 2);
		if (!w_node(w, c, indent + 2, true))
			return false;
	}
	return true;
}

/* A node at indent: a scalar or empty collection continues the current
 * line; a collection starts on it when inline_first. */
static bool w_node(struct ywriter *w, const cJSON *j, int indent, bool inline_first)
{
	if (IS_OBJ(j)) {
		if (!j->child) {
			w_add(w, "{}\n", 3);
			return true;
		}
		return w_map(w, j, indent, inline_first);
	}
	if (IS_ARR(j)) {
		if (!j->child) {
			w_add(w, "[]\n", 3);
			return true;
		}
		return w_seq(w, j, indent, inline_first);
	}
	return w_scalar(w, j, indent);
}

int kf_yaml_emit(const cJSON *doc, struct kf_buf *out, struct kf_err *err)
{
	struct ywriter w;
	size_t mark = out->len;

	memset(&w, 0, sizeof w);
	w.b = out;

	/* a root scalar or empty root gets document markers from libyaml */
	if (doc && (IS_OBJ(doc) || IS_ARR(doc)) && doc->child &&
	    w_node(&w, doc, 0, false))
		return 0;
	out->len = mark;
	if (out->data)
		out->data[mark] = '\0';
	return kf_yaml_emit_events(doc, out, err);
}
