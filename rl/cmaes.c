/*
 * CMA-ES and sep-CMA-ES (see cmaes.h for the contract).
 *
 * Layout: every matrix is row-major. In full mode C keeps only its upper
 * triangle up to date (the whole update is two dsyrk calls on the upper
 * triangle); row-major upper is column-major lower, which is what we hand to
 * LAPACK's dsyevd. dsyevd returns the eigenvectors as columns of a
 * column-major matrix, i.e. as rows of our row-major Bt: Bt[j*n + i] is
 * component i of eigenvector j, and B = Bt^T. So sampling is
 * Y = (Z scaled by D per column) Bt, one dgemm of lambda x n x n. tell()
 * needs the whitened D^-1 B^T y_k: those are the z_k that ask() drew (kept
 * with the asked X), and only points that were not asked are whitened with
 * a second dgemm.
 *
 * In sep mode C and D are vectors and nothing is O(n^2); only the mu best
 * candidates are read in tell().
 *
 * Random numbers: xoshiro256** (Blackman & Vigna) seeded through splitmix64,
 * and the Marsaglia-Tsang Ziggurat (128 layers) for normals; the tables are
 * recomputed per instance (a few microseconds) so there is no global state.
 */
#include "cmaes.h"
#include "rng.h"

#include "alloc.h"
#include "error.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK from OpenBLAS (no LAPACKE header on Debian's OpenBLAS). */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

#define SIGMA_MAX  1e32
#define ZIG_LAYERS 128

/* The generator is common/rng.h's xoshiro256**; normals come from the
 * Ziggurat below, which is what keeps sep-CMA-ES's sampling cheap. */
typedef lux_rng_t rng_t;

struct lux_cmaes {
    /* Parameters (saved so that restore does not recompute them). */
    uint64_t n;
    int32_t lambda, mu, diag, pad_;
    double mueff, mueff_neg, cs, ds, cc, c1, cmu, cm, chin;
    int64_t eigen_interval, hist_len, max_generations, max_evals;
    double sigma0, ftarget, tolfun, tolx, tolxup, tolcond;

    /* State. */
    double sigma, best_f, cond;
    int64_t gen, evals, last_eigen_gen, hist_count, eigen_failed;
    int64_t ask_valid; /* Xask/Zraw hold the last ask() (full mode) */
    rng_t rng;
    double *w; /* lambda */
    double *m; /* n */
    double *ps, *pc;
    double *C;      /* n*n (upper triangle valid) or n */
    double *Bt;     /* n*n eigenvectors as rows (full mode only) */
    double *D;      /* n: sqrt of eigenvalues or of diag(C) */
    double *best_x; /* n */
    double *hist;   /* 2 * hist_len: best and worst f of the last generations */
    double *Xask;   /* lambda*n: the last candidates asked (full mode only) */
    double *Zraw;   /* lambda*n: their N(0, I) vectors z, so that tell() need not whiten */

    /* Workspace, not saved. */
    /* Y: lambda+1 rows (row 0 for the rank-one term); Z: lambda rows; E: n*n
     * decomposition scratch; work: dsyevd's, also n doubles of tell scratch. */
    double *Y, *Z, *E, *tmp, *tmp2, *work;
    int *idx, *idx_tmp, *iwork;
    int lwork, liwork;
    double zig_k[ZIG_LAYERS], zig_w[ZIG_LAYERS], zig_f[ZIG_LAYERS];
};

/* ---- random numbers ------------------------------------------------------------------------ */

