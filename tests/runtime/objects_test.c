/*
 * Objects: put and get of small and large values (shared memory), freeing
 * on release, a full store, wait, ref arguments that wait in the node.
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

/* ---- objects ---- */

LUX_REMOTE(make_big)
{
    long n = arg_long(call, 0);
    unsigned char *buf = malloc((size_t)n);
    for (long i = 0; i < n; i++)
        buf[i] = (unsigned char)(i % 251);
    int rc = lux_call_return(call, 0, buf, (size_t)n);
    free(buf);
    return rc;
}

LUX_TEST_T(put_get_small_and_large, 30)
{
    start(2);
    lux_ref_t small, big;
    LUX_CHECK_OK(lux_put("abc", 3, 5, &small));
    size_t n = 8u << 20;
    unsigned char *buf = malloc(n);
    long expect = 0;
    for (size_t i = 0; i < n; i++) {
        buf[i] = (unsigned char)(i * 31);
        expect += buf[i];
    }
    LUX_CHECK_OK(lux_put(buf, n, 5, &big));
    lux_value_t v[2];
    lux_ref_t both[2] = {small, big};
    LUX_CHECK_OK(lux_get(both, 2, 10, v));
    LUX_CHECK_INT_EQ(v[0].len, 3);
    LUX_CHECK(memcmp(v[0].data, "abc", 3) == 0);
    LUX_CHECK_INT_EQ(v[1].len, n);
    LUX_CHECK(memcmp(v[1].data, buf, n) == 0);
    /* Zero-copy: a second get of the large object sees the same memory. */
    lux_value_t again;
    LUX_CHECK_OK(lux_get(&big, 1, 10, &again));
    LUX_CHECK(again.data == v[1].data);
    lux_value_release(&again);
    lux_value_release(&v[0]);
    lux_value_release(&v[1]);
    /* A put object passed by ref to a task (read from shared memory there). */
    lux_arg_t arg = lux_arg_ref(big);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&sum_bytes_remote, &arg, 1, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), expect);
    /* A large return value travels through shared memory too. */
    long want = 3 << 20;
    arg = lux_arg_value(&want, sizeof want);
    LUX_CHECK_OK(lux_submit(&make_big_remote, &arg, 1, NULL, &r));
    lux_value_t bv;
    LUX_CHECK_OK(lux_get(&r, 1, 30, &bv));
    LUX_CHECK_INT_EQ(bv.len, want);
    LUX_CHECK_INT_EQ(((const unsigned char *)bv.data)[1000], 1000 % 251);
    lux_value_release(&bv);
    lux_ref_release(r);
    lux_ref_release(small);
    lux_ref_release(big);
    free(buf);
    stop();
}

static long store_used(void)
{
    char *s = lux_node_status_json();
    LUX_CHECK(s != NULL);
    const char *p = strstr(s, "\"used_bytes\":");
    LUX_CHECK(p != NULL);
    long v = atol(p + 13);
    free(s);
    return v;
}

LUX_TEST_T(objects_freed_when_released, 30)
{
    start(1);
    size_t n = 1 << 20;
    char *buf = calloc(1, n);
    lux_ref_t r[4];
    for (int i = 0; i < 4; i++)
        LUX_CHECK_OK(lux_put(buf, n, 5, &r[i]));
    LUX_CHECK(store_used() >= 4 * (long)n);
    lux_value_t v;
    LUX_CHECK_OK(lux_get(&r[0], 1, 5, &v));
    lux_refs_release(r, 4);
    /* r[0] is still pinned by the view. */
    long used = store_used();
    LUX_CHECK(used >= (long)n && used < 2 * (long)n);
    LUX_CHECK((((const char *)v.data)[n - 1]) == 0);
    lux_value_release(&v);
    LUX_CHECK_INT_EQ(store_used(), 0);
    /* A released ref is gone. */
    LUX_CHECK_ERR(lux_get(&r[1], 1, 1, &v), LUX_ENOENT);
    /* Small objects too (the owner's own copy goes with its ref). */
    lux_ref_t s;
    LUX_CHECK_OK(lux_put("xyz", 3, 5, &s));
    LUX_CHECK_OK(lux_get(&s, 1, 5, &v));
    LUX_CHECK_INT_EQ(v.len, 3);
    LUX_CHECK(memcmp(v.data, "xyz", 3) == 0);
    LUX_CHECK_INT_EQ((uintptr_t)v.data % 16, 0);
    lux_value_release(&v);
    lux_ref_release(s);
    LUX_CHECK_ERR(lux_get(&s, 1, 1, &v), LUX_ENOENT);
    free(buf);
    stop();
}

LUX_TEST_T(put_waits_for_room_then_fails_clearly, 30)
{
    lux_init_opts_t o = {0};
    o.num_cpus = 1;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    o.object_store_bytes = 4u << 20;
    LUX_CHECK_OK(lux_init(&o));
    size_t n = 3u << 20;
    char *buf = calloc(1, 5u << 20);
    lux_ref_t a, b;
    LUX_CHECK_OK(lux_put(buf, n, 1, &a));
    double t0 = lux_test_now();
    LUX_CHECK_ERR(lux_put(buf, n, 0.3, &b), LUX_EFULL);
    LUX_CHECK(lux_test_now() - t0 >= 0.25);
    /* Larger than the whole store: fails at once. */
    LUX_CHECK_ERR(lux_put(buf, 5u << 20, 10, &b), LUX_EFULL);
    /* Room appears when a is released. */
    lux_ref_release(a);
    LUX_CHECK_OK(lux_put(buf, n, 1, &b));
    lux_ref_release(b);
    free(buf);
    stop();
}

LUX_TEST_T(wait_returns_ready_subset, 30)
{
    start(2);
    long fast = 10, slow = 3000;
    lux_ref_t r[2];
    lux_arg_t a0 = lux_arg_value(&fast, sizeof fast), a1 = lux_arg_value(&slow, sizeof slow);
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a1, 1, NULL, &r[0]));
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a0, 1, NULL, &r[1]));
    unsigned char ready[2];
    size_t nready;
    LUX_CHECK_OK(lux_wait(r, 2, 1, 20, ready, &nready));
    LUX_CHECK_INT_EQ(nready, 1);
    LUX_CHECK_INT_EQ(ready[0], 0);
    LUX_CHECK_INT_EQ(ready[1], 1);
    /* Timeout: returns with what is ready. */
    double t0 = lux_test_now();
    LUX_CHECK_OK(lux_wait(r, 2, 2, 0.2, ready, &nready));
    LUX_CHECK(lux_test_now() - t0 < 2);
    LUX_CHECK_INT_EQ(nready, 1);
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&r[0], 1, 0.1, &v), LUX_ETIMEDOUT);
    LUX_CHECK_ERR(lux_wait(r, 2, 3, 1, ready, &nready), LUX_EINVAL);
    lux_refs_release(r, 2);
    stop();
}

LUX_TEST_T(ref_arguments_wait_without_holding_a_worker, 30)
{
    /* One CPU: a task whose argument is produced by a later-finishing task
     * must not hold the only worker while it waits. */
    start(1);
    long ms = 200;
    lux_arg_t a = lux_arg_value(&ms, sizeof ms);
    lux_ref_t dep;
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, NULL, &dep));
    long one = 1;
    lux_arg_t args[2] = {lux_arg_ref(dep), lux_arg_value(&one, sizeof one)};
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&add_remote, args, 2, NULL, &r));
    lux_ref_release(dep); /* the pending task keeps it alive */
    LUX_CHECK_INT_EQ(get_long(r), 201);
    stop();
}
