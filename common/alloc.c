/*
 * Allocation wrappers with failure injection. `countdown` < 0 means no
 * injection; otherwise each allocation decrements it and fails once it has
 * gone below zero.
 */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long countdown = -1;
static atomic_bool armed = 0;
static atomic_long failures = 0;

static int should_fail(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    long left = atomic_fetch_sub(&countdown, 1);
    if (left <= 0) {
        atomic_fetch_add(&failures, 1);
        return 1;
    }
    return 0;
}

void *lux_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *lux_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    return calloc(count, size);
}

void *lux_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

char *lux_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = lux_malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *lux_strdup(const char *s)
{
    return lux_strndup(s, strlen(s));
}

void lux_free(void *ptr)
{
    free(ptr);
}

void lux_alloc_fail_after(long n)
{
    if (n < 0) {
        lux_alloc_fail_reset();
        return;
    }
    atomic_store(&countdown, n);
    atomic_store(&failures, 0);
    atomic_store(&armed, 1);
}

void lux_alloc_fail_reset(void)
{
    atomic_store(&armed, 0);
    atomic_store(&countdown, -1);
}

long lux_alloc_failures(void)
{
    return atomic_load(&failures);
}