/* Uniform in (0, 1), never 0 (the tail sampler takes its log). */
static inline double rng_uniform_open(rng_t *r)
{
    return ((double)(lux_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static void zig_setup(lux_cmaes_t *es)
{
    const double m1 = 2147483648.0, vn = 9.91256303526217e-3;
    double dn = 3.442619855899, tn = dn;
    double q = vn / exp(-0.5 * dn * dn);
    es->zig_k[0] = (dn / q) * m1;
    es->zig_k[1] = 0;
    es->zig_w[0] = q / m1;
    es->zig_w[ZIG_LAYERS - 1] = dn / m1;
    es->zig_f[0] = 1.0;
    es->zig_f[ZIG_LAYERS - 1] = exp(-0.5 * dn * dn);
    for (int i = ZIG_LAYERS - 2; i >= 1; i--) {
        dn = sqrt(-2.0 * log(vn / dn + exp(-0.5 * dn * dn)));
        es->zig_k[i + 1] = (dn / tn) * m1;
        tn = dn;
        es->zig_f[i] = exp(-0.5 * dn * dn);
        es->zig_w[i] = dn / m1;
    }
}

/* The slow path of the Ziggurat: the wedges and the tail. */
static double zig_fix(lux_cmaes_t *es, int32_t hz, int iz)
{
    const double r = 3.442619855899;
    for (;;) {
        double x = hz * es->zig_w[iz];
        if (iz == 0) {
            double y;
            do {
                x = -log(rng_uniform_open(&es->rng)) / r;
                y = -log(rng_uniform_open(&es->rng));
            } while (y + y < x * x);
            return hz > 0 ? r + x : -r - x;
        }
        double u = rng_uniform_open(&es->rng);
        if (es->zig_f[iz] + u * (es->zig_f[iz - 1] - es->zig_f[iz]) < exp(-0.5 * x * x))
            return x;
        uint64_t b = lux_rng_next(&es->rng);
        hz = (int32_t)(b >> 32);
        iz = (int)(b & (ZIG_LAYERS - 1));
        if (fabs((double)hz) < es->zig_k[iz])
            return hz * es->zig_w[iz];
    }
}

static inline double rng_normal(lux_cmaes_t *es)
{
    uint64_t b = lux_rng_next(&es->rng);
    int32_t hz = (int32_t)(b >> 32);
    int iz = (int)(b & (ZIG_LAYERS - 1));
    /* |hz| as a double avoids the overflow of abs(INT32_MIN). */
    if (fabs((double)hz) < es->zig_k[iz])
        return hz * es->zig_w[iz];
    return zig_fix(es, hz, iz);
}

/* ---- parameters ---------------------------------------------------------------------------- */

void lux_cmaes_opts_default(lux_cmaes_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->popsize = 0;
    opts->seed = 1;
    opts->diagonal = 0;
    opts->ftarget = -INFINITY;
    opts->tolfun = 1e-12;
    opts->tolx = 1e-12;
    opts->tolxup = 1e4;
    opts->tolcond = 1e14;
    opts->max_generations = 0;
    opts->max_evals = 0;
}

/* Fills the strategy parameters and the weights (arXiv:1604.00772 Table 1; Ros & Hansen 2008). */
static void set_params(lux_cmaes_t *es)
{
    double n = (double)es->n;
    int lambda = es->lambda, mu = lambda / 2;
    es->mu = mu;
    es->cm = 1.0;
    es->chin = sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
    if (es->diag) {
        /* CyberAgentAILab cmaes.SepCMA: mu positive weights ln(mu+1) - ln i. */
        double sum = 0, sum2 = 0;
        for (int i = 0; i < lambda; i++)
            es->w[i] = i < mu ? log(mu + 1.0) - log(i + 1.0) : 0.0;
        for (int i = 0; i < mu; i++)
            sum += es->w[i];
        for (int i = 0; i < mu; i++) {
            es->w[i] /= sum;
            sum2 += es->w[i] * es->w[i];
        }
        double mueff = 1.0 / sum2;
        es->mueff = mueff;
        es->mueff_neg = 0;
        es->cs = (mueff + 2.0) / (n + mueff + 3.0);
        es->ds = 1.0 + 2.0 * fmax(0.0, sqrt((mueff - 1.0) / (n + 1.0)) - 1.0) + es->cs;
        es->cc = 4.0 / (n + 4.0);
        es->c1 = 2.0 / ((n + 1.3) * (n + 1.3) + mueff);
        es->cmu = (n + 2.0) / 3.0 *
                  (2.0 / (mueff * (n + M_SQRT2) * (n + M_SQRT2)) +
                   (1.0 - 1.0 / mueff) *
                       fmin(1.0, (2.0 * mueff - 1.0) / ((n + 2.0) * (n + 2.0) + mueff)));
        if (es->c1 + es->cmu > 1.0)
            es->cmu = 1.0 - es->c1;
        es->eigen_interval = 1;
        return;
    }
    /* Hansen 2016, Table 1, with active (negative) weights. */
    double psum = 0, psum2 = 0, nsum = 0, nsum2 = 0;
    for (int i = 0; i < lambda; i++) {
        double wp = log((lambda + 1.0) / 2.0) - log(i + 1.0);
        es->w[i] = wp;
        if (i < mu) {
            psum += wp;
            psum2 += wp * wp;
        } else {
            nsum += wp;
            nsum2 += wp * wp;
        }
    }
    double mueff = psum * psum / psum2;
    double mueff_neg = nsum2 > 0 ? nsum * nsum / nsum2 : 0.0;
    es->mueff = mueff;
    es->mueff_neg = mueff_neg;
    es->cs = (mueff + 2.0) / (n + mueff + 5.0);
    es->ds = 1.0 + 2.0 * fmax(0.0, sqrt((mueff - 1.0) / (n + 1.0)) - 1.0) + es->cs;
    es->cc = (4.0 + mueff / n) / (n + 4.0 + 2.0 * mueff / n);
    const double alpha_cov = 2.0;
    es->c1 = alpha_cov / ((n + 1.3) * (n + 1.3) + mueff);
    es->cmu = fmin(1.0 - es->c1, alpha_cov * (0.25 + mueff + 1.0 / mueff - 2.0) /
                                     ((n + 2.0) * (n + 2.0) + alpha_cov * mueff / 2.0));
    double a_mu = 1.0 + es->c1 / es->cmu;
    double a_mueff = 1.0 + 2.0 * mueff_neg / (mueff + 2.0);
    double a_posdef = (1.0 - es->c1 - es->cmu) / (n * es->cmu);
    double a_neg = fmin(a_mu, fmin(a_mueff, a_posdef));
    for (int i = 0; i < lambda; i++) {
        if (es->w[i] >= 0)
            es->w[i] /= psum;
        else
            es->w[i] = a_neg * es->w[i] / -nsum;
    }
    double interval = floor(1.0 / (10.0 * n * (es->c1 + es->cmu)));
    es->eigen_interval = interval < 1 ? 1 : (int64_t)interval;
}

/* ---- allocation ---------------------------------------------------------------------------- */

static void free_arrays(lux_cmaes_t *es)
{
    double **arrays[] = {&es->w, &es->m,      &es->ps,   &es->pc,   &es->C,    &es->Bt,
                         &es->D, &es->best_x, &es->hist, &es->Xask, &es->Zraw, &es->Y,
                         &es->Z, &es->E,      &es->tmp,  &es->tmp2, &es->work};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        lux_free(*arrays[i]);
        *arrays[i] = NULL;
    }
    lux_free(es->idx);
    lux_free(es->idx_tmp);
    lux_free(es->iwork);
    es->idx = es->idx_tmp = es->iwork = NULL;
}

void lux_cmaes_destroy(lux_cmaes_t **es_p)
{
    if (es_p == NULL || *es_p == NULL)
        return;
    free_arrays(*es_p);
    lux_free(*es_p);
    *es_p = NULL;
}

/* Allocates every array for es->n, es->lambda, es->diag (already set). */
static int alloc_arrays(lux_cmaes_t *es)
{
    size_t n = es->n, lam = (size_t)es->lambda;
    size_t csize = es->diag ? n : n * n;
    es->w = lux_calloc(lam, sizeof(double));
    es->m = lux_calloc(n, sizeof(double));
    es->ps = lux_calloc(n, sizeof(double));
    es->pc = lux_calloc(n, sizeof(double));
    es->C = lux_calloc(csize, sizeof(double));
    es->D = lux_calloc(n, sizeof(double));
    es->best_x = lux_calloc(n, sizeof(double));
    es->hist = lux_calloc(2 * (size_t)es->hist_len, sizeof(double));
    es->Y = lux_calloc((lam + 1) * n, sizeof(double));
    es->Z = lux_calloc(lam * n, sizeof(double));
    es->tmp = lux_calloc(n, sizeof(double));
    es->tmp2 = lux_calloc(n, sizeof(double));
    es->idx = lux_calloc(lam, sizeof(int));
    es->idx_tmp = lux_calloc(lam, sizeof(int));
    if (!es->w || !es->m || !es->ps || !es->pc || !es->C || !es->D || !es->best_x || !es->hist ||
        !es->Y || !es->Z || !es->tmp || !es->tmp2 || !es->idx || !es->idx_tmp)
        return LUX_ENOMEM;
    if (!es->diag) {
        es->lwork = (int)(1 + 6 * n + 2 * n * n);
        es->liwork = (int)(3 + 5 * n);
        es->Bt = lux_calloc(n * n, sizeof(double));
        es->E = lux_calloc(n * n, sizeof(double));
        es->Xask = lux_calloc(lam * n, sizeof(double));
        es->Zraw = lux_calloc(lam * n, sizeof(double));
        es->work = lux_calloc((size_t)es->lwork, sizeof(double));
        es->iwork = lux_calloc((size_t)es->liwork, sizeof(int));
        if (!es->Bt || !es->E || !es->Xask || !es->Zraw || !es->work || !es->iwork)
            return LUX_ENOMEM;
    }
    return 0;
}

int lux_cmaes_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *opts,
                  lux_cmaes_t **out)
{
    lux_cmaes_opts_t def;
    if (opts == NULL) {
        lux_cmaes_opts_default(&def);
        opts = &def;
    }
    if (out == NULL)
        return LUX_EINVAL;
    *out = NULL;
    if (x0 == NULL || n == 0 || (opts->diagonal && n < 2) || !(sigma0 > 0) || !isfinite(sigma0) ||
        opts->popsize < 0 || opts->popsize == 1 || opts->popsize > (1 << 24) ||
        n > ((size_t)1 << 28))
        return LUX_EINVAL;
    if (!opts->diagonal && n > 46000) /* n*n must fit LAPACK's int work sizes */
        return LUX_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x0[i]))
            return LUX_EINVAL;
    lux_cmaes_t *es = lux_calloc(1, sizeof *es);
    if (es == NULL)
        return LUX_ENOMEM;
    es->n = n;
    es->diag = opts->diagonal ? 1 : 0;
    es->lambda = opts->popsize > 0 ? opts->popsize : 4 + (int)floor(3.0 * log((double)n));
    es->hist_len = 10 + (int64_t)ceil(30.0 * (double)n / es->lambda);
    int rc = alloc_arrays(es);
    if (rc != 0) {
        lux_cmaes_destroy(&es);
        return rc;
    }
    set_params(es);
    es->sigma0 = es->sigma = sigma0;
    es->ftarget = opts->ftarget;
    es->tolfun = opts->tolfun;
    es->tolx = opts->tolx;
    es->tolxup = opts->tolxup;
    es->tolcond = opts->tolcond;
    es->max_generations =
        opts->max_generations > 0
            ? opts->max_generations
            : (int64_t)(100.0 + 150.0 * ((double)n + 3) * ((double)n + 3) / sqrt(es->lambda));
    es->max_evals = opts->max_evals > 0 ? opts->max_evals : 0;
    memcpy(es->m, x0, n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        es->D[i] = 1.0;
        if (es->diag)
            es->C[i] = 1.0;
        else {
            es->C[i * n + i] = 1.0;
            es->Bt[i * n + i] = 1.0;
        }
    }
    es->best_f = INFINITY;
    memcpy(es->best_x, x0, n * sizeof(double));
    es->cond = 1.0;
    lux_rng_seed(&es->rng, opts->seed);
    zig_setup(es);
    *out = es;
    return 0;
}

