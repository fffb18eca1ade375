/*
 * Multi-process tests of the runtime: a private node with real worker
 * processes (this executable re-executed in worker mode), covering tasks,
 * objects, actors, resources, placement groups, nested tasks and failures
 * (workers really killed). Each case checks that no worker outlives it.
 */
#include "lux.h"
#include "daemon.h"
#include "nodectl.h"
#include "test.h"

#include "error.h"
#include "log.h"

#include <jansson.h>
#include <zmq.h>

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

/* Worker mode, or (for the daemon test) `runtime_test --test-node-daemon
 * LOG_DIR ADDRESS_FILE`: start a detached node like `lux start --head`. */
int lux_test_premain(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--test-node-daemon") == 0) {
        lux_daemon_opts_t o = {.num_cpus = 2, .log_dir = argv[2], .num_prestart = -1};
        char addr[4096];
        int rc = lux_daemon_start(&o, argv[3], 1, addr, sizeof addr);
        if (rc == 0)
            printf("%s", addr);
        return rc == 0 ? 0 : 1;
    }
    return lux_worker_main(argc, argv);
}

/* ---- helpers ---- */

static void start(double cpus)
{
    lux_init_opts_t o = {0};
    o.num_cpus = cpus;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    LUX_CHECK_OK(lux_init(&o));
}

static long get_long(lux_ref_t ref)
{
    lux_value_t v;
    int rc = lux_get(&ref, 1, 30, &v);
    LUX_CHECK_MSG(rc == 0, "get failed: %s: %s", lux_strerror(rc),
                  v.error ? (const char *)v.data : "");
    LUX_CHECK_INT_EQ(v.len, sizeof(long));
    long x;
    memcpy(&x, v.data, sizeof x);
    lux_value_release(&v);
    lux_ref_release(ref);
    return x;
}

static long arg_long(lux_call_t *call, size_t i)
{
    size_t len;
    const void *p = lux_call_arg(call, i, &len);
    long x = 0;
    if (p != NULL && len == sizeof x)
        memcpy(&x, p, sizeof x);
    return x;
}

static int ret_long(lux_call_t *call, long x)
{
    return lux_call_return(call, 0, &x, sizeof x);
}

/* Children of this process that are lux workers (their parent is us). */
static int count_children(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    char path[300], buf[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof buf, f)) {
            char *rp = strrchr(buf, ')');
            long ppid = 0;
            char st;
            if (rp && sscanf(rp + 2, "%c %ld", &st, &ppid) == 2 && ppid == getpid() && st != 'Z')
                n++;
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

static void stop(void)
{
    lux_shutdown();
    LUX_CHECK_INT_EQ(count_children(), 0);
}

/* ---- remote functions ---- */

LUX_REMOTE(add)
{
    return ret_long(call, arg_long(call, 0) + arg_long(call, 1));
}

LUX_REMOTE(getpid_fn)
{
    return ret_long(call, (long)getpid());
}

LUX_REMOTE(fail_fn)
{
    return lux_call_fail(call, "bad input %ld", arg_long(call, 0));
}

LUX_TEST_T(submit_get_add, 30)
{
    start(2);
    long a = 40, b = 2;
    lux_arg_t args[2] = {lux_arg_value(&a, sizeof a), lux_arg_value(&b, sizeof b)};
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&add_remote, args, 2, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 42);
    /* Runs in another process. */
    LUX_CHECK_OK(lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r));
    long pid = get_long(r);
    LUX_CHECK(pid != (long)getpid() && pid > 0);
    stop();
}

/* Run by workers_start_after_the_binary_is_deleted in a copy of this
 * binary: deletes that copy, then needs new workers. On its own (no
 * LUX_TEST_DELETE_SELF) it just runs the tasks. */
LUX_TEST_T(tasks_run_with_the_binary_deleted, 60)
{
    if (getenv("LUX_TEST_DELETE_SELF") != NULL) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        LUX_CHECK(n > 0);
        self[n] = '\0';
        LUX_CHECK_INT_EQ(unlink(self), 0);
    }
    start(2);
    for (long i = 0; i < 4; i++) {
        long one = 1;
        lux_arg_t args[2] = {lux_arg_value(&i, sizeof i), lux_arg_value(&one, sizeof one)};
        lux_ref_t r;
        LUX_CHECK_OK(lux_submit(&add_remote, args, 2, NULL, &r));
        LUX_CHECK_INT_EQ(get_long(r), i + 1);
    }
    stop();
}

/* Workers run the image of the process that starts them, so replacing or
 * deleting the binary during a run (an upgrade, a rebuild) does not stop
 * new workers from starting. */
LUX_TEST_T(workers_start_after_the_binary_is_deleted, 90)
{
    char self[4096], copy[4200], cmd[8600];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    LUX_CHECK(n > 0);
    self[n] = '\0';
    snprintf(copy, sizeof copy, "%s/runtime_test_copy", lux_test_tmpdir());
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", self, copy);
    LUX_CHECK_INT_EQ(system(cmd), 0);
    char *argv[] = {copy, "--run", "tasks_run_with_the_binary_deleted", NULL};
    char *env[] = {"LUX_TEST_DELETE_SELF=1", NULL};
    char *out = NULL;
    int rc = lux_test_spawn(argv, env, NULL, 60, &out, NULL);
    LUX_CHECK_MSG(rc == 0, "the copy exited %d: %s", rc, out ? out : "");
    LUX_CHECK(access(copy, F_OK) != 0); /* it did delete itself */
    free(out);
}

