/*
 * `lux run`: runs or resumes an experiment (tune/runner.h).
 *
 * The library runs and reports; this command speaks to the person: it
 * installs the SIGINT/SIGTERM handlers (the first signal asks the run to
 * checkpoint and stop through lux_run_request_stop, a second exits at once),
 * prints lux_run's message and the hints on stderr, and turns the outcome
 * into the exit code its help promises.
 */
#include "cli.h"
#include "config.h"
#include "env.h"
#include "error.h"
#include "log.h"
#include "runner.h"
#include "units.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit code of a run stopped by a signal: the shell's 128 + SIGINT. */
#define EXIT_INTERRUPTED 130
/* Exit code of a run whose time budget was used up with trials left to
 * run: not a failure, not every trial TERMINATED either. */
#define EXIT_BUDGET_USED_UP 3
/* Exit code of a run stopped by a full disk: sysexits' EX_TEMPFAIL (a
 * temporary failure; retrying later, here with --resume, will work). */
#define EXIT_NO_SPACE 75

const char lux_cmd_run_help[] =
    "usage: lux run FILE [--storage DIR] [--name NAME] [--seed S] [--resume] [--cpus N]\n"
    "               [--smoke] [-q|-v]\n"
    "       lux run --resume [--retry-errored] DIR\n\n"
    "Runs the experiment described by the YAML file FILE (docs/config.md) in\n"
    "STORAGE/NAME/ (storage defaults to ./runs, the name to the file's): every\n"
    "trial, its results in experiment.db, checkpoints under trials/. The console\n"
    "shows the trial table while it runs.\n\n"
    "Ctrl-C (or SIGTERM) checkpoints the running trials and stops; a second\n"
    "Ctrl-C stops at once. Either way, or after the driver was killed, continue\n"
    "with --resume: finished trials stay finished, the others restart from their\n"
    "latest checkpoint. With FILE, --resume checks that only stop criteria,\n"
    "time_budget_s or a larger num_samples changed. A trial in ERROR because its\n"
    "worker was killed from outside (a signal, the OOM killer) or the disk failed\n"
    "restarts from its latest checkpoint too; one whose trainable failed (an\n"
    "error, a crash) stays ERROR unless --retry-errored.\n\n"
    "options:\n"
    "  --storage DIR  where experiment directories go (overrides the file)\n"
    "  --name NAME    the experiment's name (overrides the file)\n"
    "  --seed S       the experiment's seed (overrides the file)\n"
    "  --resume       continue the experiment instead of starting it\n"
    "  --retry-errored  with --resume: restart every ERROR trial from its latest\n"
    "                 checkpoint (Ray's resume_errored)\n"
    "  --cpus N       CPUs the run's node offers, > 0 (default: all cores); more than\n"
    "                 the machine has is allowed (trials then share cores) with a warning\n"
    "  --object-store-memory BYTES  the node's shared-memory object store, e.g. 512M\n"
    "                 or 2G (default: 30% of memory, or of the cgroup's limit)\n"
    "  --smoke        apply the file's smoke: overrides (a tiny budget) and run it\n"
    "                 as NAME-smoke, to check an experiment in seconds\n"
    "  -v, -vv        more output (trial events; every result); -q less\n\n"
    "exit codes: 0 every trial terminated, 1 a trial ended in ERROR or the run\n"
    "failed, 2 bad config or usage (nothing written), 3 time_budget_s used up with\n"
    "trials left (continue with --resume, which gets a new budget), 75 out of disk\n"
    "space (free space, then --resume), 130 stopped by a signal.\n";

static volatile sig_atomic_t signal_count;

static void on_signal(int sig)
{
    signal_count++;
    if (signal_count >= 2) {
        /* A second signal: leave now; the store holds everything committed
         * and --resume continues from it. */
        static const char msg[] = "\nlux: stopping at once; resume with --resume\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(128 + sig);
    }
    lux_run_request_stop(sig);
}

/* Runs the experiment with the signal handlers installed, prints what the
 * person needs to know and returns the exit code. */
