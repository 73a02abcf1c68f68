/* Unit tests for lib/data/kf_csv: RFC 4180, hostile input, gzip, JSON Lines,
 * stdin, and value typing. */
#include "config.h"

#include "kf_tap.h"
#include "data/kf_csv.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/kf-test-csv.XXXXXX";

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = kf_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return path;
}

/* Read the whole input into "h1,h2\nf|f\nf|f\n" (NUL shown as \0); returns
 * the kf_csv_next/kf_csv_open code, and the error text in errbuf. */
static int slurp(const char *path, const struct kf_csv_opts *opts, struct kf_buf *out,
		 char *errbuf, size_t errlen, struct kf_csv **keep)
{
	struct kf_err err;
	struct kf_csv *c;
	struct kf_csv_row row;
	size_t i, j;
	int rc;

	kf_err_clear(&err);
	errbuf[0] = '\0';
	kf_buf_reset(out);
	rc = kf_csv_open(&c, path, opts, &err);
	if (rc < 0) {
		kf_err_format(&err, errbuf, errlen);
		return rc;
	}
	while ((rc = kf_csv_next(c, &row, &err)) > 0) {
		for (i = 0; i < row.n; i++) {
			if (i)
				kf_buf_addc(out, '|');
			for (j = 0; j < row.fields[i].len; j++) {
				if (row.fields[i].s[j] == '\0')
					kf_buf_adds(out, "\\0");
				else
					kf_buf_addc(out, row.fields[i].s[j]);
			}
			if (row.fields[i].s[row.fields[i].len] != '\0')
				kf_buf_adds(out, "<not NUL-terminated>");
		}
		kf_buf_addc(out, '\n');
	}
	if (rc < 0)
		kf_err_format(&err, errbuf, errlen);
	if (keep)
		*keep = c;
	else
		kf_csv_free(c);
	return rc;
}

static char *header_of(const struct kf_csv *c)
{
	struct kf_buf b = KF_BUF_INIT;
	size_t i;

	for (i = 0; i < kf_csv_ncols(c); i++) {
		if (i)
			kf_buf_addc(&b, ',');
		kf_buf_adds(&b, kf_csv_colname(c, i));
	}
	return kf_buf_detach(&b);
}

#define WRITE_LIT(name, lit) write_file(name, lit, sizeof lit - 1)

#define CSV_CASE(name, text, want, what) do { \
	char *p_ = write_file(name, text, sizeof text - 1); \
	int rc_ = slurp(p_, NULL, &out, errbuf, sizeof errbuf, NULL); \
	TAP_OK(rc_ == 0, "%s: reads to the end (%s)", what, errbuf); \
	TAP_STR(kf_buf_str(&out), want, "%s: rows", what); \
	free(p_); \
} while (0)

