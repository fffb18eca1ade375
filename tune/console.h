/*
 * The live status of an experiment, as Ray Tune prints it:
 *
 *   Trial status: 2 PAUSED | 8 RUNNING | 6 PENDING
 *   Current time: 2026-11-22 04:40:12. Total running time: 1min 23s
 *   Logical resource usage: 2.0/2 CPUs, 0/0 GPUs
 *   Current best trial: quickstart_00003 with episode_reward_mean=475 and params={...}
 *   <table: trial name, status, sampled parameters, iter, total time (s), metric>
 *
 * On a terminal the block is redrawn in place at most once a second; on
 * anything else (CI, a log file) it is printed as plain lines every
 * report_interval_s (30 s by default) and once at the end, and events (a
 * trial started, stopped, failed...) are single lines. -q prints only the
 * final block, -v adds events, -vv a line per result.
 *
 * lux_console_render() is the pure part: the same block from a view, used
 * by the live console and by `lux status`.
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
    const char *metric; /* may be NULL */
    lux_mode_t mode;
    long counts[LUX_TRIAL_STATUS_COUNT];
    double elapsed_s;
    double cpus_used, cpus_total, gpus_used, gpus_total; /* cpus_total < 0: unknown */
    const lux_space_t *space;      /* parameter columns; NULL: keys that vary */
    const json_t *scheduler_stats; /* may be NULL */
    long num_results;
    lux_console_row_t *rows;
    size_t nrows;
    /* Rows whose config is NULL (finished trials, whose config only the
     * store keeps) get it from here when they are shown: a new reference the
     * renderer releases, or NULL. May be NULL. */
    json_t *(*fetch_config)(void *user, const char *trial_id);
    void *fetch_user;
} lux_console_view_t;

/* Renders the status block (every line ends in '\n', at most `width`
 * columns wide when 0 < width) with at most max_rows trial rows (0: all),
 * choosing RUNNING, then PAUSED, PENDING, ERROR and the best TERMINATED
 * trials. *out is lux_malloc'd. Returns 0 or LUX_ENOMEM. */
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