/* Workers are started from /proc/self/exe, but name themselves as ps,
 * top and pgrep should show them. */
LUX_TEST_T(workers_are_named_lux_worker, 30)
{
    start(1);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r));
    long pid = get_long(r);
    LUX_CHECK(pid > 0 && pid != (long)getpid());
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    LUX_CHECK(f != NULL);
    LUX_CHECK(fgets(comm, sizeof comm, f) != NULL);
    fclose(f);
    LUX_CHECK_STR_EQ(comm, "lux-worker\n");
    stop();
}

LUX_TEST_T(task_error_names_function_and_pid, 30)
{
    start(1);
    long x = 7;
    lux_arg_t arg = lux_arg_value(&x, sizeof x);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&fail_fn_remote, &arg, 1, NULL, &r));
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_ETASK);
    LUX_CHECK_INT_EQ(v.error, LUX_ETASK);
    LUX_CHECK_CONTAINS((const char *)v.data, "fail_fn");
    LUX_CHECK_CONTAINS((const char *)v.data, "bad input 7");
    LUX_CHECK_CONTAINS((const char *)v.data, "pid");
    LUX_CHECK_CONTAINS((const char *)v.data, "worker-");
    lux_value_release(&v);
    lux_ref_release(r);
    stop();
}

/* ---- objects ---- */

LUX_REMOTE(sum_bytes)
{
    size_t len;
    const unsigned char *p = lux_call_arg(call, 0, &len);
    long s = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    return ret_long(call, s);
}

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

LUX_REMOTE(sleep_ms)
{
    long ms = arg_long(call, 0);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return ret_long(call, ms);
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

LUX_REMOTE(multi_ret)
{
    long x = arg_long(call, 0);
    for (int i = 0; i < lux_call_num_returns(call); i++) {
        long y = x * (i + 1);
        lux_call_return(call, i, &y, sizeof y);
    }
    return 0;
}

LUX_TEST_T(num_returns, 30)
{
    start(1);
    long x = 5;
    lux_arg_t a = lux_arg_value(&x, sizeof x);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_returns = 3;
    lux_ref_t r[3];
    LUX_CHECK_OK(lux_submit(&multi_ret_remote, &a, 1, &o, r));
    LUX_CHECK_INT_EQ(get_long(r[2]), 15);
    LUX_CHECK_INT_EQ(get_long(r[0]), 5);
    LUX_CHECK_INT_EQ(get_long(r[1]), 10);
    stop();
}

/* ---- failures ---- */

static char *flag_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", lux_test_tmpdir(), name);
    return path;
}

/* Dies the first time (the flag file does not exist yet), then succeeds. */
LUX_REMOTE(die_once)
{
    size_t len;
    const char *path = lux_call_arg(call, 0, &len);
    long how = arg_long(call, 1);
    char p[512];
    snprintf(p, sizeof p, "%.*s", (int)len, path);
    if (access(p, F_OK) != 0) {
        FILE *f = fopen(p, "w");
        if (f)
            fclose(f);
        if (how == 0)
            raise(SIGKILL);
        if (how == 1)
            raise(SIGSEGV);
        abort();
    }
    return ret_long(call, (long)getpid());
}

LUX_REMOTE(die_always)
{
    long how = lux_call_nargs(call) > 0 ? arg_long(call, 0) : 0;
    if (how == 1)
        raise(SIGSEGV);
    if (how == 2)
        abort();
    raise(SIGKILL);
    return 0;
}

LUX_TEST_T(worker_death_is_retried_on_a_new_worker, 60)
{
    start(1);
    for (long how = 0; how < 3; how++) {
        char name[32];
        snprintf(name, sizeof name, "flag%ld", how);
        const char *p = flag_path(name);
        lux_arg_t args[2] = {lux_arg_str(p), lux_arg_value(&how, sizeof how)};
        lux_ref_t r;
        LUX_CHECK_OK(lux_submit(&die_once_remote, args, 2, NULL, &r));
        long pid = get_long(r);
        LUX_CHECK(pid > 0);
        LUX_CHECK(access(p, F_OK) == 0); /* it did die once */
    }
    stop();
}

LUX_TEST_T(worker_death_without_retries_is_an_error, 60)
{
    start(1);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.max_retries = 0;
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&die_always_remote, NULL, 0, &o, &r));
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EWORKERDIED);
    LUX_CHECK_CONTAINS((const char *)v.data, "die_always");
    LUX_CHECK_CONTAINS((const char *)v.data, "SIGKILL");
    LUX_CHECK_CONTAINS((const char *)v.data, "pid");
    LUX_CHECK_CONTAINS((const char *)v.data, "worker-");
    lux_value_release(&v);
    lux_ref_release(r);
    /* A segfault and an abort are reported as such. */
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer catches the segfault: it exits with status 1, or
     * aborts when ASAN_OPTIONS has abort_on_error=1 (as scripts/test sets). */
    const char *causes[] = {"exited with status 1", "SIGABRT"};
    const char *segv_alt = "SIGABRT";
