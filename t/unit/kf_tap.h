/* kf_tap: a tiny TAP producer for the C unit tests (automake's tap-driver
 * reads it). Each check is one "ok N - what" line. */
#ifndef KF_TAP_H
#define KF_TAP_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do { \
	int tap_c = (cond) ? 1 : 0; \
	tap_n++; \
	if (tap_c) { printf("ok %d - ", tap_n); } \
	else { tap_failed++; printf("not ok %d - ", tap_n); } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!tap_c) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

#define TAP_STR(got, want, ...) do { \
	const char *tap_g = (got), *tap_w = (want); \
	int tap_eq = tap_g && tap_w && strcmp(tap_g, tap_w) == 0; \
	TAP_OK(tap_eq, __VA_ARGS__); \
	if (!tap_eq) printf("#   got:  \"%s\"\n#   want: \"%s\"\n", tap_g ? tap_g : "(null)", tap_w ? tap_w : "(null)"); \
} while (0)

#define TAP_NEAR(got, want, tol, ...) do { \
	double tap_gv = (got), tap_wv = (want); \
	int tap_ok = fabs(tap_gv - tap_wv) <= (tol); \
	TAP_OK(tap_ok, __VA_ARGS__); \
	if (!tap_ok) printf("#   got %.17g, want %.17g (tolerance %g)\n", tap_gv, tap_wv, (double)(tol)); \
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
