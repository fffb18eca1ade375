/*
 * `lux bench rl`: figures of the rl layer, in parts so that each area keeps
 * its own code. `--part optimizers` (this file) measures the CMA-ES and
 * sep-CMA-ES speed (ask + tell per generation, no evaluation, default
 * population) and their correctness (median evaluations to f < 1e-8 on the
 * standard test functions, docs/optimizers.md has the reference figures).
 *
 * To add a part: write `int lux_bench_rl_part_<id>(json_t *report, int full)`
 * in its own bench/bench_rl_<id>.c (it adds results under
 * json_object_get(report, "results") and returns 0 or a LUX_E* code) and add
 * one line to LUX_BENCH_RL_PARTS below. Without --part every part runs.
 */
#include "bench.h"
#include "clock.h"
#include "cli.h"

#include "cmaes.h"
#include "error.h"
#include "testfns.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* X(name, id, summary) */
#define LUX_BENCH_RL_PARTS(X)                                                                      \
    X("optimizers", optimizers, "CMA-ES / sep-CMA-ES speed and evaluations to 1e-8")               \
    X("learn", learn,                                                                              \
      "trainables: learning figures, policy and rollout speed, parallel efficiency")               \
    X("reference", reference, "evaluations to 1e-8 against CyberAgentAILab cmaes (python3-cmaes)") \
    X("builders_policy_rollout", builders_policy_rollout,                                          \
      "builders: bare world, policy ns/step (double vs float32 batches vs sgemm), rollouts")       \
    X("mlp_policy_rollout", mlp_policy_rollout,                                                    \
      "CartPole/Acrobot/Pendulum MLP rollouts: double reference vs float32 lockstep batches")

#define LUX_BENCH_RL_DECL(name, id, summary) int lux_bench_rl_part_##id(json_t *report, int full);
LUX_BENCH_RL_PARTS(LUX_BENCH_RL_DECL)
#undef LUX_BENCH_RL_DECL

/* OpenBLAS reports its thread count; declared here to keep cblas.h's
 * variants out of the bench. */
int openblas_get_num_threads(void);

/* ---- optimizers: speed --------------------------------------------------------------------- */

/* Milliseconds per generation (ask + tell, f = first coordinate, which is
 * O(lambda) and keeps the ranking changing) over `gens` generations. */
static double time_generations(size_t n, int diagonal, int gens, uint64_t seed, int *lambda_out,
                               double *cpu_ms)
{
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.diagonal = diagonal;
    o.seed = seed;
    double *x0 = calloc(n, sizeof(double));
    lux_cmaes_t *es = NULL;
    if (x0 == NULL || lux_cmaes_new(n, x0, 1.0, &o, &es) != 0) {
        free(x0);
        return NAN;
    }
    int lam = lux_cmaes_popsize(es);
    *lambda_out = lam;
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    double ms = NAN;
    if (X != NULL && f != NULL) {
        for (int g = 0; g < 3; g++) { /* warm-up: page faults, BLAS buffers */
            lux_cmaes_ask(es, X);
            for (int k = 0; k < lam; k++)
                f[k] = X[(size_t)k * n];
            lux_cmaes_tell(es, X, f);
        }
        double t0 = lux_bench_now(), c0 = lux_clock_process_cpu_s();
        for (int g = 0; g < gens; g++) {
            lux_cmaes_ask(es, X);
            for (int k = 0; k < lam; k++)
                f[k] = X[(size_t)k * n];
            lux_cmaes_tell(es, X, f);
        }
        ms = (lux_bench_now() - t0) * 1e3 / gens;
        *cpu_ms = (lux_clock_process_cpu_s() - c0) * 1e3 / gens;
    }
    free(X);
    free(f);
    free(x0);
    lux_cmaes_destroy(&es);
    return ms;
}

typedef struct {
    const char *algo;
    size_t n;
    int gens_short, gens_full; /* generations per repeat */
    double target_ms;          /* 0: none */
} speed_case_t;

