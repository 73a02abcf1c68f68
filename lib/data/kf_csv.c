/* kf_csv: streaming CSV / JSON Lines reader (see kf_csv.h).
 *
 * The reader keeps one buffer holding the unparsed input. A row is located
 * first (memchr for the newline; a full quote-aware scan only when the row
 * has a quote), then split in place: delimiters become NULs and "" escapes
 * are compacted, so fields point into the buffer without copying. When a
 * row does not fit, the buffer doubles up to max_row. Compressed input is
 * decoded by libarchive's raw format with its decompression filters; the
 * bytes read while sniffing the magic are handed to libarchive first. */
#include "config.h"

#include "data/kf_csv.h"
#include "util/kf_buf.h"
#include "util/kf_dl.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define INITIAL_CAP ((size_t)4 << 20)
#define RAW_CHUNK ((size_t)64 << 10)

struct kf_csv {
	char *name;                 /* for errors: the path, or "stdin" */
	int fd;
	bool own_fd;
	struct archive *ar;         /* decompressor, NULL for plain input */
	char *prefix;               /* sniffed bytes libarchive reads first */
	size_t prefix_len, prefix_off;
	char *raw;                  /* read buffer of the archive callback */
	bool compressed;

	enum kf_csv_format format;
	char delim;
	bool no_header, skip_bad;
	size_t max_row;

	char *buf;                  /* cap + 1 bytes: room for a NUL after the last field */
	size_t cap, start, end;     /* unparsed input is buf[start, end) */
	bool eof;
	long line;                  /* line number of buf[start] */

	char **names;
	size_t ncols, names_cap;
	size_t *slots;              /* name hash: column index + 1, 0 = empty */
	size_t nslots;

	struct kf_csv_field *fields;
	size_t nf, fcap;
	struct kf_buf arena;        /* JSON Lines values of the current row */
	size_t *offs, *lens;        /* JSON Lines: per column, into arena; SIZE_MAX = absent */
	size_t offs_cap;

	uint64_t rows, bad;
	char *first_bad;

	bool hold;                  /* a batch is being filled: do not move the buffer */
	struct kf_csv_field *bfields;   /* the batch: rows x ncols */
	size_t bcap;
	long *blines;
	size_t blines_cap;
};

/* ---- column names ------------------------------------------------------ */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static long find_name(const struct kf_csv *c, const char *name)
{
	size_t i, mask = c->nslots - 1;

	if (!c->nslots)
		return -1;
	for (i = hash_name(name) & mask; c->slots[i]; i = (i + 1) & mask) {
		if (!strcmp(c->names[c->slots[i] - 1], name))
			return (long)(c->slots[i] - 1);
	}
	return -1;
}

static void rehash(struct kf_csv *c)
{
	size_t i, j, mask;

	free(c->slots);
	c->nslots = c->nslots ? c->nslots * 2 : 64;
	c->slots = kf_xcalloc(c->nslots, sizeof *c->slots);
	mask = c->nslots - 1;
	for (i = 0; i < c->ncols; i++) {
		for (j = hash_name(c->names[i]) & mask; c->slots[j]; j = (j + 1) & mask)
			;
		c->slots[j] = i + 1;
	}
}

/* Append a column; the caller checked that the name is new. */
static size_t add_name(struct kf_csv *c, const char *name, size_t len)
{
	size_t j, mask;

	KF_GROW(c->names, c->names_cap, c->ncols + 1);
	c->names[c->ncols] = kf_xstrndup(name, len);
	c->ncols++;
	if (c->ncols * 2 > c->nslots) {
		rehash(c);
	} else {
		mask = c->nslots - 1;
		for (j = hash_name(c->names[c->ncols - 1]) & mask; c->slots[j]; j = (j + 1) & mask)
			;
		c->slots[j] = c->ncols;
	}
	return c->ncols - 1;
}

/* ---- input ------------------------------------------------------------- */

static la_ssize_t ar_read(struct archive *a, void *ud, const void **out)
{
	struct kf_csv *c = ud;
	ssize_t n;

	if (c->prefix_off < c->prefix_len) {
		*out = c->prefix + c->prefix_off;
		n = (ssize_t)(c->prefix_len - c->prefix_off);
		c->prefix_off = c->prefix_len;
		return n;
	}
	do
		n = read(c->fd, c->raw, RAW_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read failed");
		return -1;
	}
	*out = c->raw;
	return n;
}

