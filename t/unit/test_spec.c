/* Unit tests of the spec model: loading, templates, placeholder expansion,
 * when expressions and packages. */
#include "argo/kf_argo_emit.h"
#include "package/kf_package.h"
#include "spec/kf_expr.h"
#include "spec/kf_pipeline.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <stdlib.h>
#include <string.h>

#include "kf_tap.h"

static const char spec_text[] =
	"apiVersion: kf/v1\n"
	"kind: Pipeline\n"
	"metadata: {name: unit}\n"
	"spec:\n"
	"  params:\n"
	"    n: {type: Integer, default: 3}\n"
	"    items: {type: JsonArray, default: [a, b]}\n"
	"  components:\n"
	"    add:\n"
	"      name: Add\n"
	"      inputs: [{name: a, type: Integer}, {name: b, type: Integer, default: '0'}, {name: extra, optional: true}]\n"
	"      outputs: [{name: sum, type: Integer}]\n"
	"      implementation:\n"
	"        container:\n"
	"          image: alpine\n"
	"          command: [sh, -c, 'echo $(($0 + $1)) > $2', {inputValue: a}, {inputValue: b}, {outputPath: sum}]\n"
	"          args:\n"
	"          - if: {cond: {isPresent: extra}, then: [--extra, {inputPath: extra}], else: --none}\n"
	"          - {concat: [a=, {inputValue: a}, ';']}\n"
	"  steps:\n"
	"    second:\n"
	"      component: add\n"
	"      args: {a: '{{steps.first.outputs.sum}}', b: 4}\n"
	"      when: '{{params.n}} > 2 && \"{{steps.first.outputs.sum}}\" != \"x\"'\n"
	"    first:\n"
	"      component: add\n"
	"      args: {a: '{{params.n}}', extra: hello}\n"
	"    each:\n"
	"      component: add\n"
	"      parallelFor: '{{params.items}}'\n"
	"      args: {a: '1'}\n"
	"      after: [second]\n";

static const char *in_val(void *ctx, size_t i)
{
	const char *const *v = ctx;

	return v[i];
}

static const char *in_path(void *ctx, size_t i)
{
	(void)ctx;
	return i == 2 ? "/in/extra" : NULL;
}

static const char *out_path(void *ctx, size_t i)
{
	(void)ctx;
	return i == 0 ? "/out/sum" : NULL;
}

static const char *val_param(void *ctx, size_t i, struct kf_err *err)
{
	(void)ctx;
	(void)err;
	return i == 0 ? "3" : "[\"a\"]";
}

static const char *val_output(void *ctx, size_t step, size_t out, struct kf_err *err)
{
	(void)ctx;
	(void)step;
	(void)out;
	(void)err;
	return "7";
}

