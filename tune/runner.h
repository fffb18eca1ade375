/*
 * The trial runner: `lux run`. It loads an experiment config, creates (or
 * resumes) the experiment directory and its store, and drives trials on the
 * runtime (tune/executor.h) until every trial has ended, reacting to each
 * result as it arrives: stop criteria, the scheduler's decisions (ASHA stops,
 * PBT checkpoints and exploits), checkpoints with retention, failures with
 * restarts from the latest checkpoint, a time budget, a stop request
 * (checkpoint running trials and stop; `--resume` continues) and the live
 * console.
 *
 * The library reports, the command speaks: lux_run writes nothing to stderr
 * and installs no signal handler. It returns 0 or a LUX_E* code and fills a
 * lux_run_outcome_t (how the run ended, a message for a person on failure)
 * from which cli/cmd_run.c prints the hints and picks the exit code. The
 * command's SIGINT/SIGTERM handlers call lux_run_request_stop(). Only the
 * status console is written, to the stream the caller gives.
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

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    const char *config_path; /* the YAML file; NULL when resuming a directory */
    const char *resume_dir;  /* resume this experiment directory (config from its store) */
    int resume;              /* with config_path: resume the experiment it names */
    int retry_errored;       /* resuming: restart every ERROR trial from its latest checkpoint, not
                                only those whose failure was not their trainable's (Ray's
                                resume_errored) */
    const char *storage;     /* overrides the config's storage */
    const char *name;        /* overrides the config's name */
    int has_seed;
    uint64_t seed;             /* overrides the config's seed */
    int verbosity;             /* -1 quiet, 0 normal, 1 verbose, 2 a line per result */
    double num_cpus;           /* CPUs to use (0: all cores) */
    size_t object_store_bytes; /* the private node's object store (0: the runtime's default) */
    const lux_config_options_t *config_opts; /* environment names for checks */
    FILE *console;                           /* where the status goes (NULL: stdout) */
    int tty;                                 /* -1: detect from console; 0 plain lines; 1 redraw */
    double report_interval_s;                /* plain-mode status period (0: 30 s; tty: 1 s) */
} lux_run_opts_t;

/* How a run ended. */
typedef enum {
    LUX_RUN_NOT_STARTED = 0, /* lux_run failed before its trial loop ran */
    LUX_RUN_FINISHED,        /* every trial ended (TERMINATED or ERROR) */
    LUX_RUN_BUDGET_USED_UP,  /* time_budget_s used up: running trials were checkpointed and
                                PAUSED, the others left PENDING (num_unfinished of them);
                                resuming continues them with a new budget */
    LUX_RUN_INTERRUPTED,     /* lux_run_request_stop(): running trials were checkpointed and
                                PAUSED; resuming continues them */
} lux_run_end_t;

typedef struct {
    lux_run_end_t end;
    long num_errored;     /* trials in ERROR, a resumed run's earlier ones included */
    long num_unfinished;  /* trials neither TERMINATED nor ERROR when the run ended */
    double time_budget_s; /* the experiment's time_budget_s (0: none) */
    /* With a failure: the input itself was wrong (bad config or options, no
     * experiment to resume, one already there, resources that can never
     * fit); nothing was created or changed. */
    bool bad_input;
    char dir[4096];   /* the experiment directory ("" until known) */
    char error[8192]; /* with a failure: one message for a person, or "" */
} lux_run_outcome_t;

/* Runs or resumes an experiment to its end; blocks. Writes only the status
 * console (opts->console). Fills *out (always, also on failure) and
 * returns 0 when the run came to an end: out->end says which, and
 * out->num_errored how many trials ended in ERROR (the store has their
 * messages). Otherwise returns a LUX_E* code with out->error saying what
 * went wrong: the config's codes (LUX_ECONFIG, LUX_ENOENT, LUX_EIO) when it
 * cannot be loaded, LUX_EINVAL with neither a config nor a directory,
 * LUX_ENOENT / LUX_EEXIST when there is no experiment to resume / already
 * one, LUX_EINFEASIBLE when a trial can never fit, LUX_ESTORE and the
 * runtime's codes when the run failed. When the failure came after the
 * trials started, out->end still says how far the run got (INTERRUPTED
 * included). */
int lux_run(const lux_run_opts_t *opts, lux_run_outcome_t *out);

/* Asks the run in progress to checkpoint its running trials and stop, as
 * soon as its loop looks (a run not yet in its loop stops when it gets
 * there; the request is used up when lux_run returns). `signo` is the
 * signal that asked, named in the console ("SIGTERM"; any other reads
 * "interrupted"), or 0. Async-signal-safe: meant to be called from the
 * command's SIGINT/SIGTERM handler. Cannot fail. */
void lux_run_request_stop(int signo);

#endif