/* ---- ask ----------------------------------------------------------------------------------- */

int lux_cmaes_ask(lux_cmaes_t *es, double *X)
{
    if (es == NULL || X == NULL)
        return LUX_EINVAL;
    size_t n = es->n, lam = (size_t)es->lambda;
    const double *m = es->m, *D = es->D;
    double sigma = es->sigma;
    if (es->diag) {
        for (size_t k = 0; k < lam; k++) {
            double *x = X + k * n;
            for (size_t i = 0; i < n; i++)
                x[i] = m[i] + sigma * D[i] * rng_normal(es);
        }
        return 0;
    }
    double *Z = es->Zraw, *DZ = es->Z;
    for (size_t k = 0; k < lam; k++)
        for (size_t i = 0; i < n; i++) {
            double z = rng_normal(es);
            Z[k * n + i] = z;
            DZ[k * n + i] = D[i] * z;
        }
    /* X = m + sigma (Z diag(D)) Bt: start from the mean rows and add the product. */
    for (size_t k = 0; k < lam; k++)
        memcpy(X + k * n, m, n * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)lam, (int)n, (int)n, sigma, DZ,
                (int)n, es->Bt, (int)n, 1.0, X, (int)n);
    memcpy(es->Xask, X, lam * n * sizeof(double));
    es->ask_valid = 1;
    return 0;
}

