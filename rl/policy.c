/*
 * MLP forward/backward on OpenBLAS. Layer l maps width[l] -> width[l+1];
 * width[0] is obs_dim and the last width is the number of outputs. The
 * workspace holds each layer's post-activation values for the last forward
 * (a[0] is a copy of the input) plus two delta buffers for the backward
 * pass; it grows to the largest batch seen.
 */
#include "policy.h"

#include "alloc.h"
#include "error.h"
#include "vecmath.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

struct lux_policy {
    lux_policy_spec_t spec;
    int num_layers;                          /* hidden layers + output layer */
    int width[LUX_POLICY_MAX_LAYERS + 2];    /* width[0] = obs_dim */
    size_t w_off[LUX_POLICY_MAX_LAYERS + 1]; /* offset of layer l's weights */
    size_t b_off[LUX_POLICY_MAX_LAYERS + 1];
    size_t log_std_off;
    size_t num_params;
    int num_outputs;
    int max_width;
    double *params;
    /* workspace */
    int capacity; /* batch rows allocated */
    int batch;    /* rows of the last forward */
    double *act[LUX_POLICY_MAX_LAYERS + 2];
    double *delta[2];
};

int lux_policy_spec_check(const lux_policy_spec_t *s)
{
    if (s->obs_dim <= 0 || s->obs_dim > 1 << 20 || s->num_hidden < 0 ||
        s->num_hidden > LUX_POLICY_MAX_LAYERS || s->action_dim <= 0)
        return LUX_EINVAL;
    for (int i = 0; i < s->num_hidden; i++)
        if (s->hidden[i] <= 0 || s->hidden[i] > 1 << 16)
            return LUX_EINVAL;
    if (s->activation != LUX_ACTIVATION_TANH && s->activation != LUX_ACTIVATION_RELU)
        return LUX_EINVAL;
    switch (s->head) {
    case LUX_HEAD_DISCRETE:
        return s->action_dim >= 1 && s->action_dim <= 1 << 16 ? 0 : LUX_EINVAL;
    case LUX_HEAD_DETERMINISTIC:
    case LUX_HEAD_GAUSSIAN:
        if (s->action_dim > LUX_POLICY_MAX_ACTION_DIM)
            return LUX_EINVAL;
        for (int i = 0; i < s->action_dim; i++)
            if (!(s->action_low[i] < s->action_high[i]))
                return LUX_EINVAL;
        return 0;
    }
    return LUX_EINVAL;
}

lux_policy_t *lux_policy_new(const lux_policy_spec_t *spec)
{
    if (lux_policy_spec_check(spec) != 0)
        return NULL;
    lux_policy_t *p = lux_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->spec = *spec;
    p->num_layers = spec->num_hidden + 1;
    p->num_outputs = spec->action_dim + (spec->value_head ? 1 : 0);
    p->width[0] = spec->obs_dim;
    for (int i = 0; i < spec->num_hidden; i++)
        p->width[i + 1] = spec->hidden[i];
    p->width[p->num_layers] = p->num_outputs;
    size_t off = 0;
    p->max_width = 0;
    for (int l = 0; l < p->num_layers; l++) {
        p->w_off[l] = off;
        off += (size_t)p->width[l + 1] * (size_t)p->width[l];
        p->b_off[l] = off;
        off += (size_t)p->width[l + 1];
    }
    for (int l = 0; l <= p->num_layers; l++)
        if (p->width[l] > p->max_width)
            p->max_width = p->width[l];
    p->log_std_off = off;
    if (spec->head == LUX_HEAD_GAUSSIAN)
        off += (size_t)spec->action_dim;
    p->num_params = off;
    p->params = lux_calloc(off, sizeof *p->params);
    if (p->params == NULL) {
        lux_free(p);
        return NULL;
    }
    if (spec->head == LUX_HEAD_GAUSSIAN)
        for (int i = 0; i < spec->action_dim; i++)
            p->params[p->log_std_off + (size_t)i] = spec->log_std_init;
    return p;
}

