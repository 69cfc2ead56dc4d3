/*
 * err: how lib/ reports failure.  lib/ never prints and never exits; a
 * function that can fail takes a struct aperr *, fills it and returns -1.
 * cmd/ decides what to print and which exit status to use (code is one of
 * the sysexits.h values apipe(7) lists under EXIT STATUS).
 */
#ifndef APIPE_ERR_H
#define APIPE_ERR_H

#include <sysexits.h>

struct aperr {
	int code;		/* EX_* exit status suggested for this failure */
	char msg[1024];		/* "what failed: why", no trailing newline */
};

/* Fill e (when non-NULL) and return -1, so callers can `return aperr_set(…)`. */
int aperr_set(struct aperr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the existing message with "fmt: ". Returns -1. */
int aperr_prefix(struct aperr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* aperr_set with ": strerror(errno)" appended. */
int aperr_errno(struct aperr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
