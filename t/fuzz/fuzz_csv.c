/* libFuzzer target for the CSV / JSON Lines reader (lib/data/kf_csv.c):
 * any bytes, read as CSV or JSON Lines, with or without skipping bad rows,
 * with a small row limit, row by row or in batches, every field classified
 * (or checked NUL-terminated in a batch). The first byte chooses
 * the options; the rest is the input, read through a file descriptor as
 * kf reads files (memfd), so gzip sniffing and refills are exercised too.
 *
 *   make fuzz-csv            (clang; FUZZ_CSV_TIME seconds, default 60) */
#include "config.h"

#include "data/kf_csv.h"
#include "util/kf_err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { ',', ';', '\t', '|' };
	struct kf_csv_opts opts = { 0 };
	struct kf_csv_row row;
	struct kf_csv *c;
	struct kf_err err;
	char path[64];
	size_t i, rows = 0;
	int fd, rc;

	if (size < 1)
		return 0;
	opts.format = data[0] & 3 ? (data[0] & 1 ? KF_CSV_CSV : KF_CSV_JSONL) : KF_CSV_AUTO;
	opts.skip_bad_rows = data[0] & 4;
	opts.no_header = data[0] & 8;
	opts.delim = delims[(data[0] >> 4) & 3];
	opts.max_row = data[0] & 64 ? 64 : 0;
	fd = memfd_create("fuzz-csv", 0);
	if (fd < 0)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	kf_err_clear(&err);
	if (kf_csv_open(&c, path, &opts, &err) == 0 && (data[0] & 128)) {
		struct kf_csv_batch b;

		/* batches of up to 3 rows, all valid together */
		while ((rc = kf_csv_next_batch(c, &b, 3, &err)) > 0 && rows++ < 100000) {
			for (i = 0; i < b.nrows * b.ncols; i++) {
				if (b.fields[i].s[b.fields[i].len] != '\0')
					abort();
			}
		}
		if (rc < 0 && (!err.msg[0] || err.code >= 0))
			abort();
		kf_csv_free(c);
	} else if (!err.code) {
		while ((rc = kf_csv_next(c, &row, &err)) > 0 && rows++ < 100000) {
			if (row.n != kf_csv_ncols(c))
				abort();   /* a row always has one field per column */
			for (i = 0; i < row.n; i++) {
				int64_t iv;
				double dv;

				if (row.fields[i].s[row.fields[i].len] != '\0')
					abort();   /* fields are NUL-terminated at len */
				kf_csv_classify(row.fields[i].s, row.fields[i].len, &iv, &dv);
			}
		}
		if (rc < 0 && (!err.msg[0] || err.code >= 0))
			abort();   /* an error always says what */
		kf_csv_free(c);
	} else if (!err.msg[0]) {
		abort();
	}
	close(fd);
	return 0;
}
