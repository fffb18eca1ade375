/*
 * `lux bench runtime`: the runtime's figures under the names of Ray's
 * microbenchmark (ray/_private/ray_perf.py), measured against a private
 * node of this process. Each figure is the median of --repeats runs of
 * about --seconds each; the report also gives the p50/p99 latency of a sync
 * task, the memcpy bandwidth (the physical limit for put) and the node's
 * RSS after --queued no-op tasks were queued at once and completed.
 */
#include "bench.h"
#include "cli.h"
#include "lux.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <zmq.h>

LUX_REMOTE(bench_noop)
{
    (void)call;
    return 0;
}

static int bench_actor_init(lux_call_t *call)
{
    static int dummy;
    lux_call_set_self(call, &dummy);
    return 0;
}

static int bench_actor_noop(lux_call_t *call)
{
    (void)call;
    return 0;
}

LUX_ACTOR_CLASS(bench_actor, bench_actor_init, NULL, LUX_METHOD(bench_actor_noop));

/* A client task: submits n no-op tasks (or calls on a given actor) and
 * waits for them all. Args: n, [actor]. */
LUX_REMOTE(bench_client)
{
    long n = 0;
    size_t len;
    const void *p = lux_call_arg(call, 0, &len);
    if (p == NULL || len != sizeof n)
        return lux_call_fail(call, "bad argument");
    memcpy(&n, p, sizeof n);
    lux_actor_t actor;
    int use_actor = 0;
    if (lux_call_nargs(call) > 1) {
        p = lux_call_arg(call, 1, &len);
        if (len != sizeof actor)
            return lux_call_fail(call, "bad actor");
        memcpy(&actor, p, sizeof actor);
        use_actor = 1;
    }
    lux_ref_t *refs = malloc((size_t)n * sizeof *refs);
    lux_value_t *vals = malloc((size_t)n * sizeof *vals);
    if (refs == NULL || vals == NULL) {
        free(refs);
        free(vals);
        return lux_call_fail(call, "out of memory");
    }
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_cpus = 0.01;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++)
        rc = use_actor ? lux_actor_call(actor, "bench_actor_noop", NULL, 0, 1, &refs[i])
                       : lux_submit(&bench_noop_remote, NULL, 0, &o, &refs[i]);
    if (rc == 0)
        rc = lux_get(refs, (size_t)n, 120, vals);
    if (rc == 0)
        for (long i = 0; i < n; i++)
            lux_value_release(&vals[i]);
    lux_refs_release(refs, (size_t)n);
    free(refs);
    free(vals);
    return rc ? lux_call_fail(call, "%s", lux_strerror(rc)) : 0;
}

typedef struct {
    double seconds;
    long repeats;
    const char *failed;
} cfg_t;

static int check(cfg_t *c, int rc, const char *what)
{
    if (rc != 0 && c->failed == NULL) {
        fprintf(stderr, "lux bench runtime: %s failed: %s\n", what, lux_strerror(rc));
        c->failed = what;
    }
    return rc;
}

/* Runs fn(batch) repeatedly for about c->seconds; returns operations/s. */
typedef long (*op_fn)(cfg_t *c, long batch, void *arg);

static double rate(cfg_t *c, op_fn fn, long batch, void *arg)
{
    double t0 = lux_bench_now(), t;
    long ops = 0;
    do {
        ops += fn(c, batch, arg);
        t = lux_bench_now();
    } while (t - t0 < c->seconds && c->failed == NULL);
    return (double)ops / (t - t0);
}

static void measure(cfg_t *c, json_t *report, const char *name, op_fn fn, long batch, void *arg,
                    const char *unit)
{
    double runs[64];
    long n = c->repeats > 64 ? 64 : c->repeats;
    fn(c, batch > 10 ? 10 : batch, arg); /* warm up */
    for (long r = 0; r < n; r++)
        runs[r] = rate(c, fn, batch, arg);
    if (c->failed == NULL)
        lux_bench_add_runs(report, name, runs, (size_t)n, unit);
    fprintf(stderr, "%-34s %12.0f %s\n", name, lux_bench_median(runs, (size_t)n), unit);
}

