/*
 * Tests of search spaces: every distribution's bounds, scale and
 * quantisation against Ray's semantics, checked statistically with fixed
 * seeds (Kolmogorov-Smirnov and chi-square with generous thresholds), grid
 * expansion order, determinism of trial configs, and the RNG.
 */
#include "test.h"

#include "yaml_tree.h"
#include "error.h"
#include "space.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 20000

static lux_space_t *parse(const char *yaml)
{
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    int rc = lux_yaml_parse(yaml, strlen(yaml), "t.yaml", &root, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "parse: %s", err);
    lux_space_t *s = NULL;
    rc = lux_space_from_node(root, "t.yaml", LUX_SPACE_CONFIG, &s, err, sizeof err);
    lux_yaml_node_destroy(&root);
    LUX_CHECK_MSG(rc == 0, "space: %s", err);
    return s;
}

/* Draws N values of variable `x` with trial configs 0..N-1. */
static double *draw(const lux_space_t *s, uint64_t seed, bool *all_int)
{
    double *v = malloc(N * sizeof *v);
    *all_int = true;
    for (long k = 0; k < N; k++) {
        json_t *cfg = NULL;
        LUX_CHECK_OK(lux_space_trial_config(s, seed, k, &cfg));
        json_t *x = json_object_get(cfg, "x");
        LUX_CHECK(json_is_number(x));
        if (!json_is_integer(x))
            *all_int = false;
        v[k] = json_number_value(x);
        json_decref(cfg);
    }
    return v;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Kolmogorov-Smirnov statistic of v[0..n) against cdf. */
static double ks(double *v, size_t n, double (*cdf)(double, const double *), const double *prm)
{
    qsort(v, n, sizeof *v, cmp);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(v[i], prm);
        double a = fabs((double)(i + 1) / (double)n - f), b = fabs(f - (double)i / (double)n);
        d = fmax(d, fmax(a, b));
    }
    return d;
}

/* A KS threshold far above the 0.1% critical value 1.95/sqrt(n). */
#define KS_LIMIT (2.5 / sqrt((double)N))

static double cdf_uniform(double x, const double *p)
{
    return x <= p[0] ? 0 : x >= p[1] ? 1 : (x - p[0]) / (p[1] - p[0]);
}

static double cdf_normal(double x, const double *p)
{
    return 0.5 * erfc(-(x - p[0]) / (p[1] * sqrt(2)));
}

/* Chi-square statistic of counts against probabilities. */
static double chi2(const long *count, const double *prob, size_t k, long n)
{
    double c = 0;
    for (size_t i = 0; i < k; i++) {
        double e = prob[i] * (double)n;
        c += (count[i] - e) * (count[i] - e) / e;
    }
    return c;
}

LUX_TEST(rng_is_deterministic_and_round_trips)
{
    lux_rng_t a, b;
    lux_rng_seed(&a, 42);
    lux_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        LUX_CHECK(lux_rng_next(&a) == lux_rng_next(&b));
    lux_rng_seed_stream(&a, 42, 1);
    lux_rng_seed_stream(&b, 42, 2);
    LUX_CHECK(lux_rng_next(&a) != lux_rng_next(&b));
    json_t *j = lux_rng_to_json(&a);
    LUX_CHECK_OK(lux_rng_from_json(&b, j));
    for (int i = 0; i < 10; i++)
        LUX_CHECK(lux_rng_next(&a) == lux_rng_next(&b));
    json_decref(j);
    json_t *bad = json_pack("[s,s]", "00", "11");
    LUX_CHECK_ERR(lux_rng_from_json(&b, bad), LUX_EINVAL);
    json_decref(bad);
    for (int i = 0; i < 10000; i++) {
        int64_t x = lux_rng_int(&a, -3, 4);
        LUX_CHECK(x >= -3 && x < 4);
        double u = lux_rng_uniform(&a);
        LUX_CHECK(u >= 0 && u < 1);
    }
}

