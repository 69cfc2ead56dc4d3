#include "base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int encode(struct strbuf *out, const void *data, size_t n, const char *abc,
		  int pad)
{
	const unsigned char *p = data;
	size_t i;
	char *o;

	if (strbuf_grow(out, (n + 2) / 3 * 4) < 0)
		return -1;
	o = out->buf + out->len;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*o++ = abc[v >> 18];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);

		*o++ = abc[v >> 18];
		*o++ = abc[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = abc[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	out->len = (size_t)(o - out->buf);
	out->buf[out->len] = '\0';
	return 0;
}

int base64_encode(struct strbuf *out, const void *data, size_t n)
{
	return encode(out, data, n, alphabet, 1);
}

int base64url_encode(struct strbuf *out, const void *data, size_t n)
{
	static const char url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	return encode(out, data, n, url, 0);
}

static int val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int base64_decode(struct strbuf *out, const char *s, size_t n)
{
	size_t i;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = val(s[i]), b = val(s[i + 1]), c, d;
		int last = i + 4 == n;

		if (a < 0 || b < 0)
			return -1;
		c = last && s[i + 2] == '=' ? -2 : val(s[i + 2]);
		d = last && s[i + 3] == '=' ? -2 : val(s[i + 3]);
		if (c == -1 || d == -1 || (c == -2 && d != -2))
			return -1;
		if (strbuf_addch(out, a << 2 | b >> 4) < 0)
			return -1;
		if (c >= 0 && strbuf_addch(out, (b & 15) << 4 | c >> 2) < 0)
			return -1;
		if (d >= 0 && strbuf_addch(out, (c & 3) << 6 | d) < 0)
			return -1;
	}
	return 0;
}

int base64url_decode(struct strbuf *out, const char *s, size_t n)
{
	struct strbuf std = STRBUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/') {
			strbuf_release(&std);
			return -1;
		}
		strbuf_addch(&std, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
	}
	while (std.len % 4)
		strbuf_addch(&std, '=');
	r = base64_decode(out, std.buf, std.len);
	strbuf_release(&std);
	return r;
}
