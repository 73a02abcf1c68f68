/* Unit tests for lib/util. */
#include "config.h"

#include "kf_tap.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_sha256.h"
#include "util/kf_str.h"
#include "util/kf_time.h"
#include "util/kf_yaml.h"

#include <stdlib.h>
#include <unistd.h>

static void test_sha256(void)
{
	char hex[65];
	struct kf_sha256 s;
	int i;

	kf_sha256_hex("", 0, hex);
	TAP_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of empty");
	kf_sha256_hex("abc", 3, hex);
	TAP_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	kf_sha256_init(&s);
	for (i = 0; i < 1000000; i += 100)
		kf_sha256_update(&s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100);
	kf_sha256_final_hex(&s, hex);
	TAP_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "sha256 of a million a");
	kf_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	TAP_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 of a 56-byte block edge");
}

static void test_str(void)
{
	static const char *const cands[] = { "compile", "run", "serve", "lineage" };
	long l;
	double d;

	TAP_OK(kf_str_distance("kitten", "sitting") == 3, "edit distance");
	TAP_OK(kf_str_distance("ab", "ba") == 1, "a swap is one edit");
	TAP_STR(kf_str_suggest("compiel", cands, 4), "compile", "suggests a close command");
	TAP_OK(kf_str_suggest("xyzzy", cands, 4) == NULL, "no suggestion for a far word");
	TAP_OK(kf_str_to_long("42", &l) && l == 42, "parses a long");
	TAP_OK(!kf_str_to_long("42x", &l), "rejects trailing garbage");
	TAP_OK(kf_str_to_double("-1.5e3", &d) && d == -1500, "parses a double");
}

static void test_buf(void)
{
	struct kf_buf b = KF_BUF_INIT;
	char *s;

	TAP_STR(kf_buf_str(&b), "", "empty buffer reads as empty string");
	kf_buf_printf(&b, "%d-%s", 7, "x");
	kf_buf_add_json_escaped(&b, "\"\n");
	TAP_STR(kf_buf_str(&b), "7-x\\\"\\n", "printf and JSON escaping");
	s = kf_buf_detach(&b);
	TAP_OK(b.data == NULL && b.len == 0, "detach empties the buffer");
	free(s);
}

static void test_time(void)
{
	int64_t ms;
	struct kf_err err;

	TAP_OK(kf_duration_parse("1h30m", &ms, &err) == 0 && ms == 5400000, "1h30m");
	TAP_OK(kf_duration_parse("500ms", &ms, &err) == 0 && ms == 500, "500ms");
	TAP_OK(kf_duration_parse("90", &ms, &err) == 0 && ms == 90000, "bare number is seconds");
	TAP_OK(kf_duration_parse("1.5s", &ms, &err) == 0 && ms == 1500, "fractional seconds");
	TAP_OK(kf_duration_parse("10x", &ms, &err) == KF_EINPUT, "unknown unit is an error");
	TAP_OK(kf_duration_parse("", &ms, &err) == KF_EINPUT, "empty is an error");
}

