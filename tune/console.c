/*
 * The status block and the live console (console.h). Rendering builds the
 * text in a growing buffer; the table itself is tune/table.c's.
 */
#include "console.h"

#include "clock.h"
#include "alloc.h"
#include "error.h"
#include "table.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n =
            vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->data != NULL && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *d = lux_realloc(b->data, cap);
        if (d == NULL) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
}

static void format_duration(double s, char *buf, size_t len)
{
    long t = (long)s;
    if (t >= 3600)
        snprintf(buf, len, "%ldhr %ldmin %lds", t / 3600, (t % 3600) / 60, t % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldmin %lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%.1fs", s);
}

static const char *status_name(lux_trial_status_t s)
{
    static const char *const names[] = {
#define LUX_STATUS_NAME(name) #name,
        LUX_TRIAL_STATUS_MAP(LUX_STATUS_NAME)
#undef LUX_STATUS_NAME
    };
    return (int)s >= 0 && s < LUX_TRIAL_STATUS_COUNT ? names[s] : "?";
}

/* Order of rows: running, paused, pending, error, then terminated by metric. */
static int rank_of(lux_trial_status_t s)
{
    switch (s) {
    case LUX_TRIAL_RUNNING:
        return 0;
    case LUX_TRIAL_PAUSED:
        return 1;
    case LUX_TRIAL_PENDING:
        return 2;
    case LUX_TRIAL_ERROR:
        return 3;
    default:
        return 4;
    }
}

/* A row's config as a new reference: its own, or fetched from the store. */
static json_t *row_config(const lux_console_view_t *v, const lux_console_row_t *r)
{
    if (r->config != NULL)
        return json_incref((json_t *)r->config);
    return v->fetch_config ? v->fetch_config(v->fetch_user, r->trial_id) : NULL;
}

static lux_mode_t sort_mode;

static int cmp_rows(const void *a, const void *b)
{
    const lux_console_row_t *x = *(lux_console_row_t *const *)a,
                            *y = *(lux_console_row_t *const *)b;
    int rx = rank_of(x->status), ry = rank_of(y->status);
    if (rx != ry)
        return rx - ry;
    if (rx == 4 && x->has_metric != y->has_metric)
        return y->has_metric - x->has_metric;
    if (rx == 4 && x->has_metric && x->metric != y->metric) {
        double d = (double)sort_mode * (y->metric - x->metric);
        return d > 0 ? 1 : -1;
    }
    return strcmp(x->trial_id, y->trial_id);
}

/* The longest dotted config path the varying-keys columns consider. */
#define PATH_MAX_LEN 512

/* What the varying-keys walk has seen of each config path. */
typedef struct {
    json_t *first; /* path -> the value of the first row that had it, first-seen order */
    json_t *seen;  /* path -> number of rows that had it */
    json_t *vary;  /* path -> true once two rows differ on it */
    size_t nconfigs;
    int oom;
} varying_t;

static void varying_note(varying_t *s, const char *path, json_t *value)
{
    json_t *first = json_object_get(s->first, path);
    if (first == NULL) {
        if (json_object_set(s->first, path, value) != 0 ||
            json_object_set_new(s->seen, path, json_integer(1)) != 0)
            s->oom = 1;
        return;
    }
    json_t *seen = json_object_get(s->seen, path);
    json_integer_set(seen, json_integer_value(seen) + 1);
    if (!json_equal(first, value) && json_object_set_new(s->vary, path, json_true()) != 0)
        s->oom = 1;
}

/* Notes every leaf of cfg under path (len bytes used of PATH_MAX_LEN).
 * Nested objects are walked; anything else (arrays, empty objects) is a
 * leaf, as lux_space treats them. */
static void varying_walk(varying_t *s, const json_t *cfg, char *path, size_t len)
{
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)cfg, k, val)
    {
        /* A key with a dot cannot be named in the dotted notation that
         * lux_space_get_path reads, so it gets no column. */
        size_t klen = strlen(k);
        if (strchr(k, '.') != NULL || len + 1 + klen >= PATH_MAX_LEN)
            continue;
        size_t n = len;
        if (n > 0)
            path[n++] = '.';
        memcpy(path + n, k, klen + 1);
        if (json_is_object(val) && json_object_size(val) > 0)
            varying_walk(s, val, path, n + klen);
        else
            varying_note(s, path, val);
        path[len] = '\0';
    }
}

/* The config paths whose values differ between the rows (or that some rows
 * lack), every path when only one row has a config, in first-seen order: at
 * most max of them, as a new array of strings in *out. Returns 0 or
 * LUX_ENOMEM. */
