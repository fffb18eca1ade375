/*
 * Policies: shapes and the flat parameter layout, batched forward equal to
 * one-at-a-time forward, gradient checks of the MLP and of the A3C loss by
 * central finite differences, heads, GAE; the float32 batched path: the
 * accuracy of its exp and tanh, agreement with the double network, and
 * rows independent of the batch they are computed in.
 */
#include "policy.h"
#include "policy_loss.h"
#include "test.h"
#include "vecmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lux_policy_spec_t mlp_spec(lux_activation_t act, lux_head_t head, int value_head)
{
    lux_policy_spec_t s;
    memset(&s, 0, sizeof s);
    s.obs_dim = 4;
    s.num_hidden = 2;
    s.hidden[0] = 7;
    s.hidden[1] = 5;
    s.activation = act;
    s.head = head;
    s.action_dim = head == LUX_HEAD_DISCRETE ? 3 : 2;
    for (int i = 0; i < 2; i++) {
        s.action_low[i] = -2.0;
        s.action_high[i] = 1.0;
    }
    s.value_head = value_head;
    s.log_std_init = -0.3;
    return s;
}

static void random_params(lux_policy_t *p, uint64_t seed, double scale)
{
    lux_rng_t rng;
    lux_rng_seed(&rng, seed);
    double *w = lux_policy_params(p);
    for (size_t i = 0; i < lux_policy_num_params(p); i++)
        w[i] = scale * lux_rng_normal(&rng);
}

LUX_TEST(num_params_layout)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, LUX_HEAD_DISCRETE, 0);
    s.hidden[0] = 64;
    s.hidden[1] = 64;
    s.action_dim = 2;
    lux_policy_t *p = lux_policy_new(&s);
    LUX_CHECK(p != NULL);
    LUX_CHECK_INT_EQ(lux_policy_num_params(p), 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
    lux_policy_destroy(&p);
    LUX_CHECK(p == NULL);
    s.num_hidden = 0; /* linear */
    s.head = LUX_HEAD_GAUSSIAN;
    s.action_dim = 1;
    s.action_low[0] = -1;
    s.action_high[0] = 1;
    s.value_head = 1;
    p = lux_policy_new(&s);
    LUX_CHECK_INT_EQ(lux_policy_num_params(p), 4 * 2 + 2 + 1);
    LUX_CHECK_INT_EQ(lux_policy_num_outputs(p), 2);
    lux_policy_destroy(&p);
    s.action_dim = 0;
    LUX_CHECK(lux_policy_new(&s) == NULL);
}

LUX_TEST(linear_forward_by_hand)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, LUX_HEAD_DISCRETE, 0);
    s.num_hidden = 0;
    s.obs_dim = 2;
    s.action_dim = 2;
    lux_policy_t *p = lux_policy_new(&s);
    /* W = [[1,2],[3,4]], b = [0.5,-1] */
    double w[] = {1, 2, 3, 4, 0.5, -1};
    lux_policy_set_params(p, w);
    double x[] = {1, -1};
    const double *y;
    LUX_CHECK_OK(lux_policy_forward(p, x, 1, &y));
    LUX_CHECK_NEAR(y[0], 1 - 2 + 0.5, 1e-15);
    LUX_CHECK_NEAR(y[1], 3 - 4 - 1, 1e-15);
    double a;
    s.argmax = 1;
    lux_policy_destroy(&p);
    p = lux_policy_new(&s);
    lux_policy_set_params(p, w);
    LUX_CHECK_OK(lux_policy_act(p, x, NULL, &a, NULL));
    LUX_CHECK_DBL(a, ==, 0.0);
    lux_policy_destroy(&p);
}

LUX_TEST(batched_forward_matches_single)
{
    for (int act = 0; act < 2; act++) {
        lux_policy_spec_t s = mlp_spec((lux_activation_t)act, LUX_HEAD_DISCRETE, 1);
        lux_policy_t *p = lux_policy_new(&s);
        random_params(p, 7, 0.5);
        int no = lux_policy_num_outputs(p);
        double obs[9 * 4];
        lux_rng_t rng;
        lux_rng_seed(&rng, 3);
        for (int i = 0; i < 36; i++)
            obs[i] = lux_rng_normal(&rng);
        const double *y;
        LUX_CHECK_OK(lux_policy_forward(p, obs, 9, &y));
        double batched[9 * 4];
        memcpy(batched, y, sizeof(double) * 9 * (size_t)no);
        for (int r = 0; r < 9; r++) {
            LUX_CHECK_OK(lux_policy_forward(p, obs + 4 * r, 1, &y));
            for (int j = 0; j < no; j++)
                LUX_CHECK_NEAR(y[j], batched[r * no + j], 1e-12);
        }
        lux_policy_destroy(&p);
    }
}

