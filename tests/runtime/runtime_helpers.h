/*
 * What the multi-process runtime tests share: a private node per case,
 * reading a long out of a ref, checking that no worker outlives a case,
 * and the remote functions and the actor class that several test modules
 * call. Each test module is its own executable (its workers re-execute it),
 * so every remote function a case uses must be linked into that module:
 * these are, through runtime_helpers.c.
 */
#ifndef LUX_TEST_RUNTIME_HELPERS_H
#define LUX_TEST_RUNTIME_HELPERS_H

#include "lux.h"

#include <stddef.h>

/* lux_init with a private node of `cpus` CPUs, logs in the case's
 * directory, no workers started ahead. Fails the case on error. */
void start(double cpus);
/* lux_shutdown, then fails the case if a worker outlived the node. */
void stop(void);
/* lux_get of a long (fails the case otherwise), then releases the ref. */
long get_long(lux_ref_t ref);
/* Inside a remote function: argument i as a long (0 if it is not one). */
long arg_long(lux_call_t *call, size_t i);
/* Inside a remote function: returns x. */
int ret_long(lux_call_t *call, long x);
/* In a remote function or method: waits (30 s) for `r`, returns its value
 * as the call's result and releases `r`. */
int return_value_of(lux_call_t *call, lux_ref_t r);
/* Live children of this process (workers of its private node). */
int count_children(void);
/* Calls method of actor a and gets its long result. */
long call_long(lux_actor_t a, const char *method, const lux_arg_t *args, size_t n);

/* add(a, b) = a + b; getpid_fn() = the worker's pid; sum_bytes(buf) = sum
 * of its bytes; sleep_ms(ms) sleeps and returns ms; pg_of_task() = the
 * placement group the task ran in. */
LUX_REMOTE_DECLARE(add);
LUX_REMOTE_DECLARE(getpid_fn);
LUX_REMOTE_DECLARE(sum_bytes);
LUX_REMOTE_DECLARE(sleep_ms);
LUX_REMOTE_DECLARE(pg_of_task);

/* counter(start): incr(expected_previous), value, crash (SIGKILL),
 * pid_method, slow (300 ms, then value), child_pg (the group of a child
 * task). */
LUX_ACTOR_CLASS_DECLARE(counter);

#endif
