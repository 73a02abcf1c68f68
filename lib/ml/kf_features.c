/* kf_features: feature spec, streaming fit, transform, JSON round-trip. */
#include "config.h"

#include "data/kf_csv.h"
#include "ml/kf_features.h"
#include "ml/kf_rng.h"
#include "ml/kf_strmap.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	"zscore", "minmax", "log", "bucketize", "onehot", "hash", "cross", "none"
};
static const char *const missing_names[] = {
	"default", "mean", "median", "zero", "value", "category", "oov", "drop"
};

const char *kf_ft_kind_name(enum kf_ft_kind k)
{
	return kind_names[k];
}

const char *kf_ft_missing_name(enum kf_ft_missing m)
{
	return missing_names[m];
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static bool is_categorical(enum kf_ft_kind k)
{
	return k == KF_FT_ONEHOT || k == KF_FT_HASH || k == KF_FT_CROSS;
}

/* Free a heap-allocated map (NULL-safe). */

static void smap_free(struct kf_strmap *m)
{
	if (!m)
		return;
	kf_strmap_release(m);
	free(m);
}

/* ---- values ------------------------------------------------------------ */

static bool missing(const char *s)
{
	return !s || !*s;
}

static bool parse_num(const char *s, double *out)
{
	if (missing(s))
		return false;
	return kf_csv_parse_double(s, strlen(s), out) && isfinite(*out);
}

/* A plain integer is already in canonical form ("12", not "012" or "+12"). */
static bool plain_int(const char *s)
{
	size_t i = s[0] == '-' ? 1 : 0, start = i;

	if (!s[i] || (s[i] == '0' && s[i + 1]))
		return false;
	for (; s[i]; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return i - start < 16;
}

/* The vocabulary key of a categorical value: numbers in one canonical
 * spelling so "5", "5.0" and a JSON 5 are the same category. */
static const char *cat_key(const char *s, bool numeric, char *buf, size_t size)
{
	double v;

	if (missing(s))
		return "";
	if (numeric && plain_int(s))
		return strcmp(s, "-0") ? s : "0";
	if (numeric && parse_num(s, &v)) {
		snprintf(buf, size, "%.15g", v);
		return buf;
	}
	return s;
}

/* ---- spec loading ------------------------------------------------------- */

void kf_features_release(struct kf_features *fs)
{
	size_t i, j;

	if (!fs)
		return;
	for (i = 0; i < fs->n_inputs; i++)
		free(fs->inputs[i]);
	free(fs->inputs);
	free(fs->numeric);
	for (i = 0; i < fs->n; i++) {
		struct kf_feature *f = &fs->f[i];

		free(f->name);
		free(f->bounds);
		for (j = 0; j < f->n_vocab; j++)
			free(f->vocab[j]);
		free(f->vocab);
		smap_free(f->index);
	}
	free(fs->f);
	free(fs->spec_file);
	memset(fs, 0, sizeof *fs);
}

static struct kf_feature *add_feature(struct kf_features *fs)
{
	struct kf_feature *f;

	fs->f = kf_xrealloc(fs->f, (fs->n + 1) * sizeof *fs->f);
	f = &fs->f[fs->n++];
	memset(f, 0, sizeof *f);
	f->kind = KF_FT_NONE;
	return f;
}

static int spec_size(const struct kf_ydoc *doc, const struct kf_ynode *v, const char *key,
		     size_t *out, struct kf_err *err)
{
	long l;

	if (!kf_ynode_is_scalar(v) || !kf_str_to_long(v->value, &l) || l < 1 || l > 10000000)
		return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
				 "\"%s\" must be a positive integer", key);
	*out = (size_t)l;
	return 0;
}

/* One entry of features: a map with column/cross and options. */
static int spec_entry(struct kf_features *fs, const struct kf_ydoc *doc, const struct kf_ynode *e,
		      struct kf_err *err)
{
	static const char *const keys[] = {
		"column", "cross", "transform", "missing", "value", "buckets", "topK", "minCount", "name"
	};
	struct kf_feature *f;
	char *col[2] = { NULL, NULL };
	size_t i;

	if (e->kind != KF_Y_MAP)
		return kf_err_at(err, KF_EINPUT, doc->file, e->line, e->col,
				 "a feature must be a map with \"column\" or \"cross\"");
	f = add_feature(fs);
	f->line = e->line;
	f->col_no = e->col;
	f->buckets = 0;
	for (i = 0; i < e->n; i++) {
		const struct kf_ynode *k = kf_ynode_key(e, i), *v = kf_ynode_val(e, i);
		const char *key = k->value;
		int idx;

		if (lookup(keys, sizeof keys / sizeof *keys, key) < 0) {
			const char *hint = kf_str_suggest(key, keys, sizeof keys / sizeof *keys);

			return kf_err_at(err, KF_EINPUT, doc->file, k->line, k->col,
					 "unknown key \"%s\"%s%s%s", key, hint ? " (did you mean \"" : "",
					 hint ? hint : "", hint ? "\"?)" : "");
		}
		if (!strcmp(key, "cross")) {
			if (v->kind != KF_Y_SEQ || v->n != 2 || !kf_ynode_is_scalar(v->items[0]) ||
			    !kf_ynode_is_scalar(v->items[1]))
				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "\"cross\" must list two columns");
			col[0] = v->items[0]->value;
			col[1] = v->items[1]->value;
			f->kind = KF_FT_CROSS;
			continue;
		}
		if (!kf_ynode_is_scalar(v))
			return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
					 "\"%s\" must be a scalar", key);
		if (!strcmp(key, "column")) {
			col[0] = v->value;
		} else if (!strcmp(key, "name")) {
			f->name = kf_xstrdup(v->value);
		} else if (!strcmp(key, "transform")) {
			idx = lookup(kind_names, sizeof kind_names / sizeof *kind_names, v->value);
			if (idx < 0) {
				const char *hint = kf_str_suggest(v->value, kind_names, 8);

				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "unknown transform \"%s\"%s%s%s", v->value,
						 hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			}
			if (f->kind == KF_FT_CROSS && idx != KF_FT_CROSS)
				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "a \"cross\" entry takes no other transform");
			f->kind = (enum kf_ft_kind)idx;
		} else if (!strcmp(key, "missing")) {
			idx = lookup(missing_names, sizeof missing_names / sizeof *missing_names, v->value);
			if (idx <= 0)
				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "unknown missing-value policy \"%s\" (expected mean, median, zero, value, category, oov or drop)",
						 v->value);
			f->missing = (enum kf_ft_missing)idx;
		} else if (!strcmp(key, "value")) {
			if (!kf_str_to_double(v->value, &f->fill))
				return kf_err_at(err, KF_EINPUT, doc->file, v->line, v->col,
						 "\"value\" must be a number");
			if (!f->missing)
				f->missing = KF_MISS_VALUE;
		} else if (!strcmp(key, "buckets")) {
			if (spec_size(doc, v, key, &f->buckets, err) < 0)
				return KF_EINPUT;
		} else if (!strcmp(key, "topK")) {
			if (spec_size(doc, v, key, &f->top_k, err) < 0)
				return KF_EINPUT;
		} else if (!strcmp(key, "minCount")) {
			if (spec_size(doc, v, key, &f->min_count, err) < 0)
				return KF_EINPUT;
		}
	}
	if (!col[0])
		return kf_err_at(err, KF_EINPUT, doc->file, e->line, e->col,
				 "a feature needs \"column\" (or \"cross\": [A, B])");
	if (f->kind == KF_FT_NONE)
		return kf_err_at(err, KF_EINPUT, doc->file, e->line, e->col,
				 "feature \"%s\" needs a \"transform\"", col[0]);
	if (f->kind == KF_FT_CROSS && !col[1])
		return kf_err_at(err, KF_EINPUT, doc->file, e->line, e->col,
				 "transform cross needs \"cross\": [A, B]");
	if (is_categorical(f->kind) ? (f->missing && f->missing < KF_MISS_CATEGORY && f->missing != KF_MISS_DROP)
				    : (f->missing == KF_MISS_CATEGORY || f->missing == KF_MISS_OOV))
		return kf_err_at(err, KF_EINPUT, doc->file, e->line, e->col,
				 "missing: %s does not apply to transform %s", missing_names[f->missing],
				 kind_names[f->kind]);
	/* Columns are resolved at fit time; keep the names in the inputs slots
	 * of the feature via its name for now. */
	if (!f->name)
		f->name = f->kind == KF_FT_CROSS ? kf_xasprintf("%s_x_%s", col[0], col[1]) : kf_xstrdup(col[0]);
	f->vocab = kf_xcalloc(2, sizeof *f->vocab);  /* column names until resolved */
	f->vocab[0] = kf_xstrdup(col[0]);
	f->vocab[1] = col[1] ? kf_xstrdup(col[1]) : NULL;
	f->n_vocab = col[1] ? 2 : 1;
	return 0;
}