static void free_workspace(lux_policy_t *p)
{
    for (int l = 0; l <= p->num_layers; l++) {
        lux_free(p->act[l]);
        p->act[l] = NULL;
    }
    lux_free(p->delta[0]);
    lux_free(p->delta[1]);
    p->delta[0] = p->delta[1] = NULL;
    p->capacity = 0;
}

void lux_policy_destroy(lux_policy_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_policy_t *p = *self_p;
    free_workspace(p);
    lux_free(p->params);
    lux_free(p);
    *self_p = NULL;
}

const lux_policy_spec_t *lux_policy_spec(const lux_policy_t *p)
{
    return &p->spec;
}

size_t lux_policy_num_params(const lux_policy_t *p)
{
    return p->num_params;
}

int lux_policy_num_outputs(const lux_policy_t *p)
{
    return p->num_outputs;
}

size_t lux_policy_log_std_offset(const lux_policy_t *p)
{
    return p->log_std_off;
}

double *lux_policy_params(lux_policy_t *p)
{
    return p->params;
}

void lux_policy_set_params(lux_policy_t *p, const double *params)
{
    memcpy(p->params, params, p->num_params * sizeof *params);
}

void lux_policy_get_params(const lux_policy_t *p, double *params)
{
    memcpy(params, p->params, p->num_params * sizeof *params);
}

void lux_policy_init_params(lux_policy_t *p, lux_rng_t *rng)
{
    for (int l = 0; l < p->num_layers; l++) {
        int in = p->width[l], out = p->width[l + 1];
        int is_output = l == p->num_layers - 1;
        for (int r = 0; r < out; r++) {
            double *row = p->params + p->w_off[l] + (size_t)r * (size_t)in;
            double norm = 0.0;
            for (int c = 0; c < in; c++) {
                row[c] = lux_rng_normal(rng);
                norm += row[c] * row[c];
            }
            /* The value unit is the last output; it starts like a hidden
             * unit so the critic learns quickly (universe-starter-agent). */
            int value_unit = is_output && p->spec.value_head && r == out - 1;
            double target = is_output && !value_unit ? 0.01 : 1.0;
            double scale = norm > 0.0 ? target / sqrt(norm) : 0.0;
            for (int c = 0; c < in; c++)
                row[c] *= scale;
        }
        memset(p->params + p->b_off[l], 0, (size_t)out * sizeof(double));
    }
    if (p->spec.head == LUX_HEAD_GAUSSIAN)
        for (int i = 0; i < p->spec.action_dim; i++)
            p->params[p->log_std_off + (size_t)i] = p->spec.log_std_init;
}

static int reserve(lux_policy_t *p, int batch)
{
    if (batch <= p->capacity)
        return 0;
    free_workspace(p);
    for (int l = 0; l <= p->num_layers; l++) {
        p->act[l] = lux_malloc((size_t)batch * (size_t)p->width[l] * sizeof(double));
        if (p->act[l] == NULL)
            goto fail;
    }
    for (int i = 0; i < 2; i++) {
        p->delta[i] = lux_malloc((size_t)batch * (size_t)p->max_width * sizeof(double));
        if (p->delta[i] == NULL)
            goto fail;
    }
    p->capacity = batch;
    return 0;
fail:
    free_workspace(p);
    return LUX_ENOMEM;
}

int lux_policy_forward(lux_policy_t *p, const double *obs, int batch, const double **out)
{
    if (batch <= 0)
        return LUX_EINVAL;
    int rc = reserve(p, batch);
    if (rc != 0)
        return rc;
    p->batch = batch;
    memcpy(p->act[0], obs, (size_t)batch * (size_t)p->width[0] * sizeof(double));
    for (int l = 0; l < p->num_layers; l++) {
        int in = p->width[l], o = p->width[l + 1];
        const double *w = p->params + p->w_off[l], *b = p->params + p->b_off[l];
        double *y = p->act[l + 1];
        const double *x = p->act[l];
        for (int r = 0; r < batch; r++)
            memcpy(y + (size_t)r * (size_t)o, b, (size_t)o * sizeof(double));
        if (batch == 1)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, o, in, 1.0, w, in, x, 1, 1.0, y, 1);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, o, in, 1.0, x, in, w, in,
                        1.0, y, o);
        if (l < p->num_layers - 1) {
            size_t n = (size_t)batch * (size_t)o;
            if (p->spec.activation == LUX_ACTIVATION_TANH) {
                for (size_t i = 0; i < n; i++)
                    y[i] = tanh(y[i]);
            } else {
                for (size_t i = 0; i < n; i++)
                    y[i] = y[i] > 0.0 ? y[i] : 0.0;
            }
        }
    }
    *out = p->act[p->num_layers];
    return 0;
}