static void speed_part(json_t *report, int full)
{
    /* Full CMA-ES recomputes B, D every eigen_interval generations (7 at
     * n = 1000), so its repeats span several intervals. */
    const speed_case_t cases[] = {
        {"sepcmaes", 1000, 2000, 10000, 0.15}, {"sepcmaes", 1128, 2000, 10000, 0},
        {"sepcmaes", 10000, 200, 1000, 0},     {"cmaes", 100, 500, 2000, 0},
        {"cmaes", 1000, 28, 70, 20.0},
    };
    int repeats = full ? 11 : 5;
    json_t *results = json_object_get(report, "results");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double runs[16], cpu[16];
        int lam = 0;
        int gens = full ? cases[c].gens_full : cases[c].gens_short;
        for (int r = 0; r < repeats; r++)
            runs[r] = time_generations(cases[c].n, strcmp(cases[c].algo, "sepcmaes") == 0, gens,
                                       (uint64_t)r + 1, &lam, &cpu[r]);
        char key[96];
        snprintf(key, sizeof key, "%s_n%zu_ms_per_generation", cases[c].algo, cases[c].n);
        lux_bench_add_runs(report, key, runs, (size_t)repeats, "ms");
        double med = lux_bench_median(runs, (size_t)repeats);
        json_t *entry = json_object_get(results, key);
        json_object_set_new(entry, "generations_per_s", json_real(1e3 / med));
        json_object_set_new(entry, "lambda", json_integer(lam));
        /* Wall time suffers when other processes share the cores; the CPU
         * time of this process (all BLAS threads) says what the work costs. */
        json_object_set_new(entry, "cpu_ms_median",
                            json_real(lux_bench_median(cpu, (size_t)repeats)));
        if (cases[c].target_ms > 0) {
            json_object_set_new(entry, "target_ms", json_real(cases[c].target_ms));
            json_object_set_new(entry, "meets_target", json_boolean(med <= cases[c].target_ms));
        }
    }
}

/* ---- optimizers: correctness --------------------------------------------------------------- */

/* Evaluations until f < target from x0 = 3, sigma0 = 2 (no restarts), or -1
 * when the run stopped first. */
static long evals_to_target(const char *fn_name, size_t n, int diagonal, uint64_t seed,
                            double target, double *final_f)
{
    const lux_testfn_t *fn = lux_testfn_find(fn_name);
    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.diagonal = diagonal;
    o.seed = seed;
    o.ftarget = target;
    double *x0 = malloc(n * sizeof(double));
    lux_cmaes_t *es = NULL;
    for (size_t i = 0; x0 != NULL && i < n; i++)
        x0[i] = 3.0;
    if (fn == NULL || x0 == NULL || lux_cmaes_new(n, x0, 2.0, &o, &es) != 0) {
        free(x0);
        return -1;
    }
    free(x0);
    int lam = lux_cmaes_popsize(es);
    double *X = malloc((size_t)lam * n * sizeof(double)), *f = malloc((size_t)lam * sizeof(double));
    long result = -1;
    while (X != NULL && f != NULL) {
        lux_cmaes_ask(es, X);
        for (int k = 0; k < lam; k++)
            f[k] = fn->fn(X + (size_t)k * n, n);
        if (lux_cmaes_tell(es, X, f) != 0)
            break;
        if (lux_cmaes_stop(es, NULL, 0))
            break;
    }
    /* Whole generations, as pycma's countevals and `lux optimize` count. */
    double best = lux_cmaes_best(es, NULL);
    if (best < target)
        result = lux_cmaes_evaluations(es);
    *final_f = best;
    free(X);
    free(f);
    lux_cmaes_destroy(&es);
    return result;
}

/* A plain CMA-ES / sep-CMA-ES written a second time, straight from
 * arXiv:1604.00772 and Ros & Hansen 2008, as the measured cross-check: its own parameter code,
 * GSL's mt19937 and Ziggurat normals, GSL's eigen solver every generation
 * (no lazy update) and loops instead of BLAS. It shares no code with
 * rl/cmaes.c, so agreement of the medians checks the lazy eigendecomposition,
 * the BLAS layouts and the sampler. Evaluations to f < target (whole
 * generations), or -1. */