#else
    const char *causes[] = {"SIGSEGV", "SIGABRT"};
    const char *segv_alt = "SIGSEGV";
#endif
    for (long how = 1; how <= 2; how++) {
        lux_arg_t a = lux_arg_value(&how, sizeof how);
        LUX_CHECK_OK(lux_submit(&die_always_remote, &a, 1, &o, &r));
        LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EWORKERDIED);
        const char *msg = (const char *)v.data;
        LUX_CHECK_MSG(strstr(msg, causes[how - 1]) != NULL ||
                          (how == 1 && strstr(msg, segv_alt) != NULL),
                      "cause of death %ld not reported: %s", how, msg);
        lux_value_release(&v);
        lux_ref_release(r);
    }
    /* Two retries: three deaths, then the error. */
    o.max_retries = 2;
    LUX_CHECK_OK(lux_submit(&die_always_remote, NULL, 0, &o, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EWORKERDIED);
    lux_value_release(&v);
    lux_ref_release(r);
    /* The node still works. */
    long a = 1, b = 2;
    lux_arg_t args[2] = {lux_arg_value(&a, sizeof a), lux_arg_value(&b, sizeof b)};
    LUX_CHECK_OK(lux_submit(&add_remote, args, 2, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 3);
    stop();
}

LUX_REMOTE(flaky)
{
    size_t len;
    const char *path = lux_call_arg(call, 0, &len);
    char q[512];
    snprintf(q, sizeof q, "%.*s", (int)len, path);
    if (access(q, F_OK) != 0) {
        FILE *f = fopen(q, "w");
        if (f)
            fclose(f);
        return lux_call_fail(call, "transient failure");
    }
    return ret_long(call, 99);
}

LUX_TEST_T(retry_exceptions, 30)
{
    start(1);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.retry_exceptions = 1;
    const char *p = flag_path("flaky");
    lux_arg_t a = lux_arg_str(p);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&flaky_remote, &a, 1, &o, &r));
    LUX_CHECK_INT_EQ(get_long(r), 99);
    stop();
}

LUX_TEST_T(infeasible_fails_at_once_busy_waits, 30)
{
    start(2);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_cpus = 64;
    lux_ref_t r;
    LUX_CHECK_ERR(lux_submit(&getpid_fn_remote, NULL, 0, &o, &r), LUX_EINFEASIBLE);
    lux_resource_t custom = {"tpu", 1};
    o.num_cpus = 1;
    o.custom = &custom;
    o.ncustom = 1;
    LUX_CHECK_ERR(lux_submit(&getpid_fn_remote, NULL, 0, &o, &r), LUX_EINFEASIBLE);
    o.ncustom = 0;
    o.num_gpus = 1;
    LUX_CHECK_ERR(lux_submit(&getpid_fn_remote, NULL, 0, &o, &r), LUX_EINFEASIBLE);
    lux_actor_opts_t ao = LUX_ACTOR_OPTS_INIT;
    ao.num_cpus = 3;
    lux_actor_t actor;
    LUX_ACTOR_CLASS_DECLARE(counter);
    LUX_CHECK_ERR(lux_actor_create(&counter_class, NULL, 0, &ao, &actor), LUX_EINFEASIBLE);
    /* Busy (2 CPUs held by sleeping tasks): a third waits, then runs. */
    long ms = 300;
    lux_arg_t a = lux_arg_value(&ms, sizeof ms);
    lux_ref_t s[3];
    for (int i = 0; i < 3; i++)
        LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, NULL, &s[i]));
    double t0 = lux_test_now();
    for (int i = 0; i < 3; i++)
        LUX_CHECK_INT_EQ(get_long(s[i]), 300);
    LUX_CHECK(lux_test_now() - t0 >= 0.55);
    stop();
}

LUX_TEST_T(cancel_queued_and_running, 30)
{
    start(1);
    long ms = 5000;
    lux_arg_t a = lux_arg_value(&ms, sizeof ms);
    lux_ref_t run, queued;
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, NULL, &run));
    LUX_CHECK_OK(lux_submit(&sleep_ms_remote, &a, 1, NULL, &queued));
    unsigned char ready;
    size_t nready;
    LUX_CHECK_OK(lux_wait(&run, 1, 1, 0.3, &ready, &nready));
    LUX_CHECK_OK(lux_cancel(queued, 0));
    LUX_CHECK_ERR(lux_cancel(run, 0), LUX_EBUSY);
    LUX_CHECK_OK(lux_cancel(run, 1));
    lux_value_t v;
    LUX_CHECK_ERR(lux_get(&queued, 1, 5, &v), LUX_ECANCELLED);
    lux_value_release(&v);
    LUX_CHECK_ERR(lux_get(&run, 1, 5, &v), LUX_ECANCELLED);
    lux_value_release(&v);
    lux_ref_release(run);
    lux_ref_release(queued);
    stop();
}

/* ---- actors ---- */

LUX_REMOTE_DECLARE(pg_of_task);

typedef struct {
    long count;
} counter_t;

static int counter_init(lux_call_t *call)
{
    counter_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return lux_call_fail(call, "out of memory");
    c->count = lux_call_nargs(call) > 0 ? arg_long(call, 0) : 0;
    if (c->count < 0) {
        free(c);
        return lux_call_fail(call, "negative start %ld", arg_long(call, 0));
    }
    lux_call_set_self(call, c);
    return 0;
}

