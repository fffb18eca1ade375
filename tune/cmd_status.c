/*
 * `lux status DIR`: the trial table of an experiment, read from its store
 * with a read-only connection, so it works while a run is writing (WAL: the
 * reader sees the last committed batch and never blocks the driver) and
 * after the run ended.
 */
#include "cli.h"
#include "store.h"
#include "table.h"

#include "alloc.h"
#include "error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

const char lux_cmd_status_help[] =
    "usage: lux status DIR [--metric M] [--width N] [--max-rows N]\n\n"
    "Prints the state of the experiment in DIR from its store (DIR/experiment.db):\n"
    "its name and status, elapsed time, trial counts by status, the best trial so\n"
    "far, and a table of trials with the config keys that vary between trials,\n"
    "the iteration, the total time and the metric. Safe to run while the\n"
    "experiment is running; it never slows the run down.\n\n"
    "options:\n"
    "  --metric M     the metric column and best trial (default: the experiment's)\n"
    "  --width N      fit the table to N columns (default: the terminal, or 120)\n"
    "  --max-rows N   show at most N trials (default: all)\n";

/* Display order of the status counts, as Ray Tune prints them. */
static const lux_trial_status_t count_order[] = {
    LUX_TRIAL_PAUSED, LUX_TRIAL_RUNNING, LUX_TRIAL_PENDING, LUX_TRIAL_TERMINATED, LUX_TRIAL_ERROR};

