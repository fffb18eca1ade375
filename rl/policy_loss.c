/*
 * A3C loss: one forward pass over the batch, the loss's derivative with
 * respect to the outputs computed per row, then one backward pass.
 */
#include "policy_loss.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <string.h>

int lux_a3c_loss(lux_policy_t *p, const double *obs, const double *actions,
                 const double *advantages, const double *value_targets, int batch,
                 double vf_loss_coeff, double entropy_coeff, double *grad, lux_a3c_loss_t *out)
{
    const lux_policy_spec_t *s = lux_policy_spec(p);
    if (!s->value_head || s->head == LUX_HEAD_DETERMINISTIC || batch <= 0)
        return LUX_EINVAL;
    const double *y;
    int rc = lux_policy_forward(p, obs, batch, &y);
    if (rc != 0)
        return rc;
    int k = s->action_dim, no = lux_policy_num_outputs(p);
    double *dout = lux_calloc((size_t)batch * (size_t)no, sizeof *dout);
    if (dout == NULL)
        return LUX_ENOMEM;
    const double *params = lux_policy_params(p);
    size_t ls_off = lux_policy_log_std_offset(p);
    double pl = 0.0, vl = 0.0, ent = 0.0;
    double g_log_std[LUX_POLICY_MAX_ACTION_DIM] = {0};
    for (int t = 0; t < batch; t++) {
        const double *row = y + (size_t)t * (size_t)no;
        double *drow = dout + (size_t)t * (size_t)no;
        double adv = advantages[t];
        if (s->head == LUX_HEAD_DISCRETE) {
            int a = (int)actions[t];
            double max = row[0];
            for (int i = 1; i < k; i++)
                if (row[i] > max)
                    max = row[i];
            double z = 0.0;
            for (int i = 0; i < k; i++)
                z += exp(row[i] - max);
            double lse = max + log(z), h = 0.0;
            for (int i = 0; i < k; i++) {
                double lp = row[i] - lse;
                h -= exp(lp) * lp;
            }
            pl -= (row[a] - lse) * adv;
            ent += h;
            for (int i = 0; i < k; i++) {
                double lp = row[i] - lse, pi = exp(lp);
                double dlogp = (i == a ? 1.0 : 0.0) - pi;
                double dh = -pi * (lp + h);
                drow[i] = -adv * dlogp - entropy_coeff * dh;
            }
        } else {
            const double *a = actions + (size_t)t * (size_t)k;
            for (int i = 0; i < k; i++) {
                double ls = params[ls_off + (size_t)i], sd = exp(ls);
                double zt = (a[i] - row[i]) / sd;
                double lp = -0.5 * zt * zt - ls - 0.5 * log(2.0 * M_PI);
                pl -= lp * adv;
                ent += ls + 0.5 * (1.0 + log(2.0 * M_PI));
                drow[i] = -adv * zt / sd;
                g_log_std[i] += -adv * (zt * zt - 1.0) - entropy_coeff;
            }
        }
        double dv = row[k] - value_targets[t];
        vl += 0.5 * dv * dv;
        drow[k] = vf_loss_coeff * dv;
    }
    if (grad != NULL) {
        lux_policy_backward(p, dout, grad);
        if (s->head == LUX_HEAD_GAUSSIAN)
            for (int i = 0; i < k; i++)
                grad[ls_off + (size_t)i] += g_log_std[i];
    }
    lux_free(dout);
    if (out != NULL) {
        out->policy_loss = pl;
        out->vf_loss = vl;
        out->entropy = ent;
        out->total = pl + vf_loss_coeff * vl - entropy_coeff * ent;
    }
    return 0;
}

void lux_gae(const double *rewards, const double *values, int n, double bootstrap, double gamma,
             double lambda, double *advantages, double *value_targets)
{
    double acc = 0.0;
    for (int t = n - 1; t >= 0; t--) {
        double next = t + 1 < n ? values[t + 1] : bootstrap;
        double delta = rewards[t] + gamma * next - values[t];
        acc = delta + gamma * lambda * acc;
        advantages[t] = acc;
        value_targets[t] = acc + values[t];
    }
}
