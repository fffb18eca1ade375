/*
 * sep-CMA-ES entry points: the diagonal mode of cmaes.c under its own name
 * (see sepcmaes.h). The algorithm itself lives in cmaes.c so that the
 * termination criteria, save/restore and accessors are shared.
 */
#include "sepcmaes.h"

int lux_sepcmaes_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *opts,
                     lux_cmaes_t **out)
{
    lux_cmaes_opts_t o;
    if (opts != NULL)
        o = *opts;
    else
        lux_cmaes_opts_default(&o);
    o.diagonal = 1;
    return lux_cmaes_new(n, x0, sigma0, &o, out);
}

int lux_sepcmaes_ask(lux_cmaes_t *es, double *X)
{
    return lux_cmaes_ask(es, X);
}

int lux_sepcmaes_tell(lux_cmaes_t *es, const double *X, const double *f)
{
    return lux_cmaes_tell(es, X, f);
}