/* ---- tell ---------------------------------------------------------------------------------- */

/* f[i] ranks before f[j]: smaller first, NaN last, ties by index. */
static inline int before(const double *f, int i, int j)
{
    double fi = f[i], fj = f[j];
    int ni = isnan(fi), nj = isnan(fj);
    if (ni != nj)
        return nj;
    if (!ni && fi != fj)
        return fi < fj;
    return i < j;
}

/* Indices of f in ascending order: a stable bottom-up merge sort into idx
 * with tmp (both lambda ints). It needs no global context (qsort has no
 * context argument), so instances on different threads do not interfere,
 * and it stays O(lambda log lambda) for IPOP's large populations. */
static void sort_order(const double *f, int *idx, int *tmp, int lambda)
{
    for (int i = 0; i < lambda; i++)
        idx[i] = i;
    int *src = idx, *dst = tmp;
    for (int width = 1; width < lambda; width *= 2) {
        for (int lo = 0; lo < lambda; lo += 2 * width) {
            int mid = lo + width < lambda ? lo + width : lambda;
            int hi = lo + 2 * width < lambda ? lo + 2 * width : lambda;
            int a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = before(f, src[b], src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        int *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, (size_t)lambda * sizeof(int));
}

/* Eigendecomposition of C into Bt, D; returns 0 or LUX_ERANGE (keeps the old
 * Bt, D in that case). */
static int decompose(lux_cmaes_t *es)
{
    size_t n = es->n;
    int nn = (int)n, info = 0;
    /* dsyevd overwrites its matrix with the eigenvectors: decompose a copy of
     * C in E and swap it with Bt only on success, so a failure keeps the
     * previous (still usable) basis. */
    memcpy(es->E, es->C, n * n * sizeof(double));
    dsyevd_("V", "L", &nn, es->E, &nn, es->tmp, es->work, &es->lwork, es->iwork, &es->liwork,
            &info);
    double emin = INFINITY, emax = 0;
    int bad = info != 0;
    for (size_t i = 0; i < n && !bad; i++) {
        double e = es->tmp[i];
        if (!isfinite(e) || e <= 0)
            bad = 1;
        if (e < emin)
            emin = e;
        if (e > emax)
            emax = e;
    }
    if (bad) {
        es->eigen_failed = 1;
        return LUX_ERANGE;
    }
    double *t = es->Bt;
    es->Bt = es->E;
    es->E = t;
    for (size_t i = 0; i < n; i++)
        es->D[i] = sqrt(es->tmp[i]);
    es->cond = emax / emin;
    es->last_eigen_gen = es->gen;
    return 0;
}

static void push_history(lux_cmaes_t *es, double best, double worst)
{
    int64_t pos = es->hist_count % es->hist_len;
    es->hist[2 * pos] = best;
    es->hist[2 * pos + 1] = worst;
    es->hist_count++;
}

/* The part of tell() shared by both modes once y_w (in tmp) and C^{-1/2} y_w
 * (in tmp2) are known: mean, paths and step size. Returns h_sigma. */
static int update_mean_paths(lux_cmaes_t *es)
{
    size_t n = es->n;
    const double *yw = es->tmp, *zw = es->tmp2;
    double csn = sqrt(es->cs * (2.0 - es->cs) * es->mueff);
    double ccn = sqrt(es->cc * (2.0 - es->cc) * es->mueff);
    double ps2 = 0;
    for (size_t i = 0; i < n; i++) {
        es->m[i] += es->cm * es->sigma * yw[i];
        es->ps[i] = (1.0 - es->cs) * es->ps[i] + csn * zw[i];
        ps2 += es->ps[i] * es->ps[i];
    }
    double psn = sqrt(ps2);
    es->sigma *= exp((es->cs / es->ds) * (psn / es->chin - 1.0));
    if (es->sigma > SIGMA_MAX)
        es->sigma = SIGMA_MAX;
    double denom = sqrt(1.0 - pow(1.0 - es->cs, 2.0 * (double)(es->gen + 1)));
    int hsig = psn / denom < (1.4 + 2.0 / ((double)n + 1.0)) * es->chin;
    for (size_t i = 0; i < n; i++)
        es->pc[i] = (1.0 - es->cc) * es->pc[i] + (hsig ? ccn * yw[i] : 0.0);
    return hsig;
}

static void tell_diag(lux_cmaes_t *es, const double *X)
{
    size_t n = es->n;
    int mu = es->mu;
    double *Y = es->Y, *yw = es->tmp, *zw = es->tmp2;
    double isig = 1.0 / es->sigma;
    memset(yw, 0, n * sizeof(double));
    for (int k = 0; k < mu; k++) {
        const double *x = X + (size_t)es->idx[k] * n;
        double *y = Y + (size_t)k * n, wk = es->w[k];
        for (size_t i = 0; i < n; i++) {
            y[i] = (x[i] - es->m[i]) * isig;
            yw[i] += wk * y[i];
        }
    }
    for (size_t i = 0; i < n; i++)
        zw[i] = yw[i] / es->D[i];
    int hsig = update_mean_paths(es);
    double delta = (1.0 - hsig) * es->cc * (2.0 - es->cc);
    double decay = 1.0 + es->c1 * delta - es->c1 - es->cmu; /* sum of weights is 1 */
    /* C_i = decay C_i + c1 pc_i^2 + cmu sum_k w_k y_ki^2, then D = sqrt(C). */
    double *acc = zw;
    memset(acc, 0, n * sizeof(double));
    for (int k = 0; k < mu; k++) {
        const double *y = Y + (size_t)k * n;
        double wk = es->w[k];
        for (size_t i = 0; i < n; i++)
            acc[i] += wk * y[i] * y[i];
    }
    double dmin = INFINITY, dmax = 0;
    for (size_t i = 0; i < n; i++) {
        double c = decay * es->C[i] + es->c1 * es->pc[i] * es->pc[i] + es->cmu * acc[i];
        es->C[i] = c;
        double d = sqrt(c);
        es->D[i] = d;
        if (d < dmin)
            dmin = d;
        if (d > dmax)
            dmax = d;
    }
    es->cond = (dmax / dmin) * (dmax / dmin);
}

static void tell_full(lux_cmaes_t *es, const double *X)
{
    size_t n = es->n, lam = (size_t)es->lambda;
    int mu = es->mu, nn = (int)n;
    /* Row 0 of es->Y is kept for the rank-one term; the sorted y_k are rows
     * 1..lambda. */
    double *P = es->Y, *Y = es->Y + n, *Zt = es->Z, *yw = es->tmp, *zw = es->tmp2;
    double isig = 1.0 / es->sigma;
    for (size_t k = 0; k < lam; k++) {
        const double *x = X + (size_t)es->idx[k] * n;
        double *y = Y + k * n;
        for (size_t i = 0; i < n; i++)
            y[i] = (x[i] - es->m[i]) * isig;
    }
    /* Zt row k is D^-1 B^T y_k. When X are the candidates of the last ask()
     * (B and D have not changed since: they change only at the end of
     * tell), that is the z the candidate was drawn from; otherwise whiten:
     * Zt = Y Bt^T, scaled by 1/D per column. */
    if (es->ask_valid && memcmp(X, es->Xask, lam * n * sizeof(double)) == 0) {
        for (size_t k = 0; k < lam; k++)
            memcpy(Zt + k * n, es->Zraw + (size_t)es->idx[k] * n, n * sizeof(double));
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)lam, nn, nn, 1.0, Y, nn, es->Bt,
                    nn, 0.0, Zt, nn);
        for (size_t k = 0; k < lam; k++)
            for (size_t i = 0; i < n; i++)
                Zt[k * n + i] /= es->D[i];
    }
    es->ask_valid = 0;
    /* y_w and D^-1 B^T y_w over the mu best. */
    memset(yw, 0, n * sizeof(double));
    for (int k = 0; k < mu; k++)
        cblas_daxpy(nn, es->w[k], Y + (size_t)k * n, 1, yw, 1);
    /* C^{-1/2} y_w = B (sum w_k zt_k); the sum goes through the work array. */
    double *zsum = es->work;
    memset(zsum, 0, n * sizeof(double));
    for (int k = 0; k < mu; k++)
        cblas_daxpy(nn, es->w[k], Zt + (size_t)k * n, 1, zsum, 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, nn, nn, 1.0, es->Bt, nn, zsum, 1, 0.0, zw, 1);
    int hsig = update_mean_paths(es);

    /* Covariance: the active weights w_i n / ||C^-1/2 y_i||^2 for w_i < 0. */
    double wsum = 0;
    for (size_t k = 0; k < lam; k++)
        wsum += es->w[k];
    double delta = (1.0 - hsig) * es->cc * (2.0 - es->cc);
    double decay = 1.0 + es->c1 * delta - es->c1 - es->cmu * wsum;
    /* C <- decay C + c1 pc pc^T + cmu sum w°_k y_k y_k^T as two dsyrk calls
     * over rows scaled by sqrt(|w°|): the first takes sqrt(c1/cmu) pc and the
     * positive rows with beta = decay, the second the negative rows with
     * alpha = -cmu. One pass over C less than scaling and dsyr separately. */
    double r1 = sqrt(es->c1 / es->cmu);
    for (size_t i = 0; i < n; i++)
        P[i] = r1 * es->pc[i];
    int npos = 0;
    for (size_t k = 0; k < lam; k++) {
        double wk = es->w[k];
        if (wk > 0)
            npos = (int)k + 1;
        if (wk == 0) {
            cblas_dscal(nn, 0.0, Y + k * n, 1);
            continue;
        }
        double s = fabs(wk);
        if (wk < 0) {
            double z2 = cblas_ddot(nn, Zt + k * n, 1, Zt + k * n, 1);
            s = z2 > 0 ? s * (double)n / z2 : 0.0;
        }
        cblas_dscal(nn, sqrt(s), Y + k * n, 1);
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, nn, npos + 1, es->cmu, P, nn, decay, es->C,
                nn);
    if ((int)lam > npos)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, nn, (int)lam - npos, -es->cmu,
                    Y + (size_t)npos * n, nn, 1.0, es->C, nn);
}