static void test_rfc4180(void)
{
	struct kf_buf out = KF_BUF_INIT;
	char errbuf[1200];
	struct kf_csv *c;
	char *p, *h;
	int rc;

	CSV_CASE("plain.csv", "a,b,c\n1,2,3\n4,,6\n", "1|2|3\n4||6\n", "plain");
	CSV_CASE("noeol.csv", "a,b\n1,2\n3,4", "1|2\n3|4\n", "no final newline");
	CSV_CASE("crlf.csv", "a,b\r\n1,2\r\n3,4\r\n", "1|2\n3|4\n", "CRLF");
	CSV_CASE("bom.csv", "\xef\xbb\xbf" "a,b\n1,2\n", "1|2\n", "UTF-8 BOM");
	CSV_CASE("quoted.csv", "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"\",z\n",
		 "x,y|say \"hi\"\n|z\n", "quotes, escapes, empty quoted");
	CSV_CASE("multiline.csv", "a,b\n\"line1\nline2\",2\r\n3,\"4\r\n5\"\r\n",
		 "line1\nline2|2\n3|4\r\n5\n", "embedded newlines");
	CSV_CASE("blank.csv", "a,b\n\n1,2\n\r\n3,4\n\n", "1|2\n3|4\n", "blank lines skipped");
	CSV_CASE("literal.csv", "a,b\nab\"c,\"q\"r\n", "ab\"c|qr\n", "quote inside unquoted field; text after a closing quote");
	CSV_CASE("nul.csv", "a,b\nx\0y,2\n", "x\\0y|2\n", "NUL byte kept inside the field");
	CSV_CASE("unicode.csv", "name,city\n\xc3\xa9t\xc3\xa9,\"M\xc3\xbcnchen, DE\"\n",
		 "\xc3\xa9t\xc3\xa9|M\xc3\xbcnchen, DE\n", "UTF-8 values");

	/* header names */
	p = WRITE_LIT("hdr.csv", "x,\"y z\",\n1,2,3\n");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, &c);
	h = header_of(c);
	TAP_STR(h, "x,y z,unnamed_3", "header names, an empty one named by position");
	TAP_OK(kf_csv_colindex(c, "y z") == 1 && kf_csv_colindex(c, "nope") == -1, "column index by name");
	TAP_OK(rc == 0 && kf_csv_rows(c) == 1, "one data row counted");
	free(h);
	kf_csv_free(c);
	free(p);

	kf_buf_release(&out);
}

static void test_line_numbers(void)
{
	static const char text[] = "a,b\n1,\"two\nlines\"\n\n3,4\n5\n";
	struct kf_buf out = KF_BUF_INIT;
	struct kf_csv_opts opts = { 0 };
	struct kf_err err;
	struct kf_csv_row row;
	struct kf_csv *c;
	char errbuf[1200];
	char *p = write_file("lines.csv", text, sizeof text - 1);
	long lines[3] = { 0, 0, 0 };
	int i = 0, rc;

	kf_err_clear(&err);
	opts.skip_bad_rows = true;
	rc = kf_csv_open(&c, p, &opts, &err);
	TAP_OK(rc == 0, "open with skip_bad_rows");
	while ((rc = kf_csv_next(c, &row, &err)) > 0 && i < 3)
		lines[i++] = row.line;
	TAP_OK(rc == 0, "skip_bad_rows reads to the end");
	TAP_OK(lines[0] == 2 && lines[1] == 5 && i == 2, "rows start on lines 2 and 5 (got %ld, %ld)", lines[0], lines[1]);
	TAP_OK(kf_csv_bad_rows(c) == 1, "the ragged row is counted");
	TAP_OK(kf_csv_first_bad(c) && strstr(kf_csv_first_bad(c), "lines.csv:6: row has 1 field, expected 2"),
	       "the first bad row names file:line: %s", kf_csv_first_bad(c));
	kf_csv_free(c);

	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT, "a ragged row is an input error");
	TAP_OK(strstr(errbuf, "lines.csv:6:") && strstr(errbuf, "row has 1 field, expected 2"), "error names the line: %s", errbuf);
	free(p);
	kf_buf_release(&out);
}