static long tasks_sync(cfg_t *c, long batch, void *arg)
{
    (void)arg;
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    for (long i = 0; i < batch; i++) {
        lux_ref_t r;
        lux_value_t v;
        if (check(c, lux_submit(&bench_noop_remote, NULL, 0, &o, &r), "submit") ||
            check(c, lux_get(&r, 1, 60, &v), "get"))
            return i;
        lux_value_release(&v);
        lux_ref_release(r);
    }
    return batch;
}

static long get_all(cfg_t *c, lux_ref_t *refs, long n)
{
    lux_value_t *vals = malloc((size_t)n * sizeof *vals);
    if (vals == NULL || check(c, lux_get(refs, (size_t)n, 120, vals), "get")) {
        free(vals);
        return 0;
    }
    for (long i = 0; i < n; i++)
        lux_value_release(&vals[i]);
    lux_refs_release(refs, (size_t)n);
    free(vals);
    return n;
}

static long tasks_async(cfg_t *c, long batch, void *arg)
{
    (void)arg;
    lux_ref_t *refs = malloc((size_t)batch * sizeof *refs);
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    for (long i = 0; i < batch; i++)
        if (check(c, lux_submit(&bench_noop_remote, NULL, 0, &o, &refs[i]), "submit"))
            return free(refs), 0;
    long n = get_all(c, refs, batch);
    free(refs);
    return n;
}

typedef struct {
    int nclients;
    lux_actor_t *actors; /* NULL: clients submit tasks */
} clients_t;

static long multi_client(cfg_t *c, long batch, void *arg)
{
    clients_t *cl = arg;
    lux_ref_t refs[16];
    long per = batch / cl->nclients;
    lux_task_opts_t o = LUX_TASK_OPTS_INIT;
    o.num_cpus = 0.01;
    for (int k = 0; k < cl->nclients; k++) {
        lux_arg_t args[2] = {lux_arg_value(&per, sizeof per), {0}};
        if (cl->actors)
            args[1] = lux_arg_value(&cl->actors[k], sizeof cl->actors[k]);
        if (check(c, lux_submit(&bench_client_remote, args, cl->actors ? 2 : 1, &o, &refs[k]),
                  "submit"))
            return 0;
    }
    return get_all(c, refs, cl->nclients) ? per * cl->nclients : 0;
}

static long actor_sync(cfg_t *c, long batch, void *arg)
{
    lux_actor_t *a = arg;
    for (long i = 0; i < batch; i++) {
        lux_ref_t r;
        lux_value_t v;
        if (check(c, lux_actor_call(*a, "bench_actor_noop", NULL, 0, 1, &r), "call") ||
            check(c, lux_get(&r, 1, 60, &v), "get"))
            return i;
        lux_value_release(&v);
        lux_ref_release(r);
    }
    return batch;
}

typedef struct {
    lux_actor_t *actors;
    int n;
    int window; /* 0: all at once; else keep at most window calls in flight */
} actors_t;

static long actor_async(cfg_t *c, long batch, void *arg)
{
    actors_t *as = arg;
    lux_ref_t *refs = malloc((size_t)batch * sizeof *refs);
    for (long i = 0; i < batch; i++)
        if (check(c,
                  lux_actor_call(as->actors[i % as->n], "bench_actor_noop", NULL, 0, 1, &refs[i]),
                  "call"))
            return free(refs), 0;
    long n = get_all(c, refs, batch);
    free(refs);
    return n;
}

