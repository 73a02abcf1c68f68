/* kf_mf: ALS matrix factorisation (explicit and implicit feedback). */
#include "config.h"

#include "ml/kf_bundle.h"
#include "ml/kf_mf.h"
#include "ml/kf_rng.h"
#include "ml/kf_strmap.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	size_t u, i;
	double v;
};

struct kf_mf {
	bool implicit;
	size_t f;
	double reg, alpha;
	struct kf_strmap uidx, iidx;
	char **users, **items;
	size_t nu, ni, cap_u, cap_i;
	struct pair *pairs;       /* sorted by (u, i) after fit/load */
	size_t np, cap_p;
	struct kf_strmap pidx;    /* "u\x1fi" -> pair index while adding */
	size_t *u_start, *i_start; /* CSR by user over pairs; by item over i_order */
	size_t *i_order;
	double *x, *y;            /* nu × f, ni × f */
	double *pop;              /* item popularity (cold-start ranking) */
};

struct kf_mf *kf_mf_new(bool implicit)
{
	struct kf_mf *m = kf_xcalloc(1, sizeof *m);

	m->implicit = implicit;
	return m;
}

void kf_mf_free(struct kf_mf *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nu; i++)
		free(m->users[i]);
	for (i = 0; i < m->ni; i++)
		free(m->items[i]);
	free(m->users);
	free(m->items);
	kf_strmap_release(&m->uidx);
	kf_strmap_release(&m->iidx);
	kf_strmap_release(&m->pidx);
	free(m->pairs);
	free(m->u_start);
	free(m->i_start);
	free(m->i_order);
	free(m->x);
	free(m->y);
	free(m->pop);
	free(m);
}

static size_t intern(struct kf_strmap *map, char ***names, size_t *n, size_t *cap, const char *s)
{
	size_t *slot = kf_strmap_get(map, s);

	if (slot)
		return *slot;
	*names = kf_xgrow(*names, sizeof **names, cap, *n + 1);
	(*names)[*n] = kf_xstrdup(s);
	*kf_strmap_put(map, s) = *n;
	return (*n)++;
}

void kf_mf_add(struct kf_mf *m, const char *user, const char *item, double value)
{
	size_t u = intern(&m->uidx, &m->users, &m->nu, &m->cap_u, user);
	size_t i = intern(&m->iidx, &m->items, &m->ni, &m->cap_i, item);
	char key[48];
	size_t *slot;

	snprintf(key, sizeof key, "%zu\x1f%zu", u, i);
	slot = kf_strmap_get(&m->pidx, key);
	if (slot) {
		m->pairs[*slot].v = m->implicit ? m->pairs[*slot].v + value : value;
		return;
	}
	m->pairs = kf_xgrow(m->pairs, sizeof *m->pairs, &m->cap_p, m->np + 1);
	m->pairs[m->np] = (struct pair){ u, i, value };
	*kf_strmap_put(&m->pidx, key) = m->np++;
}

size_t kf_mf_users(const struct kf_mf *m) { return m->nu; }
size_t kf_mf_items(const struct kf_mf *m) { return m->ni; }
size_t kf_mf_pairs(const struct kf_mf *m) { return m->np; }
double *kf_mf_user_factors(struct kf_mf *m) { return m->x; }
double *kf_mf_item_factors(struct kf_mf *m) { return m->y; }

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *p = a, *q = b;

	if (p->u != q->u)
		return p->u < q->u ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

static const struct pair *g_pairs;   /* for the item-order sort only */

static int cmp_by_item(const void *a, const void *b)
{
	const struct pair *p = &g_pairs[*(const size_t *)a], *q = &g_pairs[*(const size_t *)b];

	if (p->i != q->i)
		return p->i < q->i ? -1 : 1;
	return p->u < q->u ? -1 : p->u > q->u;
}

