/*
 * The clocks lux reads, one name each. Durations and deadlines use the
 * monotonic clock (never steps back when the wall clock is set); timestamps
 * stored for the user (a result's `timestamp`, a trial's start) use the wall
 * clock; benchmarks that report work per CPU-second use the CPU-time clocks.
 * All return seconds as a double and cannot fail.
 */
#ifndef LUX_CLOCK_H
#define LUX_CLOCK_H

#include <time.h>

static inline double lux_clock_read(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds on the monotonic clock (an arbitrary origin: differences only). */
static inline double lux_clock_monotonic_s(void)
{
    return lux_clock_read(CLOCK_MONOTONIC);
}

/* Seconds since the Unix epoch. */
static inline double lux_clock_wall_s(void)
{
    return lux_clock_read(CLOCK_REALTIME);
}

/* CPU seconds used by this process (all its threads). */
static inline double lux_clock_process_cpu_s(void)
{
    return lux_clock_read(CLOCK_PROCESS_CPUTIME_ID);
}

/* CPU seconds used by the calling thread. */
static inline double lux_clock_thread_cpu_s(void)
{
    return lux_clock_read(CLOCK_THREAD_CPUTIME_ID);
}

#endif