LUX_TEST(uniform_bounds_and_ks)
{
    lux_space_t *s = parse("x: {uniform: [-2, 3]}");
    bool ints;
    double *v = draw(s, 1, &ints);
    LUX_CHECK(!ints);
    for (int i = 0; i < N; i++)
        LUX_CHECK(v[i] >= -2 && v[i] < 3);
    double prm[2] = {-2, 3};
    LUX_CHECK_DBL(ks(v, N, cdf_uniform, prm), <, KS_LIMIT);
    free(v);
    lux_space_destroy(&s);
    LUX_CHECK(s == NULL);
}

LUX_TEST(loguniform_is_uniform_in_log10)
{
    lux_space_t *s = parse("x: {loguniform: [1e-4, 1e-1]}");
    bool ints;
    double *v = draw(s, 2, &ints);
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] >= 1e-4 && v[i] <= 1e-1);
        v[i] = log10(v[i]);
    }
    double prm[2] = {-4, -1};
    LUX_CHECK_DBL(ks(v, N, cdf_uniform, prm), <, KS_LIMIT);
    free(v);
    lux_space_destroy(&s);

    /* The base changes nothing about the distribution of log(x) but is
     * accepted as the third argument. */
    s = parse("x: {loguniform: [1, 1024, 2]}");
    v = draw(s, 3, &ints);
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] >= 1 && v[i] <= 1024);
        v[i] = log2(v[i]);
    }
    double prm2[2] = {0, 10};
    LUX_CHECK_DBL(ks(v, N, cdf_uniform, prm2), <, KS_LIMIT);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(quniform_rounds_to_multiples_with_half_weight_ends)
{
    /* Ray: sample uniform in [0, 1] then np.round(x/q)*q: the two ends get
     * half the weight of the inner values. */
    lux_space_t *s = parse("x: {quniform: [0, 1, 0.25]}");
    bool ints;
    double *v = draw(s, 4, &ints);
    long count[5] = {0};
    for (int i = 0; i < N; i++) {
        double k = v[i] / 0.25;
        LUX_CHECK_NEAR(k, rint(k), 1e-9);
        LUX_CHECK(k >= 0 && k <= 4);
        count[(int)rint(k)]++;
    }
    double prob[5] = {0.125, 0.25, 0.25, 0.25, 0.125};
    LUX_CHECK_DBL(chi2(count, prob, 5, N), <, 30); /* df 4: p(>18.5) = 0.001 */
    free(v);
    lux_space_destroy(&s);

    /* Bounds move inward to multiples of q: [0.3, 2.2] with q 0.5 gives
     * 0.5 .. 2.0. */
    s = parse("x: {quniform: [0.3, 2.2, 0.5]}");
    v = draw(s, 5, &ints);
    double lo = 9, hi = -9;
    for (int i = 0; i < N; i++) {
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    LUX_CHECK_NEAR(lo, 0.5, 1e-12);
    LUX_CHECK_NEAR(hi, 2.0, 1e-12);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(qloguniform_quantises_a_log_scale)
{
    lux_space_t *s = parse("x: {qloguniform: [1, 1000, 10]}");
    bool ints;
    double *v = draw(s, 6, &ints);
    long below100 = 0;
    for (int i = 0; i < N; i++) {
        LUX_CHECK_NEAR(v[i] / 10, rint(v[i] / 10), 1e-9);
        LUX_CHECK(v[i] >= 10 && v[i] <= 1000);
        below100 += v[i] < 95; /* 10^u < 95 <=> u < log10(95): from log10(10)=1 to 3 */
    }
    double p = (log10(95) - 1) / 2;
    LUX_CHECK_NEAR((double)below100 / N, p, 0.02);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(randint_excludes_upper_bound)
{
    lux_space_t *s = parse("x: {randint: [-2, 3]}");
    bool ints;
    double *v = draw(s, 7, &ints);
    LUX_CHECK(ints);
    long count[5] = {0};
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] >= -2 && v[i] <= 2);
        count[(int)v[i] + 2]++;
    }
    double prob[5] = {0.2, 0.2, 0.2, 0.2, 0.2};
    LUX_CHECK_DBL(chi2(count, prob, 5, N), <, 30);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(qrandint_includes_upper_bound)
{
    /* q = 1: inclusive [1, 4]. */
    lux_space_t *s = parse("x: {qrandint: [1, 4]}");
    bool ints;
    double *v = draw(s, 8, &ints);
    LUX_CHECK(ints);
    long count[4] = {0};
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] >= 1 && v[i] <= 4);
        count[(int)v[i] - 1]++;
    }
    double prob[4] = {0.25, 0.25, 0.25, 0.25};
    LUX_CHECK_DBL(chi2(count, prob, 4, N), <, 30);
    free(v);
    lux_space_destroy(&s);

    /* q = 5 over [0, 10]: Ray draws an integer in [0, 10) and rounds x/5
     * half to even: 0 <- {0,1,2}, 5 <- {3..7}, 10 <- {8,9}. */
    s = parse("x: {qrandint: [0, 10, 5]}");
    v = draw(s, 9, &ints);
    LUX_CHECK(ints);
    long c3[3] = {0};
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] == 0 || v[i] == 5 || v[i] == 10);
        c3[(int)v[i] / 5]++;
    }
    double p3[3] = {0.3, 0.5, 0.2};
    LUX_CHECK_DBL(chi2(c3, p3, 3, N), <, 25); /* df 2: p(>13.8) = 0.001 */
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(lograndint_floor_of_loguniform_excludes_upper)
{
    lux_space_t *s = parse("x: {lograndint: [1, 100]}");
    bool ints;
    double *v = draw(s, 10, &ints);
    LUX_CHECK(ints);
    long ones = 0, below10 = 0;
    double hi = 0;
    for (int i = 0; i < N; i++) {
        LUX_CHECK(v[i] >= 1 && v[i] <= 99);
        ones += v[i] == 1;
        below10 += v[i] < 10;
        hi = fmax(hi, v[i]);
    }
    /* P(x = 1) = P(10^u < 2) = log10(2)/2; P(x < 10) = 1/2. */
    LUX_CHECK_NEAR((double)ones / N, log10(2) / 2, 0.015);
    LUX_CHECK_NEAR((double)below10 / N, 0.5, 0.02);
    LUX_CHECK_DBL(hi, >=, 95);
    free(v);
    lux_space_destroy(&s);

    /* The study's popsize: lograndint(30, 200). */
    s = parse("x: {lograndint: [30, 200]}");
    v = draw(s, 11, &ints);
    for (int i = 0; i < N; i++)
        LUX_CHECK(v[i] >= 30 && v[i] <= 199);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(qlograndint_multiples_of_q_upper_inclusive)
{
    lux_space_t *s = parse("x: {qlograndint: [1, 100, 5]}");
    bool ints;
    double *v = draw(s, 12, &ints);
    LUX_CHECK(ints);
    long tops = 0;
    for (int i = 0; i < N; i++) {
        LUX_CHECK((long)v[i] % 5 == 0);
        LUX_CHECK(v[i] >= 5 && v[i] <= 100);
        tops += v[i] == 100;
    }
    LUX_CHECK(tops > 0);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(randn_and_qrandn)
{
    lux_space_t *s = parse("x: {randn: [2, 3]}");
    bool ints;
    double *v = draw(s, 13, &ints);
    double prm[2] = {2, 3};
    LUX_CHECK_DBL(ks(v, N, cdf_normal, prm), <, KS_LIMIT);
    free(v);
    lux_space_destroy(&s);

    s = parse("x: {randn: []}");
    v = draw(s, 14, &ints);
    double prm01[2] = {0, 1};
    LUX_CHECK_DBL(ks(v, N, cdf_normal, prm01), <, KS_LIMIT);
    free(v);
    lux_space_destroy(&s);

    s = parse("x: {qrandn: [0, 10, 2.5]}");
    v = draw(s, 15, &ints);
    for (int i = 0; i < N; i++)
        LUX_CHECK_NEAR(v[i] / 2.5, rint(v[i] / 2.5), 1e-9);
    free(v);
    lux_space_destroy(&s);
}

LUX_TEST(choice_is_uniform_over_categories)
{
    lux_space_t *s = parse("x: {choice: [cmaes, sepcmaes, es]}\ny: 7\n");
    long count[3] = {0};
    const char *names[3] = {"cmaes", "sepcmaes", "es"};
    for (long k = 0; k < N; k++) {
        json_t *cfg = NULL;
        LUX_CHECK_OK(lux_space_trial_config(s, 16, k, &cfg));
        const char *x = json_string_value(json_object_get(cfg, "x"));
        LUX_CHECK(x != NULL);
        LUX_CHECK_INT_EQ(json_integer_value(json_object_get(cfg, "y")), 7);
        int found = 0;
        for (int i = 0; i < 3; i++)
            if (strcmp(x, names[i]) == 0) {
                count[i]++;
                found = 1;
            }
        LUX_CHECK(found);
        json_decref(cfg);
    }
    double prob[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    LUX_CHECK_DBL(chi2(count, prob, 3, N), <, 25);
    lux_space_destroy(&s);
}

LUX_TEST(grid_cross_product_first_path_fastest_repeated_per_sample)
{
    lux_space_t *s = parse("b: {grid_search: [x, y]}\n"
                           "a: {grid_search: [1, 2, 3]}\n"
                           "lr: {uniform: [0, 1]}\n");
    LUX_CHECK_INT_EQ(lux_space_grid_size(s), 6);
    LUX_CHECK_INT_EQ(lux_space_num_trials(s, 2), 12);
    const char *bs[2] = {"x", "y"};
    for (long k = 0; k < 12; k++) {
        json_t *cfg = NULL;
        LUX_CHECK_OK(lux_space_trial_config(s, 3, k, &cfg));
        /* "a" sorts before "b", so it varies fastest. */
        LUX_CHECK_INT_EQ(json_integer_value(json_object_get(cfg, "a")), 1 + k % 3);
        LUX_CHECK_STR_EQ(json_string_value(json_object_get(cfg, "b")), bs[(k / 3) % 2]);
        double lr = json_number_value(json_object_get(cfg, "lr"));
        LUX_CHECK(lr >= 0 && lr < 1);
        json_decref(cfg);
    }
    /* Random variables differ between the two samples of one grid point. */
    json_t *c0 = NULL, *c6 = NULL;
    LUX_CHECK_OK(lux_space_trial_config(s, 3, 0, &c0));
    LUX_CHECK_OK(lux_space_trial_config(s, 3, 6, &c6));
    LUX_CHECK(json_number_value(json_object_get(c0, "lr")) !=
              json_number_value(json_object_get(c6, "lr")));
    json_decref(c0);
    json_decref(c6);
    lux_space_destroy(&s);
}

LUX_TEST(nested_grid_paths_sort_component_wise)
{
    lux_space_t *s = parse("model:\n"
                           "  width: {grid_search: [8, 16]}\n"
                           "  depth: 2\n"
                           "model2: {grid_search: [a, b, c]}\n");
    LUX_CHECK_INT_EQ(lux_space_num_variables(s), 2);
    LUX_CHECK_STR_EQ(lux_space_variable(s, 0)->path, "model.width");
    LUX_CHECK_STR_EQ(lux_space_variable(s, 1)->path, "model2");
    json_t *cfg = NULL;
    LUX_CHECK_OK(lux_space_trial_config(s, 0, 3, &cfg));
    LUX_CHECK_INT_EQ(json_integer_value(lux_space_get_path(cfg, "model.width")), 16);
    LUX_CHECK_INT_EQ(json_integer_value(lux_space_get_path(cfg, "model.depth")), 2);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(cfg, "model2")), "b");
    json_decref(cfg);
    lux_space_destroy(&s);
}

LUX_TEST(trial_configs_are_pure_functions_of_seed_and_index)
{
    lux_space_t *s = parse("lr: {loguniform: [1e-4, 1e-2]}\n"
                           "pop: {lograndint: [30, 200]}\n"
                           "opt: {choice: [cmaes, sepcmaes]}\n"
                           "net: {hidden: {randint: [4, 21]}, act: relu}\n");
    json_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    LUX_CHECK_OK(lux_space_trial_config(s, 99, 5, &a));
    LUX_CHECK_OK(lux_space_trial_config(s, 99, 4, &c));
    LUX_CHECK_OK(lux_space_trial_config(s, 99, 5, &b));
    LUX_CHECK_OK(lux_space_trial_config(s, 100, 5, &d));
    LUX_CHECK(json_equal(a, b));
    LUX_CHECK(!json_equal(a, c));
    LUX_CHECK(!json_equal(a, d));
    LUX_CHECK_STR_EQ(json_string_value(lux_space_get_path(a, "net.act")), "relu");
    json_decref(c);
    LUX_CHECK_ERR(lux_space_trial_config(s, 99, -1, &c), LUX_ERANGE);
    LUX_CHECK(c == NULL);

    /* The spec reloads into a space that gives the same configs. */
    char err[256] = "";
    lux_space_t *s2 = NULL;
    LUX_CHECK_OK(lux_space_from_json(lux_space_spec(s), LUX_SPACE_CONFIG, &s2, err, sizeof err));
    LUX_CHECK(json_equal(lux_space_spec(s), lux_space_spec(s2)));
    json_t *a2 = NULL;
    LUX_CHECK_OK(lux_space_trial_config(s2, 99, 5, &a2));
    LUX_CHECK(json_equal(a, a2));
    json_decref(a);
    json_decref(a2);
    json_decref(b);
    json_decref(d);
    lux_space_destroy(&s);
    lux_space_destroy(&s2);
}

LUX_TEST(make_grid_enumerates_choices_and_rejects_continuous)
{
    lux_space_t *s = parse("opt: {choice: [cmaes, sepcmaes]}\nn: {grid_search: [1, 2]}\n");
    char err[256] = "";
    LUX_CHECK_OK(lux_space_make_grid(s, err, sizeof err));
    LUX_CHECK_INT_EQ(lux_space_grid_size(s), 4);
    lux_space_destroy(&s);
    s = parse("opt: {choice: [a, b]}\nlr:\n  {uniform: [0, 1]}\n");
    LUX_CHECK_ERR(lux_space_make_grid(s, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:3:4: 'lr' is a uniform distribution");
    lux_space_destroy(&s);
}

LUX_TEST(mutation_spaces_read_lists_as_categories)
{
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    const char *y = "batch: [16, 32, 64]\nlr: {loguniform: [1e-4, 1e-2]}\n";
    LUX_CHECK_OK(lux_yaml_parse(y, strlen(y), "m.yaml", &root, err, sizeof err));
    lux_space_t *m = NULL;
    LUX_CHECK_OK(lux_space_from_node(root, "m.yaml", LUX_SPACE_MUTATIONS, &m, err, sizeof err));
    LUX_CHECK_INT_EQ(lux_space_num_variables(m), 2);
    LUX_CHECK_INT_EQ(lux_space_find(m, "batch")->kind, LUX_DOMAIN_LIST);
    LUX_CHECK_INT_EQ(lux_space_find(m, "lr")->kind, LUX_DOMAIN_LOGUNIFORM);
    lux_space_destroy(&m);
    lux_yaml_node_destroy(&root);

    y = "lr: 0.1\n";
    LUX_CHECK_OK(lux_yaml_parse(y, strlen(y), "m.yaml", &root, err, sizeof err));
    LUX_CHECK_ERR(lux_space_from_node(root, "m.yaml", LUX_SPACE_MUTATIONS, &m, err, sizeof err),
                  LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "m.yaml:1:5: a PBT mutation must be a list");
    lux_yaml_node_destroy(&root);
}

LUX_TEST(paths_get_and_set)
{
    json_t *cfg = json_object();
    LUX_CHECK_OK(lux_space_set_path(cfg, "a.b.c", json_integer(3)));
    LUX_CHECK_INT_EQ(json_integer_value(lux_space_get_path(cfg, "a.b.c")), 3);
    LUX_CHECK(lux_space_get_path(cfg, "a.x") == NULL);
    LUX_CHECK(lux_space_get_path(cfg, "a.b.c.d") == NULL);
    LUX_CHECK_ERR(lux_space_set_path(cfg, "a.b.c.d", json_integer(1)), LUX_EINVAL);
    json_decref(cfg);
}
