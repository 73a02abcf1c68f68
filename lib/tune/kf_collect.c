/* kf_collect: observation logs from trial output. */
#include "config.h"

#include "tune/kf_collect.h"

#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

void kf_collect_release(struct kf_collect *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].name);
	free(m->items);
	m->items = NULL;
	m->n = m->cap = 0;
}

void kf_collect_add(struct kf_collect *m, const char *name, double value)
{
	KF_GROW(m->items, m->cap, m->n + 1);
	m->items[m->n].name = kf_xstrdup(name);
	m->items[m->n].value = value;
	m->n++;
}

static bool wanted(const char *name, size_t len, const struct kf_metric_spec *names, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i].name) == len && !strncmp(names[i].name, name, len))
			return true;
	return false;
}

static void add_n(struct kf_collect *m, const char *name, size_t len, double v)
{
	char *s = kf_xstrndup(name, len);

	kf_collect_add(m, s, v);
	free(s);
}

/* \w plus Katib's '|' and '-' */
static bool name_char(int c)
{
	return isalnum(c) || c == '_' || c == '|' || c == '-';
}

/* [+-]?(\d+\.?\d*|\.\d+)([Ee][+-]?\d+)? at p; its length, 0 when none. */
static size_t number_len(const char *p, const char *end)
{
	const char *q = p;
	size_t digits = 0;

	if (q < end && (*q == '+' || *q == '-'))
		q++;
	while (q < end && isdigit((unsigned char)*q)) {
		q++;
		digits++;
	}
	if (q < end && *q == '.') {
		const char *r = q + 1;
		size_t frac = 0;

		while (r < end && isdigit((unsigned char)*r)) {
			r++;
			frac++;
		}
		if (digits || frac) {
			q = r;
			digits += frac;
		}
	}
	if (!digits)
		return 0;
	if (q < end && (*q == 'e' || *q == 'E')) {
		const char *r = q + 1;

		if (r < end && (*r == '+' || *r == '-'))
			r++;
		if (r < end && isdigit((unsigned char)*r)) {
			while (r < end && isdigit((unsigned char)*r))
				r++;
			q = r;
		}
	}
	return (size_t)(q - p);
}

/* Every match of the default filter in one line, leftmost first and not
 * overlapping, as Go's FindAllStringSubmatch would report them. */
static void scan_default(struct kf_collect *m, const char *p, const char *end,
			 const struct kf_metric_spec *names, size_t n_names)
{
	while (p < end) {
		const char *name = p, *q, *v;
		size_t vlen;

		if (!name_char((unsigned char)*p)) {
			p++;
			continue;
		}
		while (p < end && name_char((unsigned char)*p))
			p++;
		/* a shorter name from the same start would be followed by a
		 * name character, never by '=' or space: only the whole run can match */
		q = p;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != '=')
			continue;
		q++;
		while (q < end && isspace((unsigned char)*q))
			q++;
		v = q;
		vlen = number_len(v, end);
		if (!vlen)
			continue;
		if (wanted(name, (size_t)(p - name), names, n_names)) {
			char *num = kf_xstrndup(v, vlen);

			add_n(m, name, (size_t)(p - name), strtod(num, NULL));
			free(num);
		}
		p = v + vlen;
	}
}

static void scan_regex(struct kf_collect *m, regex_t *re, const char *line,
		       const struct kf_metric_spec *names, size_t n_names)
{
	const char *p = line;
	regmatch_t g[3];
	int flags = 0;

	while (*p && !regexec(re, p, 3, g, flags)) {
		if (g[1].rm_so >= 0 && g[2].rm_so >= 0 &&
		    wanted(p + g[1].rm_so, (size_t)(g[1].rm_eo - g[1].rm_so), names, n_names)) {
			char *num = kf_xstrndup(p + g[2].rm_so, (size_t)(g[2].rm_eo - g[2].rm_so));
			double v;

			if (kf_str_to_double(num, &v))
				add_n(m, p + g[1].rm_so, (size_t)(g[1].rm_eo - g[1].rm_so), v);
			free(num);
		}
		p += g[0].rm_eo > 0 ? g[0].rm_eo : 1;
		flags = REG_NOTBOL;
	}
}