/* Sort pairs by user and build both CSR indexes and the popularity. */
static void index_pairs(struct kf_mf *m)
{
	size_t k;

	qsort(m->pairs, m->np, sizeof *m->pairs, cmp_pair);
	free(m->u_start);
	free(m->i_start);
	free(m->i_order);
	free(m->pop);
	m->u_start = kf_xcalloc(m->nu + 1, sizeof *m->u_start);
	m->i_start = kf_xcalloc(m->ni + 1, sizeof *m->i_start);
	m->i_order = kf_xcalloc(m->np + 1, sizeof *m->i_order);
	m->pop = kf_xcalloc(m->ni + 1, sizeof *m->pop);
	for (k = 0; k < m->np; k++) {
		m->u_start[m->pairs[k].u + 1]++;
		m->i_start[m->pairs[k].i + 1]++;
		m->pop[m->pairs[k].i] += m->implicit ? m->pairs[k].v : 1;
		m->i_order[k] = k;
	}
	for (k = 0; k < m->nu; k++)
		m->u_start[k + 1] += m->u_start[k];
	for (k = 0; k < m->ni; k++)
		m->i_start[k + 1] += m->i_start[k];
	g_pairs = m->pairs;
	qsort(m->i_order, m->np, sizeof *m->i_order, cmp_by_item);
	g_pairs = NULL;
}

/* Solve A x = b for symmetric positive definite A (n × n) by Cholesky;
 * A is overwritten. */
static void solve_spd(double *a, double *b, size_t n)
{
	size_t i, j, k;

	for (j = 0; j < n; j++) {
		double s = a[j * n + j];

		for (k = 0; k < j; k++)
			s -= a[j * n + k] * a[j * n + k];
		s = s > 1e-12 ? sqrt(s) : 1e-6;
		a[j * n + j] = s;
		for (i = j + 1; i < n; i++) {
			double t = a[i * n + j];

			for (k = 0; k < j; k++)
				t -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = t / s;
		}
	}
	for (i = 0; i < n; i++) {   /* L z = b */
		for (k = 0; k < i; k++)
			b[i] -= a[i * n + k] * b[k];
		b[i] /= a[i * n + i];
	}
	for (i = n; i-- > 0;) {     /* Lᵀ x = z */
		for (k = i + 1; k < n; k++)
			b[i] -= a[k * n + i] * b[k];
		b[i] /= a[i * n + i];
	}
}

static double conf(const struct kf_mf *m, double v)
{
	return 1 + m->alpha * v;
}

/* Solve every row of `out` (users or items) with the other side fixed. */
void kf_mf_als_step(struct kf_mf *m, bool users)
{
	size_t f = m->f, n = users ? m->nu : m->ni, r, k, a, b;
	const double *other = users ? m->y : m->x;
	size_t n_other = users ? m->ni : m->nu;
	double *out = users ? m->x : m->y;
	double *gram = kf_xcalloc(f * f, sizeof *gram), *A = kf_xmalloc(f * f * sizeof *A);
	double *rhs = kf_xmalloc(f * sizeof *rhs);

	if (m->implicit) /* YᵀY over all items, shared by every user */
		for (k = 0; k < n_other; k++)
			for (a = 0; a < f; a++)
				for (b = 0; b < f; b++)
					gram[a * f + b] += other[k * f + a] * other[k * f + b];
	for (r = 0; r < n; r++) {
		size_t lo = users ? m->u_start[r] : m->i_start[r];
		size_t hi = users ? m->u_start[r + 1] : m->i_start[r + 1];
		double lambda = m->implicit ? m->reg : m->reg * (double)(hi - lo);

		if (m->implicit)
			memcpy(A, gram, f * f * sizeof *A);
		else
			memset(A, 0, f * f * sizeof *A);
		memset(rhs, 0, f * sizeof *rhs);
		for (k = lo; k < hi; k++) {
			const struct pair *p = &m->pairs[users ? k : m->i_order[k]];
			const double *o = other + (users ? p->i : p->u) * f;
			double w = m->implicit ? conf(m, p->v) - 1 : 1;
			double t = m->implicit ? conf(m, p->v) : p->v;

			for (a = 0; a < f; a++) {
				for (b = 0; b < f; b++)
					A[a * f + b] += w * o[a] * o[b];
				rhs[a] += t * o[a];
			}
		}
		for (a = 0; a < f; a++)
			A[a * f + a] += lambda > 0 ? lambda : 1e-9;
		solve_spd(A, rhs, f);
		memcpy(out + r * f, rhs, f * sizeof *rhs);
	}
	free(gram);
	free(A);
	free(rhs);
}