static long reference_cmaes(lux_testfn_fn fn, size_t n, int diagonal, uint64_t seed, double target)
{
    const int lam = 4 + (int)floor(3.0 * log((double)n)), mu = lam / 2;
    const double dn = (double)n;
    double w[64], mueff, cs, ds, cc, c1, cmu;
    double pos = 0, pos2 = 0, neg = 0, neg2 = 0;
    if (diagonal) {
        for (int i = 0; i < lam; i++)
            w[i] = i < mu ? log(mu + 1.0) - log(i + 1.0) : 0;
    } else {
        for (int i = 0; i < lam; i++)
            w[i] = log((lam + 1) / 2.0) - log(i + 1.0);
    }
    for (int i = 0; i < lam; i++) {
        if (i < mu) {
            pos += w[i];
            pos2 += w[i] * w[i];
        } else {
            neg += w[i];
            neg2 += w[i] * w[i];
        }
    }
    mueff = pos * pos / pos2;
    if (diagonal) {
        cs = (mueff + 2) / (dn + mueff + 3);
        cc = 4 / (dn + 4);
        c1 = 2 / ((dn + 1.3) * (dn + 1.3) + mueff);
        cmu = (dn + 2) / 3 *
              (2 / (mueff * (dn + sqrt(2.0)) * (dn + sqrt(2.0))) +
               (1 - 1 / mueff) * fmin(1, (2 * mueff - 1) / ((dn + 2) * (dn + 2) + mueff)));
        for (int i = 0; i < lam; i++)
            w[i] = i < mu ? w[i] / pos : 0;
    } else {
        double mueffn = neg * neg / neg2;
        cs = (mueff + 2) / (dn + mueff + 5);
        cc = (4 + mueff / dn) / (dn + 4 + 2 * mueff / dn);
        c1 = 2 / ((dn + 1.3) * (dn + 1.3) + mueff);
        cmu = fmin(1 - c1, 2 * (0.25 + mueff + 1 / mueff - 2) / ((dn + 2) * (dn + 2) + mueff));
        double amin = fmin(1 + c1 / cmu, 1 + 2 * mueffn / (mueff + 2));
        amin = fmin(amin, (1 - c1 - cmu) / (dn * cmu));
        for (int i = 0; i < lam; i++)
            w[i] = w[i] >= 0 ? w[i] / pos : amin * w[i] / fabs(neg);
    }
    ds = 1 + 2 * fmax(0, sqrt((mueff - 1) / (dn + 1)) - 1) + cs;
    double chin = sqrt(dn) * (1 - 1 / (4 * dn) + 1 / (21 * dn * dn));

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    gsl_matrix *C = gsl_matrix_alloc(n, n), *B = gsl_matrix_alloc(n, n),
               *A = gsl_matrix_alloc(n, n);
    gsl_vector *eval = gsl_vector_alloc(n);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(n);
    double *m = malloc(n * sizeof *m), *D = malloc(n * sizeof *D), *ps = calloc(n, sizeof *ps),
           *pc = calloc(n, sizeof *pc), *Y = malloc((size_t)lam * n * sizeof *Y),
           *Yn = malloc((size_t)lam * n * sizeof *Yn), *z = malloc(n * sizeof *z),
           *yw = malloc(n * sizeof *yw), *t = malloc(n * sizeof *t), *x = malloc(n * sizeof *x);
    double f[64];
    int order[64];
    gsl_matrix_set_identity(C);
    gsl_matrix_set_identity(B);
    for (size_t i = 0; i < n; i++) {
        m[i] = 3;
        D[i] = 1;
    }
    double sigma = 2;
    long evals = -1;
    for (long g = 0; g < 200000 / lam + 20000; g++) {
        double best = INFINITY;
        for (int k = 0; k < lam; k++) {
            for (size_t j = 0; j < n; j++)
                z[j] = D[j] * gsl_ran_gaussian_ziggurat(rng, 1.0);
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t j = 0; j < n; j++)
                    s += gsl_matrix_get(B, i, j) * z[j];
                Y[(size_t)k * n + i] = s;
                x[i] = m[i] + sigma * s;
            }
            f[k] = fn(x, n);
            best = fmin(best, f[k]);
        }
        if (best < target) {
            evals = (g + 1) * lam;
            break;
        }
        for (int k = 0; k < lam; k++) { /* sort indices by f (insertion) */
            int v = k, j = k;
            while (j > 0 && f[order[j - 1]] > f[v]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = v;
        }
        for (size_t i = 0; i < n; i++) {
            yw[i] = 0;
            for (int k = 0; k < mu; k++)
                yw[i] += w[k] * Y[(size_t)order[k] * n + i];
            m[i] += sigma * yw[i];
        }
        /* t = D^-1 B^T yw; C^-1/2 yw = B t. */
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += gsl_matrix_get(B, i, j) * yw[i];
            t[j] = s / D[j];
        }
        double ps2 = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += gsl_matrix_get(B, i, j) * t[j];
            ps[i] = (1 - cs) * ps[i] + sqrt(cs * (2 - cs) * mueff) * s;
            ps2 += ps[i] * ps[i];
        }
        sigma *= exp(cs / ds * (sqrt(ps2) / chin - 1));
        int hs = sqrt(ps2) / sqrt(1 - pow(1 - cs, 2.0 * (g + 1))) < (1.4 + 2 / (dn + 1)) * chin;
        for (size_t i = 0; i < n; i++)
            pc[i] = (1 - cc) * pc[i] + hs * sqrt(cc * (2 - cc) * mueff) * yw[i];
        /* Active weights: w_k n / ||C^-1/2 y_k||^2 for negative w_k. */
        double wo[64], wsum = 0;
        for (int k = 0; k < lam; k++) {
            const double *y = Y + (size_t)order[k] * n;
            wsum += w[k];
            wo[k] = w[k];
            if (w[k] < 0) {
                double q = 0;
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t i = 0; i < n; i++)
                        s += gsl_matrix_get(B, i, j) * y[i];
                    q += (s / D[j]) * (s / D[j]);
                }
                wo[k] = w[k] * dn / q;
            }
            memcpy(Yn + (size_t)k * n, y, n * sizeof *y);
        }
        double decay = 1 + c1 * (1 - hs) * cc * (2 - cc) - c1 - cmu * wsum;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (diagonal && i != j)
                    continue;
                double s = 0;
                for (int k = 0; k < lam; k++)
                    s += wo[k] * Yn[(size_t)k * n + i] * Yn[(size_t)k * n + j];
                gsl_matrix_set(C, i, j,
                               decay * gsl_matrix_get(C, i, j) + c1 * pc[i] * pc[j] + cmu * s);
            }
        if (diagonal) {
            for (size_t i = 0; i < n; i++)
                D[i] = sqrt(gsl_matrix_get(C, i, i));
        } else {
            gsl_matrix_memcpy(A, C);
            gsl_eigen_symmv(A, eval, B, ws);
            for (size_t i = 0; i < n; i++)
                D[i] = sqrt(fmax(gsl_vector_get(eval, i), 1e-300));
        }
    }
    gsl_eigen_symmv_free(ws);
    gsl_vector_free(eval);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    gsl_matrix_free(C);
    gsl_rng_free(rng);
    free(m), free(D), free(ps), free(pc), free(Y), free(Yn), free(z), free(yw), free(t), free(x);
    return evals;
}