/* Read up to n bytes into dst: 0 at the end, -1 with err set. */
static ssize_t src_read(struct kf_csv *c, char *dst, size_t n, struct kf_err *err)
{
	ssize_t got;

	if (c->ar) {
		got = archive_read_data(c->ar, dst, n);
		if (got < 0) {
			kf_err_set(err, KF_EINPUT, "\"%s\": cannot decompress: %s", c->name,
				   archive_error_string(c->ar) ? archive_error_string(c->ar) : "corrupt data");
			return -1;
		}
		return got;
	}
	do
		got = read(c->fd, dst, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		kf_err_sys(err, "cannot read \"%s\"", c->name);
	return got;
}

/* Read more input after buf[end], first moving the unparsed part to the
 * front and growing the buffer when that part fills it. */
static int fill(struct kf_csv *c, struct kf_err *err)
{
	ssize_t n;
	size_t want;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == c->cap) {
		if (c->cap >= c->max_row)
			return kf_err_at(err, KF_EINPUT, c->name, (int)c->line, 0,
					 "row longer than %zu bytes (an unterminated quote?)", c->max_row);
		want = c->cap * 2 < c->max_row ? c->cap * 2 : c->max_row;
		c->buf = kf_xrealloc(c->buf, want + 1);
		c->cap = want;
	}
	n = src_read(c, c->buf + c->end, c->cap - c->end, err);
	if (n < 0)
		return err->code ? err->code : KF_EIO;
	if (n == 0)
		c->eof = true;
	c->end += (size_t)n;
	return 0;
}

static bool is_compressed_magic(const unsigned char *p, size_t n)
{
	static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
	static const unsigned char zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const unsigned char bz2[] = { 0x31, 0x41, 0x59, 0x26, 0x53, 0x59 };

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return true;
	if (n >= sizeof xz && !memcmp(p, xz, sizeof xz))
		return true;
	if (n >= sizeof zstd && !memcmp(p, zstd, sizeof zstd))
		return true;
	return n >= 10 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
	       !memcmp(p + 4, bz2, sizeof bz2);
}

/* Switch to decompressing: what was read so far becomes libarchive's first block. */
static int start_decoder(struct kf_csv *c, struct kf_err *err)
{
	struct archive_entry *entry;
	int rc = kf_dl_archive(err);   /* libarchive is loaded on first use */

	if (rc)
		return rc;
	c->prefix = kf_xmalloc(c->end ? c->end : 1);
	memcpy(c->prefix, c->buf, c->end);
	c->prefix_len = c->end;
	c->start = c->end = 0;
	c->eof = false;
	c->raw = kf_xmalloc(RAW_CHUNK);
	c->ar = archive_read_new();
	archive_read_support_filter_all(c->ar);
	archive_read_support_format_raw(c->ar);
	if (archive_read_open(c->ar, c, NULL, ar_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c->ar, &entry) != ARCHIVE_OK)
		return kf_err_set(err, KF_EINPUT, "\"%s\": cannot decompress: %s", c->name,
				  archive_error_string(c->ar) ? archive_error_string(c->ar) : "unknown format");
	c->compressed = true;
	return 0;
}