/* Loss = sum of c_j * out_j; checks lux_policy_backward against central
 * differences for every parameter. */
LUX_TEST(mlp_gradient_check)
{
    for (int act = 0; act < 2; act++) {
        lux_policy_spec_t s = mlp_spec((lux_activation_t)act, LUX_HEAD_DISCRETE, 1);
        lux_policy_t *p = lux_policy_new(&s);
        random_params(p, 11 + (uint64_t)act, 0.6);
        size_t n = lux_policy_num_params(p);
        int no = lux_policy_num_outputs(p), batch = 5;
        double obs[5 * 4], c[5 * 4];
        lux_rng_t rng;
        lux_rng_seed(&rng, 5);
        for (int i = 0; i < 20; i++)
            obs[i] = lux_rng_normal(&rng);
        for (int i = 0; i < batch * no; i++)
            c[i] = lux_rng_normal(&rng);
        double *grad = calloc(n, sizeof *grad);
        const double *y;
        LUX_CHECK_OK(lux_policy_forward(p, obs, batch, &y));
        lux_policy_backward(p, c, grad);
        double *w = lux_policy_params(p);
        double worst = 0.0;
        for (size_t i = 0; i < n; i++) {
            double keep = w[i], h = 1e-6, lp = 0, lm = 0;
            w[i] = keep + h;
            LUX_CHECK_OK(lux_policy_forward(p, obs, batch, &y));
            for (int j = 0; j < batch * no; j++)
                lp += c[j] * y[j];
            w[i] = keep - h;
            LUX_CHECK_OK(lux_policy_forward(p, obs, batch, &y));
            for (int j = 0; j < batch * no; j++)
                lm += c[j] * y[j];
            w[i] = keep;
            double fd = (lp - lm) / (2 * h);
            double err = fabs(fd - grad[i]) / fmax(1.0, fabs(fd));
            if (err > worst)
                worst = err;
        }
        LUX_CHECK_DBL(worst, <, 1e-6);
        free(grad);
        lux_policy_destroy(&p);
    }
}

static void a3c_gradient_check(lux_head_t head)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, head, 1);
    lux_policy_t *p = lux_policy_new(&s);
    random_params(p, 21, 0.5);
    size_t n = lux_policy_num_params(p);
    int batch = 6, k = s.action_dim;
    double obs[6 * 4], actions[6 * 2], adv[6], vt[6];
    lux_rng_t rng;
    lux_rng_seed(&rng, 9);
    for (int i = 0; i < 24; i++)
        obs[i] = lux_rng_normal(&rng);
    for (int t = 0; t < batch; t++) {
        if (head == LUX_HEAD_DISCRETE)
            actions[t] = (double)lux_rng_below(&rng, (uint64_t)k);
        else
            for (int j = 0; j < k; j++)
                actions[t * k + j] = lux_rng_normal(&rng);
        adv[t] = lux_rng_normal(&rng);
        vt[t] = lux_rng_normal(&rng);
    }
    double *grad = calloc(n, sizeof *grad);
    lux_a3c_loss_t loss;
    LUX_CHECK_OK(lux_a3c_loss(p, obs, actions, adv, vt, batch, 0.5, 0.01, grad, &loss));
    LUX_CHECK(loss.entropy > 0.0);
    double *w = lux_policy_params(p), worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double keep = w[i], h = 1e-6;
        lux_a3c_loss_t lp, lm;
        w[i] = keep + h;
        LUX_CHECK_OK(lux_a3c_loss(p, obs, actions, adv, vt, batch, 0.5, 0.01, NULL, &lp));
        w[i] = keep - h;
        LUX_CHECK_OK(lux_a3c_loss(p, obs, actions, adv, vt, batch, 0.5, 0.01, NULL, &lm));
        w[i] = keep;
        double fd = (lp.total - lm.total) / (2 * h);
        double err = fabs(fd - grad[i]) / fmax(1.0, fabs(fd));
        if (err > worst)
            worst = err;
    }
    LUX_CHECK_DBL(worst, <, 1e-6);
    free(grad);
    lux_policy_destroy(&p);
}