static void test_load(void)
{
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline *p = NULL;
	struct kf_strv ov = KF_STRV_INIT;
	struct kf_pipeline_opts opts = { .overrides = &ov };
	const struct kf_step *second, *first;
	const struct kf_component *c;
	int rc;

	kf_strv_push(&ov, "n=5");
	rc = kf_pipeline_load_text(&p, "unit.yaml", spec_text, strlen(spec_text), &opts, &errs);
	TAP_OK(rc == 0 && p, "spec loads (%s)", errs.n ? errs.items[0].msg : "ok");
	if (!p) {
		kf_errlist_release(&errs);
		kf_strv_release(&ov);
		return;
	}
	TAP_STR(p->name, "unit", "metadata.name");
	TAP_OK(p->n_params == 2 && p->params[0].kind == KF_TYPE_INTEGER, "params typed");
	TAP_STR(p->params[0].value, "5", "-p overrides the default");
	TAP_STR(p->params[1].default_value, "[\"a\",\"b\"]", "a list default is JSON text");
	TAP_OK(p->n_steps == 3 && kf_pipeline_step(p, "first") == 1, "steps by name");
	second = &p->steps[0];
	first = &p->steps[1];
	TAP_OK(second->n_deps == 1 && second->deps[0] == 1, "output reference makes a dependency");
	TAP_OK(p->order[0] == 1 && p->order[1] == 0 && p->order[2] == 2, "topological order");
	TAP_OK(second->when && second->when->op == KF_EXPR_AND, "when parsed");
	TAP_OK(p->steps[2].loop == KF_LOOP_PARAM, "parallelFor over a parameter");
	TAP_OK(first->n_args == 2 && first->args[0].index == 0 && first->args[1].index == 2,
	       "args in input order");
	c = first->component;
	TAP_OK(c->inputs[0].uses == KF_USE_VALUE && c->inputs[2].uses == KF_USE_PATH &&
	       c->outputs[0].uses == KF_USE_PATH, "uses computed");
	TAP_OK(strlen(c->digest) == 64, "digest");
	{
		const char *vals[] = { "3", "0", "x" };
		struct kf_expand_cb cb = { vals, in_val, in_path, out_path };
		struct kf_strv argv = KF_STRV_INIT;
		struct kf_err err;
		char *joined;

		kf_err_clear(&err);
		rc = kf_component_expand(c, &cb, &argv, &err);
		joined = kf_strv_join(&argv, "|");
		TAP_STR(joined, "sh|-c|echo $(($0 + $1)) > $2|3|0|/out/sum|--extra|/in/extra|a=3;",
			"expansion with an optional input present");
		free(joined);
		kf_strv_release(&argv);
		vals[2] = NULL;
		rc = kf_component_expand(c, &cb, &argv, &err);
		joined = kf_strv_join(&argv, "|");
		TAP_STR(joined, "sh|-c|echo $(($0 + $1)) > $2|3|0|/out/sum|--none|a=3;",
			"expansion with it absent takes else");
		free(joined);
		kf_strv_release(&argv);
		vals[0] = NULL;
		rc = kf_component_expand(c, &cb, &argv, &err);
		TAP_OK(rc == KF_EINPUT && strstr(err.msg, "\"a\" has no value"), "absent value is an error");
		kf_strv_release(&argv);
	}
	{
		struct kf_tmpl_values vals = { NULL, val_param, val_output, NULL, NULL };
		struct kf_err err;
		bool r = false;
		char *s = NULL;

		kf_err_clear(&err);
		rc = kf_expr_eval(second->when, &vals, &r, &err);
		TAP_OK(rc == 0 && r, "when evaluates true");
		rc = kf_tmpl_expand(&second->args[0].value, &vals, &s, &err);
		TAP_STR(s, "7", "template expands an output");
		free(s);
	}
	kf_pipeline_free(p);
	kf_errlist_release(&errs);
	kf_strv_release(&ov);
}

static void test_errors(void)
{
	static const char bad[] =
		"apiVersion: kf/v1\nkind: Pipeline\nmetadata: {name: bad}\nspec:\n"
		"  components:\n    e: {implementation: {container: {image: a, command: [echo]}}}\n"
		"  steps:\n"
		"    a: {component: e, after: [b]}\n"
		"    b: {component: e, after: [a], retris: 2}\n";
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline *p = NULL;
	int rc;

	rc = kf_pipeline_load_text(&p, "bad.yaml", bad, strlen(bad), NULL, &errs);
	TAP_OK(rc == KF_EINPUT && !p, "invalid spec fails");
	TAP_OK(errs.n == 1 && strstr(errs.items[0].msg, "did you mean \"retries\"") &&
	       errs.items[0].line == 9, "unknown key reported with its line: %s",
	       errs.n ? errs.items[0].msg : "");
	kf_errlist_release(&errs);
	{
		static const char cyc[] =
			"apiVersion: kf/v1\nkind: Pipeline\nmetadata: {name: bad}\nspec:\n"
			"  components:\n    e: {implementation: {container: {image: a, command: [echo]}}}\n"
			"  steps:\n"
			"    a: {component: e, after: [c]}\n"
			"    b: {component: e, after: [a]}\n"
			"    c: {component: e, after: [b]}\n";

		rc = kf_pipeline_load_text(&p, "cyc.yaml", cyc, strlen(cyc), NULL, &errs);
		TAP_OK(rc == KF_EINPUT && errs.n == 1, "a cycle is an error");
		TAP_STR(errs.n ? errs.items[0].msg : "", "dependency cycle: a -> b -> c -> a", "cycle named");
		kf_errlist_release(&errs);
	}
}

