/* kf_eval_html: the HTML report of `kf analyze model` (see kf_eval_html.h). */
#include "config.h"

#include "ml/kf_eval_html.h"
#include "util/kf_buf.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Model colours, colour-blind safe (Okabe-Ito). */
static const char *const colours[] = {
	"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
};

#define NCOLOURS (sizeof colours / sizeof colours[0])

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void esc(struct kf_buf *out, const char *s)
{
	kf_buf_add_html_escaped(out, s);
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}"
	"table{border-collapse:collapse}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
	"th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th:first-child,td:first-child{text-align:left}"
	".pos{color:#067d17}.neg{color:#b00020}.ok{color:#067d17}.fail{color:#b00020;font-weight:bold}"
	".key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}"
	"svg{margin:0 1em 1em 0}svg text{font-size:11px}";

/* Click a header to sort by it; numbers by their data-v value. */
static const char script[] =
	"document.querySelectorAll('table.sortable th').forEach(function(th,i){"
	"th.onclick=function(){var t=th.closest('table'),b=t.tBodies[0],"
	"r=Array.from(b.rows),d=th.dataset.dir=th.dataset.dir==='a'?'d':'a';"
	"r.sort(function(x,y){var p=x.cells[i],q=y.cells[i],u=p.dataset.v,v=q.dataset.v,c;"
	"if(u!==undefined&&v!==undefined)c=parseFloat(u)-parseFloat(v);"
	"else c=p.textContent.localeCompare(q.textContent);return d==='a'?c:-c;});"
	"r.forEach(function(x){b.appendChild(x);});};});";