LUX_TEST(a3c_loss_gradient_check_discrete)
{
    a3c_gradient_check(LUX_HEAD_DISCRETE);
}

LUX_TEST(a3c_loss_gradient_check_gaussian)
{
    a3c_gradient_check(LUX_HEAD_GAUSSIAN);
}

LUX_TEST(softmax_sampling_frequencies)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, LUX_HEAD_DISCRETE, 0);
    s.num_hidden = 0;
    s.obs_dim = 1;
    s.action_dim = 3;
    lux_policy_t *p = lux_policy_new(&s);
    /* W = 0, b = log([0.2, 0.3, 0.5]) */
    double w[] = {0, 0, 0, log(0.2), log(0.3), log(0.5)};
    lux_policy_set_params(p, w);
    lux_rng_t rng;
    lux_rng_seed(&rng, 1);
    int counts[3] = {0};
    double x = 0.3, a;
    for (int i = 0; i < 20000; i++) {
        LUX_CHECK_OK(lux_policy_act(p, &x, &rng, &a, NULL));
        counts[(int)a]++;
    }
    LUX_CHECK_NEAR(counts[0] / 20000.0, 0.2, 0.015);
    LUX_CHECK_NEAR(counts[1] / 20000.0, 0.3, 0.015);
    LUX_CHECK_NEAR(counts[2] / 20000.0, 0.5, 0.015);
    lux_policy_destroy(&p);
}

LUX_TEST(continuous_heads_respect_bounds)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_RELU, LUX_HEAD_DETERMINISTIC, 0);
    lux_policy_t *p = lux_policy_new(&s);
    random_params(p, 3, 5.0);
    lux_rng_t rng;
    lux_rng_seed(&rng, 2);
    double lo = 1e9, hi = -1e9;
    for (int i = 0; i < 200; i++) {
        double x[4], a[2];
        for (int j = 0; j < 4; j++)
            x[j] = 3 * lux_rng_normal(&rng);
        LUX_CHECK_OK(lux_policy_act(p, x, &rng, a, NULL));
        for (int j = 0; j < 2; j++) {
            lo = fmin(lo, a[j]);
            hi = fmax(hi, a[j]);
        }
    }
    LUX_CHECK_DBL(lo, >=, -2.0);
    LUX_CHECK_DBL(hi, <=, 1.0);
    LUX_CHECK_DBL(hi - lo, >, 1.0); /* the scaling uses the range */
    lux_policy_destroy(&p);

    s.head = LUX_HEAD_GAUSSIAN;
    p = lux_policy_new(&s);
    LUX_CHECK_NEAR(lux_policy_params(p)[lux_policy_log_std_offset(p)], -0.3, 0);
    double x[4] = {0}, a[2], raw[2];
    int clipped = 0;
    lux_policy_params(p)[lux_policy_log_std_offset(p)] = 1.5;
    for (int i = 0; i < 200; i++) {
        LUX_CHECK_OK(lux_policy_act(p, x, &rng, a, raw));
        LUX_CHECK(a[0] >= -2.0 && a[0] <= 1.0);
        clipped += raw[0] != a[0];
    }
    LUX_CHECK_INT(clipped, >, 0);
    lux_policy_destroy(&p);
}

LUX_TEST(normc_init)
{
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, LUX_HEAD_DISCRETE, 1);
    lux_policy_t *p = lux_policy_new(&s), *q = lux_policy_new(&s);
    lux_rng_t r1, r2;
    lux_rng_seed(&r1, 42);
    lux_rng_seed(&r2, 42);
    lux_policy_init_params(p, &r1);
    lux_policy_init_params(q, &r2);
    LUX_CHECK(memcmp(lux_policy_params(p), lux_policy_params(q),
                     lux_policy_num_params(p) * sizeof(double)) == 0);
    /* First layer: 7 rows of 4, each of norm 1. */
    const double *w = lux_policy_params(p);
    for (int r = 0; r < 7; r++) {
        double n2 = 0;
        for (int c = 0; c < 4; c++)
            n2 += w[r * 4 + c] * w[r * 4 + c];
        LUX_CHECK_NEAR(n2, 1.0, 1e-12);
    }
    lux_policy_destroy(&p);
    lux_policy_destroy(&q);
}

