/* kf_bless: value and change thresholds, and the blessing (see kf_bless.h). */
#include "config.h"

#include "ml/kf_bless.h"
#include "ml/kf_eval.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_sha256.h"
#include "util/kf_str.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kf_bless_parse(struct kf_bless_check *c, const char *text, bool change, struct kf_err *err)
{
	const char *p = text, *op, *num;
	char *end;
	size_t len;
	int dir;

	memset(c, 0, sizeof *c);
	while (isspace((unsigned char)*p))
		p++;
	/* a slice before the last colon ahead of the operator */
	op = strpbrk(p, "<>");
	for (num = op ? op : p + strlen(p); num > p && num[-1] != ':'; num--)
		;
	if (num > p) {
		size_t n = (size_t)(num - 1 - p);

		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		c->slice = kf_xstrndup(p, n);
		p = num;
		while (isspace((unsigned char)*p))
			p++;
	}
	len = strcspn(p, "<>= \t");
	op = p + len;
	while (isspace((unsigned char)*op))
		op++;
	if (!len || (strncmp(op, ">=", 2) && strncmp(op, "<=", 2)) || (c->slice && !c->slice[0])) {
		kf_err_set(err, KF_EUSAGE, "%s \"%s\": expected [SLICE:]METRIC>=X or [SLICE:]METRIC<=X",
			   change ? "change" : "threshold", text);
		kf_bless_release(c);
		return KF_EUSAGE;
	}
	c->text = kf_xstrdup(text);
	c->metric = kf_xstrndup(p, len);
	c->op = op[0] == '>' ? KF_BLESS_GE : KF_BLESS_LE;
	c->change = change;
	num = op + 2;
	errno = 0;
	c->bound = strtod(num, &end);
	if (change && *end == '%') {
		c->relative = true;
		c->bound /= 100;
		end++;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (end == num || *end || errno || !isfinite(c->bound)) {
		kf_err_set(err, KF_EUSAGE, "%s \"%s\": \"%s\" is not a number%s",
			   change ? "change" : "threshold", text, num, change ? " or a percentage" : "");
		kf_bless_release(c);
		return KF_EUSAGE;
	}
	dir = kf_eval_metric_direction(c->metric);
	if (change && dir && (dir > 0) != (c->op == KF_BLESS_GE)) {
		kf_err_set(err, KF_EUSAGE, "change \"%s\": %s is %s-is-better, write '%s%s%s'", text,
			   c->metric, dir > 0 ? "higher" : "lower", c->metric, dir > 0 ? ">=" : "<=",
			   num);
		kf_bless_release(c);
		return KF_EUSAGE;
	}
	return 0;
}

void kf_bless_release(struct kf_bless_check *c)
{
	free(c->text);
	free(c->slice);
	free(c->metric);
	memset(c, 0, sizeof *c);
}

static bool metric_value(const cJSON *metrics, const char *name, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(metrics, name);

	if (!cJSON_IsNumber(it))
		return false;
	*v = it->valuedouble;
	return true;
}

static bool holds(const struct kf_bless_check *c, double x)
{
	return c->op == KF_BLESS_GE ? x >= c->bound : x <= c->bound;
}

static const char *side(const struct kf_bless_check *c)
{
	return c->op == KF_BLESS_GE ? "below" : "above";
}

/* The check on one metric; fills o and returns whether it passed. */
static bool judge_one(const struct kf_bless_check *c, kf_bless_find find, void *arg, cJSON *o)
{
	struct kf_buf why = KF_BUF_INIT;
	const cJSON *metrics = find(arg, c->slice, false), *baseline;
	double v, b, d;
	bool pass = false, skipped = false;

	cJSON_AddStringToObject(o, "check", c->text);
	if (c->slice)
		cJSON_AddStringToObject(o, "slice", c->slice);
	cJSON_AddStringToObject(o, "metric", c->metric);
	cJSON_AddStringToObject(o, "kind", c->change ? "change" : "value");
	if (!metrics) {
		kf_buf_printf(&why, "no slice \"%s\" in the evaluation (%s)", c->slice, c->text);
		goto out;
	}
	if (!metric_value(metrics, c->metric, &v)) {
		kf_buf_printf(&why, "%s is undefined on this data (%s)", c->metric, c->text);
		goto out;
	}
	cJSON_AddNumberToObject(o, "value", v);
	if (!c->change) {
		pass = holds(c, v);
		if (!pass)
			kf_buf_printf(&why, "%s %.6g is %s the %s bound %.6g (%s)", c->metric, v, side(c),
				      c->op == KF_BLESS_GE ? "lower" : "upper", c->bound, c->text);
		goto out;
	}
	baseline = find(arg, c->slice, true);
	if (!find(arg, NULL, true)) {
		skipped = pass = true;
		kf_buf_printf(&why, "no baseline model: change threshold not applied (%s)", c->text);
		goto out;
	}
	if (!baseline || !metric_value(baseline, c->metric, &b)) {
		kf_buf_printf(&why, "%s of the baseline is undefined (%s)", c->metric, c->text);
		goto out;
	}
	cJSON_AddNumberToObject(o, "baseline", b);
	if (c->relative && b == 0) {
		kf_buf_printf(&why, "%s of the baseline is 0: no relative change (%s)", c->metric, c->text);
		goto out;
	}
	d = c->relative ? (v - b) / fabs(b) : v - b;
	cJSON_AddNumberToObject(o, "change", d);
	pass = holds(c, d);
	if (!pass && c->relative)
		kf_buf_printf(&why, "%s changed by %+.4g%% (%.6g against the baseline's %.6g), %s %.4g%% (%s)",
			      c->metric, d * 100, v, b, side(c), c->bound * 100, c->text);
	else if (!pass)
		kf_buf_printf(&why, "%s changed by %+.6g (%.6g against the baseline's %.6g), %s %.6g (%s)",
			      c->metric, d, v, b, side(c), c->bound, c->text);
out:
	cJSON_AddBoolToObject(o, "passed", pass);
	cJSON_AddBoolToObject(o, "skipped", skipped);
	if (why.len && c->slice && metrics) {
		char *t = kf_xasprintf("%s: %s", c->slice, why.data);

		cJSON_AddStringToObject(o, "reason", t);
		free(t);
	} else if (why.len) {
		cJSON_AddStringToObject(o, "reason", why.data);
	}
	kf_buf_release(&why);
	return pass;
}

cJSON *kf_bless_judge(const struct kf_bless_check *checks, size_t n, kf_bless_find find, void *arg)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	bool blessed = true;
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!judge_one(&checks[i], find, arg, o))
			blessed = false;
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddBoolToObject(doc, "blessed", blessed);
	cJSON_AddItemToObject(doc, "checks", arr);
	return doc;
}