static void num_cell(struct kf_buf *out, const cJSON *v, bool sign)
{
	if (!cJSON_IsNumber(v)) {
		kf_buf_adds(out, "<td>-</td>");
		return;
	}
	kf_buf_printf(out, "<td data-v=\"%.17g\"%s>", v->valuedouble,
		      !sign ? "" : v->valuedouble > 0 ? " class=\"pos\"" : v->valuedouble < 0 ? " class=\"neg\"" : "");
	if (!sign && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
		kf_buf_printf(out, "%.0f</td>", v->valuedouble);
	else
		kf_buf_printf(out, sign ? "%+.4f</td>" : "%.4f</td>", v->valuedouble);
}

static void summary(const cJSON *doc, struct kf_buf *out)
{
	const cJSON *m;
	int i = 0;

	kf_buf_adds(out, "<h1>Model analysis</h1><p>");
	esc(out, str(doc, "task"));
	kf_buf_printf(out, " evaluation of %.0f rows of <code>", get(doc, "rows")->valuedouble);
	esc(out, str(doc, "data"));
	kf_buf_adds(out, "</code>, label <code>");
	esc(out, str(doc, "label"));
	kf_buf_adds(out, "</code></p><p class=\"key\">");
	cJSON_ArrayForEach(m, get(doc, "models")) {
		kf_buf_printf(out, "<span style=\"background:%s\"></span>[%d] ", colours[i % NCOLOURS], i + 1);
		esc(out, str(m, "name"));
		kf_buf_adds(out, " (");
		esc(out, str(m, "role"));
		kf_buf_adds(out, ")");
		i++;
	}
	kf_buf_adds(out, "</p>\n");
}

static void validation(const cJSON *doc, struct kf_buf *out)
{
	const cJSON *v = get(doc, "validation"), *c;
	bool blessed = cJSON_IsTrue(get(v, "blessed"));

	if (!v)
		return;
	kf_buf_printf(out, "<h2>Validation: <span class=\"%s\">%s</span></h2><ul>", blessed ? "ok" : "fail",
		      blessed ? "BLESSED" : "NOT BLESSED");
	cJSON_ArrayForEach(c, get(v, "checks")) {
		bool skipped = cJSON_IsTrue(get(c, "skipped")), passed = cJSON_IsTrue(get(c, "passed"));

		kf_buf_printf(out, "<li class=\"%s\">%s <code>", passed ? "ok" : "fail",
			      skipped ? "skipped" : passed ? "passed" : "failed");
		esc(out, str(c, "check"));
		kf_buf_adds(out, "</code>");
		if (get(c, "reason")) {
			kf_buf_adds(out, ": ");
			esc(out, str(c, "reason"));
		}
		kf_buf_adds(out, "</li>");
	}
	kf_buf_adds(out, "</ul>\n");
}

static void table(const cJSON *doc, const char *const *metrics, size_t n, struct kf_buf *out)
{
	const cJSON *models = get(doc, "models"), *s, *m;
	size_t k;
	int i;

	kf_buf_adds(out, "<h2>Metrics by slice</h2><table class=\"sortable\"><thead><tr><th>slice</th><th>examples</th>");
	for (k = 0; k < n; k++) {
		i = 0;
		cJSON_ArrayForEach(m, models) {
			bool diff = false;

			kf_buf_adds(out, "<th>");
			esc(out, metrics[k]);
			if (cJSON_GetArraySize(models) > 1)
				kf_buf_printf(out, " [%d]", i + 1);
			kf_buf_adds(out, "</th>");
			cJSON_ArrayForEach(s, get(doc, "slices"))
				if (get(get(get(s, "diff"), str(m, "name")), metrics[k]))
					diff = true;
			if (diff) {
				kf_buf_adds(out, "<th>&Delta;");
				esc(out, metrics[k]);
				kf_buf_printf(out, " [%d]</th>", i + 1);
			}
			i++;
		}
	}
	kf_buf_adds(out, "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(s, get(doc, "slices")) {
		kf_buf_adds(out, "<tr><td>");
		esc(out, str(s, "name"));
		kf_buf_adds(out, "</td>");
		num_cell(out, get(s, "example_count"), false);
		for (k = 0; k < n; k++)
			cJSON_ArrayForEach(m, models) {
				const cJSON *d = get(get(s, "diff"), str(m, "name"));
				bool any = false;
				const cJSON *t;

				num_cell(out, get(get(get(s, "metrics"), str(m, "name")), metrics[k]), false);
				cJSON_ArrayForEach(t, get(doc, "slices"))
					if (get(get(get(t, "diff"), str(m, "name")), metrics[k]))
						any = true;
				if (any)
					num_cell(out, get(d, metrics[k]), true);
			}
		kf_buf_adds(out, "</tr>\n");
	}
	kf_buf_adds(out, "</tbody></table>\n");
}

/* Horizontal bars: one group per slice, one bar per model. */
static void bars(const cJSON *doc, const char *metric, struct kf_buf *out)
{
	const cJSON *models = get(doc, "models"), *s, *m;
	int nm = cJSON_GetArraySize(models), ns = cJSON_GetArraySize(get(doc, "slices")), row = 0, i;
	double lo = 0, hi = 0, bh = 10, gh, x0 = 230, w = 360;
	bool any = false;

	cJSON_ArrayForEach(s, get(doc, "slices"))
		cJSON_ArrayForEach(m, models) {
			const cJSON *v = get(get(get(s, "metrics"), str(m, "name")), metric);

			if (cJSON_IsNumber(v)) {
				lo = fmin(lo, v->valuedouble);
				hi = fmax(hi, v->valuedouble);
				any = true;
			}
		}
	if (!any)
		return;
	if (hi == lo)
		hi = lo + 1;
	gh = bh * nm + 6;
	kf_buf_printf(out, "<svg width=\"%.0f\" height=\"%.0f\" role=\"img\"><text x=\"0\" y=\"12\" font-weight=\"bold\">",
		      x0 + w + 70, 24 + gh * ns);
	esc(out, metric);
	kf_buf_adds(out, "</text>");
	cJSON_ArrayForEach(s, get(doc, "slices")) {
		double y = 22 + gh * row;

		kf_buf_printf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 6, y + gh / 2 + 2);
		esc(out, str(s, "name"));
		kf_buf_adds(out, "</text>");
		i = 0;
		cJSON_ArrayForEach(m, models) {
			const cJSON *v = get(get(get(s, "metrics"), str(m, "name")), metric);

			if (cJSON_IsNumber(v)) {
				double a = x0 + (fmin(0, v->valuedouble) - lo) / (hi - lo) * w;
				double len = fabs(v->valuedouble) / (hi - lo) * w;

				kf_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
					      "<title>%.6g</title></rect>",
					      a, y + 3 + bh * i, len, bh - 1, colours[i % NCOLOURS], v->valuedouble);
				kf_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\">%.4g</text>", a + len + 3,
					      y + 3 + bh * i + bh - 2, v->valuedouble);
			}
			i++;
		}
		row++;
	}
	kf_buf_adds(out, "</svg>\n");
}

