/*
 * genrecords: deterministic benchmark and test data.
 *   genrecords [-x | -S] [-n records] [-p per_page] [-s seed]
 * Writes n records (about 300 bytes each: nested objects, unicode, escaped
 * text, big numbers, nulls) as JSON lines, or with -p as response envelopes
 * holding per_page records each.  -x adds four members (an enum, a currency
 * code, order lines as an array of objects, a creation time) for the
 * validate benchmark's 15-property schema.  -S writes small records instead
 * (about 210 bytes: an id, a timestamp with a mixed offset, a short unicode
 * string, a few numbers, a nested object), where the cost per record
 * dominates.  Same arguments, same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t state;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static int extended, small;

static void small_record(FILE *f, unsigned long id)
{
	static const char *const offsets[] = { "Z", "+02:00", "-05:30", "+09:00", "-00:00" };
	static const char *const names[] = { "caf\xc3\xa9", "na\xc3\xafve", "\xe6\x9d\xb1\xe4\xba\xac",
					     "K\xc3\xb8" "benhavn", "plain", "\\u00e9t\\u00e9" };
	uint64_t r = next();
	unsigned sec = (unsigned)(r >> 8) % 86400;

	fprintf(f, "{\"id\":%lu,\"ts\":\"2026-%02u-%02uT%02u:%02u:%02u%s\",\"name\":\"%s %lu\","
		"\"email\":\"u%lu@example.org\",\"qty\":%u,\"price\":%u.%02u,\"ok\":%s,"
		"\"meta\":{\"src\":\"api\",\"region\":\"eu-west-1\",\"rev\":%u,"
		"\"tags\":[\"t%u\",\"t%u\"]}}",
		id, (unsigned)(r >> 20) % 12 + 1, (unsigned)(r % 28) + 1, sec / 3600, sec / 60 % 60,
		sec % 60, offsets[(r >> 30) % 5], names[(r >> 33) % 6], id, id, (unsigned)(r >> 40) % 100,
		(unsigned)(r >> 44) % 1000, (unsigned)(r >> 52) % 100, r & 1 ? "true" : "false",
		(unsigned)(r >> 12) % 9, (unsigned)(r >> 16) % 40, (unsigned)(r >> 24) % 40);
}

static void record(FILE *f, unsigned long id)
{
	static const char *const cities[] = {
		"Z\xc3\xbcrich", "S\xc3\xa3o Paulo", "\xe6\x9d\xb1\xe4\xba\xac", "Montr\\u00e9al",
		"Krak\xc3\xb3w", "Reykjav\xc3\xadk", "New York", "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
	};
	uint64_t r = next();
	unsigned day = (unsigned)(r % 28) + 1, sec = (unsigned)(r >> 8) % 86400;

	fprintf(f, "{\"id\":%lu,\"updated_at\":\"2026-%02u-%02uT%02u:%02u:%02u.%03uZ\","
		"\"name\":\"user %lu \\\"q\\\" caf\xc3\xa9\",\"email\":\"user%lu@example.com\","
		"\"score\":%llu%llu,\"ratio\":0.%llu,\"active\":%s,\"tags\":[\"t%u\",\"t%u\"],"
		"\"address\":{\"street\":\"%u Main St\",\"city\":\"%s\","
		"\"geo\":{\"lat\":%u.%04u,\"lon\":-%u.%04u}},\"parent\":%s,"
		"\"note\":\"line one\\nline two \\ud83d\\ude00 \xe2\x9c\x93\"",
		id, (unsigned)(r >> 20) % 12 + 1, day, sec / 3600, sec / 60 % 60, sec % 60,
		(unsigned)(r >> 40) % 1000, id, id,
		(unsigned long long)(r % 100000000000ULL) + 1, (unsigned long long)(r >> 3) % 1000000000000ULL,
		(unsigned long long)(r >> 5) % 1000000000ULL, r & 1 ? "true" : "false",
		(unsigned)(r >> 12) % 50, (unsigned)(r >> 18) % 50, (unsigned)(r >> 24) % 9999,
		cities[(r >> 30) % 8], (unsigned)(r >> 33) % 90, (unsigned)(r >> 36) % 10000,
		(unsigned)(r >> 43) % 180, (unsigned)(r >> 47) % 10000,
		r % 5 ? "null" : "{\"id\":1}");
	if (extended) {
		static const char *const status[] = { "open", "paid", "shipped", "cancelled" };
		unsigned k, nl = (unsigned)(r >> 50) % 3 + 1;

		fprintf(f, ",\"status\":\"%s\",\"currency\":\"%s\",\"lines\":[", status[(r >> 52) % 4],
			r >> 54 & 1 ? "EUR" : "USD");
		for (k = 0; k < nl; k++)
			fprintf(f, "%s{\"sku\":\"SKU-%u\",\"qty\":%u,\"price\":%u.%02u}", k ? "," : "",
				(unsigned)(r >> (k * 7)) % 100000, k + 1, (unsigned)(r >> 20) % 500 + 1,
				(unsigned)(r >> 9) % 100);
		fprintf(f, "],\"created_at\":\"2025-%02u-%02uT08:00:00Z\"", (unsigned)(r >> 20) % 12 + 1, day);
	}
	putc('}', f);
}

int main(int argc, char **argv)
{
	unsigned long n = 1000, per_page = 0, id, page = 0;
	int c;

	state = 0x9e3779b97f4a7c15ULL;
	while ((c = getopt(argc, argv, "xSn:p:s:")) != -1) {
		switch (c) {
		case 'x': extended = 1; break;
		case 'S': small = 1; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'p': per_page = strtoul(optarg, NULL, 10); break;
		case 's': state ^= strtoull(optarg, NULL, 10) * 0xbf58476d1ce4e5b9ULL; break;
		default:
			fputs("usage: genrecords [-x | -S] [-n records] [-p per_page] [-s seed]\n", stderr);
			return 64;
		}
	}
	if (!state)
		state = 1;
	for (id = 1; id <= n; id++) {
		if (per_page && (id - 1) % per_page == 0) {
			page++;
			printf("{\"url\":\"http://127.0.0.1/items?page=%lu\",\"method\":\"GET\","
			       "\"status\":200,\"headers\":{\"content-type\":\"application/json\"},"
			       "\"fetched_at\":\"2026-11-23T12:00:00.000Z\",\"elapsed_ms\":3,"
			       "\"attempts\":1,\"page\":%lu,\"body\":{\"data\":[", page, page);
		} else if (per_page) {
			putchar(',');
		}
		if (small)
			small_record(stdout, id);
		else
			record(stdout, id);
		if (!per_page || id % per_page == 0 || id == n)
			fputs(per_page ? "],\"has_more\":true}}\n" : "\n", stdout);
	}
	return fflush(stdout) == 0 ? 0 : 74;
}
