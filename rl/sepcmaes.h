/*
 * sep-CMA-ES (Ros & Hansen, PPSN 2008): CMA-ES with a diagonal covariance
 * matrix, O(lambda n) time and O(lambda n) memory per generation, no
 * eigendecomposition. It is the diagonal mode of rl/cmaes.h under its own
 * name: the instance is a lux_cmaes_t and every lux_cmaes_* accessor,
 * lux_cmaes_stop(), lux_cmaes_save()/restore() and lux_cmaes_destroy() apply.
 *
 * Parameters are those of CyberAgentAILab cmaes.SepCMA (Ros & Hansen 2008):
 * positive weights only, w'_i = ln(mu+1) - ln i; c_sigma = (mueff+2)/(n+mueff+3);
 * d_sigma = 1 + 2 max(0, sqrt((mueff-1)/(n+1)) - 1) + c_sigma; c_c = 4/(n+4);
 * c_1 = 2/((n+1.3)^2 + mueff); c_mu = (n+2)/3 [2/(mueff (n+sqrt2)^2) +
 * (1 - 1/mueff) min(1, (2 mueff - 1)/((n+2)^2 + mueff))]. We chose these over
 * pycma's O(1/n) diagonal rates because the speed figure we quote is against
 * cmaes.SepCMA, so both run the same algorithm.
 */
#ifndef LUX_SEPCMAES_H
#define LUX_SEPCMAES_H

#include "cmaes.h"

/* Like lux_cmaes_new() with opts->diagonal forced to 1 (opts may be NULL).
 * Needs n >= 2. Same returns. */
int lux_sepcmaes_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *opts,
                     lux_cmaes_t **out);

/* The same as lux_cmaes_ask / lux_cmaes_tell, named for readers of sep code. */
int lux_sepcmaes_ask(lux_cmaes_t *es, double *X);
int lux_sepcmaes_tell(lux_cmaes_t *es, const double *X, const double *f);

#endif
