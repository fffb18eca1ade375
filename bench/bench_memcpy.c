/*
 * memcpy bandwidth: copies a 256 MiB buffer repeatedly and reports GB/s.
 * It is the physical limit that put bandwidth is measured against.
 */
#include "bench.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int lux_bench_memcpy(int argc, char **argv)
{
    long mib = 256, repeats = 5;
    const lux_opt_t opts[] = {
        {"--mib", NULL, LUX_OPT_INT, &mib},
        {"--repeats", NULL, LUX_OPT_INT, &repeats},
    };
    if (lux_cli_parse("bench memcpy", argc, argv, opts, 2, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (mib < 1 || repeats < 1 || repeats > 1000)
        return lux_cli_usage_error("bench memcpy", "--mib must be >= 1 and --repeats 1..1000");
    size_t size = (size_t)mib << 20;
    char *src = malloc(size), *dst = malloc(size);
    if (src == NULL || dst == NULL) {
        free(src);
        free(dst);
        fprintf(stderr, "lux bench memcpy: cannot allocate 2 x %ld MiB\n", mib);
        return LUX_EXIT_FAILURE;
    }
    memset(src, 1, size);
    memset(dst, 2, size); /* fault the pages in before timing */
    double *runs = calloc((size_t)repeats, sizeof *runs);
    for (long r = 0; r < repeats; r++) {
        double t0 = lux_bench_now();
        memcpy(dst, src, size);
        double dt = lux_bench_now() - t0;
        runs[r] = (double)size / dt / 1e9;
        src[r % size] ^= dst[(r * 7919) % size]; /* keep the copy observable */
    }
    json_t *report = lux_bench_report_new("memcpy");
    lux_bench_add_runs(report, "memcpy_gigabytes_per_s", runs, (size_t)repeats, "GB/s");
    int rc = lux_bench_print(report);
    json_decref(report);
    free(runs);
    free(src);
    free(dst);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