static bool name_is_jsonl(const char *path)
{
	static const char *const exts[] = { ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", NULL };
	size_t i, n = strlen(path), e;

	for (i = 0; exts[i]; i++) {
		e = strlen(exts[i]);
		if (n >= e && !strcasecmp(path + n - e, exts[i]))
			return true;
	}
	return false;
}

/* ---- CSV rows ------------------------------------------------------------ */

static void push_field(struct kf_csv *c, const char *s, size_t len)
{
	if (c->nf == c->fcap)
		KF_GROW(c->fields, c->fcap, c->nf + 1);
	c->fields[c->nf].s = s;
	c->fields[c->nf].len = len;
	c->nf++;
}

/* A row with no quote: cut at each delimiter. */
static void split_plain(struct kf_csv *c, char *p, char *rend)
{
	char *q;

	c->nf = 0;
	for (;;) {
		/* fields are short: a plain loop beats a memchr call each */
		for (q = p; q < rend && *q != c->delim; q++)
			;
		push_field(c, p, (size_t)(q - p));
		*q = '\0';
		if (q == rend)
			break;
		p = q + 1;
	}
}

enum { F_START, F_UNQ, F_Q, F_QQ };

/* Find where a row that contains quotes ends: 1 with *rend at its '\n' (or
 * at the end of input), 0 when more input is needed, -1 for a quote still
 * open at the end of input. *nl counts the newlines inside quotes. */
static int scan_quoted(const struct kf_csv *c, char *p, char *end, char **rend, long *nl)
{
	int st = F_START;
	char d = c->delim;

	*nl = 0;
	for (; p < end; p++) {
		char ch = *p;

		switch (st) {
		case F_START:
		case F_UNQ:
			if (ch == '\n') {
				*rend = p;
				return 1;
			}
			st = ch == d ? F_START : (st == F_START && ch == '"') ? F_Q : F_UNQ;
			break;
		case F_Q:
			if (ch == '"')
				st = F_QQ;
			else if (ch == '\n')
				(*nl)++;
			break;
		case F_QQ:
			if (ch == '\n') {
				*rend = p;
				return 1;
			}
			st = ch == '"' ? F_Q : ch == d ? F_START : F_UNQ;
			break;
		}
	}
	if (!c->eof)
		return 0;
	if (st == F_Q)
		return -1;
	*rend = end;
	return 1;
}

/* Split a row with quotes in place, undoing "" escapes. */
static void split_quoted(struct kf_csv *c, char *p, char *rend)
{
	char *w = p, *fs = p;
	int st = F_START;
	char d = c->delim;

	c->nf = 0;
	for (; p < rend; p++) {
		char ch = *p;

		if ((st == F_START || st == F_UNQ || st == F_QQ) && ch == d) {
			*w = '\0';
			push_field(c, fs, (size_t)(w - fs));
			fs = ++w;
			st = F_START;
			continue;
		}
		switch (st) {
		case F_START:
			if (ch == '"') {
				st = F_Q;
				break;
			}
			*w++ = ch;
			st = F_UNQ;
			break;
		case F_UNQ:
			*w++ = ch;
			break;
		case F_Q:
			if (ch == '"')
				st = F_QQ;
			else
				*w++ = ch;
			break;
		case F_QQ:
			*w++ = ch;
			st = ch == '"' ? F_Q : F_UNQ;
			break;
		}
	}
	*w = '\0';
	push_field(c, fs, (size_t)(w - fs));
}

static int bad_row(struct kf_csv *c, struct kf_err *err, long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A malformed row: an error, or with skip_bad_rows counted (returns 0). */
static int bad_row(struct kf_csv *c, struct kf_err *err, long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!c->skip_bad)
		return kf_err_at(err, KF_EINPUT, c->name, (int)line, 0, "%s", msg);
	c->bad++;
	if (!c->first_bad)
		c->first_bad = kf_xasprintf("%s:%ld: %s", c->name, line, msg);
	return 0;
}

/* The next non-blank CSV row into c->fields: 1, 0 at the end, or < 0. */
static int csv_row(struct kf_csv *c, long *row_line, struct kf_err *err)
{
	char *p, *end, *nl, *rend;
	long inner;
	int rc;

	for (;;) {
		p = c->buf + c->start;
		end = c->buf + c->end;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !c->eof) {
			if (c->hold)
				return 2;   /* the batch's rows still point into the buffer */
			if ((rc = fill(c, err)) < 0)
				return rc;
			continue;
		}
		if (!nl && p == end)
			return 0;
		rend = nl ? nl : end;
		if (!memchr(p, '"', (size_t)(rend - p))) {
			*row_line = c->line++;
			c->start += (size_t)(rend - p) + (nl ? 1 : 0);
			if (rend > p && rend[-1] == '\r')
				rend--;
			if (rend == p)
				continue;   /* blank line */
			split_plain(c, p, rend);
			return 1;
		}
		rc = scan_quoted(c, p, end, &rend, &inner);
		if (rc == 0) {
			if (c->hold)
				return 2;
			if ((rc = fill(c, err)) < 0)
				return rc;
			continue;
		}
		*row_line = c->line;
		if (rc < 0) {
			/* everything to the end belongs to the open quote */
			c->start = c->end;
			if ((rc = bad_row(c, err, c->line, "unterminated quoted field")) < 0)
				return rc;
			return 0;
		}
		c->line += 1 + inner;
		c->start += (size_t)(rend - p) + (rend < end ? 1 : 0);
		if (rend > p && rend[-1] == '\r')
			rend--;
		split_quoted(c, p, rend);
		return 1;
	}
}

