/*
 * The live status of an experiment, as Ray Tune prints it:
 *
 *   Trial status: 2 PAUSED | 8 RUNNING | 6 PENDING
 *   Current time: 2026-11-22 04:40:12. Total running time: 1min 23s
 *   Logical resource usage: 2.0/2 CPUs, 0/0 GPUs
 *   Experiment: quickstart (runs/quickstart), 16 trials, 280 results
 *   Scheduler: {"num_stopped":3}
 *   Current best trial: quickstart_00003 with episode_reward_mean=475 and params={...}
 *   <table: trial name, status, sampled parameters, iter, total time (s), metric>
 *   ... 9950 more trials not shown (lux status runs/quickstart lists them all)
 *   Number of errored trials: 1
 *   Trial quickstart_00007 failed: <first line of its message>
 *
 * On a terminal the block is redrawn in place at most once a second; on
 * anything else (CI, a log file) it is printed as plain lines every
 * report_interval_s (30 s by default) and once at the end, and events (a
 * trial started, stopped, failed...) are single lines. -q prints only the
 * final block, -v adds events, -vv a line per result.
 *
 * lux_console_render() is the pure part: the same block from a view, used
 * by the live console (tune/runner.c builds the view from its trials) and by
 * `lux status` (cli/cmd_status.c builds it from the store), so the two
 * always look alike.
 */
#ifndef LUX_CONSOLE_H
#define LUX_CONSOLE_H

#include "scheduler.h"
#include "space.h"
#include "trial_status.h"

#include <jansson.h>
#include <stdio.h>

typedef struct {
    const char *trial_id;
    lux_trial_status_t status;
    const json_t *config; /* may be NULL */
    long iteration;
    double time_total_s;
    int has_metric;
    double metric; /* last reported */
    int has_best;
    double best;
    const char *error; /* may be NULL */
} lux_console_row_t;

typedef struct {
    const char *name, *dir;
    const char *state;  /* the experiment's status ("FINISHED"...) for the
                           Experiment line; NULL: none (the live console) */
    const char *metric; /* may be NULL */
    lux_mode_t mode;
    long counts[LUX_TRIAL_STATUS_COUNT]; /* every trial, also those not in rows */
    double elapsed_s;
    double cpus_used, cpus_total, gpus_used, gpus_total; /* cpus_total < 0: unknown */
    /* Parameter columns: the space's variables; NULL: the config paths
     * whose values vary between the rows (every path of a single row), in
     * first-seen order, in the space's dotted notation ("model.lr"). */
    const lux_space_t *space;
    const json_t *scheduler_stats; /* may be NULL */
    long num_results;
    /* The trials the block may show: all of them (`lux status`) or a
     * bounded subset (the live console: live trials, the best finished and
     * the latest failed ones). */
    lux_console_row_t *rows;
    size_t nrows;
    /* Rows whose config is NULL (finished trials, whose config only the
     * store keeps) get it from here when they are shown: a new reference the
     * renderer releases, or NULL. May be NULL. */
    json_t *(*fetch_config)(void *user, const char *trial_id);
    void *fetch_user;
} lux_console_view_t;

/* Renders the status block (every line ends in '\n', at most `width`
 * columns wide when 0 < width) with at most max_rows trial rows (0: all of
 * v->rows), choosing RUNNING, then PAUSED, PENDING, ERROR and the best
 * TERMINATED trials. Trials counted in v->counts but not shown are summed
 * up in one line ("... 9950 more trials not shown"). Failed trials among
 * v->rows get a line with the first line of their message (at most 20, then
 * "... and N more failed trials" counted from v->counts). Pure: no I/O
 * besides reading the clock (and v->fetch_config). `lux status` and the live
 * console both print this block. *out is lux_malloc'd (caller lux_frees).
 * Returns 0 or LUX_ENOMEM. */
int lux_console_render(const lux_console_view_t *v, size_t width, size_t max_rows, char **out);

typedef struct lux_console lux_console_t;

/* tty: -1 detect with isatty(fileno(out)), 0 plain, 1 redraw. verbosity:
 * -1 quiet, 0 normal, 1 events, 2 results. interval_s: plain-mode period
 * (0: 30 s). NULL when out of memory. */
lux_console_t *lux_console_new(FILE *out, int tty, int verbosity, double interval_s);
void lux_console_destroy(lux_console_t **c_p);

/* 1 when the next block is due. */
int lux_console_due(lux_console_t *c);

/* How long the caller may block before the next block is due (<= 0.5 s). */
double lux_console_wait_hint(lux_console_t *c);

/* Shows the block now (final: the last one, also shown when quiet). */
void lux_console_show(lux_console_t *c, const lux_console_view_t *v, int final);

/* One line about an event, shown when the console's verbosity is at least
 * `level` (0: the run starting or stopping, failures; 1: trials starting,
 * ending, stopped or exploited; 2: every result); on a terminal it scrolls
 * above the block. Accepts a NULL console (prints nothing). */
void lux_console_event(lux_console_t *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
