/*
 * Helpers shared by the benchmark programs behind `lux bench`: timing,
 * medians of repeated runs, and the JSON report every benchmark prints.
 *
 * A report is a JSON object {"benchmark": NAME, "machine": {...},
 * "date": ISO-8601, "results": {...}}; each result is a number or an object
 * with "median" and the individual "runs".
 */
#ifndef LUX_BENCH_H
#define LUX_BENCH_H

#include <jansson.h>
#include <stddef.h>

/* Seconds on a monotonic clock. Cannot fail. */
double lux_bench_now(void);

/* Median of xs[0..n-1] (sorts a copy); 0 for n == 0. Cannot fail for n <= 4096. */
double lux_bench_median(const double *xs, size_t n);

/* Quantile q in [0, 1] of xs (nearest rank on a sorted copy). */
double lux_bench_quantile(const double *xs, size_t n, double q);

/* A new report object for benchmark `name` with machine facts (cores,
 * memory, CPU model, kernel) and the date filled in; the caller adds results
 * under json_object_get(report, "results") and releases it with
 * json_decref. NULL when out of memory. */
json_t *lux_bench_report_new(const char *name);

/* Adds {"median": m, "runs": [...], "unit": unit} under results[key]. */
void lux_bench_add_runs(json_t *report, const char *key, const double *runs, size_t n,
                        const char *unit);

/* Adds a single number under results[key]. */
void lux_bench_add_value(json_t *report, const char *key, double value);

/* Prints the report, indented, on stdout. Returns 0 or LUX_EIO. */
int lux_bench_print(json_t *report);

/* Runs `script` (Python source) with Debian's /usr/bin/python3 (where
 * python3-optuna and python3-cmaes install; else python3 on PATH) and the
 * given arguments (NULL-terminated), and returns what it printed on stdout
 * in *out (malloc'd, caller frees; stderr is discarded). The script is
 * written to a file in `dir`. Returns 0 when it exited 0, else LUX_ENOENT
 * (no python3), LUX_ETASK (it failed: e.g. a missing module) or LUX_EIO. */
int lux_bench_run_python(const char *dir, const char *script, char *const args[], char **out);

/* Registers the benchmark trainables (`noop`: reports at once, for measuring
 * tune's own overhead). main() calls it so workers know them too. */
int lux_bench_register_trainables(void);

/* Peak resident set size of this process in bytes (getrusage). */
long lux_bench_max_rss_bytes(void);

#endif