static int varying_paths(const lux_console_view_t *v, size_t max, json_t **out)
{
    varying_t s = {json_object(), json_object(), json_object(), 0, 0};
    json_t *paths = json_array();
    char path[PATH_MAX_LEN];
    if (s.first == NULL || s.seen == NULL || s.vary == NULL || paths == NULL)
        s.oom = 1;
    for (size_t i = 0; !s.oom && i < v->nrows; i++) {
        json_t *cfg = row_config(v, &v->rows[i]);
        if (json_is_object(cfg)) {
            path[0] = '\0';
            varying_walk(&s, cfg, path, 0);
            s.nconfigs++;
        }
        json_decref(cfg);
    }
    const char *k;
    json_t *first;
    json_object_foreach(s.first, k, first)
    {
        if (s.oom || json_array_size(paths) >= max)
            break;
        long seen = (long)json_integer_value(json_object_get(s.seen, k));
        if (s.nconfigs <= 1 || json_object_get(s.vary, k) != NULL || seen < (long)s.nconfigs)
            if (json_array_append_new(paths, json_string(k)) != 0)
                s.oom = 1;
    }
    json_decref(s.first);
    json_decref(s.seen);
    json_decref(s.vary);
    if (s.oom) {
        json_decref(paths);
        return LUX_ENOMEM;
    }
    *out = paths;
    return 0;
}

/* Parameter columns: the space's variables, or (without a space) the paths
 * that vary between the rows, whose strings *owned keeps. */
static int param_paths(const lux_console_view_t *v, const char **paths, size_t max, size_t *n_out,
                       json_t **owned)
{
    size_t n = 0;
    *owned = NULL;
    if (v->space != NULL) {
        size_t nv = lux_space_num_variables(v->space);
        for (size_t i = 0; i < nv && n < max; i++) {
            const lux_domain_t *d = lux_space_variable(v->space, i);
            if (d != NULL && d->path != NULL)
                paths[n++] = d->path;
        }
    } else {
        int rc = varying_paths(v, max, owned);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i < json_array_size(*owned) && n < max; i++)
            paths[n++] = json_string_value(json_array_get(*owned, i));
    }
    *n_out = n;
    return 0;
}

/* Most failed trials whose message the block prints. */
#define MAX_ERROR_LINES 20

/* "Trial ID failed: MESSAGE" with the message's first line, cut to fit the
 * width (0: 300 code points). */
static void error_line(sbuf_t *b, const char *trial_id, const char *error, size_t width)
{
    size_t n = strcspn(error, "\r\n");
    char *first = lux_malloc(n + 1);
    if (first == NULL) {
        b->oom = 1;
        return;
    }
    memcpy(first, error, n);
    first[n] = '\0';
    int more = error[n] != '\0' && error[n + strspn(error + n, "\r\n")] != '\0';
    size_t used = strlen("Trial  failed: ") + lux_table_width(trial_id) + (more ? 3 : 0);
    size_t budget = width == 0 ? 300 : (width > used + 20 ? width - used : 20);
    char *fitted = lux_malloc(budget * 4 + 3);
    if (fitted == NULL) {
        lux_free(first);
        b->oom = 1;
        return;
    }
    lux_table_fit(first, budget, fitted, budget * 4 + 3);
    int cut = strcmp(fitted, first) != 0;
    sb_printf(b, "Trial %s failed: %s%s\n", trial_id, fitted, more && !cut ? " .." : "");
    lux_free(fitted);
    lux_free(first);
}

