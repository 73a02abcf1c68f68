/* kf_package: write and read .tar.gz/.tgz/.zip/.yaml pipeline packages. */
#include "package/kf_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/kf_buf.h"
#include "util/kf_dl.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#define MEMBER "pipeline.yaml"

int kf_package_format_of(const char *path, enum kf_package_format *fmt, struct kf_err *err)
{
	if (kf_str_ends(path, ".tar.gz") || kf_str_ends(path, ".tgz"))
		*fmt = KF_PACKAGE_TGZ;
	else if (kf_str_ends(path, ".zip"))
		*fmt = KF_PACKAGE_ZIP;
	else if (kf_str_ends(path, ".yaml") || kf_str_ends(path, ".yml"))
		*fmt = KF_PACKAGE_YAML;
	else
		return kf_err_set(err, KF_EUSAGE,
				  "cannot tell the package format of \"%s\" (use .tar.gz, .tgz, .zip, .yaml or .yml)",
				  path);
	return 0;
}

static la_ssize_t buf_write(struct archive *a, void *data, const void *bytes, size_t len)
{
	(void)a;
	kf_buf_add(data, bytes, len);
	return (la_ssize_t)len;
}

static int archive_fail(struct archive *a, struct kf_err *err, const char *what)
{
	kf_err_set(err, KF_EIO, "cannot %s: %s", what,
		   archive_error_string(a) ? archive_error_string(a) : "archive error");
	return KF_EIO;
}

int kf_package_encode(enum kf_package_format fmt, const char *yaml, size_t len, int64_t mtime,
		      struct kf_buf *out, struct kf_err *err)
{
	struct archive *a;
	struct archive_entry *e = NULL;
	int rc = 0;

	if (fmt == KF_PACKAGE_YAML) {
		kf_buf_add(out, yaml, len);
		return 0;
	}
	rc = kf_dl_archive(err);   /* libarchive is loaded on first use */
	if (rc)
		return rc;
	a = archive_write_new();
	if (fmt == KF_PACKAGE_TGZ) {
		if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
		    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
		    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK) {
			rc = archive_fail(a, err, "set up the tar.gz writer");
			goto out;
		}
	} else {
		if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
		    archive_write_set_format_option(a, "zip", "compression", "deflate") != ARCHIVE_OK) {
			rc = archive_fail(a, err, "set up the zip writer");
			goto out;
		}
	}
	/* one block per write so no padding depends on buffer sizes */
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, out, NULL, buf_write, NULL) != ARCHIVE_OK) {
		rc = archive_fail(a, err, "open the package");
		goto out;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, MEMBER);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(a, yaml, len) != (la_ssize_t)len) ||
	    archive_write_close(a) != ARCHIVE_OK)
		rc = archive_fail(a, err, "write the package");
out:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

