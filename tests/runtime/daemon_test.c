/*
 * The node as a daemon and its control: drivers sharing a `lux start`
 * node, garbage on its socket, and the lux start / cluster / stop commands
 * run through the real binary, including a bad address file and a
 * --listen on TCP (refused).
 * Each case starts its own node and checks that no worker outlives it.
 */
#include "runtime_helpers.h"
#include "test.h"

#include "error.h"
#include "log.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nodectl.h"

#include <jansson.h>
#include <zmq.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

/* A private $LUX_HOME and $TMPDIR for the lux command, and no LUX_ADDRESS
 * from the environment of the tests. */
typedef struct {
    char home[700], logs[700], address_file[720];
    char env_home[800], env_tmp[800];
    char *env[4];
} lux_env_t;

static void lux_env_init(lux_env_t *e)
{
    snprintf(e->home, sizeof e->home, "%s/home", lux_test_tmpdir());
    snprintf(e->logs, sizeof e->logs, "%s/logs", lux_test_tmpdir());
    snprintf(e->address_file, sizeof e->address_file, "%s/node", e->home);
    snprintf(e->env_home, sizeof e->env_home, "LUX_HOME=%s", e->home);
    snprintf(e->env_tmp, sizeof e->env_tmp, "TMPDIR=%s", lux_test_tmpdir());
    e->env[0] = e->env_home;
    e->env[1] = e->env_tmp;
    e->env[2] = "LUX_ADDRESS=";
    e->env[3] = NULL;
}

/* The lux command: start a daemon, show it, stop it. */
LUX_TEST_T(lux_start_cluster_stop, 60)
{
    lux_env_t e;
    lux_env_init(&e);
    const char *start_args[] = {"start", "--head", "--num-cpus", "2", "--log-dir", e.logs, NULL};
    const char *cluster_args[] = {"cluster", NULL};
    const char *stop_args[] = {"stop", NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(start_args, e.env, 20, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "ipc://");
    free(out);
    LUX_CHECK_INT_EQ(lux_test_lux(cluster_args, e.env, 20, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "CPU 0/2");
    LUX_CHECK_CONTAINS(out, "object store");
    free(out);
    LUX_CHECK_INT_EQ(lux_test_lux(start_args, e.env, 20, NULL, NULL), 1);
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 0);
    LUX_CHECK_INT_EQ(lux_test_lux(cluster_args, e.env, 20, NULL, NULL), 1);
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 1);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    LUX_CHECK(f != NULL);
    LUX_CHECK_INT_EQ(fwrite(data, 1, len, f), len);
    LUX_CHECK_INT_EQ(fclose(f), 0);
}

/* An address file that is empty (a crash while writing it, a full disk) or
 * holds garbage is reported as such, naming the file, by every command that
 * reads it, and by lux_init("auto"); nothing crashes. */
LUX_TEST_T(address_file_empty_or_garbage_is_a_clear_error, 60)
{
    lux_env_t e;
    lux_env_init(&e);
    LUX_CHECK_INT_EQ(mkdir(e.home, 0700), 0);
    static char long_line[10000];
    memset(long_line, 'x', sizeof long_line - 1);
    memcpy(long_line, "ipc://", 6);
    const struct {
        const char *what;
        const char *data;
        size_t len;
    } files[] = {
        {"empty", "", 0},
        {"only a newline", "\n", 1},
        {"text", "hello world\n", 12},
        {"binary", "\x01\xff\x00\x7f", 4},
        {"no endpoint after the scheme", "ipc://\n", 7},
        {"a line longer than any address", long_line, sizeof long_line - 1},
    };
    const char *cmds[][2] = {{"stop", NULL}, {"cluster", NULL}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        write_file(e.address_file, files[i].data, files[i].len);
        for (size_t c = 0; c < 2; c++) {
            const char *args[] = {cmds[c][0], NULL};
            char *err = NULL;
            int rc = lux_test_lux(args, e.env, 20, NULL, &err);
            LUX_CHECK_MSG(rc == 1, "lux %s with an address file (%s) exited %d: %s", cmds[c][0],
                          files[i].what, rc, err ? err : "");
            LUX_CHECK_CONTAINS(err, "empty or holds no node address");
            LUX_CHECK_CONTAINS(err, e.address_file);
            free(err);
        }
    }
    /* A driver asking for "auto" gets an error, not a connection to garbage. */
    write_file(e.address_file, "", 0);
    setenv("LUX_HOME", e.home, 1);
    unsetenv("LUX_ADDRESS");
    lux_init_opts_t o = {.address = "auto"};
    LUX_CHECK_ERR(lux_init(&o), LUX_ECLOSED);
    /* A valid address of no running node is "no node answers", still 1. */
    write_file(e.address_file, "ipc:///nonexistent/node.sock\n", 29);
    const char *stop_args[] = {"stop", NULL};
    char *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, &err), 1);
    LUX_CHECK_CONTAINS(err, "no node answers");
    free(err);
}

