/*
 * `lux optimize`: runs CMA-ES or sep-CMA-ES (optionally with IPOP/BIPOP
 * restarts) on a standard test function and prints the evaluations used and
 * the final value, so the optimizers can be checked against reference
 * implementations (docs/optimizers.md).
 */
#include "cli.h"
#include "cmaes.h"
#include "restarts.h"
#include "testfns.h"

#include "error.h"
#include "suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char lux_cmd_optimize_help[] =
    "usage: lux optimize --algo cmaes|sepcmaes --fn NAME --dim N [options]\n\n"
    "Minimises a test function from x0 = (X0, ..., X0) with step size SIGMA0 and\n"
    "prints the evaluations used and the final (best) value; stops as soon as\n"
    "f < target, or when the optimizer's termination criteria fire (then\n"
    "restarts, with --restarts).\n\n"
    "options:\n"
    "  --algo A          cmaes (full covariance) or sepcmaes (diagonal)\n"
    "  --fn NAME         sphere, ellipsoid, rosenbrock, rastrigin, cigar, tablet,\n"
    "                    discus, diffpowers, elli_rot\n"
    "  --dim N           dimension (>= 1; >= 2 for sepcmaes)\n"
    "  --seed S          random seed (default 1)\n"
    "  --target T        stop when f < T (default 1e-8)\n"
    "  --x0 X0           start point coordinate (default 3)\n"
    "  --sigma0 S0       initial step size (default 2)\n"
    "  --popsize L       population size (default 4 + floor(3 ln n))\n"
    "  --restarts R      none, ipop or bipop (default none)\n"
    "  --max-restarts K  large restarts after the first run (default 9)\n"
    "  --max-evals E     evaluation budget over all runs (default 1e4 n^2 capped at 1e8)\n"
    "  --json            print one JSON object instead of key=value lines\n";

static const char *algo_names[] = {"cmaes", "sepcmaes"};
#define NALGOS 2

typedef struct {
    lux_testfn_fn fn;
} objective_ctx_t;

static double objective(const double *x, size_t n, void *ctx)
{
    return ((objective_ctx_t *)ctx)->fn(x, n);
}

