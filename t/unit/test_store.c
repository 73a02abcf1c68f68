/* Unit tests for lib/store: schema, MLMD records, artifacts, runs, cache. */
#include "config.h"

#include "kf_tap.h"
#include "store/kf_store.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static char *tpath(const char *name)
{
	return kf_path_join(root, name);
}

static void write_file(const char *path, const char *text)
{
	struct kf_err err;

	kf_fs_write_atomic(path, text, strlen(text), &err);
}

static void test_open(void)
{
	struct kf_store *s = NULL, *s2 = NULL;
	struct kf_err err;
	char *dir = tpath("store");

	TAP_OK(kf_store_open(dir, &s, &err) == 0, "open a new store");
	TAP_OK(kf_store_schema_version(s) == KF_STORE_SCHEMA_VERSION, "schema version recorded");
	TAP_OK(kf_store_open(dir, &s2, &err) == 0, "a second handle opens the same store");
	kf_store_close(s2);
	kf_store_close(s);
	TAP_OK(kf_store_open(dir, &s, &err) == 0, "reopen");
	TAP_OK(kf_store_schema_version(s) == KF_STORE_SCHEMA_VERSION, "no migration twice");
	kf_store_close(s);
	free(dir);
}

static void test_digest(struct kf_store *s)
{
	struct kf_err err;
	char *d1 = tpath("tree1"), *d2 = tpath("tree2"), *f, *sub, *stored = NULL;
	char h1[65], h2[65], h3[65];
	bool is_dir = false;
	struct stat st;

	/* Two trees with the same content made in different orders. */
	kf_fs_mkdirs(d1, &err);
	kf_fs_mkdirs(d2, &err);
	sub = kf_path_join(d1, "sub");
	kf_fs_mkdirs(sub, &err);
	f = kf_path_join(sub, "b.txt"); write_file(f, "bee\n"); free(f);
	f = kf_path_join(d1, "a.txt"); write_file(f, "ay\n"); free(f);
	free(sub);
	f = kf_path_join(d2, "a.txt"); write_file(f, "ay\n"); free(f);
	sub = kf_path_join(d2, "sub");
	kf_fs_mkdirs(sub, &err);
	f = kf_path_join(sub, "b.txt"); write_file(f, "bee\n"); free(f);
	free(sub);

	TAP_OK(kf_store_digest_path(d1, h1, &is_dir, &err) == 0 && is_dir, "digest of a directory");
	TAP_OK(kf_store_digest_path(d2, h2, NULL, &err) == 0, "digest of its twin");
	TAP_STR(h1, h2, "directory digest does not depend on creation order");
	f = kf_path_join(d2, "a.txt"); write_file(f, "changed\n"); free(f);
	kf_store_digest_path(d2, h3, NULL, &err);
	TAP_OK(strcmp(h1, h3) != 0, "a changed file changes the directory digest");

	TAP_OK(kf_store_put_dir(s, d1, 0, h2, &stored, &err) == 0, "put a directory");
	TAP_STR(h2, h1, "stored under its digest");
	TAP_OK(stored && kf_fs_is_dir(stored), "stored directory exists");
	TAP_OK(stored && stat(stored, &st) == 0 && (st.st_mode & 0222) == 0, "stored directory is read-only");
	TAP_OK(kf_store_blob_verify(s, h1, &err) == 0, "verify re-hashes to the same digest");
	TAP_OK(kf_fs_is_dir(d1), "put without move keeps the source");
	free(stored);
	stored = NULL;
	TAP_OK(kf_store_put(s, d1, KF_PUT_MOVE, h2, &stored, &err) == 0, "put the same tree again, moving");
	TAP_STR(h2, h1, "same digest");
	TAP_OK(!kf_fs_exists(d1) || kf_fs_is_dir(d1), "moved or kept, never half");
	free(stored);

	f = tpath("one.txt");
	write_file(f, "abc");
	stored = NULL;
	TAP_OK(kf_store_put_file(s, f, 0, h3, &stored, &err) == 0, "put a file");
	TAP_STR(h3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"a file's digest is the sha256 of its bytes");
	TAP_OK(stored && strstr(stored, "/artifacts/sha256/ba/7816bf") != NULL, "path is sha256/ab/cdef...");
	TAP_OK(stored && stat(stored, &st) == 0 && (st.st_mode & 0777) == 0444, "stored file is 0444");
	TAP_OK(kf_store_put_dir(s, f, 0, h3, NULL, &err) == KF_EINPUT, "put_dir refuses a file");
	{
		char *tmpdir = tpath("store/artifacts/tmp");
		struct stat ts;

		TAP_OK(stat(tmpdir, &ts) == 0 && ts.st_nlink == 2, "no temporary left behind");
		free(tmpdir);
	}
	TAP_OK(kf_store_blob_remove(s, h1, &err) == 0, "remove a stored directory");
	{
		char *p = kf_store_blob_path(s, h1);

		TAP_OK(!kf_fs_exists(p), "it is gone");
		free(p);
	}
	free(stored);
	free(f);
	free(d1);
	free(d2);
}

