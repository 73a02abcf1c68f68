/* kf_component: KFP v1 component specs: parsing, checking, placeholder
 * expansion. */
#include "spec/kf_spec_load.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"

struct cparse {
	struct kf_loader *ld;
	const char *file;
	struct kf_component *c;
	const char *subject;   /* "component \"NAME\"" */
};

static char *scalar_text(const struct kf_ynode *n)
{
	return kf_xstrndup(n->value, n->len);
}

static char *opt_string(struct cparse *cp, const struct kf_ynode *map, const char *key)
{
	const struct kf_ynode *v = kf_ynode_get(map, key);

	if (!v)
		return NULL;
	if (!kf_ynode_is_scalar(v)) {
		kf_loader_error(cp->ld, cp->file, v, "%s: \"%s\" must be a string, not a %s", cp->subject,
				key, kf_ynode_kind_name(v));
		return NULL;
	}
	return scalar_text(v);
}

/* ---- inputs and outputs ---------------------------------------------- */

static void parse_io(struct cparse *cp, const struct kf_ynode *list, bool input,
		     struct kf_io **out, size_t *n_out)
{
	static const char *const in_keys[] = { "name", "type", "description", "default", "optional", NULL };
	static const char *const out_keys[] = { "name", "type", "description", NULL };
	const char *what = input ? "input" : "output";
	struct kf_io *ios;
	size_t i, j, n = 0;

	*out = NULL;
	*n_out = 0;
	if (!list)
		return;
	if (list->kind != KF_Y_SEQ) {
		kf_loader_error(cp->ld, cp->file, list, "%s: %ss must be a list, not a %s", cp->subject,
				what, kf_ynode_kind_name(list));
		return;
	}
	ios = kf_xcalloc(list->n ? list->n : 1, sizeof *ios);
	for (i = 0; i < list->n; i++) {
		const struct kf_ynode *m = list->items[i], *name, *type, *def, *opt;
		struct kf_io *io = &ios[n];

		if (m->kind != KF_Y_MAP) {
			kf_loader_error(cp->ld, cp->file, m, "%s: each %s must be a map, not a %s",
					cp->subject, what, kf_ynode_kind_name(m));
			continue;
		}
		kf_loader_check_keys(cp->ld, cp->file, m, input ? in_keys : out_keys, what);
		name = kf_ynode_get(m, "name");
		if (!name || !kf_ynode_is_scalar(name) || !name->len) {
			kf_loader_error(cp->ld, cp->file, name ? name : m, "%s: %s without a name",
					cp->subject, what);
			continue;
		}
		for (j = 0; j < n; j++)
			if (!strcmp(ios[j].name, name->value))
				break;
		if (j < n) {
			kf_loader_error(cp->ld, cp->file, name, "%s: duplicate %s \"%s\" (first at line %d)",
					cp->subject, what, name->value, ios[j].pos.line);
			continue;
		}
		io->name = scalar_text(name);
		io->pos = kf_loader_pos(cp->file, name);
		type = kf_ynode_get(m, "type");
		if (type && kf_ynode_is_scalar(type)) {
			io->type = scalar_text(type);
			io->kind = kf_type_of(io->type);
		} else if (type) {
			/* a structured KFP type ({GCSPath: {...}}): compared by its JSON */
			cJSON *tj = kf_ynode_to_json(type);

			io->type = cJSON_PrintUnformatted(tj);
			io->kind = KF_TYPE_OTHER;
			cJSON_Delete(tj);
		}
		io->description = opt_string(cp, m, "description");
		def = input ? kf_ynode_get(m, "default") : NULL;
		if (def && kf_ynode_is_scalar(def)) {
			if (kf_ynode_scalar_type(def) != KF_YS_NULL)
				io->default_value = scalar_text(def);
		} else if (def) {
			cJSON *dj = kf_ynode_to_json(def);

			io->default_value = cJSON_PrintUnformatted(dj);
			cJSON_Delete(dj);
		}
		opt = input ? kf_ynode_get(m, "optional") : NULL;
		if (opt) {
			if (kf_ynode_scalar_type(opt) != KF_YS_BOOL)
				kf_loader_error(cp->ld, cp->file, opt, "%s: \"optional\" must be true or false",
						cp->subject);
			else
				io->optional = !strcmp(opt->value, "true") || !strcmp(opt->value, "True") ||
					       !strcmp(opt->value, "TRUE");
		}
		n++;
	}
	*out = ios;
	*n_out = n;
}