typedef struct {
    const char *algo, *fn;
    size_t n;
} correct_case_t;

static void correctness_part(json_t *report, int full)
{
    const correct_case_t cases[] = {
        {"cmaes", "sphere", 10},       {"cmaes", "ellipsoid", 10},    {"cmaes", "rosenbrock", 10},
        {"cmaes", "sphere", 40},       {"cmaes", "ellipsoid", 40},    {"cmaes", "rosenbrock", 40},
        {"sepcmaes", "sphere", 10},    {"sepcmaes", "ellipsoid", 10}, {"sepcmaes", "sphere", 40},
        {"sepcmaes", "ellipsoid", 40},
    };
    int seeds = full ? 21 : 7;
    json_t *results = json_object_get(report, "results");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int diagonal = strcmp(cases[c].algo, "sepcmaes") == 0;
        double runs[32], refs[32], final_f;
        int failed = 0, ref_failed = 0;
        const lux_testfn_t *fn = lux_testfn_find(cases[c].fn);
        for (int s = 0; s < seeds; s++) {
            long e =
                evals_to_target(cases[c].fn, cases[c].n, diagonal, (uint64_t)s + 1, 1e-8, &final_f);
            /* A run that stopped early (rosenbrock's local minimum near
             * x_1 = -1, f = 3.9866 at n = 40, which both implementations
             * reach in about 20% of runs) counts as infinitely slow for the
             * median. */
            runs[s] = e > 0 ? (double)e : INFINITY;
            failed += e <= 0;
            long r = reference_cmaes(fn->fn, cases[c].n, diagonal, (uint64_t)s + 1001, 1e-8);
            refs[s] = r > 0 ? (double)r : INFINITY;
            ref_failed += r <= 0;
        }
        char key[96];
        snprintf(key, sizeof key, "%s_%s_%zu_evals_to_1e-8", cases[c].algo, cases[c].fn,
                 cases[c].n);
        lux_bench_add_runs(report, key, runs, (size_t)seeds, "evaluations");
        double med = lux_bench_median(runs, (size_t)seeds);
        double ref = lux_bench_median(refs, (size_t)seeds);
        json_t *entry = json_object_get(results, key);
        json_object_set_new(entry, "runs_not_reaching_target", json_integer(failed));
        /* JSON has no infinity: "runs" lists only the successful runs, so
         * name the seeds that ended early. */
        json_t *seeds_failed = json_array();
        for (int s = 0; s < seeds; s++)
            if (isinf(runs[s]))
                json_array_append_new(seeds_failed, json_integer(s + 1));
        json_object_set_new(entry, "seeds_not_reaching_target", seeds_failed);
        json_object_set_new(entry, "plain_reference_median", json_real(ref));
        json_object_set_new(entry, "plain_reference_failures", json_integer(ref_failed));
        json_object_set_new(entry, "ratio_to_plain_reference", json_real(med / ref));
        json_object_set_new(entry, "within_15_percent", json_boolean(fabs(med / ref - 1) <= 0.15));
    }
    if (full) {
        /* sep-CMA-ES on the separable ellipsoid in 1,000 dimensions. */
        double t0 = lux_bench_now(), final_f = NAN;
        long e = evals_to_target("ellipsoid", 1000, 1, 1, 1e-8, &final_f);
        json_t *o = json_object();
        json_object_set_new(o, "evaluations", json_integer(e));
        json_object_set_new(o, "final_f", json_real(final_f));
        json_object_set_new(o, "reached", json_boolean(e > 0));
        json_object_set_new(o, "seconds", json_real(lux_bench_now() - t0));
        json_object_set_new(results, "sepcmaes_ellipsoid_1000_to_1e-8", o);
    }
}

