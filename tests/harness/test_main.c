/*
 * The harness's main(): registry of cases, running one by name or all of
 * them in forked children, timeouts, temporary directories and spawning
 * processes for CLI tests.
 *
 * A case runs in its own process group so that a timeout can kill every
 * process the case started. When run alone (--run NAME, which is how ctest
 * calls it) the case runs in this process after setpgid(); an alarm kills
 * the group if it overruns.
 */
#include "test.h"
#include "clock.h"
#include "fs.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 1024

struct test_case {
    const char *name;
    lux_test_fn fn;
    int timeout_s;
    const char *file;
};

static struct test_case tests[MAX_TESTS];
static int test_count;
static const char *current_name = "?";
static char tmpdir_path[4096];

/* A module may define this (e.g. to enter worker mode when re-executed);
 * when it returns >= 0, main exits with that code before running tests. */
__attribute__((weak)) int lux_test_premain(int argc, char **argv);

void lux_test_register(const char *name, lux_test_fn fn, int timeout_s, const char *file)
{
    if (test_count >= MAX_TESTS) {
        fprintf(stderr, "too many test cases (max %d)\n", MAX_TESTS);
        exit(2);
    }
    tests[test_count++] = (struct test_case){name, fn, timeout_s, file};
}

int lux_test_strcmp(const char *a, const char *b)
{
    return strcmp(a, b);
}

const char *lux_test_strstr(const char *h, const char *n)
{
    return strstr(h, n);
}

const char *lux_test_strerror(int code)
{
    return lux_strerror(code);
}

double lux_test_now(void)
{
    return lux_clock_monotonic_s();
}

static void remove_tmpdir(void)
{
    if (tmpdir_path[0] != '\0') {
        lux_fs_rm_tree(tmpdir_path);
        tmpdir_path[0] = '\0';
    }
}

const char *lux_test_tmpdir(void)
{
    if (tmpdir_path[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL || *base == '\0')
            base = "/tmp";
        snprintf(tmpdir_path, sizeof tmpdir_path, "%s/lux-test-%s-XXXXXX", base, current_name);
        if (mkdtemp(tmpdir_path) == NULL) {
            tmpdir_path[0] = '\0';
            lux_test_fail(__FILE__, __LINE__, "mkdtemp failed: %s", strerror(errno));
        }
    }
    return tmpdir_path;
}

/* The paths lux_test_write_tmp returned: kept (and reachable) until the
 * case's process ends, so callers never free them. */
struct written_path {
    struct written_path *next;
    char path[];
};
static struct written_path *written_paths;

const char *lux_test_write_tmp(const char *name, const char *text)
{
    const char *dir = lux_test_tmpdir();
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    struct written_path *w = malloc(sizeof *w + len);
    if (w == NULL)
        lux_test_fail(__FILE__, __LINE__, "out of memory writing %s", name);
    snprintf(w->path, len, "%s/%s", dir, name);
    FILE *f = fopen(w->path, "w");
    if (f == NULL)
        lux_test_fail(__FILE__, __LINE__, "cannot write %s: %s", w->path, strerror(errno));
    int bad = fputs(text, f) == EOF;
    bad |= fclose(f) != 0;
    if (bad)
        lux_test_fail(__FILE__, __LINE__, "writing %s failed", w->path);
    w->next = written_paths;
    written_paths = w;
    return w->path;
}

void lux_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", current_name, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    remove_tmpdir();
    /* Take down helper processes the case started in its group. */
    signal(SIGTERM, SIG_IGN);
    if (getpgrp() == getpid())
        kill(0, SIGTERM);
    _exit(1);
}

const char *lux_test_env_lux_binary(void)
{
    return getenv("LUX_BINARY");
}

const char *lux_test_source_dir(void)
{
#ifdef LUX_TEST_SOURCE_DIR
    return LUX_TEST_SOURCE_DIR;
#else
    return ".";
#endif
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: test case timed out; killing its process group\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    remove_tmpdir();
    signal(SIGKILL, SIG_DFL);
    kill(0, SIGKILL);
    _exit(124);
}