int lux_cmaes_tell(lux_cmaes_t *es, const double *X, const double *f)
{
    if (es == NULL || X == NULL || f == NULL)
        return LUX_EINVAL;
    size_t n = es->n;
    int lam = es->lambda;
    sort_order(f, es->idx, es->idx_tmp, lam);
    /* Best so far and the f history (best and worst finite value). */
    double fbest = f[es->idx[0]], fworst = fbest;
    for (int k = lam - 1; k >= 0; k--)
        if (!isnan(f[es->idx[k]])) {
            fworst = f[es->idx[k]];
            break;
        }
    if (fbest < es->best_f) {
        es->best_f = fbest;
        memcpy(es->best_x, X + (size_t)es->idx[0] * n, n * sizeof(double));
    }
    push_history(es, fbest, fworst);
    if (es->diag)
        tell_diag(es, X);
    else
        tell_full(es, X);
    es->gen++;
    es->evals += lam;
    if (!es->diag && !es->eigen_failed && es->gen - es->last_eigen_gen >= es->eigen_interval)
        return decompose(es);
    return 0;
}

/* ---- termination --------------------------------------------------------------------------- */

static int stop_as(char *reason, size_t len, const char *name)
{
    if (reason != NULL && len > 0)
        snprintf(reason, len, "%s", name);
    return 1;
}

