#include "config.h"

#include "util/kf_time.h"
#include "util/kf_err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t kf_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kf_time_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double unit_ms(const char *u, size_t n)
{
	static const struct { const char *name; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	size_t i;

	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ms;
	return -1;
}

int kf_duration_parse(const char *s, int64_t *ms, struct kf_err *err)
{
	const char *p = s;
	double total = 0;
	int parts = 0;

	if (!s || !*s)
		return kf_err_set(err, KF_EINPUT, "empty duration");
	while (*p) {
		double v = 0, scale;
		int digits = 0;
		const char *u;

		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (*p == '.') {
			double f = 0.1;

			for (p++; isdigit((unsigned char)*p); p++, f /= 10, digits++)
				v += (*p - '0') * f;
		}
		if (!digits)
			goto bad;
		u = p;
		while (*p && !isdigit((unsigned char)*p) && *p != '.')
			p++;
		if (u == p) {
			if (parts || *p)
				goto bad;
			scale = 1000;   /* a bare number is seconds */
		} else if ((scale = unit_ms(u, (size_t)(p - u))) < 0) {
			goto bad;
		}
		total += v * scale;
		parts++;
	}
	*ms = (int64_t)(total + 0.5);
	return 0;
bad:
	return kf_err_set(err, KF_EINPUT,
			  "invalid duration \"%s\" (expected e.g. 30s, 10m, 1h30m)", s);
}

void kf_duration_format(int64_t ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, size, "%lldm%llds", (long long)(ms / 60000), (long long)(ms % 60000 / 1000));
	else
		snprintf(buf, size, "%lldh%lldm", (long long)(ms / 3600000),
			 (long long)(ms % 3600000 / 60000));
}

void kf_time_rfc3339(int64_t wall_ms, char *buf, size_t size)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