static double dot(const double *a, const double *b, size_t f)
{
	double s = 0;
	size_t k;

	for (k = 0; k < f; k++)
		s += a[k] * b[k];
	return s;
}

double kf_mf_objective(const struct kf_mf *m)
{
	size_t f = m->f, u, i, k;
	double loss = 0;

	if (m->implicit) {
		/* all pairs with p = 0, c = 1; then correct the observed ones */
		for (u = 0; u < m->nu; u++)
			for (i = 0; i < m->ni; i++) {
				double s = dot(m->x + u * f, m->y + i * f, f);

				loss += s * s;
			}
		for (k = 0; k < m->np; k++) {
			const struct pair *p = &m->pairs[k];
			double s = dot(m->x + p->u * f, m->y + p->i * f, f);

			loss += conf(m, p->v) * (1 - s) * (1 - s) - s * s;
		}
		for (k = 0; k < m->nu * f; k++)
			loss += m->reg * m->x[k] * m->x[k];
		for (k = 0; k < m->ni * f; k++)
			loss += m->reg * m->y[k] * m->y[k];
		return loss;
	}
	for (k = 0; k < m->np; k++) {
		const struct pair *p = &m->pairs[k];
		double e = p->v - dot(m->x + p->u * f, m->y + p->i * f, f);
		double nu = (double)(m->u_start[p->u + 1] - m->u_start[p->u]);
		double ni = (double)(m->i_start[p->i + 1] - m->i_start[p->i]);

		(void)nu;
		(void)ni;
		loss += e * e;
	}
	for (u = 0; u < m->nu; u++)
		loss += m->reg * (double)(m->u_start[u + 1] - m->u_start[u]) * dot(m->x + u * f, m->x + u * f, f);
	for (i = 0; i < m->ni; i++)
		loss += m->reg * (double)(m->i_start[i + 1] - m->i_start[i]) * dot(m->y + i * f, m->y + i * f, f);
	return loss;
}

void kf_mf_gradient(const struct kf_mf *m, double *gx, double *gy)
{
	size_t f = m->f, u, i, k, a;

	memset(gx, 0, m->nu * f * sizeof *gx);
	memset(gy, 0, m->ni * f * sizeof *gy);
	if (m->implicit)
		for (u = 0; u < m->nu; u++)
			for (i = 0; i < m->ni; i++) {
				double s = dot(m->x + u * f, m->y + i * f, f);

				for (a = 0; a < f; a++) {
					gx[u * f + a] += 2 * s * m->y[i * f + a];
					gy[i * f + a] += 2 * s * m->x[u * f + a];
				}
			}
	for (k = 0; k < m->np; k++) {
		const struct pair *p = &m->pairs[k];
		double s = dot(m->x + p->u * f, m->y + p->i * f, f), c;

		/* d/ds of the pair's term: implicit −2c(1−s) − 2s, explicit −2(r−s) */
		c = m->implicit ? -2 * conf(m, p->v) * (1 - s) - 2 * s : -2 * (p->v - s);
		for (a = 0; a < f; a++) {
			gx[p->u * f + a] += c * m->y[p->i * f + a];
			gy[p->i * f + a] += c * m->x[p->u * f + a];
		}
	}
	for (u = 0; u < m->nu; u++) {
		double w = m->implicit ? 1 : (double)(m->u_start[u + 1] - m->u_start[u]);

		for (a = 0; a < f; a++)
			gx[u * f + a] += 2 * m->reg * w * m->x[u * f + a];
	}
	for (i = 0; i < m->ni; i++) {
		double w = m->implicit ? 1 : (double)(m->i_start[i + 1] - m->i_start[i]);

		for (a = 0; a < f; a++)
			gy[i * f + a] += 2 * m->reg * w * m->y[i * f + a];
	}
}

