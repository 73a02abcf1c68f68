/* kf_drift: L-infinity and Jensen-Shannon drift per feature (see kf_drift.h). */
#include "config.h"

#include "data/kf_drift.h"
#include "data/kf_stats.h"

#include <math.h>
#include <string.h>

double kf_drift_linf(const struct kf_stats_feature *base, const struct kf_stats_feature *cur,
		     const char **value)
{
	double nb = (double)base->freq.total, nc = (double)cur->freq.total, best = 0, d;
	size_t i;

	*value = NULL;
	for (i = 0; i < base->freq.n; i++) {
		const struct kf_freq_item *it = &base->freq.items[i];
		double p = nb ? (double)it->count / nb : 0;
		double q = nc ? (double)kf_freq_count(&cur->freq, it->s, it->len) / nc : 0;

		d = fabs(p - q);
		if (d > best) {
			best = d;
			*value = it->s;
		}
	}
	for (i = 0; i < cur->freq.n; i++) {
		const struct kf_freq_item *it = &cur->freq.items[i];

		if (kf_freq_count(&base->freq, it->s, it->len))
			continue;   /* compared above */
		d = nc ? (double)it->count / nc : 0;
		if (d > best) {
			best = d;
			*value = it->s;
		}
	}
	return best;
}

static double kl_term(double p, double m)
{
	return p > 0 ? p * log2(p / m) : 0;
}

double kf_drift_jsd(struct kf_stats_feature *base, struct kf_stats_feature *cur)
{
	double edges[KF_DRIFT_BINS], pb_prev = 0, pc_prev = 0, js = 0;
	size_t ne = 0, i;

	if (!base->finite || !cur->finite)
		return base->finite == cur->finite ? 0 : 1;
	for (i = 1; i < KF_DRIFT_BINS; i++) {
		double e = kf_quant_query(&base->quant, (double)i / KF_DRIFT_BINS);

		if (!ne || e > edges[ne - 1])
			edges[ne++] = e;
	}
	/* bins (-inf, e0], (e0, e1], ..., (e_last, +inf) */
	for (i = 0; i <= ne; i++) {
		double pb, pc, p, q, m;

		pb = i < ne ? kf_quant_rank(&base->quant, edges[i]) / (double)base->finite : 1.0;
		pc = i < ne ? kf_quant_rank(&cur->quant, edges[i]) / (double)cur->finite : 1.0;
		p = pb - pb_prev;
		q = pc - pc_prev;
		pb_prev = pb;
		pc_prev = pc;
		if (p < 0)
			p = 0;
		if (q < 0)
			q = 0;
		m = (p + q) / 2;
		js += 0.5 * kl_term(p, m) + 0.5 * kl_term(q, m);
	}
	return js < 0 ? 0 : js > 1 ? 1 : js;
}

static const struct kf_drift_threshold *threshold_for(const char *name, const struct kf_drift_threshold *th,
						      size_t nth)
{
	const struct kf_drift_threshold *def = NULL;
	size_t i;

	for (i = 0; i < nth; i++) {
		if (!th[i].feature)
			def = &th[i];
		else if (!strcmp(th[i].feature, name))
			return &th[i];
	}
	return def;
}

cJSON *kf_drift_compare(struct kf_stats *base, struct kf_stats *cur,
			const struct kf_drift_threshold *th, size_t nth, bool *drifted)
{
	cJSON *doc = cJSON_CreateObject(), *items;
	size_t i;

	*drifted = false;
	cJSON_AddStringToObject(doc, "kind", "DriftList");
	items = cJSON_AddArrayToObject(doc, "items");
	for (i = 0; i < base->n; i++) {
		struct kf_stats_feature *b = &base->f[i], *c = kf_stats_find(cur, b->name);
		const struct kf_drift_threshold *t;
		const char *at = NULL;
		bool categorical;
		double d;
		cJSON *o;

		if (!c || b->type == KF_CSV_MISSING)
			continue;
		categorical = b->type == KF_CSV_STRING || b->type == KF_CSV_BOOL;
		d = categorical ? kf_drift_linf(b, c, &at) : kf_drift_jsd(b, c);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", "Drift");
		cJSON_AddStringToObject(o, "name", b->name);
		cJSON_AddStringToObject(o, "measure", categorical ? "L_INFINITY" : "JENSEN_SHANNON_DIVERGENCE");
		cJSON_AddNumberToObject(o, "distance", d);
		if (at)
			cJSON_AddStringToObject(o, "value", at);
		t = threshold_for(b->name, th, nth);
		if (t) {
			bool over = d > t->value;

			cJSON_AddNumberToObject(o, "threshold", t->value);
			cJSON_AddBoolToObject(o, "drifted", over);
			if (over) {
				cJSON_AddStringToObject(o, "anomaly", categorical ? "COMPARATOR_L_INFTY_HIGH" :
							"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH");
				*drifted = true;
			}
		} else {
			cJSON_AddBoolToObject(o, "drifted", 0);
		}
		cJSON_AddItemToArray(items, o);
	}
	return doc;
}
