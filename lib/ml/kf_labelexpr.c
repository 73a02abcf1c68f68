/* kf_labelexpr: recursive-descent parser and tree evaluator for --label-expr. */
#include "config.h"

#include "ml/kf_labelexpr.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { N_NUM, N_STR, N_COL, N_NEG, N_NOT, N_BIN };

enum op { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_AND, OP_OR };

struct kf_labelexpr {
	enum node_kind kind;
	enum op op;
	double num;
	char *str;
	size_t col;
	struct kf_labelexpr *l, *r;
};

struct parser {
	const char *text, *p;
	const char *const *names;
	size_t n_names;
	struct kf_err *err;
};

static struct kf_labelexpr *node(enum node_kind kind)
{
	struct kf_labelexpr *e = kf_xcalloc(1, sizeof *e);

	e->kind = kind;
	return e;
}

void kf_labelexpr_free(struct kf_labelexpr *e)
{
	if (!e)
		return;
	kf_labelexpr_free(e->l);
	kf_labelexpr_free(e->r);
	free(e->str);
	free(e);
}

static void skip_ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static int fail(struct parser *ps, const char *fmt, const char *what)
{
	kf_err_set(ps->err, KF_EUSAGE, "--label-expr: column %d: ", (int)(ps->p - ps->text) + 1);
	snprintf(ps->err->msg + strlen(ps->err->msg), sizeof ps->err->msg - strlen(ps->err->msg), fmt, what);
	return KF_EUSAGE;
}

static int parse_or(struct parser *ps, struct kf_labelexpr **out);

