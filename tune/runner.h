/*
 * The trial runner: `lux run`. It loads an experiment config, creates (or
 * resumes) the experiment directory and its store, and drives trials on the
 * runtime (tune/executor.h) until every trial has ended, reacting to each
 * result as it arrives: stop criteria, the scheduler's decisions (ASHA stops,
 * PBT checkpoints and exploits), checkpoints with retention, failures with
 * restarts from the latest checkpoint, a time budget, Ctrl-C / SIGTERM
 * (checkpoint running trials and stop; `--resume` continues) and the live
 * console.
 *
 * Everything the runner knows is written to the store in batches, one
 * transaction each, together with the scheduler's state, so a run killed at
 * any moment (SIGKILL included) resumes exactly: finished trials stay
 * finished, running ones restart from their latest checkpoint, pending ones
 * start, and results replayed after a restart are not stored twice.
 */
#ifndef LUX_RUNNER_H
#define LUX_RUNNER_H

#include "config.h"

#include <stdio.h>

typedef struct {
    const char *config_path; /* the YAML file; NULL when resuming a directory */
    const char *resume_dir;  /* resume this experiment directory (config from its store) */
    int resume;              /* with config_path: resume the experiment it names */
    const char *storage;     /* overrides the config's storage */
    const char *name;        /* overrides the config's name */
    int has_seed;
    uint64_t seed;   /* overrides the config's seed */
    int verbosity;   /* -1 quiet, 0 normal, 1 verbose, 2 a line per result */
    double num_cpus; /* CPUs to use (0: all cores) */
    const lux_config_options_t *config_opts; /* environment names for checks */
    FILE *console;                           /* where the status goes (stdout) */
    int tty;                                 /* -1: detect from console; 0 plain lines; 1 redraw */
    double report_interval_s;                /* plain-mode status period (0: 30 s; tty: 1 s) */
} lux_run_opts_t;

/* Exit codes of lux_run beyond the CLI's 0/1/2: interrupted by a signal. */
#define LUX_RUN_EXIT_INTERRUPTED 130

/* Runs or resumes an experiment to its end. Messages for a person go to
 * stderr. Returns the process exit code: 0 every trial terminated; 1 a
 * trial ended in ERROR or the run failed (the store says why); 2 bad config
 * or usage (nothing was created or changed); 130 stopped by SIGINT/SIGTERM
 * after checkpointing (resume with --resume). */
int lux_run(const lux_run_opts_t *opts);

#endif