/* ---- placeholders ----------------------------------------------------- */

static void ph_release(struct kf_ph *ph);

static void ph_list_release(struct kf_ph *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ph_release(&items[i]);
	free(items);
}

static void ph_release(struct kf_ph *ph)
{
	free(ph->text);
	free(ph->cond_name);
	ph_list_release(ph->items, ph->n);
	ph_list_release(ph->else_items, ph->n_else);
	memset(ph, 0, sizeof *ph);
}

static bool ph_parse(struct cparse *cp, const struct kf_ynode *n, struct kf_ph *ph);

static void unknown_io(struct cparse *cp, const struct kf_ynode *at, bool input, const char *name)
{
	const struct kf_component *c = cp->c;
	size_t n = input ? c->n_inputs : c->n_outputs, i;
	const char **names = kf_xcalloc(n + 1, sizeof *names);
	const char *s;

	for (i = 0; i < n; i++)
		names[i] = input ? c->inputs[i].name : c->outputs[i].name;
	s = kf_str_suggest(name, names, n);
	if (s)
		kf_loader_error(cp->ld, cp->file, at, "%s: unknown %s \"%s\" (did you mean \"%s\"?)",
				cp->subject, input ? "input" : "output", name, s);
	else
		kf_loader_error(cp->ld, cp->file, at, "%s: unknown %s \"%s\"", cp->subject,
				input ? "input" : "output", name);
	free(names);
}

/* Resolve {inputValue|inputPath|outputPath: NAME} */
static bool ph_io(struct cparse *cp, const struct kf_ynode *v, struct kf_ph *ph, bool input,
		  unsigned use)
{
	long idx;

	if (!kf_ynode_is_scalar(v)) {
		kf_loader_error(cp->ld, cp->file, v, "%s: placeholder needs an %s name, not a %s",
				cp->subject, input ? "input" : "output", kf_ynode_kind_name(v));
		return false;
	}
	ph->text = scalar_text(v);
	idx = input ? kf_component_input(cp->c, ph->text) : kf_component_output(cp->c, ph->text);
	if (idx < 0) {
		unknown_io(cp, v, input, ph->text);
		return false;
	}
	ph->index = (size_t)idx;
	if (input)
		cp->c->inputs[idx].uses |= use;
	else
		cp->c->outputs[idx].uses |= use;
	return true;
}

static bool ph_list(struct cparse *cp, const struct kf_ynode *n, struct kf_ph **items, size_t *count)
{
	size_t i;
	bool ok = true;

	if (n->kind != KF_Y_SEQ) {
		/* then/else may be a single item (KFP's own components do this) */
		*items = kf_xcalloc(1, sizeof **items);
		*count = 1;
		return ph_parse(cp, n, &(*items)[0]);
	}
	*items = kf_xcalloc(n->n ? n->n : 1, sizeof **items);
	*count = n->n;
	for (i = 0; i < n->n; i++)
		ok &= ph_parse(cp, n->items[i], &(*items)[i]);
	return ok;
}

