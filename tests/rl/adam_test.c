/*
 * Tests of rl/adam: the update against the formula of docs/optimizers.md
 * computed by hand here, convergence on a quadratic, save/restore.
 */
#include "test.h"

#include "adam.h"
#include "alloc.h"
#include "error.h"

#include <math.h>
#include <string.h>

LUX_TEST(steps_match_formula)
{
    lux_adam_opts_t o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    lux_adam_t *a = NULL;
    LUX_CHECK_OK(lux_adam_new(2, &o, &a));
    double theta[2] = {1.0, -2.0};
    const double g1[2] = {0.5, -4.0}, g2[2] = {-1.0, 2.0};
    lux_adam_step(a, theta, g1);
    /* t = 1: m = 0.1 g, v = 0.001 g^2, a = 0.1 sqrt(0.001)/0.1, step = a m/(sqrt v + eps). */
    double m0 = 0.1 * 0.5, v0 = 0.001 * 0.25, m1 = 0.1 * -4.0, v1 = 0.001 * 16.0;
    double a1 = 0.1 * sqrt(1 - 0.999) / (1 - 0.9);
    double want0 = 1.0 - a1 * m0 / (sqrt(v0) + 1e-8), want1 = -2.0 - a1 * m1 / (sqrt(v1) + 1e-8);
    LUX_CHECK_NEAR(theta[0], want0, 1e-15);
    LUX_CHECK_NEAR(theta[1], want1, 1e-15);
    /* The first step moves every coordinate by about lr, whatever the scale. */
    LUX_CHECK_NEAR(theta[0], 0.9, 1e-6);
    LUX_CHECK_NEAR(theta[1], -1.9, 1e-6);
    lux_adam_step(a, theta, g2);
    m0 = 0.9 * m0 + 0.1 * -1.0;
    v0 = 0.999 * v0 + 0.001 * 1.0;
    m1 = 0.9 * m1 + 0.1 * 2.0;
    v1 = 0.999 * v1 + 0.001 * 4.0;
    double a2 = 0.1 * sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
    want0 -= a2 * m0 / (sqrt(v0) + 1e-8);
    want1 -= a2 * m1 / (sqrt(v1) + 1e-8);
    LUX_CHECK_NEAR(theta[0], want0, 1e-15);
    LUX_CHECK_NEAR(theta[1], want1, 1e-15);
    LUX_CHECK_INT_EQ(lux_adam_steps(a), 2);
    lux_adam_destroy(&a);
    LUX_CHECK(a == NULL);
}

LUX_TEST(minimises_a_quadratic)
{
    lux_adam_t *a = NULL;
    LUX_CHECK_OK(lux_adam_new(3, NULL, &a));
    double theta[3] = {1, -2, 3}, g[3];
    const double scale[3] = {1, 100, 0.01};
    for (int t = 0; t < 5000; t++) {
        for (int i = 0; i < 3; i++)
            g[i] = 2 * scale[i] * theta[i];
        lux_adam_step(a, theta, g);
    }
    for (int i = 0; i < 3; i++)
        LUX_CHECK_NEAR(theta[i], 0.0, 0.05);
    lux_adam_destroy(&a);
}

LUX_TEST(save_restore_and_arguments)
{
    lux_adam_t *a = NULL, *b = NULL;
    LUX_CHECK_OK(lux_adam_new(4, NULL, &a));
    LUX_CHECK_OK(lux_adam_new(4, NULL, &b));
    double ta[4] = {1, 2, 3, 4}, tb[4], g[4];
    for (int t = 0; t < 10; t++) {
        for (int i = 0; i < 4; i++)
            g[i] = sin(t + i) + ta[i];
        lux_adam_step(a, ta, g);
    }
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_adam_save(a, &bytes, &len));
    LUX_CHECK_OK(lux_adam_restore(b, bytes, len));
    memcpy(tb, ta, sizeof ta);
    for (int t = 0; t < 10; t++) {
        for (int i = 0; i < 4; i++)
            g[i] = cos(t * i) + ta[i];
        lux_adam_step(a, ta, g);
        lux_adam_step(b, tb, g);
    }
    LUX_CHECK(memcmp(ta, tb, sizeof ta) == 0);
    LUX_CHECK_INT_EQ(lux_adam_steps(b), 20);
    /* Restored under another lr (PBT exploit): the learned state comes back,
     * the instance's lr stays, so the step is twice as long. */
    lux_adam_opts_t o2;
    lux_adam_opts_default(&o2);
    o2.lr = 0.02;
    lux_adam_t *d = NULL;
    LUX_CHECK_OK(lux_adam_new(4, &o2, &d));
    LUX_CHECK_OK(lux_adam_restore(d, bytes, len));
    LUX_CHECK_INT_EQ(lux_adam_steps(d), 10);
    double td[4] = {0, 0, 0, 0}, te[4] = {0, 0, 0, 0}, one[4] = {1, -1, 2, 0.5};
    lux_adam_t *e = NULL;
    LUX_CHECK_OK(lux_adam_new(4, NULL, &e));
    LUX_CHECK_OK(lux_adam_restore(e, bytes, len));
    lux_adam_step(d, td, one);
    lux_adam_step(e, te, one);
    for (int i = 0; i < 4; i++)
        LUX_CHECK_NEAR(td[i], 2 * te[i], 1e-15);
    lux_adam_destroy(&d);
    lux_adam_destroy(&e);
    LUX_CHECK_ERR(lux_adam_restore(b, bytes, len - 1), LUX_EINVAL);
    lux_adam_t *c = NULL;
    LUX_CHECK_OK(lux_adam_new(5, NULL, &c));
    LUX_CHECK_ERR(lux_adam_restore(c, bytes, len), LUX_EINVAL);
    lux_adam_destroy(&c);
    lux_free(bytes);
    lux_adam_destroy(&a);
    lux_adam_destroy(&b);
    lux_adam_opts_t o;
    lux_adam_opts_default(&o);
    o.beta1 = 1.0;
    LUX_CHECK_ERR(lux_adam_new(4, &o, &a), LUX_EINVAL);
    LUX_CHECK_ERR(lux_adam_new(0, NULL, &a), LUX_EINVAL);
    LUX_CHECK(a == NULL);
    lux_alloc_fail_after(1);
    LUX_CHECK_ERR(lux_adam_new(4, NULL, &a), LUX_ENOMEM);
    lux_alloc_fail_reset();
    lux_adam_destroy(NULL);
}