static void test_record(struct kf_store *s)
{
	struct kf_err err;
	struct kf_store_props ep = KF_STORE_PROPS_INIT, sp = KF_STORE_PROPS_INIT;
	char *data = tpath("train.csv"), *stats = tpath("stats.json");
	int64_t ctx = 0, parent = 0, exec = 0, exec2 = 0;
	cJSON *obj = NULL, *rows = NULL, *json = cJSON_Parse("{\"a\":[1,2]}");

	write_file(data, "x,y\n1,2\n");
	write_file(stats, "{\"num_examples\": 1}");
	kf_store_props_int(&sp, "num_examples", 1);
	kf_store_props_double(&sp, "mean", 1.5);
	kf_store_props_str(&ep, "command", "kf analyze stats");
	kf_store_props_json(&ep, "config", json);

	struct kf_store_ref in = { .path = "data", .type = "Dataset", .file = data };
	struct kf_store_ref out = { .path = "statistics", .type = "Statistics", .file = stats,
				    .put = true, .props = &sp };
	struct kf_store_record rec = { .type = "kf.AnalyzeStats", .name = "stats",
				       .state = KF_EXEC_COMPLETE, .props = &ep, .inputs = &in,
				       .n_inputs = 1, .outputs = &out, .n_outputs = 1 };

	TAP_OK(kf_store_context(s, "kf.Experiment", "exp", NULL, 0, &parent, &err) == 0, "parent context");
	TAP_OK(kf_store_context(s, "kf.Trial", "exp-1", NULL, parent, &ctx, &err) == 0, "child context");
	{
		int64_t again = 0;

		kf_store_context(s, "kf.Trial", "exp-1", NULL, parent, &again, &err);
		TAP_OK(again == ctx, "context get-or-create by type and name");
	}
	rec.contexts = &ctx;
	rec.n_contexts = 1;
	TAP_OK(kf_store_record(s, &rec, &exec, &err) == 0, "record an execution");
	TAP_OK(exec > 0 && in.id > 0 && out.id > 0, "ids filled");
	TAP_OK(out.uri_out && strstr(out.uri_out, "/artifacts/sha256/") != NULL, "output stored in the CAS");
	TAP_OK(in.uri_out && in.uri_out[0] == '/' && strstr(in.uri_out, "train.csv"), "input uri is its absolute path");

	TAP_OK(kf_store_execution_get(s, exec, &obj, &err) == 0, "read the execution");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "state")), "COMPLETE", "state by name");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "type")), "kf.AnalyzeStats", "type by name");
	TAP_STR(cJSON_GetStringValue(kf_json_path(obj, "properties.command")), "kf analyze stats", "string property");
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(obj, "events")) == 2, "two events");
	TAP_OK(cJSON_IsArray(kf_json_path(obj, "properties.config.a")), "JSON property round-trips");
	cJSON_Delete(obj);

	TAP_OK(kf_store_artifact_get(s, out.id, &obj, &err) == 0, "read the output artifact");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "state")), "LIVE", "artifact LIVE");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "digest")), out.digest, "digest recorded");
	TAP_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "properties"), "mean")), 1.5, 0, "double property");
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(obj, "contexts")) == 1, "attributed to the context");
	cJSON_Delete(obj);

	/* A second execution reading the same file reuses the same artifact. */
	struct kf_store_ref in2 = { .path = "data", .type = "Dataset", .file = data };
	struct kf_store_record rec2 = { .type = "kf.Train", .state = KF_EXEC_COMPLETE,
					.inputs = &in2, .n_inputs = 1 };

	TAP_OK(kf_store_record(s, &rec2, &exec2, &err) == 0, "record a consumer");
	TAP_OK(in2.id == in.id, "the same input file is the same artifact");
	TAP_OK(kf_store_query(s, "SELECT count(*) AS n FROM Event WHERE artifact_id = ?1",
			      rows = cJSON_Parse("[0]"), &obj, &err) == 0, "read-only query");
	cJSON_Delete(obj);
	cJSON_Delete(rows);
	rows = cJSON_CreateArray();
	cJSON_AddItemToArray(rows, cJSON_CreateNumber((double)in.id));
	kf_store_query(s, "SELECT count(*) AS n FROM Event WHERE artifact_id = ?1", rows, &obj, &err);
	TAP_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(obj, 0), "n")), 2, 0,
		 "two events on the shared input");
	cJSON_Delete(obj);
	cJSON_Delete(rows);
	TAP_OK(kf_store_query(s, "DELETE FROM Event", NULL, &obj, &err) == KF_EINPUT, "writes refused");
	TAP_OK(kf_store_artifact_set_state(s, out.id, KF_ART_DELETED, &err) == 0, "mark deleted");
	kf_store_artifact_get(s, out.id, &obj, &err);
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "state")), "DELETED", "state changed");
	cJSON_Delete(obj);
	TAP_OK(kf_store_artifact_get(s, 99999, &obj, &err) == KF_ENOTFOUND, "missing artifact");
	TAP_OK(kf_store_context_get(s, ctx, &obj, &err) == 0, "read the context");
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(obj, "contexts")) == 1, "with its parent");
	cJSON_Delete(obj);

	kf_store_ref_release(&in);
	kf_store_ref_release(&out);
	kf_store_ref_release(&in2);
	kf_store_props_release(&ep);
	kf_store_props_release(&sp);
	cJSON_Delete(json);
	free(data);
	free(stats);
}