static void test_hostile(void)
{
	struct kf_buf out = KF_BUF_INIT;
	struct kf_csv_opts opts = { 0 };
	char errbuf[1200];
	struct kf_csv *c;
	char *p, *big;
	size_t n = (size_t)1 << 20, i;
	int rc;

	p = WRITE_LIT("unterminated.csv", "a,b\n1,2\n3,\"open\n4,5\n");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT && strstr(errbuf, "unterminated.csv:3:") && strstr(errbuf, "unterminated quoted field"),
	       "unterminated quote: %s", errbuf);
	opts.skip_bad_rows = true;
	rc = slurp(p, &opts, &out, errbuf, sizeof errbuf, &c);
	TAP_OK(rc == 0 && kf_csv_bad_rows(c) == 1 && !strcmp(kf_buf_str(&out), "1|2\n"),
	       "unterminated quote skipped: rows before it kept");
	kf_csv_free(c);
	free(p);

	p = WRITE_LIT("empty.csv", "");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT && strstr(errbuf, "no header row"), "empty file: %s", errbuf);
	free(p);

	p = WRITE_LIT("headeronly.csv", "a,b,c\n");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, &c);
	TAP_OK(rc == 0 && kf_csv_ncols(c) == 3 && kf_csv_rows(c) == 0, "header only: 3 columns, no rows");
	kf_csv_free(c);
	free(p);

	p = WRITE_LIT("dup.csv", "a,b,a\n1,2,3\n");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT && strstr(errbuf, "duplicate column \"a\""), "duplicate header: %s", errbuf);
	free(p);

	/* 1 MB fields, unquoted and quoted, across buffer refills */
	big = kf_xmalloc(2 * n + 64);
	memcpy(big, "a,b\n", 4);
	memset(big + 4, 'x', n);
	memcpy(big + 4 + n, ",\"", 2);
	memset(big + 6 + n, 'y', n);
	big[6 + n + 10] = '\n';
	memcpy(big + 6 + 2 * n, "\"\n1,2\n", 6);
	p = write_file("big.csv", big, 2 * n + 12);
	{
		struct kf_err err;
		struct kf_csv_row row;
		int ok = 1;

		kf_err_clear(&err);
		rc = kf_csv_open(&c, p, NULL, &err);
		rc = rc < 0 ? rc : kf_csv_next(c, &row, &err);
		TAP_OK(rc == 1 && row.fields[0].len == n && row.fields[1].len == n, "two 1 MB fields read whole");
		for (i = 0; rc == 1 && i < n; i++)
			ok &= row.fields[0].s[i] == 'x' && (i == 10 ? row.fields[1].s[i] == '\n' : row.fields[1].s[i] == 'y');
		TAP_OK(ok, "1 MB field content intact (with its embedded newline)");
		rc = kf_csv_next(c, &row, &err);
		TAP_OK(rc == 1 && row.line == 4 && !strcmp(row.fields[1].s, "2"), "the row after it, on line 4");
		kf_csv_free(c);
	}
	opts.skip_bad_rows = false;
	opts.max_row = 4096;
	rc = slurp(p, &opts, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT && strstr(errbuf, "row longer than 4096 bytes"), "max_row bounds memory: %s", errbuf);
	free(p);
	free(big);

	/* many rows: every refill boundary */
	{
		struct kf_buf text = KF_BUF_INIT;
		struct kf_err err;
		struct kf_csv_row row;
		long long sum = 0;

		kf_buf_adds(&text, "i,s\n");
		for (i = 0; i < 100000; i++)
			kf_buf_printf(&text, i % 7 ? "%zu,\"q,%zu\"\r\n" : "%zu,plain\n", i, i);
		p = write_file("many.csv", text.data, text.len);
		kf_err_clear(&err);
		rc = kf_csv_open(&c, p, NULL, &err);
		while (rc == 0 && kf_csv_next(c, &row, &err) > 0)
			sum += atoll(row.fields[0].s);
		TAP_OK(kf_csv_rows(c) == 100000 && sum == 4999950000LL, "100000 rows across refills");
		kf_csv_free(c);
		{
			struct kf_csv_batch b;
			size_t r, nb = 0, nrows = 0;
			int ok = 1;

			sum = 0;
			rc = kf_csv_open(&c, p, NULL, &err);
			while (rc == 0 && kf_csv_next_batch(c, &b, 1000, &err) > 0) {
				nb++;
				nrows += b.nrows;
				ok &= b.nrows <= 1000 && b.ncols == 2;
				for (r = 0; r < b.nrows; r++) {
					sum += atoll(b.fields[r * 2].s);
					ok &= (size_t)atoll(b.fields[r * 2].s) % 7 ?
						!strncmp(b.fields[r * 2 + 1].s, "q,", 2) :
						!strcmp(b.fields[r * 2 + 1].s, "plain");
					ok &= b.lines[r] == atoll(b.fields[r * 2].s) + 2;
				}
			}
			TAP_OK(ok && nrows == 100000 && sum == 4999950000LL && kf_csv_rows(c) == 100000 && nb >= 100,
			       "the same rows in batches, all valid together (%zu batches)", nb);
			kf_csv_free(c);
		}
		kf_buf_release(&text);
		free(p);
	}
	kf_buf_release(&out);
}

