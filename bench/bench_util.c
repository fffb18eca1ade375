/*
 * Shared benchmark helpers: clocks, medians, machine facts and the JSON
 * report format.
 */
#include "bench.h"
#include "clock.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

double lux_bench_now(void)
{
    return lux_clock_monotonic_s();
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A sorted malloc'd copy of xs[0..n) (the caller frees it), or NULL when n
 * is 0 or memory runs out. */
static double *sorted_copy(const double *xs, size_t n)
{
    double *copy = n > 0 ? malloc(n * sizeof *copy) : NULL;
    if (copy == NULL)
        return NULL;
    memcpy(copy, xs, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, cmp_double);
    return copy;
}

double lux_bench_quantile(const double *xs, size_t n, double q)
{
    double *copy = sorted_copy(xs, n);
    if (copy == NULL)
        return 0;
    size_t idx = (size_t)(q * (double)(n - 1) + 0.5);
    if (idx >= n)
        idx = n - 1;
    double v = copy[idx];
    free(copy);
    return v;
}

double lux_bench_median(const double *xs, size_t n)
{
    double *copy = sorted_copy(xs, n);
    if (copy == NULL)
        return 0;
    double v = n % 2 ? copy[n / 2] : 0.5 * (copy[n / 2 - 1] + copy[n / 2]);
    free(copy);
    return v;
}

static json_t *machine_facts(void)
{
    json_t *m = json_object();
    json_object_set_new(m, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    json_object_set_new(m, "memory_bytes", json_integer((json_int_t)pages * page));
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(m, "kernel", json_string(u.release));
        json_object_set_new(m, "arch", json_string(u.machine));
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon != NULL) {
                    colon += 2;
                    colon[strcspn(colon, "\n")] = '\0';
                    json_object_set_new(m, "cpu", json_string(colon));
                }
                break;
            }
        }
        fclose(f);
    }
    return m;
}

json_t *lux_bench_report_new(const char *name)
{
    json_t *r = json_object();
    if (r == NULL)
        return NULL;
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(r, "benchmark", json_string(name));
    json_object_set_new(r, "date", json_string(date));
    json_object_set_new(r, "machine", machine_facts());
    json_object_set_new(r, "results", json_object());
    return r;
}

void lux_bench_add_runs(json_t *report, const char *key, const double *runs, size_t n,
                        const char *unit)
{
    json_t *o = json_object(), *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_real(runs[i]));
    json_object_set_new(o, "median", json_real(lux_bench_median(runs, n)));
    json_object_set_new(o, "unit", json_string(unit));
    json_object_set_new(o, "runs", arr);
    json_object_set_new(json_object_get(report, "results"), key, o);
}

void lux_bench_add_value(json_t *report, const char *key, double value)
{
    json_object_set_new(json_object_get(report, "results"), key, json_real(value));
}

int lux_bench_print(json_t *report)
{
    if (json_dumpf(report, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0)
        return LUX_EIO;
    fputc('\n', stdout);
    return fflush(stdout) == 0 ? 0 : LUX_EIO;
}

long lux_bench_max_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss * 1024L;
}

int lux_bench_run_python(const char *dir, const char *script, char *const args[], char **out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lux_bench_script.py", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return LUX_EIO;
    fputs(script, f);
    if (fclose(f) != 0)
        return LUX_EIO;
    char *argv[32];
    size_t n = 0;
    argv[n++] = "python3";
    argv[n++] = path;
    for (size_t i = 0; args != NULL && args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0)
        return LUX_EIO;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return LUX_EIO;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execv("/usr/bin/python3", argv);
        execvp("python3", argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf != NULL && (r = read(fds[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (len + 1 == cap) {
            char *b = realloc(buf, cap * 2);
            if (b == NULL)
                break;
            buf = b;
            cap *= 2;
        }
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    unlink(path);
    if (buf == NULL)
        return LUX_EIO;
    buf[len] = '\0';
    *out = buf;
    if (!WIFEXITED(status))
        return LUX_ETASK;
    return WEXITSTATUS(status) == 0 ? 0 : (WEXITSTATUS(status) == 127 ? LUX_ENOENT : LUX_ETASK);
}