int kf_bless_write(const char *dir, const cJSON *verdict, struct kf_err *err)
{
	bool blessed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "blessed"));
	const cJSON *c;
	struct kf_buf text = KF_BUF_INIT;
	char *path = NULL, *other = NULL;
	int rc;

	rc = kf_fs_mkdirs(dir, err);
	if (rc < 0)
		goto out;
	path = kf_path_join(dir, blessed ? "BLESSED" : "NOT_BLESSED");
	other = kf_path_join(dir, blessed ? "NOT_BLESSED" : "BLESSED");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(verdict, "checks")) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "reason");

		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "passed")) && cJSON_IsString(r))
			kf_buf_printf(&text, "%s\n", r->valuestring);
	}
	if (unlink(other) < 0 && errno != ENOENT) {
		rc = kf_err_sys(err, "cannot remove \"%s\"", other);
		goto out;
	}
	rc = kf_fs_write_atomic(path, text.data ? text.data : "", text.len, err);
out:
	free(path);
	free(other);
	kf_buf_release(&text);
	return rc;
}

long kf_bless_repo_newest(const char *repo, char **path)
{
	DIR *d = opendir(repo);
	struct dirent *e;
	long newest = 0, v;

	if (path)
		*path = NULL;
	while (d && (e = readdir(d))) {
		char *dir;

		if (!kf_str_to_long(e->d_name, &v) || v <= 0 || e->d_name[0] == '+' || v <= newest)
			continue;
		dir = kf_path_join(repo, e->d_name);
		if (kf_fs_is_dir(dir))
			newest = v;
		free(dir);
	}
	if (d)
		closedir(d);
	if (newest && path)
		*path = kf_xasprintf("%s/%ld", repo, newest);
	return newest;
}

/* Same model: the same kf-model.json bytes (it holds the weights' digest). */
static bool same_model(const char *a, const char *b)
{
	char ha[KF_SHA256_HEX_LEN + 1], hb[KF_SHA256_HEX_LEN + 1];
	char *pa = kf_path_join(a, "kf-model.json"), *pb = kf_path_join(b, "kf-model.json");
	struct kf_err err;
	bool same = kf_sha256_file(pa, ha, &err) == 0 && kf_sha256_file(pb, hb, &err) == 0 &&
		    !strcmp(ha, hb);

	free(pa);
	free(pb);
	return same;
}

int kf_bless_push(const char *model_dir, const char *repo, long *version, bool *pushed,
		  struct kf_err *err)
{
	char *newest_dir = NULL, *tmp = NULL, *final = NULL, *model_json;
	long newest;
	int rc;

	*pushed = false;
	*version = 0;
	model_json = kf_path_join(model_dir, "kf-model.json");
	if (!kf_fs_exists(model_json)) {
		rc = kf_err_set(err, KF_EINPUT, "\"%s\" is not a model bundle (no kf-model.json)", model_dir);
		goto out;
	}
	if ((rc = kf_fs_mkdirs(repo, err)) < 0)
		goto out;
	newest = kf_bless_repo_newest(repo, &newest_dir);
	if (newest && same_model(model_dir, newest_dir)) {
		*version = newest;
		goto out;
	}
	tmp = kf_xasprintf("%s/.push-%ld-%ld", repo, (long)getpid(), newest + 1);
	final = kf_xasprintf("%s/%ld", repo, newest + 1);
	if ((rc = kf_fs_remove_tree(tmp, err)) < 0 || (rc = kf_fs_copy_tree(model_dir, tmp, err)) < 0)
		goto out;
	/* rename(2) refuses to replace a non-empty directory: a concurrent push
	 * of the same version fails here instead of mixing two models */
	if (rename(tmp, final) != 0) {
		rc = kf_err_sys(err, "cannot push into \"%s\"", final);
		goto out;
	}
	*version = newest + 1;
	*pushed = true;
out:
	if (tmp && rc)
		kf_fs_remove_tree(tmp, NULL);
	free(model_json);
	free(newest_dir);
	free(tmp);
	free(final);
	return rc;
}
