/*
 * `lux status DIR`: the status block of an experiment, read from its store
 * with a read-only connection, so it works while a run is writing (WAL: the
 * reader sees the last committed batch and never blocks the driver) and
 * after the run ended. The block is the live console's: this file only
 * turns the store's rows into a lux_console_view_t and lets
 * lux_console_render() (tune/console.c) print it, so both always agree.
 */
#include "cli.h"
#include "config.h"
#include "console.h"
#include "stopper.h"
#include "store.h"
#include "table.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

const char lux_cmd_status_help[] =
    "usage: lux status DIR [--metric M] [--width N] [--max-rows N]\n\n"
    "Prints the status block of the experiment in DIR from its store\n"
    "(DIR/experiment.db), the same block `lux run` prints while it runs: trial\n"
    "counts by status, the total running time, the experiment's name, state and\n"
    "number of results, the best trial so far, a table of trials (their sampled\n"
    "parameters, iteration, total time and metric) and the failed trials'\n"
    "messages. Safe to run while the experiment is running; it never slows the\n"
    "run down. An experiment whose driver died (killed, crashed) shows as\n"
    "\"stopped (driver pid N is gone; resume with lux run --resume DIR)\".\n\n"
    "options:\n"
    "  --metric M     the metric column and best trial (default: the experiment's)\n"
    "  --width N      fit the table to N columns (default: the terminal, or 120)\n"
    "  --max-rows N   show at most N trials (default: all)\n";

static size_t terminal_width(void)
{
    const char *cols = getenv("COLUMNS");
    if (cols != NULL && atoi(cols) > 20)
        return (size_t)atoi(cols);
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 120;
}

/* The experiment's search space, rebuilt from its stored canonical config,
 * or NULL when it cannot be (an old or hand-made store; the status then
 * shows the config paths that vary between trials instead). */
static lux_config_t *stored_config(const json_t *exp)
{
    const json_t *json = json_object_get(exp, "config");
    if (!json_is_object(json))
        return NULL;
    /* Only the space is needed: trainables (a plugin may not be loaded
     * here) and environments are not checked. */
    lux_config_options_t opts = {.skip_trainable_check = true};
    lux_config_t *cfg = NULL;
    char err[8192];
    if (lux_config_from_json(json, &opts, &cfg, err, sizeof err) != 0) {
        lux_log_debug("lux status: the stored config does not load (%s); showing the config "
                      "keys that vary",
                      err);
        return NULL;
    }
    return cfg;
}

/* The experiment's elapsed time: to its end, or to now while it runs (a
 * resumed experiment is RUNNING again and keeps its earlier end_time). */
static double elapsed_of(const json_t *exp)
{
    double start = json_number_value(json_object_get(exp, "start_time"));
    double end = json_number_value(json_object_get(exp, "end_time"));
    const char *status = json_string_value(json_object_get(exp, "status"));
    if (start <= 0)
        return 0;
    if (end <= 0 || (status != NULL && strcmp(status, "RUNNING") == 0))
        end = (double)time(NULL);
    return end > start ? end - start : 0;
}

/* The base name of a directory path, for a store without an experiment row. */
static const char *base_name(const char *dir, char *buf, size_t len)
{
    snprintf(buf, len, "%s", dir);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    const char *slash = strrchr(buf, '/');
    return slash != NULL && slash[1] != '\0' ? slash + 1 : buf;
}

/* The rows being read: each keeps only what the block shows (the trial's
 * id, config, error and figures), not the whole stored trial, so a status
 * of 30,000 trials does not hold 30,000 last results. */
typedef struct {
    lux_console_view_t *v;
    const char *exp_metric;
    size_t cap;
} rows_t;

static int add_row(void *arg, const json_t *t)
{
    rows_t *rs = arg;
    lux_console_view_t *v = rs->v;
    lux_trial_status_t status;
    const char *id = json_string_value(json_object_get(t, "trial_id"));
    if (id == NULL ||
        lux_trial_status_parse(json_string_value(json_object_get(t, "status")), &status) != 0)
        return 0; /* the store writes neither; skip rather than guess */
    if (v->nrows == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 256;
        lux_console_row_t *rows = lux_realloc(v->rows, cap * sizeof *rows);
        if (rows == NULL)
            return LUX_ENOMEM;
        v->rows = rows;
        rs->cap = cap;
    }
    lux_console_row_t *row = &v->rows[v->nrows];
    *row = (lux_console_row_t){.status = status};
    const char *error = json_string_value(json_object_get(t, "error"));
    row->trial_id = lux_strdup(id);
    row->error = error != NULL ? lux_strdup(error) : NULL;
    if (row->trial_id == NULL || (error != NULL && row->error == NULL)) {
        lux_free((char *)row->trial_id);
        lux_free((char *)row->error);
        return LUX_ENOMEM;
    }
    json_t *config = json_object_get(t, "config");
    row->config = json_is_object(config) ? json_incref(config) : NULL;
    row->iteration = (long)json_integer_value(json_object_get(t, "training_iteration"));
    row->time_total_s = json_number_value(json_object_get(t, "time_total_s"));
    const json_t *m =
        v->metric != NULL ? lux_stopper_lookup(json_object_get(t, "last_result"), v->metric) : NULL;
    if (json_is_number(m)) {
        row->has_metric = 1;
        row->metric = json_number_value(m);
    }
    /* best_metric tracks the experiment's metric, not a --metric one. */
    const json_t *best = json_object_get(t, "best_metric");
    if (json_is_number(best) && v->metric != NULL && rs->exp_metric != NULL &&
        strcmp(v->metric, rs->exp_metric) == 0) {
        row->has_best = 1;
        row->best = json_number_value(best);
    }
    v->counts[row->status]++;
    /* Results are unique per (trial, iteration) from 1 on. */
    v->num_results += row->iteration;
    v->nrows++;
    return 0;
}

