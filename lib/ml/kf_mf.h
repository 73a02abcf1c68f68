/* kf_mf: matrix factorisation for user–item data, fitted by alternating
 * least squares (deterministic, no learning rate).
 *
 * Explicit (a rating per pair): minimise
 *   Σ_(u,i) observed (r_ui − x_u·y_i)² + λ (Σ_u n_u ‖x_u‖² + Σ_i n_i ‖y_i‖²)
 * Implicit (counts, e.g. purchases; Hu, Koren & Volinsky 2008): minimise
 *   Σ_(u,i) all c_ui (p_ui − x_u·y_i)² + λ (‖X‖² + ‖Y‖²)
 * with p_ui = 1 when the pair was seen, c_ui = 1 + α·count.
 *
 * Ids are strings. Pairs added twice add their values (implicit counts) or
 * keep the last rating (explicit). */
#ifndef KF_MF_H
#define KF_MF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct kf_err;
struct kf_mf;

struct kf_mf_params {
	size_t factors;
	int iters;
	double reg;       /* λ */
	double alpha;     /* implicit confidence scale */
	bool implicit;
	uint64_t seed;
};

struct kf_mf *kf_mf_new(bool implicit);
void kf_mf_free(struct kf_mf *m);
void kf_mf_add(struct kf_mf *m, const char *user, const char *item, double value);
size_t kf_mf_users(const struct kf_mf *m);
size_t kf_mf_items(const struct kf_mf *m);
size_t kf_mf_pairs(const struct kf_mf *m);

/* Fit; calls progress(arg, iter, loss) after each iteration when given. */
int kf_mf_fit(struct kf_mf *m, const struct kf_mf_params *p,
	      void (*progress)(void *arg, int iter, double loss), void *arg, struct kf_err *err);

/* The objective above, and its gradient with respect to the user factors
 * (n_users × factors) and item factors: the unit tests check it against
 * finite differences, and that an ALS half-step zeroes it. */
double kf_mf_objective(const struct kf_mf *m);
void kf_mf_gradient(const struct kf_mf *m, double *gx, double *gy);
double *kf_mf_user_factors(struct kf_mf *m);
double *kf_mf_item_factors(struct kf_mf *m);
/* One ALS half-step: solve the user factors (users true) or the item ones. */
void kf_mf_als_step(struct kf_mf *m, bool users);

/* x_u·y_i, NaN when user or item is unknown. */
double kf_mf_score(const struct kf_mf *m, const char *user, const char *item);
/* The k best items the user has not interacted with, best first; for an
 * unknown user the most popular items. Returns how many were written. */
int kf_mf_recommend(const struct kf_mf *m, const char *user, size_t k, const char **items,
		    double *scores);

int kf_mf_save(const struct kf_mf *m, const char *dir, cJSON **model, struct kf_err *err);
int kf_mf_load(struct kf_mf **out, const cJSON *model, const char *dir, struct kf_err *err);

#endif