static int run(const lux_run_opts_t *ro)
{
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signal_count = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    lux_run_outcome_t out;
    int rc = lux_run(ro, &out);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    if (rc == LUX_ENOSPC && out.end == LUX_RUN_INTERRUPTED) {
        /* The store is at its last commit and no trial failed for it. */
        fprintf(stderr, "lux run: %s; free space, then lux run --resume %s\n", out.error, out.dir);
        return EXIT_NO_SPACE;
    }
    if (rc != 0 && out.error[0] != '\0')
        fprintf(stderr, "lux run: %s\n", out.error);
    int budget_left = out.end == LUX_RUN_BUDGET_USED_UP && out.num_unfinished > 0;
    if (out.end == LUX_RUN_INTERRUPTED)
        fprintf(stderr, "lux run: stopped; continue with: lux run --resume %s\n", out.dir);
    else if (budget_left)
        fprintf(stderr,
                "lux run: time budget of %g s used up; %ld trial(s) not started or not finished; "
                "continue them with: lux run --resume %s (a new budget of %g s)\n",
                out.time_budget_s, out.num_unfinished, out.dir, out.time_budget_s);
    if (out.end != LUX_RUN_INTERRUPTED && out.num_errored > 0)
        fprintf(stderr, "lux run: %ld trial(s) ended in ERROR; see 'lux status %s'\n",
                out.num_errored, out.dir);
    if (rc != 0)
        return out.bad_input ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    if (out.end == LUX_RUN_INTERRUPTED)
        return EXIT_INTERRUPTED;
    if (out.num_errored > 0) /* what a resume cannot fix comes first */
        return LUX_EXIT_FAILURE;
    return budget_left ? EXIT_BUDGET_USED_UP : LUX_EXIT_OK;
}

static bool env_exists(const char *name, void *user)
{
    (void)user;
    return lux_env_registry_find(name) != NULL;
}

int lux_cmd_run(int argc, char **argv)
{
    const char *storage = NULL, *name = NULL, *store_text = NULL;
    long seed = 0;
    double cpus = NAN; /* not given: all cores */
    int resume = 0, has_seed = 0, smoke = 0, retry_errored = 0;
    const lux_opt_t opts[] = {
        {"--storage", NULL, LUX_OPT_STRING, &storage},
        {"--name", NULL, LUX_OPT_STRING, &name},
        {"--seed", NULL, LUX_OPT_INT, &seed},
        {"--resume", NULL, LUX_OPT_FLAG, &resume},
        {"--cpus", NULL, LUX_OPT_DOUBLE, &cpus},
        {"--smoke", NULL, LUX_OPT_FLAG, &smoke},
        {"--retry-errored", NULL, LUX_OPT_FLAG, &retry_errored},
        {"--object-store-memory", NULL, LUX_OPT_STRING, &store_text},
    };
    char *pos[1];
    int npos = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--seed") == 0 || strncmp(argv[i], "--seed=", 7) == 0)
            has_seed = 1;
    if (lux_cli_parse("run", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("run", "give one experiment file (or --resume DIR)");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!isnan(cpus) && !(cpus > 0))
        return lux_cli_usage_error(
            "run", "--cpus must be > 0, not %g; leave it out to use all %ld cores", cpus, cores);
    if (!isnan(cpus) && cores > 0 && cpus > (double)cores)
        /* Ray lets a node declare more CPUs than exist; so does lux, but the
         * person should know that trials will then share cores. */
        fprintf(
            stderr,
            "lux run: warning: --cpus %g is more than the %ld cores of this machine; trials are "
            "placed as if it had %g and will oversubscribe its cores (leave --cpus out to "
            "use %ld)\n",
            cpus, cores, cpus, cores);
    if (seed < 0)
        return lux_cli_usage_error("run", "--seed must be >= 0");
    if (name != NULL) {
        char why[512];
        if (lux_config_name_check(name, why, sizeof why) != 0)
            return lux_cli_usage_error("run", "--name %s", why);
    }
    uint64_t store_bytes = 0;
    if (store_text != NULL) {
        int prc = lux_parse_bytes(store_text, &store_bytes);
        if (prc != 0 || store_bytes == 0 || store_bytes > SIZE_MAX)
            return lux_cli_usage_error("run",
                                       "--object-store-memory %s: %s; give bytes, or a size "
                                       "such as 512M or 2G (powers of 1024)",
                                       store_text,
                                       prc == LUX_EINVAL || store_bytes == 0 ? "not a byte size"
                                                                             : "too large");
    }
    if (retry_errored && !resume)
        return lux_cli_usage_error("run", "--retry-errored goes with --resume");

    /* With --resume, a directory holding experiment.db is resumed from its
     * stored config; a file is loaded and compared with the stored one. */
    char db[4096];
    snprintf(db, sizeof db, "%s/experiment.db", pos[0]);
    FILE *probe = resume ? fopen(db, "rb") : NULL;
    lux_config_options_t copts = {.env_exists = env_exists, .smoke = smoke};
    lux_run_opts_t ro = {
        .storage = storage,
        .name = name,
        .has_seed = has_seed,
        .seed = (uint64_t)seed,
        .verbosity = (int)lux_log_level() - 2,
        .num_cpus = isnan(cpus) ? 0 : cpus,
        .object_store_bytes = (size_t)store_bytes,
        .retry_errored = retry_errored,
        .config_opts = &copts,
        .console = stdout,
        .tty = -1,
    };
    if (probe != NULL) {
        fclose(probe);
        ro.resume_dir = pos[0];
    } else {
        ro.config_path = pos[0];
        ro.resume = resume;
    }
    return run(&ro);
}