int lux_cmaes_stop(const lux_cmaes_t *es, char *reason, size_t len)
{
    if (reason != NULL && len > 0)
        reason[0] = '\0';
    size_t n = es->n;
    if (es->best_f < es->ftarget)
        return stop_as(reason, len, "ftarget");
    if (es->max_evals > 0 && es->evals >= es->max_evals)
        return stop_as(reason, len, "maxfevals");
    if (es->gen >= es->max_generations)
        return stop_as(reason, len, "maxiter");
    if (es->eigen_failed)
        return stop_as(reason, len, "eigen");
    if (es->gen > es->hist_len) {
        double lo = INFINITY, hi = -INFINITY;
        int64_t count = es->hist_count < es->hist_len ? es->hist_count : es->hist_len;
        for (int64_t i = 0; i < 2 * count; i++) {
            lo = fmin(lo, es->hist[i]);
            hi = fmax(hi, es->hist[i]);
        }
        if (hi - lo < es->tolfun)
            return stop_as(reason, len, "tolfun");
    }
    int small = 1;
    double tolx = es->tolx * es->sigma0;
    for (size_t i = 0; i < n && small; i++) {
        double cii = es->diag ? es->C[i] : es->C[i * n + i];
        if (!(es->sigma * sqrt(cii) < tolx) || !(es->sigma * fabs(es->pc[i]) < tolx))
            small = 0;
    }
    if (small)
        return stop_as(reason, len, "tolx");
    double dmax = 0;
    for (size_t i = 0; i < n; i++)
        dmax = fmax(dmax, es->D[i]);
    if (es->sigma * dmax > es->tolxup)
        return stop_as(reason, len, "tolxup");
    for (size_t i = 0; i < n; i++) {
        double cii = es->diag ? es->C[i] : es->C[i * n + i];
        if (es->m[i] == es->m[i] + 0.2 * es->sigma * sqrt(cii))
            return stop_as(reason, len, "noeffectcoord");
    }
    if (!es->diag && es->gen > 0) {
        size_t a = (size_t)(es->gen % (int64_t)n);
        int none = 1;
        double s = 0.1 * es->sigma * es->D[a];
        for (size_t i = 0; i < n && none; i++)
            if (es->m[i] != es->m[i] + s * es->Bt[a * n + i])
                none = 0;
        if (none)
            return stop_as(reason, len, "noeffectaxis");
    }
    if (es->cond > es->tolcond)
        return stop_as(reason, len, "conditioncov");
    return 0;
}