static void counter_fini(void *self)
{
    free(self);
}

/* incr(expected_previous): fails if calls ran out of order. */
static int incr(lux_call_t *call)
{
    counter_t *c = lux_call_self(call);
    if (lux_call_nargs(call) > 0 && arg_long(call, 0) != c->count)
        return lux_call_fail(call, "out of order: expected %ld, count %ld", arg_long(call, 0),
                             c->count);
    c->count++;
    return ret_long(call, c->count);
}

static int value(lux_call_t *call)
{
    counter_t *c = lux_call_self(call);
    return ret_long(call, c->count);
}

static int crash(lux_call_t *call)
{
    (void)call;
    raise(SIGKILL);
    return 0;
}

static int pid_method(lux_call_t *call)
{
    return ret_long(call, (long)getpid());
}

static int slow(lux_call_t *call)
{
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    return value(call);
}

/* Submits a child task and returns the placement group it ran in. */
static int child_pg(lux_call_t *call)
{
    lux_ref_t r;
    int rc = lux_submit(&pg_of_task_remote, NULL, 0, NULL, &r);
    if (rc)
        return lux_call_fail(call, "submit: %s", lux_strerror(rc));
    lux_value_t v;
    rc = lux_get(&r, 1, 30, &v);
    if (rc)
        return lux_call_fail(call, "get: %s", lux_strerror(rc));
    rc = lux_call_return(call, 0, v.data, v.len);
    lux_value_release(&v);
    lux_ref_release(r);
    return rc;
}

LUX_ACTOR_CLASS(counter, counter_init, counter_fini, LUX_METHOD(incr), LUX_METHOD(value),
                LUX_METHOD(crash), LUX_METHOD(pid_method), LUX_METHOD(slow), LUX_METHOD(child_pg));

static long call_long(lux_actor_t a, const char *method, const lux_arg_t *args, size_t n)
{
    lux_ref_t r;
    LUX_CHECK_OK(lux_actor_call(a, method, args, n, 1, &r));
    return get_long(r);
}

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
    lux_value_t v;
    rc = lux_get(&r, 1, 30, &v);
    if (rc)
        return lux_call_fail(call, "get: %s", lux_strerror(rc));
    rc = lux_call_return(call, 0, v.data, v.len);
    lux_value_release(&v);
    lux_ref_release(r);
    return rc;
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

LUX_REMOTE(pg_of_task)
{
    lux_pg_t pg = lux_current_pg();
    return lux_call_return(call, 0, &pg, sizeof pg);
}

/* Submits a child task and returns the group the child ran in. */
LUX_REMOTE(spawn_child_pg)
{
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_cpus = 0.5;
    lux_ref_t r;
    int rc = lux_submit(&pg_of_task_remote, NULL, 0, &o, &r);
    if (rc)
        return lux_call_fail(call, "submit: %s", lux_strerror(rc));
    lux_value_t v;
    rc = lux_get(&r, 1, 30, &v);
    if (rc)
        return lux_call_fail(call, "get: %s", lux_strerror(rc));
    rc = lux_call_return(call, 0, v.data, v.len);
    lux_value_release(&v);
    lux_ref_release(r);
    return rc;
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
LUX_REMOTE(fib)
{
    long n = arg_long(call, 0);
    if (n < 2)
        return ret_long(call, n);
    long a = n - 1, b = n - 2;
    lux_arg_t a0 = lux_arg_value(&a, sizeof a), a1 = lux_arg_value(&b, sizeof b);
    lux_ref_t r[2];
    if (lux_submit(&fib_remote, &a0, 1, NULL, &r[0]) ||
        lux_submit(&fib_remote, &a1, 1, NULL, &r[1]))
        return lux_call_fail(call, "submit failed");
    lux_value_t v[2];
    int rc = lux_get(r, 2, 60, v);
    if (rc)
        return lux_call_fail(call, "get failed: %s", lux_strerror(rc));
    long x, y;
    memcpy(&x, v[0].data, sizeof x);
    memcpy(&y, v[1].data, sizeof y);
    lux_value_release(&v[0]);
    lux_value_release(&v[1]);
    lux_refs_release(r, 2);
    return ret_long(call, x + y);
}

LUX_TEST_T(nested_tasks_lend_cpus, 60)
{
    start(1);
    long n = 7; /* depth 6 of blocked parents on one CPU */
    lux_arg_t a = lux_arg_value(&n, sizeof n);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&fib_remote, &a, 1, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 13);
    stop();
}

/* ---- processes ---- */

LUX_TEST_T(worker_logs_capture_output, 30)
{
    start(1);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r));
    long pid = get_long(r);
    (void)pid;
    char *s = lux_node_status_json();
    LUX_CHECK(s != NULL);
    LUX_CHECK_CONTAINS(s, "\"resources_total\"");
    LUX_CHECK_CONTAINS(s, "\"workers\"");
    free(s);
    stop();
    char path[600];
    snprintf(path, sizeof path, "%s/worker-1.log", lux_test_tmpdir());
    LUX_CHECK(access(path, F_OK) == 0);
}

