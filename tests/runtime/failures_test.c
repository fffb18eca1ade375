/*
 * Failures with real processes: workers killed, segfaulting and aborting,
 * retries, infeasible requests, cancellation, worker logs, a killed driver,
 * a driver that exits without lux_shutdown, and a stress test of random
 * dependencies while workers are killed.
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
    if (how == 3)
        raise(SIGINT);
    if (how == 4)
        raise(SIGTERM);
    if (how == 5)
        raise(SIGRTMIN + 2);
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

/* A worker's death names its signal as a user knows it (SIGINT, not
 * "signal 2"), with the C library's description. */
LUX_TEST_T(worker_death_names_the_signal, 60)
{
    start(1);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.max_retries = 0;
    char rt[64];
    snprintf(rt, sizeof rt, "killed by signal %d;", SIGRTMIN + 2);
    const struct {
        long how;
        const char *cause;
    } cases[] = {{0, "killed by SIGKILL (Killed);"},
                 {3, "killed by SIGINT (Interrupt);"},
                 {4, "killed by SIGTERM (Terminated);"},
                 {5, rt}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lux_arg_t a = lux_arg_value(&cases[i].how, sizeof cases[i].how);
        lux_ref_t r;
        lux_value_t v;
        LUX_CHECK_OK(lux_submit(&die_always_remote, &a, 1, &o, &r));
        LUX_CHECK_ERR(lux_get(&r, 1, 30, &v), LUX_EWORKERDIED);
        LUX_CHECK_CONTAINS((const char *)v.data, cases[i].cause);
        lux_value_release(&v);
        lux_ref_release(r);
    }
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
