/* kf_expr: parse, evaluate and render `when:` conditions. */
#include "spec/kf_expr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/kf_buf.h"
#include "util/kf_mem.h"

#define KF_EXPR_MAX_DEPTH 64

struct parser {
	const char *text;
	const char *p;
	struct kf_pos pos;
	struct kf_err *err;
	int depth;
};

static int fail(struct parser *ps, const char *at, const char *fmt, const char *arg)
{
	int col = ps->pos.col;

	if (!memchr(ps->text, '\n', (size_t)(at - ps->text)))
		col += (int)(at - ps->text);
	return kf_err_at(ps->err, KF_EINPUT, ps->pos.file, ps->pos.line, col, fmt, arg);
}

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool starts(struct parser *ps, const char *tok)
{
	return !strncmp(ps->p, tok, strlen(tok));
}

static struct kf_expr *node(enum kf_expr_op op, int col)
{
	struct kf_expr *e = kf_xcalloc(1, sizeof *e);

	e->op = op;
	e->col = col;
	return e;
}

static int col_of(struct parser *ps, const char *at)
{
	return (int)(at - ps->text) + 1;
}

static int parse_or(struct parser *ps, struct kf_expr **out);

static bool is_word_end(char c)
{
	return !c || isspace((unsigned char)c) || strchr("=!<>&|()\"'", c);
}