/* A unit-square plot with a diagonal, one polyline (or dots) per model. */
static void curve(const cJSON *doc, const char *title, const char *plot, const char *xl,
		  const char *yl, bool dots, struct kf_buf *out)
{
	const cJSON *overall = cJSON_GetArrayItem(get(doc, "slices"), 0), *m, *p;
	double ox = 40, oy = 290, sz = 250;
	int i = 0;

	kf_buf_printf(out, "<svg width=\"310\" height=\"330\" role=\"img\"><text x=\"%.0f\" y=\"14\" "
		      "font-weight=\"bold\">%s</text>", ox, title);
	kf_buf_printf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>",
		      ox, oy - sz, sz, sz);
	if (strcmp(plot, "pr"))
		kf_buf_printf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#ccc\" "
			      "stroke-dasharray=\"4\"/>", ox, oy, ox + sz, oy - sz);
	kf_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>", ox + sz / 2, oy + 28, xl);
	kf_buf_printf(out, "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" text-anchor=\"middle\">%s</text>",
		      oy - sz / 2, oy - sz / 2, yl);
	kf_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\">0</text><text x=\"%.0f\" y=\"%.0f\">1</text>"
		      "<text x=\"%.0f\" y=\"%.0f\">1</text>", ox - 10, oy + 12, ox + sz - 4, oy + 12, ox - 12, oy - sz + 8);
	cJSON_ArrayForEach(m, get(doc, "models")) {
		const cJSON *pts = get(get(get(get(overall, "metrics"), str(m, "name")), "plots"), plot);
		const char *c = colours[i++ % NCOLOURS];

		if (!dots)
			kf_buf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
		cJSON_ArrayForEach(p, pts) {
			double x, y;

			if (dots) {
				if (!cJSON_IsNumber(get(p, "mean_prediction")))
					continue;
				x = get(p, "mean_prediction")->valuedouble;
				y = get(p, "mean_label")->valuedouble;
				kf_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%.0f rows: "
					      "mean prediction %.4f, mean label %.4f</title></circle>",
					      ox + fmin(fmax(x, 0), 1) * sz, oy - fmin(fmax(y, 0), 1) * sz, c,
					      get(p, "count")->valuedouble, x, y);
				continue;
			}
			x = cJSON_GetArrayItem(p, 0)->valuedouble;
			y = cJSON_GetArrayItem(p, 1)->valuedouble;
			kf_buf_printf(out, "%.1f,%.1f ", ox + x * sz, oy - y * sz);
		}
		if (!dots)
			kf_buf_adds(out, "\"/>");
	}
	kf_buf_adds(out, "</svg>\n");
}

void kf_eval_html(const cJSON *doc, const char *const *metrics, size_t n, struct kf_buf *out)
{
	size_t k;

	kf_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<title>kf analyze model</title><style>%s</style></head><body>\n", style);
	summary(doc, out);
	validation(doc, out);
	if (!strcmp(str(doc, "task"), "binary")) {
		kf_buf_adds(out, "<h2>Overall</h2><div>");
		curve(doc, "ROC curve", "roc", "false positive rate", "true positive rate", false, out);
		curve(doc, "Precision-recall curve", "pr", "recall", "precision", false, out);
		curve(doc, "Calibration", "calibration", "mean prediction", "mean label", true, out);
		kf_buf_adds(out, "</div>\n");
	}
	table(doc, metrics, n, out);
	kf_buf_adds(out, "<h2>Metrics by slice, charted</h2><div>");
	for (k = 0; k < n; k++)
		bars(doc, metrics[k], out);
	kf_buf_printf(out, "</div>\n<script>%s</script>\n</body></html>\n", script);
}