static void test_options(void)
{
	struct kf_buf out = KF_BUF_INIT;
	struct kf_csv_opts opts = { 0 };
	char errbuf[1200];
	struct kf_csv *c;
	char *p, *h;
	int rc;

	p = WRITE_LIT("semi.csv", "a;b\n1;\"2;3\"\n");
	opts.delim = ';';
	rc = slurp(p, &opts, &out, errbuf, sizeof errbuf, NULL);
	TAP_STR(kf_buf_str(&out), "1|2;3\n", "delimiter ';' (rc %d)", rc);
	free(p);

	p = WRITE_LIT("nohdr.csv", "1,2\n3,4\n");
	opts.delim = 0;
	opts.no_header = true;
	rc = slurp(p, &opts, &out, errbuf, sizeof errbuf, &c);
	h = header_of(c);
	TAP_STR(kf_buf_str(&out), "1|2\n3|4\n", "no_header: the first row is data (rc %d)", rc);
	TAP_STR(h, "1,2", "no_header: columns named by position");
	free(h);
	kf_csv_free(c);
	free(p);

	p = WRITE_LIT("missing-file.csv", "");
	unlink(p);
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_ENOTFOUND && strstr(errbuf, "cannot open"), "missing file: %s", errbuf);
	free(p);
	kf_buf_release(&out);
}

static void test_gzip_stdin(void)
{
	static const unsigned char gz[] = {
		0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xd4, 0x49, 0xe2, 0x32, 0xd4,
		0x51, 0xaa, 0xd0, 0xa9, 0x54, 0xe2, 0x32, 0xd2, 0xa9, 0xe2, 0x02, 0x00, 0x71, 0x91, 0x1a, 0x6b,
		0x10, 0x00, 0x00, 0x00,
	};
	struct kf_buf out = KF_BUF_INIT;
	char errbuf[1200];
	struct kf_csv *c;
	char *p, *h;
	int rc, fd, saved;

	/* named .txt: detection is by content, not by name */
	p = write_file("data.txt", gz, sizeof gz);
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, &c);
	h = header_of(c);
	TAP_OK(rc == 0 && kf_csv_gzip(c), "gzip detected by its magic");
	TAP_STR(h, "a,b", "gzip: header");
	TAP_STR(kf_buf_str(&out), "1|x,y\n2|z\n", "gzip: rows");
	free(h);
	kf_csv_free(c);

	/* the same bytes through stdin */
	saved = dup(STDIN_FILENO);
	fd = open(p, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rc = slurp("-", NULL, &out, errbuf, sizeof errbuf, &c);
	TAP_OK(rc == 0 && !strcmp(kf_buf_str(&out), "1|x,y\n2|z\n") && !strcmp(kf_csv_name(c), "stdin"),
	       "gzip on stdin");
	kf_csv_free(c);
	dup2(saved, STDIN_FILENO);
	close(saved);
	free(p);

	p = write_file("corrupt.gz", gz, 20);
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc < 0 && strstr(errbuf, "corrupt.gz"), "truncated gzip is an error naming the file: %s", errbuf);
	free(p);
	kf_buf_release(&out);
}

