/*
 * Multi-process tests of the runtime: a private node with real worker
 * processes (this executable re-executed in worker mode), covering tasks,
 * objects, actors, resources, placement groups, nested tasks and failures
 * (workers really killed). Each case checks that no worker outlives it.
 */
#include "lux.h"
#include "test.h"

#include "error.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int lux_test_premain(int argc, char **argv)
{
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
