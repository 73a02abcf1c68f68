/* Unit tests for lib/engine (processes) and lib/argo's importer. */
#include "config.h"

#include "kf_tap.h"
#include "argo/kf_argo_import.h"
#include "engine/kf_engine.h"
#include "engine/kf_proc.h"
#include "spec/kf_pipeline.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_time.h"

#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

static char *root;

static char *slurp(const char *path)
{
	struct kf_buf b = KF_BUF_INIT;
	struct kf_err err;

	if (kf_fs_read_file(path, &b, &err) < 0) {
		kf_buf_release(&b);
		return kf_xstrdup("(unreadable)");
	}
	return b.data ? kf_buf_detach(&b) : kf_xstrdup("");
}

static void test_spawn(void)
{
	char *out = kf_path_join(root, "out"), *errp = kf_path_join(root, "err"), *text;
	char *argv[] = { "sh", "-c", "pwd; echo \"$FOO\"; echo oops >&2; exit 3", NULL };
	char *envp[] = { "FOO=$(touch pwned) bar", "PATH=/usr/bin:/bin", NULL };
	struct kf_proc_opts o = { .argv = argv, .envp = envp, .cwd = root,
				  .stdout_path = out, .stderr_path = errp };
	struct kf_err err;
	int code = -5;

	TAP_OK(kf_proc_run(&o, 0, &code, &err) == 0, "run a program");
	TAP_OK(code == 3, "its exit code (%d)", code);
	text = slurp(out);
	{
		char *want = kf_xasprintf("%s\n$(touch pwned) bar\n", root);

		TAP_STR(text, want, "cwd and env applied, stdout to its file, values verbatim");
		free(want);
	}
	free(text);
	text = slurp(errp);
	TAP_STR(text, "oops\n", "stderr to its file");
	free(text);
	/* logs are appended, not truncated: retries keep earlier attempts */
	kf_proc_run(&o, 0, &code, &err);
	text = slurp(errp);
	TAP_STR(text, "oops\noops\n", "logs are appended");
	free(text);
	free(out);
	free(errp);
}

static void test_not_found(void)
{
	char *argv[] = { "kf-no-such-program", NULL };
	struct kf_proc_opts o = { .argv = argv };
	struct kf_err err;
	pid_t pid;

	kf_err_clear(&err);
	if (kf_proc_spawn(&o, &pid, &err) == 0) {
		/* Under valgrind posix_spawn cannot see the exec fail: the child
		 * exits 127, as from a shell, which the engine reports too. */
		int status = 0;

		waitpid(pid, &status, 0);
		TAP_OK(kf_proc_exit_code(status) == 127, "a missing program exits 127");
	} else {
		TAP_OK(err.code == KF_EFAIL, "a missing program is a failure");
		TAP_OK(strstr(err.msg, "cannot run \"kf-no-such-program\"") != NULL, "naming it: %s",
		       err.msg);
	}
	{
		char *none[] = { NULL };
		struct kf_proc_opts e = { .argv = none };

		TAP_OK(kf_proc_spawn(&e, &pid, &err) == KF_EINPUT, "an empty command is refused");
	}
}

static void test_timeout_kills_group(void)
{
	char *pidfile = kf_path_join(root, "child.pid");
	char *script = kf_xasprintf("sleep 30 & echo $! > '%s'; wait", pidfile);
	char *argv[] = { "sh", "-c", script, NULL };
	struct kf_proc_opts o = { .argv = argv };
	struct kf_err err;
	int64_t t0 = kf_time_mono_ns();
	int code = 0;
	char *text;
	long child;

	TAP_OK(kf_proc_run(&o, 300, &code, &err) == 0 && code == -1, "a timeout is reported");
	TAP_OK(kf_time_mono_ns() - t0 < 10LL * 1000000000LL, "without waiting for the step");
	text = slurp(pidfile);
	child = atol(text);
	usleep(100000);
	{
		char *stat = kf_xasprintf("/proc/%ld/stat", child);
		char *st = kf_fs_exists(stat) ? slurp(stat) : kf_xstrdup("");
		const char *close_paren = strrchr(st, ')');

		/* gone, or a zombie waiting for an init that may not reap */
		TAP_OK(child > 0 && (!*st || (close_paren && close_paren[2] == 'Z')),
		       "the step's child (pid %ld) was killed with it", child);
		free(st);
		free(stat);
	}
	free(text);
	free(script);
	free(pidfile);
}

