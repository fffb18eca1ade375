/*
 * Tests of rl/rmsprop: the update of docs/optimizers.md (A3C's RMSProp) by hand, shared
 * statistics between handles, save/restore.
 */
#include "test.h"

#include "alloc.h"
#include "error.h"
#include "rmsprop.h"

#include <math.h>
#include <string.h>

LUX_TEST(step_matches_formula)
{
    lux_rmsprop_opts_t o;
    lux_rmsprop_opts_default(&o);
    LUX_CHECK_NEAR(o.alpha, 0.99, 0);
    LUX_CHECK_NEAR(o.eps, 0.1, 0);
    o.lr = 0.01;
    lux_rmsprop_t *r = NULL;
    LUX_CHECK_OK(lux_rmsprop_new(2, &o, NULL, &r));
    double theta[2] = {1, 1};
    const double d1[2] = {2, -3}, d2[2] = {1, 1};
    lux_rmsprop_step(r, theta, d1);
    double g0 = 0.01 * 4, g1 = 0.01 * 9;
    double w0 = 1 - 0.01 * 2 / sqrt(g0 + 0.1), w1 = 1 + 0.01 * 3 / sqrt(g1 + 0.1);
    LUX_CHECK_NEAR(theta[0], w0, 1e-15);
    LUX_CHECK_NEAR(theta[1], w1, 1e-15);
    lux_rmsprop_step(r, theta, d2);
    g0 = 0.99 * g0 + 0.01;
    g1 = 0.99 * g1 + 0.01;
    w0 -= 0.01 / sqrt(g0 + 0.1);
    w1 -= 0.01 / sqrt(g1 + 0.1);
    LUX_CHECK_NEAR(theta[0], w0, 1e-15);
    LUX_CHECK_NEAR(theta[1], w1, 1e-15);
    LUX_CHECK_NEAR(lux_rmsprop_stats(r)[0], g0, 1e-15);
    lux_rmsprop_set_lr(r, 0.5);
    LUX_CHECK_INT_EQ(lux_rmsprop_steps(r), 2);
    lux_rmsprop_destroy(&r);
    LUX_CHECK(r == NULL);
}

/* Two workers' handles on one statistics buffer give exactly what one
 * handle gives when it applies both workers' gradients in the same order. */
LUX_TEST(shared_statistics)
{
    double shared[3] = {0, 0, 0};
    lux_rmsprop_t *w1 = NULL, *w2 = NULL, *solo = NULL;
    LUX_CHECK_OK(lux_rmsprop_new(3, NULL, shared, &w1));
    LUX_CHECK_OK(lux_rmsprop_new(3, NULL, shared, &w2));
    LUX_CHECK_OK(lux_rmsprop_new(3, NULL, NULL, &solo));
    LUX_CHECK(lux_rmsprop_stats(w1) == shared && lux_rmsprop_stats(w2) == shared);
    double ta[3] = {1, 2, 3}, tb[3] = {1, 2, 3}, g[3];
    for (int t = 0; t < 20; t++) {
        for (int i = 0; i < 3; i++)
            g[i] = sin(3 * t + i);
        lux_rmsprop_step(t % 2 ? w1 : w2, ta, g);
        lux_rmsprop_step(solo, tb, g);
    }
    LUX_CHECK(memcmp(ta, tb, sizeof ta) == 0);
    LUX_CHECK(memcmp(shared, lux_rmsprop_stats(solo), sizeof shared) == 0);
    LUX_CHECK(shared[0] > 0);
    lux_rmsprop_destroy(&w1);
    lux_rmsprop_destroy(&w2);
    /* The caller's buffer survives the handles. */
    LUX_CHECK(shared[0] > 0);
    lux_rmsprop_destroy(&solo);
}

LUX_TEST(save_restore_and_arguments)
{
    lux_rmsprop_t *a = NULL, *b = NULL;
    double shared[4] = {0};
    LUX_CHECK_OK(lux_rmsprop_new(4, NULL, NULL, &a));
    LUX_CHECK_OK(lux_rmsprop_new(4, NULL, shared, &b));
    double ta[4] = {1, 2, 3, 4}, tb[4], g[4];
    for (int t = 0; t < 7; t++) {
        for (int i = 0; i < 4; i++)
            g[i] = sin(t + i);
        lux_rmsprop_step(a, ta, g);
    }
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_rmsprop_save(a, &bytes, &len));
    LUX_CHECK_OK(lux_rmsprop_restore(b, bytes, len));
    LUX_CHECK(memcmp(shared, lux_rmsprop_stats(a), sizeof shared) == 0);
    memcpy(tb, ta, sizeof ta);
    for (int t = 0; t < 7; t++) {
        for (int i = 0; i < 4; i++)
            g[i] = cos(t + i);
        lux_rmsprop_step(a, ta, g);
        lux_rmsprop_step(b, tb, g);
    }
    LUX_CHECK(memcmp(ta, tb, sizeof ta) == 0);
    /* Another lr at restore stays in force (PBT exploit). */
    lux_rmsprop_opts_t o2;
    lux_rmsprop_opts_default(&o2);
    o2.lr = 1.0;
    lux_rmsprop_t *c = NULL;
    LUX_CHECK_OK(lux_rmsprop_new(4, &o2, NULL, &c));
    LUX_CHECK_OK(lux_rmsprop_restore(c, bytes, len));
    double tc[4] = {0, 0, 0, 0}, d1[4] = {1, 0, 0, 0};
    double g0 = lux_rmsprop_stats(c)[0] * 0.99 + 0.01;
    lux_rmsprop_step(c, tc, d1);
    LUX_CHECK_NEAR(tc[0], -1.0 / sqrt(g0 + 0.1), 1e-15);
    LUX_CHECK_INT_EQ(lux_rmsprop_steps(c), 8);
    lux_rmsprop_destroy(&c);
    ((unsigned char *)bytes)[3] ^= 1;
    LUX_CHECK_ERR(lux_rmsprop_restore(b, bytes, len), LUX_EINVAL);
    lux_free(bytes);
    lux_rmsprop_destroy(&a);
    lux_rmsprop_destroy(&b);
    lux_rmsprop_opts_t o;
    lux_rmsprop_opts_default(&o);
    o.eps = 0;
    LUX_CHECK_ERR(lux_rmsprop_new(4, &o, NULL, &a), LUX_EINVAL);
    LUX_CHECK_ERR(lux_rmsprop_new(0, NULL, NULL, &a), LUX_EINVAL);
    lux_alloc_fail_after(0);
    LUX_CHECK_ERR(lux_rmsprop_new(4, NULL, NULL, &a), LUX_ENOMEM);
    lux_alloc_fail_reset();
    LUX_CHECK(a == NULL);
}