int lux_cmd_optimize(int argc, char **argv)
{
    const char *cmd = "optimize";
    const char *algo = NULL, *fn_name = NULL, *restarts = "none";
    long dim = 0, seed = 1, popsize = 0, max_restarts = 9, max_evals = 0;
    double target = 1e-8, x0v = 3.0, sigma0 = 2.0;
    int json = 0;
    const lux_opt_t opts[] = {
        {"--algo", NULL, LUX_OPT_STRING, &algo},
        {"--fn", NULL, LUX_OPT_STRING, &fn_name},
        {"--dim", NULL, LUX_OPT_INT, &dim},
        {"--seed", NULL, LUX_OPT_INT, &seed},
        {"--target", NULL, LUX_OPT_DOUBLE, &target},
        {"--x0", NULL, LUX_OPT_DOUBLE, &x0v},
        {"--sigma0", NULL, LUX_OPT_DOUBLE, &sigma0},
        {"--popsize", NULL, LUX_OPT_INT, &popsize},
        {"--restarts", NULL, LUX_OPT_STRING, &restarts},
        {"--max-restarts", NULL, LUX_OPT_INT, &max_restarts},
        {"--max-evals", NULL, LUX_OPT_INT, &max_evals},
        {"--json", NULL, LUX_OPT_FLAG, &json},
    };
    if (lux_cli_parse(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (algo == NULL)
        return lux_cli_usage_error(cmd, "--algo is required (cmaes or sepcmaes)");
    int diagonal = -1;
    for (int i = 0; i < NALGOS; i++)
        if (strcmp(algo, algo_names[i]) == 0)
            diagonal = i;
    if (diagonal < 0) {
        const char *s = lux_suggest(algo, algo_names, NALGOS);
        if (s != NULL)
            return lux_cli_usage_error(cmd, "unknown --algo '%s'; did you mean '%s'?", algo, s);
        return lux_cli_usage_error(cmd, "unknown --algo '%s' (cmaes or sepcmaes)", algo);
    }
    if (fn_name == NULL)
        return lux_cli_usage_error(cmd, "--fn is required (run 'lux optimize --help' for names)");
    const lux_testfn_t *fn = lux_testfn_find(fn_name);
    if (fn == NULL) {
        size_t count = lux_testfn_count();
        const char *names[32];
        for (size_t i = 0; i < count && i < 32; i++)
            names[i] = lux_testfn_at(i)->name;
        const char *s = lux_suggest(fn_name, names, count < 32 ? count : 32);
        if (s != NULL)
            return lux_cli_usage_error(cmd, "unknown --fn '%s'; did you mean '%s'?", fn_name, s);
        return lux_cli_usage_error(cmd, "unknown --fn '%s'", fn_name);
    }
    if (dim < 1 || dim > 100000 || (diagonal && dim < 2))
        return lux_cli_usage_error(cmd, "--dim must be 1..100000 (2.. for sepcmaes), not %ld", dim);
    if (!diagonal && dim > 5000)
        return lux_cli_usage_error(cmd,
                                   "--dim %ld is too large for full CMA-ES (at most 5000; "
                                   "use --algo sepcmaes)",
                                   dim);
    if (!(sigma0 > 0))
        return lux_cli_usage_error(cmd, "--sigma0 must be > 0");
    if (popsize < 0 || popsize == 1 || popsize > 1000000)
        return lux_cli_usage_error(cmd, "--popsize must be >= 2 (or 0 for the default)");
    if (seed < 0)
        return lux_cli_usage_error(cmd, "--seed must be >= 0");
    if (max_restarts < 0 || max_evals < 0)
        return lux_cli_usage_error(cmd, "--max-restarts and --max-evals must be >= 0");
    lux_restarts_opts_t ropts;
    lux_restarts_opts_default(&ropts);
    if (lux_restarts_parse_kind(restarts, &ropts.kind) != 0)
        return lux_cli_usage_error(cmd, "unknown --restarts '%s' (none, ipop or bipop)", restarts);
    ropts.max_restarts = (int)max_restarts;
    ropts.ftarget = target;
    double n = (double)dim;
    ropts.max_evals = max_evals > 0 ? max_evals : (long)fmin(1e8, 1e4 * n * n + 1e5);

    lux_cmaes_opts_t o;
    lux_cmaes_opts_default(&o);
    o.diagonal = diagonal;
    o.popsize = (int)popsize;
    o.seed = (uint64_t)seed;
    double *x0 = malloc((size_t)dim * sizeof(double));
    if (x0 == NULL) {
        fprintf(stderr, "lux optimize: out of memory\n");
        return LUX_EXIT_FAILURE;
    }
    for (long i = 0; i < dim; i++)
        x0[i] = x0v;
    objective_ctx_t ctx = {fn->fn};
    lux_restarts_t *r = NULL;
    int rc = lux_restarts_minimize((size_t)dim, x0, sigma0, &o, &ropts, objective, &ctx, &r);
    free(x0);
    if (rc != 0) {
        fprintf(stderr, "lux optimize: %s failed: %s\n", algo, lux_strerror(rc));
        return LUX_EXIT_FAILURE;
    }
    char reason[32];
    lux_restarts_done(r, reason, sizeof reason);
    double best = lux_restarts_best(r, NULL);
    long evals = lux_restarts_evaluations(r);
    int runs = lux_restarts_runs(r);
    const lux_cmaes_t *es = lux_restarts_current(r);
    int reached = best < target;
    if (json)
        printf("{\"algo\": \"%s\", \"fn\": \"%s\", \"dim\": %ld, \"seed\": %ld, \"target\": %.17g, "
               "\"restarts\": \"%s\", \"evaluations\": %ld, \"f\": %.17g, \"reached\": %s, "
               "\"runs\": %d, \"stop\": \"%s\", \"last_popsize\": %d, \"last_sigma\": %.17g}\n",
               algo, fn->name, dim, seed, target, restarts, evals, best, reached ? "true" : "false",
               runs, reason, lux_cmaes_popsize(es), lux_cmaes_sigma(es));
    else
        printf("algo=%s fn=%s dim=%ld seed=%ld target=%g restarts=%s\n"
               "evaluations=%ld\nf=%.10g\nreached=%s\nruns=%d\nstop=%s\n",
               algo, fn->name, dim, seed, target, restarts, evals, best, reached ? "yes" : "no",
               runs, reason);
    lux_restarts_destroy(&r);
    return reached ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
