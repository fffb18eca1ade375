/*
 * The builders policy: the double reference (plain loops) and the batched
 * float32 path.
 *
 * The batched path stores the weights pre-multiplied by their block factors
 * as float32 and computes a block of 8 rows at a time with one row per
 * vector lane (inputs as 35 vectors, structure of arrays): every weight is
 * broadcast once per set of parameters and meets 8 rows per instruction.
 * We measured the alternative for `lux bench rl --part
 * builders_policy_rollout` (docs/trainables.md): OpenBLAS sgemm's forward
 * pass alone is slower at 8 rows and somewhat faster from 16 rows on than
 * this whole decision (inputs, forward, softmax, sampling, memory), but its
 * result for a row may depend on where the row falls in its blocking, which
 * would make an episode depend on the batch it ran in, and the softmax,
 * sampling and memory passes would come on top.
 */
#include "builders_policy.h"

#include "alloc.h"
#include "error.h"
#include "vecmath.h"

#include <math.h>
#include <stdint.h>
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
    o->output_fac_h2 = 0;
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
    /* The builders study: h1 + 18 even when the outputs read h2 (see the header). */
    size_t out_fan = o->output_fac_h2 ? last : h1;
    bp->factor[4] = sqrt(f / (double)(out_fan + LUX_BPOLICY_OUTPUTS));
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

/* ---- batched float32 acting ---- */

struct lux_builders_batch {
    int h1, h2, last; /* hidden widths; last = the width the outputs read */
    int max_episodes, max_agents;
    float *w1, *b1, *w2, *b2, *wo, *bo; /* factor-scaled, float32 */
    float *weights;                     /* one allocation behind the six blocks */
    float actions_scale, retain, keep_target, clamp;
    float *memory;  /* [episode][agent][LUX_BPOLICY_MEMORY] */
    lux_v8f *wide;  /* every weight and bias broadcast to 8 lanes (same layout) */
    void *wide_raw; /* its allocation, aligned by hand */
    size_t num_params;
    size_t off[6];
    double factor[6];
};

lux_builders_batch_t *lux_builders_batch_new(const lux_builders_policy_t *bp, int max_episodes,
                                             int max_agents)
{
    if (max_episodes < 1 || max_agents < 1 || max_agents > LUX_BPOLICY_MAX_AGENTS ||
        bp->num_params == 0)
        return NULL;
    lux_builders_batch_t *b = lux_calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    const lux_builders_policy_opts_t *o = &bp->opts;
    b->h1 = o->n_hidden;
    b->h2 = o->n_hidden2;
    b->last = b->h2 > 0 ? b->h2 : b->h1;
    b->max_episodes = max_episodes;
    b->max_agents = max_agents;
    b->num_params = bp->num_params;
    memcpy(b->off, bp->off, sizeof b->off);
    memcpy(b->factor, bp->factor, sizeof b->factor);
    double r = log(2.0) / fmax(o->memory_halftime, 0.001);
    b->actions_scale = (float)o->actions_scale;
    b->retain = (float)r;
    b->keep_target = (float)(1.0 - r);
    b->clamp = (float)fmax(o->memory_clamp, 0.001);
    b->weights = lux_calloc(bp->num_params, sizeof(float));
    b->memory =
        lux_calloc((size_t)max_episodes * (size_t)max_agents * LUX_BPOLICY_MEMORY, sizeof(float));
    b->wide_raw = lux_malloc((bp->num_params + 1) * sizeof(lux_v8f));
    if (b->wide_raw != NULL) {
        uintptr_t a = (uintptr_t)b->wide_raw, al = sizeof(lux_v8f);
        b->wide = (lux_v8f *)((a + al - 1) / al * al);
    }
    if (b->weights == NULL || b->memory == NULL || b->wide_raw == NULL) {
        lux_builders_batch_destroy(&b);
        return NULL;
    }
    b->w1 = b->weights + bp->off[0];
    b->b1 = b->weights + bp->off[1];
    b->w2 = b->weights + bp->off[2];
    b->b2 = b->weights + bp->off[3];
    b->wo = b->weights + bp->off[4];
    b->bo = b->weights + bp->off[5];
    return b;
}