/* One operand: a quoted string or a bare word; either may hold {{...}}. */
static int parse_operand(struct parser *ps, struct kf_expr **out)
{
	const char *start = ps->p;
	struct kf_buf text = KF_BUF_INIT;
	struct kf_pos at = ps->pos;
	struct kf_expr *e;
	bool quoted = false;
	int rc;

	if (*ps->p == '"' || *ps->p == '\'') {
		char q = *ps->p++;

		quoted = true;
		while (*ps->p && *ps->p != q) {
			if (*ps->p == '\\' && ps->p[1])
				ps->p++;
			kf_buf_addc(&text, *ps->p++);
		}
		if (!*ps->p) {
			kf_buf_release(&text);
			return fail(ps, start, "unterminated string in condition%s", "");
		}
		ps->p++;
	} else {
		while (!is_word_end(*ps->p)) {
			if (ps->p[0] == '{' && ps->p[1] == '{') {
				const char *close = strstr(ps->p, "}}");

				if (!close) {
					kf_buf_release(&text);
					return fail(ps, ps->p, "unterminated template \"%s\"", ps->p);
				}
				kf_buf_add(&text, ps->p, (size_t)(close + 2 - ps->p));
				ps->p = close + 2;
			} else {
				kf_buf_addc(&text, *ps->p++);
			}
		}
		if (ps->p == start) {
			kf_buf_release(&text);
			if (!*ps->p)
				return fail(ps, start, "condition ends where a value is expected%s", "");
			return fail(ps, start, "expected a value in condition, found \"%.1s\"", ps->p);
		}
	}
	if (!memchr(ps->text, '\n', (size_t)(start - ps->text)))
		at.col += (int)(start - ps->text) + (quoted ? 1 : 0);
	e = node(KF_EXPR_OPERAND, col_of(ps, start));
	e->quoted = quoted;
	rc = kf_tmpl_parse(&e->operand, kf_buf_str(&text), at, ps->err);
	kf_buf_release(&text);
	if (rc) {
		kf_expr_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static bool compare_op(struct parser *ps, enum kf_expr_op *op, size_t *len)
{
	static const struct { const char *tok; enum kf_expr_op op; } ops[] = {
		{ "==", KF_EXPR_EQ }, { "!=", KF_EXPR_NE }, { "<=", KF_EXPR_LE },
		{ ">=", KF_EXPR_GE }, { "<", KF_EXPR_LT }, { ">", KF_EXPR_GT },
	};
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (starts(ps, ops[i].tok)) {
			*op = ops[i].op;
			*len = strlen(ops[i].tok);
			return true;
		}
	return false;
}

static int parse_unary(struct parser *ps, struct kf_expr **out)
{
	struct kf_expr *lhs = NULL, *rhs = NULL, *e;
	enum kf_expr_op op;
	size_t len;
	int rc;

	if (++ps->depth > KF_EXPR_MAX_DEPTH)
		return fail(ps, ps->p, "condition nested too deeply%s", "");
	skip_space(ps);
	if (*ps->p == '!' && ps->p[1] != '=') {
		const char *at = ps->p++;

		rc = parse_unary(ps, &lhs);
		if (rc)
			return rc;
		e = node(KF_EXPR_NOT, col_of(ps, at));
		e->lhs = lhs;
		*out = e;
		ps->depth--;
		return 0;
	}
	if (*ps->p == '(') {
		const char *at = ps->p++;

		rc = parse_or(ps, &lhs);
		if (rc)
			return rc;
		skip_space(ps);
		if (*ps->p != ')') {
			kf_expr_free(lhs);
			return fail(ps, at, "unbalanced \"(\" in condition%s", "");
		}
		ps->p++;
		*out = lhs;
		ps->depth--;
		return 0;
	}
	rc = parse_operand(ps, &lhs);
	if (rc)
		return rc;
	skip_space(ps);
	if (compare_op(ps, &op, &len)) {
		const char *at = ps->p;

		ps->p += len;
		skip_space(ps);
		rc = parse_operand(ps, &rhs);
		if (rc) {
			kf_expr_free(lhs);
			return rc;
		}
		e = node(op, col_of(ps, at));
		e->lhs = lhs;
		e->rhs = rhs;
		lhs = e;
	}
	*out = lhs;
	ps->depth--;
	return 0;
}

static int parse_binary(struct parser *ps, struct kf_expr **out, const char *tok, enum kf_expr_op op,
			int (*sub)(struct parser *, struct kf_expr **))
{
	struct kf_expr *lhs, *rhs, *e;
	int rc;

	rc = sub(ps, &lhs);
	if (rc)
		return rc;
	for (;;) {
		const char *at;

		skip_space(ps);
		if (!starts(ps, tok))
			break;
		at = ps->p;
		ps->p += 2;
		rc = sub(ps, &rhs);
		if (rc) {
			kf_expr_free(lhs);
			return rc;
		}
		e = node(op, col_of(ps, at));
		e->lhs = lhs;
		e->rhs = rhs;
		lhs = e;
	}
	*out = lhs;
	return 0;
}

static int parse_and(struct parser *ps, struct kf_expr **out)
{
	return parse_binary(ps, out, "&&", KF_EXPR_AND, parse_unary);
}

static int parse_or(struct parser *ps, struct kf_expr **out)
{
	return parse_binary(ps, out, "||", KF_EXPR_OR, parse_and);
}

int kf_expr_parse(struct kf_expr **out, const char *text, struct kf_pos pos, struct kf_err *err)
{
	struct parser ps = { .text = text, .p = text, .pos = pos, .err = err };
	struct kf_expr *e = NULL;
	int rc;

	*out = NULL;
	skip_space(&ps);
	if (!*ps.p)
		return kf_err_at(err, KF_EINPUT, pos.file, pos.line, pos.col, "empty condition");
	rc = parse_or(&ps, &e);
	if (rc)
		return rc;
	skip_space(&ps);
	if (*ps.p) {
		kf_expr_free(e);
		return fail(&ps, ps.p, "unexpected \"%s\" in condition", ps.p);
	}
	*out = e;
	return 0;
}

void kf_expr_free(struct kf_expr *e)
{
	if (!e)
		return;
	kf_expr_free(e->lhs);
	kf_expr_free(e->rhs);
	kf_tmpl_release(&e->operand);
	free(e);
}

int kf_expr_walk(struct kf_expr *e, int (*fn)(void *ctx, struct kf_tmpl *t), void *ctx)
{
	int rc;

	if (!e)
		return 0;
	if (e->op == KF_EXPR_OPERAND)
		return fn(ctx, &e->operand);
	rc = kf_expr_walk(e->lhs, fn, ctx);
	return rc ? rc : kf_expr_walk(e->rhs, fn, ctx);
}

/* ---- evaluation ------------------------------------------------------ */

typedef int (*value_fn)(const struct kf_expr *operand, void *ctx, char **out, struct kf_err *err);

static int truth(const char *v, bool *out, struct kf_err *err)
{
	if (!strcasecmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "false")) {
		*out = false;
		return 0;
	}
	return kf_err_set(err, KF_EINPUT, "condition value \"%s\" is not true or false", v);
}

static int number(const char *v, double *out, struct kf_err *err)
{
	if (!kf_str_to_double(v, out))
		return kf_err_set(err, KF_EINPUT, "condition compares \"%s\", which is not a number", v);
	return 0;
}

static int compare(enum kf_expr_op op, const char *a, const char *b, bool *out, struct kf_err *err)
{
	double x, y;
	int rc;

	if (op == KF_EXPR_EQ || op == KF_EXPR_NE) {
		*out = (strcmp(a, b) == 0) == (op == KF_EXPR_EQ);
		return 0;
	}
	rc = number(a, &x, err);
	if (!rc)
		rc = number(b, &y, err);
	if (rc)
		return rc;
	switch (op) {
	case KF_EXPR_LT: *out = x < y; break;
	case KF_EXPR_LE: *out = x <= y; break;
	case KF_EXPR_GT: *out = x > y; break;
	default: *out = x >= y; break;
	}
	return 0;
}

static int eval(const struct kf_expr *e, value_fn val, void *ctx, bool *out, struct kf_err *err)
{
	char *a = NULL, *b = NULL;
	bool l;
	int rc;

	switch (e->op) {
	case KF_EXPR_OPERAND:
		rc = val(e, ctx, &a, err);
		if (!rc)
			rc = truth(a, out, err);
		free(a);
		return rc;
	case KF_EXPR_NOT:
		rc = eval(e->lhs, val, ctx, &l, err);
		*out = !l;
		return rc;
	case KF_EXPR_AND:
	case KF_EXPR_OR:
		rc = eval(e->lhs, val, ctx, &l, err);
		if (rc)
			return rc;
		if (l == (e->op == KF_EXPR_OR)) {
			*out = l;
			return 0;
		}
		return eval(e->rhs, val, ctx, out, err);
	default:
		rc = val(e->lhs, ctx, &a, err);
		if (!rc)
			rc = val(e->rhs, ctx, &b, err);
		if (!rc)
			rc = compare(e->op, a, b, out, err);
		free(a);
		free(b);
		return rc;
	}
}

static int tmpl_value(const struct kf_expr *operand, void *ctx, char **out, struct kf_err *err)
{
	return kf_tmpl_expand(&operand->operand, ctx, out, err);
}

int kf_expr_eval(const struct kf_expr *e, const struct kf_tmpl_values *vals, bool *result,
		 struct kf_err *err)
{
	return eval(e, tmpl_value, (void *)vals, result, err);
}

static int raw_value(const struct kf_expr *operand, void *ctx, char **out, struct kf_err *err)
{
	(void)ctx;
	(void)err;
	*out = kf_xstrdup(operand->operand.raw);
	return 0;
}

int kf_expr_eval_text(const char *text, bool *result, struct kf_err *err)
{
	struct kf_pos pos = { "condition", 1, 1 };
	struct kf_expr *e;
	int rc;

	/* templates are not expected here; parse them as text by accepting any */
	rc = kf_expr_parse(&e, text, pos, err);
	if (rc)
		return rc;
	rc = eval(e, raw_value, NULL, result, err);
	kf_expr_free(e);
	return rc;
}

/* ---- rendering -------------------------------------------------------- */

static const char *op_text(enum kf_expr_op op)
{
	switch (op) {
	case KF_EXPR_EQ: return "==";
	case KF_EXPR_NE: return "!=";
	case KF_EXPR_LT: return "<";
	case KF_EXPR_LE: return "<=";
	case KF_EXPR_GT: return ">";
	case KF_EXPR_GE: return ">=";
	case KF_EXPR_AND: return "&&";
	case KF_EXPR_OR: return "||";
	default: return "";
	}
}

static void render(const struct kf_expr *e,
		   void (*fn)(void *ctx, const struct kf_tmpl *t, struct kf_buf *out), void *ctx,
		   struct kf_buf *out, bool nested)
{
	bool quote = e->op == KF_EXPR_EQ || e->op == KF_EXPR_NE;

	switch (e->op) {
	case KF_EXPR_OPERAND:
		fn(ctx, &e->operand, out);
		return;
	case KF_EXPR_NOT:
		kf_buf_addc(out, '!');
		render(e->lhs, fn, ctx, out, e->lhs->op != KF_EXPR_OPERAND);
		return;
	case KF_EXPR_AND:
	case KF_EXPR_OR:
		if (nested)
			kf_buf_addc(out, '(');
		render(e->lhs, fn, ctx, out, e->lhs->op == KF_EXPR_AND || e->lhs->op == KF_EXPR_OR);
		kf_buf_printf(out, " %s ", op_text(e->op));
		render(e->rhs, fn, ctx, out, e->rhs->op == KF_EXPR_AND || e->rhs->op == KF_EXPR_OR);
		if (nested)
			kf_buf_addc(out, ')');
		return;
	default:
		if (nested)
			kf_buf_addc(out, '(');
		if (quote)
			kf_buf_addc(out, '"');
		fn(ctx, &e->lhs->operand, out);
		kf_buf_printf(out, "%s %s %s", quote ? "\"" : "", op_text(e->op), quote ? "\"" : "");
		fn(ctx, &e->rhs->operand, out);
		if (quote)
			kf_buf_addc(out, '"');
		if (nested)
			kf_buf_addc(out, ')');
		return;
	}
}

void kf_expr_render(const struct kf_expr *e,
		    void (*fn)(void *ctx, const struct kf_tmpl *t, struct kf_buf *out), void *ctx,
		    struct kf_buf *out)
{
	render(e, fn, ctx, out, false);
}