int kf_mf_fit(struct kf_mf *m, const struct kf_mf_params *p,
	      void (*progress)(void *arg, int iter, double loss), void *arg, struct kf_err *err)
{
	struct kf_rng rng;
	size_t k;
	int it;

	if (m->np == 0)
		return kf_err_set(err, KF_EINPUT, "no user-item pairs to factorise");
	m->f = p->factors ? p->factors : 16;
	m->reg = p->reg;
	m->alpha = p->alpha;
	kf_strmap_release(&m->pidx);
	index_pairs(m);
	free(m->x);
	free(m->y);
	m->x = kf_xcalloc(m->nu * m->f, sizeof *m->x);
	m->y = kf_xcalloc(m->ni * m->f, sizeof *m->y);
	kf_rng_seed(&rng, p->seed);
	for (k = 0; k < m->ni * m->f; k++)
		m->y[k] = 0.1 * kf_rng_normal(&rng);
	for (it = 0; it < p->iters; it++) {
		kf_mf_als_step(m, true);
		kf_mf_als_step(m, false);
		if (progress)
			progress(arg, it + 1, (m->implicit && (double)m->nu * (double)m->ni > 5e7) ? NAN : kf_mf_objective(m));
	}
	return 0;
}

double kf_mf_score(const struct kf_mf *m, const char *user, const char *item)
{
	size_t *u = kf_strmap_get(&m->uidx, user), *i = kf_strmap_get(&m->iidx, item);

	if (!u || !i)
		return NAN;
	return dot(m->x + *u * m->f, m->y + *i * m->f, m->f);
}