void lux_builders_batch_destroy(lux_builders_batch_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_free((*self_p)->weights);
    lux_free((*self_p)->memory);
    lux_free((*self_p)->wide_raw);
    lux_free(*self_p);
    *self_p = NULL;
}

void lux_builders_batch_set_params(lux_builders_batch_t *b, const double *params)
{
    for (int k = 0; k < 6; k++) {
        size_t end = k < 5 ? b->off[k + 1] : b->num_params;
        for (size_t i = b->off[k]; i < end; i++)
            b->weights[i] = (float)(b->factor[k] * params[i]);
    }
    /* The first layer sees a cell indicator c as (c - 0.2) * 2.5 = 2.5 c -
     * 0.5: its weights take the 2.5 and its bias the -0.5 w (in double),
     * so act_block feeds the raw 0/1 indicators and may skip zeros. */
    for (int o = 0; o < b->h1; o++) {
        const double *w = params + b->off[0] + (size_t)o * LUX_BPOLICY_INPUTS;
        double bias = b->factor[1] * params[b->off[1] + (size_t)o];
        for (int i = 0; i < LUX_BPOLICY_CELL_INPUTS; i++) {
            bias -= 0.5 * b->factor[0] * w[i];
            b->w1[(size_t)o * LUX_BPOLICY_INPUTS + (size_t)i] = (float)(2.5 * b->factor[0] * w[i]);
        }
        b->b1[o] = (float)bias;
    }
    /* Broadcast once here rather than once per block of rows: the kernel's
     * multiplies then read their weight operand straight from memory. */
    for (size_t i = 0; i < b->num_params; i++)
        b->wide[i] = (lux_v8f){0} + b->weights[i];
}

static float *memory_of(const lux_builders_batch_t *b, int episode, int agent)
{
    size_t slot = (size_t)episode * (size_t)b->max_agents + (size_t)(agent % b->max_agents);
    return b->memory + slot * LUX_BPOLICY_MEMORY;
}

const float *lux_builders_batch_memory(const lux_builders_batch_t *b, int episode, int agent)
{
    return memory_of(b, episode, agent);
}

void lux_builders_batch_begin(lux_builders_batch_t *b, int episode, int num_agents, lux_rng_t *rng)
{
    if (num_agents > b->max_agents)
        num_agents = b->max_agents;
    for (int a = 0; a < num_agents; a++) {
        float *m = memory_of(b, episode, a);
        for (int i = 0; i < LUX_BPOLICY_MEMORY; i++)
            m[i] = (float)(2.0 * lux_rng_uniform(rng) - 1.0);
    }
}

/* y[o] = relu?(b[o] + sum_k w[o, i_k] x[i_k]) for 8 rows at once, over the
 * inputs i_k = idx[k] (k < nidx; idx NULL: all `in` inputs in order).
 * Outputs go in eights, then fours, then one by one, so that each input
 * vector is loaded once per group and there are enough independent sums to
 * hide the add latency. Every lane adds its products in the same order
 * (bias first, then the inputs in order) whatever the grouping. */
