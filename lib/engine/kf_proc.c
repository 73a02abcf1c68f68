/* kf_proc: processes for steps, with posix_spawn (vfork-fast) and a
 * signal-driven wait. */
#include "config.h"

#include "engine/kf_proc.h"
#include "util/kf_err.h"
#include "util/kf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void wait_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* SIGCHLD must not be ignored or waitpid loses the statuses; a handler
 * that does nothing keeps it deliverable to sigtimedwait. */
static void on_chld(int sig)
{
	(void)sig;
}

void kf_proc_signals_block(sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	wait_set(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

void kf_proc_signals_restore(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

static int add_log(posix_spawn_file_actions_t *fa, int fd, const char *path)
{
	if (!path)
		return posix_spawn_file_actions_addopen(fa, fd, "/dev/null", O_WRONLY, 0);
	return posix_spawn_file_actions_addopen(fa, fd, path,
						O_WRONLY | O_CREAT | O_APPEND, 0644);
}

int kf_proc_spawn(const struct kf_proc_opts *o, pid_t *pid, struct kf_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int rc;

	*pid = 0;
	if (!o->argv || !o->argv[0] || !o->argv[0][0])
		return kf_err_set(err, KF_EINPUT, "empty command");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGCHLD);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGPIPE);
	/* Own process group; signals as a fresh program expects them. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc && o->cwd)
		rc = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	/* Opened after the chdir: log paths must be absolute or relative to cwd. */
	if (!rc)
		rc = add_log(&fa, 1, o->stdout_path);
	if (!rc)
		rc = add_log(&fa, 2, o->stderr_path);
	if (!rc)
		rc = posix_spawnp(pid, o->argv[0], &fa, &attr, o->argv, o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		errno = rc;
		*pid = 0;
		return kf_err_set(err, KF_EFAIL, "cannot run \"%s\": %s", o->argv[0], strerror(rc));
	}
	return 0;
}

void kf_proc_signal(pid_t pgid, int sig)
{
	if (pgid > 0)
		kill(-pgid, sig);
}

int kf_proc_wait(int64_t timeout_ms)
{
	struct timespec ts, *tp = NULL;
	siginfo_t info;
	sigset_t set;
	int sig;

	wait_set(&set);
	if (timeout_ms >= 0) {
		ts.tv_sec = (time_t)(timeout_ms / 1000);
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tp = &ts;
	}
	sig = tp ? sigtimedwait(&set, &info, tp) : sigwaitinfo(&set, &info);
	if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
		return sig;
	return 0;
}

pid_t kf_proc_reap(int *status)
{
	pid_t pid;

	do
		pid = waitpid(-1, status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	return pid > 0 ? pid : 0;
}

int kf_proc_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int kf_proc_run(const struct kf_proc_opts *o, int64_t timeout_ms, int *code, struct kf_err *err)
{
	int64_t deadline = timeout_ms ? kf_time_mono_ns() / 1000000 + timeout_ms : 0;
	pid_t pid, got;
	int status = 0, rc;

	*code = -1;
	if ((rc = kf_proc_spawn(o, &pid, err)) < 0)
		return rc;
	for (;;) {
		do
			got = waitpid(pid, &status, timeout_ms ? WNOHANG : 0);
		while (got < 0 && errno == EINTR);
		if (got == pid)
			break;
		if (got < 0)
			return kf_err_sys(err, "cannot wait for \"%s\"", o->argv[0]);
		if (kf_time_mono_ns() / 1000000 >= deadline) {
			kf_proc_signal(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 0;
		}
		usleep(2000);
	}
	kf_proc_signal(pid, SIGKILL);   /* whatever it left behind in its group */
	*code = kf_proc_exit_code(status);
	return 0;
}