/* ---- accessors ----------------------------------------------------------------------------- */

size_t lux_cmaes_dim(const lux_cmaes_t *es)
{
    return es->n;
}

int lux_cmaes_popsize(const lux_cmaes_t *es)
{
    return es->lambda;
}

int lux_cmaes_is_diagonal(const lux_cmaes_t *es)
{
    return es->diag;
}

const double *lux_cmaes_mean(const lux_cmaes_t *es)
{
    return es->m;
}

double lux_cmaes_sigma(const lux_cmaes_t *es)
{
    return es->sigma;
}

long lux_cmaes_generation(const lux_cmaes_t *es)
{
    return (long)es->gen;
}

long lux_cmaes_evaluations(const lux_cmaes_t *es)
{
    return (long)es->evals;
}

double lux_cmaes_best(const lux_cmaes_t *es, const double **x)
{
    if (x != NULL)
        *x = es->best_x;
    return es->best_f;
}

double lux_cmaes_condition(const lux_cmaes_t *es)
{
    return es->cond;
}

void lux_cmaes_params(const lux_cmaes_t *es, lux_cmaes_params_t *p)
{
    p->n = es->n;
    p->lambda = es->lambda;
    p->mu = es->mu;
    p->mueff = es->mueff;
    p->mueff_neg = es->mueff_neg;
    p->cs = es->cs;
    p->ds = es->ds;
    p->cc = es->cc;
    p->c1 = es->c1;
    p->cmu = es->cmu;
    p->cm = es->cm;
    p->chin = es->chin;
    p->eigen_interval = (long)es->eigen_interval;
}

const double *lux_cmaes_weights(const lux_cmaes_t *es)
{
    return es->w;
}

/* ---- save / restore ------------------------------------------------------------------------ */

#define SAVE_MAGIC   "LUXCMAES"
#define SAVE_VERSION 1u

/* The saved scalars: everything from n up to (not including) the pointers. */
#define SCALARS_BEGIN offsetof(lux_cmaes_t, n)
#define SCALARS_END   offsetof(lux_cmaes_t, w)

