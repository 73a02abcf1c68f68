#include "config.h"

#include "util/kf_str.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool kf_str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool kf_str_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool kf_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t kf_str_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), i, j, d;
	size_t *prev2, *prev, *cur, *tmp;

	prev2 = kf_xcalloc(m + 1, sizeof *prev2);
	prev = kf_xcalloc(m + 1, sizeof *prev);
	cur = kf_xcalloc(m + 1, sizeof *cur);
	for (j = 0; j <= m; j++)
		prev[j] = j;
	for (i = 1; i <= n; i++) {
		cur[0] = i;
		for (j = 1; j <= m; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	d = prev[m];
	free(prev2);
	free(prev);
	free(cur);
	return d;
}

const char *kf_str_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, i, limit;

	/* Allow roughly one typo per three characters, at least one, at most three. */
	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		size_t d;

		if (!candidates[i])
			continue;
		d = kf_str_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best && best_d <= limit ? best : NULL;
}

bool kf_str_to_long(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool kf_str_to_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
		return false;
	if (*end)
		return false;
	*out = v;
	return true;
}

void kf_strv_push_owned(struct kf_strv *sv, char *s)
{
	KF_GROW(sv->v, sv->cap, sv->n + 2);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void kf_strv_push(struct kf_strv *sv, const char *s)
{
	kf_strv_push_owned(sv, kf_xstrdup(s));
}

void kf_strv_release(struct kf_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool kf_strv_has(const struct kf_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

char *kf_strv_join(const struct kf_strv *sv, const char *sep)
{
	struct kf_buf b = KF_BUF_INIT;
	size_t i;

	for (i = 0; i < sv->n; i++) {
		if (i)
			kf_buf_adds(&b, sep);
		kf_buf_adds(&b, sv->v[i]);
	}
	return kf_buf_detach(&b);
}