static int read_header(struct kf_csv *c, struct kf_err *err)
{
	long line;
	size_t i;
	int rc;

	rc = csv_row(c, &line, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kf_err_at(err, KF_EINPUT, c->name, 1, 0, "no header row (empty input)");
	for (i = 0; i < c->nf; i++) {
		char tmp[32];
		const char *name = c->fields[i].s;
		size_t len = c->fields[i].len;

		if (len == 0) {
			snprintf(tmp, sizeof tmp, "unnamed_%zu", i + 1);
			name = tmp;
			len = strlen(tmp);
		}
		if (memchr(name, '\0', len))
			return kf_err_at(err, KF_EINPUT, c->name, (int)line, 0,
					 "column %zu: NUL byte in the header", i + 1);
		if (find_name(c, name) >= 0)
			return kf_err_at(err, KF_EINPUT, c->name, (int)line, 0,
					 "duplicate column \"%s\" in the header", name);
		add_name(c, name, len);
	}
	return 0;
}

static int csv_next(struct kf_csv *c, struct kf_csv_row *row, struct kf_err *err)
{
	long line;
	size_t i;
	int rc;

	for (;;) {
		rc = csv_row(c, &line, err);
		if (rc <= 0 || rc == 2)
			return rc;
		if (c->ncols == 0 && c->no_header) {
			for (i = 0; i < c->nf; i++) {
				char tmp[32];

				snprintf(tmp, sizeof tmp, "%zu", i + 1);
				add_name(c, tmp, strlen(tmp));
			}
		}
		if (c->nf == c->ncols)
			break;
		rc = bad_row(c, err, line, "row has %zu field%s, expected %zu", c->nf,
			     c->nf == 1 ? "" : "s", c->ncols);
		if (rc < 0)
			return rc;
	}
	row->fields = c->fields;
	row->n = c->nf;
	row->line = line;
	return 1;
}

/* ---- JSON Lines -------------------------------------------------------- */

static void json_value_text(struct kf_buf *b, const cJSON *v)
{
	char num[64];

	if (cJSON_IsString(v)) {
		kf_buf_adds(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			snprintf(num, sizeof num, "%.0f", d);
		else
			snprintf(num, sizeof num, "%.17g", d);
		kf_buf_adds(b, num);
	} else if (cJSON_IsTrue(v)) {
		kf_buf_adds(b, "true");
	} else if (cJSON_IsFalse(v)) {
		kf_buf_adds(b, "false");
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		char *s = cJSON_PrintUnformatted(v);

		kf_buf_adds(b, s);
		cJSON_free(s);
	}
	/* null: nothing, a missing value */
}

static int jsonl_fill_row(struct kf_csv *c, const cJSON *obj)
{
	const cJSON *v;
	size_t i;
	long idx;

	kf_buf_reset(&c->arena);
	kf_buf_addc(&c->arena, '\0');   /* offset 0: the empty value */
	for (i = 0; i < c->offs_cap; i++)
		c->offs[i] = 0, c->lens[i] = 0;
	cJSON_ArrayForEach(v, obj) {
		size_t off;

		idx = find_name(c, v->string);
		if (idx < 0)
			idx = (long)add_name(c, v->string, strlen(v->string));
		if ((size_t)idx >= c->offs_cap) {
			size_t old = c->offs_cap, cap = c->offs_cap;

			KF_GROW(c->offs, cap, (size_t)idx + 1);
			c->lens = kf_xrealloc(c->lens, cap * sizeof *c->lens);
			c->offs_cap = cap;
			for (i = old; i < cap; i++)
				c->offs[i] = 0, c->lens[i] = 0;
		}
		off = c->arena.len;
		json_value_text(&c->arena, v);
		c->offs[idx] = off;
		c->lens[idx] = c->arena.len - off;
		kf_buf_addc(&c->arena, '\0');
	}
	c->nf = 0;
	for (i = 0; i < c->ncols; i++) {
		size_t off = i < c->offs_cap ? c->offs[i] : 0;
		size_t len = i < c->offs_cap ? c->lens[i] : 0;

		push_field(c, c->arena.data + off, len);
	}
	return 0;
}

static bool blank(const char *p, const char *e)
{
	for (; p < e; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	}
	return true;
}

static int jsonl_next(struct kf_csv *c, struct kf_csv_row *row, struct kf_err *err)
{
	char *p, *end, *nl, *rend;
	cJSON *obj;
	long line;
	int rc;

	for (;;) {
		p = c->buf + c->start;
		end = c->buf + c->end;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !c->eof) {
			if ((rc = fill(c, err)) < 0)
				return rc;
			continue;
		}
		if (!nl && p == end)
			return 0;
		rend = nl ? nl : end;
		line = c->line++;
		c->start += (size_t)(rend - p) + (nl ? 1 : 0);
		if (blank(p, rend))
			continue;
		obj = cJSON_ParseWithLength(p, (size_t)(rend - p));
		if (!cJSON_IsObject(obj)) {
			rc = bad_row(c, err, line, obj ? "expected a JSON object" : "invalid JSON");
			cJSON_Delete(obj);
			if (rc < 0)
				return rc;
			continue;
		}
		jsonl_fill_row(c, obj);
		cJSON_Delete(obj);
		row->fields = c->fields;
		row->n = c->nf;
		row->line = line;
		return 1;
	}
}

/* ---- public ------------------------------------------------------------ */

int kf_csv_open(struct kf_csv **out, const char *path, const struct kf_csv_opts *opts,
		struct kf_err *err)
{
	struct kf_csv_opts def = { 0 };
	struct kf_csv *c;
	size_t skip;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &def;
	c = kf_xcalloc(1, sizeof *c);
	c->delim = opts->delim ? opts->delim : ',';
	c->no_header = opts->no_header;
	c->skip_bad = opts->skip_bad_rows;
	c->max_row = opts->max_row ? opts->max_row : KF_CSV_MAX_ROW;
	c->line = 1;
	c->cap = INITIAL_CAP < c->max_row ? INITIAL_CAP : c->max_row;
	c->buf = kf_xmalloc(c->cap + 1);
	if (!strcmp(path, "-")) {
		c->name = kf_xstrdup("stdin");
		c->fd = STDIN_FILENO;
	} else {
		c->name = kf_xstrdup(path);
		c->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->fd < 0) {
			rc = kf_err_sys(err, "cannot open \"%s\"", path);
			if (errno == ENOENT)
				err->code = rc = KF_ENOTFOUND;
			goto out;
		}
		c->own_fd = true;
	}
	/* sniff: enough bytes for the magic numbers, or the whole input */
	while (c->end < 16 && !c->eof) {
		if ((rc = fill(c, err)) < 0)
			goto out;
	}
	if (is_compressed_magic((const unsigned char *)c->buf, c->end)) {
		if ((rc = start_decoder(c, err)) < 0)
			goto out;
		while (c->end < 16 && !c->eof) {
			if ((rc = fill(c, err)) < 0)
				goto out;
		}
	}
	if (c->end >= 3 && !memcmp(c->buf, "\xef\xbb\xbf", 3))
		c->start = 3;
	c->format = opts->format;
	if (c->format == KF_CSV_AUTO) {
		c->format = KF_CSV_CSV;
		if (name_is_jsonl(path)) {
			c->format = KF_CSV_JSONL;
		} else {
			for (skip = c->start; skip < c->end && (c->buf[skip] == ' ' || c->buf[skip] == '\n' ||
							  c->buf[skip] == '\r' || c->buf[skip] == '\t'); skip++)
				;
			if (skip < c->end && c->buf[skip] == '{')
				c->format = KF_CSV_JSONL;
		}
	}
	rc = 0;
	if (c->format == KF_CSV_CSV && !c->no_header)
		rc = read_header(c, err);
out:
	if (rc < 0) {
		kf_csv_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void kf_csv_free(struct kf_csv *c)
{
	size_t i;

	if (!c)
		return;
	if (c->ar)
		archive_read_free(c->ar);
	if (c->own_fd)
		close(c->fd);
	for (i = 0; i < c->ncols; i++)
		free(c->names[i]);
	free(c->names);
	free(c->slots);
	free(c->fields);
	free(c->offs);
	free(c->lens);
	kf_buf_release(&c->arena);
	free(c->prefix);
	free(c->raw);
	free(c->buf);
	free(c->first_bad);
	free(c->bfields);
	free(c->blines);
	free(c->name);
	free(c);
}

int kf_csv_next(struct kf_csv *c, struct kf_csv_row *row, struct kf_err *err)
{
	int rc;

	rc = c->format == KF_CSV_JSONL ? jsonl_next(c, row, err) : csv_next(c, row, err);
	if (rc > 0)
		c->rows++;
	return rc;
}

int kf_csv_next_batch(struct kf_csv *c, struct kf_csv_batch *b, size_t max_rows, struct kf_err *err)
{
	struct kf_csv_row row;
	size_t n = 0;
	int rc = 0;

	/* JSON Lines values live in a per-row arena: one row a batch */
	if (c->format == KF_CSV_JSONL)
		max_rows = 1;
	for (;;) {
		c->hold = n > 0;
		rc = c->format == KF_CSV_JSONL ? jsonl_next(c, &row, err) : csv_next(c, &row, err);
		c->hold = false;
		if (rc < 0)
			return rc;
		if (rc != 1)
			break;   /* the end (0), or a row that needs a refill (2) */
		c->rows++;
		if ((n + 1) * row.n > c->bcap)
			KF_GROW(c->bfields, c->bcap, (n + 1) * row.n);
		if (n + 1 > c->blines_cap)
			KF_GROW(c->blines, c->blines_cap, n + 1);
		if (row.n)   /* a JSON line "{}" before any column has none */
			memcpy(c->bfields + n * row.n, row.fields, row.n * sizeof *row.fields);
		c->blines[n++] = row.line;
		if (n == max_rows)
			break;
	}
	b->fields = c->bfields;
	b->lines = c->blines;
	b->nrows = n;
	b->ncols = c->ncols;
	return n > 0 ? 1 : 0;
}

size_t kf_csv_ncols(const struct kf_csv *c) { return c->ncols; }
const char *kf_csv_colname(const struct kf_csv *c, size_t i) { return i < c->ncols ? c->names[i] : NULL; }
long kf_csv_colindex(const struct kf_csv *c, const char *name) { return find_name(c, name); }
const char *kf_csv_name(const struct kf_csv *c) { return c->name; }
enum kf_csv_format kf_csv_format(const struct kf_csv *c) { return c->format; }
bool kf_csv_gzip(const struct kf_csv *c) { return c->compressed; }
uint64_t kf_csv_rows(const struct kf_csv *c) { return c->rows; }
uint64_t kf_csv_bad_rows(const struct kf_csv *c) { return c->bad; }
const char *kf_csv_first_bad(const struct kf_csv *c) { return c->first_bad; }

/* ---- value typing ------------------------------------------------------ */

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static bool ieq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(s, word, len);
}

/* Number syntax: [+-] (digits [. digits] | . digits) [eE [+-] digits],
 * or nan/inf/infinity. Anything else (hex, spaces) is not a number. */
bool kf_csv_parse_double(const char *s, size_t len, double *out)
{
	const char *p = s, *e = s + len;
	uint64_t m = 0;
	int frac = 0, ex = 0, exsign = 1, sig = 0;
	bool neg = false, any = false, exact = true;
	char tmp[128], *endp;

	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p < e && (*p == 'n' || *p == 'N' || *p == 'i' || *p == 'I') &&
	    (ieq(p, (size_t)(e - p), "nan") || ieq(p, (size_t)(e - p), "inf") ||
	     ieq(p, (size_t)(e - p), "infinity"))) {
		*out = (p[0] == 'n' || p[0] == 'N') ? NAN : neg ? -INFINITY : INFINITY;
		return true;
	}
	for (; p < e && *p >= '0' && *p <= '9'; p++, any = true) {
		if (sig < 19) {
			m = m * 10 + (uint64_t)(*p - '0');
			if (m)
				sig++;
		} else {
			exact = false;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++, any = true) {
			if (sig < 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				if (m)
					sig++;
				frac++;
			} else {
				exact = false;
			}
		}
	}
	if (!any)
		return false;
	if (p < e && (*p == 'e' || *p == 'E')) {
		bool exany = false;

		p++;
		if (p < e && (*p == '+' || *p == '-'))
			exsign = *p++ == '-' ? -1 : 1;
		for (; p < e && *p >= '0' && *p <= '9'; p++, exany = true) {
			if (ex < 100000)
				ex = ex * 10 + (*p - '0');
		}
		if (!exany)
			return false;
	}
	if (p != e)
		return false;
	ex = exsign * ex - frac;
	/* Clinger's fast path: both m and 10^|ex| are exact doubles, so one
	 * correctly rounded operation gives the correctly rounded result. */
	if (exact && m < (1ull << 53) && ex >= -22 && ex <= 22) {
		double v = (double)m;

		v = ex < 0 ? v / pow10_exact[-ex] : v * pow10_exact[ex];
		*out = neg ? -v : v;
		return true;
	}
	if (len >= sizeof tmp) {
		char *big = kf_xstrndup(s, len);

		*out = strtod(big, &endp);
		free(big);
		return true;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &endp);
	return true;
}

