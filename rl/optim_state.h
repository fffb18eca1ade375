/*
 * The save format the first-order optimisers share (rl/adam.c,
 * rl/rmsprop.c): an 8-byte magic, n as uint64, the step count as int64, the
 * options struct as host bytes, then nvecs vectors of n host doubles. One
 * writer and one reader, so that both optimisers lay out and check their
 * bytes the same way.
 */
#ifndef LUX_OPTIM_STATE_H
#define LUX_OPTIM_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the state into a new lux_malloc'd buffer (*bytes, *len; the caller
 * frees it with lux_free). magic is 8 bytes, not a C string. Returns 0 or
 * LUX_ENOMEM. */
int lux_optim_state_save(const char *magic, uint64_t n, int64_t steps, const void *opts,
                         size_t opts_size, const double *const *vecs, size_t nvecs, void **bytes,
                         size_t *len);

/* Reads bytes written by lux_optim_state_save with the same magic, n,
 * opts_size and nvecs. The stored options are copied into opts (opts_size
 * bytes of the caller's, a properly typed and aligned struct) and checked
 * with opts_valid(opts). Only when everything checks out are *steps and the
 * nvecs vectors (n doubles each) written. Returns 0 or LUX_EINVAL (wrong
 * size, magic or n, a negative step count, options opts_valid refuses);
 * nothing but opts is written on failure. */
int lux_optim_state_restore(const char *magic, uint64_t n, const void *bytes, size_t len,
                            void *opts, size_t opts_size, int (*opts_valid)(const void *opts),
                            int64_t *steps, double *const *vecs, size_t nvecs);

#endif