static bool seen(const struct kf_mf *m, size_t u, size_t i)
{
	size_t lo = m->u_start[u], hi = m->u_start[u + 1];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->pairs[mid].i == i)
			return true;
		if (m->pairs[mid].i < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int kf_mf_recommend(const struct kf_mf *m, const char *user, size_t k, const char **items,
		    double *scores)
{
	size_t *u = kf_strmap_get(&m->uidx, user);
	size_t i, n = 0, j;

	for (i = 0; i < m->ni; i++) {
		double s;

		if (u && seen(m, *u, i))
			continue;
		s = u ? dot(m->x + *u * m->f, m->y + i * m->f, m->f) : m->pop[i];
		/* insertion into the top-k list; ties keep the lower item index */
		for (j = n; j > 0 && scores[j - 1] < s; j--)
			if (j < k) {
				scores[j] = scores[j - 1];
				items[j] = items[j - 1];
			}
		if (j < k) {
			scores[j] = s;
			items[j] = m->items[i];
			if (n < k)
				n++;
		}
	}
	return (int)n;
}

int kf_mf_save(const struct kf_mf *m, const char *dir, cJSON **model, struct kf_err *err)
{
	size_t nw = (m->nu + m->ni) * m->f, k;
	double *w = kf_xmalloc((nw + 1) * sizeof *w);
	cJSON *users, *items, *pairs;
	char hex[65];
	int rc;

	memcpy(w, m->x, m->nu * m->f * sizeof *w);
	memcpy(w + m->nu * m->f, m->y, m->ni * m->f * sizeof *w);
	rc = kf_bundle_write_weights(dir, KF_BUNDLE_WEIGHTS, w, nw, hex, err);
	free(w);
	*model = NULL;
	if (rc < 0)
		return rc;
	*model = cJSON_CreateObject();
	cJSON_AddStringToObject(*model, "feedback", m->implicit ? "implicit" : "explicit");
	cJSON_AddNumberToObject(*model, "factors", (double)m->f);
	cJSON_AddNumberToObject(*model, "reg", m->reg);
	cJSON_AddNumberToObject(*model, "alpha", m->alpha);
	cJSON_AddStringToObject(*model, "weights", KF_BUNDLE_WEIGHTS);
	cJSON_AddStringToObject(*model, "weightsSha256", hex);
	users = cJSON_AddArrayToObject(*model, "users");
	for (k = 0; k < m->nu; k++)
		cJSON_AddItemToArray(users, cJSON_CreateString(m->users[k]));
	items = cJSON_AddArrayToObject(*model, "items");
	for (k = 0; k < m->ni; k++)
		cJSON_AddItemToArray(items, cJSON_CreateString(m->items[k]));
	/* The training pairs [u, i, value], flat: recommend skips seen items. */
	pairs = cJSON_AddArrayToObject(*model, "pairs");
	for (k = 0; k < m->np; k++) {
		cJSON_AddItemToArray(pairs, cJSON_CreateNumber((double)m->pairs[k].u));
		cJSON_AddItemToArray(pairs, cJSON_CreateNumber((double)m->pairs[k].i));
		cJSON_AddItemToArray(pairs, cJSON_CreateNumber(m->pairs[k].v));
	}
	return 0;
}

int kf_mf_load(struct kf_mf **out, const cJSON *model, const char *dir, struct kf_err *err)
{
	const cJSON *fb = cJSON_GetObjectItemCaseSensitive(model, "feedback");
	const cJSON *fac = cJSON_GetObjectItemCaseSensitive(model, "factors");
	const cJSON *users = cJSON_GetObjectItemCaseSensitive(model, "users");
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(model, "items");
	const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(model, "pairs");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(model, "weightsSha256"), *it;
	struct kf_mf *m;
	double *w;
	size_t nw, k = 0, vals[3];
	int rc;

	*out = NULL;
	if (!cJSON_IsString(fb) || !cJSON_IsNumber(fac) || fac->valuedouble < 1 || !cJSON_IsArray(users) ||
	    !cJSON_IsArray(items) || !cJSON_IsArray(pairs) || cJSON_GetArraySize(pairs) % 3)
		return kf_err_set(err, KF_EINPUT, "%s/kf-model.json: bad mf \"model\" section", dir);
	m = kf_mf_new(!strcmp(fb->valuestring, "implicit"));
	m->f = (size_t)fac->valuedouble;
	it = cJSON_GetObjectItemCaseSensitive(model, "reg");
	m->reg = cJSON_IsNumber(it) ? it->valuedouble : 0;
	it = cJSON_GetObjectItemCaseSensitive(model, "alpha");
	m->alpha = cJSON_IsNumber(it) ? it->valuedouble : 0;
	cJSON_ArrayForEach(it, users)
		intern(&m->uidx, &m->users, &m->nu, &m->cap_u, cJSON_IsString(it) ? it->valuestring : "");
	cJSON_ArrayForEach(it, items)
		intern(&m->iidx, &m->items, &m->ni, &m->cap_i, cJSON_IsString(it) ? it->valuestring : "");
	cJSON_ArrayForEach(it, pairs) {
		vals[k % 3] = (size_t)(cJSON_IsNumber(it) && it->valuedouble > 0 ? it->valuedouble : 0);
		if (k % 3 == 2) {
			if (vals[0] >= m->nu || vals[1] >= m->ni) {
				kf_mf_free(m);
				return kf_err_set(err, KF_EINPUT, "%s/kf-model.json: mf pair out of range", dir);
			}
			m->pairs = kf_xgrow(m->pairs, sizeof *m->pairs, &m->cap_p, m->np + 1);
			m->pairs[m->np++] = (struct pair){ vals[0], vals[1], it->valuedouble };
		}
		k++;
	}
	index_pairs(m);
	nw = (m->nu + m->ni) * m->f;
	w = kf_xmalloc((nw + 1) * sizeof *w);
	rc = kf_bundle_read_weights(dir, KF_BUNDLE_WEIGHTS, w, nw, cJSON_IsString(sha) ? sha->valuestring : NULL, err);
	if (rc < 0) {
		free(w);
		kf_mf_free(m);
		return rc;
	}
	m->x = kf_xmalloc((m->nu * m->f + 1) * sizeof *m->x);
	m->y = kf_xmalloc((m->ni * m->f + 1) * sizeof *m->y);
	memcpy(m->x, w, m->nu * m->f * sizeof *w);
	memcpy(m->y, w + m->nu * m->f, m->ni * m->f * sizeof *w);
	free(w);
	*out = m;
	return 0;
}