enum kf_csv_type kf_csv_classify(const char *s, size_t len, int64_t *iv, double *dv)
{
	const char *p = s, *e = s + len, *ds;
	uint64_t u = 0, lim;
	bool neg = false;
	double d;

	if (len == 0)
		return KF_CSV_MISSING;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	ds = p;
	if (p < e && len - (size_t)(p - s) <= 19) {
		lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			u = u * 10 + (uint64_t)(*p - '0');
		if (p == e && u <= lim) {
			int64_t v = neg ? (int64_t)(0 - u) : (int64_t)u;

			if (iv)
				*iv = v;
			if (dv)
				*dv = (double)v;
			return KF_CSV_INT;
		}
		/* the common decimal "123.45": go on from here, exact while the
		 * digits fit 2^53 (Clinger's fast path, as kf_csv_parse_double) */
		if (p < e && *p == '.' && len <= 20 && (p > ds || p + 1 < e)) {
			const char *q = p + 1;
			int frac = 0;

			for (; q < e && *q >= '0' && *q <= '9'; q++, frac++)
				u = u * 10 + (uint64_t)(*q - '0');
			if (q == e && u < (1ull << 53) && frac <= 22) {
				d = (double)u / pow10_exact[frac];
				if (dv)
					*dv = neg ? -d : d;
				return KF_CSV_FLOAT;
			}
		}
	}
	if (kf_csv_parse_double(s, len, &d)) {
		if (dv)
			*dv = d;
		return KF_CSV_FLOAT;
	}
	if (ieq(s, len, "true") || ieq(s, len, "false")) {
		if (iv)
			*iv = s[0] == 't' || s[0] == 'T';
		if (dv)
			*dv = s[0] == 't' || s[0] == 'T';
		return KF_CSV_BOOL;
	}
	return KF_CSV_STRING;
}

enum kf_csv_type kf_csv_type_join(enum kf_csv_type a, enum kf_csv_type b)
{
	if (a == b || b == KF_CSV_MISSING)
		return a;
	if (a == KF_CSV_MISSING)
		return b;
	if ((a == KF_CSV_INT && b == KF_CSV_FLOAT) || (a == KF_CSV_FLOAT && b == KF_CSV_INT))
		return KF_CSV_FLOAT;
	return KF_CSV_STRING;
}

const char *kf_csv_type_name(enum kf_csv_type t)
{
	static const char *const names[] = { "missing", "bool", "int", "float", "string" };

	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