static bool ph_if(struct cparse *cp, const struct kf_ynode *v, struct kf_ph *ph)
{
	static const char *const keys[] = { "cond", "then", "else", NULL };
	const struct kf_ynode *cond, *then, *els;
	bool ok = true;

	ph->kind = KF_PH_IF;
	if (v->kind != KF_Y_MAP) {
		kf_loader_error(cp->ld, cp->file, v, "%s: \"if\" needs a map with cond and then", cp->subject);
		return false;
	}
	kf_loader_check_keys(cp->ld, cp->file, v, keys, "if");
	cond = kf_ynode_get(v, "cond");
	then = kf_ynode_get(v, "then");
	els = kf_ynode_get(v, "else");
	if (!cond || !then) {
		kf_loader_error(cp->ld, cp->file, v, "%s: \"if\" needs both cond and then", cp->subject);
		return false;
	}
	if (kf_ynode_is_scalar(cond)) {
		ph->cond = KF_COND_CONST;
		if (!strcasecmp(cond->value, "true") || !strcasecmp(cond->value, "false")) {
			ph->cond_const = !strcasecmp(cond->value, "true");
		} else {
			kf_loader_error(cp->ld, cp->file, cond, "%s: if cond \"%s\" is not true, false, "
					"{isPresent: NAME} or {inputValue: NAME}", cp->subject, cond->value);
			ok = false;
		}
	} else if (cond->kind == KF_Y_MAP && cond->n == 1 &&
		   (!strcmp(kf_ynode_key(cond, 0)->value, "isPresent") ||
		    !strcmp(kf_ynode_key(cond, 0)->value, "inputValue"))) {
		struct kf_ph tmp = { 0 };
		bool present = !strcmp(kf_ynode_key(cond, 0)->value, "isPresent");

		ph->cond = present ? KF_COND_IS_PRESENT : KF_COND_INPUT_VALUE;
		if (ph_io(cp, kf_ynode_val(cond, 0), &tmp, true, present ? 0 : KF_USE_VALUE)) {
			ph->cond_name = tmp.text;
			ph->cond_index = tmp.index;
		} else {
			free(tmp.text);
			ok = false;
		}
	} else {
		kf_loader_error(cp->ld, cp->file, cond, "%s: if cond must be true, false, "
				"{isPresent: NAME} or {inputValue: NAME}", cp->subject);
		ok = false;
	}
	ok &= ph_list(cp, then, &ph->items, &ph->n);
	if (els)
		ok &= ph_list(cp, els, &ph->else_items, &ph->n_else);
	return ok;
}

static bool ph_parse(struct cparse *cp, const struct kf_ynode *n, struct kf_ph *ph)
{
	const char *key;
	const struct kf_ynode *v;

	memset(ph, 0, sizeof *ph);
	ph->pos = kf_loader_pos(cp->file, n);
	if (kf_ynode_is_scalar(n)) {
		ph->kind = KF_PH_STRING;
		ph->text = scalar_text(n);
		return true;
	}
	if (n->kind != KF_Y_MAP || n->n != 1) {
		kf_loader_error(cp->ld, cp->file, n, "%s: expected a string or a placeholder "
				"({inputValue}, {inputPath}, {outputPath}, {concat}, {if}), not a %s",
				cp->subject, n->kind == KF_Y_MAP ? "map of several keys" : kf_ynode_kind_name(n));
		return false;
	}
	key = kf_ynode_key(n, 0)->value;
	v = kf_ynode_val(n, 0);
	if (!strcmp(key, "inputValue")) {
		ph->kind = KF_PH_INPUT_VALUE;
		return ph_io(cp, v, ph, true, KF_USE_VALUE);
	}
	if (!strcmp(key, "inputPath")) {
		ph->kind = KF_PH_INPUT_PATH;
		return ph_io(cp, v, ph, true, KF_USE_PATH);
	}
	if (!strcmp(key, "outputPath")) {
		ph->kind = KF_PH_OUTPUT_PATH;
		return ph_io(cp, v, ph, false, KF_USE_PATH);
	}
	if (!strcmp(key, "concat")) {
		ph->kind = KF_PH_CONCAT;
		if (v->kind != KF_Y_SEQ) {
			kf_loader_error(cp->ld, cp->file, v, "%s: concat needs a list", cp->subject);
			return false;
		}
		return ph_list(cp, v, &ph->items, &ph->n);
	}
	if (!strcmp(key, "if"))
		return ph_if(cp, v, ph);
	{
		static const char *const names[] = { "inputValue", "inputPath", "outputPath", "concat", "if" };
		const char *s = kf_str_suggest(key, names, 5);

		if (s)
			kf_loader_error(cp->ld, cp->file, kf_ynode_key(n, 0),
					"%s: unknown placeholder \"%s\" (did you mean \"%s\"?)", cp->subject, key, s);
		else
			kf_loader_error(cp->ld, cp->file, kf_ynode_key(n, 0),
					"%s: unknown placeholder \"%s\"", cp->subject, key);
	}
	return false;
}