int lux_console_render(const lux_console_view_t *v, size_t width, size_t max_rows, char **out)
{
    sbuf_t b = {0};
    /* Ray Tune's order: "2 PAUSED | 8 RUNNING | 6 PENDING" (as `lux status`). */
    const char *order[] = {"PAUSED", "RUNNING", "PENDING", "TERMINATED", "ERROR"};
    const lux_trial_status_t ord[] = {LUX_TRIAL_PAUSED, LUX_TRIAL_RUNNING, LUX_TRIAL_PENDING,
                                      LUX_TRIAL_TERMINATED, LUX_TRIAL_ERROR};
    sb_printf(&b, "Trial status:");
    int first = 1;
    long total = 0;
    for (size_t i = 0; i < 5; i++) {
        total += v->counts[ord[i]];
        if (v->counts[ord[i]] == 0)
            continue;
        sb_printf(&b, "%s %ld %s", first ? "" : " |", v->counts[ord[i]], order[i]);
        first = 0;
    }
    if (first)
        sb_printf(&b, " no trials");
    sb_printf(&b, "\n");
    char when[64], dur[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    format_duration(v->elapsed_s, dur, sizeof dur);
    sb_printf(&b, "Current time: %s. Total running time: %s\n", when, dur);
    if (v->cpus_total >= 0)
        sb_printf(&b, "Logical resource usage: %g/%g CPUs, %g/%g GPUs\n", v->cpus_used,
                  v->cpus_total, v->gpus_used, v->gpus_total);
    if (v->name) {
        sb_printf(&b, "Experiment: %s (%s)", v->name, v->dir ? v->dir : "");
        if (v->state != NULL)
            sb_printf(&b, ": %s", v->state);
        sb_printf(&b, ", %ld trials, %ld results\n", total, v->num_results);
    }
    if (v->scheduler_stats != NULL && json_object_size(v->scheduler_stats) > 0) {
        char *s = json_dumps(v->scheduler_stats, JSON_COMPACT);
        if (s)
            sb_printf(&b, "Scheduler: %s\n", s);
        free(s);
    }

    /* The best trial by its last reported metric, as Ray Tune picks it. */
    const lux_console_row_t *best = NULL;
    for (size_t i = 0; v->metric && i < v->nrows; i++) {
        const lux_console_row_t *r = &v->rows[i];
        if (r->has_metric && (best == NULL || (double)v->mode * (r->metric - best->metric) > 0))
            best = r;
    }
    if (best != NULL) {
        json_t *bcfg = row_config(v, best);
        char *params =
            bcfg ? json_dumps(bcfg, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6)) : NULL;
        json_decref(bcfg);
        sb_printf(&b, "Current best trial: %s with %s=%.6g and params=%s\n", best->trial_id,
                  v->metric, best->metric, params ? params : "{}");
        free(params);
    }

    const char *paths[32];
    size_t np = 0;
    json_t *owned_paths = NULL;
    if (param_paths(v, paths, 32, &np, &owned_paths) != 0) {
        lux_free(b.data);
        return LUX_ENOMEM;
    }
    size_t ncols = 2 + np + 2 + (v->metric ? 1 : 0);
    lux_table_column_t *cols = lux_calloc(ncols, sizeof *cols);
    if (cols == NULL) {
        json_decref(owned_paths);
        lux_free(b.data);
        return LUX_ENOMEM;
    }
    size_t c = 0;
    cols[c++] = (lux_table_column_t){"Trial name", LUX_ALIGN_LEFT, 40, 10, 1};
    cols[c++] = (lux_table_column_t){"status", LUX_ALIGN_LEFT, 10, 6, 0};
    for (size_t i = 0; i < np; i++)
        cols[c++] = (lux_table_column_t){paths[i], LUX_ALIGN_RIGHT, 24, 4, 1};
    cols[c++] = (lux_table_column_t){"iter", LUX_ALIGN_RIGHT, 0, 4, 0};
    cols[c++] = (lux_table_column_t){"total time (s)", LUX_ALIGN_RIGHT, 0, 6, 0};
    if (v->metric)
        cols[c++] = (lux_table_column_t){v->metric, LUX_ALIGN_RIGHT, 0, 6, 0};
    lux_table_t *table = lux_table_new(cols, ncols);
    lux_free(cols);
    const lux_console_row_t **sorted = lux_malloc((v->nrows ? v->nrows : 1) * sizeof *sorted);
    if (table == NULL || sorted == NULL) {
        lux_table_destroy(&table);
        lux_free(sorted);
        json_decref(owned_paths);
        lux_free(b.data);
        return LUX_ENOMEM;
    }
    for (size_t i = 0; i < v->nrows; i++)
        sorted[i] = &v->rows[i];
    sort_mode = v->mode;
    qsort(sorted, v->nrows, sizeof *sorted, cmp_rows);
    size_t shown = max_rows > 0 && v->nrows > max_rows ? max_rows : v->nrows;
    char cells[40][64];
    const char *cellp[40];
    for (size_t i = 0; i < shown; i++) {
        const lux_console_row_t *r = sorted[i];
        size_t k = 0;
        snprintf(cells[k++], 64, "%s", r->trial_id);
        snprintf(cells[k++], 64, "%s", status_name(r->status));
        json_t *rcfg = np > 0 ? row_config(v, r) : NULL;
        for (size_t p = 0; p < np; p++) {
            json_t *val = rcfg ? lux_space_get_path(rcfg, paths[p]) : NULL;
            if (val != NULL)
                lux_table_format(val, cells[k], 64);
            else
                cells[k][0] = '\0';
            k++;
        }
        json_decref(rcfg);
        snprintf(cells[k++], 64, "%ld", r->iteration);
        snprintf(cells[k++], 64, "%.5g", r->time_total_s);
        if (v->metric) {
            if (r->has_metric)
                snprintf(cells[k++], 64, "%.6g", r->metric);
            else
                snprintf(cells[k++], 64, "%s", "");
        }
        for (size_t j = 0; j < k; j++)
            cellp[j] = cells[j];
        if (lux_table_add_row(table, cellp) != 0)
            b.oom = 1;
    }
    char *rendered = NULL;
    if (lux_table_render(table, width, &rendered) == 0) {
        sb_printf(&b, "%s", rendered);
        lux_free(rendered);
    } else {
        b.oom = 1;
    }
    /* The counts cover every trial; the rows may be a bounded subset. */
    if (total > (long)shown)
        sb_printf(&b, "... %ld more trials not shown (lux status %s lists them all)\n",
                  total - (long)shown, v->dir ? v->dir : "DIR");
    long nerrors = v->counts[LUX_TRIAL_ERROR], printed = 0;
    if (nerrors > 0)
        sb_printf(&b, "Number of errored trials: %ld\n", nerrors);
    for (size_t i = 0; i < v->nrows && printed < MAX_ERROR_LINES; i++)
        if (v->rows[i].status == LUX_TRIAL_ERROR && v->rows[i].error != NULL) {
            error_line(&b, v->rows[i].trial_id, v->rows[i].error, width);
            printed++;
        }
    if (nerrors > printed)
        sb_printf(&b, "... and %ld more failed trials\n", nerrors - printed);
    lux_table_destroy(&table);
    lux_free(sorted);
    json_decref(owned_paths);
    if (b.oom) {
        lux_free(b.data);
        return LUX_ENOMEM;
    }
    /* The block shows what the experiment holds: its name, trial ids,
     * config keys (column headers) and error messages, as the user or a
     * trainable wrote them. None may reach the terminal as an escape. */
    if (b.data != NULL)
        lux_table_sanitize(b.data, 1);
    *out = b.data;
    return 0;
}

