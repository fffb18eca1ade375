/*
 * Stop criteria: a copy of the stop mapping and the experiment's time
 * budget. Ray's rule, >= for every key whatever the mode, is applied in the
 * mapping's order and the first key that triggers is the reason given.
 */
#include "stopper.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct lux_stopper {
    json_t *stop;
    double budget;
};

int lux_stopper_new(const json_t *stop, double time_budget_s, lux_stopper_t **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    if (stop != NULL && !json_is_object(stop)) {
        if (err && errlen)
            snprintf(err, errlen, "stop must be a mapping of result keys to thresholds");
        return LUX_EINVAL;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)stop, key, value)
    {
        if (!json_is_number(value)) {
            if (err && errlen)
                snprintf(err, errlen, "stop threshold for '%s' must be a number", key);
            return LUX_EINVAL;
        }
    }
    if (!(time_budget_s >= 0) || !isfinite(time_budget_s)) {
        if (err && errlen)
            snprintf(err, errlen, "time_budget_s must be >= 0, not %g", time_budget_s);
        return LUX_EINVAL;
    }
    lux_stopper_t *st = lux_calloc(1, sizeof *st);
    if (st == NULL)
        return LUX_ENOMEM;
    st->stop = stop ? json_deep_copy(stop) : json_object();
    st->budget = time_budget_s;
    if (st->stop == NULL) {
        lux_free(st);
        return LUX_ENOMEM;
    }
    *out = st;
    return 0;
}

void lux_stopper_destroy(lux_stopper_t **stopper_p)
{
    if (stopper_p == NULL || *stopper_p == NULL)
        return;
    json_decref((*stopper_p)->stop);
    lux_free(*stopper_p);
    *stopper_p = NULL;
}

const json_t *lux_stopper_lookup(const json_t *result, const char *key)
{
    const json_t *direct = json_object_get(result, key);
    if (direct != NULL)
        return direct;
    const json_t *cur = result;
    const char *p = key;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!json_is_object(cur))
            return NULL;
        if (slash == NULL)
            return json_object_get(cur, p);
        cur = json_object_getn(cur, p, (size_t)(slash - p));
        p = slash + 1;
    }
}

int lux_stopper_check_result(const lux_stopper_t *st, const json_t *result, bool *stop, char *why,
                             size_t whylen)
{
    *stop = false;
    if (why && whylen)
        why[0] = '\0';
    if (json_is_true(json_object_get(result, "done"))) {
        *stop = true;
        if (why && whylen)
            snprintf(why, whylen, "done");
        return 0;
    }
    const char *key;
    json_t *threshold;
    json_object_foreach(st->stop, key, threshold)
    {
        const json_t *v = lux_stopper_lookup(result, key);
        if (!json_is_number(v)) {
            if (why && whylen) {
                int n = snprintf(why, whylen,
                                 v ? "stop criterion '%s' is not a number in the result"
                                   : "stop criterion '%s' is not in the result; its keys are:",
                                 key);
                const char *k;
                json_t *ignored;
                json_object_foreach((json_t *)result, k, ignored)
                {
                    if (v != NULL || n < 0 || (size_t)n >= whylen)
                        break;
                    n += snprintf(why + n, whylen - (size_t)n, " %s", k);
                }
            }
            return LUX_EINVAL;
        }
        double x = json_number_value(v), limit = json_number_value(threshold);
        if (x >= limit) {
            *stop = true;
            if (why && whylen)
                snprintf(why, whylen, "%s=%g >= %g", key, x, limit);
            return 0;
        }
    }
    return 0;
}

bool lux_stopper_budget_exhausted(const lux_stopper_t *st, double elapsed_s)
{
    return st->budget > 0 && elapsed_s >= st->budget;
}

double lux_stopper_time_budget(const lux_stopper_t *st)
{
    return st->budget;
}