static void test_required_params(void)
{
	static const char text[] =
		"apiVersion: kf/v1\nkind: Pipeline\nmetadata: {name: req}\nspec:\n"
		"  params:\n    data: {type: String}\n"
		"  components:\n    e: {inputs: [{name: m}], implementation: {container: {image: a, command: [echo, {inputValue: m}]}}}\n"
		"  steps:\n    a: {component: e, args: {m: '{{params.data}}'}}\n";
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline_opts opts = { .require_params = true };
	struct kf_strv ov = KF_STRV_INIT;
	struct kf_pipeline *p = NULL;
	int rc;

	rc = kf_pipeline_load_text(&p, "req.yaml", text, strlen(text), NULL, &errs);
	TAP_OK(rc == 0 && p, "a parameter without a value is fine for compile");
	kf_pipeline_free(p);
	rc = kf_pipeline_load_text(&p, "req.yaml", text, strlen(text), &opts, &errs);
	TAP_OK(rc == KF_EINPUT && errs.n == 1 && errs.items[0].line == 6, "required by run: error at the parameter");
	TAP_STR(errs.n ? errs.items[0].msg : "", "parameter \"data\" has no value (no default; give -p data=VALUE)",
		"missing required parameter message");
	kf_errlist_release(&errs);
	kf_strv_push(&ov, "data=x");
	opts.overrides = &ov;
	rc = kf_pipeline_load_text(&p, "req.yaml", text, strlen(text), &opts, &errs);
	TAP_OK(rc == 0 && p && !strcmp(p->params[0].value, "x"), "-p gives it a value");
	kf_pipeline_free(p);
	kf_errlist_release(&errs);
	kf_strv_release(&ov);
}

static bool expr(const char *text, bool *r)
{
	struct kf_err err;

	kf_err_clear(&err);
	return kf_expr_eval_text(text, r, &err) == 0;
}

static void test_expr(void)
{
	struct kf_pos pos = { "x.yaml", 3, 10 };
	struct kf_expr *e;
	struct kf_err err;
	bool r;

	TAP_OK(expr("heads == heads", &r) && r, "string ==");
	TAP_OK(expr("10 > 9", &r) && r, "numeric > (not string compare)");
	TAP_OK(expr("2 <= 1 || !(a != a)", &r) && r, "|| ! ()");
	TAP_OK(expr("'a b' == \"a b\" && 1.5 >= 1.5", &r) && r, "quoted strings");
	TAP_OK(expr("true", &r) && r, "bare true");
	TAP_OK(!expr("abc > 1", &r), "non-number compare fails");
	kf_err_clear(&err);
	TAP_OK(kf_expr_parse(&e, "a == (b", pos, &err) == KF_EINPUT && err.col == 15,
	       "syntax error placed (col %d: %s)", err.col, err.msg);
	kf_err_clear(&err);
	TAP_OK(kf_expr_parse(&e, "a ==", pos, &err) == KF_EINPUT, "missing operand");
}

static void render_operand(void *ctx, const struct kf_tmpl *t, struct kf_buf *out)
{
	(void)ctx;
	kf_buf_printf(out, "<%s>", t->raw);
}

static void test_render(void)
{
	struct kf_pos pos = { "x.yaml", 1, 1 };
	struct kf_buf b = KF_BUF_INIT;
	struct kf_expr *e = NULL;
	struct kf_err err;
	cJSON *j;
	char *s;

	kf_err_clear(&err);
	kf_expr_parse(&e, "{{params.a}} == heads && !(x > 2 || 'a b' != c)", pos, &err);
	TAP_OK(e != NULL, "expression parses");
	if (e)
		kf_expr_render(e, render_operand, NULL, &b);
	TAP_STR(kf_buf_str(&b), "\"<{{params.a}}>\" == \"<heads>\" && !(<x> > <2> || \"<a b>\" != \"<c>\")",
		"rendered for Argo: string compares quoted, groups parenthesised");
	kf_expr_free(e);
	kf_buf_release(&b);
	j = cJSON_Parse("{\"b\": [1, 2.5, true, null], \"a\": \"x\\u00e9\\ud83d\\ude00\\\"\\n\"}");
	s = kf_argo_pyjson(j);
	TAP_STR(s, "{\"a\": \"x\\u00e9\\ud83d\\ude00\\\"\\n\", \"b\": [1, 2.5, true, null]}",
		"Python json.dumps(sort_keys=True) form");
	free(s);
	cJSON_Delete(j);
}

