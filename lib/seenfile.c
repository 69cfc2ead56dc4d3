#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonl.h"
#include "seenfile.h"
#include "statefile.h"

static const char magic[8] = { 'A', 'P', 'I', 'P', 'E', 'S', 'E', 'N' };

static void put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t fold(uint64_t acc, struct hash128 h)
{
	acc ^= h.lo;
	acc *= 0x9e3779b97f4a7c15ULL;
	acc ^= h.hi;
	acc = (acc << 31 | acc >> 33) * 0xc2b2ae3d27d4eb4fULL;
	return acc;
}

static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t k = read(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int seenfile_load(const char *path, uint64_t keyspec, struct fpset *s, uint8_t key[16],
		  struct aperr *e)
{
	unsigned char hdr[SEENFILE_HEADER], *buf;
	uint64_t count, done = 0, acc = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const size_t chunk = 65536;	/* entries a read: 1 MiB */

	if (fd < 0 && errno == ENOENT) {
		if (hash_random(key, 16) < 0)
			return aperr_errno(e, EX_OSERR, "getrandom");
		return 1;
	}
	if (fd < 0)
		return aperr_errno(e, EX_NOINPUT, "%s", path);
	if (fstat(fd, &st) < 0 || read_full(fd, hdr, sizeof(hdr)) < 0 ||
	    memcmp(hdr, magic, 8)) {
		close(fd);
		return aperr_set(e, EX_DATAERR, "%s: not a dedupe seen-file", path);
	}
	if (get64(hdr + 8) != (1 | (uint64_t)16 << 32)) {
		close(fd);
		return aperr_set(e, EX_DATAERR, "%s: seen-file format %u is not supported",
				 path, (unsigned)get64(hdr + 8));
	}
	count = get64(hdr + 16);
	if ((uint64_t)st.st_size != SEENFILE_HEADER + count * 16) {
		close(fd);
		return aperr_set(e, EX_DATAERR,
				 "%s: damaged seen-file (%lld bytes, header says %llu keys)",
				 path, (long long)st.st_size, (unsigned long long)count);
	}
	if (get64(hdr + 40) != keyspec) {
		close(fd);
		return aperr_set(e, EX_CONFIG,
				 "%s: this seen-file was built with other --key pointers", path);
	}
	memcpy(key, hdr + 24, 16);
	if (fpset_reserve(s, count) < 0 || !(buf = malloc(chunk * 16))) {
		close(fd);
		return aperr_set(e, EX_OSERR, "%s: out of memory for %llu keys", path,
				 (unsigned long long)count);
	}
	while (done < count) {
		size_t n = count - done < chunk ? (size_t)(count - done) : chunk, i;

		if (read_full(fd, buf, n * 16) < 0) {
			free(buf);
			close(fd);
			return aperr_errno(e, EX_IOERR, "%s: read", path);
		}
		for (i = 0; i < n; i++) {
			struct hash128 h = { get64(buf + 16 * i), get64(buf + 16 * i + 8) };

			acc = fold(acc, h);
			if (fpset_add(s, h) < 0) {
				free(buf);
				close(fd);
				return aperr_set(e, EX_OSERR, "out of memory");
			}
		}
		done += n;
	}
	free(buf);
	close(fd);
	if (acc != get64(hdr + 48))
		return aperr_set(e, EX_DATAERR, "%s: damaged seen-file (checksum mismatch)", path);
	return 0;
}

struct save_ctx {
	struct lwriter w;
	uint64_t acc;
	struct aperr *e;
	int failed;
};

static int save_one(void *vctx, struct hash128 h)
{
	struct save_ctx *c = vctx;
	unsigned char b[16];

	put64(b, h.lo);
	put64(b + 8, h.hi);
	c->acc = fold(c->acc, h);
	if (lwriter_write(&c->w, b, 16, c->e)) {
		c->failed = 1;
		return 1;
	}
	return 0;
}

int seenfile_save(const char *path, uint64_t keyspec, const struct fpset *s,
		  const uint8_t key[16], struct aperr *e)
{
	struct strbuf tmp = STRBUF_INIT;
	struct save_ctx c;
	unsigned char hdr[SEENFILE_HEADER];
	int fd = statefile_begin(path, &tmp, 0, e), r;

	if (fd < 0) {
		strbuf_release(&tmp);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.e = e;
	if (lwriter_init(&c.w, fd, path, 1 << 20, e) < 0) {
		statefile_abort(fd, tmp.buf);
		strbuf_release(&tmp);
		return -1;
	}
	memset(hdr, 0, sizeof(hdr));
	if (lwriter_write(&c.w, hdr, sizeof(hdr), e))
		c.failed = 1;
	if (!c.failed)
		fpset_each(s, save_one, &c);
	memcpy(hdr, magic, 8);
	put64(hdr + 8, 1 | (uint64_t)16 << 32);
	put64(hdr + 16, s->count);
	memcpy(hdr + 24, key, 16);
	put64(hdr + 40, keyspec);
	put64(hdr + 48, c.acc);
	if (c.failed || lwriter_flush(&c.w, e) ||
	    pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		if (!c.failed)
			aperr_errno(e, EX_IOERR, "%s: write", path);
		lwriter_release(&c.w);
		statefile_abort(fd, tmp.buf);
		strbuf_release(&tmp);
		return -1;
	}
	lwriter_release(&c.w);
	r = statefile_commit(fd, tmp.buf, path, e);
	strbuf_release(&tmp);
	return r;
}
