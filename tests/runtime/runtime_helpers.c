/*
 * Shared pieces of the runtime test modules (runtime_helpers.h), and the
 * premain every module runs: worker mode, or (for the daemon tests)
 * `<module> --test-node-daemon LOG_DIR ADDRESS_FILE`, which starts a
 * detached node like `lux start --head`.
 */
#include "runtime_helpers.h"
#include "daemon.h"
#include "test.h"

#include "error.h"
#include "log.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>

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
    /* --test-run-as UID PROGRAM ARGS...: runs PROGRAM as user UID (group
     * UID too), as an unprivileged user would; for tests run as root. */
    if (argc >= 4 && strcmp(argv[1], "--test-run-as") == 0) {
        uid_t uid = (uid_t)atol(argv[2]);
        if (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid(uid) != 0) {
            perror("--test-run-as");
            return 126;
        }
        execv(argv[3], argv + 3);
        perror(argv[3]);
        return 127;
    }
    return lux_worker_main(argc, argv);
}

/* ---- helpers ---- */

void start(double cpus)
{
    lux_init_opts_t o = {0};
    o.num_cpus = cpus;
    o.log_dir = lux_test_tmpdir();
    o.num_prestart = -1;
    LUX_CHECK_OK(lux_init(&o));
}

long get_long(lux_ref_t ref)
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

long arg_long(lux_call_t *call, size_t i)
{
    size_t len;
    const void *p = lux_call_arg(call, i, &len);
    long x = 0;
    if (p != NULL && len == sizeof x)
        memcpy(&x, p, sizeof x);
    return x;
}

int ret_long(lux_call_t *call, long x)
{
    return lux_call_return(call, 0, &x, sizeof x);
}

/* Children of this process that are lux workers (their parent is us). */
int count_children(void)
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

void stop(void)
{
    lux_shutdown();
    LUX_CHECK_INT_EQ(count_children(), 0);
}

/* ---- remote functions and the actor class several modules use ---- */

LUX_REMOTE(add)
{
    return ret_long(call, arg_long(call, 0) + arg_long(call, 1));
}

LUX_REMOTE(getpid_fn)
{
    return ret_long(call, (long)getpid());
}

LUX_REMOTE(sum_bytes)
{
    size_t len;
    const unsigned char *p = lux_call_arg(call, 0, &len);
    long s = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    return ret_long(call, s);
}

LUX_REMOTE(sleep_ms)
{
    long ms = arg_long(call, 0);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return ret_long(call, ms);
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

int return_value_of(lux_call_t *call, lux_ref_t r)
{
    lux_value_t v;
    int rc = lux_get(&r, 1, 30, &v);
    if (rc)
        return lux_call_fail(call, "get: %s", lux_strerror(rc));
    rc = lux_call_return(call, 0, v.data, v.len);
    lux_value_release(&v);
    lux_ref_release(r);
    return rc;
}

/* Submits a child task and returns the placement group it ran in. */
static int child_pg(lux_call_t *call)
{
    lux_ref_t r;
    int rc = lux_submit(&pg_of_task_remote, NULL, 0, NULL, &r);
    if (rc)
        return lux_call_fail(call, "submit: %s", lux_strerror(rc));
    return return_value_of(call, r);
}

LUX_ACTOR_CLASS(counter, counter_init, counter_fini, LUX_METHOD(incr), LUX_METHOD(value),
                LUX_METHOD(crash), LUX_METHOD(pid_method), LUX_METHOD(slow), LUX_METHOD(child_pg));

long call_long(lux_actor_t a, const char *method, const lux_arg_t *args, size_t n)
{
    lux_ref_t r;
    LUX_CHECK_OK(lux_actor_call(a, method, args, n, 1, &r));
    return get_long(r);
}

LUX_REMOTE(pg_of_task)
{
    lux_pg_t pg = lux_current_pg();
    return lux_call_return(call, 0, &pg, sizeof pg);
}

/* Submits a child task and returns the group the child ran in. */