/* The driver is a child process killed with SIGKILL while its workers run;
 * none of them may survive it. */
LUX_TEST_T(killed_driver_leaves_no_workers, 30)
{
    const char *dir = lux_test_tmpdir(); /* made here, so this process removes it */
    int pipefd[2];
    LUX_CHECK(pipe(pipefd) == 0);
    pid_t child = fork();
    LUX_CHECK(child >= 0);
    if (child == 0) {
        close(pipefd[0]);
        lux_init_opts_t o = {0};
        o.num_cpus = 2;
        o.log_dir = dir;
        o.num_prestart = 0;
        if (lux_init(&o) != 0)
            _exit(3);
        long ms = 60000;
        lux_arg_t a = lux_arg_value(&ms, sizeof ms);
        lux_ref_t r[2];
        lux_submit(&sleep_ms_remote, &a, 1, NULL, &r[0]);
        lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r[1]);
        lux_value_t v;
        lux_get(&r[1], 1, 30, &v);
        long pid = 0;
        memcpy(&pid, v.data, sizeof pid);
        if (write(pipefd[1], &pid, sizeof pid) != sizeof pid)
            _exit(4);
        pause();
        _exit(0);
    }
    close(pipefd[1]);
    long wpid = 0;
    LUX_CHECK_INT_EQ(read(pipefd[0], &wpid, sizeof wpid), sizeof wpid);
    close(pipefd[0]);
    LUX_CHECK(wpid > 0);
    LUX_CHECK_INT_EQ(kill((pid_t)wpid, 0), 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* Workers die with the driver (parent-death signal). */
    double t0 = lux_test_now();
    while (kill((pid_t)wpid, 0) == 0 && lux_test_now() - t0 < 5) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    LUX_CHECK_MSG(kill((pid_t)wpid, 0) != 0, "worker %ld survived its driver", wpid);
}

/* ---- stress ---- */

#define STRESS_MOD 1000000007L

/* Returns (x + sum of dependency values) mod STRESS_MOD, and its pid. */
LUX_REMOTE(stress_task)
{
    long acc = arg_long(call, 0);
    for (size_t i = 1; i < lux_call_nargs(call); i++) {
        size_t len;
        const long *p = lux_call_arg(call, i, &len);
        if (p == NULL || len != 2 * sizeof(long))
            return lux_call_fail(call, "dependency %zu has %zu bytes", i, len);
        acc = (acc + p[0]) % STRESS_MOD;
    }
    long out[2] = {acc, (long)getpid()};
    return lux_call_return(call, 0, out, sizeof out);
}

LUX_TEST_T(stress_random_dependencies_and_kills, 120)
{
    const char *scale = getenv("LUX_TEST_TIMEOUT_SCALE");
    long n = scale && atof(scale) > 1 ? 20000 : 100000;
    if (getenv("LUX_STRESS_TASKS"))
        n = atol(getenv("LUX_STRESS_TASKS"));
    start(2);
    lux_ref_t *refs = calloc((size_t)n, sizeof *refs);
    long *expect = calloc((size_t)n, sizeof *expect);
    LUX_CHECK(refs && expect);
    srand(1234);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.max_retries = -1;
    long kills = 0, last_pid = 0;
    for (long i = 0; i < n; i++) {
        lux_arg_t args[4];
        long x = rand() % 1000;
        args[0] = lux_arg_value(&x, sizeof x);
        int ndeps = i < 10 ? 0 : rand() % 4;
        expect[i] = x;
        for (int d = 0; d < ndeps; d++) {
            long j = i - 1 - rand() % (i < 1000 ? i : 1000);
            args[1 + d] = lux_arg_ref(refs[j]);
            expect[i] = (expect[i] + expect[j]) % STRESS_MOD;
        }
        LUX_CHECK_OK(lux_submit(&stress_task_remote, args, (size_t)(1 + ndeps), &o, &refs[i]));
        /* Every so often: look at a recent result and kill the worker that
         * produced it (it may be idle or running a task by now). */
        if (i % 5000 == 4999) {
            lux_value_t v;
            LUX_CHECK_OK(lux_get(&refs[i - 2000], 1, 60, &v));
            long pid = ((const long *)v.data)[1];
            lux_value_release(&v);
            if (pid != last_pid && kill((pid_t)pid, SIGKILL) == 0)
                kills++;
            last_pid = pid;
        }
    }
    /* Check every result, oldest first, releasing as we go. */
    for (long i = 0; i < n; i += 1000) {
        long m = n - i < 1000 ? n - i : 1000;
        lux_value_t v[1000];
        int rc = lux_get(refs + i, (size_t)m, 120, v);
        LUX_CHECK_MSG(rc == 0, "get of tasks %ld..%ld: %s %s", i, i + m, lux_strerror(rc),
                      rc ? (const char *)v[0].data : "");
        for (long k = 0; k < m; k++) {
            LUX_CHECK_INT_EQ(v[k].len, 2 * sizeof(long));
            LUX_CHECK_INT_EQ(((const long *)v[k].data)[0], expect[i + k]);
            lux_value_release(&v[k]);
        }
    }
    lux_refs_release(refs, (size_t)n);
    LUX_CHECK(kills >= n / 5000 / 2);
    fprintf(stderr, "stress: %ld tasks, %ld workers killed\n", n, kills);
    free(refs);
    free(expect);
    stop();
}