void lux_policy_backward(lux_policy_t *p, const double *dout, double *grad)
{
    int batch = p->batch;
    double *dz = p->delta[0], *da = p->delta[1];
    memcpy(dz, dout, (size_t)batch * (size_t)p->num_outputs * sizeof(double));
    for (int l = p->num_layers - 1; l >= 0; l--) {
        int in = p->width[l], o = p->width[l + 1];
        const double *x = p->act[l];
        const double *w = p->params + p->w_off[l];
        /* dW += dz^T x; db += column sums of dz. */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, in, batch, 1.0, dz, o, x, in, 1.0,
                    grad + p->w_off[l], in);
        double *gb = grad + p->b_off[l];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < o; j++)
                gb[j] += dz[(size_t)r * (size_t)o + (size_t)j];
        if (l == 0)
            break;
        /* da = dz W, then through the activation of layer l's input. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, o, 1.0, dz, o, w, in, 0.0,
                    da, in);
        size_t n = (size_t)batch * (size_t)in;
        if (p->spec.activation == LUX_ACTIVATION_TANH) {
            for (size_t i = 0; i < n; i++)
                da[i] *= 1.0 - x[i] * x[i];
        } else {
            for (size_t i = 0; i < n; i++)
                da[i] = x[i] > 0.0 ? da[i] : 0.0;
        }
        double *t = dz;
        dz = da;
        da = t;
    }
}

static double squash(double y, double low, double high)
{
    return low + 0.5 * (tanh(y) + 1.0) * (high - low);
}

int lux_policy_act(lux_policy_t *p, const double *obs, lux_rng_t *rng, double *action, double *raw)
{
    const double *y;
    int rc = lux_policy_forward(p, obs, 1, &y);
    if (rc != 0)
        return rc;
    const lux_policy_spec_t *s = &p->spec;
    int k = s->action_dim;
    switch (s->head) {
    case LUX_HEAD_DISCRETE: {
        int best = 0;
        for (int i = 1; i < k; i++)
            if (y[i] > y[best])
                best = i;
        int a = best;
        if (!s->argmax) {
            double max = y[best], total = 0.0;
            for (int i = 0; i < k; i++)
                total += exp(y[i] - max);
            double u = lux_rng_uniform(rng) * total, acc = 0.0;
            a = k - 1;
            for (int i = 0; i < k; i++) {
                acc += exp(y[i] - max);
                if (u < acc) {
                    a = i;
                    break;
                }
            }
        }
        action[0] = (double)a;
        if (raw != NULL)
            raw[0] = (double)a;
        break;
    }
    case LUX_HEAD_DETERMINISTIC:
        for (int i = 0; i < k; i++) {
            action[i] = squash(y[i], s->action_low[i], s->action_high[i]);
            if (raw != NULL)
                raw[i] = action[i];
        }
        break;
    case LUX_HEAD_GAUSSIAN:
        for (int i = 0; i < k; i++) {
            double std = exp(p->params[p->log_std_off + (size_t)i]);
            double a = y[i] + std * lux_rng_normal(rng);
            if (raw != NULL)
                raw[i] = a;
            action[i] = a < s->action_low[i]    ? s->action_low[i]
                        : a > s->action_high[i] ? s->action_high[i]
                                                : a;
        }
        break;
    }
    return 0;
}

int lux_activation_parse(const char *text, lux_activation_t *act)
{
    if (text == NULL)
        return LUX_EINVAL;
    if (strcmp(text, "tanh") == 0)
        *act = LUX_ACTIVATION_TANH;
    else if (strcmp(text, "relu") == 0)
        *act = LUX_ACTIVATION_RELU;
    else
        return LUX_EINVAL;
    return 0;
}

const char *lux_activation_name(lux_activation_t act)
{
    return act == LUX_ACTIVATION_RELU ? "relu" : "tanh";
}

/* ---- batched float32 acting ---- */