static void test_yaml(void)
{
	static const char text[] =
		"a: 1\n"
		"b: 'yes'\n"
		"c: [x, \"2\", 3.5, true, ~]\n"
		"d:\n  e: hello\n";
	struct kf_ydoc doc;
	struct kf_err err;
	const struct kf_ynode *n;
	struct kf_buf out = KF_BUF_INIT;
	cJSON *j;
	char *s;

	TAP_OK(kf_yaml_load(&doc, "t.yaml", text, sizeof text - 1, &err) == 0, "loads a document");
	n = kf_ynode_get(doc.root, "d");
	TAP_OK(n && n->line == 5 && n->col == 3, "keeps line and column");
	n = kf_ynode_get(n, "e");
	TAP_STR(n ? n->value : NULL, "hello", "nested lookup");
	j = kf_ynode_to_json(doc.root);
	s = cJSON_PrintUnformatted(j);
	TAP_STR(s, "{\"a\":1,\"b\":\"yes\",\"c\":[\"x\",\"2\",3.5,true,null],\"d\":{\"e\":\"hello\"}}",
		"converts with core-schema scalar types");
	cJSON_free(s);
	TAP_OK(kf_yaml_emit(j, &out, &err) == 0, "emits");
	TAP_STR(kf_buf_str(&out), "a: 1\nb: 'yes'\nc:\n- x\n- '2'\n- 3.5\n- true\n- null\nd:\n  e: hello\n",
		"emits block YAML, quoting strings YAML 1.1 would retype");
	cJSON_Delete(j);
	kf_buf_release(&out);
	kf_ydoc_release(&doc);

	TAP_OK(kf_yaml_load(&doc, "bad.yaml", "a: [1, 2\n", 9, &err) == KF_EINPUT, "reports a syntax error");
	TAP_OK(err.line == 2 && !strcmp(err.file, "bad.yaml"), "syntax error has file and line");
	kf_ydoc_release(&doc);

	{
		static const char bomb[] =
			"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

		TAP_OK(kf_yaml_load(&doc, "bomb.yaml", bomb, sizeof bomb - 1, &err) == KF_EINPUT,
		       "refuses an alias bomb");
		kf_ydoc_release(&doc);
	}
	TAP_OK(kf_yaml_resolve_11("on") == KF_YS_BOOL, "YAML 1.1 'on' is a bool");
	TAP_OK(kf_yaml_resolve_11("1_000") != KF_YS_STRING, "YAML 1.1 1_000 is a number");
	TAP_OK(kf_yaml_resolve_11("busybox") == KF_YS_STRING, "a word is a string");
}

static void test_output(void)
{
	static const struct kf_column cols[] = { { "NAME", "name" }, { "STATE", "status.state" }, { NULL, NULL } };
	cJSON *doc = cJSON_Parse("{\"kind\":\"RunList\",\"items\":[{\"name\":\"a\",\"status\":{\"state\":\"Succeeded\"}},"
				 "{\"name\":\"bb\",\"status\":{\"state\":\"Failed\"}}]}");
	struct kf_buf out = KF_BUF_INIT;
	struct kf_err err;

	TAP_OK(kf_output_render(&out, "table", doc, cols, &err) == 0, "renders a table");
	TAP_STR(kf_buf_str(&out), "NAME   STATE\na      Succeeded\nbb     Failed\n", "table columns align");
	kf_buf_reset(&out);
	kf_output_render(&out, "name", doc, cols, &err);
	TAP_STR(kf_buf_str(&out), "a\nbb\n", "names, one per line");
	TAP_OK(kf_output_check("xml", "table|json", &err) == KF_EUSAGE, "unknown format refused");
	kf_buf_release(&out);
	cJSON_Delete(doc);
}

static void test_fs(void)
{
	char tmpl[] = "/tmp/kf-test-XXXXXX";
	char *dir = mkdtemp(tmpl), *deep, *file;
	struct kf_buf b = KF_BUF_INIT;
	struct kf_err err;

	deep = kf_path_join(dir, "a/b/c");
	TAP_OK(kf_fs_mkdirs(deep, &err) == 0 && kf_fs_is_dir(deep), "mkdir -p");
	file = kf_path_join(deep, "f.txt");
	TAP_OK(kf_fs_write_atomic(file, "hello", 5, &err) == 0, "atomic write");
	TAP_OK(kf_fs_read_file(file, &b, &err) == 0 && !strcmp(kf_buf_str(&b), "hello"), "read back");
	TAP_OK(kf_fs_remove_tree(dir, &err) == 0 && !kf_fs_exists(dir), "rm -rf");
	{
		char *d = kf_path_dirname("/a/b/c"), *e = kf_path_dirname("name");

		TAP_STR(d, "/a/b", "dirname");
		TAP_STR(e, ".", "dirname of a bare name");
		free(d);
		free(e);
	}
	free(file);
	free(deep);
	kf_buf_release(&b);
}

int main(void)
{
	test_sha256();
	test_str();
	test_buf();
	test_time();
	test_yaml();
	test_output();
	test_fs();
	return tap_done();
}