/* ---- daemon ---- */

static long json_long(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? atol(p + strlen(pat)) : -1;
}

LUX_TEST_T(daemon_node_shared_by_drivers, 60)
{
    char exe[1024], logs[700], addr_file[700];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    LUX_CHECK(n > 0);
    exe[n] = '\0';
    snprintf(logs, sizeof logs, "%s/logs", lux_test_tmpdir());
    snprintf(addr_file, sizeof addr_file, "%s/node", lux_test_tmpdir());
    char *argv[] = {exe, "--test-node-daemon", logs, addr_file, NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 20, &out, NULL), 0);
    char addr[1024];
    snprintf(addr, sizeof addr, "%s", out);
    addr[strcspn(addr, "\n")] = '\0';
    free(out);
    LUX_CHECK_CONTAINS(addr, "ipc://");
    /* A second daemon on the same address file refuses to start. */
    LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 20, NULL, NULL), 1);

    char *status = NULL;
    LUX_CHECK_OK(lux_nodectl_status(addr, 5, &status));
    long node_pid = json_long(status, "pid");
    free(status);
    LUX_CHECK(node_pid > 0 && node_pid != getpid());

    /* Two drivers: a child process and this one. */
    pid_t child = fork();
    if (child == 0) {
        lux_init_opts_t o = {.address = addr};
        if (lux_init(&o) != 0)
            _exit(2);
        long a = 20, b = 22;
        lux_arg_t args[2] = {lux_arg_value(&a, sizeof a), lux_arg_value(&b, sizeof b)};
        lux_ref_t r;
        lux_value_t v;
        if (lux_submit(&add_remote, args, 2, NULL, &r) || lux_get(&r, 1, 30, &v))
            _exit(3);
        long x;
        memcpy(&x, v.data, sizeof x);
        lux_value_release(&v);
        /* Objects this driver never releases are dropped when it leaves. */
        static char leak[1 << 20];
        lux_ref_t l1, l2;
        if (lux_put(leak, sizeof leak, 5, &l1) || lux_put("small", 5, 5, &l2))
            _exit(5);
        lux_shutdown();
        _exit(x == 42 ? 0 : 4);
    }
    lux_init_opts_t o = {.address = addr};
    LUX_CHECK_OK(lux_init(&o));
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r));
    long worker = get_long(r);
    LUX_CHECK(worker > 0);
    /* Large objects through the daemon's shared memory. */
    size_t big = 1 << 20;
    char *buf = malloc(big);
    memset(buf, 3, big);
    lux_ref_t p;
    LUX_CHECK_OK(lux_put(buf, big, 5, &p));
    lux_arg_t arg = lux_arg_ref(p);
    LUX_CHECK_OK(lux_submit(&sum_bytes_remote, &arg, 1, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 3L * (long)big);
    lux_ref_release(p);
    free(buf);
    lux_actor_t actor;
    LUX_CHECK_OK(lux_actor_create(&counter_class, NULL, 0, NULL, &actor));
    LUX_CHECK_INT_EQ(call_long(actor, "incr", NULL, 0), 1);
    long actor_pid = lux_actor_pid(actor);
    int status_code;
    LUX_CHECK_INT_EQ(waitpid(child, &status_code, 0), child);
    LUX_CHECK_MSG(WIFEXITED(status_code) && WEXITSTATUS(status_code) == 0,
                  "second driver failed: status %d", status_code);
    /* A driver's exit kills its actors. */
    lux_shutdown();
    double t0 = lux_test_now();
    while (kill((pid_t)actor_pid, 0) == 0 && lux_test_now() - t0 < 5)
        usleep(20000);
    LUX_CHECK_MSG(kill((pid_t)actor_pid, 0) != 0, "actor %ld outlived its driver", actor_pid);
    /* Nothing is left in the store. */
    LUX_CHECK_OK(lux_nodectl_status(addr, 5, &status));
    LUX_CHECK_INT_EQ(json_long(status, "used_bytes"), 0);
    LUX_CHECK_INT_EQ(json_long(status, "objects"), 0);
    free(status);
    /* Stop: the node and its workers are gone, and so is the address file. */
    LUX_CHECK_OK(lux_nodectl_stop(addr, 5));
    t0 = lux_test_now();
    while ((kill((pid_t)node_pid, 0) == 0 || kill((pid_t)worker, 0) == 0) &&
           lux_test_now() - t0 < 5)
        usleep(20000);
    LUX_CHECK(kill((pid_t)node_pid, 0) != 0);
    LUX_CHECK(kill((pid_t)worker, 0) != 0);
    LUX_CHECK(access(addr_file, F_OK) != 0);
}

