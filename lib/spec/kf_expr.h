/* kf_expr: the `when:` condition of a step.
 *
 *   expr    := or
 *   or      := and ("||" and)*
 *   and     := unary ("&&" unary)*
 *   unary   := "!" unary | "(" expr ")" | operand [op operand]
 *   op      := "==" | "!=" | "<" | "<=" | ">" | ">="
 *   operand := a bare word (may hold {{...}} templates), or a "..." / '...'
 *              string (may hold templates too)
 *
 * "==" and "!=" compare strings; the others compare numbers (an operand that
 * is not a number is an error at evaluation). A bare operand with no
 * comparison is true when it reads "true" (any case), false for "false".
 * Templates are kept as struct kf_tmpl operands: the engine evaluates after
 * substituting them (kf_expr_eval), the Argo emitter renders them
 * (kf_expr_render).
 *
 * Ownership: a struct kf_expr owns its whole tree; kf_expr_free frees it. */
#ifndef KF_EXPR_H
#define KF_EXPR_H

#include <stdbool.h>

#include "spec/kf_pipeline.h"

struct kf_buf;

enum kf_expr_op {
	KF_EXPR_OPERAND, /* a single operand (truthiness) */
	KF_EXPR_EQ, KF_EXPR_NE, KF_EXPR_LT, KF_EXPR_LE, KF_EXPR_GT, KF_EXPR_GE,
	KF_EXPR_AND, KF_EXPR_OR, KF_EXPR_NOT
};

struct kf_expr {
	enum kf_expr_op op;
	struct kf_expr *lhs, *rhs;   /* AND/OR/compare: both; NOT: lhs */
	struct kf_tmpl operand;      /* KF_EXPR_OPERAND */
	bool quoted;                 /* the operand was written in quotes */
	int col;                     /* 1-based column in the expression text */
};

/* Parse text; pos is where text starts in its file (errors are placed
 * there, at the offending column). */
int kf_expr_parse(struct kf_expr **out, const char *text, struct kf_pos pos, struct kf_err *err);
void kf_expr_free(struct kf_expr *e);

/* Call fn on every template operand (to resolve or check its references);
 * stops at and returns the first non-zero result. */
int kf_expr_walk(struct kf_expr *e, int (*fn)(void *ctx, struct kf_tmpl *t), void *ctx);

/* Evaluate with the operands' templates expanded through vals. */
int kf_expr_eval(const struct kf_expr *e, const struct kf_tmpl_values *vals, bool *result,
		 struct kf_err *err);

/* Evaluate an expression whose text has already been substituted (no
 * templates left); for callers that expand the raw text themselves. */
int kf_expr_eval_text(const char *text, bool *result, struct kf_err *err);

/* Render for another evaluator (Argo's govaluate): operands go through fn,
 * which appends the operand's text; string compares are quoted as "A" == "B";
 * compound parts are parenthesised. */
void kf_expr_render(const struct kf_expr *e,
		    void (*fn)(void *ctx, const struct kf_tmpl *t, struct kf_buf *out), void *ctx,
		    struct kf_buf *out);

#endif