LUX_VEC_INLINE void dense_block(const lux_v8f *w, const lux_v8f *bias, int in, int out, int relu,
                                const int *idx, int nidx, const lux_v8f *x, lux_v8f *y)
{
    const lux_v8f zero = {0};
    int o = 0;
    if (idx == NULL)
        nidx = in;
    for (; o + 8 <= out; o += 8) {
        const lux_v8f *r = w + (size_t)o * (size_t)in;
        lux_v8f a[8];
        for (int u = 0; u < 8; u++)
            a[u] = bias[o + u];
        for (int k = 0; k < nidx; k++) {
            int i = idx != NULL ? idx[k] : k;
            lux_v8f xi = x[i];
            for (int u = 0; u < 8; u++)
                a[u] += r[(size_t)u * (size_t)in + (size_t)i] * xi;
        }
        for (int u = 0; u < 8; u++) {
            if (relu)
                lux_v8f_max(&a[u], &a[u], &zero);
            y[o + u] = a[u];
        }
    }
    for (; o + 4 <= out; o += 4) {
        const lux_v8f *r0 = w + (size_t)o * (size_t)in, *r1 = r0 + in, *r2 = r1 + in, *r3 = r2 + in;
        lux_v8f a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3];
        for (int k = 0; k < nidx; k++) {
            int i = idx != NULL ? idx[k] : k;
            lux_v8f xi = x[i];
            a0 += r0[i] * xi;
            a1 += r1[i] * xi;
            a2 += r2[i] * xi;
            a3 += r3[i] * xi;
        }
        if (relu) {
            lux_v8f_max(&a0, &a0, &zero);
            lux_v8f_max(&a1, &a1, &zero);
            lux_v8f_max(&a2, &a2, &zero);
            lux_v8f_max(&a3, &a3, &zero);
        }
        y[o] = a0;
        y[o + 1] = a1;
        y[o + 2] = a2;
        y[o + 3] = a3;
    }
    for (; o < out; o++) {
        const lux_v8f *r0 = w + (size_t)o * (size_t)in;
        lux_v8f a0 = bias[o];
        for (int k = 0; k < nidx; k++) {
            int i = idx != NULL ? idx[k] : k;
            a0 += r0[i] * x[i];
        }
        if (relu)
            lux_v8f_max(&a0, &a0, &zero);
        y[o] = a0;
    }
}

/* One lane per row: the vector {p[0][i], ..., p[7][i]}, built in registers
 * (element stores followed by a vector load would stall store forwarding). */
#define LANES_OF(p, i)                                                                             \
    ((lux_v8f){p[0][i], p[1][i], p[2][i], p[3][i], p[4][i], p[5][i], p[6][i], p[7][i]})

/* The decisions of rows j0 .. j0+m-1 (m <= 8); lanes m..7 compute on zeros
 * and are ignored.
 *
 * The cell indicators are 0 or 1, so the first layer takes them through
 * weights pre-multiplied by 2.5 with the -0.5 offsets folded into its bias
 * (lux_builders_batch_set_params), and an indicator that is 0 in all eight
 * rows is skipped: its products would all be +0, which leaves every sum
 * unchanged, so the skip does not make a row depend on its neighbours. Food
 * and Agent indicators are mostly 0, so about a third of the first layer's
 * multiply-adds go. */