static void test_wait_reap(void)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct kf_proc_opts o = { .argv = argv };
	struct kf_err err;
	sigset_t old;
	pid_t pid, got = 0;
	int status = 0;

	kf_proc_signals_block(&old);
	TAP_OK(kf_proc_spawn(&o, &pid, &err) == 0, "spawn with signals blocked");
	TAP_OK(kf_proc_wait(5000) == 0, "wait wakes for a child, not a stop signal");
	for (int i = 0; i < 500 && got != pid; i++) {
		pid_t p = kf_proc_reap(&status);

		if (p)
			got = p;
		else
			kf_proc_wait(10);
	}
	TAP_OK(got == pid, "reap returns the child");
	TAP_OK(kf_proc_exit_code(status) == 128 + SIGTERM, "a signal is 128 + its number (%d)",
	       kf_proc_exit_code(status));
	kill(getpid(), SIGTERM);
	TAP_OK(kf_proc_wait(1000) == SIGTERM, "SIGTERM to kf is reported as a stop signal");
	kf_proc_signals_restore(&old);
}

static void test_argo(void)
{
	static const char wf[] =
		"apiVersion: argoproj.io/v1alpha1\n"
		"kind: Workflow\n"
		"metadata: {generateName: demo-}\n"
		"spec:\n"
		"  entrypoint: main\n"
		"  arguments: {parameters: [{name: msg, value: hi}]}\n"
		"  templates:\n"
		"  - name: main\n"
		"    inputs: {parameters: [{name: msg}]}\n"
		"    dag:\n"
		"      tasks:\n"
		"      - name: make\n"
		"        template: make\n"
		"        arguments: {parameters: [{name: m, value: '{{inputs.parameters.msg}}'}]}\n"
		"      - name: use\n"
		"        template: use\n"
		"        dependencies: [make]\n"
		"        arguments: {artifacts: [{name: f, from: '{{tasks.make.outputs.artifacts.out}}'}]}\n"
		"  - name: make\n"
		"    inputs: {parameters: [{name: m}]}\n"
		"    container: {image: busybox, command: [sh, -c, 'echo {{inputs.parameters.m}} > /tmp/outputs/out/data']}\n"
		"    outputs: {artifacts: [{name: out, path: /tmp/outputs/out/data}]}\n"
		"  - name: use\n"
		"    inputs: {artifacts: [{name: f, path: /tmp/inputs/f/data}]}\n"
		"    container: {image: busybox, command: [cat, /tmp/inputs/f/data]}\n";
	struct kf_buf spec = KF_BUF_INIT;
	struct kf_err err;
	cJSON *doc;

	kf_err_clear(&err);
	TAP_OK(kf_argo_import("wf.yaml", wf, sizeof wf - 1, &spec, &err) == 0, "import a workflow: %s", err.msg);
	doc = cJSON_Parse(kf_buf_str(&spec));
	TAP_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "apiVersion")), "kf/v1", "as a kf/v1 pipeline");
	TAP_STR(cJSON_GetStringValue(kf_json_path(doc, "metadata.name")), "demo", "named from generateName");
	TAP_OK(strstr(kf_buf_str(&spec), "\"outputPath\":\t\"out\"") != NULL, "the output path is remapped");
	TAP_OK(strstr(kf_buf_str(&spec), "\"inputPath\":\t\"f\"") != NULL, "the input path is remapped");
	TAP_OK(strstr(kf_buf_str(&spec), "{{steps.make.outputs.out}}") != NULL, "the artifact passes between steps");
	TAP_OK(strstr(kf_buf_str(&spec), "{{params.msg}}") != NULL, "the workflow parameter reaches the step");
	cJSON_Delete(doc);
	kf_buf_release(&spec);

	{
		static const char bad[] =
			"apiVersion: argoproj.io/v1alpha1\n"
			"kind: Workflow\n"
			"spec:\n"
			"  entrypoint: main\n"
			"  templates:\n"
			"  - name: main\n"
			"    suspend: {}\n";

		TAP_OK(kf_argo_import("bad.yaml", bad, sizeof bad - 1, &spec, &err) == KF_EINPUT, "a suspend template is refused");
		TAP_OK(err.line == 7 && strstr(err.msg, "template \"main\": \"suspend\"") != NULL,
		       "at its line, naming template and field: %d: %s", err.line, err.msg);
		kf_buf_release(&spec);
	}
}