static void format_duration(double s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    long t = (long)s;
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* The metric's value in a flattened result ("a/b" keys), or NULL. */
static json_t *metric_of(json_t *flat_result, const char *metric)
{
    return metric != NULL ? json_object_get(flat_result, metric) : NULL;
}

/* Flattened config keys whose values differ between trials (all keys when
 * there is only one trial), in first-seen order, into *keys (an array). */
static int varying_keys(json_t *flat_configs, json_t **keys)
{
    json_t *first = json_object(), *vary = json_object();
    json_t *out = json_array();
    if (first == NULL || vary == NULL || out == NULL)
        goto fail;
    size_t n = json_array_size(flat_configs), i;
    json_t *cfg;
    json_array_foreach(flat_configs, i, cfg)
    {
        const char *k;
        json_t *v;
        json_object_foreach(cfg, k, v)
        {
            json_t *seen = json_object_get(first, k);
            if (seen == NULL) {
                json_object_set(first, k, v);
                if (i > 0)
                    json_object_set_new(vary, k, json_true()); /* missing in earlier trials */
            } else if (!json_equal(seen, v)) {
                json_object_set_new(vary, k, json_true());
            }
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach(first, k, v)
    {
        int missing_somewhere = 0;
        json_array_foreach(flat_configs, i, cfg)
        {
            if (json_object_get(cfg, k) == NULL)
                missing_somewhere = 1;
        }
        if (n <= 1 || json_object_get(vary, k) != NULL || missing_somewhere)
            json_array_append_new(out, json_string(k));
    }
    json_decref(first);
    json_decref(vary);
    *keys = out;
    return 0;
fail:
    json_decref(first);
    json_decref(vary);
    json_decref(out);
    return LUX_ENOMEM;
}

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

static int print_status(lux_store_t *s, const char *metric_opt, size_t width, long max_rows)
{
    json_t *exp = NULL, *trials = NULL, *flat_cfgs = NULL, *flat_results = NULL, *keys = NULL;
    lux_table_t *table = NULL;
    lux_table_column_t *cols = NULL;
    const char **cells = NULL;
    char *text = NULL;
    int rc = lux_store_experiment_get(s, &exp);
    if (rc != 0 && rc != LUX_ENOENT)
        goto done;
    rc = lux_store_trials(s, &trials);
    if (rc != 0)
        goto done;
    const char *name = json_string_value(json_object_get(exp, "name"));
    const char *metric =
        metric_opt ? metric_opt : json_string_value(json_object_get(exp, "metric"));
    const char *mode = json_string_value(json_object_get(exp, "mode"));
    if (mode == NULL)
        mode = "max";

    printf("== Status ==\n");
    double start = json_number_value(json_object_get(exp, "start_time"));
    double end = json_number_value(json_object_get(exp, "end_time"));
    if (exp != NULL) {
        char when[64] = "?", elapsed[32];
        time_t t0 = (time_t)start;
        struct tm tm;
        if (gmtime_r(&t0, &tm) != NULL)
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        format_duration((end > 0 ? end : (double)time(NULL)) - start, elapsed, sizeof elapsed);
        printf("Experiment: %s (%s), started %s, elapsed %s\n", name ? name : "?",
               json_string_value(json_object_get(exp, "status")), when, elapsed);
    } else {
        printf("Experiment: (no experiment row yet) in %s\n", lux_store_dir(s));
    }

    long counts[LUX_TRIAL_STATUS_COUNT];
    rc = lux_store_trial_counts(s, counts);
    if (rc != 0)
        goto done;
    printf("Trial status: ");
    int any = 0;
    for (size_t i = 0; i < sizeof count_order / sizeof count_order[0]; i++) {
        if (counts[count_order[i]] == 0)
            continue;
        printf("%s%ld %s", any ? " | " : "", counts[count_order[i]],
               lux_trial_status_name(count_order[i]));
        any = 1;
    }
    printf("%s\n", any ? "" : "no trials yet");

    /* Flatten every config and last result once. */
    flat_cfgs = json_array();
    flat_results = json_array();
    if (flat_cfgs == NULL || flat_results == NULL) {
        rc = LUX_ENOMEM;
        goto done;
    }
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        json_t *fc = json_object(), *fr = json_object();
        if (fc == NULL || fr == NULL || json_array_append_new(flat_cfgs, fc) != 0 ||
            json_array_append_new(flat_results, fr) != 0) {
            rc = LUX_ENOMEM;
            goto done;
        }
        lux_table_flatten(json_object_get(t, "config"), NULL, fc);
        lux_table_flatten(json_object_get(t, "last_result"), NULL, fr);
    }

    if (metric != NULL) {
        json_t *best = NULL;
        int brc = lux_store_best_trial(s, metric, mode, LUX_SCOPE_LAST, &best);
        if (brc == 0) {
            json_t *fc = json_object();
            lux_table_flatten(json_object_get(best, "config"), NULL, fc);
            char *params = json_dumps(fc, JSON_COMPACT | JSON_REAL_PRECISION(6));
            char value[64];
            lux_table_format(json_object_get(best, "value"), value, sizeof value);
            printf("Current best trial: %s with %s=%s and params=%s\n",
                   json_string_value(json_object_get(best, "trial_id")), metric, value,
                   params ? params : "{}");
            free(params);
            json_decref(fc);
            json_decref(best);
        } else if (brc != LUX_ENOENT) {
            rc = brc;
            goto done;
        }
    }

    rc = varying_keys(flat_cfgs, &keys);
    if (rc != 0)
        goto done;
    size_t nkeys = json_array_size(keys), ncols = 2 + nkeys + 2 + (metric != NULL);
    cols = lux_calloc(ncols, sizeof *cols);
    cells = lux_calloc(ncols, sizeof *cells);
    char(*buf)[128] = lux_calloc(ncols, sizeof *buf);
    if (cols == NULL || cells == NULL || buf == NULL) {
        lux_free(buf);
        rc = LUX_ENOMEM;
        goto done;
    }
    size_t c = 0;
    cols[c++] = (lux_table_column_t){"Trial name", LUX_ALIGN_LEFT, 0, 0, 0};
    cols[c++] = (lux_table_column_t){"status", LUX_ALIGN_LEFT, 0, 10, 0};
    for (size_t k = 0; k < nkeys; k++)
        cols[c++] = (lux_table_column_t){json_string_value(json_array_get(keys, k)),
                                         LUX_ALIGN_RIGHT, 24, 6, 1};
    cols[c++] = (lux_table_column_t){"iter", LUX_ALIGN_RIGHT, 0, 4, 0};
    cols[c++] = (lux_table_column_t){"total time (s)", LUX_ALIGN_RIGHT, 0, 8, 0};
    if (metric != NULL)
        cols[c++] = (lux_table_column_t){metric, LUX_ALIGN_RIGHT, 0, 8, 1};
    table = lux_table_new(cols, ncols);
    if (table == NULL) {
        lux_free(buf);
        rc = LUX_ENOMEM;
        goto done;
    }
    size_t shown = 0, ntrials = json_array_size(trials);
    json_array_foreach(trials, i, t)
    {
        if (max_rows > 0 && shown >= (size_t)max_rows)
            break;
        c = 0;
        json_t *fc = json_array_get(flat_cfgs, i), *fr = json_array_get(flat_results, i);
        lux_table_format(json_object_get(t, "trial_id"), buf[c], sizeof buf[c]);
        cells[c] = buf[c];
        c++;
        lux_table_format(json_object_get(t, "status"), buf[c], sizeof buf[c]);
        cells[c] = buf[c];
        c++;
        for (size_t k = 0; k < nkeys; k++, c++) {
            lux_table_format(json_object_get(fc, json_string_value(json_array_get(keys, k))),
                             buf[c], sizeof buf[c]);
            cells[c] = buf[c];
        }
        lux_table_format(json_object_get(t, "training_iteration"), buf[c], sizeof buf[c]);
        cells[c] = buf[c];
        c++;
        snprintf(buf[c], sizeof buf[c], "%.1f",
                 json_number_value(json_object_get(t, "time_total_s")));
        cells[c] = buf[c];
        c++;
        if (metric != NULL) {
            lux_table_format(metric_of(fr, metric), buf[c], sizeof buf[c]);
            cells[c] = buf[c];
            c++;
        }
        if (lux_table_add_row(table, cells) != 0) {
            lux_free(buf);
            rc = LUX_ENOMEM;
            goto done;
        }
        shown++;
    }
    lux_free(buf);
    rc = lux_table_render(table, width, &text);
    if (rc != 0)
        goto done;
    fputs(text, stdout);
    if (shown < ntrials)
        printf("... %zu more trials (--max-rows)\n", ntrials - shown);

    if (counts[LUX_TRIAL_ERROR] > 0) {
        printf("Number of errored trials: %ld\n", counts[LUX_TRIAL_ERROR]);
        json_array_foreach(trials, i, t)
        {
            if (strcmp(json_string_value(json_object_get(t, "status")), "ERROR") != 0)
                continue;
            const char *err = json_string_value(json_object_get(t, "error"));
            char line[160];
            lux_table_fit(err ? err : "(no message)", 100, line, sizeof line);
            char *nl = strchr(line, '\n');
            if (nl != NULL)
                *nl = '\0';
            printf("  %s (%ld failures): %s\n", json_string_value(json_object_get(t, "trial_id")),
                   (long)json_integer_value(json_object_get(t, "num_failures")), line);
        }
    }
    rc = 0;
done:
    lux_free(text);
    lux_table_destroy(&table);
    lux_free(cols);
    lux_free(cells);
    json_decref(keys);
    json_decref(flat_results);
    json_decref(flat_cfgs);
    json_decref(trials);
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
    char err[512];
    int rc = lux_store_open_reader(pos[0], &s, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "lux status: %s\n", err);
        return rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    fflush(stdout);
    rc = print_status(s, metric, width > 0 ? (size_t)width : terminal_width(), max_rows);
    if (rc != 0)
        fprintf(stderr, "lux status: %s\n",
                lux_store_errmsg(s)[0] ? lux_store_errmsg(s) : lux_strerror(rc));
    lux_store_close(&s);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
