/*
 * Allocation wrappers that tests can make fail.
 *
 * Every heap allocation in lux goes through these so that a test can ask the
 * Nth allocation from now to fail (lux_alloc_fail_after) and check that the
 * code unwinds cleanly and reports LUX_ENOMEM. In normal runs they cost one
 * predictable branch over malloc. The failure counter is process-wide and
 * atomic, so it also works with threads.
 */
#ifndef LUX_ALLOC_H
#define LUX_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup; return NULL on failure (real or
 * injected). The caller frees with lux_free. */
void *lux_malloc(size_t size);
void *lux_calloc(size_t count, size_t size);
void *lux_realloc(void *ptr, size_t size);
char *lux_strdup(const char *s);
char *lux_strndup(const char *s, size_t n);
void lux_free(void *ptr);

/* Makes the allocation `n` calls from now fail (n = 0: the next one), and
 * every one after it until lux_alloc_fail_reset(). A negative n disables
 * injection. */
void lux_alloc_fail_after(long n);
void lux_alloc_fail_reset(void);

/* Number of allocations failed by injection since the last reset. */
long lux_alloc_failures(void);

#endif