/* Garbage on the node's socket is logged and dropped; the node keeps serving. */
LUX_TEST_T(node_drops_malformed_messages, 30)
{
    start(1);
    char *status = lux_node_status_json();
    LUX_CHECK(status != NULL);
    const char *p = strstr(status, "\"address\":\"");
    LUX_CHECK(p != NULL);
    char addr[1024];
    snprintf(addr, sizeof addr, "%s", p + 11);
    addr[strcspn(addr, "\"")] = '\0';
    free(status);
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/node-stderr.log", lux_test_tmpdir());
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    LUX_CHECK(logfd >= 0);
    lux_log_set_fd(logfd);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 2000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    LUX_CHECK_INT_EQ(zmq_connect(s, addr), 0);
    /* Random bytes, a truncated record, a record of an unknown type, a
     * message in two frames, an EXECUTE from a peer that is no worker. */
    unsigned char junk[256];
    srand(3);
    for (int i = 0; i < 50; i++) {
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (unsigned char)rand();
        zmq_send(s, junk, 1 + (size_t)rand() % sizeof junk, 0);
    }
    unsigned char hdr[8] = {0x4c, 0x58, 1, 3, 200, 0, 0, 0};
    zmq_send(s, hdr, sizeof hdr, 0);
    hdr[3] = 99;
    hdr[4] = 0;
    zmq_send(s, hdr, sizeof hdr, 0);
    zmq_send(s, "ab", 2, ZMQ_SNDMORE);
    zmq_send(s, "cd", 2, 0);
    unsigned char result[8 + 8 + 4 + 8 + 4] = {0x4c, 0x58, 1, 7, 24, 0, 0, 0};
    zmq_send(s, result, sizeof result, 0);
    zmq_close(s);
    zmq_ctx_term(ctx);
    usleep(300000);
    lux_log_set_fd(2);
    close(logfd);
    FILE *f = fopen(logpath, "r");
    LUX_CHECK(f != NULL);
    char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    LUX_CHECK_CONTAINS(text, "malformed message");
    LUX_CHECK_CONTAINS(text, "extra frames");
    long a = 2, b = 3;
    lux_arg_t args[2] = {lux_arg_value(&a, sizeof a), lux_arg_value(&b, sizeof b)};
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&add_remote, args, 2, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 5);
    stop();
}