/* Calls kept `window` deep: a new call as soon as one returns (lux_wait). */
static long actor_concurrent(cfg_t *c, long batch, void *arg)
{
    actors_t *as = arg;
    int w = as->window;
    lux_ref_t *refs = malloc((size_t)w * sizeof *refs);
    unsigned char *ready = malloc((size_t)w);
    long done = 0, issued = 0;
    for (int i = 0; i < w; i++, issued++)
        check(c, lux_actor_call(as->actors[0], "bench_actor_noop", NULL, 0, 1, &refs[i]), "call");
    while (done < batch && c->failed == NULL) {
        size_t nready;
        if (check(c, lux_wait(refs, (size_t)w, 1, 60, ready, &nready), "wait"))
            break;
        for (int i = 0; i < w; i++) {
            if (!ready[i])
                continue;
            lux_ref_release(refs[i]);
            done++;
            check(c, lux_actor_call(as->actors[0], "bench_actor_noop", NULL, 0, 1, &refs[i]),
                  "call");
            issued++;
        }
    }
    get_all(c, refs, w);
    free(refs);
    free(ready);
    return done;
}

static long get_calls(cfg_t *c, long batch, void *arg)
{
    lux_ref_t *r = arg;
    for (long i = 0; i < batch; i++) {
        lux_value_t v;
        if (check(c, lux_get(r, 1, 10, &v), "get"))
            return i;
        lux_value_release(&v);
    }
    return batch;
}

static long put_calls(cfg_t *c, long batch, void *arg)
{
    (void)arg;
    lux_ref_t *refs = malloc((size_t)batch * sizeof *refs);
    long x = 0;
    for (long i = 0; i < batch; i++) {
        x = i;
        if (check(c, lux_put(&x, sizeof x, 10, &refs[i]), "put"))
            return free(refs), i;
    }
    lux_refs_release(refs, (size_t)batch);
    free(refs);
    return batch;
}

typedef struct {
    void *buf;
    size_t size;
} putbig_t;

static long put_gigabytes(cfg_t *c, long batch, void *arg)
{
    putbig_t *p = arg;
    for (long i = 0; i < batch; i++) {
        lux_ref_t r;
        if (check(c, lux_put(p->buf, p->size, 30, &r), "put"))
            return 0;
        lux_ref_release(r);
    }
    return batch; /* objects; converted to GB/s by the caller */
}

static long wait_1k(cfg_t *c, long batch, void *arg)
{
    lux_ref_t *refs = arg;
    static unsigned char ready[1000];
    for (long i = 0; i < batch; i++) {
        size_t n;
        if (check(c, lux_wait(refs, 1000, 1000, 10, ready, &n), "wait"))
            return i;
    }
    return batch;
}

static long pg_create_remove(cfg_t *c, long batch, void *arg)
{
    (void)arg;
    lux_bundle_t b = {.num_cpus = 0.01};
    for (long i = 0; i < batch; i++) {
        lux_pg_t pg;
        if (check(c, lux_pg_create(&b, 1, LUX_PG_PACK, &pg), "pg_create") ||
            check(c, lux_pg_remove(pg), "pg_remove"))
            return i;
    }
    return batch;
}

static double memcpy_gbps(void)
{
    size_t size = 256u << 20;
    char *src = malloc(size), *dst = malloc(size);
    if (src == NULL || dst == NULL) {
        free(src);
        free(dst);
        return 0;
    }
    memset(src, 1, size);
    memset(dst, 2, size);
    double runs[5];
    for (int r = 0; r < 5; r++) {
        double t0 = lux_bench_now();
        memcpy(dst, src, size);
        runs[r] = (double)size / (lux_bench_now() - t0) / 1e9;
        src[r] ^= dst[size - 1 - (size_t)r];
    }
    free(src);
    free(dst);
    return lux_bench_median(runs, 5);
}

/* The floor under a sync call: median round trip of one small message
 * between two processes over ZeroMQ ipc (a forked echo process), and
 * between two threads over inproc, measured now, on this machine's load. */
static void *echo_thread(void *arg)
{
    void *s = arg;
    char buf[64];
    for (;;) {
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n < 0 || (n == 1 && buf[0] == 'q'))
            break;
        zmq_send(s, buf, (size_t)n, 0);
    }
    return NULL;
}