int kf_package_write(const char *path, const char *yaml, size_t len, int64_t mtime,
		     struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	enum kf_package_format fmt;
	int rc;

	rc = kf_package_format_of(path, &fmt, err);
	if (!rc && fmt == KF_PACKAGE_YAML)
		return kf_fs_write_atomic(path, yaml, len, err);   /* no copy */
	if (!rc)
		rc = kf_package_encode(fmt, yaml, len, mtime, &b, err);
	if (!rc)
		rc = kf_fs_write_atomic(path, b.data ? b.data : "", b.len, err);
	kf_buf_release(&b);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

static bool safe_member_path(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/')
		return false;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

static bool is_yaml_name(const char *p)
{
	return kf_str_ends(p, ".yaml") || kf_str_ends(p, ".yml");
}

static int read_entry_data(struct archive *a, const char *name, const char *member, int64_t size,
			   struct kf_buf *yaml, struct kf_err *err)
{
	char chunk[16384];
	la_ssize_t n;
	size_t total = 0;

	if (size > (int64_t)KF_PACKAGE_MAX_SIZE)
		return kf_err_set(err, KF_EINPUT, "\"%s\" in \"%s\" is larger than 32 MiB", member, name);
	while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
		total += (size_t)n;
		if (total > KF_PACKAGE_MAX_SIZE)
			return kf_err_set(err, KF_EINPUT, "\"%s\" in \"%s\" is larger than 32 MiB",
					  member, name);
		kf_buf_add(yaml, chunk, (size_t)n);
	}
	if (n < 0)
		return kf_err_set(err, KF_EINPUT, "cannot read \"%s\" in \"%s\": %s", member, name,
				  archive_error_string(a));
	return 0;
}

/* Pass 1 picks the member (pipeline.yaml, else the single *.yaml); pass 2
 * reads it. Both passes check every member's path and type. */
static int read_archive(const char *name, const void *data, size_t len, const char *want,
			struct kf_strv *yamls, struct kf_buf *yaml, struct kf_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = 0;

	rc = kf_dl_archive(err);   /* libarchive is loaded on first use */
	if (rc)
		return rc;
	a = archive_read_new();

	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		rc = kf_err_set(err, KF_EINPUT, "\"%s\" is not a readable package: %s", name,
				archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);

		if (!p || !safe_member_path(p)) {
			rc = kf_err_set(err, KF_EINPUT, "package \"%s\" has an unsafe member path \"%s\"",
					name, p ? p : "");
			goto out;
		}
		if (type == AE_IFDIR)
			continue;
		if (type != AE_IFREG || archive_entry_hardlink(e) || archive_entry_symlink(e)) {
			rc = kf_err_set(err, KF_EINPUT, "package \"%s\" has a link or special file \"%s\"",
					name, p);
			goto out;
		}
		if (!want) {
			if (is_yaml_name(p))
				kf_strv_push(yamls, p);
		} else if (!strcmp(p, want)) {
			rc = read_entry_data(a, name, p, archive_entry_size(e), yaml, err);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF)
		rc = kf_err_set(err, KF_EINPUT, "\"%s\" is not a readable package: %s", name,
				archive_error_string(a));
	else if (want)
		rc = kf_err_set(err, KF_EINPUT, "package \"%s\" has no member \"%s\"", name, want);
out:
	archive_read_free(a);
	return rc;
}

int kf_package_read_mem(const char *name, const void *data, size_t len, struct kf_buf *yaml,
			char **member, struct kf_err *err)
{
	const unsigned char *b = data;
	struct kf_strv yamls = KF_STRV_INIT;
	const char *want = NULL;
	int rc;

	if (member)
		*member = NULL;
	if (len > KF_PACKAGE_MAX_SIZE)
		return kf_err_set(err, KF_EINPUT, "package \"%s\" is larger than 32 MiB", name);
	if (is_yaml_name(name) || kf_str_ends(name, ".json") ||
	    !(len >= 2 && ((b[0] == 'P' && b[1] == 'K') || (b[0] == 0x1f && b[1] == 0x8b)))) {
		if (!is_yaml_name(name) && !kf_str_ends(name, ".json"))
			return kf_err_set(err, KF_EINPUT,
					  "\"%s\" is not a package (expected .tar.gz, .tgz, .zip or YAML)",
					  name);
		kf_buf_add(yaml, data, len);
		if (member)
			*member = kf_xstrdup(kf_path_basename(name));
		return 0;
	}
	rc = read_archive(name, data, len, NULL, &yamls, NULL, err);
	if (rc)
		goto out;
	if (kf_strv_has(&yamls, MEMBER))
		want = MEMBER;
	else if (yamls.n == 1)
		want = yamls.v[0];
	else {
		rc = kf_err_set(err, KF_EINPUT, yamls.n ? "package \"%s\" has several YAML members and no pipeline.yaml"
					       : "package \"%s\" has no pipeline.yaml member", name);
		goto out;
	}
	rc = read_archive(name, data, len, want, NULL, yaml, err);
	if (!rc && member)
		*member = kf_xstrdup(want);
out:
	kf_strv_release(&yamls);
	return rc;
}

int kf_package_read(const char *path, struct kf_buf *yaml, char **member, struct kf_err *err)
{
	struct kf_buf raw = KF_BUF_INIT;
	int rc;

	rc = kf_fs_read_file(path, &raw, err);
	if (!rc)
		rc = kf_package_read_mem(path, raw.data ? raw.data : "", raw.len, yaml, member, err);
	kf_buf_release(&raw);
	return rc;
}