static void free_rows(lux_console_view_t *v)
{
    for (size_t i = 0; i < v->nrows; i++) {
        lux_free((char *)v->rows[i].trial_id);
        lux_free((char *)v->rows[i].error);
        json_decref((json_t *)v->rows[i].config);
    }
    lux_free(v->rows);
    v->rows = NULL;
    v->nrows = 0;
}

/* Builds the console's view of every trial in the store (one read
 * transaction, so the counts agree with the table even while a run adds
 * trials) and prints the status block. */
static int print_status(lux_store_t *s, const char *metric_opt, size_t width, size_t max_rows)
{
    json_t *exp = NULL;
    lux_config_t *cfg = NULL;
    char *text = NULL;
    int rc = lux_store_experiment_get(s, &exp);
    if (rc != 0 && rc != LUX_ENOENT)
        return rc;

    char name_buf[256];
    const char *exp_metric = json_string_value(json_object_get(exp, "metric"));
    const char *mode = json_string_value(json_object_get(exp, "mode"));
    lux_console_view_t v = {
        .name = json_string_value(json_object_get(exp, "name")),
        .dir = lux_store_dir(s),
        .state = json_string_value(json_object_get(exp, "status")),
        .metric = metric_opt != NULL ? metric_opt : exp_metric,
        .mode = mode != NULL && strcmp(mode, "min") == 0 ? LUX_MODE_MIN : LUX_MODE_MAX,
        .elapsed_s = elapsed_of(exp),
        .cpus_total = -1, /* the store does not know the cluster */
    };
    if (exp == NULL) {
        v.name = base_name(lux_store_dir(s), name_buf, sizeof name_buf);
        v.state = "no experiment row yet";
    }
    /* RUNNING is what the driver stored; a driver killed by SIGKILL (or a
     * crash) could not change it. Its lock says whether it still runs. */
    char state_buf[4400];
    long pid = 0;
    if (v.state != NULL && strcmp(v.state, "RUNNING") == 0 &&
        lux_store_writer(s, &pid) == LUX_STORE_WRITER_GONE) {
        snprintf(state_buf, sizeof state_buf,
                 "stopped (driver pid %ld is gone; resume with lux run --resume %s)", pid,
                 lux_store_dir(s));
        v.state = state_buf;
    }
    cfg = stored_config(exp);
    v.space = cfg != NULL ? cfg->space : NULL;

    rows_t rs = {.v = &v, .exp_metric = exp_metric};
    rc = lux_store_trials_each(s, add_row, &rs);
    if (rc == 0)
        rc = lux_console_render(&v, width, max_rows, &text);
    if (rc == 0)
        fputs(text, stdout);
    lux_free(text);
    free_rows(&v);
    lux_config_destroy(&cfg);
    json_decref(exp);
    return rc;
}

int lux_cmd_status(int argc, char **argv)
{
    const char *metric = NULL;
    long width = 0, max_rows = 0;
    const lux_opt_t opts[] = {
        {"--metric", NULL, LUX_OPT_STRING, &metric},
        {"--width", NULL, LUX_OPT_INT, &width},
        {"--max-rows", NULL, LUX_OPT_INT, &max_rows},
    };
    char *pos[1];
    int npos = 0;
    if (lux_cli_parse("status", argc, argv, opts, 3, pos, 1, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("status", "needs the experiment directory");
    if (width < 0 || max_rows < 0)
        return lux_cli_usage_error("status", "--width and --max-rows must be >= 0");
    lux_store_t *s = NULL;
    char err[8192];
    int rc = lux_store_open_reader(pos[0], &s, err, sizeof err);
    if (rc != 0) {
        lux_table_sanitize(err, 0);
        fprintf(stderr, "lux status: %s\n", err);
        return rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    fflush(stdout);
    rc = print_status(s, metric, width > 0 ? (size_t)width : terminal_width(), (size_t)max_rows);
    if (rc != 0) {
        snprintf(err, sizeof err, "%s",
                 lux_store_errmsg(s)[0] ? lux_store_errmsg(s) : lux_strerror(rc));
        lux_table_sanitize(err, 0);
        fprintf(stderr, "lux status: %s\n", err);
    }
    lux_store_close(&s);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