static void ph_seq(struct cparse *cp, const struct kf_ynode *n, const char *what,
		   struct kf_ph **items, size_t *count)
{
	*items = NULL;
	*count = 0;
	if (!n)
		return;
	if (n->kind != KF_Y_SEQ) {
		kf_loader_error(cp->ld, cp->file, n, "%s: %s must be a list, not a %s", cp->subject, what,
				kf_ynode_kind_name(n));
		return;
	}
	ph_list(cp, n, items, count);
}

/* ---- the component ---------------------------------------------------- */

static void parse_container(struct cparse *cp, const struct kf_ynode *ctr)
{
	static const char *const keys[] = { "image", "command", "args", "env",
					    "unconfigurableOutputPaths", NULL };
	struct kf_component *c = cp->c;
	const struct kf_ynode *image, *env;
	size_t i;

	if (ctr->kind != KF_Y_MAP) {
		kf_loader_error(cp->ld, cp->file, ctr, "%s: container must be a map", cp->subject);
		return;
	}
	kf_loader_check_keys(cp->ld, cp->file, ctr, keys, "container");
	if (kf_ynode_get(ctr, "unconfigurableOutputPaths"))
		kf_loader_error(cp->ld, cp->file, kf_ynode_get(ctr, "unconfigurableOutputPaths"),
				"%s: unconfigurableOutputPaths is not supported", cp->subject);
	image = kf_ynode_get(ctr, "image");
	if (!image)
		kf_loader_error(cp->ld, cp->file, ctr, "%s: container has no image", cp->subject);
	else
		ph_parse(cp, image, &c->image);
	ph_seq(cp, kf_ynode_get(ctr, "command"), "command", &c->command, &c->n_command);
	ph_seq(cp, kf_ynode_get(ctr, "args"), "args", &c->args, &c->n_args);
	if (!c->n_command && !c->n_args && image)
		kf_loader_error(cp->ld, cp->file, ctr, "%s: container has neither command nor args",
				cp->subject);
	env = kf_ynode_get(ctr, "env");
	if (env && env->kind != KF_Y_MAP) {
		kf_loader_error(cp->ld, cp->file, env, "%s: env must be a map", cp->subject);
	} else if (env) {
		c->env = kf_xcalloc(env->n ? env->n : 1, sizeof *c->env);
		for (i = 0; i < env->n; i++) {
			c->env[c->n_env].name = scalar_text(kf_ynode_key(env, i));
			if (ph_parse(cp, kf_ynode_val(env, i), &c->env[c->n_env].value)) {
				c->n_env++;
			} else {
				free(c->env[c->n_env].name);
				ph_release(&c->env[c->n_env].value);
			}
		}
	}
}