LUX_VEC_INLINE void act_block(lux_builders_batch_t *b, int j0, int m, const int *episode,
                              const int *agent, const float *cells, lux_rng_t *const *rng,
                              int *actions)
{
    static const float zero_row[LUX_BPOLICY_CELL_INPUTS] = {0};
    lux_v8f x[LUX_BPOLICY_INPUTS], h1[LUX_BPOLICY_MAX_HIDDEN], h2[LUX_BPOLICY_MAX_HIDDEN];
    lux_v8f y[LUX_BPOLICY_OUTPUTS], mem[LUX_BPOLICY_MEMORY];
    const float *cp[LUX_VEC_LANES], *mp[LUX_VEC_LANES];
    float *slot[LUX_VEC_LANES] = {0};
    float rnd[LUX_VEC_LANES][LUX_BPOLICY_RANDOM] = {{0}};
    const float *rp[LUX_VEC_LANES];
    int idx[LUX_BPOLICY_INPUTS], nidx = 0;
    for (int l = 0; l < LUX_VEC_LANES; l++) {
        cp[l] = mp[l] = zero_row;
        rp[l] = rnd[l];
        if (l >= m)
            continue;
        int j = j0 + l;
        cp[l] = cells + (size_t)j * LUX_BPOLICY_CELL_INPUTS;
        mp[l] = slot[l] = memory_of(b, episode[j], agent[j]);
        for (int i = 0; i < LUX_BPOLICY_RANDOM; i++)
            rnd[l][i] = (float)lux_rng_uniform(rng[j]);
    }
    for (int i = 0; i < LUX_BPOLICY_CELL_INPUTS; i++) {
        x[i] = LANES_OF(cp, i);
        lux_v8i nz = x[i] != 0.0f;
        int any = 0;
        for (int l = 0; l < LUX_VEC_LANES; l++)
            any |= nz[l];
        if (any)
            idx[nidx++] = i;
    }
    for (int i = 0; i < LUX_BPOLICY_MEMORY; i++) {
        mem[i] = LANES_OF(mp, i);
        x[LUX_BPOLICY_CELL_INPUTS + i] = (mem[i] - 0.2f) * 2.5f;
        idx[nidx++] = LUX_BPOLICY_CELL_INPUTS + i;
    }
    for (int i = 0; i < LUX_BPOLICY_RANDOM; i++) {
        int k = LUX_BPOLICY_CELL_INPUTS + LUX_BPOLICY_MEMORY + i;
        x[k] = (LANES_OF(rp, i) - 0.2f) * 2.5f;
        idx[nidx++] = k;
    }
    const lux_v8f *wv = b->wide;
    dense_block(wv + b->off[0], wv + b->off[1], LUX_BPOLICY_INPUTS, b->h1, 1, idx, nidx, x, h1);
    const lux_v8f *last = h1;
    if (b->h2 > 0) {
        dense_block(wv + b->off[2], wv + b->off[3], b->h1, b->h2, 1, NULL, 0, h1, h2);
        last = h2;
    }
    dense_block(wv + b->off[4], wv + b->off[5], b->last, LUX_BPOLICY_OUTPUTS, 0, NULL, 0, last, y);
    /* Softmax weights of the scaled logits, then one uniform per row. */
    lux_v8f z[LUX_BPOLICY_ACTIONS], e[LUX_BPOLICY_ACTIONS], mx, total;
    for (int a = 0; a < LUX_BPOLICY_ACTIONS; a++)
        z[a] = y[a] * b->actions_scale;
    mx = z[0];
    for (int a = 1; a < LUX_BPOLICY_ACTIONS; a++)
        lux_v8f_max(&mx, &mx, &z[a]);
    total = (lux_v8f){0};
    for (int a = 0; a < LUX_BPOLICY_ACTIONS; a++) {
        lux_v8f d = z[a] - mx;
        lux_v8f_exp(&e[a], &d);
        total += e[a];
    }
    for (int l = 0; l < m; l++) {
        float u = (float)lux_rng_uniform(rng[j0 + l]) * total[l], acc = 0.0f;
        int action = LUX_BPOLICY_ACTIONS - 1;
        for (int a = 0; a < LUX_BPOLICY_ACTIONS; a++) {
            acc += e[a][l];
            if (u < acc) {
                action = a;
                break;
            }
        }
        actions[j0 + l] = action;
    }
    /* Memory: m <- clamp(r m + (1 - r) u, +-clamp). */
    lux_v8f hi = (lux_v8f){0} + b->clamp, lo = (lux_v8f){0} - b->clamp;
    for (int i = 0; i < LUX_BPOLICY_MEMORY; i++) {
        lux_v8f v = b->retain * mem[i] + b->keep_target * y[LUX_BPOLICY_ACTIONS + i];
        lux_v8f_min(&v, &v, &hi);
        lux_v8f_max(&mem[i], &v, &lo);
    }
    for (int l = 0; l < m; l++)
        for (int i = 0; i < LUX_BPOLICY_MEMORY; i++)
            slot[l][i] = mem[i][l];
}

__attribute__((target_clones("avx2", "default"))) static void
act_rows(lux_builders_batch_t *b, int n, const int *episode, const int *agent, const float *cells,
         lux_rng_t *const *rng, int *actions)
{
    for (int j0 = 0; j0 < n; j0 += LUX_VEC_LANES) {
        int m = n - j0 < LUX_VEC_LANES ? n - j0 : LUX_VEC_LANES;
        act_block(b, j0, m, episode, agent, cells, rng, actions);
    }
}

void lux_builders_batch_act(lux_builders_batch_t *b, int n, const int *episode, const int *agent,
                            const float *cells, lux_rng_t *const *rng, int *actions)
{
    act_rows(b, n, episode, agent, cells, rng, actions);
}
