#include <math.h>
#include <time.h>

#include "backoff.h"
#include "hash.h"

void backoff_init(struct backoff *b, double base, double cap, double floor)
{
	b->base = base;
	b->cap = cap;
	b->floor = floor;
	b->jitter = 1;
	if (hash_random(&b->rng, sizeof(b->rng)) < 0 || !b->rng)
		b->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
}

/* A uniform draw in [0, 1). */
static double rand01(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return (double)((b->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

double backoff_delay(struct backoff *b, unsigned n)
{
	double ceil = b->base * ldexp(1.0, (int)(n < 30 ? n : 30)), d;

	if (ceil > b->cap)
		ceil = b->cap;
	d = ceil * (1 - b->jitter * rand01(b));
	return d < b->floor ? b->floor : d;
}

void backoff_sleep(double seconds)
{
	struct timespec ts;

	if (!(seconds > 0))
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}