/* The lux command: start a daemon, show it, stop it. */
LUX_TEST_T(lux_start_cluster_stop, 60)
{
    const char *lux = lux_test_lux_binary();
    LUX_CHECK(lux != NULL);
    char home[700], logs[700], env_home[800];
    snprintf(home, sizeof home, "%s/home", lux_test_tmpdir());
    snprintf(logs, sizeof logs, "%s/logs", lux_test_tmpdir());
    snprintf(env_home, sizeof env_home, "LUX_HOME=%s", home);
    char *env[] = {env_home, NULL};
    char *start_argv[] = {(char *)lux, "start",     "--head", "--num-cpus",
                          "2",         "--log-dir", logs,     NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_spawn(start_argv, env, NULL, 20, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "ipc://");
    free(out);
    char *cluster_argv[] = {(char *)lux, "cluster", NULL};
    LUX_CHECK_INT_EQ(lux_test_spawn(cluster_argv, env, NULL, 20, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "CPU 0/2");
    LUX_CHECK_CONTAINS(out, "object store");
    free(out);
    LUX_CHECK_INT_EQ(lux_test_spawn(start_argv, env, NULL, 20, NULL, NULL), 1);
    char *stop_argv[] = {(char *)lux, "stop", NULL};
    LUX_CHECK_INT_EQ(lux_test_spawn(stop_argv, env, NULL, 20, NULL, NULL), 0);
    LUX_CHECK_INT_EQ(lux_test_spawn(cluster_argv, env, NULL, 20, NULL, NULL), 1);
    LUX_CHECK_INT_EQ(lux_test_spawn(stop_argv, env, NULL, 20, NULL, NULL), 1);
}

LUX_TEST_T(plugin_functions_resolve_in_workers, 30)
{
    LUX_CHECK(lux_remote_find("plugin_triple") == NULL);
    LUX_CHECK_ERR(lux_plugin_load("/nonexistent/plugin.so"), LUX_ENOENT);
    LUX_CHECK_OK(lux_plugin_load(LUX_TEST_PLUGIN));
    const lux_remote_desc_t *fn = lux_remote_find("plugin_triple");
    LUX_CHECK(fn != NULL);
    LUX_CHECK(lux_remote_find("add") == &add_remote);
    LUX_CHECK(lux_actor_class_find("counter") == &counter_class);
    start(1);
    long x = 14;
    lux_arg_t a = lux_arg_value(&x, sizeof x);
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(fn, &a, 1, NULL, &r));
    LUX_CHECK_INT_EQ(get_long(r), 42);
    stop();
}

/* Waits for a ref to appear in a file, then gets it: the ref is of a task
 * submitted after this one, which the node may have sent ahead to this very
 * worker; blocking must hand it back. */
LUX_REMOTE(get_ref_from_file)
{
    size_t len;
    const char *p = lux_call_arg(call, 0, &len);
    char path[600];
    snprintf(path, sizeof path, "%.*s", (int)len, p);
    lux_ref_t ref;
    for (int i = 0; i < 2000; i++) {
        FILE *f = fopen(path, "rb");
        if (f != NULL) {
            size_t n = fread(&ref, 1, sizeof ref, f);
            fclose(f);
            if (n == sizeof ref) {
                lux_value_t v;
                int rc = lux_get(&ref, 1, 30, &v);
                if (rc)
                    return lux_call_fail(call, "get: %s", lux_strerror(rc));
                rc = lux_call_return(call, 0, v.data, v.len);
                lux_value_release(&v);
                return rc;
            }
        }
        usleep(5000);
    }
    return lux_call_fail(call, "no ref in %s", path);
}

LUX_TEST_T(blocked_task_hands_back_tasks_sent_ahead, 30)
{
    lux_init_opts_t o = {0};
    o.num_cpus = 1;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = 0;
    LUX_CHECK_OK(lux_init(&o));
    usleep(300000); /* let the prestarted worker register */
    char path[600], tmp[620];
    snprintf(path, sizeof path, "%s/ref", lux_test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    lux_arg_t a = lux_arg_str(path);
    long x = 4, y = 5;
    lux_arg_t b[2] = {lux_arg_value(&x, sizeof x), lux_arg_value(&y, sizeof y)};
    lux_ref_t outer, inner[4];
    LUX_CHECK_OK(lux_submit(&get_ref_from_file_remote, &a, 1, NULL, &outer));
    for (int i = 0; i < 4; i++)
        LUX_CHECK_OK(lux_submit(&add_remote, b, 2, NULL, &inner[i]));
    FILE *f = fopen(tmp, "wb");
    LUX_CHECK(f != NULL);
    LUX_CHECK_INT_EQ(fwrite(&inner[3], 1, sizeof inner[3], f), sizeof inner[3]);
    fclose(f);
    LUX_CHECK_INT_EQ(rename(tmp, path), 0);
    LUX_CHECK_INT_EQ(get_long(outer), 9);
    for (int i = 0; i < 4; i++)
        LUX_CHECK_INT_EQ(get_long(inner[i]), 9);
    stop();
}

/* A driver that returns from main without lux_shutdown leaves no worker
 * and no files (its private node is stopped at exit). */
LUX_TEST_T(driver_exit_without_shutdown_cleans_up, 30)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%s/node", lux_test_tmpdir());
    int pipefd[2];
    LUX_CHECK(pipe(pipefd) == 0);
    pid_t child = fork();
    LUX_CHECK(child >= 0);
    if (child == 0) {
        close(pipefd[0]);
        lux_init_opts_t o = {0};
        o.num_cpus = 1;
        o.log_dir = dir;
        o.num_prestart = -1;
        if (lux_init(&o) != 0)
            _exit(3);
        lux_ref_t r;
        lux_value_t v;
        if (lux_submit(&getpid_fn_remote, NULL, 0, NULL, &r) || lux_get(&r, 1, 30, &v))
            _exit(4);
        long pid;
        memcpy(&pid, v.data, sizeof pid);
        if (write(pipefd[1], &pid, sizeof pid) != sizeof pid)
            _exit(5);
        exit(0); /* no lux_shutdown */
    }
    close(pipefd[1]);
    long wpid = 0;
    LUX_CHECK_INT_EQ(read(pipefd[0], &wpid, sizeof wpid), sizeof wpid);
    close(pipefd[0]);
    int status;
    LUX_CHECK_INT_EQ(waitpid(child, &status, 0), child);
    LUX_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    double t0 = lux_test_now();
    while (kill((pid_t)wpid, 0) == 0 && lux_test_now() - t0 < 5)
        usleep(20000);
    LUX_CHECK_MSG(kill((pid_t)wpid, 0) != 0, "worker %ld survived its driver", wpid);
    char sock[800];
    snprintf(sock, sizeof sock, "%s/node.sock", dir);
    LUX_CHECK(access(sock, F_OK) != 0);
}

/* {"x": n} -> {"y": 2n, "name": name} */
LUX_REMOTE(json_double)
{
    json_t *in;
    int rc = lux_call_arg_json(call, 0, &in);
    if (rc)
        return lux_call_fail(call, "argument is not JSON");
    json_t *out = json_pack("{s:I, s:O}", "y", 2 * json_integer_value(json_object_get(in, "x")),
                            "name", json_object_get(in, "name"));
    rc = lux_call_return_json(call, 0, out);
    json_decref(out);
    json_decref(in);
    return rc;
}

LUX_TEST_T(json_arguments_and_values, 30)
{
    start(1);
    json_t *cfg = json_pack("{s:i, s:s}", "x", 21, "name", "trial_1");
    lux_arg_t a;
    char *buf;
    LUX_CHECK_OK(lux_arg_json(cfg, &a, &buf));
    lux_ref_t r;
    LUX_CHECK_OK(lux_submit(&json_double_remote, &a, 1, NULL, &r));
    free(buf);
    json_decref(cfg);
    lux_value_t v;
    LUX_CHECK_OK(lux_get(&r, 1, 30, &v));
    json_t *res;
    LUX_CHECK_OK(lux_value_json(&v, &res));
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(res, "y")), 42);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(res, "name")), "trial_1");
    json_decref(res);
    lux_value_release(&v);
    lux_ref_release(r);
    /* Not JSON: the task fails with a clear message. */
    lux_arg_t bad = lux_arg_str("{nope");
    LUX_CHECK_OK(lux_submit(&json_double_remote, &bad, 1, NULL, &r));
    LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_ETASK);
    LUX_CHECK_CONTAINS((const char *)v.data, "not JSON");
    LUX_CHECK_ERR(lux_value_json(&v, &res), LUX_ETASK);
    lux_value_release(&v);
    lux_ref_release(r);
    stop();
}