static double timeout_scale(void)
{
    const char *s = getenv("LUX_TEST_TIMEOUT_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

static int run_in_process(struct test_case *t)
{
    current_name = t->name;
    setpgid(0, 0);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(t->timeout_s * timeout_scale() + 0.5));
    double t0 = lux_test_now();
    t->fn();
    alarm(0);
    remove_tmpdir();
    fprintf(stderr, "PASS %s (%.3f s)\n", t->name, lux_test_now() - t0);
    return 0;
}

static int run_forked(struct test_case *t)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        _exit(run_in_process(t));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the case left behind in its group */
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "FAIL %s: killed by signal %d\n", t->name, WTERMSIG(status));
    return 1;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--list | --run NAME...]\n", prog);
}

int main(int argc, char **argv)
{
    if (lux_test_premain != NULL) {
        int rc = lux_test_premain(argc, argv);
        if (rc >= 0)
            return rc;
    }
    if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < test_count; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "--run") == 0) {
        int failed = 0;
        for (int a = 2; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < test_count; i++) {
                if (strcmp(tests[i].name, argv[a]) == 0) {
                    found = 1;
                    failed +=
                        argc == 3 ? run_in_process(&tests[i]) != 0 : run_forked(&tests[i]) != 0;
                }
            }
            if (!found) {
                fprintf(stderr, "no test case named '%s' (try --list)\n", argv[a]);
                return 2;
            }
        }
        return failed ? 1 : 0;
    }
    if (argc != 1) {
        usage(argv[0]);
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < test_count; i++)
        failed += run_forked(&tests[i]) != 0;
    printf("%d passed, %d failed\n", test_count - failed, failed);
    return failed ? 1 : 0;
}

/* ---- spawning processes for CLI and multi-process tests ---- */

struct buf {
    char *data;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            lux_test_fail(__FILE__, __LINE__, "out of memory");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

int lux_test_spawn(char *const argv[], char *const env[], const char *input, double timeout_s,
                   char **out, char **err_out)
{
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
        return -1;
    int merge = err_out == NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(merge ? out_pipe[1] : err_pipe[1], 2);
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (input != NULL) {
        size_t left = strlen(input);
        const char *p = input;
        signal(SIGPIPE, SIG_IGN);
        while (left > 0) {
            ssize_t w = write(in_pipe[1], p, left);
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
    }
    close(in_pipe[1]);
    struct buf ob = {0}, eb = {0};
    buf_add(&ob, "", 0);
    buf_add(&eb, "", 0);
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    double deadline = lux_test_now() + timeout_s;
    int timed_out = 0;
    while (open_fds > 0) {
        int ms = (int)((deadline - lux_test_now()) * 1000);
        if (ms <= 0) {
            timed_out = 1;
            break;
        }
        int n = poll(fds, 2, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            timed_out = n == 0;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[8192];
            ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
            if (r <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else {
                buf_add(i == 0 ? &ob : &eb, chunk, (size_t)r);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = ob.data;
    else
        free(ob.data);
    if (err_out)
        *err_out = eb.data;
    else
        free(eb.data);
    if (timed_out)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int lux_test_lux_at(const char *bin, const char *const args[], char *const env[], double timeout_s,
                    char **out, char **err_out)
{
    if (bin == NULL)
        lux_test_fail(__FILE__, __LINE__, "no lux binary to run (set LUX_BINARY)");
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)bin;
    for (; args != NULL && args[n - 1] != NULL; n++) {
        if (n == 63)
            lux_test_fail(__FILE__, __LINE__, "lux_test_lux: more than 62 arguments");
        argv[n] = (char *)args[n - 1];
    }
    argv[n] = NULL;
    return lux_test_spawn(argv, env, NULL, timeout_s, out, err_out);
}