struct lux_policy_f32 {
    lux_policy_spec_t spec;
    int num_layers, num_outputs, max_width;
    int width[LUX_POLICY_MAX_LAYERS + 2];
    size_t w_off[LUX_POLICY_MAX_LAYERS + 1], b_off[LUX_POLICY_MAX_LAYERS + 1];
    size_t num_weights;
    float *w;
    double std[LUX_POLICY_MAX_ACTION_DIM]; /* gaussian: exp(log_std) */
    lux_v8f *buf[2];                       /* max_width vectors each, in raw[] */
    void *raw[2];                          /* the allocations, aligned by hand */
};

lux_policy_f32_t *lux_policy_f32_new(const lux_policy_t *p)
{
    lux_policy_f32_t *f = lux_calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->spec = p->spec;
    f->num_layers = p->num_layers;
    f->num_outputs = p->num_outputs;
    f->max_width = p->max_width;
    memcpy(f->width, p->width, sizeof f->width);
    memcpy(f->w_off, p->w_off, sizeof f->w_off);
    memcpy(f->b_off, p->b_off, sizeof f->b_off);
    f->num_weights = p->log_std_off;
    f->w = lux_calloc(f->num_weights > 0 ? f->num_weights : 1, sizeof(float));
    for (int i = 0; i < 2; i++) {
        f->raw[i] = lux_malloc(((size_t)f->max_width + 1) * sizeof(lux_v8f));
        uintptr_t a = (uintptr_t)f->raw[i], al = sizeof(lux_v8f);
        f->buf[i] = f->raw[i] == NULL ? NULL : (lux_v8f *)((a + al - 1) / al * al);
    }
    if (f->w == NULL || f->buf[0] == NULL || f->buf[1] == NULL) {
        lux_policy_f32_destroy(&f);
        return NULL;
    }
    lux_policy_f32_sync(f, p);
    return f;
}

void lux_policy_f32_destroy(lux_policy_f32_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_policy_f32_t *f = *self_p;
    lux_free(f->w);
    lux_free(f->raw[0]);
    lux_free(f->raw[1]);
    lux_free(f);
    *self_p = NULL;
}

void lux_policy_f32_sync(lux_policy_f32_t *f, const lux_policy_t *p)
{
    for (size_t i = 0; i < f->num_weights; i++)
        f->w[i] = (float)p->params[i];
    if (f->spec.head == LUX_HEAD_GAUSSIAN)
        for (int i = 0; i < f->spec.action_dim; i++)
            f->std[i] = exp(p->params[p->log_std_off + (size_t)i]);
}

/* y[o] = act(b[o] + sum_i w[o, i] x[i]) for 8 rows, outputs in fours (each
 * lane adds in the same order whatever the unrolling). act: 0 none, 1 tanh,
 * 2 relu. */
LUX_VEC_INLINE void mlp_dense(const float *w, const float *bias, int in, int out, int act,
                              const lux_v8f *x, lux_v8f *y)
{
    const lux_v8f zero = {0};
    int o = 0;
    for (; o + 4 <= out; o += 4) {
        const float *r0 = w + (size_t)o * (size_t)in, *r1 = r0 + in, *r2 = r1 + in, *r3 = r2 + in;
        lux_v8f a0 = zero + bias[o], a1 = zero + bias[o + 1], a2 = zero + bias[o + 2],
                a3 = zero + bias[o + 3];
        for (int i = 0; i < in; i++) {
            lux_v8f xi = x[i];
            a0 += r0[i] * xi;
            a1 += r1[i] * xi;
            a2 += r2[i] * xi;
            a3 += r3[i] * xi;
        }
        y[o] = a0;
        y[o + 1] = a1;
        y[o + 2] = a2;
        y[o + 3] = a3;
    }
    for (; o < out; o++) {
        const float *r0 = w + (size_t)o * (size_t)in;
        lux_v8f a0 = zero + bias[o];
        for (int i = 0; i < in; i++)
            a0 += r0[i] * x[i];
        y[o] = a0;
    }
    if (act == 1)
        for (o = 0; o < out; o++)
            lux_v8f_tanh(&y[o], &y[o]);
    else if (act == 2)
        for (o = 0; o < out; o++)
            lux_v8f_max(&y[o], &y[o], &zero);
}