/* Walks the saved arrays in a fixed order; copies out (save) or in (load). */
static size_t walk_arrays(lux_cmaes_t *es, unsigned char *buf, int load)
{
    size_t n = es->n, lam = (size_t)es->lambda;
    size_t csize = es->diag ? n : n * n;
    struct {
        double *p;
        size_t count;
    } arrays[] = {
        {es->w, lam},
        {es->m, n},
        {es->ps, n},
        {es->pc, n},
        {es->C, csize},
        {es->Bt, es->diag ? 0 : n * n},
        {es->D, n},
        {es->best_x, n},
        {es->hist, 2 * (size_t)es->hist_len},
        {es->Xask, es->diag ? 0 : lam * n},
        {es->Zraw, es->diag ? 0 : lam * n},
    };
    size_t pos = 0;
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        size_t bytes = arrays[i].count * sizeof(double);
        if (buf != NULL && bytes > 0) {
            if (load)
                memcpy(arrays[i].p, buf + pos, bytes);
            else
                memcpy(buf + pos, arrays[i].p, bytes);
        }
        pos += bytes;
    }
    return pos;
}

int lux_cmaes_save(const lux_cmaes_t *es, void **bytes, size_t *len)
{
    if (es == NULL || bytes == NULL || len == NULL)
        return LUX_EINVAL;
    size_t head = 8 + sizeof(uint32_t), scalars = SCALARS_END - SCALARS_BEGIN;
    size_t total = head + scalars + walk_arrays((lux_cmaes_t *)es, NULL, 0);
    unsigned char *buf = lux_malloc(total);
    if (buf == NULL)
        return LUX_ENOMEM;
    uint32_t version = SAVE_VERSION;
    memcpy(buf, SAVE_MAGIC, 8);
    memcpy(buf + 8, &version, sizeof version);
    memcpy(buf + head, (const unsigned char *)es + SCALARS_BEGIN, scalars);
    walk_arrays((lux_cmaes_t *)es, buf + head + scalars, 0);
    *bytes = buf;
    *len = total;
    return 0;
}

int lux_cmaes_restore(const void *bytes, size_t len, lux_cmaes_t **out)
{
    if (bytes == NULL || out == NULL)
        return LUX_EINVAL;
    *out = NULL;
    const unsigned char *buf = bytes;
    size_t head = 8 + sizeof(uint32_t), scalars = SCALARS_END - SCALARS_BEGIN;
    uint32_t version;
    if (len < head + scalars || memcmp(buf, SAVE_MAGIC, 8) != 0)
        return LUX_EINVAL;
    memcpy(&version, buf + 8, sizeof version);
    if (version != SAVE_VERSION)
        return LUX_EINVAL;
    lux_cmaes_t probe;
    memcpy((unsigned char *)&probe + SCALARS_BEGIN, buf + head, scalars);
    if (probe.n == 0 || probe.n > ((uint64_t)1 << 28) || probe.lambda < 2 ||
        probe.lambda > (1 << 24) || probe.hist_len < 1 || probe.hist_len > ((int64_t)1 << 40) ||
        (probe.diag != 0 && probe.diag != 1) || (!probe.diag && probe.n > 46000))
        return LUX_EINVAL;
    /* The counters index the arrays (hist by hist_count, the sorted
     * candidates by mu, Xask by ask_valid): a damaged checkpoint must not
     * reach tell() with them out of range. */
    if (probe.mu < 1 || probe.mu > probe.lambda || probe.hist_count < 0 || probe.gen < 0 ||
        probe.evals < 0 || probe.last_eigen_gen < 0 || probe.last_eigen_gen > probe.gen ||
        probe.eigen_interval < 1 || (probe.eigen_failed != 0 && probe.eigen_failed != 1) ||
        (probe.ask_valid != 0 && probe.ask_valid != 1) || (probe.diag && probe.ask_valid))
        return LUX_EINVAL;
    /* Check the length before allocating anything large. */
    size_t n = probe.n, lam = (size_t)probe.lambda;
    size_t expect =
        (lam + 5 * n + (probe.diag ? n : 2 * n * n + 2 * lam * n) + 2 * (size_t)probe.hist_len) *
        sizeof(double);
    if (len != head + scalars + expect)
        return LUX_EINVAL;
    lux_cmaes_t *es = lux_calloc(1, sizeof *es);
    if (es == NULL)
        return LUX_ENOMEM;
    memcpy((unsigned char *)es + SCALARS_BEGIN, buf + head, scalars);
    int rc = alloc_arrays(es);
    if (rc != 0) {
        lux_cmaes_destroy(&es);
        return rc;
    }
    walk_arrays(es, (unsigned char *)buf + head + scalars, 1);
    zig_setup(es);
    *out = es;
    return 0;
}