LUX_TEST(gae_lambda_one_is_discounted_return)
{
    double r[] = {1, 1, 1}, v[] = {0.5, 0.2, -0.1}, adv[3], vt[3];
    lux_gae(r, v, 3, 2.0, 0.9, 1.0, adv, vt);
    double ret2 = 1 + 0.9 * 2.0, ret1 = 1 + 0.9 * ret2, ret0 = 1 + 0.9 * ret1;
    LUX_CHECK_NEAR(vt[0], ret0, 1e-12);
    LUX_CHECK_NEAR(vt[1], ret1, 1e-12);
    LUX_CHECK_NEAR(vt[2], ret2, 1e-12);
    LUX_CHECK_NEAR(adv[0], ret0 - 0.5, 1e-12);
    lux_gae(r, v, 3, 0.0, 0.9, 0.0, adv, vt); /* lambda 0: one-step TD */
    LUX_CHECK_NEAR(adv[1], 1 + 0.9 * -0.1 - 0.2, 1e-12);
    LUX_CHECK_NEAR(adv[2], 1 - -0.1, 1e-12);
}

/* Relative error of the vectorised exp against libm's double exp over a
 * dense grid of [-87, 88] (every 2^-12, plus the softmax range [-20, 0]
 * every 2^-16): the bound docs/trainables.md and rl/vecmath.h state. */
LUX_TEST(vecmath_exp_relative_error)
{
    enum { N = 1 << 16 };
    static float x[N], y[N];
    double worst = 0.0, at = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        double lo = pass == 0 ? -87.0 : -20.0, step = pass == 0 ? 1.0 / 4096 : 1.0 / 65536;
        double hi = pass == 0 ? 88.0 : 0.0;
        for (double start = lo; start < hi; start += N * step) {
            int n = 0;
            for (; n < N && start + n * step <= hi; n++)
                x[n] = (float)(start + n * step);
            lux_vecmath_exp(x, y, (size_t)n);
            for (int i = 0; i < n; i++) {
                double ref = exp((double)x[i]);
                double rel = fabs((double)y[i] - ref) / ref;
                if (rel > worst) {
                    worst = rel;
                    at = x[i];
                }
            }
        }
    }
    printf("exp: max relative error %.3g at x = %.6g\n", worst, at);
    LUX_CHECK_MSG(worst < 3e-7, "max relative error %g at %g", worst, at);
    float big[3] = {-1000.0f, 0.0f, 1000.0f}, out[3];
    lux_vecmath_exp(big, out, 3); /* clamped, finite */
    LUX_CHECK(out[0] > 0.0f && out[0] < 1e-37f);
    LUX_CHECK_DBL(out[1], ==, 1.0);
    LUX_CHECK(isfinite(out[2]) && out[2] > 1e38f);
}

LUX_TEST(vecmath_tanh_error)
{
    enum { N = 1 << 16 };
    static float x[N], y[N];
    double worst_abs = 0.0, worst_rel = 0.0;
    for (double start = -12.0; start < 12.0; start += N / 8192.0) {
        for (int i = 0; i < N; i++)
            x[i] = (float)(start + i / 8192.0);
        lux_vecmath_tanh(x, y, N);
        for (int i = 0; i < N; i++) {
            double ref = tanh((double)x[i]), d = fabs((double)y[i] - ref);
            worst_abs = fmax(worst_abs, d);
            if (ref != 0.0)
                worst_rel = fmax(worst_rel, d / fabs(ref));
        }
    }
    printf("tanh: max absolute error %.3g, max relative error %.3g\n", worst_abs, worst_rel);
    LUX_CHECK_MSG(worst_abs < 2e-7, "abs %g", worst_abs);
    LUX_CHECK_MSG(worst_rel < 5e-7, "rel %g", worst_rel);
    float t[2] = {0.0f, -50.0f}, o[2];
    lux_vecmath_tanh(t, o, 2);
    LUX_CHECK_DBL(o[0], ==, 0.0);
    LUX_CHECK_DBL(o[1], ==, -1.0);
}

/* The float32 copy acts like the double network: the deterministic head's
 * actions agree to float precision, and argmax picks the same action
 * wherever the double logits are not nearly tied. */
