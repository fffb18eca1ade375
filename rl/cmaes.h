/*
 * CMA-ES with an ask/tell interface: the full-covariance algorithm of Hansen's
 * 2016 tutorial (arXiv:1604.00772, Table 1 defaults with the 1/4 offset in
 * c_mu, negative "active" weights) and, with opts.diagonal, sep-CMA-ES (Ros &
 * Hansen 2008; diagonal C, O(lambda n) per generation, CyberAgentAILab
 * cmaes.SepCMA's parameters). One module serves both so that termination,
 * save/restore and the accessors are shared; rl/sepcmaes.h is the diagonal
 * entry point under its own name. docs/optimizers.md lists every parameter.
 *
 * Minimisation. A generation is: lux_cmaes_ask() fills lambda candidates,
 * the caller evaluates them (in any order, on any worker), lux_cmaes_tell()
 * gets the same points with their f-values and updates the distribution.
 * Full mode samples y = B D z and keeps the eigendecomposition C = B D^2 B^T
 * lazily (recomputed every max(1, floor(1/(10 n (c1 + cmu)))) generations,
 * LAPACK dsyevd from OpenBLAS); sep mode needs no decomposition.
 *
 * State is owned by the lux_cmaes_t; nothing is shared between instances, so
 * distinct instances may be driven from distinct threads. One instance is
 * driven by one thread at a time. Random numbers come from the instance's own
 * xoshiro256** generator and Ziggurat normal sampler, seeded by opts.seed;
 * lux_cmaes_save() captures the generator, so a restored instance continues
 * bit-for-bit (same candidates, same updates) as the original would have.
 */
#ifndef LUX_CMAES_H
#define LUX_CMAES_H

#include <stddef.h>
#include <stdint.h>

typedef struct lux_cmaes lux_cmaes_t;

/* Options. Start from lux_cmaes_opts_default(); a NULL opts means defaults. */
typedef struct {
    int popsize;          /* lambda; 0: 4 + floor(3 ln n) */
    uint64_t seed;        /* seed of the instance's RNG (default 1) */
    int diagonal;         /* 0: full CMA-ES; 1: sep-CMA-ES (diagonal C) */
    double ftarget;       /* "ftarget" fires when best f < ftarget; default -INFINITY (off) */
    double tolfun;        /* "tolfun": range of best and worst f over the history; 1e-12 */
    double tolx;          /* "tolx": sigma*sqrt(C_ii) and sigma*p_c below tolx*sigma0; 1e-12 */
    double tolxup;        /* "tolxup": sigma*max(D) > tolxup; 1e4 */
    double tolcond;       /* "conditioncov": cond(C) = max(D^2)/min(D^2) > tolcond; 1e14 */
    long max_generations; /* "maxiter"; 0: 100 + 150 (n+3)^2 / sqrt(lambda) (pycma's) */
    long max_evals;       /* "maxfevals"; 0: unlimited */
} lux_cmaes_opts_t;

/* Strategy parameters as computed by lux_cmaes_new (docs/optimizers.md, arXiv:1604.00772). */
typedef struct {
    size_t n;
    int lambda, mu;
    double mueff;     /* of the positive weights */
    double mueff_neg; /* of the negative weights (0 in sep mode: no negative weights) */
    double cs, ds, cc, c1, cmu, cm;
    double chin;         /* E||N(0,I)||, approximation sqrt(n)(1 - 1/(4n) + 1/(21 n^2)) */
    long eigen_interval; /* generations between eigendecompositions (1 in sep mode) */
} lux_cmaes_params_t;

/* Fills *opts with the defaults listed above. Cannot fail. */
void lux_cmaes_opts_default(lux_cmaes_opts_t *opts);

/* Creates an optimiser in dimension n >= 1 (>= 2 in diagonal mode) starting
 * at mean x0 (n values, copied) with step size sigma0 > 0 and C = I. On
 * success *out owns the instance (free with lux_cmaes_destroy). Returns 0,
 * LUX_EINVAL for a bad argument (n, NULL x0, sigma0 <= 0 or non-finite,
 * popsize 1 or above 2^24, non-finite x0), LUX_ENOMEM. */
