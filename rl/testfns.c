/*
 * Test functions (see testfns.h for the definitions and conventions).
 */
#include "testfns.h"

#include <math.h>
#include <string.h>

/* Exponent fraction (i-1)/(n-1) for 0-based i, 0 when n == 1. */
static inline double frac(size_t i, size_t n)
{
    return n > 1 ? (double)i / (double)(n - 1) : 0.0;
}

double lux_testfn_sphere(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}

double lux_testfn_ellipsoid(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += exp(M_LN10 * 6.0 * frac(i, n)) * x[i] * x[i];
    return s;
}

double lux_testfn_rosenbrock(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    return s;
}

double lux_testfn_rastrigin(const double *x, size_t n)
{
    double s = 10.0 * (double)n;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i] - 10.0 * cos(2.0 * M_PI * x[i]);
    return s;
}

double lux_testfn_cigar(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += x[i] * x[i];
    return x[0] * x[0] + 1e6 * s;
}

double lux_testfn_tablet(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += x[i] * x[i];
    return 1e6 * x[0] * x[0] + s;
}

double lux_testfn_discus(const double *x, size_t n)
{
    return lux_testfn_tablet(x, n);
}

double lux_testfn_diffpowers(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += pow(fabs(x[i]), 2.0 + 4.0 * frac(i, n));
    return s;
}

/* Ellipsoid of H x with H = I - 2 v v^T, v = (1, ..., 1)/sqrt(n): (H x)_i =
 * x_i - (2/n) sum_j x_j. Orthogonal and symmetric, O(n) to apply. */
double lux_testfn_elli_rot(const double *x, size_t n)
{
    double sum = 0, s = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double c = 2.0 * sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double y = x[i] - c;
        s += exp(M_LN10 * 6.0 * frac(i, n)) * y * y;
    }
    return s;
}

static const lux_testfn_t table[] = {
#define LUX_TESTFN_ENTRY(name, id, summary) {name, lux_testfn_##id, summary},
    LUX_TESTFN_MAP(LUX_TESTFN_ENTRY)
#undef LUX_TESTFN_ENTRY
};
#define NFNS (sizeof table / sizeof table[0])

const lux_testfn_t *lux_testfn_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < NFNS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

size_t lux_testfn_count(void)
{
    return NFNS;
}

const lux_testfn_t *lux_testfn_at(size_t i)
{
    return i < NFNS ? &table[i] : NULL;
}
