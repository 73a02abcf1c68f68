#include "config.h"

#include "util/kf_fs.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *kf_path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (!n || name[0] == '/')
		return kf_xstrdup(name);
	if (dir[n - 1] == '/')
		return kf_xasprintf("%s%s", dir, name);
	return kf_xasprintf("%s/%s", dir, name);
}

char *kf_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return kf_xstrdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return kf_xstrdup("/");
	return kf_xstrndup(path, (size_t)(slash - path));
}

const char *kf_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *kf_path_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return kf_xstrdup(path);
	if (strcmp(path, ".") == 0)
		return kf_xstrdup(cwd);
	return kf_path_join(cwd, path[0] == '.' && path[1] == '/' ? path + 2 : path);
}

bool kf_fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool kf_fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int kf_fs_mkdirs(const char *path, struct kf_err *err)
{
	char *p = kf_xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = kf_err_sys(err, "cannot create directory \"%s\"", p);
			break;
		}
		*s = saved;
		if (!saved)
			break;
	}
	if (!rc && !kf_fs_is_dir(path))
		rc = kf_err_set(err, KF_EIO, "\"%s\" exists and is not a directory", path);
	free(p);
	return rc;
}

int kf_fs_read_file(const char *path, struct kf_buf *buf, struct kf_err *err)
{
	char chunk[65536];
	ssize_t n;
	int fd;
	bool is_stdin = strcmp(path, "-") == 0;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kf_err_sys(err, "cannot open \"%s\"", path);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kf_err_sys(err, "cannot read \"%s\"", path);
			if (!is_stdin)
				close(fd);
			return KF_EIO;
		}
		kf_buf_add(buf, chunk, (size_t)n);
	}
	if (!is_stdin)
		close(fd);
	if (!buf->data)
		kf_buf_grow(buf, 0);
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kf_fs_write_atomic(const char *path, const void *data, size_t len, struct kf_err *err)
{
	char *tmp = kf_xasprintf("%s.tmp.XXXXXX", path);
	int fd, rc = 0;

	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = kf_err_sys(err, "cannot create \"%s\"", path);
		goto out;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = kf_err_sys(err, "cannot write \"%s\"", path);
		close(fd);
		unlink(tmp);
		goto out;
	}
	/* mkstemp makes 0600; give the file the usual umask-derived mode. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = kf_err_sys(err, "cannot rename into \"%s\"", path);
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

static int copy_file(const char *src, const char *dst, mode_t mode, struct kf_err *err)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return kf_err_sys(err, "cannot open \"%s\"", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode & 0777) | S_IWUSR);
	if (out < 0) {
		close(in);
		return kf_err_sys(err, "cannot create \"%s\"", dst);
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) != 0) {
			rc = kf_err_sys(err, "cannot copy \"%s\" to \"%s\"", src, dst);
			break;
		}
	}
	if (close(out) != 0 && !rc)
		rc = kf_err_sys(err, "cannot write \"%s\"", dst);
	close(in);
	return rc;
}

int kf_fs_copy_tree(const char *src, const char *dst, struct kf_err *err)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(src, &st) != 0)
		return kf_err_sys(err, "cannot stat \"%s\"", src);
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode, err);
	if (!S_ISDIR(st.st_mode))
		return kf_err_set(err, KF_EINPUT, "\"%s\" is neither a file nor a directory", src);
	if (mkdir(dst, (st.st_mode & 0777) | S_IRWXU) != 0)
		return kf_err_sys(err, "cannot create directory \"%s\"", dst);
	d = opendir(src);
	if (!d)
		return kf_err_sys(err, "cannot open directory \"%s\"", src);
	while (!rc && (e = readdir(d))) {
		char *from, *to;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		from = kf_path_join(src, e->d_name);
		to = kf_path_join(dst, e->d_name);
		rc = kf_fs_copy_tree(from, to, err);
		free(from);
		free(to);
	}
	closedir(d);
	return rc;
}

int kf_fs_remove_tree(const char *path, struct kf_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : kf_err_sys(err, "cannot stat \"%s\"", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return kf_err_sys(err, "cannot remove \"%s\"", path);
		return 0;
	}
	chmod(path, st.st_mode | S_IRWXU);   /* read-only artifact dirs */
	d = opendir(path);
	if (!d)
		return kf_err_sys(err, "cannot open directory \"%s\"", path);
	while (!rc && (e = readdir(d))) {
		char *child;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = kf_path_join(path, e->d_name);
		rc = kf_fs_remove_tree(child, err);
		free(child);
	}
	closedir(d);
	if (!rc && rmdir(path) != 0 && errno != ENOENT)
		rc = kf_err_sys(err, "cannot remove \"%s\"", path);
	return rc;
}

char *kf_fs_self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return kf_xstrdup(buf);
}
