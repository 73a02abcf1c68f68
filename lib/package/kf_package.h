/* kf_package: pipeline packages as KFP v1 writes and reads them.
 *
 * A package is an Argo Workflow YAML, stored by extension as a gzip tar
 * (.tar.gz/.tgz) or a zip (.zip) holding one member "pipeline.yaml", or as
 * plain YAML (.yaml/.yml). Archives are written deterministically: fixed
 * mtime (0 unless given), uid/gid 0, mode 0644, no owner names, so the same
 * YAML gives the same bytes.
 *
 * Reading follows the KFP API server: extension first, then magic bytes
 * (PK = zip, 1f 8b = tar.gz); inside an archive the member "pipeline.yaml",
 * else the single .yaml/.yml member; at most 32 MiB. Members with absolute
 * paths or ".." components, and links, are refused.
 *
 * Ownership: buffers passed in are the caller's; libarchive stays inside. */
#ifndef KF_PACKAGE_H
#define KF_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

struct kf_buf;
struct kf_err;

#define KF_PACKAGE_MAX_SIZE (32u << 20)

enum kf_package_format {
	KF_PACKAGE_TGZ,
	KF_PACKAGE_ZIP,
	KF_PACKAGE_YAML
};

/* Format from a file name's extension; KF_EUSAGE naming the accepted ones
 * for anything else. */
int kf_package_format_of(const char *path, enum kf_package_format *fmt, struct kf_err *err);

/* Append the package bytes for yaml in fmt to out. mtime (seconds since the
 * epoch) is stamped on the member; pass 0 for reproducible output. */
int kf_package_encode(enum kf_package_format fmt, const char *yaml, size_t len, int64_t mtime,
		      struct kf_buf *out, struct kf_err *err);

/* Encode and write to path atomically (format from its extension). */
int kf_package_write(const char *path, const char *yaml, size_t len, int64_t mtime,
		     struct kf_err *err);

/* Read the workflow YAML out of a package file (appended to yaml). member,
 * when not NULL, receives the member name read (or the file's base name for
 * plain YAML) as a string the caller frees. */
int kf_package_read(const char *path, struct kf_buf *yaml, char **member, struct kf_err *err);

/* The same from bytes in memory; name is used for the extension and errors. */
int kf_package_read_mem(const char *name, const void *data, size_t len, struct kf_buf *yaml,
			char **member, struct kf_err *err);

#endif