static void test_package(void)
{
	static const char yaml[] = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n";
	enum kf_package_format fmts[] = { KF_PACKAGE_TGZ, KF_PACKAGE_ZIP };
	const char *names[] = { "p.tar.gz", "p.zip" };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct kf_buf a = KF_BUF_INIT, b = KF_BUF_INIT, back = KF_BUF_INIT;
		struct kf_err err;
		char *member = NULL;

		kf_err_clear(&err);
		kf_package_encode(fmts[i], yaml, strlen(yaml), 0, &a, &err);
		kf_package_encode(fmts[i], yaml, strlen(yaml), 0, &b, &err);
		TAP_OK(a.len && a.len == b.len && !memcmp(a.data, b.data, a.len), "%s deterministic", names[i]);
		TAP_OK(kf_package_read_mem(names[i], a.data, a.len, &back, &member, &err) == 0,
		       "%s reads back (%s)", names[i], err.msg);
		TAP_STR(kf_buf_str(&back), yaml, "%s content", names[i]);
		TAP_STR(member, "pipeline.yaml", "%s member", names[i]);
		free(member);
		kf_buf_release(&a);
		kf_buf_release(&b);
		kf_buf_release(&back);
	}
	{
		struct kf_buf back = KF_BUF_INIT;
		struct kf_err err;
		enum kf_package_format f;

		kf_err_clear(&err);
		TAP_OK(kf_package_read_mem("x.bin", "junk", 4, &back, NULL, &err) == KF_EINPUT,
		       "unknown bytes refused");
		TAP_OK(kf_package_format_of("x.tgz", &f, &err) == 0 && f == KF_PACKAGE_TGZ, "tgz by extension");
		kf_buf_release(&back);
	}
}

/* Fixture archives made by Python's tarfile/zipfile (t/fixtures/1003). */
static int read_fixture(const char *name, struct kf_buf *yaml, char **member, struct kf_err *err)
{
	const char *src = getenv("KF_SRCDIR");
	char *path = kf_xasprintf("%s/t/fixtures/1003/%s", src ? src : "..", name);
	int rc;

	kf_err_clear(err);
	kf_buf_reset(yaml);
	rc = kf_package_read(path, yaml, member, err);
	free(path);
	return rc;
}

static void test_package_reading(void)
{
	static const char *const refused[][2] = {
		{ "absolute.tar.gz", "unsafe member path \"/tmp/pipeline.yaml\"" },
		{ "dotdot.tar.gz", "unsafe member path \"sub/../../pipeline.yaml\"" },
		{ "symlink.tar.gz", "link or special file \"pipeline.yaml\"" },
		{ "hardlink.tar.gz", "link or special file \"pipeline.yaml\"" },
		{ "two-yaml.zip", "several YAML members and no pipeline.yaml" },
	};
	static const char *const accepted[][2] = {
		{ "nested.tgz", "dir/flow.yaml" },
		{ "other-name.zip", "workflow.yml" },
		{ "preferred.zip", "pipeline.yaml" },
		{ "no-extension", "pipeline.yaml" },
	};
	struct kf_buf yaml = KF_BUF_INIT, big = KF_BUF_INIT, pkg = KF_BUF_INIT;
	struct kf_err err;
	char *member = NULL;
	size_t i;

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		int rc = read_fixture(refused[i][0], &yaml, NULL, &err);

		TAP_OK(rc == KF_EINPUT && strstr(err.msg, refused[i][1]), "%s refused (%s)", refused[i][0], err.msg);
	}
	for (i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		int rc = read_fixture(accepted[i][0], &yaml, &member, &err);

		TAP_OK(rc == 0 && kf_str_starts(kf_buf_str(&yaml), "apiVersion: argoproj.io/v1alpha1"),
		       "%s read (%s)", accepted[i][0], err.msg);
		TAP_STR(member, accepted[i][1], "%s: the member chosen", accepted[i][0]);
		free(member);
		member = NULL;
	}
	/* larger than the API server's 32 MiB limit, once unpacked */
	kf_err_clear(&err);
	kf_buf_grow(&big, KF_PACKAGE_MAX_SIZE + 2);
	memset(big.data, '#', KF_PACKAGE_MAX_SIZE + 1);
	big.len = KF_PACKAGE_MAX_SIZE + 1;
	big.data[big.len] = '\0';
	kf_package_encode(KF_PACKAGE_TGZ, big.data, big.len, 0, &pkg, &err);
	kf_buf_reset(&yaml);
	TAP_OK(kf_package_read_mem("big.tar.gz", pkg.data, pkg.len, &yaml, NULL, &err) == KF_EINPUT &&
	       strstr(err.msg, "larger than 32 MiB"), "a member over 32 MiB is refused (%s)", err.msg);
	kf_buf_release(&big);
	kf_buf_release(&pkg);
	kf_buf_release(&yaml);
}

int main(void)
{
	test_load();
	test_errors();
	test_required_params();
	test_expr();
	test_render();
	test_package();
	test_package_reading();
	return tap_done();
}