/* ---- reference: the same runs with CyberAgentAILab's cmaes ------------------------------------
 */

/* Evaluations to f < 1e-8 from x0 = 3, sigma0 = 2 with cmaes.CMA or
 * cmaes.SepCMA, one run per seed; whole generations are counted, as
 * lux_cmaes_evaluations() counts them. Prints a JSON list (null: the run
 * stopped before the target). */
static const char cmaes_script[] =
    "import sys, json\n"
    "import numpy as np\n"
    "import cmaes\n"
    "algo, fn, n, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
    "def f(x):\n"
    "    if fn == 'sphere': return float(np.sum(x * x))\n"
    "    if fn == 'ellipsoid': return float(np.sum(10 ** (6 * np.arange(n) / (n - 1)) * x * x))\n"
    "    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))\n"
    "out = []\n"
    "for seed in range(1, seeds + 1):\n"
    "    Opt = cmaes.CMA if algo == 'cmaes' else cmaes.SepCMA\n"
    "    es = Opt(mean=np.full(n, 3.0), sigma=2.0, seed=seed)\n"
    "    evals, hit = 0, False\n"
    "    while not hit and evals < 1e4 * n * n:\n"
    "        sols = [(x, f(x)) for x in (es.ask() for _ in range(es.population_size))]\n"
    "        evals += len(sols)\n"
    "        hit = min(v for _, v in sols) < 1e-8\n"
    "        if not hit:\n"
    "            es.tell(sols)\n"
    "            if es.should_stop(): break\n"
    "    out.append(evals if hit else None)\n"
    "print(json.dumps({'version': cmaes.__version__, 'evals': out}))\n";

