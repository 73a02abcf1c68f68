/* kf_tune_html: the HTML report of an experiment. */
#include "config.h"

#include "tune/kf_tune_html.h"

#include "util/kf_buf.h"
#include "util/kf_mem.h"
#include "util/kf_output.h"
#include "util/kf_str.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 760
#define H 300
#define PAD 40

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s ? s : "";
}

static void esc(struct kf_buf *b, const char *s)
{
	kf_buf_add_html_escaped(b, s);
}

/* Colour of a rank in [0, 1]: 0 (best) blue to 1 (worst) red. */
static void colour(struct kf_buf *b, double r)
{
	kf_buf_printf(b, "hsl(%.0f,70%%,45%%)", 220.0 - 220.0 * r);
}

static void objective_chart(struct kf_buf *b, const cJSON *doc, bool maximize)
{
	const cJSON *trials = cJSON_GetObjectItem(doc, "trials"), *t;
	int n = cJSON_GetArraySize(trials), i = 0;
	double lo = INFINITY, hi = -INFINITY, best = NAN;
	struct kf_buf line = KF_BUF_INIT;

	cJSON_ArrayForEach(t, trials) {
		const cJSON *o = cJSON_GetObjectItem(t, "objective");

		if (cJSON_IsNumber(o)) {
			lo = fmin(lo, o->valuedouble);
			hi = fmax(hi, o->valuedouble);
		}
	}
	kf_buf_printf(b, "<h2>Objective over trials</h2>\n<svg "
		      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
	kf_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
		      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
		      PAD, H - PAD, W - 10, H - PAD, PAD, 10, PAD, H - PAD);
	if (!(hi >= lo)) {
		kf_buf_adds(b, "<text x=\"60\" y=\"40\">no objective reported yet</text></svg>\n");
		return;
	}
	if (hi == lo)
		hi = lo + 1;
	kf_buf_printf(b, "<text x=\"2\" y=\"16\" font-size=\"11\">%.4g</text><text x=\"2\" y=\"%d\" "
		      "font-size=\"11\">%.4g</text>\n", hi, H - PAD, lo);
	cJSON_ArrayForEach(t, trials) {
		const cJSON *o = cJSON_GetObjectItem(t, "objective");
		double x = PAD + (W - PAD - 20) * (n > 1 ? (double)i / (n - 1) : 0.5), y;

		i++;
		if (!cJSON_IsNumber(o))
			continue;
		y = (H - PAD) - (H - PAD - 20) * (o->valuedouble - lo) / (hi - lo);
		kf_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", x, y,
			      cJSON_IsTrue(cJSON_GetObjectItem(t, "best")) ? "#d40" : "#36c");
		esc(b, str(t, "name"));
		kf_buf_printf(b, ": %.6g</title></circle>\n", o->valuedouble);
		if (isnan(best) || (maximize ? o->valuedouble > best : o->valuedouble < best))
			best = o->valuedouble;
		kf_buf_printf(&line, "%s%.1f,%.1f", line.len ? " " : "", x,
			      (H - PAD) - (H - PAD - 20) * (best - lo) / (hi - lo));
	}
	kf_buf_printf(b, "<polyline fill=\"none\" stroke=\"#d40\" stroke-width=\"1.5\" points=\"%s\"/>\n"
		      "<text x=\"%d\" y=\"%d\" font-size=\"11\">trial</text></svg>\n"
		      "<p>dots: each trial's objective; line: the best so far</p>\n", kf_buf_str(&line),
		      W / 2, H - 10);
	kf_buf_release(&line);
}

/* A trial's value on axis a as a fraction of the axis, or NAN. */
struct axis {
	const char *name;
	bool numeric;
	double lo, hi;
	struct kf_strv cats;
};

static double axis_pos(struct axis *a, const cJSON *v)
{
	double d;

	if (a->numeric) {
		if (cJSON_IsNumber(v))
			d = v->valuedouble;
		else if (!cJSON_IsString(v) || !kf_str_to_double(v->valuestring, &d))
			return NAN;
		return a->hi > a->lo ? (d - a->lo) / (a->hi - a->lo) : 0.5;
	}
	for (size_t i = 0; cJSON_IsString(v) && i < a->cats.n; i++)
		if (!strcmp(a->cats.v[i], v->valuestring))
			return a->cats.n > 1 ? (double)i / (double)(a->cats.n - 1) : 0.5;
	return NAN;
}

