/*
 * clock: the two clocks apipe reads, in seconds as doubles: the monotonic
 * one for scheduling (waits, deadlines, token lifetimes within a run) and
 * the real one for what outlives the run (a token store's expiry).
 */
#ifndef APIPE_CLOCK_H
#define APIPE_CLOCK_H

/* Seconds on the monotonic clock (CLOCK_MONOTONIC), and since the epoch. */
double mono_now(void);
double real_now(void);

#endif
