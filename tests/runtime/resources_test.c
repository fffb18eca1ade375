/*
 * Resources and placement groups: GPUs assigned and visible, custom and
 * fractional resources, infeasible groups, capture of tasks in a group.
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

/* ---- resources, groups, nesting ---- */

LUX_REMOTE(gpu_fn)
{
    int ids[8];
    int n = lux_gpu_ids(ids, 8);
    const char *env = getenv("CUDA_VISIBLE_DEVICES");
    char buf[64];
    snprintf(buf, sizeof buf, "%d:%s", n, env ? env : "-");
    return lux_call_return(call, 0, buf, strlen(buf) + 1);
}

LUX_TEST_T(gpus_are_assigned_and_visible, 30)
{
    lux_init_opts_t o = {0};
    o.num_cpus = 2;
    o.num_gpus = 2;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    LUX_CHECK_OK(lux_init(&o));
    lux_task_opts_t t = LUX_TASK_OPTS_INIT;
    t.num_gpus = 1;
    t.num_cpus = 0.5;
    lux_ref_t r[2];
    LUX_CHECK_OK(lux_submit(&gpu_fn_remote, NULL, 0, &t, &r[0]));
    t.num_gpus = 2;
    LUX_CHECK_OK(lux_submit(&gpu_fn_remote, NULL, 0, &t, &r[1]));
    lux_value_t v[2];
    LUX_CHECK_OK(lux_get(r, 2, 30, v));
    LUX_CHECK(strcmp(v[0].data, "1:0") == 0 || strcmp(v[0].data, "1:1") == 0);
    LUX_CHECK_STR_EQ((const char *)v[1].data, "2:0,1");
    lux_value_release(&v[0]);
    lux_value_release(&v[1]);
    lux_refs_release(r, 2);
    t.num_gpus = 0;
    LUX_CHECK_OK(lux_submit(&gpu_fn_remote, NULL, 0, &t, &r[0]));
    LUX_CHECK_OK(lux_get(r, 1, 30, v));
    LUX_CHECK_STR_EQ((const char *)v[0].data, "0:-");
    lux_value_release(&v[0]);
    lux_ref_release(r[0]);
    t.num_gpus = 3;
    LUX_CHECK_ERR(lux_submit(&gpu_fn_remote, NULL, 0, &t, &r[0]), LUX_EINFEASIBLE);
    stop();
}

LUX_TEST_T(custom_and_fractional_resources, 30)
{
    lux_resource_t custom = {"slot", 1};
    lux_init_opts_t o = {0};
    o.num_cpus = 1;
    o.custom = &custom;
    o.ncustom = 1;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    LUX_CHECK_OK(lux_init(&o));
    /* Two tasks of "slot": 1 run one after the other, although CPUs allow both. */
    lux_task_opts_t t = LUX_TASK_OPTS_INIT;
    t.num_cpus = 0.25;
    t.custom = &custom;
    t.ncustom = 1;
    long ms = 300;
    lux_arg_t a = lux_arg_value(&ms, sizeof ms);
    lux_ref_t r[2];
    double t0 = lux_test_now();
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, &t, &r[0]));
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, &t, &r[1]));
    get_long(r[0]);
    get_long(r[1]);
    LUX_CHECK(lux_test_now() - t0 >= 0.55);
    /* Four tasks of 0.25 CPU run together on 1 CPU. */
    t.ncustom = 0;
    lux_ref_t q[4];
    t0 = lux_test_now();
    for (int i = 0; i < 4; i++)
        LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, &t, &q[i]));
    for (int i = 0; i < 4; i++)
        get_long(q[i]);
    LUX_CHECK(lux_test_now() - t0 < 1.1);
    stop();
}

LUX_REMOTE(spawn_child_pg)
{
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_cpus = 0.5;
    lux_ref_t r;
    int rc = lux_submit(&pg_of_task_remote, NULL, 0, &o, &r);
    if (rc)
        return lux_call_fail(call, "submit: %s", lux_strerror(rc));
    return return_value_of(call, r);
}

