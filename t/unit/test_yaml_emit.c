/* kf_yaml_emit: the direct writer writes exactly what libyaml's event
 * emitter writes (kf_yaml_emit_events), and what it writes loads back as
 * the same JSON -- for the golden workflows and for random documents full
 * of strings that need quoting, literal blocks or libyaml's fallback. */
#include "config.h"

#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_yaml.h"

#include "kf_tap.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Pieces that exercise every branch of the style choice. */
static const char *const pieces[] = {
	"a", "name", "x", " ", "  ", "\n", "\n\n", ":", ": ", "#", " #", "-", "- ", "?", "? ",
	"'", "\"", "{{", "}}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "---",
	"...", "0", "12", "1.5", "1e3", "0x1F", "0o17", "1_000", "1:30", "true", "no", "Yes",
	"off", "null", "~", "y", ".inf", ".nan", "\t", "\xc3\xa9", "\xe2\x82\xac", "\r", "\\",
	"{\"a\": 1}", "/tmp/outputs/x/data", "{{inputs.parameters.a}}", "echo $((1 + 2))",
};

static char *random_string(bool key)
{
	struct kf_buf b = KF_BUF_INIT;
	unsigned n = rnd(5), i;

	if (key && rnd(20) == 0)
		n = 40;   /* past libyaml's 128-byte simple keys */
	for (i = 0; i < n; i++)
		kf_buf_adds(&b, pieces[rnd(sizeof pieces / sizeof pieces[0])]);
	if (!b.data)
		return kf_xstrdup("");
	return kf_buf_detach(&b);
}

static cJSON *random_node(int depth)
{
	unsigned k = depth > 4 ? 4 + rnd(4) : rnd(8);
	cJSON *j;
	unsigned n, i;

	switch (k) {
	case 0: case 1: case 2:
		j = k == 0 ? cJSON_CreateObject() : cJSON_CreateArray();
		if (k == 2)
			j = (cJSON_Delete(j), cJSON_CreateObject());
		n = rnd(5);
		for (i = 0; i < n; i++) {
			cJSON *c = random_node(depth + 1);

			if (cJSON_IsObject(j)) {
				char *key = random_string(true);

				if (cJSON_GetObjectItemCaseSensitive(j, key))
					cJSON_Delete(c);
				else
					cJSON_AddItemToObject(j, key, c);
				free(key);
			} else {
				cJSON_AddItemToArray(j, c);
			}
		}
		return j;
	case 3:
		return cJSON_CreateArray();
	case 4: case 5: {
		char *s = random_string(false);

		j = cJSON_CreateString(s);
		free(s);
		return j;
	}
	case 6: {
		static const double nums[] = { 0, 1, -1, 42, 1.5, -0.25, 1e20, 3.14159, 1e-7, 123456789 };

		return cJSON_CreateNumber(nums[rnd(sizeof nums / sizeof nums[0])]);
	}
	default:
		return rnd(3) == 0 ? cJSON_CreateNull() : cJSON_CreateBool(rnd(2));
	}
}

/* Both writers agree byte for byte, and the text loads back as j. */
static bool check(const cJSON *j, const char *what, bool quiet)
{
	struct kf_buf fast = KF_BUF_INIT, ref = KF_BUF_INIT;
	struct kf_err err = { 0 };
	struct kf_ydoc doc = { 0 };
	cJSON *back = NULL;
	bool same, round = false;

	kf_buf_adds(&fast, "prefix kept\n");
	kf_buf_adds(&ref, "prefix kept\n");
	same = kf_yaml_emit(j, &fast, &err) == 0 && kf_yaml_emit_events(j, &ref, &err) == 0 &&
	       fast.len == ref.len && !memcmp(fast.data, ref.data, fast.len);
	if (kf_yaml_load(&doc, what, kf_buf_str(&ref) + 12, ref.len - 12, &err) == 0 && doc.root) {
		back = kf_ynode_to_json(doc.root);
		round = back && cJSON_Compare(j, back, true);
	}
	if (!quiet || !same || !round) {
		TAP_OK(same, "%s: direct writer == libyaml emitter", what);
		TAP_OK(round, "%s: emit then load gives the same JSON", what);
		if (!same || !round) {
			char *js = cJSON_PrintUnformatted(j);

			printf("# json: %s\n# libyaml:\n%s\n# direct:\n%s\n", js, kf_buf_str(&ref), kf_buf_str(&fast));
			free(js);
		}
	}
	cJSON_Delete(back);
	kf_ydoc_release(&doc);
	kf_buf_release(&fast);
	kf_buf_release(&ref);
	return same && round;
}

static void goldens(void)
{
	const char *src = getenv("KF_SRCDIR");
	char *dir = kf_xasprintf("%s/t/fixtures/1001", src ? src : "..");
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	TAP_OK(d != NULL, "fixtures at %s", dir);
	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct kf_ydoc doc = { 0 };
		struct kf_err err = { 0 };
		char *path;

		if (l < 12 || strcmp(e->d_name + l - 12, ".golden.yaml"))
			continue;
		path = kf_xasprintf("%s/%s", dir, e->d_name);
		if (kf_yaml_load_file(&doc, path, &err) == 0 && doc.root) {
			cJSON *j = kf_ynode_to_json(doc.root);
			struct kf_buf out = KF_BUF_INIT;
			struct kf_buf text = KF_BUF_INIT;

			check(j, e->d_name, false);
			/* the golden itself is what the writer gives */
			TAP_OK(kf_yaml_emit(j, &out, &err) == 0 &&
			       kf_fs_read_file(path, &text, &err) == 0 &&
			       text.len == out.len && !memcmp(text.data, out.data, out.len),
			       "%s: rewritten unchanged", e->d_name);
			kf_buf_release(&text);
			kf_buf_release(&out);
			cJSON_Delete(j);
			n++;
		}
		kf_ydoc_release(&doc);
		free(path);
	}
	if (d)
		closedir(d);
	TAP_OK(n >= 5, "%d golden workflows checked", n);
	free(dir);
}

int main(void)
{
	int i, bad = 0;
	const int runs = 3000;

	goldens();
	for (i = 0; i < runs; i++) {
		cJSON *j = random_node(0);
		char what[32];

		snprintf(what, sizeof what, "random #%d", i);
		if (!check(j, what, true))
			bad++;
		cJSON_Delete(j);
	}
	TAP_OK(bad == 0, "%d random documents: %d differ", runs, bad);
	return tap_done();
}
