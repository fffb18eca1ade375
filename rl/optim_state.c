/*
 * Save and restore of the first-order optimisers' state (see optim_state.h).
 * The options are copied as bytes, so the format is the host's; checkpoints
 * move between runs on one machine, not across architectures.
 */
#include "optim_state.h"

#include "alloc.h"
#include "error.h"

#include <string.h>

#define MAGIC_LEN 8

static size_t state_size(uint64_t n, size_t opts_size, size_t nvecs)
{
    return MAGIC_LEN + sizeof(uint64_t) + sizeof(int64_t) + opts_size +
           nvecs * (size_t)n * sizeof(double);
}

int lux_optim_state_save(const char *magic, uint64_t n, int64_t steps, const void *opts,
                         size_t opts_size, const double *const *vecs, size_t nvecs, void **bytes,
                         size_t *len)
{
    size_t vec = (size_t)n * sizeof(double);
    size_t total = state_size(n, opts_size, nvecs);
    unsigned char *buf = lux_malloc(total), *p = buf;
    if (buf == NULL)
        return LUX_ENOMEM;
    memcpy(p, magic, MAGIC_LEN), p += MAGIC_LEN;
    memcpy(p, &n, sizeof n), p += sizeof n;
    memcpy(p, &steps, sizeof steps), p += sizeof steps;
    memcpy(p, opts, opts_size), p += opts_size;
    for (size_t i = 0; i < nvecs; i++)
        memcpy(p, vecs[i], vec), p += vec;
    *bytes = buf;
    *len = total;
    return 0;
}

int lux_optim_state_restore(const char *magic, uint64_t n, const void *bytes, size_t len,
                            void *opts, size_t opts_size, int (*opts_valid)(const void *opts),
                            int64_t *steps, double *const *vecs, size_t nvecs)
{
    size_t vec = (size_t)n * sizeof(double);
    const unsigned char *p = bytes;
    if (len != state_size(n, opts_size, nvecs) || memcmp(p, magic, MAGIC_LEN) != 0)
        return LUX_EINVAL;
    p += MAGIC_LEN;
    uint64_t stored_n;
    int64_t stored_steps;
    memcpy(&stored_n, p, sizeof stored_n), p += sizeof stored_n;
    memcpy(&stored_steps, p, sizeof stored_steps), p += sizeof stored_steps;
    memcpy(opts, p, opts_size), p += opts_size;
    if (stored_n != n || stored_steps < 0 || !opts_valid(opts))
        return LUX_EINVAL;
    *steps = stored_steps;
    for (size_t i = 0; i < nvecs; i++)
        memcpy(vecs[i], p, vec), p += vec;
    return 0;
}
