/*
 * Search spaces and the RNG behind every sampler in tune.
 *
 * A space is a JSON template of the constants plus a sorted array of
 * variables (dotted path + domain). Sampling copies the template and writes
 * one value per variable, always in path order, so the draws consumed from
 * the RNG, and hence trial k's config, depend only on (seed, k). The spec
 * (the syntax as JSON) is kept for the canonical config form and for
 * lux_space_from_json().
 *
 * Ray's numerics are followed exactly where they are observable: quantised
 * domains first move their bounds inward to multiples of q, sample there and
 * round x/q half-to-even (numpy's np.round); log domains sample the exponent
 * uniformly; lograndint takes the floor of the log-uniform float.
 */
#include "space.h"

#include "alloc.h"
#include "yaml_tree.h"
#include "error.h"
#include "suggest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- RNG state as JSON (the generator itself is common/rng.h) ---------------- */

json_t *lux_rng_to_json(const lux_rng_t *rng)
{
    json_t *a = json_array();
    if (a == NULL)
        return NULL;
    for (int i = 0; i < 4; i++) {
        char buf[24];
        snprintf(buf, sizeof buf, "%016llx", (unsigned long long)rng->s[i]);
        if (json_array_append_new(a, json_string(buf)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int lux_rng_from_json(lux_rng_t *rng, const json_t *state)
{
    if (!json_is_array(state) || json_array_size(state) != 4)
        return LUX_EINVAL;
    lux_rng_t r;
    for (size_t i = 0; i < 4; i++) {
        const char *t = json_string_value(json_array_get(state, i));
        if (t == NULL || strlen(t) != 16)
            return LUX_EINVAL;
        char *end;
        r.s[i] = strtoull(t, &end, 16);
        if (*end != '\0')
            return LUX_EINVAL;
    }
    if ((r.s[0] | r.s[1] | r.s[2] | r.s[3]) == 0)
        return LUX_EINVAL;
    *rng = r;
    return 0;
}

/* ---- domains ------------------------------------------------------------------ */

static const char *const domain_names[] = {
#define LUX_DOMAIN_NAME(e, name) name,
    LUX_DOMAIN_MAP(LUX_DOMAIN_NAME)
#undef LUX_DOMAIN_NAME
};

const char *lux_domain_name(lux_domain_kind_t kind)
{
    if ((int)kind < 0 || kind >= LUX_DOMAIN_COUNT)
        return "?";
    return domain_names[kind];
}

/* Distributions a user may write as {name: [...]}. */
static bool is_distribution(lux_domain_kind_t k)
{
    return k != LUX_DOMAIN_CONSTANT && k != LUX_DOMAIN_LIST;
}

static lux_domain_kind_t domain_by_name(const char *name)
{
    for (int k = 0; k < LUX_DOMAIN_COUNT; k++)
        if (is_distribution((lux_domain_kind_t)k) && strcmp(domain_names[k], name) == 0)
            return (lux_domain_kind_t)k;
    return LUX_DOMAIN_COUNT;
}

/* np.round: half to even, which is rint() in the default rounding mode. */
static double quantize(double x, double q)
{
    return rint(x / q) * q;
}

static double log_uniform(lux_rng_t *rng, double lo, double hi, double base)
{
    double lb = log(base);
    double a = log(lo) / lb, b = log(hi) / lb;
    return pow(base, a + (b - a) * lux_rng_uniform(rng));
}

json_t *lux_domain_sample(const lux_domain_t *d, lux_rng_t *rng)
{
    double lo = d->lower, hi = d->upper, q = d->q;
    switch (d->kind) {
    case LUX_DOMAIN_CONSTANT:
        return json_deep_copy(d->values);
    case LUX_DOMAIN_CHOICE:
    case LUX_DOMAIN_GRID:
    case LUX_DOMAIN_LIST: {
        size_t n = json_array_size(d->values);
        size_t i = (size_t)lux_rng_int(rng, 0, (int64_t)n);
        return json_deep_copy(json_array_get(d->values, i));
    }
    case LUX_DOMAIN_UNIFORM:
        return json_real(lo + (hi - lo) * lux_rng_uniform(rng));
    case LUX_DOMAIN_QUNIFORM: {
        double ql = ceil(lo / q) * q, qh = floor(hi / q) * q;
        return json_real(quantize(ql + (qh - ql) * lux_rng_uniform(rng), q));
    }
    case LUX_DOMAIN_LOGUNIFORM:
        return json_real(log_uniform(rng, lo, hi, d->base));
    case LUX_DOMAIN_QLOGUNIFORM: {
        double ql = ceil(lo / q) * q, qh = floor(hi / q) * q;
        return json_real(quantize(log_uniform(rng, ql, qh, d->base), q));
    }
    case LUX_DOMAIN_RANDINT:
        return json_integer(lux_rng_int(rng, (int64_t)lo, (int64_t)hi));
    case LUX_DOMAIN_QRANDINT: {
        if (q == 1) /* inclusive upper bound, as Ray documents */
            return json_integer(lux_rng_int(rng, (int64_t)lo, (int64_t)hi + 1));
        double ql = ceil(lo / q) * q, qh = floor(hi / q) * q;
        double x = (double)lux_rng_int(rng, (int64_t)ql, (int64_t)qh);
        return json_integer((json_int_t)quantize(x, q));
    }
    case LUX_DOMAIN_LOGRANDINT: {
        double x = floor(log_uniform(rng, lo, hi, d->base));
        if (x >= hi) /* pow() rounding at the very top */
            x = hi - 1;
        if (x < lo)
            x = lo;
        return json_integer((json_int_t)x);
    }
    case LUX_DOMAIN_QLOGRANDINT: {
        if (q == 1) {
            double x = floor(log_uniform(rng, lo, hi + 1, d->base));
            x = x > hi ? hi : x < lo ? lo : x;
            return json_integer((json_int_t)x);
        }
        double ql = ceil(lo / q) * q, qh = floor(hi / q) * q;
        double x = floor(log_uniform(rng, ql, qh, d->base));
        return json_integer((json_int_t)quantize(x, q));
    }
    case LUX_DOMAIN_RANDN:
        return json_real(lo + hi * lux_rng_normal(rng));
    case LUX_DOMAIN_QRANDN:
        return json_real(quantize(lo + hi * lux_rng_normal(rng), q));
    case LUX_DOMAIN_COUNT:
        break;
    }
    return NULL;
}

/* ---- spaces ------------------------------------------------------------------- */

typedef struct {
    lux_domain_t d;
    char *path;
    json_t *values; /* owned; d.values points here */
    int line, column;
} var_t;

struct lux_space {
    lux_space_flavour_t flavour;
    char *file;
    json_t *spec;
    json_t *tmpl;
    var_t *vars;
    size_t nvars, cap;
};

typedef struct {
    lux_space_t *space;
    const char *file;
    char *err;
    size_t errlen;
} parse_t;

static int fail(parse_t *p, const lux_yaml_node_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parse_t *p, const lux_yaml_node_t *node, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lux_yaml_errorv(p->err, p->errlen, p->file, node != NULL ? node->line : 0,
                             node != NULL ? node->column : 0, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* Orders dotted paths like Ray orders its path tuples: component by
 * component. */
static int path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = *a == '.' ? 1 : (unsigned char)*a, cb = *b == '.' ? 1 : (unsigned char)*b;
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

static int var_cmp(const void *a, const void *b)
{
    return path_cmp(((const var_t *)a)->path, ((const var_t *)b)->path);
}

static var_t *add_var(lux_space_t *s)
{
    if (s->nvars == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        var_t *v = lux_realloc(s->vars, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        s->vars = v;
        s->cap = cap;
    }
    var_t *v = &s->vars[s->nvars++];
    memset(v, 0, sizeof *v);
    return v;
}

static char *join_path(const char *prefix, const char *key)
{
    size_t lp = prefix ? strlen(prefix) : 0, lk = strlen(key);
    char *r = lux_malloc(lp + lk + 2);
    if (r == NULL)
        return NULL;
    if (lp) {
        memcpy(r, prefix, lp);
        r[lp] = '.';
        memcpy(r + lp + 1, key, lk + 1);
    } else {
        memcpy(r, key, lk + 1);
    }
    return r;
}

/* Reads argument i of a distribution as a finite number. */
static int arg_number(parse_t *p, const lux_yaml_node_t *args, size_t i, const char *dist,
                      const char *what, const char *path, bool integer, double *out)
{
    const lux_yaml_node_t *n = args->items[i];
    json_t *j = n->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(n) : NULL;
    bool ok = json_is_number(j) && (!integer || json_is_integer(j));
    double v = ok ? json_number_value(j) : 0;
    json_decref(j);
    if (!ok || !isfinite(v))
        return fail(p, n, path, "%s's %s must be %s; write e.g. {%s: [%s]}", dist, what,
                    integer ? "an integer" : "a number", dist, integer ? "1, 10" : "0.1, 1.0");
    /* Bounds keep every derived quantity finite and exact: integers stay
     * exact in a double, and hi - lo or mean + sd * z cannot overflow. */
    double max = integer ? LUX_SPACE_MAX_INT : LUX_SPACE_MAX_ABS;
    if (fabs(v) > max)
        return fail(p, n, path,
                    integer ? "%s's %s must be within [%.0f, %.0f], not %s; use a value of "
                              "smaller magnitude"
                            : "%s's %s must be within [%g, %g], not %s; use a value of smaller "
                              "magnitude",
                    dist, what, -max, max, n->scalar);
    *out = v;
    return 0;
}

/* Quantised domains round x/q: with |x|/q above 2^53 multiples of q are
 * no longer exact (and x/q may overflow to infinity). */
static int check_steps(parse_t *p, const lux_yaml_node_t *qnode, const char *path, const char *dist,
                       double reach, double q)
{
    if (reach / q <= LUX_SPACE_MAX_INT)
        return 0;
    return fail(p, qnode, path,
                "%s's q=%s is too small for values up to %g (more than 2^53 steps of q); use q "
                ">= %g",
                dist, qnode->scalar, reach, reach / LUX_SPACE_MAX_INT);
}

static const char *dist_usage(lux_domain_kind_t k)
{
    switch (k) {
    case LUX_DOMAIN_UNIFORM:
        return "[lower, upper]";
    case LUX_DOMAIN_QUNIFORM:
        return "[lower, upper, q]";
    case LUX_DOMAIN_LOGUNIFORM:
        return "[lower, upper] or [lower, upper, base]";
    case LUX_DOMAIN_QLOGUNIFORM:
        return "[lower, upper, q] or [lower, upper, q, base]";
    case LUX_DOMAIN_RANDINT:
        return "[lower, upper]";
    case LUX_DOMAIN_QRANDINT:
        return "[lower, upper] or [lower, upper, q]";
    case LUX_DOMAIN_LOGRANDINT:
        return "[lower, upper] or [lower, upper, base]";
    case LUX_DOMAIN_QLOGRANDINT:
        return "[lower, upper, q] or [lower, upper, q, base]";
    case LUX_DOMAIN_RANDN:
        return "[], [mean] or [mean, sd]";
    case LUX_DOMAIN_QRANDN:
        return "[mean, sd, q]";
    default:
        return "[value, ...]";
    }
}

static int parse_domain(parse_t *p, lux_domain_kind_t kind, const lux_yaml_node_t *key,
                        const lux_yaml_node_t *args, const char *path, var_t *v)
{
    const char *dist = lux_domain_name(kind);
    v->d.kind = kind;
    v->d.base = 10;
    v->line = key->line;
    v->column = key->column;
    if (args->kind != LUX_YAML_SEQUENCE)
        return fail(p, args, path, "%s takes a list of arguments; write {%s: %s}", dist, dist,
                    dist_usage(kind));
    size_t n = args->count;
    if (kind == LUX_DOMAIN_CHOICE || kind == LUX_DOMAIN_GRID) {
        if (n == 0)
            return fail(p, args, path, "%s needs at least one value; list the values to try", dist);
        v->values = lux_yaml_node_to_json(args);
        if (v->values == NULL)
            return LUX_ENOMEM;
        v->d.values = v->values;
        return 0;
    }
    size_t min_n = 2, max_n = 2;
    bool integer = false, log_scale = false, quantised = false;
    switch (kind) {
    case LUX_DOMAIN_UNIFORM:
        break;
    case LUX_DOMAIN_QUNIFORM:
        min_n = max_n = 3;
        quantised = true;
        break;
    case LUX_DOMAIN_LOGUNIFORM:
        max_n = 3;
        log_scale = true;
        break;
    case LUX_DOMAIN_QLOGUNIFORM:
        min_n = 3;
        max_n = 4;
        log_scale = quantised = true;
        break;
    case LUX_DOMAIN_RANDINT:
        integer = true;
        break;
    case LUX_DOMAIN_QRANDINT:
        max_n = 3;
        integer = quantised = true;
        break;
    case LUX_DOMAIN_LOGRANDINT:
        max_n = 3;
        integer = log_scale = true;
        break;
    case LUX_DOMAIN_QLOGRANDINT:
        min_n = 3;
        max_n = 4;
        integer = log_scale = quantised = true;
        break;
    case LUX_DOMAIN_RANDN:
        min_n = 0;
        break;
    case LUX_DOMAIN_QRANDN:
        min_n = max_n = 3;
        quantised = true;
        break;
    default:
        return fail(p, key, path, "internal error: unexpected distribution %s", dist);
    }
    if (n < min_n || n > max_n)
        return fail(p, args, path, "%s takes %s, not %zu argument%s; write {%s: %s}", dist,
                    dist_usage(kind), n, n == 1 ? "" : "s", dist, dist_usage(kind));
    v->d.integer = integer;
    int rc;
    if (kind == LUX_DOMAIN_RANDN || kind == LUX_DOMAIN_QRANDN) {
        double mean = 0, sd = 1, q = 0;
        if (n > 0 && (rc = arg_number(p, args, 0, dist, "mean", path, false, &mean)) != 0)
            return rc;
        if (n > 1 && (rc = arg_number(p, args, 1, dist, "sd", path, false, &sd)) != 0)
            return rc;
        if (n > 2 && (rc = arg_number(p, args, 2, dist, "q", path, false, &q)) != 0)
            return rc;
        if (!(sd > 0))
            return fail(p, args->items[1], path,
                        "%s's sd must be > 0, not %g; give a positive "
                        "standard deviation",
                        dist, sd);
        if (n > 2 && !(q > 0))
            return fail(p, args->items[2], path,
                        "%s's q must be > 0, not %g; give a positive "
                        "quantum",
                        dist, q);
        /* A normal draw lies within 10 sd of the mean (the sampler cannot
         * reach further). */
        if (n > 2 && (rc = check_steps(p, args->items[2], path, dist, fabs(mean) + 10 * sd, q)))
            return rc;
        v->d.lower = mean;
        v->d.upper = sd;
        v->d.q = q;
        return 0;
    }
    double lo, hi, q = 1, base = 10;
    if ((rc = arg_number(p, args, 0, dist, "lower bound", path, integer, &lo)) != 0 ||
        (rc = arg_number(p, args, 1, dist, "upper bound", path, integer, &hi)) != 0)
        return rc;
    size_t next = 2;
    if (quantised && n > next) {
        if ((rc = arg_number(p, args, next, dist, "q", path, integer, &q)) != 0)
            return rc;
        if (!(q > 0))
            return fail(p, args->items[next], path,
                        "%s's q must be > 0, not %g; give the step values are rounded to", dist, q);
        next++;
    }
    if (log_scale && n > next) {
        if ((rc = arg_number(p, args, next, dist, "base", path, false, &base)) != 0)
            return rc;
        if (!(base > 0) || base == 1)
            return fail(p, args->items[next], path,
                        "%s's base must be positive and not 1, not %g; leave it out for base 10",
                        dist, base);
    }
    if (lo == hi)
        return fail(p, args, path,
                    "%s range [%g, %g] is empty; make lower < upper, or write the constant %g",
                    dist, lo, hi, lo);
    if (lo > hi)
        return fail(p, args, path, "%s range [%g, %g] is inverted; write [%g, %g]", dist, lo, hi,
                    hi, lo);
    if (log_scale && !(lo > 0))
        return fail(p, args->items[0], path,
                    "%s needs a lower bound > 0, not %g (the log of it is undefined); use a "
                    "positive lower bound or uniform",
                    dist, lo);
    if (quantised && n > 2 &&
        (rc = check_steps(p, args->items[2], path, dist, fmax(fabs(lo), fabs(hi)), q)) != 0)
        return rc;
    if (quantised && !(integer && q == 1)) { /* integer q = 1 samples [lo, hi] directly */
        double ql = ceil(lo / q) * q, qh = floor(hi / q) * q;
        bool exclusive_sampler = integer; /* integers() excludes the upper end */
        if (ql > qh || (exclusive_sampler && ql >= qh) || (log_scale && !(ql > 0)))
            return fail(p, args, path,
                        "%s range [%g, %g] holds %s multiple of q=%g; widen the range or make q "
                        "smaller",
                        dist, lo, hi, ql > qh ? "no" : "only one", q);
    }
    v->d.lower = lo;
    v->d.upper = hi;
    v->d.q = quantised ? q : 0;
    v->d.base = base;
    return 0;
}

static const char *const dist_list[] = {
    "choice",  "grid_search", "uniform",    "quniform",    "loguniform", "qloguniform",
    "randint", "qrandint",    "lograndint", "qlograndint", "randn",      "qrandn",
};

static int parse_map(parse_t *p, const lux_yaml_node_t *map, const char *prefix, json_t *tmpl,
                     json_t *spec);

static int parse_value(parse_t *p, const lux_yaml_node_t *keynode, const lux_yaml_node_t *val,
                       const char *path, json_t *tmpl, json_t *spec)
{
    const char *key = keynode->scalar;
    lux_space_t *s = p->space;
    if (val->kind == LUX_YAML_MAPPING && val->count == 1 &&
        domain_by_name(val->keys[0]->scalar) != LUX_DOMAIN_COUNT) {
        lux_domain_kind_t kind = domain_by_name(val->keys[0]->scalar);
        if (kind == LUX_DOMAIN_GRID && s->flavour == LUX_SPACE_MUTATIONS)
            return fail(p, val->keys[0], path,
                        "grid_search cannot be a PBT mutation; write a list [a, b, c] to shift "
                        "between neighbours, or a distribution to resample from");
        var_t *v = add_var(s);
        if (v == NULL)
            return LUX_ENOMEM;
        if ((v->path = lux_strdup(path)) == NULL)
            return LUX_ENOMEM;
        int rc = parse_domain(p, kind, val->keys[0], val->items[0], path, v);
        if (rc != 0)
            return rc;
        v->d.path = v->path;
        json_t *sp = lux_yaml_node_to_json(val);
        if (sp == NULL || json_object_set_new(spec, key, sp) != 0)
            return LUX_ENOMEM;
        return 0;
    }
    if (val->kind == LUX_YAML_MAPPING) {
        /* A one-key mapping whose key is nearly a distribution's name and
         * whose value is a list is almost surely a misspelt distribution. */
        if (val->count == 1 && val->items[0]->kind == LUX_YAML_SEQUENCE) {
            const char *near = lux_suggest(val->keys[0]->scalar, dist_list,
                                           sizeof dist_list / sizeof dist_list[0]);
            if (near != NULL && lux_edit_distance(val->keys[0]->scalar, near) <= 2)
                return fail(p, val->keys[0], path, "unknown distribution '%s'; did you mean '%s'?",
                            val->keys[0]->scalar, near);
        }
        json_t *sub_t = NULL, *sub_s = json_object();
        if (sub_s == NULL || json_object_set_new(spec, key, sub_s) != 0)
            return LUX_ENOMEM;
        if (tmpl != NULL) {
            sub_t = json_object();
            if (sub_t == NULL || json_object_set_new(tmpl, key, sub_t) != 0)
                return LUX_ENOMEM;
        }
        return parse_map(p, val, path, sub_t, sub_s);
    }
    if (s->flavour == LUX_SPACE_MUTATIONS) {
        if (val->kind != LUX_YAML_SEQUENCE || val->count == 0)
            return fail(p, val, path,
                        "a PBT mutation must be a list of values or a distribution; write e.g. "
                        "%s: [16, 32, 64] or %s: {loguniform: [1e-4, 1e-2]}",
                        key, key);
        var_t *v = add_var(s);
        if (v == NULL || (v->path = lux_strdup(path)) == NULL)
            return LUX_ENOMEM;
        v->d.kind = LUX_DOMAIN_LIST;
        v->d.path = v->path;
        v->line = keynode->line;
        v->column = keynode->column;
        if ((v->values = lux_yaml_node_to_json(val)) == NULL)
            return LUX_ENOMEM;
        v->d.values = v->values;
        json_t *sp = json_deep_copy(v->values);
        if (sp == NULL || json_object_set_new(spec, key, sp) != 0)
            return LUX_ENOMEM;
        return 0;
    }
    json_t *c = lux_yaml_node_to_json(val);
    if (c == NULL || json_object_set(tmpl, key, c) != 0 || json_object_set_new(spec, key, c) != 0)
        return LUX_ENOMEM;
    return 0;
}

static int parse_map(parse_t *p, const lux_yaml_node_t *map, const char *prefix, json_t *tmpl,
                     json_t *spec)
{
    for (size_t i = 0; i < map->count; i++) {
        const lux_yaml_node_t *k = map->keys[i];
        if (k->kind != LUX_YAML_SCALAR)
            return fail(p, k, prefix ? prefix : "", "keys must be plain names");
        if (strchr(k->scalar, '.') != NULL || k->scalar[0] == '\0')
            return fail(p, k, prefix ? prefix : "",
                        "key '%s' may not be empty or contain '.'; nest a mapping instead",
                        k->scalar);
        char *path = join_path(prefix, k->scalar);
        if (path == NULL)
            return LUX_ENOMEM;
        int rc = parse_value(p, k, map->items[i], path, tmpl, spec);
        lux_free(path);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void lux_space_destroy(lux_space_t **space_p)
{
    if (space_p == NULL || *space_p == NULL)
        return;
    lux_space_t *s = *space_p;
    for (size_t i = 0; i < s->nvars; i++) {
        lux_free(s->vars[i].path);
        json_decref(s->vars[i].values);
    }
    lux_free(s->vars);
    json_decref(s->spec);
    json_decref(s->tmpl);
    lux_free(s->file);
    lux_free(s);
    *space_p = NULL;
}

int lux_space_from_node(const lux_yaml_node_t *node, const char *file, lux_space_flavour_t flavour,
                        lux_space_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (file == NULL)
        file = "<config>";
    lux_space_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->flavour = flavour;
    s->file = lux_strdup(file);
    s->spec = json_object();
    s->tmpl = flavour == LUX_SPACE_CONFIG ? json_object() : NULL;
    if (s->file == NULL || s->spec == NULL || (flavour == LUX_SPACE_CONFIG && s->tmpl == NULL)) {
        lux_space_destroy(&s);
        return LUX_ENOMEM;
    }
    parse_t p = {s, file, err, errlen};
    int rc = 0;
    if (node != NULL && node->kind != LUX_YAML_MAPPING &&
        !(node->kind == LUX_YAML_SCALAR && !node->quoted && node->scalar[0] == '\0'))
        rc = fail(&p, node, "",
                  "the search space must be a mapping of names to values; write "
                  "e.g. lr: {loguniform: [1e-4, 1e-2]}");
    else if (node != NULL && node->kind == LUX_YAML_MAPPING)
        rc = parse_map(&p, node, NULL, s->tmpl, s->spec);
    if (rc == 0 && flavour == LUX_SPACE_MUTATIONS && s->nvars == 0)
        rc = fail(&p, node, "",
                  "hyperparam_mutations is empty; name at least one "
                  "hyperparameter to mutate");
    if (rc != 0) {
        lux_space_destroy(&s);
        return rc;
    }
    if (s->nvars > 1)
        qsort(s->vars, s->nvars, sizeof *s->vars, var_cmp);
    for (size_t i = 0; i < s->nvars; i++) {
        s->vars[i].d.path = s->vars[i].path;
        s->vars[i].d.values = s->vars[i].values;
    }
    *out = s;
    return 0;
}

int lux_space_from_json(const json_t *spec, lux_space_flavour_t flavour, lux_space_t **out,
                        char *err, size_t errlen)
{
    *out = NULL;
    if (spec != NULL && !json_is_object(spec)) {
        if (err && errlen)
            snprintf(err, errlen, "<json>: the search space must be an object");
        return LUX_ECONFIG;
    }
    lux_yaml_node_t *node = spec ? lux_yaml_node_from_json(spec) : NULL;
    if (spec != NULL && node == NULL)
        return LUX_ENOMEM;
    int rc = lux_space_from_node(node, "<json>", flavour, out, err, errlen);
    lux_yaml_node_destroy(&node);
    return rc;
}

const json_t *lux_space_spec(const lux_space_t *space)
{
    return space->spec;
}

size_t lux_space_num_variables(const lux_space_t *space)
{
    return space->nvars;
}

const lux_domain_t *lux_space_variable(const lux_space_t *space, size_t i)
{
    return i < space->nvars ? &space->vars[i].d : NULL;
}

const lux_domain_t *lux_space_find(const lux_space_t *space, const char *path)
{
    for (size_t i = 0; i < space->nvars; i++)
        if (strcmp(space->vars[i].path, path) == 0)
            return &space->vars[i].d;
    return NULL;
}

size_t lux_space_grid_size(const lux_space_t *space)
{
    size_t n = 1;
    for (size_t i = 0; i < space->nvars; i++) {
        if (space->vars[i].d.kind != LUX_DOMAIN_GRID)
            continue;
        size_t m = json_array_size(space->vars[i].values);
        if (m != 0 && n > SIZE_MAX / m)
            return SIZE_MAX;
        n *= m;
    }
    return n;
}

size_t lux_space_num_trials(const lux_space_t *space, long num_samples)
{
    if (num_samples <= 0)
        return 0;
    size_t g = lux_space_grid_size(space);
    if (g > SIZE_MAX / (size_t)num_samples)
        return SIZE_MAX;
    return g * (size_t)num_samples;
}

int lux_space_make_grid(lux_space_t *space, char *err, size_t errlen)
{
    for (size_t i = 0; i < space->nvars; i++) {
        var_t *v = &space->vars[i];
        if (v->d.kind == LUX_DOMAIN_CHOICE || v->d.kind == LUX_DOMAIN_GRID ||
            v->d.kind == LUX_DOMAIN_LIST)
            continue;
        if (err && errlen) {
            if (v->line > 0)
                snprintf(err, errlen,
                         "%s:%d:%d: '%s' is a %s distribution, which grid search cannot "
                         "enumerate; use grid_search or choice, or set search: random",
                         space->file, v->line, v->column, v->path, lux_domain_name(v->d.kind));
            else
                snprintf(err, errlen,
                         "%s: at '%s': '%s' is a %s distribution, which grid search cannot "
                         "enumerate; use grid_search or choice, or set search: random",
                         space->file, v->path, v->path, lux_domain_name(v->d.kind));
        }
        return LUX_ECONFIG;
    }
    for (size_t i = 0; i < space->nvars; i++)
        if (space->vars[i].d.kind == LUX_DOMAIN_CHOICE)
            space->vars[i].d.kind = LUX_DOMAIN_GRID;
    return 0;
}

json_t *lux_space_get_path(const json_t *config, const char *path)
{
    const json_t *cur = config;
    const char *p = path;
    while (cur != NULL) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, len);
        if (dot == NULL)
            return (json_t *)cur;
        p = dot + 1;
    }
    return NULL;
}

int lux_space_set_path(json_t *config, const char *path, json_t *value)
{
    json_t *cur = config;
    const char *p = path;
    for (;;) {
        if (!json_is_object(cur)) {
            json_decref(value);
            return LUX_EINVAL;
        }
        const char *dot = strchr(p, '.');
        if (dot == NULL)
            return json_object_set_new(cur, p, value) == 0 ? 0 : LUX_ENOMEM;
        size_t len = (size_t)(dot - p);
        json_t *next = json_object_getn(cur, p, len);
        if (next == NULL) {
            next = json_object();
            if (next == NULL || json_object_setn_new(cur, p, len, next) != 0) {
                json_decref(value);
                return LUX_ENOMEM;
            }
        }
        cur = next;
        p = dot + 1;
    }
}

/* Writes every variable into cfg: grid variables at grid point `g` (or drawn
 * when g is SIZE_MAX), the rest drawn from rng, in path order. */
static int fill(const lux_space_t *space, json_t *cfg, size_t g, lux_rng_t *rng)
{
    for (size_t i = 0; i < space->nvars; i++) {
        const var_t *v = &space->vars[i];
        json_t *val;
        if (v->d.kind == LUX_DOMAIN_GRID && g != SIZE_MAX) {
            size_t m = json_array_size(v->values);
            val = json_deep_copy(json_array_get(v->values, g % m));
            g /= m;
        } else {
            val = lux_domain_sample(&v->d, rng);
        }
        if (val == NULL)
            return LUX_ENOMEM;
        int rc = lux_space_set_path(cfg, v->path, val);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int lux_space_trial_config(const lux_space_t *space, uint64_t seed, long k, json_t **config)
{
    *config = NULL;
    if (k < 0)
        return LUX_ERANGE;
    json_t *cfg = space->tmpl ? json_deep_copy(space->tmpl) : json_object();
    if (cfg == NULL)
        return LUX_ENOMEM;
    lux_rng_t rng;
    lux_rng_seed_stream(&rng, seed, (uint64_t)k);
    size_t grid = lux_space_grid_size(space);
    int rc = fill(space, cfg, (size_t)k % grid, &rng);
    if (rc != 0) {
        json_decref(cfg);
        return rc;
    }
    *config = cfg;
    return 0;
}

json_t *lux_space_sample(const lux_space_t *space, lux_rng_t *rng)
{
    json_t *cfg = space->tmpl ? json_deep_copy(space->tmpl) : json_object();
    if (cfg == NULL)
        return NULL;
    if (fill(space, cfg, SIZE_MAX, rng) != 0) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}