int lux_cmaes_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *opts,
                  lux_cmaes_t **out);

/* Frees the instance and clears *es_p. Accepts NULL and *es_p == NULL. */
void lux_cmaes_destroy(lux_cmaes_t **es_p);

/* Samples a new population into X (lambda rows of n doubles, row-major):
 * x_k = m + sigma B D z_k. Each call draws fresh candidates. Returns 0 (it
 * cannot fail for a valid instance) or LUX_EINVAL for NULL arguments. */
int lux_cmaes_ask(lux_cmaes_t *es, double *X);

/* Updates the distribution from lambda candidates X (row-major, normally the
 * ones ask() returned, but any points are accepted: y = (x - m)/sigma is
 * recomputed) and their f-values (minimisation). NaN f-values rank last.
 * Advances the generation counter and the evaluation count by lambda.
 * Returns 0, LUX_EINVAL for NULL arguments, or LUX_ERANGE when the
 * eigendecomposition fails (C no longer numerically symmetric positive
 * definite; the instance keeps its previous B, D and stop() reports
 * "eigen"). */
int lux_cmaes_tell(lux_cmaes_t *es, const double *X, const double *f);

/* Checks the termination criteria (arXiv:1604.00772 App. B.3) after the last tell().
 * Defaults follow CyberAgentAILab cmaes CMA.should_stop(), with the condition
 * test applied to C itself (cond(C) > 1e14, as pycma and the tutorial mean
 * it), plus ftarget, maxiter (pycma's default) and maxfevals: "ftarget",
 * "maxfevals", "maxiter", "tolfun", "tolx", "tolxup", "noeffectaxis" (full
 * mode only), "noeffectcoord", "conditioncov", "eigen". Returns 1 and writes
 * the name of the first criterion that fired into reason (at most len bytes,
 * NUL-terminated; reason may be NULL), or 0 when none fired. Cannot fail. */
int lux_cmaes_stop(const lux_cmaes_t *es, char *reason, size_t len);

/* Accessors. Cannot fail. The pointers stay valid until the next tell(),
 * restore or destroy. */
size_t lux_cmaes_dim(const lux_cmaes_t *es);
int lux_cmaes_popsize(const lux_cmaes_t *es);
int lux_cmaes_is_diagonal(const lux_cmaes_t *es);
const double *lux_cmaes_mean(const lux_cmaes_t *es);
double lux_cmaes_sigma(const lux_cmaes_t *es);
long lux_cmaes_generation(const lux_cmaes_t *es);  /* tells so far */
long lux_cmaes_evaluations(const lux_cmaes_t *es); /* lambda * tells */
/* Best f told so far (+INFINITY before the first tell); *x (may be NULL)
 * receives a pointer to its point (n values). */
double lux_cmaes_best(const lux_cmaes_t *es, const double **x);
/* cond(C) = max eigenvalue / min eigenvalue, from the last decomposition
 * (exact diag(C) ratio in sep mode). */
double lux_cmaes_condition(const lux_cmaes_t *es);
/* Strategy parameters and the lambda recombination weights (positive first,
 * then the negative ones; sep mode: mu positive weights then zeros). */
void lux_cmaes_params(const lux_cmaes_t *es, lux_cmaes_params_t *p);
const double *lux_cmaes_weights(const lux_cmaes_t *es);

/* Serialises the whole state (parameters, distribution, paths, histories,
 * best-so-far, RNG) into *bytes (lux_malloc'd; the caller frees with
 * lux_free) of *len bytes. The format is little-endian host doubles with a
 * magic and version; it is meant for checkpoints of the same build and
 * machine type. Returns 0 or LUX_ENOMEM. */
int lux_cmaes_save(const lux_cmaes_t *es, void **bytes, size_t *len);

/* Creates a new instance from bytes written by lux_cmaes_save(); it continues
 * bit-for-bit where the saved one was. Returns 0, LUX_EINVAL for bytes that
 * are not a valid checkpoint (wrong magic, version or length), LUX_ENOMEM. */
int lux_cmaes_restore(const void *bytes, size_t len, lux_cmaes_t **out);

#endif