struct kf_component *kf_component_parse(struct kf_loader *ld, const char *file,
					const struct kf_ynode *n, const char *key,
					const char *text, size_t len)
{
	static const char *const keys[] = { "name", "description", "metadata", "inputs", "outputs",
					    "implementation", NULL };
	struct kf_component *c;
	struct cparse cp = { ld, file, NULL, NULL };
	const struct kf_ynode *impl, *ctr;
	size_t errors = ld->errs->n;
	char *subject;

	if (!n || n->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, n, "component \"%s\" must be a map, not a %s", key,
				n ? kf_ynode_kind_name(n) : "empty document");
		return NULL;
	}
	c = kf_xcalloc(1, sizeof *c);
	cp.c = c;
	c->key = kf_xstrdup(key);
	c->file = kf_xstrdup(file);
	c->pos = kf_loader_pos(file, n);
	subject = kf_xasprintf("component \"%s\"", key);
	cp.subject = subject;
	kf_loader_check_keys(ld, file, n, keys, "component");
	c->name = opt_string(&cp, n, "name");
	c->description = opt_string(&cp, n, "description");
	parse_io(&cp, kf_ynode_get(n, "inputs"), true, &c->inputs, &c->n_inputs);
	parse_io(&cp, kf_ynode_get(n, "outputs"), false, &c->outputs, &c->n_outputs);
	impl = kf_ynode_get(n, "implementation");
	if (!impl) {
		kf_loader_error(ld, file, n, "%s: missing implementation", subject);
	} else if (impl->kind != KF_Y_MAP) {
		kf_loader_error(ld, file, impl, "%s: implementation must be a map", subject);
	} else if ((ctr = kf_ynode_get(impl, "container"))) {
		parse_container(&cp, ctr);
	} else if (kf_ynode_get(impl, "graph")) {
		kf_loader_error(ld, file, kf_ynode_get(impl, "graph"),
				"%s: graph components are not supported (use steps in the pipeline)", subject);
	} else {
		kf_loader_error(ld, file, impl, "%s: implementation needs a container", subject);
	}
	c->spec = kf_ynode_to_json(n);
	if (text) {
		kf_sha256_hex(text, len, c->digest);
	} else {
		char *j = cJSON_PrintUnformatted(c->spec);

		kf_sha256_hex(j, strlen(j), c->digest);
		free(j);
	}
	free(subject);
	if (ld->errs->n > errors) {
		kf_component_free(c);
		return NULL;
	}
	return c;
}

void kf_component_free(struct kf_component *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_inputs; i++) {
		free(c->inputs[i].name);
		free(c->inputs[i].type);
		free(c->inputs[i].description);
		free(c->inputs[i].default_value);
	}
	for (i = 0; i < c->n_outputs; i++) {
		free(c->outputs[i].name);
		free(c->outputs[i].type);
		free(c->outputs[i].description);
	}
	free(c->inputs);
	free(c->outputs);
	ph_release(&c->image);
	ph_list_release(c->command, c->n_command);
	ph_list_release(c->args, c->n_args);
	for (i = 0; i < c->n_env; i++) {
		free(c->env[i].name);
		ph_release(&c->env[i].value);
	}
	free(c->env);
	free(c->key);
	free(c->name);
	free(c->description);
	free(c->file);
	free(c->url);
	cJSON_Delete(c->spec);
	free(c);
}

long kf_component_input(const struct kf_component *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_inputs; i++)
		if (c->inputs[i].name && !strcmp(c->inputs[i].name, name))
			return (long)i;
	return -1;
}

long kf_component_output(const struct kf_component *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_outputs; i++)
		if (c->outputs[i].name && !strcmp(c->outputs[i].name, name))
			return (long)i;
	return -1;
}

/* ---- expansion -------------------------------------------------------- */

static int expand_one(const struct kf_component *c, const struct kf_ph *ph,
		      const struct kf_expand_cb *cb, struct kf_buf *b, struct kf_err *err);

static int absent(const struct kf_component *c, const struct kf_ph *ph, struct kf_err *err)
{
	return kf_err_set(err, KF_EINPUT, "component \"%s\": input \"%s\" has no value", c->key,
			  ph->text);
}