static void parallel_chart(struct kf_buf *b, const cJSON *doc, bool maximize)
{
	const cJSON *params = cJSON_GetObjectItem(doc, "parameters"), *trials = cJSON_GetObjectItem(doc, "trials");
	const cJSON *p, *t;
	size_t na = (size_t)cJSON_GetArraySize(params) + 1, k = 0;
	struct axis *ax = kf_xcalloc(na, sizeof *ax);
	double olo = INFINITY, ohi = -INFINITY;

	cJSON_ArrayForEach(p, params) {
		struct axis *a = &ax[k++];

		a->name = cJSON_GetStringValue(p);
		a->numeric = true;
		a->lo = INFINITY;
		a->hi = -INFINITY;
		cJSON_ArrayForEach(t, trials) {
			const char *v = str(cJSON_GetObjectItem(t, "parameters"), a->name);
			double d;

			if (kf_str_to_double(v, &d)) {
				a->lo = fmin(a->lo, d);
				a->hi = fmax(a->hi, d);
			} else {
				a->numeric = false;
			}
			if (!kf_strv_has(&a->cats, v))
				kf_strv_push(&a->cats, v);
		}
	}
	ax[na - 1].name = "objective";
	ax[na - 1].numeric = true;
	cJSON_ArrayForEach(t, trials) {
		const cJSON *o = cJSON_GetObjectItem(t, "objective");

		if (cJSON_IsNumber(o)) {
			olo = fmin(olo, o->valuedouble);
			ohi = fmax(ohi, o->valuedouble);
		}
	}
	ax[na - 1].lo = olo;
	ax[na - 1].hi = ohi;
	kf_buf_printf(b, "<h2>Parameters against the objective</h2>\n<svg "
		      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
	for (size_t i = 0; i < na; i++) {
		double x = PAD + (double)(W - 2 * PAD) * (na > 1 ? (double)i / (double)(na - 1) : 0.5);

		kf_buf_printf(b, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>"
			      "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", x, x, H - PAD,
			      x, H - PAD + 16);
		esc(b, ax[i].name);
		kf_buf_adds(b, "</text>\n");
	}
	cJSON_ArrayForEach(t, trials) {
		const cJSON *o = cJSON_GetObjectItem(t, "objective");
		struct kf_buf pts = KF_BUF_INIT;
		double rank;
		bool ok = cJSON_IsNumber(o), best = cJSON_IsTrue(cJSON_GetObjectItem(t, "best"));

		if (!ok)
			continue;
		rank = ohi > olo ? (o->valuedouble - olo) / (ohi - olo) : 0;
		if (maximize)
			rank = 1 - rank;
		for (size_t i = 0; i < na && ok; i++) {
			const cJSON *v = i + 1 < na ? cJSON_GetObjectItem(cJSON_GetObjectItem(t, "parameters"), ax[i].name) : o;
			double f = axis_pos(&ax[i], v);
			double x = PAD + (double)(W - 2 * PAD) * (na > 1 ? (double)i / (double)(na - 1) : 0.5);

			if (isnan(f)) {
				ok = false;
				break;
			}
			kf_buf_printf(&pts, "%s%.1f,%.1f", pts.len ? " " : "", x, (H - PAD) - (H - PAD - 20) * f);
		}
		if (ok) {
			kf_buf_printf(b, "<polyline fill=\"none\" stroke-width=\"%s\" stroke=\"", best ? "3" : "1.2");
			colour(b, rank);
			kf_buf_printf(b, "\" points=\"%s\"><title>", kf_buf_str(&pts));
			esc(b, str(t, "name"));
			kf_buf_adds(b, "</title></polyline>\n");
		}
		kf_buf_release(&pts);
	}
	kf_buf_adds(b, "</svg>\n<p>one line a trial, blue the best objectives, red the worst; the thick "
		    "line is the best trial</p>\n");
	for (size_t i = 0; i < na; i++)
		kf_strv_release(&ax[i].cats);
	free(ax);
}

static void table(struct kf_buf *b, const cJSON *doc)
{
	const cJSON *params = cJSON_GetObjectItem(doc, "parameters"), *p, *t;

	kf_buf_adds(b, "<h2>Trials</h2>\n<table>\n<tr><th>trial</th><th>state</th><th>objective</th>");
	cJSON_ArrayForEach(p, params) {
		kf_buf_adds(b, "<th>");
		esc(b, cJSON_GetStringValue(p));
		kf_buf_adds(b, "</th>");
	}
	kf_buf_adds(b, "<th>reason</th></tr>\n");
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "trials")) {
		char *obj = kf_json_text(cJSON_GetObjectItem(t, "objective"));

		kf_buf_printf(b, "<tr%s><td>", cJSON_IsTrue(cJSON_GetObjectItem(t, "best")) ? " class=\"best\"" : "");
		esc(b, str(t, "name"));
		kf_buf_adds(b, "</td><td>");
		esc(b, str(t, "state"));
		kf_buf_adds(b, "</td><td>");
		esc(b, obj);
		kf_buf_adds(b, "</td>");
		cJSON_ArrayForEach(p, params) {
			kf_buf_adds(b, "<td>");
			esc(b, str(cJSON_GetObjectItem(t, "parameters"), cJSON_GetStringValue(p)));
			kf_buf_adds(b, "</td>");
		}
		kf_buf_adds(b, "<td>");
		esc(b, str(t, "reason"));
		kf_buf_adds(b, "</td></tr>\n");
		free(obj);
	}
	kf_buf_adds(b, "</table>\n");
}

char *kf_tune_html(const cJSON *doc)
{
	struct kf_buf b = KF_BUF_INIT;
	const cJSON *obj = cJSON_GetObjectItem(doc, "objective");
	bool maximize = !strcmp(str(obj, "type"), "maximize");

	kf_buf_adds(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kf tune: ");
	esc(&b, str(doc, "name"));
	kf_buf_adds(&b, "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
		    "collapse}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}"
		    "tr.best{background:#fde8d8;font-weight:bold}</style></head><body>\n<h1>Experiment ");
	esc(&b, str(doc, "name"));
	kf_buf_adds(&b, "</h1>\n<p>");
	esc(&b, str(doc, "algorithm"));
	kf_buf_adds(&b, ", ");
	esc(&b, str(obj, "type"));
	kf_buf_adds(&b, " ");
	esc(&b, str(obj, "objectiveMetricName"));
	kf_buf_adds(&b, "; state ");
	esc(&b, str(doc, "state"));
	kf_buf_adds(&b, "; best trial ");
	esc(&b, cJSON_IsString(cJSON_GetObjectItem(doc, "best")) ? str(doc, "best") : "none");
	kf_buf_adds(&b, "</p>\n");
	objective_chart(&b, doc, maximize);
	parallel_chart(&b, doc, maximize);
	table(&b, doc);
	kf_buf_adds(&b, "</body></html>\n");
	return kf_buf_detach(&b);
}