struct lux_console {
    FILE *out;
    int tty;
    int verbosity;
    double interval;
    double last_show;
    int lines_drawn; /* lines of the block on screen (tty) */
};

lux_console_t *lux_console_new(FILE *out, int tty, int verbosity, double interval_s)
{
    lux_console_t *c = lux_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->out = out;
    c->tty = tty >= 0 ? tty : isatty(fileno(out));
    c->verbosity = verbosity;
    c->interval = interval_s > 0 ? interval_s : (c->tty ? 1.0 : 30.0);
    c->last_show = lux_clock_monotonic_s();
    return c;
}

void lux_console_destroy(lux_console_t **c_p)
{
    if (c_p == NULL || *c_p == NULL)
        return;
    lux_free(*c_p);
    *c_p = NULL;
}

int lux_console_due(lux_console_t *c)
{
    return c != NULL && c->verbosity >= 0 && lux_clock_monotonic_s() - c->last_show >= c->interval;
}

double lux_console_wait_hint(lux_console_t *c)
{
    if (c == NULL || c->verbosity < 0)
        return 0.5;
    double left = c->interval - (lux_clock_monotonic_s() - c->last_show);
    return left < 0 ? 0 : (left > 0.5 ? 0.5 : left);
}

static size_t term_width(const lux_console_t *c)
{
    struct winsize ws;
    if (c->tty && ioctl(fileno(c->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 120;
}

static void erase_block(lux_console_t *c)
{
    if (c->tty && c->lines_drawn > 0) {
        fprintf(c->out, "\033[%dA\033[J", c->lines_drawn);
        c->lines_drawn = 0;
    }
}

void lux_console_show(lux_console_t *c, const lux_console_view_t *v, int final)
{
    if (c == NULL || (c->verbosity < 0 && !final))
        return;
    char *text = NULL;
    size_t rows = c->verbosity >= 1 || final ? 50 : 20;
    if (lux_console_render(v, term_width(c), rows, &text) != 0)
        return;
    erase_block(c);
    if (!c->tty)
        fputc('\n', c->out);
    fputs(text, c->out);
    if (c->tty && !final) {
        int lines = 0;
        for (const char *p = text; *p; p++)
            lines += *p == '\n';
        c->lines_drawn = lines;
    }
    fflush(c->out);
    lux_free(text);
    c->last_show = lux_clock_monotonic_s();
}

void lux_console_event(lux_console_t *c, int level, const char *fmt, ...)
{
    if (c == NULL || c->verbosity < level)
        return;
    /* On a terminal events scroll above the block; plain output keeps
     * them unless quiet. */
    erase_block(c);
    char when[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(c->out, "[%s] ", when);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->out);
    fflush(c->out);
    if (c->tty)
        c->last_show = 0; /* redraw the block below at the next chance */
}