int kf_collect_parse_text(struct kf_collect *m, const char *text, size_t len,
			  char *const *filters, size_t n_filters,
			  const struct kf_metric_spec *names, size_t n_names, struct kf_err *err)
{
	regex_t *res = NULL;
	const char *p = text, *end = text + len;
	size_t n_re = 0;
	int rc = 0;

	if (n_filters) {
		res = kf_xcalloc(n_filters, sizeof *res);
		for (; n_re < n_filters; n_re++) {
			char *ere = kf_experiment_filter_ere(filters[n_re]);
			int bad = regcomp(&res[n_re], ere, REG_EXTENDED);

			free(ere);
			if (bad) {
				rc = kf_err_set(err, KF_EINPUT, "metrics format \"%s\" does not compile",
						filters[n_re]);
				goto out;
			}
		}
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (n_re) {
			char *line = kf_xstrndup(p, (size_t)(eol - p));

			for (size_t i = 0; i < n_re; i++)
				scan_regex(m, &res[i], line, names, n_names);
			free(line);
		} else {
			scan_default(m, p, eol, names, n_names);
		}
		p = nl ? nl + 1 : end;
	}
out:
	for (size_t i = 0; i < n_re; i++)
		regfree(&res[i]);
	free(res);
	return rc;
}

static bool json_number(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	return cJSON_IsString(v) && kf_str_to_double(v->valuestring, out);
}

int kf_collect_parse_json_lines(struct kf_collect *m, const char *text, size_t len,
				const struct kf_metric_spec *names, size_t n_names, struct kf_err *err)
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		cJSON *doc, *it;

		lineno++;
		doc = cJSON_ParseWithLength(p, (size_t)(eol - p));
		if (!doc) {
			/* blank lines are fine; anything else is a broken record */
			for (const char *s = p; s < eol; s++)
				if (!isspace((unsigned char)*s))
					return kf_err_set(err, KF_EINPUT, "metrics line %d is not JSON",
							  lineno);
			p = nl ? nl + 1 : end;
			continue;
		}
		p = nl ? nl + 1 : end;
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			return kf_err_set(err, KF_EINPUT, "metrics line %d is not a JSON object", lineno);
		}
		cJSON_ArrayForEach(it, doc) {
			double v;

			if (it->string && wanted(it->string, strlen(it->string), names, n_names) &&
			    json_number(it, &v))
				kf_collect_add(m, it->string, v);
		}
		cJSON_Delete(doc);
	}
	return 0;
}

int kf_collect_parse_kfp(struct kf_collect *m, const char *text, size_t len,
			 const struct kf_metric_spec *names, size_t n_names, struct kf_err *err)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *list, *it;
	int rc = 0;

	list = cJSON_GetObjectItem(doc, "metrics");
	if (!cJSON_IsArray(list)) {
		rc = kf_err_set(err, KF_EINPUT, "not a KFP metrics document (no \"metrics\" list)");
		goto out;
	}
	cJSON_ArrayForEach(it, list) {
		const cJSON *name = cJSON_GetObjectItem(it, "name");
		double v;

		if (cJSON_IsString(name) && wanted(name->valuestring, strlen(name->valuestring), names,
						   n_names) &&
		    json_number(cJSON_GetObjectItem(it, "numberValue"), &v))
			kf_collect_add(m, name->valuestring, v);
	}
out:
	cJSON_Delete(doc);
	return rc;
}

int kf_collect_parse_json(struct kf_collect *m, const char *text, size_t len,
			  const struct kf_metric_spec *names, size_t n_names, struct kf_err *err)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false), *it;

	/* one document only if nothing but space follows it */
	while (doc && end && end < text + len && isspace((unsigned char)*end))
		end++;
	if (doc && end != text + len) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return kf_collect_parse_json_lines(m, text, len, names, n_names, err);
	}
	if (cJSON_IsArray(cJSON_GetObjectItem(doc, "metrics"))) {
		cJSON_Delete(doc);
		return kf_collect_parse_kfp(m, text, len, names, n_names, err);
	}
	cJSON_ArrayForEach(it, doc) {
		double v;

		if (it->string && wanted(it->string, strlen(it->string), names, n_names) && json_number(it, &v))
			kf_collect_add(m, it->string, v);
	}
	cJSON_Delete(doc);
	return 0;
}

bool kf_collect_value(const struct kf_collect *m, const char *name, enum kf_strategy strategy,
		      double *out)
{
	bool seen = false;

	for (size_t i = 0; i < m->n; i++) {
		double v = m->items[i].value;

		if (strcmp(m->items[i].name, name) || isnan(v))
			continue;
		if (!seen || strategy == KF_STRATEGY_LATEST ||
		    (strategy == KF_STRATEGY_MIN && v < *out) || (strategy == KF_STRATEGY_MAX && v > *out))
			*out = v;
		seen = true;
	}
	return seen;
}

size_t kf_collect_count(const struct kf_collect *m, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += !strcmp(m->items[i].name, name);
	return n;
}
