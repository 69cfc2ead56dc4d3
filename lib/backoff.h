/*
 * backoff: the one retry policy's waits, for HTTP and the databases alike:
 * exponential from a base, jitter (a uniform draw in the top share of the
 * ceiling, so retrying clients spread out: all of it for HTTP, the upper
 * half where a run must outlast a restart), a cap on any one wait, and a
 * floor so no retry is a hot loop.
 *
 * Ownership: a struct backoff is a value (no allocation).  Thread-safety:
 * one thread uses a backoff (its random state changes with each draw).
 */
#ifndef APIPE_BACKOFF_H
#define APIPE_BACKOFF_H

#include <stdint.h>

struct backoff {
	double base;		/* seconds: the ceiling of the first retry's wait */
	double cap;		/* seconds: no wait is longer */
	double floor;		/* seconds: no wait is shorter */
	double jitter;		/* the share of the ceiling drawn at random: 1 full, 0.5 half */
	uint64_t rng;		/* xorshift64* state: jitter only, not security */
};

/*
 * base, cap and floor in seconds, full jitter (set b->jitter after for
 * less); the draws seeded from the system's random bytes.
 */
void backoff_init(struct backoff *b, double base, double cap, double floor);
/*
 * The wait before retry number n (0 for the first): with ceiling
 * c = min(cap, base * 2^n), in [c * (1 - jitter), c], and at least floor.
 */
double backoff_delay(struct backoff *b, unsigned n);
/* Sleep for seconds (any signal that interrupts it ends the wait early). */
void backoff_sleep(double seconds);

#endif
