#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int aperr_set(struct aperr *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int aperr_prefix(struct aperr *e, const char *fmt, ...)
{
	char head[sizeof(e->msg)], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	{
		size_t hn = strlen(head);

		if (hn > sizeof(e->msg) - 3)
			hn = sizeof(e->msg) - 3;
		memcpy(e->msg, head, hn);
		memcpy(e->msg + hn, ": ", 2);
		snprintf(e->msg + hn + 2, sizeof(e->msg) - hn - 2, "%.*s",
			 (int)(sizeof(e->msg) - hn - 3), old);
	}
	return -1;
}

int aperr_errno(struct aperr *e, int code, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}
