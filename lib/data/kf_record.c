/* kf_record: record a kf analyze execution in the store (see kf_record.h). */
#include "config.h"

#include "data/kf_record.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *hash_files(void *arg)
{
	struct kf_record_digests *d = arg;
	struct stat sb;
	struct kf_err err;
	size_t i;
	bool dir;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->files[i], "-") && stat(d->files[i], &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_size <= KF_RECORD_DIGEST_MAX &&
		    kf_store_digest_path(d->files[i], d->hex[i], &dir, &err) < 0)
			d->hex[i][0] = '\0';
	}
	return NULL;
}

void kf_record_digests_start(struct kf_record_digests *d, char *const *files, size_t n)
{
	memset(d, 0, sizeof *d);
	d->n = n;
	d->files = files;
	d->hex = kf_xcalloc(n + 1, sizeof *d->hex);
	d->started = pthread_create(&d->thread, NULL, hash_files, d) == 0;
	if (!d->started)
		hash_files(d);
}

void kf_record_digests_join(struct kf_record_digests *d)
{
	if (d->started)
		pthread_join(d->thread, NULL);
	d->started = false;
}

const char *kf_record_digest(const struct kf_record_digests *d, size_t i)
{
	return i < d->n && d->hex && d->hex[i][0] ? d->hex[i] : NULL;
}

void kf_record_digests_release(struct kf_record_digests *d)
{
	kf_record_digests_join(d);
	free(d->hex);
	d->hex = NULL;
}

/* The output goes to a temporary file beside the store, then is moved in. */
static int write_temp(const char *dir, const struct kf_record_output *out, char **path, struct kf_err *err)
{
	size_t done = 0;
	int fd;

	*path = kf_path_join(dir, ".analyze-XXXXXX");
	fd = mkstemp(*path);
	if (fd < 0)
		return kf_err_sys(err, "cannot create a file in \"%s\"", dir);
	while (done < out->len) {
		ssize_t n = write(fd, out->content + done, out->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return kf_err_sys(err, "cannot write \"%s\"", *path);
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return kf_err_sys(err, "cannot write \"%s\"", *path);
	return 0;
}

static void input_ref(struct kf_store_ref *r, const struct kf_record_input *in, struct kf_store_props *props,
		      char **abs)
{
	struct stat sb;

	r->path = in->event;
	r->type = in->type;
	r->name = kf_path_basename(in->file);
	if (in->digest) {
		*abs = kf_path_absolute(in->file);
		r->uri = *abs;
		r->digest_in = in->digest;
	} else if (stat(in->file, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > KF_RECORD_DIGEST_MAX) {
		*abs = kf_path_absolute(in->file);
		r->uri = *abs;
		kf_store_props_int(props, "size", (int64_t)sb.st_size);
		kf_store_props_int(props, "mtime", (int64_t)sb.st_mtime);
		r->props = props;
	} else {
		r->file = in->file;
	}
}

int kf_record_analysis(const char *dir, const char *exec_type, const char *exec_name,
		       const struct kf_store_props *exec_props, const struct kf_record_input *in,
		       size_t nin, const struct kf_record_output *out, int64_t *exec_id, struct kf_err *err)
{
	struct kf_store_ref *refs = kf_xcalloc(nin + 1, sizeof *refs), oref;
	struct kf_store_props *iprops = kf_xcalloc(nin + 1, sizeof *iprops);
	struct kf_store_record rec;
	struct kf_store *st = NULL;
	char *tmp = NULL, **abs = kf_xcalloc(nin + 1, sizeof *abs);
	const char *context = NULL;
	int64_t ctx_id = 0, id = 0;
	size_t i, n = 0;
	int rc;

	memset(&oref, 0, sizeof oref);
	memset(&rec, 0, sizeof rec);
	if ((rc = kf_store_open(dir, &st, err)) < 0 || (rc = write_temp(dir, out, &tmp, err)) < 0)
		goto out;
	for (i = 0; i < nin; i++) {
		if (!strcmp(in[i].file, "-"))
			continue;
		if (!context)
			context = kf_path_basename(in[i].file);
		input_ref(&refs[n], &in[i], &iprops[n], &abs[n]);
		n++;
	}
	oref.path = out->event;
	oref.type = out->type;
	oref.file = tmp;
	oref.put = oref.move = true;
	oref.props = out->props;
	if ((rc = kf_store_context(st, "kf.Analysis", context ? context : "stdin", NULL, 0, &ctx_id, err)) < 0)
		goto out;
	rec.type = exec_type;
	rec.name = exec_name;
	rec.state = KF_EXEC_COMPLETE;
	rec.props = exec_props;
	rec.inputs = refs;
	rec.n_inputs = n;
	rec.outputs = &oref;
	rec.n_outputs = 1;
	rec.contexts = &ctx_id;
	rec.n_contexts = 1;
	rc = kf_store_record(st, &rec, &id, err);
	if (rc == 0 && exec_id)
		*exec_id = id;
out:
	if (tmp)
		unlink(tmp);   /* moved into the store on success */
	for (i = 0; i < nin; i++) {
		kf_store_ref_release(&refs[i]);
		kf_store_props_release(&iprops[i]);
		free(abs[i]);
	}
	free(refs);
	free(iprops);
	free(abs);
	kf_store_ref_release(&oref);
	kf_store_close(st);
	free(tmp);
	return rc;
}
