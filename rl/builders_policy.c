/*
 * The builders policy. Plain loops: with 35 inputs and 20/10 hidden units a
 * BLAS call costs more than the arithmetic.
 */
#include "builders_policy.h"

#include "error.h"

#include <math.h>
#include <string.h>

void lux_builders_policy_opts_default(lux_builders_policy_opts_t *o)
{
    o->n_hidden = 20;
    o->n_hidden2 = 10;
    o->init_fac = 0.2;
    o->init_fac2 = 1.0;
    o->bias_fac = 0.1;
    o->actions_scale = 10.0;
    o->memory_clamp = 10.0;
    o->memory_halftime = 5.0;
}

int lux_builders_policy_init(lux_builders_policy_t *bp, const lux_builders_policy_opts_t *o)
{
    memset(bp, 0, sizeof *bp);
    if (o->n_hidden < 1 || o->n_hidden > LUX_BPOLICY_MAX_HIDDEN || o->n_hidden2 < 0 ||
        o->n_hidden2 > LUX_BPOLICY_MAX_HIDDEN || !(o->init_fac > 0) || !(o->init_fac2 > 0) ||
        !(o->actions_scale > 0) || !isfinite(o->bias_fac) || !isfinite(o->memory_clamp) ||
        !isfinite(o->memory_halftime))
        return LUX_EINVAL;
    bp->opts = *o;
    size_t h1 = (size_t)o->n_hidden, h2 = (size_t)o->n_hidden2, in = LUX_BPOLICY_INPUTS;
    size_t last = h2 > 0 ? h2 : h1, off = 0;
    bp->off[0] = off;
    off += in * h1;
    bp->off[1] = off;
    off += h1;
    bp->off[2] = off;
    off += h1 * h2;
    bp->off[3] = off;
    off += h2;
    bp->off[4] = off;
    off += last * LUX_BPOLICY_OUTPUTS;
    bp->off[5] = off;
    off += LUX_BPOLICY_OUTPUTS;
    bp->num_params = off;
    double f = o->init_fac, f2 = o->init_fac2, bf = o->bias_fac;
    bp->factor[0] = sqrt(2.0 * f / (double)in);
    bp->factor[1] = f * bf;
    bp->factor[2] = h2 > 0 ? sqrt(f2 * f / (double)(h1 + h2)) : 0.0;
    bp->factor[3] = f2 * f * bf;
    bp->factor[4] = sqrt(f / (double)(last + LUX_BPOLICY_OUTPUTS));
    bp->factor[5] = f * bf;
    return 0;
}

size_t lux_builders_policy_num_params(const lux_builders_policy_t *bp)
{
    return bp->num_params;
}

void lux_builders_policy_set_params(lux_builders_policy_t *bp, const double *params)
{
    bp->params = params;
}

void lux_builders_policy_begin(lux_builders_policy_t *bp, int num_agents, lux_rng_t *rng)
{
    if (num_agents > LUX_BPOLICY_MAX_AGENTS)
        num_agents = LUX_BPOLICY_MAX_AGENTS;
    bp->num_agents = num_agents;
    for (int a = 0; a < num_agents; a++)
        for (int i = 0; i < LUX_BPOLICY_MEMORY; i++)
            bp->memory[a][i] = 2.0 * lux_rng_uniform(rng) - 1.0;
}

/* y[o] = relu?(fw * W[o,:] x + fb * b[o]) */
static void dense(const double *w, double fw, const double *b, double fb, const double *x, int in,
                  int out, int relu, double *y)
{
    for (int o = 0; o < out; o++) {
        const double *row = w + (size_t)o * (size_t)in;
        double s = 0.0;
        for (int i = 0; i < in; i++)
            s += row[i] * x[i];
        s = fw * s + fb * b[o];
        y[o] = relu && s < 0.0 ? 0.0 : s;
    }
}

int lux_builders_policy_act(lux_builders_policy_t *bp, int agent, const float *cells,
                            lux_rng_t *rng)
{
    const lux_builders_policy_opts_t *o = &bp->opts;
    double *mem = bp->memory[agent % LUX_BPOLICY_MAX_AGENTS];
    double x[LUX_BPOLICY_INPUTS];
    for (int i = 0; i < LUX_BPOLICY_CELL_INPUTS; i++)
        x[i] = (double)cells[i];
    for (int i = 0; i < LUX_BPOLICY_MEMORY; i++)
        x[LUX_BPOLICY_CELL_INPUTS + i] = mem[i];
    for (int i = 0; i < LUX_BPOLICY_RANDOM; i++)
        x[LUX_BPOLICY_CELL_INPUTS + LUX_BPOLICY_MEMORY + i] = lux_rng_uniform(rng);
    for (int i = 0; i < LUX_BPOLICY_INPUTS; i++)
        x[i] = (x[i] - 0.2) * 2.5;
    const double *p = bp->params;
    double h1[LUX_BPOLICY_MAX_HIDDEN], h2[LUX_BPOLICY_MAX_HIDDEN], y[LUX_BPOLICY_OUTPUTS];
    dense(p + bp->off[0], bp->factor[0], p + bp->off[1], bp->factor[1], x, LUX_BPOLICY_INPUTS,
          o->n_hidden, 1, h1);
    const double *last = h1;
    int nlast = o->n_hidden;
    if (o->n_hidden2 > 0) {
        dense(p + bp->off[2], bp->factor[2], p + bp->off[3], bp->factor[3], h1, o->n_hidden,
              o->n_hidden2, 1, h2);
        last = h2;
        nlast = o->n_hidden2;
    }
    dense(p + bp->off[4], bp->factor[4], p + bp->off[5], bp->factor[5], last, nlast,
          LUX_BPOLICY_OUTPUTS, 0, y);
    /* Softmax sample over the scaled logits. */
    double max = -INFINITY, w[LUX_BPOLICY_ACTIONS], total = 0.0;
    for (int i = 0; i < LUX_BPOLICY_ACTIONS; i++)
        if (y[i] * o->actions_scale > max)
            max = y[i] * o->actions_scale;
    for (int i = 0; i < LUX_BPOLICY_ACTIONS; i++) {
        w[i] = exp(y[i] * o->actions_scale - max);
        total += w[i];
    }
    double u = lux_rng_uniform(rng) * total, acc = 0.0;
    int action = LUX_BPOLICY_ACTIONS - 1;
    for (int i = 0; i < LUX_BPOLICY_ACTIONS; i++) {
        acc += w[i];
        if (u < acc) {
            action = i;
            break;
        }
    }
    double r = log(2.0) / fmax(o->memory_halftime, 0.001);
    double clamp = fmax(o->memory_clamp, 0.001);
    for (int i = 0; i < LUX_BPOLICY_MEMORY; i++) {
        double m = r * mem[i] + (1.0 - r) * y[LUX_BPOLICY_ACTIONS + i];
        mem[i] = m > clamp ? clamp : m < -clamp ? -clamp : m;
    }
    return action;
}
