/*
 * Tasks with real worker processes: submit and get, errors, several
 * returns, nested tasks that lend their CPU, tasks sent ahead handed back,
 * plugins, JSON values, workers started after the binary is deleted.
 * Each case starts its own node and checks that no worker outlives it.
 */
#include "runtime_helpers.h"
#include "test.h"

#include "error.h"
#include "log.h"

#include <jansson.h>

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
