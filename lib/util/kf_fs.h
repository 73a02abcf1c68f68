/* kf_fs: paths and files. Paths returned as char * are the caller's. */
#ifndef KF_FS_H
#define KF_FS_H

#include <stdbool.h>
#include <stddef.h>

struct kf_buf;
struct kf_err;

char *kf_path_join(const char *dir, const char *name);
char *kf_path_dirname(const char *path);          /* "." for a bare name */
const char *kf_path_basename(const char *path);   /* borrowed from path */
/* Absolute form of path against the working directory (no symlink resolution). */
char *kf_path_absolute(const char *path);

bool kf_fs_exists(const char *path);
bool kf_fs_is_dir(const char *path);
/* mkdir -p with mode 0777 & ~umask. */
int kf_fs_mkdirs(const char *path, struct kf_err *err);
/* Read a whole file ("-" is stdin) into buf (appended). */
int kf_fs_read_file(const char *path, struct kf_buf *buf, struct kf_err *err);
/* Write to a temp name beside path, fsync, rename into place: readers see
 * the old file or the new one, never half of one. */
int kf_fs_write_atomic(const char *path, const void *data, size_t len, struct kf_err *err);
/* cp -r of regular files and directories (modes kept, made owner-writable);
 * a symlink or special file is refused. dst must not exist. */
int kf_fs_copy_tree(const char *src, const char *dst, struct kf_err *err);
/* rm -rf; a missing path is not an error. Does not follow symlinks. */
int kf_fs_remove_tree(const char *path, struct kf_err *err);
/* Path of the running executable (for steps whose command is "kf"). */
char *kf_fs_self_exe(void);

#endif