static void test_jsonl(void)
{
	static const char text[] =
		"{\"a\": 1, \"b\": \"x\"}\n"
		"\n"
		"{\"b\": \"y,z\", \"c\": true, \"a\": 2.5}\n"
		"{\"a\": null, \"d\": [1, 2], \"c\": false}\n";
	struct kf_buf out = KF_BUF_INIT;
	char errbuf[1200];
	struct kf_csv *c;
	char *p, *h;
	int rc;

	p = write_file("rows.jsonl", text, sizeof text - 1);
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, &c);
	h = header_of(c);
	TAP_OK(rc == 0 && kf_csv_format(c) == KF_CSV_JSONL, "JSON Lines by name");
	TAP_STR(h, "a,b,c,d", "JSON Lines: columns in order of first appearance");
	TAP_STR(kf_buf_str(&out), "1|x\n2.5|y,z|true\n||false|[1,2]\n", "JSON Lines: values as text, null missing");
	free(h);
	kf_csv_free(c);
	free(p);

	p = WRITE_LIT("rows.dat", "{\"k\": \"v\"}\n[1]\n");
	rc = slurp(p, NULL, &out, errbuf, sizeof errbuf, NULL);
	TAP_OK(rc == KF_EINPUT && strstr(errbuf, "rows.dat:2:") && strstr(errbuf, "expected a JSON object"),
	       "JSON Lines by content; a non-object names its line: %s", errbuf);
	free(p);

	p = WRITE_LIT("empty-first.jsonl", "{}\n{\"a\": 1}\n");
	{
		struct kf_csv_batch b;
		struct kf_err err;
		size_t total = 0;

		kf_err_clear(&err);
		rc = kf_csv_open(&c, p, NULL, &err);
		while (rc == 0 && kf_csv_next_batch(c, &b, 10, &err) > 0)
			total += b.nrows;
		TAP_OK(total == 2 && kf_csv_ncols(c) == 1, "JSON Lines: an empty object before any column, in batches");
		kf_csv_free(c);
	}
	free(p);

	p = WRITE_LIT("broken.jsonl", "{\"k\": 1}\n{\"k\": \n{\"k\": 3}\n");
	{
		struct kf_csv_opts opts = { 0 };

		opts.skip_bad_rows = true;
		rc = slurp(p, &opts, &out, errbuf, sizeof errbuf, &c);
		TAP_OK(rc == 0 && kf_csv_bad_rows(c) == 1 && !strcmp(kf_buf_str(&out), "1\n3\n"),
		       "invalid JSON line skipped and counted");
		kf_csv_free(c);
	}
	free(p);
	kf_buf_release(&out);
}