static void test_runs(struct kf_store *s)
{
	struct kf_err err;
	char *id = kf_store_run_new_id("My Pipeline!");
	cJSON *params = cJSON_Parse("{\"x\":\"1\"}"), *outs = cJSON_Parse("{\"params\":{\"o\":\"v\"}}");
	cJSON *obj = NULL, *got = NULL;
	struct kf_store_run run = { .id = id, .name = "n1", .pipeline = "p", .params = params,
				    .state = "Running" };
	struct kf_store_task t = { .run = id, .task = "a", .step = "a", .state = "Succeeded",
				   .attempt = 1, .exit_code = 0, .outputs = outs };
	int64_t exec = 0;

	TAP_OK(!strncmp(id, "my-pipeline--", 13) && strlen(id) == 21, "run id from the name: %s", id);
	TAP_OK(kf_store_run_add(s, &run, &err) == 0, "add a run");
	TAP_OK(kf_store_task_put(s, &t, &err) == 0, "add a task");
	t.state = "Failed";
	TAP_OK(kf_store_task_put(s, &t, &err) == 0, "update the task");
	TAP_OK(kf_store_run_set_state(s, id, "Succeeded", true, NULL, &err) == 0, "finish the run");
	TAP_OK(kf_store_run_get(s, "n1", &obj, &err) == 0, "find a run by name");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "state")), "Succeeded", "its state");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "params"), "x")), "1", "its params");
	cJSON_Delete(obj);
	TAP_OK(kf_store_run_get(s, "my-pipe", &obj, &err) == 0, "find a run by id prefix");
	cJSON_Delete(obj);
	TAP_OK(kf_store_task_list(s, id, &obj, &err) == 0 && cJSON_GetArraySize(obj) == 1, "one task row");
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(obj, 0), "state")), "Failed", "updated in place");
	cJSON_Delete(obj);
	TAP_OK(kf_store_run_list(s, 0, &obj, &err) == 0 && cJSON_GetArraySize(obj) == 1, "list runs");
	cJSON_Delete(obj);

	TAP_OK(kf_store_cache_put(s, "k1", outs, 7, &err) == 0, "cache put");
	TAP_OK(kf_store_cache_get(s, "k1", 0, &got, &exec, &err) == 0 && got && exec == 7, "cache hit");
	cJSON_Delete(got);
	TAP_OK(kf_store_cache_get(s, "k2", 0, &got, &exec, &err) == 0 && !got, "cache miss");
	usleep(20000);
	TAP_OK(kf_store_cache_get(s, "k1", 5, &got, &exec, &err) == 0 && !got, "stale entry misses");
	cJSON_Delete(outs);
	outs = cJSON_Parse("{\"artifacts\":{\"m\":{\"uri\":\"/nonexistent/x\"}}}");
	kf_store_cache_put(s, "k3", outs, 0, &err);
	TAP_OK(kf_store_cache_get(s, "k3", 0, &got, &exec, &err) == 0 && !got,
	       "entry whose artifact is gone misses");

	TAP_OK(kf_store_begin(s, &err) == 0 && kf_store_begin(s, &err) == 0, "nested begin");
	t.task = "b";
	t.outputs = NULL;
	kf_store_task_put(s, &t, &err);
	kf_store_rollback(s);
	TAP_OK(kf_store_commit(s, &err) < 0, "outer commit after an inner rollback fails");
	kf_store_task_list(s, id, &obj, &err);
	TAP_OK(cJSON_GetArraySize(obj) == 1, "the rolled-back write is not there");
	cJSON_Delete(obj);

	TAP_OK(kf_store_run_delete(s, id, &err) == 0, "delete the run");
	TAP_OK(kf_store_run_get(s, id, &obj, &err) == KF_ENOTFOUND, "gone");
	TAP_OK(kf_store_run_delete(s, id, &err) == KF_ENOTFOUND, "deleting twice is not found");
	cJSON_Delete(params);
	cJSON_Delete(outs);
	free(id);
}