LUX_TEST_T(placement_groups, 60)
{
    start(2);
    lux_bundle_t b[3] = {{.num_cpus = 0.01}, {.num_cpus = 1}, {.num_cpus = 0.5}};
    lux_pg_t pg;
    LUX_CHECK_OK(lux_pg_create(b, 3, LUX_PG_PACK, &pg));
    LUX_CHECK_OK(lux_pg_wait(pg, 10));
    /* A second group that does not fit now waits; removing the first frees it. */
    lux_bundle_t big = {.num_cpus = 1};
    lux_pg_t pg2;
    LUX_CHECK_OK(lux_pg_create(&big, 1, LUX_PG_STRICT_PACK, &pg2));
    LUX_CHECK_ERR(lux_pg_wait(pg2, 0.2), LUX_ETIMEDOUT);
    /* Infeasible groups fail at once. */
    lux_pg_t bad;
    lux_bundle_t huge = {.num_cpus = 8};
    LUX_CHECK_ERR(lux_pg_create(&huge, 1, LUX_PG_PACK, &bad), LUX_EINFEASIBLE);
    lux_bundle_t two[2] = {{.num_cpus = 0.1}, {.num_cpus = 0.1}};
    LUX_CHECK_ERR(lux_pg_create(two, 2, LUX_PG_STRICT_SPREAD, &bad), LUX_EINFEASIBLE);
    /* A task in bundle 1, and a task that asks more than its bundle. */
    lux_task_opts_t t = LUX_TASK_OPTS_INIT;
    t.pg = pg;
    t.bundle_index = 1;
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&pg_of_task_remote, NULL, 0, &t, &r));
    lux_value_t v;
    LUX_CHECK_OK(lux_get(&r, 1, 30, &v));
    LUX_CHECK(memcmp(v.data, &pg, sizeof pg) == 0);
    lux_value_release(&v);
    lux_ref_release(r);
    t.bundle_index = 0;
    LUX_CHECK_OK(lux_submit(&pg_of_task_remote, NULL, 0, &t, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EINFEASIBLE);
    lux_value_release(&v);
    lux_ref_release(r);
    /* Child tasks of a task in a group run in the group by default. */
    t.bundle_index = 1;
    LUX_CHECK_OK(lux_submit(&spawn_child_pg_remote, NULL, 0, &t, &r));
    LUX_CHECK_OK(lux_get(&r, 1, 30, &v));
    LUX_CHECK(memcmp(v.data, &pg, sizeof pg) == 0);
    lux_value_release(&v);
    lux_ref_release(r);
    /* An actor in the trainer bundle. */
    lux_actor_opts_t ao = LUX_ACTOR_OPTS_INIT;
    ao.num_cpus = 0.01;
    ao.pg = pg;
    ao.bundle_index = 0;
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, NULL, 0, &ao, &actor));
    LUX_CHECK_INT_EQ(call_long(actor, "incr", NULL, 0), 1);
    /* A trainer actor's rollouts run in its group without naming it (the
     * child asks 1 CPU: only bundle 1 can hold it). */
    LUX_CHECK_OK(lux_actor_call(actor, "child_pg", NULL, 0, 1, &r));
    LUX_CHECK_OK(lux_get(&r, 1, 30, &v));
    LUX_CHECK(memcmp(v.data, &pg, sizeof pg) == 0);
    lux_value_release(&v);
    lux_ref_release(r);
    LUX_CHECK_OK(lux_pg_remove(pg));
    LUX_CHECK_OK(lux_pg_wait(pg2, 10));
    /* Its actor went with it. */
    LUX_CHECK_OK(lux_actor_call(actor, "value", NULL, 0, 1, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EACTORDIED);
    lux_value_release(&v);
    lux_ref_release(r);
    LUX_CHECK_ERR(lux_pg_remove(pg), LUX_ENOENT);
    LUX_CHECK_OK(lux_pg_remove(pg2));
    stop();
}

/* fib(n) by nested tasks: a fan-out far deeper than the CPUs. */