int lux_bench_rl_part_reference(json_t *report, int full)
{
    const struct {
        const char *algo, *fn;
        size_t n;
    } cases[] = {
        {"cmaes", "sphere", 10},       {"cmaes", "ellipsoid", 10},    {"cmaes", "rosenbrock", 10},
        {"cmaes", "sphere", 40},       {"cmaes", "ellipsoid", 40},    {"cmaes", "rosenbrock", 40},
        {"sepcmaes", "sphere", 10},    {"sepcmaes", "ellipsoid", 10}, {"sepcmaes", "sphere", 40},
        {"sepcmaes", "ellipsoid", 40},
    };
    int seeds = full ? 21 : 7;
    const char *tmp = getenv("TMPDIR");
    json_t *results = json_object_get(report, "results");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char nbuf[16], sbuf[16], *out = NULL;
        snprintf(nbuf, sizeof nbuf, "%zu", cases[c].n);
        snprintf(sbuf, sizeof sbuf, "%d", seeds);
        char *args[] = {(char *)cases[c].algo, (char *)cases[c].fn, nbuf, sbuf, NULL};
        int rc = lux_bench_run_python(tmp && *tmp ? tmp : "/tmp", cmaes_script, args, &out);
        json_error_t jerr;
        json_t *j = rc == 0 ? json_loads(out, 0, &jerr) : NULL;
        free(out);
        json_t *evals = json_object_get(j, "evals");
        if (!json_is_array(evals)) {
            json_object_set_new(results, "cmaes_reference",
                                json_string("python3 with cmaes is not available "
                                            "(apt-get install python3-cmaes)"));
            json_decref(j);
            return 0;
        }
        json_object_set(results, "cmaes_reference_version", json_object_get(j, "version"));
        double ref[32], ours[32], final_f;
        for (int s = 0; s < seeds; s++) {
            json_t *e = json_array_get(evals, (size_t)s);
            ref[s] = json_is_integer(e) ? (double)json_integer_value(e) : INFINITY;
            long le =
                evals_to_target(cases[c].fn, cases[c].n, strcmp(cases[c].algo, "sepcmaes") == 0,
                                (uint64_t)s + 1, 1e-8, &final_f);
            ours[s] = le > 0 ? (double)le : INFINITY;
        }
        json_decref(j);
        double mr = lux_bench_median(ref, (size_t)seeds),
               mo = lux_bench_median(ours, (size_t)seeds);
        json_t *o = json_object();
        json_object_set_new(o, "lux_median", json_real(mo));
        json_object_set_new(o, "cmaes_median", json_real(mr));
        json_object_set_new(o, "ratio", json_real(mo / mr));
        json_object_set_new(o, "within_15_percent", json_boolean(fabs(mo / mr - 1) <= 0.15));
        json_object_set_new(o, "seeds", json_integer(seeds));
        char key[96];
        snprintf(key, sizeof key, "%s_%s_%zu_evals_vs_cmaes", cases[c].algo, cases[c].fn,
                 cases[c].n);
        json_object_set_new(results, key, o);
    }
    return 0;
}

int lux_bench_rl_part_optimizers(json_t *report, int full)
{
    json_object_set_new(json_object_get(report, "results"), "openblas_threads",
                        json_integer(openblas_get_num_threads()));
    speed_part(report, full);
    correctness_part(report, full);
    return 0;
}

/* ---- the command --------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int (*fn)(json_t *report, int full);
    const char *summary;
} rl_part_t;

static const rl_part_t parts[] = {
#define LUX_BENCH_RL_ENTRY(name, id, summary) {name, lux_bench_rl_part_##id, summary},
    LUX_BENCH_RL_PARTS(LUX_BENCH_RL_ENTRY)
#undef LUX_BENCH_RL_ENTRY
};
#define NPARTS (sizeof parts / sizeof parts[0])

int lux_bench_rl(int argc, char **argv)
{
    const char *part = NULL;
    int full = 0;
    const lux_opt_t opts[] = {
        {"--part", NULL, LUX_OPT_STRING, &part},
        {"--full", NULL, LUX_OPT_FLAG, &full},
    };
    if (lux_cli_parse("bench rl", argc, argv, opts, 2, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    int found = part == NULL;
    for (size_t i = 0; i < NPARTS && !found; i++)
        found = strcmp(parts[i].name, part) == 0;
    if (!found) {
        fprintf(stderr, "lux bench rl: unknown --part '%s'; parts:", part);
        for (size_t i = 0; i < NPARTS; i++)
            fprintf(stderr, " %s", parts[i].name);
        fprintf(stderr, "\n");
        return LUX_EXIT_USAGE;
    }
    json_t *report = lux_bench_report_new("rl");
    if (report == NULL)
        return LUX_EXIT_FAILURE;
    json_object_set_new(report, "full", json_boolean(full));
    int rc = 0;
    for (size_t i = 0; i < NPARTS && rc == 0; i++)
        if (part == NULL || strcmp(parts[i].name, part) == 0)
            rc = parts[i].fn(report, full);
    if (rc == 0)
        rc = lux_bench_print(report);
    else
        fprintf(stderr, "lux bench rl: %s\n", lux_strerror(rc));
    json_decref(report);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