int kf_features_load_spec(struct kf_features *fs, const char *path, struct kf_err *err)
{
	struct kf_ydoc doc = { 0 };
	const struct kf_ynode *root, *list, *v;
	size_t i;
	int rc;

	memset(fs, 0, sizeof *fs);
	rc = kf_yaml_load_file(&doc, path, err);
	if (rc < 0)
		return rc;
	root = doc.root;
	rc = KF_EINPUT;
	if (!root || root->kind != KF_Y_MAP) {
		kf_err_at(err, KF_EINPUT, path, root ? root->line : 1, root ? root->col : 1,
			  "a feature spec must be a map with \"features\"");
		goto out;
	}
	if ((v = kf_ynode_get(root, "kind")) && (!kf_ynode_is_scalar(v) || strcmp(v->value, "Features"))) {
		kf_err_at(err, KF_EINPUT, path, v->line, v->col, "kind must be \"Features\"");
		goto out;
	}
	for (i = 0; i < root->n; i++) {
		const char *k = kf_ynode_key(root, i)->value;

		if (strcmp(k, "apiVersion") && strcmp(k, "kind") && strcmp(k, "features")) {
			kf_err_at(err, KF_EINPUT, path, kf_ynode_key(root, i)->line, kf_ynode_key(root, i)->col,
				  "unknown key \"%s\" (expected apiVersion, kind, features)", k);
			goto out;
		}
	}
	list = kf_ynode_get(root, "features");
	if (!list || list->kind != KF_Y_SEQ || list->n == 0) {
		kf_err_at(err, KF_EINPUT, path, list ? list->line : root->line, list ? list->col : root->col,
			  "\"features\" must be a non-empty list");
		goto out;
	}
	for (i = 0; i < list->n; i++)
		if (spec_entry(fs, &doc, list->items[i], err) < 0)
			goto out;
	fs->spec_file = kf_xstrdup(path);
	rc = 0;
out:
	if (rc < 0)
		kf_features_release(fs);
	kf_ydoc_release(&doc);
	return rc;
}