/* A node's TCP endpoint is unauthenticated until CURVE lands: lux start
 * refuses tcp:// altogether, loopback included (any local user could stop
 * the node through it), and says why and what to use instead. */
LUX_TEST_T(lux_start_refuses_tcp_listen, 60)
{
    lux_env_t e;
    lux_env_init(&e);
    const char *refused[] = {"tcp://127.0.0.1:6380",   "tcp://[::1]:6380",   "tcp://127.0.0.1:*",
                             "tcp://0.0.0.0:6380",     "tcp://*:6380",       "tcp://10.1.2.3:6380",
                             "tcp://example.com:6380", "ws://127.0.0.1:6380"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *args[] = {"start", "--head", "--log-dir", e.logs, "--listen", refused[i], NULL};
        char *out = NULL, *err = NULL;
        int rc = lux_test_lux(args, e.env, 20, &out, &err);
        LUX_CHECK_MSG(rc == 2, "lux start --listen %s exited %d: %s", refused[i], rc,
                      err ? err : "");
        LUX_CHECK_CONTAINS(err, refused[i]);
        if (strncmp(refused[i], "tcp://", 6) == 0) {
            LUX_CHECK_CONTAINS(err, "TCP is unauthenticated until the cluster's CURVE support");
        }
        LUX_CHECK_CONTAINS(err, "use the default ipc socket (owner-only)");
        LUX_CHECK(access(e.address_file, F_OK) != 0); /* no node started */
        free(out);
        free(err);
    }
    /* An extra ipc socket is accepted, and only its owner may connect. */
    char listen[720], sock[700];
    snprintf(sock, sizeof sock, "%s/extra.sock", lux_test_tmpdir());
    snprintf(listen, sizeof listen, "ipc://%s", sock);
    const char *args[] = {"start", "--head", "--log-dir", e.logs, "--listen", listen, NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(args, e.env, 20, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, listen);
    free(out);
    struct stat st;
    LUX_CHECK_INT_EQ(stat(sock, &st), 0);
    LUX_CHECK_INT_EQ(st.st_mode & 077, 0);
    const char *cluster_args[] = {"cluster", "--address", listen, NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(cluster_args, e.env, 20, NULL, NULL), 0);
    const char *stop_args[] = {"stop", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 0);
}

/* The address file's directory must be the user's own and writable by no
 * one else: whoever can replace the file sends drivers to their own node. */
LUX_TEST_T(lux_start_refuses_an_open_address_directory, 60)
{
    lux_env_t e;
    lux_env_init(&e);
    LUX_CHECK_INT_EQ(mkdir(e.home, 0700), 0);
    LUX_CHECK_INT_EQ(chmod(e.home, 0777), 0);
    const char *args[] = {"start", "--head", "--log-dir", e.logs, NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(args, e.env, 20, &out, &err), 1);
    LUX_CHECK_CONTAINS(err, "refusing to write the address file");
    LUX_CHECK_CONTAINS(err, e.address_file);
    LUX_CHECK_CONTAINS(err, "writable by other users");
    LUX_CHECK(access(e.address_file, F_OK) != 0);
    free(out);
    free(err);
    /* Made private, it works. */
    LUX_CHECK_INT_EQ(chmod(e.home, 0700), 0);
    LUX_CHECK_INT_EQ(lux_test_lux(args, e.env, 20, NULL, NULL), 0);
    const char *stop_args[] = {"stop", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 0);
}

/* Runs `lux ARGS...` as uid 65534 (nobody) with e's environment; returns
 * the exit code and stderr in *err. */
static int lux_as_nobody(const lux_env_t *e, const char *a1, const char *a2, const char *a3,
                         char **err)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    LUX_CHECK(n > 0);
    exe[n] = '\0';
    char *argv[] = {exe,        "--test-run-as", "65534",    (char *)lux_test_lux_binary(),
                    (char *)a1, (char *)a2,      (char *)a3, NULL};
    return lux_test_spawn(argv, (char *const *)e->env, NULL, 20, NULL, err);
}

