/* kf_proc: start a step's program and watch it.
 *
 * A step runs from an argv (never through a shell), in its own process
 * group so that a timeout or Ctrl-C reaches everything it started, with
 * its own working directory and environment, stdin from /dev/null and
 * stdout/stderr appended straight to log files: kf never holds a step's
 * output in memory.
 *
 * The run loop blocks SIGCHLD, SIGINT, SIGTERM and SIGHUP with
 * kf_proc_signals_block() and then sleeps in kf_proc_wait() until a child
 * ends, a signal asks it to stop, or its next deadline comes. */
#ifndef KF_PROC_H
#define KF_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct kf_err;

struct kf_proc_opts {
	char *const *argv;         /* argv[0] without '/' is looked up in PATH */
	char *const *envp;         /* the whole environment; NULL inherits kf's */
	const char *cwd;           /* NULL: kf's */
	const char *stdout_path;   /* appended to, created 0644; NULL: /dev/null */
	const char *stderr_path;
};

/* Start the program; *pid is also its process group id. A program that
 * cannot be started (not found, not executable) is KF_EFAIL naming it. */
int kf_proc_spawn(const struct kf_proc_opts *o, pid_t *pid, struct kf_err *err);

/* Signal a step's whole process group; a gone group is not an error. */
void kf_proc_signal(pid_t pgid, int sig);

/* Block the signals the loop waits for (old receives the previous mask). */
void kf_proc_signals_block(sigset_t *old);
void kf_proc_signals_restore(const sigset_t *old);

/* Sleep until a child changes state, a stop signal arrives, or timeout_ms
 * (-1: no limit) passes. Returns the stop signal (SIGINT, SIGTERM, SIGHUP)
 * if one came, else 0. */
int kf_proc_wait(int64_t timeout_ms);

/* One ended child: its pid and wait status, or 0 when none has ended. */
pid_t kf_proc_reap(int *status);

/* Exit code of a wait status: the code, or 128 + the signal. */
int kf_proc_exit_code(int status);

/* Run to completion (for short helper programs): kills the group after
 * timeout_ms (0: none). *code is the exit code, -1 when it timed out. */
int kf_proc_run(const struct kf_proc_opts *o, int64_t timeout_ms, int *code,
		struct kf_err *err);

#endif
