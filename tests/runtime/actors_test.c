/*
 * Actors: calls in order, constructor failure, restarts and their limit,
 * calls in flight replayed, handles passed to tasks.
 * Each case starts its own node and checks that no worker outlives it.
 */
#include "runtime_helpers.h"
#include "test.h"

#include "error.h"
#include "log.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

LUX_TEST_T(actor_calls_run_in_order, 30)
{
    start(2);
    long start_at = 100;
    lux_arg_t a = lux_arg_value(&start_at, sizeof start_at);
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, &a, 1, NULL, &actor));
    enum { N = 500 };
    lux_ref_t r[N];
    long expect[N];
    for (long i = 0; i < N; i++) {
        expect[i] = start_at + i;
        lux_arg_t e = lux_arg_value(&expect[i], sizeof expect[i]);
        LUX_CHECK_OK(lux_actor_call(actor, "incr", &e, 1, 1, &r[i]));
    }
    for (long i = 0; i < N; i++)
        LUX_CHECK_INT_EQ(get_long(r[i]), start_at + i + 1);
    lux_ref_t bad;
    LUX_CHECK_ERR(lux_actor_call(actor, "nope", NULL, 0, 1, &bad), LUX_ENOENT);
    /* One process for the actor's whole life. */
    long p1 = call_long(actor, "pid_method", NULL, 0);
    long p2 = call_long(actor, "pid_method", NULL, 0);
    LUX_CHECK_INT_EQ(p1, p2);
    LUX_CHECK_INT_EQ(lux_actor_pid(actor), p1);
    LUX_CHECK_OK(lux_actor_kill(actor, 1));
    stop();
}

LUX_TEST_T(actor_constructor_failure, 30)
{
    start(1);
    long neg = -5;
    lux_arg_t a = lux_arg_value(&neg, sizeof neg);
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, &a, 1, NULL, &actor));
    lux_ref_t r;
    LUX_CHECK_OK(lux_actor_call(actor, "value", NULL, 0, 1, &r));
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EACTORDIED);
    LUX_CHECK_CONTAINS((const char *)v.data, "negative start -5");
    lux_value_release(&v);
    lux_ref_release(r);
    stop();
}

LUX_TEST_T(actor_restarts_then_fails_fast, 60)
{
    start(2);
    lux_actor_opts_t o = LUX_ACTOR_OPTS_INIT;
    o.max_restarts = 1;
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, NULL, 0, &o, &actor));
    LUX_CHECK_INT_EQ(call_long(actor, "incr", NULL, 0), 1);
    long pid1 = call_long(actor, "pid_method", NULL, 0);
    /* The call that kills the process fails (no task retries). */
    lux_ref_t r;
    LUX_CHECK_OK(lux_actor_call(actor, "crash", NULL, 0, 1, &r));
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EACTORDIED);
    LUX_CHECK_CONTAINS((const char *)v.data, "counter");
    LUX_CHECK_CONTAINS((const char *)v.data, "SIGKILL");
    lux_value_release(&v);
    lux_ref_release(r);
    /* Restarted: constructor re-run (state reset), new process. */
    LUX_CHECK_INT_EQ(call_long(actor, "value", NULL, 0), 0);
    long pid2 = call_long(actor, "pid_method", NULL, 0);
    LUX_CHECK(pid2 != pid1);
    /* Kill from outside: over the limit now, so dead for good. */
    kill((pid_t)pid2, SIGKILL);
    LUX_CHECK_OK(lux_actor_call(actor, "value", NULL, 0, 1, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EACTORDIED);
    lux_value_release(&v);
    lux_ref_release(r);
    double t0 = lux_test_now();
    LUX_CHECK_OK(lux_actor_call(actor, "value", NULL, 0, 1, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EACTORDIED);
    LUX_CHECK(lux_test_now() - t0 < 0.5); /* fails fast */
    lux_value_release(&v);
    lux_ref_release(r);
    stop();
}

LUX_TEST_T(actor_task_retries_replay_calls_in_flight, 60)
{
    start(2);
    lux_actor_opts_t o = LUX_ACTOR_OPTS_INIT;
    o.max_restarts = -1;
    o.max_task_retries = -1;
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, NULL, 0, &o, &actor));
    long pid1 = call_long(actor, "pid_method", NULL, 0);
    lux_ref_t r[3];
    LUX_CHECK_OK(lux_actor_call(actor, "slow", NULL, 0, 1, &r[0]));
    LUX_CHECK_OK(lux_actor_call(actor, "incr", NULL, 0, 1, &r[1]));
    LUX_CHECK_OK(lux_actor_call(actor, "incr", NULL, 0, 1, &r[2]));
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    kill((pid_t)pid1, SIGKILL); /* during slow() */
    LUX_CHECK_INT_EQ(get_long(r[0]), 0);
    LUX_CHECK_INT_EQ(get_long(r[1]), 1);
    LUX_CHECK_INT_EQ(get_long(r[2]), 2);
    LUX_CHECK(call_long(actor, "pid_method", NULL, 0) != pid1);
    stop();
}

/* A task that receives an actor handle and calls it. */
LUX_REMOTE(call_actor)
{
    size_t len;
    const void *p = lux_call_arg(call, 0, &len);
    lux_actor_t a;
    if (len != sizeof a)
        return lux_call_fail(call, "bad handle");
    memcpy(&a, p, sizeof a);
    lux_ref_t r;
    int rc = lux_actor_call(a, "incr", NULL, 0, 1, &r);
    if (rc)
        return lux_call_fail(call, "call: %s", lux_strerror(rc));
    return return_value_of(call, r);
}

LUX_TEST_T(actor_handle_passed_to_tasks, 30)
{
    start(2);
    lux_actor_opts_t o = LUX_ACTOR_OPTS_INIT;
    o.num_cpus = 0.01;
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, NULL, 0, &o, &actor));
    lux_ref_t r[4];
    for (int i = 0; i < 4; i++) {
        lux_arg_t a = lux_arg_value(&actor, sizeof actor);
        LUX_CHECK_OK(lux_submit(&call_actor_remote, &a, 1, NULL, &r[i]));
    }
    long seen = 0;
    for (int i = 0; i < 4; i++)
        seen |= 1L << get_long(r[i]);
    LUX_CHECK_INT_EQ(seen, 0x1e); /* 1, 2, 3, 4 each once */
    LUX_CHECK_INT_EQ(call_long(actor, "value", NULL, 0), 4);
    stop();
}