LUX_VEC_INLINE void f32_block(lux_policy_f32_t *f, const float *obs, int j0, int m,
                              lux_rng_t *const *rng, double *action)
{
    const lux_policy_spec_t *s = &f->spec;
    lux_v8f *x = f->buf[0], *y = f->buf[1];
    int in0 = f->width[0];
    for (int i = 0; i < in0; i++)
        x[i] = (lux_v8f){0};
    for (int l = 0; l < m; l++) {
        const float *o = obs + (size_t)(j0 + l) * (size_t)in0;
        for (int i = 0; i < in0; i++)
            x[i][l] = o[i];
    }
    int act = s->activation == LUX_ACTIVATION_TANH ? 1 : 2;
    for (int k = 0; k < f->num_layers; k++) {
        int last = k == f->num_layers - 1;
        mlp_dense(f->w + f->w_off[k], f->w + f->b_off[k], f->width[k], f->width[k + 1],
                  last ? 0 : act, x, y);
        lux_v8f *t = x;
        x = y;
        y = t;
    }
    const lux_v8f *out = x; /* the last layer's outputs */
    int k = s->action_dim;
    switch (s->head) {
    case LUX_HEAD_DISCRETE:
        for (int l = 0; l < m; l++) {
            int best = 0;
            for (int i = 1; i < k; i++)
                if (out[i][l] > out[best][l])
                    best = i;
            action[(size_t)(j0 + l)] = (double)best;
        }
        if (!s->argmax) {
            /* y holds the softmax weights; the buffers are max_width long. */
            lux_v8f mx = out[0], total = {0};
            for (int i = 1; i < k; i++)
                lux_v8f_max(&mx, &mx, &out[i]);
            for (int i = 0; i < k; i++) {
                lux_v8f d = out[i] - mx;
                lux_v8f_exp(&y[i], &d);
                total += y[i];
            }
            for (int l = 0; l < m; l++) {
                float u = (float)lux_rng_uniform(rng[j0 + l]) * total[l], acc = 0.0f;
                int a = k - 1;
                for (int i = 0; i < k; i++) {
                    acc += y[i][l];
                    if (u < acc) {
                        a = i;
                        break;
                    }
                }
                action[(size_t)(j0 + l)] = (double)a;
            }
        }
        break;
    case LUX_HEAD_DETERMINISTIC:
        for (int i = 0; i < k; i++)
            lux_v8f_tanh(&y[i], &out[i]);
        for (int l = 0; l < m; l++)
            for (int i = 0; i < k; i++) {
                double lo = s->action_low[i], hi = s->action_high[i];
                action[(size_t)(j0 + l) * (size_t)k + (size_t)i] =
                    lo + 0.5 * ((double)y[i][l] + 1.0) * (hi - lo);
            }
        break;
    case LUX_HEAD_GAUSSIAN:
        for (int l = 0; l < m; l++)
            for (int i = 0; i < k; i++) {
                double a = (double)out[i][l] + f->std[i] * lux_rng_normal(rng[j0 + l]);
                action[(size_t)(j0 + l) * (size_t)k + (size_t)i] =
                    a < s->action_low[i]    ? s->action_low[i]
                    : a > s->action_high[i] ? s->action_high[i]
                                            : a;
            }
        break;
    }
}

__attribute__((target_clones("avx2", "default"))) static void
f32_rows(lux_policy_f32_t *f, const float *obs, int n, lux_rng_t *const *rng, double *action)
{
    for (int j0 = 0; j0 < n; j0 += LUX_VEC_LANES)
        f32_block(f, obs, j0, n - j0 < LUX_VEC_LANES ? n - j0 : LUX_VEC_LANES, rng, action);
}

void lux_policy_f32_act(lux_policy_f32_t *f, const float *obs, int n, lux_rng_t *const *rng,
                        double *action)
{
    f32_rows(f, obs, n, rng, action);
}