/* The engine as other commands call it: a pipeline in memory, the run
 * under a context of the caller's (kf tune's trial). */
static void test_engine_api(void)
{
	static const char text[] =
		"apiVersion: kf/v1\n"
		"kind: Pipeline\n"
		"metadata: {name: api}\n"
		"spec:\n"
		"  params: {x: {type: String, default: '7'}}\n"
		"  components:\n"
		"    twice:\n"
		"      name: twice\n"
		"      inputs: [{name: x}]\n"
		"      outputs: [{name: y}]\n"
		"      implementation:\n"
		"        container: {image: busybox, command: [sh, -c, 'echo $(($0 * 2)) > \"$1\"', {inputValue: x}, {outputPath: y}]}\n"
		"  steps:\n"
		"    t: {component: twice, args: {x: '{{params.x}}'}}\n";
	char *dir = kf_path_join(root, "store");
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_pipeline_opts po = { .store_dir = dir, .require_params = true };
	struct kf_pipeline *p = NULL;
	struct kf_store *st = NULL;
	struct kf_engine_result res;
	struct kf_err err;
	int64_t trial = 0;
	cJSON *tasks = NULL, *binds, *rows = NULL;

	kf_err_clear(&err);
	if (kf_store_open(dir, &st, &err) < 0 ||
	    kf_pipeline_load_text(&p, "api.yaml", text, sizeof text - 1, &po, &errs) < 0) {
		TAP_OK(0, "set up: %s", err.msg);
		goto out;
	}
	kf_store_context(st, "kf.Trial", "trial-1", NULL, 0, &trial, &err);
	{
		struct kf_engine_opts eo = { .store = st, .jobs = 1, .parent_context = trial };

		TAP_OK(kf_engine_run(p, &eo, &res, &err) == 0, "run a pipeline from memory: %s", err.msg);
	}
	TAP_STR(res.state, "Succeeded", "it succeeds");
	kf_store_task_list(st, res.run_id, &tasks, &err);
	TAP_STR(cJSON_GetStringValue(kf_json_path(cJSON_GetArrayItem(tasks, 0), "outputs.values.y")), "14",
		"its output value is in the task record");
	binds = cJSON_CreateArray();
	cJSON_AddItemToArray(binds, cJSON_CreateString(res.run_id));
	cJSON_AddItemToArray(binds, cJSON_CreateNumber((double)trial));
	kf_store_query(st, "SELECT count(*) AS n FROM ParentContext pc JOIN Context c ON c.id = pc.context_id"
		       " WHERE c.name = ?1 AND pc.parent_context_id = ?2", binds, &rows, &err);
	TAP_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "n")), 1, 0,
		 "the run's context has the trial as a parent");
	cJSON_Delete(binds);
	cJSON_Delete(rows);
	cJSON_Delete(tasks);
	kf_engine_result_release(&res);
out:
	kf_pipeline_free(p);
	kf_store_close(st);
	kf_errlist_release(&errs);
	free(dir);
}

int main(void)
{
	char tmpl[] = "/tmp/kf-test-engine.XXXXXX";
	struct kf_err err;

	root = mkdtemp(tmpl);
	if (!root)
		return 1;
	test_spawn();
	test_not_found();
	test_timeout_kills_group();
	test_wait_reap();
	test_argo();
	test_engine_api();
	kf_fs_remove_tree(root, &err);
	return tap_done();
}