/* A user who cannot reach another user's node is told it is a permission
 * problem, naming the path and its owner, not that no node answers. */
LUX_TEST_T(another_users_node_is_a_permission_problem, 60)
{
    if (geteuid() != 0) {
        fprintf(stderr, "skipped: needs root to run a command as another user\n");
        return;
    }
    lux_env_t e;
    lux_env_init(&e);
    const char *start_args[] = {"start", "--head", "--log-dir", e.logs, NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(start_args, e.env, 20, &out, NULL), 0);
    char addr[1024];
    const char *ipc = strstr(out, "ipc://");
    LUX_CHECK(ipc != NULL);
    snprintf(addr, sizeof addr, "%s", ipc);
    addr[strcspn(addr, "\n")] = '\0';
    free(out);

    /* The address file is out of reach. */
    LUX_CHECK_INT_EQ(lux_as_nobody(&e, "cluster", NULL, NULL, &err), 1);
    LUX_CHECK_CONTAINS(err, "permission denied on the address file");
    LUX_CHECK_CONTAINS(err, e.address_file);
    LUX_CHECK_CONTAINS(err, "uid 0)");
    LUX_CHECK_CONTAINS(err, "only its owner can use a node");
    free(err);
    /* The socket, behind directories nobody may enter. */
    LUX_CHECK_INT_EQ(lux_as_nobody(&e, "cluster", "--address", addr, &err), 1);
    LUX_CHECK_CONTAINS(err, "permission denied on the node's socket");
    LUX_CHECK_CONTAINS(err, addr + 6);
    LUX_CHECK_CONTAINS(err, "uid 0)");
    free(err);
    /* The socket itself (owner-only) when its directories can be crossed. */
    LUX_CHECK_INT_EQ(chmod(lux_test_tmpdir(), 0711), 0);
    LUX_CHECK_INT_EQ(chmod(e.logs, 0711), 0);
    LUX_CHECK_INT_EQ(lux_as_nobody(&e, "stop", "--address", addr, &err), 1);
    LUX_CHECK_CONTAINS(err, "permission denied on the node's socket");
    LUX_CHECK_CONTAINS(err, "uid 0)");
    free(err);
    /* A driver's lux_init says the same and returns LUX_EACCESS. */
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        lux_init_opts_t o = {.address = addr};
        _exit(lux_init(&o) == LUX_EACCESS ? 0 : 1);
    }
    int status = 0;
    LUX_CHECK_INT_EQ(waitpid(child, &status, 0), child);
    LUX_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "lux_init as another user: status 0x%x", status);
    LUX_CHECK_INT_EQ(chmod(lux_test_tmpdir(), 0700), 0);

    /* The node is still there for its owner. */
    const char *cluster_args[] = {"cluster", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(cluster_args, e.env, 20, NULL, NULL), 0);
    const char *stop_args[] = {"stop", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 0);
}

/* lux start --object-store-memory takes sizes as people write them, and
 * refuses a store the machine cannot give, saying so. */
LUX_TEST_T(lux_start_object_store_memory, 60)
{
    lux_env_t e;
    lux_env_init(&e);
    const char *bad[] = {"start", "--head", "--log-dir", e.logs, "--object-store-memory",
                         "12X",   NULL};
    char *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(bad, e.env, 20, NULL, &err), 2);
    LUX_CHECK_CONTAINS(err, "--object-store-memory 12X: not a byte size");
    free(err);
    const char *huge[] = {"start", "--head", "--log-dir", e.logs, "--object-store-memory",
                          "1E",    NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(huge, e.env, 20, NULL, &err), 1);
    LUX_CHECK_CONTAINS(err, "1073741824.0 GiB (1152921504606846976 bytes) was asked for");
    LUX_CHECK_CONTAINS(err, "--object-store-memory");
    free(err);
    LUX_CHECK(access(e.address_file, F_OK) != 0);
    const char *ok[] = {"start", "--head", "--log-dir", e.logs, "--object-store-memory",
                        "64M",   NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(ok, e.env, 20, NULL, NULL), 0);
    const char *cluster_args[] = {"cluster", "--json", NULL};
    char *out = NULL;
    int rc = lux_test_lux(cluster_args, e.env, 20, &out, NULL);
    const char *stop_args[] = {"stop", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(stop_args, e.env, 20, NULL, NULL), 0);
    LUX_CHECK_INT_EQ(rc, 0);
    LUX_CHECK_CONTAINS(out, "\"capacity_bytes\":67108864");
    free(out);
}