static void test_classify(void)
{
	static const struct { const char *s; enum kf_csv_type t; double v; } cases[] = {
		{ "", KF_CSV_MISSING, 0 }, { "0", KF_CSV_INT, 0 }, { "-17", KF_CSV_INT, -17 },
		{ "+5", KF_CSV_INT, 5 }, { "9223372036854775807", KF_CSV_INT, 9223372036854775807.0 },
		{ "-9223372036854775808", KF_CSV_INT, -9223372036854775808.0 },
		{ "9223372036854775808", KF_CSV_FLOAT, 9223372036854775808.0 },
		{ "1.5", KF_CSV_FLOAT, 1.5 }, { ".5", KF_CSV_FLOAT, 0.5 }, { "5.", KF_CSV_FLOAT, 5 },
		{ "-0.0", KF_CSV_FLOAT, 0 }, { "1e3", KF_CSV_FLOAT, 1000 }, { "2.5E-3", KF_CSV_FLOAT, 0.0025 },
		{ "41.920452", KF_CSV_FLOAT, 41.920452 }, { "-87.679955", KF_CSV_FLOAT, -87.679955 },
		{ "0.1", KF_CSV_FLOAT, 0.1 }, { "123456789012345678901234", KF_CSV_FLOAT, 1.2345678901234568e23 },
		{ "1e400", KF_CSV_FLOAT, HUGE_VAL }, { "true", KF_CSV_BOOL, 1 }, { "FALSE", KF_CSV_BOOL, 0 },
		{ "-", KF_CSV_STRING, 0 }, { "1e", KF_CSV_STRING, 0 }, { "0x10", KF_CSV_STRING, 0 },
		{ " 1", KF_CSV_STRING, 0 }, { "1 ", KF_CSV_STRING, 0 }, { "1.2.3", KF_CSV_STRING, 0 },
		{ "Cash", KF_CSV_STRING, 0 }, { ".", KF_CSV_STRING, 0 }, { "e5", KF_CSV_STRING, 0 },
		{ "1357000200", KF_CSV_INT, 1357000200.0 }, { "17031081401", KF_CSV_INT, 17031081401.0 },
		{ "-1234567890123456789", KF_CSV_INT, -1234567890123456789.0 },
		{ "12345678.87654321", KF_CSV_FLOAT, 12345678.87654321 }, { "1234567a", KF_CSV_STRING, 0 },
		{ "12345678/", KF_CSV_STRING, 0 }, { "0.12345678", KF_CSV_FLOAT, 0.12345678 },
		{ "1234567:.5", KF_CSV_STRING, 0 },
	};
	size_t i;
	int ok = 1;
	double d;
	int64_t iv;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum kf_csv_type t;

		d = 0;
		t = kf_csv_classify(cases[i].s, strlen(cases[i].s), &iv, &d);
		TAP_OK(t == cases[i].t && (t != KF_CSV_INT && t != KF_CSV_FLOAT ? 1 : d == cases[i].v),
		       "classify \"%s\" as %s (got %s, %.17g)", cases[i].s, kf_csv_type_name(cases[i].t),
		       kf_csv_type_name(t), d);
	}
	TAP_OK(kf_csv_classify("nan", 3, NULL, &d) == KF_CSV_FLOAT && isnan(d), "nan is a float");
	TAP_OK(kf_csv_classify("-Infinity", 9, NULL, &d) == KF_CSV_FLOAT && isinf(d) && d < 0, "-Infinity is a float");

	/* the fast path agrees with strtod bit for bit */
	srand(42);
	for (i = 0; i < 200000; i++) {
		char s[64];
		double want, got;
		int n = i % 2 ? snprintf(s, sizeof s, "%d.%0*d", rand() % 100000 - 50000, rand() % 9 + 1, rand() % 1000000)
			      : snprintf(s, sizeof s, "%d%04d.%d%05d", rand() % 1000000, rand() % 10000, rand() % 100,
					 rand() % 100000);

		double viaclass = 0;

		want = strtod(s, NULL);
		if (!kf_csv_parse_double(s, (size_t)n, &got) || memcmp(&got, &want, sizeof got) ||
		    kf_csv_classify(s, (size_t)n, NULL, &viaclass) != KF_CSV_FLOAT ||
		    memcmp(&viaclass, &want, sizeof want)) {
			ok = 0;
			printf("# mismatch on %s: %.17g / %.17g vs %.17g\n", s, got, viaclass, want);
			break;
		}
	}
	TAP_OK(ok, "200000 decimals parse (and classify) exactly as strtod does");

	TAP_OK(kf_csv_type_join(KF_CSV_MISSING, KF_CSV_INT) == KF_CSV_INT, "join missing+int = int");
	TAP_OK(kf_csv_type_join(KF_CSV_INT, KF_CSV_FLOAT) == KF_CSV_FLOAT, "join int+float = float");
	TAP_OK(kf_csv_type_join(KF_CSV_FLOAT, KF_CSV_STRING) == KF_CSV_STRING, "join float+string = string");
	TAP_OK(kf_csv_type_join(KF_CSV_BOOL, KF_CSV_INT) == KF_CSV_STRING, "join bool+int = string");
	TAP_OK(kf_csv_type_join(KF_CSV_BOOL, KF_CSV_MISSING) == KF_CSV_BOOL, "join bool+missing = bool");
}

int main(void)
{
	struct kf_err err;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_rfc4180();
	test_line_numbers();
	test_hostile();
	test_options();
	test_gzip_stdin();
	test_jsonl();
	test_classify();
	kf_err_clear(&err);
	kf_fs_remove_tree(tmpdir, &err);
	return tap_done();
}