static double zmq_rtt_us(const char *transport)
{
    enum { N = 3000 };
    static double lat[N];
    char ep[256];
    int ipc = strcmp(transport, "ipc") == 0;
    if (ipc)
        snprintf(ep, sizeof ep, "ipc://%s/lux-bench-%ld.sock",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    else
        snprintf(ep, sizeof ep, "inproc://lux-bench-echo");
    pid_t child = -1;
    pthread_t th;
    void *ctx = NULL, *s = NULL, *peer_ctx = NULL, *peer = NULL;
    if (ipc) {
        fflush(NULL);
        child = fork();
        if (child == 0) {
            void *c = zmq_ctx_new(), *p = zmq_socket(c, ZMQ_PAIR);
            zmq_bind(p, ep);
            echo_thread(p);
            zmq_close(p);
            zmq_ctx_term(c);
            _exit(0);
        }
        ctx = zmq_ctx_new();
        s = zmq_socket(ctx, ZMQ_PAIR);
        zmq_connect(s, ep);
    } else {
        ctx = zmq_ctx_new();
        peer = zmq_socket(ctx, ZMQ_PAIR);
        zmq_bind(peer, ep);
        s = zmq_socket(ctx, ZMQ_PAIR);
        zmq_connect(s, ep);
        pthread_create(&th, NULL, echo_thread, peer);
    }
    (void)peer_ctx;
    char buf[64] = "ping";
    for (int i = 0; i < N + 200; i++) {
        double t0 = lux_bench_now();
        zmq_send(s, buf, 32, 0);
        zmq_recv(s, buf, sizeof buf, 0);
        if (i >= 200)
            lat[i - 200] = (lux_bench_now() - t0) * 1e6;
    }
    zmq_send(s, "q", 1, 0);
    if (ipc) {
        waitpid(child, NULL, 0);
        unlink(ep + 6);
    } else {
        pthread_join(th, NULL);
        zmq_close(peer);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return lux_bench_median(lat, N);
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * 4096;
}

int lux_bench_runtime(int argc, char **argv)
{
    double seconds = 1.0;
    long repeats = 3, queued = 1000000, cpus = 0;
    const char *only = NULL;
    const lux_opt_t opts[] = {
        {"--seconds", NULL, LUX_OPT_DOUBLE, &seconds}, {"--repeats", NULL, LUX_OPT_INT, &repeats},
        {"--queued", NULL, LUX_OPT_INT, &queued},      {"--num-cpus", NULL, LUX_OPT_INT, &cpus},
        {"--only", NULL, LUX_OPT_STRING, &only},
    };
    if (lux_cli_parse("bench runtime", argc, argv, opts, 5, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (seconds <= 0 || repeats < 1 || repeats > 64 || queued < 0)
        return lux_cli_usage_error("bench runtime",
                                   "--seconds must be > 0, --repeats 1..64, --queued >= 0");
    lux_init_opts_t io = {0};
    io.num_cpus = (double)cpus;
    int rc = lux_init(&io);
    if (rc != 0) {
        fprintf(stderr, "lux bench runtime: cannot start the runtime: %s\n", lux_strerror(rc));
        return LUX_EXIT_FAILURE;
    }
    cfg_t c = {seconds, repeats, NULL};
    json_t *report = lux_bench_report_new("runtime");
#define WANT(name) (only == NULL || strstr(only, name) != NULL)

    double ipc_rtt = zmq_rtt_us("ipc"), inproc_rtt = zmq_rtt_us("inproc");
    lux_bench_add_value(report, "zmq_ipc_round_trip_p50_us", ipc_rtt);
    lux_bench_add_value(report, "zmq_inproc_round_trip_p50_us", inproc_rtt);
    fprintf(stderr, "floor: zmq ipc round trip %.1f us, inproc %.1f us (median)\n", ipc_rtt,
            inproc_rtt);
    /* Latency of a sync task. */
    if (WANT("latency")) {
        enum { N = 2000 };
        static double lat[N];
        lux_task_opts_t o = LUX_TASK_OPTS_INIT;
        for (int i = 0; i < N + 100 && c.failed == NULL; i++) {
            double t0 = lux_bench_now();
            lux_ref_t r;
            lux_value_t v;
            if (check(&c, lux_submit(&bench_noop_remote, NULL, 0, &o, &r), "submit") ||
                check(&c, lux_get(&r, 1, 60, &v), "get"))
                break;
            lux_value_release(&v);
            lux_ref_release(r);
            if (i >= 100)
                lat[i - 100] = (lux_bench_now() - t0) * 1e6;
        }
        lux_bench_add_value(report, "sync_task_latency_p50_us", lux_bench_quantile(lat, N, 0.5));
        lux_bench_add_value(report, "sync_task_latency_p99_us", lux_bench_quantile(lat, N, 0.99));
        double sum = 0, max = 0;
        for (int i = 0; i < N; i++) {
            sum += lat[i];
            max = lat[i] > max ? lat[i] : max;
        }
        /* Under load, rare long stalls (a thread waiting for a core) drive
         * the mean, and so the sync rates, far from the median. */
        lux_bench_add_value(report, "sync_task_latency_mean_us", sum / N);
        lux_bench_add_value(report, "sync_task_latency_max_us", max);
        double load[3] = {0, 0, 0};
        if (getloadavg(load, 3) > 0)
            lux_bench_add_value(report, "load_average_1min", load[0]);
        fprintf(stderr, "sync task latency p50 %.1f us, p99 %.1f us, mean %.1f us, max %.0f us\n",
                lux_bench_quantile(lat, N, 0.5), lux_bench_quantile(lat, N, 0.99), sum / N, max);
    }
    if (WANT("single_client_tasks_sync"))
        measure(&c, report, "single_client_tasks_sync", tasks_sync, 500, NULL, "tasks/s");
    if (WANT("single_client_tasks_async"))
        measure(&c, report, "single_client_tasks_async", tasks_async, 10000, NULL, "tasks/s");
    if (WANT("multi_client_tasks_async")) {
        clients_t cl = {2, NULL};
        measure(&c, report, "multi_client_tasks_async", multi_client, 10000, &cl, "tasks/s");
    }
    lux_actor_opts_t ao = LUX_ACTOR_OPTS_INIT;
    ao.num_cpus = 0.01;
    lux_actor_t actors[4];
    for (int i = 0; i < 4; i++)
        check(&c, lux_actor_create(&bench_actor_class, NULL, 0, &ao, &actors[i]), "actor");
    if (WANT("1_1_actor_calls_sync"))
        measure(&c, report, "1_1_actor_calls_sync", actor_sync, 500, &actors[0], "calls/s");
    if (WANT("1_1_actor_calls_async")) {
        actors_t as = {actors, 1, 0};
        measure(&c, report, "1_1_actor_calls_async", actor_async, 10000, &as, "calls/s");
    }
    if (WANT("1_1_actor_calls_concurrent")) {
        actors_t as = {actors, 1, 100};
        measure(&c, report, "1_1_actor_calls_concurrent", actor_concurrent, 10000, &as, "calls/s");
    }
    if (WANT("1_n_actor_calls_async")) {
        actors_t as = {actors, 4, 0};
        measure(&c, report, "1_n_actor_calls_async", actor_async, 10000, &as, "calls/s");
    }
    if (WANT("n_n_actor_calls_async")) {
        clients_t cl = {2, actors};
        measure(&c, report, "n_n_actor_calls_async", multi_client, 10000, &cl, "calls/s");
    }
    for (int i = 0; i < 4; i++)
        lux_actor_kill(actors[i], 1);
    if (WANT("single_client_get_calls")) {
        lux_ref_t r;
        long x = 1;
        check(&c, lux_put(&x, sizeof x, 10, &r), "put");
        measure(&c, report, "single_client_get_calls", get_calls, 1000, &r, "calls/s");
        lux_ref_release(r);
    }
    if (WANT("single_client_put_calls"))
        measure(&c, report, "single_client_put_calls", put_calls, 10000, NULL, "calls/s");
    double mbw = WANT("memcpy") || WANT("single_client_put_gigabytes") ? memcpy_gbps() : 0;
    if (WANT("single_client_put_gigabytes")) {
        putbig_t p = {NULL, 100u << 20};
        p.buf = malloc(p.size);
        if (p.buf != NULL) {
            memset(p.buf, 7, p.size);
            double runs[64];
            long n = repeats;
            put_gigabytes(&c, 2, &p);
            for (long r = 0; r < n; r++)
                runs[r] = rate(&c, put_gigabytes, 5, &p) * (double)p.size / 1e9;
            lux_bench_add_runs(report, "single_client_put_gigabytes", runs, (size_t)n, "GB/s");
            fprintf(stderr, "%-34s %12.2f GB/s (memcpy %.2f GB/s)\n", "single_client_put_gigabytes",
                    lux_bench_median(runs, (size_t)n), mbw);
            free(p.buf);
        }
    }
    if (mbw > 0)
        lux_bench_add_value(report, "memcpy_gigabytes_per_s", mbw);
    if (WANT("single_client_wait_1k_refs")) {
        static lux_ref_t refs[1000];
        for (long i = 0; i < 1000; i++)
            check(&c, lux_put(&i, sizeof i, 10, &refs[i]), "put");
        measure(&c, report, "single_client_wait_1k_refs", wait_1k, 10, refs, "calls/s");
        lux_refs_release(refs, 1000);
    }
    if (WANT("placement_group_create_removal"))
        measure(&c, report, "placement_group_create_removal", pg_create_remove, 200, NULL,
                "groups/s");
    if (WANT("queued") && queued > 0) {
        lux_ref_t *refs = malloc((size_t)queued * sizeof *refs);
        lux_task_opts_t o = LUX_TASK_OPTS_INIT;
        long rss0 = rss_bytes(), peak = rss0;
        double t0 = lux_bench_now();
        for (long i = 0; refs && i < queued && c.failed == NULL; i++) {
            check(&c, lux_submit(&bench_noop_remote, NULL, 0, &o, &refs[i]), "submit");
            if (i % 100000 == 0 && rss_bytes() > peak)
                peak = rss_bytes();
        }
        double t_submit = lux_bench_now() - t0;
        /* Wait in slices so that RSS is sampled while the queue drains. */
        long done = 0;
        for (long i = 0; refs && i < queued && c.failed == NULL; i += 10000) {
            long n = queued - i < 10000 ? queued - i : 10000;
            done += get_all(&c, refs + i, n);
            long r = rss_bytes();
            if (r > peak)
                peak = r;
        }
        double t_all = lux_bench_now() - t0;
        json_t *q = json_object();
        json_object_set_new(q, "tasks", json_integer(queued));
        json_object_set_new(q, "completed", json_integer(done));
        json_object_set_new(q, "submit_seconds", json_real(t_submit));
        json_object_set_new(q, "total_seconds", json_real(t_all));
        json_object_set_new(q, "node_peak_rss_bytes", json_integer(peak));
        json_object_set_new(q, "node_rss_before_bytes", json_integer(rss0));
        json_object_set_new(json_object_get(report, "results"), "queued_noop_tasks", q);
        fprintf(stderr, "%ld queued no-op tasks: %ld done in %.1f s, peak RSS %.0f MB\n", queued,
                done, t_all, (double)peak / 1e6);
        free(refs);
    }
    lux_shutdown();
    rc = lux_bench_print(report);
    json_decref(report);
    if (c.failed != NULL)
        return LUX_EXIT_FAILURE;
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
