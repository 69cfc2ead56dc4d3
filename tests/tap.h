/*
 * tap.h: a few TAP helpers for the C unit tests (header only).
 * Every check prints "ok N - what" or "not ok N - what" with a diagnostic;
 * done_testing() prints the plan and returns the exit status.
 */
#ifndef APIPE_TAP_H
#define APIPE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int ok_(int cond, const char *desc, const char *file, int line)
{
	const char *c;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	for (c = desc; *c; c++)
		putchar((unsigned char)*c < 0x20 || *c == '#' ? '?' : *c);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}
#define ok(cond, desc) ok_(!!(cond), desc, __FILE__, __LINE__)

static inline int is_int_(long long got, long long want, const char *desc,
			  const char *file, int line)
{
	int r = ok_(got == want, desc, file, line);

	if (!r)
		printf("#   got %lld, want %lld\n", got, want);
	return r;
}
#define is_int(got, want, desc) is_int_((long long)(got), (long long)(want), desc, __FILE__, __LINE__)

static inline int is_mem_(const char *got, size_t gn, const char *want, const char *desc,
			  const char *file, int line)
{
	size_t wn = strlen(want);
	int r = ok_(gn == wn && (!wn || memcmp(got, want, wn) == 0), desc, file, line);

	if (!r)
		printf("#   got  '%.*s'\n#   want '%s'\n", (int)gn, got ? got : "", want);
	return r;
}
#define is_mem(got, gn, want, desc) is_mem_(got, gn, want, desc, __FILE__, __LINE__)
#define is_str(got, want, desc) is_mem_(got, strlen(got), want, desc, __FILE__, __LINE__)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