/* Expand a list of placeholders, each one argv item (an if adds 0..n). */
static int expand_list(const struct kf_component *c, const struct kf_ph *items, size_t n,
		       const struct kf_expand_cb *cb, struct kf_strv *argv, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const struct kf_ph *ph = &items[i];

		if (ph->kind == KF_PH_IF) {
			bool cond;

			if (ph->cond == KF_COND_CONST) {
				cond = ph->cond_const;
			} else if (ph->cond == KF_COND_IS_PRESENT) {
				cond = cb->input_value(cb->ctx, ph->cond_index) != NULL;
			} else {
				const char *v = cb->input_value(cb->ctx, ph->cond_index);

				cond = v && !strcasecmp(v, "true");
			}
			rc = cond ? expand_list(c, ph->items, ph->n, cb, argv, err)
				  : expand_list(c, ph->else_items, ph->n_else, cb, argv, err);
			if (rc)
				return rc;
			continue;
		}
		kf_buf_reset(&b);
		rc = expand_one(c, ph, cb, &b, err);
		if (rc) {
			kf_buf_release(&b);
			return rc;
		}
		kf_strv_push(argv, kf_buf_str(&b));
	}
	kf_buf_release(&b);
	return 0;
}

/* Expand into one string (concat parts, or an if's items joined). */
static int expand_one(const struct kf_component *c, const struct kf_ph *ph,
		      const struct kf_expand_cb *cb, struct kf_buf *b, struct kf_err *err)
{
	const char *v;
	size_t i;
	int rc;

	switch (ph->kind) {
	case KF_PH_STRING:
		kf_buf_adds(b, ph->text);
		return 0;
	case KF_PH_INPUT_VALUE:
		v = cb->input_value(cb->ctx, ph->index);
		if (!v)
			return absent(c, ph, err);
		kf_buf_adds(b, v);
		return 0;
	case KF_PH_INPUT_PATH:
		v = cb->input_path(cb->ctx, ph->index);
		if (!v)
			return absent(c, ph, err);
		kf_buf_adds(b, v);
		return 0;
	case KF_PH_OUTPUT_PATH:
		v = cb->output_path(cb->ctx, ph->index);
		if (!v)
			return kf_err_set(err, KF_EINPUT, "component \"%s\": no path for output \"%s\"",
					  c->key, ph->text);
		kf_buf_adds(b, v);
		return 0;
	case KF_PH_CONCAT:
		for (i = 0; i < ph->n; i++) {
			rc = expand_one(c, &ph->items[i], cb, b, err);
			if (rc)
				return rc;
		}
		return 0;
	case KF_PH_IF: {
		struct kf_strv sv = KF_STRV_INIT;
		char *joined;

		rc = expand_list(c, ph, 1, cb, &sv, err);
		if (!rc) {
			joined = kf_strv_join(&sv, "");
			kf_buf_adds(b, joined);
			free(joined);
		}
		kf_strv_release(&sv);
		return rc;
	}
	}
	return 0;
}

int kf_component_expand(const struct kf_component *c, const struct kf_expand_cb *cb,
			struct kf_strv *argv, struct kf_err *err)
{
	int rc = expand_list(c, c->command, c->n_command, cb, argv, err);

	return rc ? rc : expand_list(c, c->args, c->n_args, cb, argv, err);
}

static int expand_string(const struct kf_component *c, const struct kf_ph *ph,
			 const struct kf_expand_cb *cb, char **out, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	int rc = expand_one(c, ph, cb, &b, err);

	*out = NULL;
	if (rc) {
		kf_buf_release(&b);
		return rc;
	}
	*out = b.data ? kf_buf_detach(&b) : kf_xstrdup("");
	return 0;
}

int kf_component_expand_image(const struct kf_component *c, const struct kf_expand_cb *cb,
			      char **out, struct kf_err *err)
{
	return expand_string(c, &c->image, cb, out, err);
}

int kf_component_expand_env(const struct kf_component *c, size_t i, const struct kf_expand_cb *cb,
			    char **out, struct kf_err *err)
{
	return expand_string(c, &c->env[i].value, cb, out, err);
}
