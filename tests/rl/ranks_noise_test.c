/*
 * Centred ranks, the shared noise table and antithetic perturbations, and
 * seed derivation.
 */
#include "noise.h"
#include "ranks.h"
#include "seeding.h"
#include "error.h"
#include "test.h"

#include <math.h>
#include <string.h>

LUX_TEST(centered_ranks_values)
{
    double x[] = {10.0, -3.0, 7.0, 7.0, 100.0};
    double r[5];
    LUX_CHECK_OK(lux_centered_ranks(x, 5, r));
    /* order: -3 (1), 7 (2), 7 (3), 10 (0), 100 (4); rank/(K-1) - 0.5 */
    LUX_CHECK_NEAR(r[1], -0.5, 0);
    LUX_CHECK_NEAR(r[2], -0.25, 0);
    LUX_CHECK_NEAR(r[3], 0.0, 0);
    LUX_CHECK_NEAR(r[0], 0.25, 0);
    LUX_CHECK_NEAR(r[4], 0.5, 0);
    double sum = 0;
    for (int i = 0; i < 5; i++)
        sum += r[i];
    LUX_CHECK_NEAR(sum, 0.0, 1e-15);
    double one = 3.0;
    LUX_CHECK_OK(lux_centered_ranks(&one, 1, &one));
    LUX_CHECK_DBL(one, ==, 0.0);
    /* In place, and invariant to a monotone transform. */
    double y[] = {1e-9, 1e9, -1e9, 0};
    double z[] = {2, 3, 0, 1};
    LUX_CHECK_OK(lux_centered_ranks(y, 4, y));
    LUX_CHECK_OK(lux_centered_ranks(z, 4, z));
    LUX_CHECK(memcmp(y, z, sizeof y) == 0);
}

LUX_TEST(noise_table_deterministic_and_normal)
{
    lux_noise_table_t a, b;
    LUX_CHECK_OK(lux_noise_table_init(&a, 200000, 123));
    LUX_CHECK_OK(lux_noise_table_init(&b, 200000, 123));
    LUX_CHECK(memcmp(a.values, b.values, 200000 * sizeof(float)) == 0);
    double mean = 0, var = 0;
    for (size_t i = 0; i < a.size; i++)
        mean += a.values[i];
    mean /= (double)a.size;
    for (size_t i = 0; i < a.size; i++)
        var += (a.values[i] - mean) * (a.values[i] - mean);
    var /= (double)a.size;
    LUX_CHECK_NEAR(mean, 0.0, 0.01);
    LUX_CHECK_NEAR(var, 1.0, 0.02);
    lux_noise_table_fini(&b);
    LUX_CHECK_OK(lux_noise_table_init(&b, 200000, 124));
    LUX_CHECK(memcmp(a.values, b.values, 64 * sizeof(float)) != 0);
    /* A view of the same values gives the same slices. */
    lux_noise_table_t v;
    lux_noise_table_view(&v, a.values, a.size);
    lux_rng_t rng;
    lux_rng_seed(&rng, 5);
    for (int i = 0; i < 1000; i++) {
        size_t idx = lux_noise_sample_index(&v, &rng, 150000);
        LUX_CHECK_INT(idx, <=, 50000);
    }
    lux_noise_table_fini(&v);
    lux_noise_table_fini(&a);
    lux_noise_table_fini(&b);
    LUX_CHECK_ERR(lux_noise_table_init(&a, 0, 1), LUX_EINVAL);
}

LUX_TEST(antithetic_perturbations_mirror)
{
    lux_noise_table_t t;
    LUX_CHECK_OK(lux_noise_table_init(&t, 1000, 7));
    double theta[10], plus[10], minus[10];
    for (int i = 0; i < 10; i++)
        theta[i] = 0.1 * i;
    lux_noise_perturb(&t, 17, 10, theta, 0.02, plus);
    lux_noise_perturb(&t, 17, 10, theta, -0.02, minus);
    for (int i = 0; i < 10; i++) {
        LUX_CHECK_NEAR(plus[i] + minus[i], 2 * theta[i], 1e-15);
        LUX_CHECK_NEAR(plus[i] - theta[i], 0.02 * t.values[17 + i], 1e-15);
    }
    lux_noise_table_fini(&t);
}

LUX_TEST(seed_derivation)
{
    uint64_t s = lux_seed_derive(1, 2, 3, 4);
    LUX_CHECK(s == lux_seed_derive(1, 2, 3, 4));
    LUX_CHECK(s != lux_seed_derive(1, 2, 4, 3));
    LUX_CHECK(s != lux_seed_derive(2, 2, 3, 4));
    LUX_CHECK(s != lux_seed_derive(1, 3, 3, 4));
    LUX_CHECK(lux_seed_rollout(LUX_SEEDING_EPOCH, 1, 2, 3, 4) ==
              lux_seed_rollout(LUX_SEEDING_EPOCH, 1, 2, 9, 4));
    LUX_CHECK(lux_seed_rollout(LUX_SEEDING_RANDOM, 1, 2, 3, 4) !=
              lux_seed_rollout(LUX_SEEDING_RANDOM, 1, 2, 9, 4));
    lux_seeding_t m;
    LUX_CHECK_OK(lux_seeding_parse("random", &m));
    LUX_CHECK_INT_EQ(m, LUX_SEEDING_RANDOM);
    LUX_CHECK_ERR(lux_seeding_parse("epoc", &m), LUX_EINVAL);
    /* Bits of neighbouring seeds are uncorrelated: about half differ. */
    int diff = 0;
    for (uint64_t e = 0; e < 64; e++)
        diff += __builtin_popcountll(lux_seed_derive(0, 0, 0, e) ^ lux_seed_derive(0, 0, 0, e + 1));
    LUX_CHECK_NEAR(diff / 64.0, 32.0, 3.0);
    lux_rng_t rng;
    lux_rng_seed(&rng, 0);
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double u = lux_rng_uniform(&rng);
        LUX_CHECK(u >= 0.0 && u < 1.0);
        sum += u;
    }
    LUX_CHECK_NEAR(sum / 10000, 0.5, 0.01);
}
