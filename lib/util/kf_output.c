#include "config.h"

#include "util/kf_output.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"
#include "util/kf_yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cJSON *kf_json_path(const cJSON *doc, const char *path)
{
	const char *p = path, *dot;
	char key[256];

	while (doc && *p) {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		doc = cJSON_GetObjectItemCaseSensitive(doc, key);
		p = dot ? dot + 1 : p + n;
	}
	return doc;
}

char *kf_json_text(const cJSON *v)
{
	struct kf_buf b = KF_BUF_INIT;
	const cJSON *c;

	if (!v || cJSON_IsNull(v))
		return kf_xstrdup("");
	if (cJSON_IsString(v))
		return kf_xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return kf_xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		int prec;

		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			return kf_xasprintf("%.0f", d);
		for (prec = 1; prec < 17; prec++) {
			char tmp[64];

			snprintf(tmp, sizeof tmp, "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				return kf_xstrdup(tmp);
		}
		return kf_xasprintf("%.17g", d);
	}
	if (cJSON_IsArray(v)) {
		for (c = v->child; c; c = c->next) {
			char *t = kf_json_text(c);

			if (c != v->child)
				kf_buf_addc(&b, ',');
			kf_buf_adds(&b, t);
			free(t);
		}
		return kf_buf_detach(&b);
	}
	{
		char *s = cJSON_PrintUnformatted(v);
		char *r = kf_xstrdup(s ? s : "");

		cJSON_free(s);
		return r;
	}
}

int kf_output_check(const char *format, const char *choices, struct kf_err *err)
{
	const char *p = choices;
	size_t n;

	if (!format)
		return 0;
	n = strlen(format);
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t m = bar ? (size_t)(bar - p) : strlen(p);

		if (m == n && strncmp(p, format, n) == 0)
			return 0;
		p += m + (bar ? 1 : 0);
	}
	return kf_err_set(err, KF_EUSAGE, "unknown output format \"%s\" (choose from %s)", format, choices);
}

static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void render_table(struct kf_buf *out, const cJSON *doc, const struct kf_column *cols)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	const cJSON *row;
	size_t ncol = 0, nrow = 0, i, r;
	size_t *width;
	char **cells;

	if (!cols) {
		/* a single record as KEY VALUE lines */
		const cJSON *c;
		size_t kw = 0;

		for (c = doc->child; c; c = c->next)
			if (strlen(c->string) > kw)
				kw = strlen(c->string);
		for (c = doc->child; c; c = c->next) {
			char *t = kf_json_text(c);

			kf_buf_printf(out, "%-*s  %s\n", (int)kw, c->string, t);
			free(t);
		}
		return;
	}
	while (cols[ncol].header)
		ncol++;
	if (cJSON_IsArray(items))
		nrow = (size_t)cJSON_GetArraySize(items);
	else
		nrow = 1;
	width = kf_xcalloc(ncol, sizeof *width);
	cells = kf_xcalloc((nrow + 1) * ncol, sizeof *cells);
	for (i = 0; i < ncol; i++) {
		cells[i] = kf_xstrdup(cols[i].header);
		width[i] = display_width(cols[i].header);
	}
	row = cJSON_IsArray(items) ? items->child : doc;
	for (r = 1; r <= nrow && row; r++, row = row->next) {
		for (i = 0; i < ncol; i++) {
			char *t = kf_json_text(kf_json_path(row, cols[i].path));

			if (display_width(t) > width[i])
				width[i] = display_width(t);
			cells[r * ncol + i] = t;
		}
	}
	nrow = r - 1;
	for (r = 0; r <= nrow; r++) {
		for (i = 0; i < ncol; i++) {
			const char *t = cells[r * ncol + i];

			kf_buf_adds(out, t);
			if (i + 1 < ncol) {
				size_t pad = width[i] - display_width(t) + 3;

				while (pad--)
					kf_buf_addc(out, ' ');
			}
		}
		kf_buf_addc(out, '\n');
	}
	for (i = 0; i < (nrow + 1) * ncol; i++)
		free(cells[i]);
	free(cells);
	free(width);
}

static void render_names(struct kf_buf *out, const cJSON *doc)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	const cJSON *c;

	if (!cJSON_IsArray(items)) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");

		if (cJSON_IsString(name))
			kf_buf_printf(out, "%s\n", name->valuestring);
		return;
	}
	for (c = items->child; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");

		if (cJSON_IsString(name))
			kf_buf_printf(out, "%s\n", name->valuestring);
	}
}

int kf_output_render(struct kf_buf *out, const char *format, const cJSON *doc,
		     const struct kf_column *cols, struct kf_err *err)
{
	if (!format || !strcmp(format, "table")) {
		render_table(out, doc, cols);
		return 0;
	}
	if (!strcmp(format, "json")) {
		char *s = cJSON_Print(doc);

		if (!s)
			return kf_err_set(err, KF_EIO, "cannot render JSON");
		kf_buf_adds(out, s);
		kf_buf_addc(out, '\n');
		cJSON_free(s);
		return 0;
	}
	if (!strcmp(format, "yaml"))
		return kf_yaml_emit(doc, out, err);
	if (!strcmp(format, "name")) {
		render_names(out, doc);
		return 0;
	}
	return kf_err_set(err, KF_EUSAGE, "unknown output format \"%s\"", format);
}