static bool is_ident(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

static int parse_primary(struct parser *ps, struct kf_labelexpr **out)
{
	const char *start;
	struct kf_labelexpr *e;

	skip_ws(ps);
	if (*ps->p == '(') {
		ps->p++;
		if (parse_or(ps, out) < 0)
			return KF_EUSAGE;
		skip_ws(ps);
		if (*ps->p != ')') {
			kf_labelexpr_free(*out);
			*out = NULL;
			return fail(ps, "expected \"%s\"", ")");
		}
		ps->p++;
		return 0;
	}
	if (*ps->p == '"' || *ps->p == '\'') {
		char q = *ps->p++;

		start = ps->p;
		while (*ps->p && *ps->p != q)
			ps->p++;
		if (!*ps->p)
			return fail(ps, "unterminated string%s", "");
		e = node(N_STR);
		e->kind = N_STR;
		e->str = kf_xstrndup(start, (size_t)(ps->p - start));
		ps->p++;
		*out = e;
		return 0;
	}
	if (isdigit((unsigned char)*ps->p) || (*ps->p == '.' && isdigit((unsigned char)ps->p[1]))) {
		char *end;

		e = node(N_NUM);
		e->kind = N_NUM;
		e->num = strtod(ps->p, &end);
		ps->p = end;
		*out = e;
		return 0;
	}
	if (is_ident((unsigned char)*ps->p)) {
		char *name;
		size_t i;

		start = ps->p;
		while (is_ident((unsigned char)*ps->p))
			ps->p++;
		name = kf_xstrndup(start, (size_t)(ps->p - start));
		for (i = 0; i < ps->n_names; i++)
			if (!strcmp(ps->names[i], name))
				break;
		if (i == ps->n_names) {
			const char *hint = kf_str_suggest(name, ps->names, ps->n_names);

			ps->p = start;
			kf_err_set(ps->err, KF_EUSAGE, "--label-expr: unknown column \"%s\"%s%s%s", name,
				   hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			free(name);
			return KF_EUSAGE;
		}
		free(name);
		e = node(N_COL);
		e->kind = N_COL;
		e->col = i;
		*out = e;
		return 0;
	}
	return fail(ps, *ps->p ? "unexpected \"%.1s\"" : "unexpected end of expression%s", ps->p);
}

static int parse_unary(struct parser *ps, struct kf_labelexpr **out)
{
	skip_ws(ps);
	if (*ps->p == '-' || (*ps->p == '!' && ps->p[1] != '=')) {
		struct kf_labelexpr *e = node(N_NEG);

		e->kind = *ps->p == '-' ? N_NEG : N_NOT;
		ps->p++;
		if (parse_unary(ps, &e->l) < 0) {
			kf_labelexpr_free(e);
			return KF_EUSAGE;
		}
		*out = e;
		return 0;
	}
	return parse_primary(ps, out);
}

/* The binary operators of one precedence level, longest spelling first. */
struct oplevel {
	const char *tok[6];
	enum op op[6];
	int (*next)(struct parser *, struct kf_labelexpr **);
	bool chain;  /* comparisons do not chain: a < b < c is an error */
};

static int parse_level(struct parser *ps, const struct oplevel *lv, struct kf_labelexpr **out)
{
	struct kf_labelexpr *l = NULL;

	if (lv->next(ps, &l) < 0)
		return KF_EUSAGE;
	for (;;) {
		struct kf_labelexpr *e;
		size_t i, len = 0;

		skip_ws(ps);
		for (i = 0; i < 6 && lv->tok[i]; i++) {
			len = strlen(lv->tok[i]);
			if (!strncmp(ps->p, lv->tok[i], len))
				break;
		}
		if (i == 6 || !lv->tok[i])
			break;
		ps->p += len;
		e = node(N_BIN);
		e->kind = N_BIN;
		e->op = lv->op[i];
		e->l = l;
		l = e;
		if (lv->next(ps, &e->r) < 0) {
			kf_labelexpr_free(l);
			return KF_EUSAGE;
		}
		if (!lv->chain)
			break;
	}
	*out = l;
	return 0;
}

static int parse_mul(struct parser *ps, struct kf_labelexpr **out)
{
	static const struct oplevel lv = { { "*", "/" }, { OP_MUL, OP_DIV }, parse_unary, true };

	return parse_level(ps, &lv, out);
}

static int parse_add(struct parser *ps, struct kf_labelexpr **out)
{
	static const struct oplevel lv = { { "+", "-" }, { OP_ADD, OP_SUB }, parse_mul, true };

	return parse_level(ps, &lv, out);
}

static int parse_cmp(struct parser *ps, struct kf_labelexpr **out)
{
	static const struct oplevel lv = {
		{ "==", "!=", "<=", ">=", "<", ">" },
		{ OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT }, parse_add, false
	};

	return parse_level(ps, &lv, out);
}

static int parse_and(struct parser *ps, struct kf_labelexpr **out)
{
	static const struct oplevel lv = { { "&&" }, { OP_AND }, parse_cmp, true };

	return parse_level(ps, &lv, out);
}

static int parse_or(struct parser *ps, struct kf_labelexpr **out)
{
	static const struct oplevel lv = { { "||" }, { OP_OR }, parse_and, true };

	return parse_level(ps, &lv, out);
}

int kf_labelexpr_parse(struct kf_labelexpr **out, const char *text, const char *const *names, size_t n,
		  struct kf_err *err)
{
	struct parser ps = { text, text, names, n, err };
	struct kf_labelexpr *e = NULL;

	*out = NULL;
	if (parse_or(&ps, &e) < 0)
		return KF_EUSAGE;
	skip_ws(&ps);
	if (*ps.p) {
		kf_labelexpr_free(e);
		return fail(&ps, "unexpected \"%s\"", ps.p);
	}
	*out = e;
	return 0;
}

static double num_of(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return NAN;
	v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end ? NAN : v;
}

/* The text a node stands for in a string comparison, or NULL. */
static const char *text_of(const struct kf_labelexpr *e, const char *const *values)
{
	if (e->kind == N_STR)
		return e->str;
	if (e->kind == N_COL)
		return values[e->col] ? values[e->col] : "";
	return NULL;
}

double kf_labelexpr_eval(const struct kf_labelexpr *e, const char *const *values)
{
	double a, b;

	switch (e->kind) {
	case N_NUM: return e->num;
	case N_STR: return num_of(e->str);
	case N_COL: return num_of(values[e->col]);
	case N_NEG: return -kf_labelexpr_eval(e->l, values);
	case N_NOT: a = kf_labelexpr_eval(e->l, values); return !(a != 0 && !isnan(a));
	case N_BIN: break;
	}
	if ((e->op == OP_EQ || e->op == OP_NE) && (e->l->kind == N_STR || e->r->kind == N_STR)) {
		const char *sa = text_of(e->l, values), *sb = text_of(e->r, values);
		int eq = sa && sb && !strcmp(sa, sb);

		return e->op == OP_EQ ? eq : !eq;
	}
	a = kf_labelexpr_eval(e->l, values);
	if (e->op == OP_AND && !(a != 0 && !isnan(a)))
		return 0;
	if (e->op == OP_OR && a != 0 && !isnan(a))
		return 1;
	b = kf_labelexpr_eval(e->r, values);
	switch (e->op) {
	case OP_ADD: return a + b;
	case OP_SUB: return a - b;
	case OP_MUL: return a * b;
	case OP_DIV: return a / b;
	case OP_EQ: return a == b;
	case OP_NE: return !isnan(a) && !isnan(b) && a != b;
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	case OP_AND:
	case OP_OR: return b != 0 && !isnan(b);
	}
	return NAN;
}

static void collect(const struct kf_labelexpr *e, size_t **cols, size_t *n, size_t *cap)
{
	size_t i;

	if (!e)
		return;
	if (e->kind == N_COL) {
		for (i = 0; i < *n; i++)
			if ((*cols)[i] == e->col)
				return;
		*cols = kf_xgrow(*cols, sizeof **cols, cap, *n + 1);
		(*cols)[(*n)++] = e->col;
	}
	collect(e->l, cols, n, cap);
	collect(e->r, cols, n, cap);
}

void kf_labelexpr_columns(const struct kf_labelexpr *e, size_t **cols, size_t *n)
{
	size_t cap = 0;

	*cols = NULL;
	*n = 0;
	collect(e, cols, n, &cap);
}