LUX_TEST(f32_matches_double)
{
    lux_activation_t acts[2] = {LUX_ACTIVATION_TANH, LUX_ACTIVATION_RELU};
    for (int a = 0; a < 2; a++) {
        lux_policy_spec_t s = mlp_spec(acts[a], LUX_HEAD_DETERMINISTIC, 0);
        lux_policy_t *p = lux_policy_new(&s);
        random_params(p, 11 + (uint64_t)a, 0.7);
        lux_policy_f32_t *f = lux_policy_f32_new(p);
        LUX_CHECK(f != NULL);
        lux_rng_t rng;
        lux_rng_seed(&rng, 5);
        enum { ROWS = 37 };
        float obs[ROWS * 4];
        double x[4], want[2], got[ROWS * 2];
        lux_rng_t *rngs[ROWS];
        for (int i = 0; i < ROWS * 4; i++)
            obs[i] = (float)(2.0 * lux_rng_normal(&rng));
        for (int j = 0; j < ROWS; j++)
            rngs[j] = &rng;
        lux_policy_f32_act(f, obs, ROWS, rngs, got);
        for (int j = 0; j < ROWS; j++) {
            for (int i = 0; i < 4; i++)
                x[i] = obs[j * 4 + i];
            LUX_CHECK_OK(lux_policy_act(p, x, &rng, want, NULL));
            for (int i = 0; i < 2; i++)
                LUX_CHECK_NEAR(got[j * 2 + i], want[i], 2e-5 * 3.0);
        }
        lux_policy_f32_destroy(&f);
        lux_policy_destroy(&p);
    }
    lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, LUX_HEAD_DISCRETE, 0);
    s.argmax = 1;
    lux_policy_t *p = lux_policy_new(&s);
    random_params(p, 21, 1.0);
    lux_policy_f32_t *f = lux_policy_f32_new(p);
    lux_rng_t rng;
    lux_rng_seed(&rng, 6);
    int checked = 0;
    for (int j = 0; j < 200; j++) {
        float o[4];
        double x[4], want, got;
        for (int i = 0; i < 4; i++)
            x[i] = o[i] = (float)lux_rng_normal(&rng);
        lux_rng_t *r = &rng;
        lux_policy_f32_act(f, o, 1, &r, &got);
        LUX_CHECK_OK(lux_policy_act(p, x, &rng, &want, NULL));
        const double *y;
        LUX_CHECK_OK(lux_policy_forward(p, x, 1, &y));
        double gap = fabs(y[(int)want] - y[((int)want + 1) % 3]);
        gap = fmin(gap, fabs(y[(int)want] - y[((int)want + 2) % 3]));
        if (gap > 1e-4) {
            LUX_CHECK_DBL(got, ==, want);
            checked++;
        }
    }
    LUX_CHECK_INT(checked, >=, 190);
    lux_policy_f32_destroy(&f);
    lux_policy_destroy(&p);
}

/* A row's action and its random draws do not depend on its batch: the same
 * rows, acted in batches of 1, 5, 8 and 29 from generators in the same
 * states, give bit-identical actions (sampling and gaussian heads). */
LUX_TEST(f32_rows_independent_of_batch)
{
    lux_head_t heads[2] = {LUX_HEAD_DISCRETE, LUX_HEAD_GAUSSIAN};
    for (int h = 0; h < 2; h++) {
        lux_policy_spec_t s = mlp_spec(LUX_ACTIVATION_TANH, heads[h], 0);
        lux_policy_t *p = lux_policy_new(&s);
        random_params(p, 31, 1.5);
        lux_policy_f32_t *f = lux_policy_f32_new(p);
        enum { ROWS = 29 };
        float obs[ROWS * 4];
        lux_rng_t init;
        lux_rng_seed(&init, 8);
        for (int i = 0; i < ROWS * 4; i++)
            obs[i] = (float)lux_rng_normal(&init);
        double ref[ROWS * 2];
        int sizes[4] = {1, 5, 8, 29}, stride = heads[h] == LUX_HEAD_DISCRETE ? 1 : s.action_dim;
        for (int b = 0; b < 4; b++) {
            lux_rng_t rng[ROWS];
            lux_rng_t *rp[ROWS];
            double got[ROWS * 2];
            for (int j = 0; j < ROWS; j++) {
                lux_rng_seed(&rng[j], 100 + (uint64_t)j);
                rp[j] = &rng[j];
            }
            for (int j0 = 0; j0 < ROWS; j0 += sizes[b]) {
                int n = ROWS - j0 < sizes[b] ? ROWS - j0 : sizes[b];
                lux_policy_f32_act(f, obs + j0 * 4, n, rp + j0, got + j0 * stride);
            }
            for (int i = 0; i < ROWS * stride; i++) {
                if (b == 0)
                    ref[i] = got[i];
                LUX_CHECK_DBL(got[i], ==, ref[i]);
            }
        }
        lux_policy_f32_destroy(&f);
        lux_policy_destroy(&p);
    }
}
