/* kf_tmpl: "{{...}}" templates in step arguments, conditions and loops. */
#include "spec/kf_pipeline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/kf_buf.h"
#include "util/kf_mem.h"

static void add_part(struct kf_tmpl *t, size_t *cap, struct kf_ref ref)
{
	KF_GROW(t->parts, *cap, t->n + 1);
	t->parts[t->n++] = ref;
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ' ' || c == '.';
}

static bool valid_name(const char *s, size_t len, bool dots)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++)
		if (!is_name_char(s[i]) || (!dots && s[i] == '.'))
			return false;
	return true;
}

/* Parse one reference body (between the braces, trimmed). */
static bool parse_ref(const char *s, size_t len, struct kf_ref *ref)
{
	memset(ref, 0, sizeof *ref);
	if (len == 4 && !memcmp(s, "item", 4)) {
		ref->kind = KF_REF_ITEM;
		return true;
	}
	if (len > 5 && !memcmp(s, "item.", 5) && valid_name(s + 5, len - 5, false)) {
		ref->kind = KF_REF_ITEM;
		ref->name = kf_xstrndup(s + 5, len - 5);
		return true;
	}
	if (len == 6 && !memcmp(s, "run.id", 6)) {
		ref->kind = KF_REF_RUN_ID;
		return true;
	}
	if (len == 8 && !memcmp(s, "run.name", 8)) {
		ref->kind = KF_REF_RUN_NAME;
		return true;
	}
	if (len == 10 && !memcmp(s, "run.status", 10)) {
		ref->kind = KF_REF_RUN_STATUS;
		return true;
	}
	if (len > 7 && !memcmp(s, "params.", 7) && valid_name(s + 7, len - 7, false)) {
		ref->kind = KF_REF_PARAM;
		ref->name = kf_xstrndup(s + 7, len - 7);
		return true;
	}
	if (len > 6 && !memcmp(s, "steps.", 6)) {
		const char *step = s + 6, *end = s + len;
		const char *dot = memchr(step, '.', (size_t)(end - step));

		if (!dot || (size_t)(end - dot) <= 9 || memcmp(dot, ".outputs.", 9))
			return false;
		if (!valid_name(step, (size_t)(dot - step), false) ||
		    !valid_name(dot + 9, (size_t)(end - dot - 9), false))
			return false;
		ref->kind = KF_REF_OUTPUT;
		ref->step = kf_xstrndup(step, (size_t)(dot - step));
		ref->name = kf_xstrndup(dot + 9, (size_t)(end - dot - 9));
		return true;
	}
	return false;
}

static struct kf_pos offset_pos(struct kf_pos pos, const char *raw, size_t off)
{
	if (!memchr(raw, '\n', off))
		pos.col += (int)off;
	return pos;
}

int kf_tmpl_parse(struct kf_tmpl *t, const char *raw, struct kf_pos pos, struct kf_err *err)
{
	const char *p = raw, *open;
	size_t cap = 0;

	memset(t, 0, sizeof *t);
	t->raw = kf_xstrdup(raw);
	t->pos = pos;
	while ((open = strstr(p, "{{"))) {
		const char *b, *e, *close = strstr(open + 2, "}}");
		struct kf_ref ref;
		struct kf_pos at = offset_pos(pos, raw, (size_t)(open - raw));

		if (!close)
			return kf_err_at(err, KF_EINPUT, at.file, at.line, at.col,
					 "unterminated template \"%s\"", open);
		b = open + 2;
		e = close;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (!parse_ref(b, (size_t)(e - b), &ref))
			return kf_err_at(err, KF_EINPUT, at.file, at.line, at.col,
					 "unknown template \"%.*s\" (use params.NAME, "
					 "steps.STEP.outputs.NAME, item, item.KEY, run.id, run.name or run.status)",
					 (int)(close + 2 - open), open);
		if (open > p)
			add_part(t, &cap, (struct kf_ref){ .kind = KF_REF_TEXT,
							  .text = kf_xstrndup(p, (size_t)(open - p)) });
		add_part(t, &cap, ref);
		p = close + 2;
	}
	if (*p || !t->n)
		add_part(t, &cap, (struct kf_ref){ .kind = KF_REF_TEXT, .text = kf_xstrdup(p) });
	return 0;
}

void kf_tmpl_release(struct kf_tmpl *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->parts[i].text);
		free(t->parts[i].step);
		free(t->parts[i].name);
	}
	free(t->parts);
	free(t->raw);
	memset(t, 0, sizeof *t);
}

bool kf_tmpl_is_single(const struct kf_tmpl *t, enum kf_ref_kind kind)
{
	return t->n == 1 && t->parts[0].kind == kind;
}

bool kf_tmpl_has(const struct kf_tmpl *t, enum kf_ref_kind kind)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->parts[i].kind == kind)
			return true;
	return false;
}

int kf_tmpl_expand(const struct kf_tmpl *t, const struct kf_tmpl_values *vals, char **out,
		   struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	size_t i;

	*out = NULL;
	for (i = 0; i < t->n; i++) {
		const struct kf_ref *r = &t->parts[i];
		const char *v = NULL;

		switch (r->kind) {
		case KF_REF_TEXT:
			v = r->text;
			break;
		case KF_REF_PARAM:
			v = vals->param ? vals->param(vals->ctx, r->index, err) : NULL;
			break;
		case KF_REF_OUTPUT:
			v = vals->output ? vals->output(vals->ctx, r->index, r->output, err) : NULL;
			break;
		case KF_REF_ITEM:
			v = vals->item ? vals->item(vals->ctx, r->name, err) : NULL;
			break;
		case KF_REF_RUN_ID:
		case KF_REF_RUN_NAME:
		case KF_REF_RUN_STATUS:
			v = vals->run ? vals->run(vals->ctx, r->kind, err) : NULL;
			break;
		}
		if (!v) {
			if (!err->code)
				kf_err_set(err, KF_EINPUT, "no value for \"%s\"", t->raw);
			kf_buf_release(&b);
			return err->code;
		}
		kf_buf_adds(&b, v);
	}
	*out = b.data ? kf_buf_detach(&b) : kf_xstrdup("");
	return 0;
}