static void test_names(void)
{
	TAP_STR(kf_exec_state_name(KF_EXEC_CACHED), "CACHED", "exec state name");
	TAP_OK(kf_exec_state_parse("complete") == KF_EXEC_COMPLETE, "exec state parse");
	TAP_OK(kf_artifact_state_parse("LIVE") == KF_ART_LIVE, "artifact state parse");
	TAP_OK(kf_artifact_state_parse("nope") == -1, "unknown state");
	TAP_STR(kf_event_type_name(KF_EVENT_OUTPUT), "OUTPUT", "event name");
	TAP_STR(kf_exec_state_name(99), "UNKNOWN", "out of range");
}

int main(void)
{
	char tmpl[] = "/tmp/kf-test-store.XXXXXX";
	struct kf_store *s = NULL;
	struct kf_err err;
	char *dir;

	root = mkdtemp(tmpl);
	if (!root)
		return 1;
	test_names();
	test_open();
	dir = tpath("store");
	if (kf_store_open(dir, &s, &err) == 0) {
		test_digest(s);
		test_record(s);
		test_runs(s);
		kf_store_close(s);
	} else {
		TAP_OK(0, "open: %s", err.msg);
	}
	free(dir);
	kf_fs_remove_tree(root, &err);
	return tap_done();
}