/* ---- fitting ------------------------------------------------------------ */

struct colstat {
	size_t rows, n_missing, n_num;
	double mean, m2, lmean, lm2, min, max;   /* Welford over numbers and log1p */
	double *res;                             /* reservoir of numbers */
	size_t n_res;
	struct kf_strmap *counts;                     /* text -> count, capped */
	bool capped;
	bool integral;
	bool want_log;                           /* a log transform may read it */
	struct kf_rng rng;
};

struct crossstat {
	size_t feature;
};

struct kf_features_fit {
	struct kf_features *spec;   /* NULL: infer */
	struct kf_features work;
	size_t n;
	char **names;
	bool *skip;
	struct colstat *st;
	size_t rows;
};

static void welford(double *mean, double *m2, size_t n, double x)
{
	double d = x - *mean;

	*mean += d / (double)n;
	*m2 += d * (x - *mean);
}

int kf_features_fit_new(struct kf_features_fit **out, struct kf_features *spec,
			const char *const *names, size_t n, const bool *skip, uint64_t seed,
			struct kf_err *err)
{
	struct kf_features_fit *fit = kf_xcalloc(1, sizeof *fit);
	size_t i, j;

	fit->spec = spec;
	fit->n = n;
	fit->names = kf_xcalloc(n, sizeof *fit->names);
	fit->skip = kf_xcalloc(n, sizeof *fit->skip);
	fit->st = kf_xcalloc(n, sizeof *fit->st);
	for (i = 0; i < n; i++) {
		fit->names[i] = kf_xstrdup(names[i]);
		fit->skip[i] = skip ? skip[i] : false;
		fit->st[i].counts = kf_xcalloc(1, sizeof(struct kf_strmap));
		fit->st[i].integral = true;
		fit->st[i].min = INFINITY;
		fit->st[i].max = -INFINITY;
		fit->st[i].res = kf_xmalloc(KF_FEATURES_RESERVOIR * sizeof(double));
		kf_rng_seed(&fit->st[i].rng, seed * 1000003 + i);
	}
	/* A spec names its columns: resolve them now, before reading data. */
	for (i = 0; spec && i < spec->n; i++) {
		struct kf_feature *f = &spec->f[i];

		for (j = 0; j < f->n_vocab; j++) {
			int c = lookup((const char *const *)fit->names, n, f->vocab[j]);

			if (c < 0) {
				const char *hint = kf_str_suggest(f->vocab[j], (const char *const *)fit->names, n);

				kf_err_at(err, KF_EINPUT, spec->spec_file, f->line, f->col_no,
					  "feature \"%s\": no column \"%s\" in the data%s%s%s", f->name, f->vocab[j],
					  hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
				kf_features_fit_free(fit);
				return KF_EINPUT;
			}
			f->col[j] = (size_t)c;
		}
	}
	/* A spec reads only its own columns: collect statistics for those
	 * (and log moments only where a log transform reads them). */
	for (i = 0; i < n; i++)
		fit->st[i].want_log = !spec;
	if (spec) {
		for (i = 0; i < n; i++)
			fit->skip[i] = true;
		for (i = 0; i < spec->n; i++)
			for (j = 0; j < spec->f[i].n_vocab; j++) {
				fit->skip[spec->f[i].col[j]] = false;
				if (spec->f[i].kind == KF_FT_LOG)
					fit->st[spec->f[i].col[j]].want_log = true;
			}
	}
	*out = fit;
	return 0;
}

void kf_features_fit_free(struct kf_features_fit *fit)
{
	size_t i;

	if (!fit)
		return;
	for (i = 0; i < fit->n; i++) {
		free(fit->names[i]);
		free(fit->st[i].res);
		smap_free(fit->st[i].counts);
	}
	free(fit->names);
	free(fit->skip);
	free(fit->st);
	free(fit);
}

void kf_features_fit_add(struct kf_features_fit *fit, const char *const *values)
{
	size_t i;

	fit->rows++;
	for (i = 0; i < fit->n; i++) {
		struct colstat *s = &fit->st[i];
		const char *v = values[i];
		double x;

		if (fit->skip[i])
			continue;   /* not a feature: no statistics needed */
		s->rows++;
		if (missing(v)) {
			s->n_missing++;
			continue;
		}
		if (parse_num(v, &x)) {
			s->n_num++;
			welford(&s->mean, &s->m2, s->n_num, x);
			if (s->want_log)
				welford(&s->lmean, &s->lm2, s->n_num, log1p(x > 0 ? x : 0));
			if (x < s->min)
				s->min = x;
			if (x > s->max)
				s->max = x;
			if (x != floor(x))
				s->integral = false;
			if (s->n_res < KF_FEATURES_RESERVOIR) {
				s->res[s->n_res++] = x;
			} else {
				size_t j = kf_rng_below(&s->rng, s->n_num);

				if (j < KF_FEATURES_RESERVOIR)
					s->res[j] = x;
			}
		}
		if (!s->capped || kf_strmap_get(s->counts, v)) {
			if (s->counts->n >= KF_FEATURES_MAX_DISTINCT && !kf_strmap_get(s->counts, v))
				s->capped = true;
			else
				(*kf_strmap_put(s->counts, v))++;
		}
	}
}

static bool col_numeric(const struct colstat *s)
{
	size_t present = s->rows - s->n_missing;

	return present > 0 && s->n_num >= present - present / 100;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Pick a transform for a column from what the fit pass saw. */
static enum kf_ft_kind infer_kind(const struct colstat *s, size_t rows)
{
	size_t present = s->rows - s->n_missing, distinct = s->counts->n;

	if (present == 0 || (distinct <= 1 && !s->capped))
		return KF_FT_NONE;   /* constant or empty: carries nothing */
	if (col_numeric(s)) {
		if (s->integral && distinct <= 32 && !s->capped)
			return KF_FT_ONEHOT;
		if (s->min >= 0 && s->max > 0 && s->n_res > 10) {
			double *tmp = kf_xmalloc(s->n_res * sizeof *tmp), p90;

			memcpy(tmp, s->res, s->n_res * sizeof *tmp);
			qsort(tmp, s->n_res, sizeof *tmp, cmp_double);
			p90 = tmp[s->n_res * 9 / 10];
			free(tmp);
			/* heavy right tail (prices, distances, durations) */
			if (s->max > 10 * (p90 > 0 ? p90 : 1))
				return KF_FT_LOG;
		}
		return KF_FT_ZSCORE;
	}
	if (s->capped || distinct > rows / 2)
		return KF_FT_NONE;   /* an id: nothing a model can learn from */
	return distinct > 1000 ? KF_FT_HASH : KF_FT_ONEHOT;
}

struct vc {
	const char *k;
	size_t n;
};

static int cmp_vc(const void *a, const void *b)
{
	const struct vc *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->k, y->k);
}

static void fit_onehot(struct kf_feature *f, const struct colstat *s, bool numeric)
{
	struct vc *all = kf_xcalloc(s->counts->n + 1, sizeof *all);
	struct kf_strmap merged = { 0 };
	size_t i, n = 0, k;
	char buf[64];

	/* Merge spellings of the same number ("5" and "5.0"). */
	for (i = 0; i < s->counts->cap; i++) {
		if (!s->counts->keys[i])
			continue;
		*kf_strmap_put(&merged, cat_key(s->counts->keys[i], numeric, buf, sizeof buf)) += s->counts->vals[i];
	}
	if (s->n_missing && f->missing != KF_MISS_OOV && f->missing != KF_MISS_DROP)
		*kf_strmap_put(&merged, "") += s->n_missing;
	for (i = 0; i < merged.cap; i++)
		if (merged.keys[i]) {
			all[n].k = merged.keys[i];
			all[n].n = merged.vals[i];
			n++;
		}
	qsort(all, n, sizeof *all, cmp_vc);
	k = f->top_k ? f->top_k : 100;
	if (k > n)
		k = n;
	while (k > 0 && all[k - 1].n < (f->min_count ? f->min_count : 1))
		k--;
	f->vocab = kf_xcalloc(k ? k : 1, sizeof *f->vocab);
	f->n_vocab = k;
	f->index = kf_xcalloc(1, sizeof(struct kf_strmap));
	for (i = 0; i < k; i++) {
		f->vocab[i] = kf_xstrdup(all[i].k);
		*kf_strmap_put(f->index, all[i].k) = i;
	}
	f->width = k + 1;   /* + the out-of-vocabulary slot */
	kf_strmap_release(&merged);
	free(all);
}

static double quantile(const double *sorted, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;

	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (pos - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static void fit_numeric(struct kf_feature *f, const struct colstat *s)
{
	double *sorted = NULL;
	size_t i;

	if (s->n_res && (f->kind == KF_FT_BUCKETIZE || f->missing == KF_MISS_MEDIAN)) {
		sorted = kf_xmalloc(s->n_res * sizeof *sorted);
		memcpy(sorted, s->res, s->n_res * sizeof *sorted);
		qsort(sorted, s->n_res, sizeof *sorted, cmp_double);
	}
	switch (f->missing) {
	case KF_MISS_MEDIAN: f->fill = sorted ? quantile(sorted, s->n_res, 0.5) : 0; break;
	case KF_MISS_ZERO: f->fill = 0; break;
	case KF_MISS_VALUE: break;
	default: f->fill = s->n_num ? s->mean : 0; break;
	}
	switch (f->kind) {
	case KF_FT_ZSCORE:
		f->center = s->mean;
		f->scale = s->n_num > 1 ? sqrt(s->m2 / (double)(s->n_num - 1)) : 1;
		break;
	case KF_FT_LOG:
		f->center = s->lmean;
		f->scale = s->n_num > 1 ? sqrt(s->lm2 / (double)(s->n_num - 1)) : 1;
		break;
	case KF_FT_MINMAX:
		f->center = s->n_num ? s->min : 0;
		f->scale = s->n_num ? s->max - s->min : 1;
		break;
	case KF_FT_BUCKETIZE: {
		size_t nb = f->buckets ? f->buckets : 10;

		f->bounds = kf_xcalloc(nb, sizeof *f->bounds);
		for (i = 1; sorted && i < nb; i++) {
			double b = quantile(sorted, s->n_res, (double)i / (double)nb);

			if (f->n_bounds == 0 || b > f->bounds[f->n_bounds - 1])
				f->bounds[f->n_bounds++] = b;
		}
		f->width = f->n_bounds + 1;
		break;
	}
	default:
		break;
	}
	if (f->scale == 0 || !isfinite(f->scale))
		f->scale = 1;
	if (f->kind != KF_FT_BUCKETIZE)
		f->width = 1;
	free(sorted);
}

int kf_features_fit_finish(struct kf_features_fit *fit, struct kf_features *fs, struct kf_err *err)
{
	size_t i, off = 0;

	(void)err;
	memset(fs, 0, sizeof *fs);
	fs->n_inputs = fit->n;
	fs->inputs = kf_xcalloc(fit->n, sizeof *fs->inputs);
	fs->numeric = kf_xcalloc(fit->n, sizeof *fs->numeric);
	for (i = 0; i < fit->n; i++) {
		fs->inputs[i] = kf_xstrdup(fit->names[i]);
		fs->numeric[i] = col_numeric(&fit->st[i]);
	}
	if (fit->spec) {
		/* Take the spec's features over (their names, options, columns). */
		fs->f = fit->spec->f;
		fs->n = fit->spec->n;
		fs->spec_file = fit->spec->spec_file;
		fit->spec->f = NULL;
		fit->spec->n = 0;
		fit->spec->spec_file = NULL;
		for (i = 0; i < fs->n; i++) {
			size_t j;

			for (j = 0; j < fs->f[i].n_vocab; j++)
				free(fs->f[i].vocab[j]);
			free(fs->f[i].vocab);
			fs->f[i].vocab = NULL;
			fs->f[i].n_vocab = 0;
		}
	} else {
		fs->inferred = true;
		for (i = 0; i < fit->n; i++) {
			enum kf_ft_kind k;
			struct kf_feature *f;

			if (fit->skip[i])
				continue;
			k = infer_kind(&fit->st[i], fit->rows);
			if (k == KF_FT_NONE)
				continue;
			f = add_feature(fs);
			f->name = kf_xstrdup(fit->names[i]);
			f->kind = k;
			f->col[0] = i;
			if (k == KF_FT_HASH)
				f->buckets = 1024;
		}
	}
	for (i = 0; i < fs->n; i++) {
		struct kf_feature *f = &fs->f[i];

		switch (f->kind) {
		case KF_FT_ONEHOT:
			fit_onehot(f, &fit->st[f->col[0]], fs->numeric[f->col[0]]);
			break;
		case KF_FT_HASH:
		case KF_FT_CROSS:
			if (!f->buckets)
				f->buckets = f->kind == KF_FT_HASH ? 1024 : 4096;
			f->width = f->buckets;
			break;
		case KF_FT_NONE:
			f->width = 0;
			break;
		default:
			fit_numeric(f, &fit->st[f->col[0]]);
			break;
		}
		f->offset = off;
		off += f->width;
	}
	fs->dim = off;
	kf_features_fit_free(fit);
	return 0;
}

/* ---- applying ------------------------------------------------------------- */

long kf_features_input(const struct kf_features *fs, const char *name)
{
	return lookup((const char *const *)fs->inputs, fs->n_inputs, name);
}

static size_t bucket_of(const struct kf_feature *f, double v)
{
	size_t lo = 0, hi = f->n_bounds;

	while (lo < hi) {   /* first boundary > v */
		size_t mid = (lo + hi) / 2;

		if (f->bounds[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int kf_features_apply(const struct kf_features *fs, const char *const *values, double *x,
		      bool training)
{
	size_t i;
	char b1[64], b2[64];

	memset(x, 0, fs->dim * sizeof *x);
	for (i = 0; i < fs->n; i++) {
		const struct kf_feature *f = &fs->f[i];
		const char *s = values[f->col[0]];
		double v;

		if (f->kind == KF_FT_NONE)
			continue;
		if (is_categorical(f->kind)) {
			const char *k1, *s2;
			size_t *slot;
			uint64_t h;

			if (f->missing == KF_MISS_DROP && training &&
			    (missing(s) || (f->kind == KF_FT_CROSS && missing(values[f->col[1]]))))
				return 1;
			k1 = cat_key(s, fs->numeric[f->col[0]], b1, sizeof b1);
			if (f->kind == KF_FT_ONEHOT) {
				slot = (missing(s) && f->missing == KF_MISS_OOV) ? NULL : kf_strmap_get(f->index, k1);
				x[f->offset + (slot ? *slot : f->n_vocab)] = 1;
				continue;
			}
			h = kf_hash_bytes(k1, strlen(k1), KF_HASH_INIT);
			if (f->kind == KF_FT_CROSS) {
				s2 = cat_key(values[f->col[1]], fs->numeric[f->col[1]], b2, sizeof b2);
				h = kf_hash_bytes("\x1f", 1, h);
				h = kf_hash_bytes(s2, strlen(s2), h);
			}
			x[f->offset + (size_t)(h % f->buckets)] = 1;
			continue;
		}
		if (!parse_num(s, &v)) {
			if (f->missing == KF_MISS_DROP && training)
				return 1;
			v = f->fill;
		}
		switch (f->kind) {
		case KF_FT_ZSCORE:
		case KF_FT_MINMAX:
			x[f->offset] = (v - f->center) / f->scale;
			break;
		case KF_FT_LOG:
			x[f->offset] = (log1p(v > 0 ? v : 0) - f->center) / f->scale;
			break;
		case KF_FT_BUCKETIZE:
			x[f->offset + bucket_of(f, v)] = 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* ---- JSON --------------------------------------------------------------- */

static cJSON *feature_spec_json(const struct kf_features *fs, const struct kf_feature *f)
{
	cJSON *j = cJSON_CreateObject();

	if (f->kind == KF_FT_CROSS) {
		cJSON *c = cJSON_AddArrayToObject(j, "cross");

		cJSON_AddItemToArray(c, cJSON_CreateString(fs->inputs ? fs->inputs[f->col[0]] : ""));
		cJSON_AddItemToArray(c, cJSON_CreateString(fs->inputs ? fs->inputs[f->col[1]] : ""));
	} else {
		cJSON_AddStringToObject(j, "column", fs->inputs ? fs->inputs[f->col[0]] : "");
	}
	cJSON_AddStringToObject(j, "name", f->name);
	cJSON_AddStringToObject(j, "transform", kind_names[f->kind]);
	if (f->missing)
		cJSON_AddStringToObject(j, "missing", missing_names[f->missing]);
	if (f->missing == KF_MISS_VALUE)
		cJSON_AddNumberToObject(j, "value", f->fill);
	if (f->buckets)
		cJSON_AddNumberToObject(j, "buckets", (double)f->buckets);
	if (f->top_k)
		cJSON_AddNumberToObject(j, "topK", (double)f->top_k);
	if (f->min_count)
		cJSON_AddNumberToObject(j, "minCount", (double)f->min_count);
	return j;
}

cJSON *kf_features_spec_json(const struct kf_features *fs)
{
	cJSON *doc = cJSON_CreateObject(), *list;
	size_t i;

	cJSON_AddStringToObject(doc, "apiVersion", "kf/v1");
	cJSON_AddStringToObject(doc, "kind", "Features");
	list = cJSON_AddArrayToObject(doc, "features");
	for (i = 0; i < fs->n; i++)
		cJSON_AddItemToArray(list, feature_spec_json(fs, &fs->f[i]));
	return doc;
}

/* Doubles are written with 17 significant digits: they read back exactly. */
static cJSON *exact(double v)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%.17g", v);
	return cJSON_CreateRaw(buf);
}

cJSON *kf_features_to_json(const struct kf_features *fs)
{
	cJSON *j = cJSON_CreateObject(), *inputs, *list;
	size_t i, k;

	inputs = cJSON_AddArrayToObject(j, "inputs");
	for (i = 0; i < fs->n_inputs; i++) {
		cJSON *in = cJSON_CreateObject();

		cJSON_AddStringToObject(in, "name", fs->inputs[i]);
		cJSON_AddStringToObject(in, "type", fs->numeric[i] ? "number" : "string");
		cJSON_AddItemToArray(inputs, in);
	}
	cJSON_AddNumberToObject(j, "dim", (double)fs->dim);
	cJSON_AddBoolToObject(j, "inferred", fs->inferred);
	list = cJSON_AddArrayToObject(j, "features");
	for (i = 0; i < fs->n; i++) {
		const struct kf_feature *f = &fs->f[i];
		cJSON *o = feature_spec_json(fs, f), *fit = cJSON_AddObjectToObject(o, "fitted");

		cJSON_AddNumberToObject(fit, "offset", (double)f->offset);
		cJSON_AddNumberToObject(fit, "width", (double)f->width);
		if (!is_categorical(f->kind)) {
			cJSON_AddItemToObject(fit, "fill", exact(f->fill));
			if (f->kind != KF_FT_BUCKETIZE) {
				cJSON_AddItemToObject(fit, "center", exact(f->center));
				cJSON_AddItemToObject(fit, "scale", exact(f->scale));
			}
		}
		if (f->kind == KF_FT_BUCKETIZE) {
			cJSON *b = cJSON_AddArrayToObject(fit, "boundaries");

			for (k = 0; k < f->n_bounds; k++)
				cJSON_AddItemToArray(b, exact(f->bounds[k]));
		}
		if (f->kind == KF_FT_ONEHOT) {
			cJSON *v = cJSON_AddArrayToObject(fit, "vocabulary");

			for (k = 0; k < f->n_vocab; k++)
				cJSON_AddItemToArray(v, cJSON_CreateString(f->vocab[k]));
		}
		cJSON_AddItemToArray(list, o);
	}
	return j;
}

static int bad_json(struct kf_err *err, const char *what)
{
	return kf_err_set(err, KF_EINPUT, "kf-model.json: features: bad or missing \"%s\"", what);
}

static int json_size(const cJSON *o, const char *key, size_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return -1;
	*out = (size_t)v->valuedouble;
	return 0;
}

static int json_col(const struct kf_features *fs, const cJSON *v, size_t *out)
{
	long c;

	if (!cJSON_IsString(v) || (c = kf_features_input(fs, v->valuestring)) < 0)
		return -1;
	*out = (size_t)c;
	return 0;
}

int kf_features_from_json(struct kf_features *fs, const cJSON *j, struct kf_err *err)
{
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(j, "inputs");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "features"), *it;
	size_t i;

	memset(fs, 0, sizeof *fs);
	if (!cJSON_IsArray(inputs) || !cJSON_IsArray(list))
		return bad_json(err, "inputs");
	fs->n_inputs = (size_t)cJSON_GetArraySize(inputs);
	fs->inputs = kf_xcalloc(fs->n_inputs + 1, sizeof *fs->inputs);
	fs->numeric = kf_xcalloc(fs->n_inputs + 1, sizeof *fs->numeric);
	i = 0;
	cJSON_ArrayForEach(it, inputs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");

		fs->inputs[i] = kf_xstrdup(cJSON_IsString(name) ? name->valuestring : "");
		fs->numeric[i] = cJSON_IsString(type) && !strcmp(type->valuestring, "number");
		i++;
	}
	fs->inferred = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "inferred"));
	cJSON_ArrayForEach(it, list) {
		struct kf_feature *f = add_feature(fs);
		const cJSON *fit = cJSON_GetObjectItemCaseSensitive(it, "fitted"), *v;
		const cJSON *cross = cJSON_GetObjectItemCaseSensitive(it, "cross");
		int k;

		v = cJSON_GetObjectItemCaseSensitive(it, "transform");
		k = cJSON_IsString(v) ? lookup(kind_names, 8, v->valuestring) : -1;
		if (k < 0)
			goto bad;
		f->kind = (enum kf_ft_kind)k;
		v = cJSON_GetObjectItemCaseSensitive(it, "name");
		f->name = kf_xstrdup(cJSON_IsString(v) ? v->valuestring : "");
		if (f->kind == KF_FT_CROSS) {
			if (cJSON_GetArraySize(cross) != 2 || json_col(fs, cJSON_GetArrayItem(cross, 0), &f->col[0]) < 0 ||
			    json_col(fs, cJSON_GetArrayItem(cross, 1), &f->col[1]) < 0)
				goto bad;
		} else if (json_col(fs, cJSON_GetObjectItemCaseSensitive(it, "column"), &f->col[0]) < 0) {
			goto bad;
		}
		v = cJSON_GetObjectItemCaseSensitive(it, "missing");
		if (v) {
			k = cJSON_IsString(v) ? lookup(missing_names, 8, v->valuestring) : -1;
			if (k < 0)
				goto bad;
			f->missing = (enum kf_ft_missing)k;
		}
		json_size(it, "buckets", &f->buckets);
		json_size(it, "topK", &f->top_k);
		json_size(it, "minCount", &f->min_count);
		if (!cJSON_IsObject(fit) || json_size(fit, "offset", &f->offset) < 0 ||
		    json_size(fit, "width", &f->width) < 0)
			goto bad;
		if ((v = cJSON_GetObjectItemCaseSensitive(fit, "fill")))
			f->fill = v->valuedouble;
		if ((v = cJSON_GetObjectItemCaseSensitive(fit, "center")))
			f->center = v->valuedouble;
		if ((v = cJSON_GetObjectItemCaseSensitive(fit, "scale")))
			f->scale = v->valuedouble;
		if (f->kind == KF_FT_BUCKETIZE) {
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(fit, "boundaries"), *bv;

			if (!cJSON_IsArray(b))
				goto bad;
			f->bounds = kf_xcalloc((size_t)cJSON_GetArraySize(b) + 1, sizeof *f->bounds);
			cJSON_ArrayForEach(bv, b)
				f->bounds[f->n_bounds++] = bv->valuedouble;
			if (f->width != f->n_bounds + 1)
				goto bad;
		}
		if (f->kind == KF_FT_ONEHOT) {
			const cJSON *voc = cJSON_GetObjectItemCaseSensitive(fit, "vocabulary"), *w;

			if (!cJSON_IsArray(voc))
				goto bad;
			f->vocab = kf_xcalloc((size_t)cJSON_GetArraySize(voc) + 1, sizeof *f->vocab);
			f->index = kf_xcalloc(1, sizeof(struct kf_strmap));
			cJSON_ArrayForEach(w, voc) {
				if (!cJSON_IsString(w))
					goto bad;
				*kf_strmap_put(f->index, w->valuestring) = f->n_vocab;
				f->vocab[f->n_vocab++] = kf_xstrdup(w->valuestring);
			}
			if (f->width != f->n_vocab + 1)
				goto bad;
		}
		if ((f->kind == KF_FT_HASH || f->kind == KF_FT_CROSS) && (!f->buckets || f->width != f->buckets))
			goto bad;
		if (f->offset + f->width > fs->dim)
			fs->dim = f->offset + f->width;
		continue;
bad:
		kf_features_release(fs);
		return bad_json(err, "features");
	}
	return 0;
}
