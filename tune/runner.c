/*
 * The trial runner (see runner.h for what it promises).
 *
 * One thread runs one loop: start waiting trials while resources allow, wait
 * for finished requests, act on each (result, checkpoint or failure), and
 * commit the batch to the store at most every 200 ms. A running trial always
 * has exactly one request in flight (a step or a save); a step request may
 * return several results (see batch_size()), handled one by one; what to do
 * after a save is in trial_t.after_save.
 *
 * Trials are created lazily (trial k's config is a pure function of the
 * experiment seed and k), so the searcher's state is one counter. Only live
 * trials (PENDING, RUNNING, PAUSED) are held in memory: a trial that ends
 * is written to the store, counted, offered to the console's short lists
 * of finished trials, and freed after the batch commits, so the driver's
 * memory does not grow with the number of finished trials. Every trial
 * asks for the same resources (resources_per_trial), so concurrency is the
 * number of whole trials that fit in the node, capped by
 * max_concurrent_trials.
 *
 * training_iteration is the runner's count of results per trial and only
 * grows: after a restart from a checkpoint taken at iteration c, results c+1
 * .. the last stored one are recomputed and neither stored nor shown to the
 * scheduler again (replay_until); a PBT exploit restores the donor's state
 * but the trial keeps its own iteration count.
 */
#include "runner.h"

#include "clock.h"
#include "alloc.h"
#include "checkpoint.h"
#include "console.h"
#include "error.h"
#include "executor.h"
#include "fs.h"
#include "log.h"
#include "plugin.h"
#include "scheduler.h"
#include "stopper.h"
#include "store.h"
#include "trainable.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_EVENTS     64
#define COMMIT_EVERY_S 0.2
#define ERR_LEN        8192

typedef enum {
    AFTER_STEP = 0,  /* continue training */
    AFTER_PAUSE,     /* release resources, wait */
    AFTER_STOP,      /* the scheduler stopped it */
    AFTER_COMPLETE,  /* stop criteria or done */
    AFTER_INTERRUPT, /* the user stopped the run */
} after_save_t;

typedef struct {
    int k;
    char id[128];
    lux_trial_status_t status;
    json_t *config;
    uint64_t seed;
    long iteration;    /* the trainable's position (results produced) */
    long stored_iter;  /* the last iteration stored */
    long replay_until; /* iterations <= this are recomputations */
    double time_total;
    double start_time, end_time;
    int has_metric;
    double last_metric;
    int has_best;
    double best_metric;
    long best_iteration;
    long num_failures;
    char *error;
    char *restore;       /* checkpoint (relpath) to restore from at the next start */
    char *latest_ckpt;   /* newest checkpoint */
    double latest_time;  /* its time_total_s */
    long latest_iter;    /* its iteration */
    char *parent;        /* PBT donor */
    json_t *last_result; /* while live */
    lux_exec_trial_t *exec;
    after_save_t after_save;
    int want_save;
    int stopped;    /* resumed after the scheduler answered STOP (its final save was cut) */
    int retain_due; /* retention runs after the batch that registered a checkpoint commits */
    int errored;    /* resumed from ERROR (--resume restarts it): its restart is recorded */
    int dirty;
} trial_t;

/* A finished trial as the console shows it (its config is read back from
 * the store when shown). */
typedef struct {
    lux_console_row_t row;
    int k;
    char *id, *error;
} done_t;

/* The console's lists of finished trials: the best TERMINATED ones and the
 * latest ERROR ones, DONE_ROWS of each (as many as it ever shows). */
#define DONE_ROWS 50

typedef struct {
    lux_config_t *cfg;
    lux_store_t *store;
    lux_executor_t *ex;
    lux_scheduler_t *sched;
    lux_stopper_t *stopper;
    char dir[4096];
    char *safe_name;
    trial_t **live; /* live trials, ascending k */
    size_t nlive, caplive;
    trial_t **retired; /* ended in this batch: freed once it commits */
    size_t nretired, capretired;
    size_t ncreated; /* trials created so far (the next k) */
    long total_trials;
    long num_terminated;
    done_t best_done[DONE_ROWS], errors[DONE_ROWS];
    size_t nbest_done, nerrors;
    int *waiting; /* k of PENDING/PAUSED trials, in order */
    size_t nwaiting, capwaiting;
    size_t nrunning;
    long max_running;
    lux_exec_bundle_t *bundles;
    size_t nbundles;
    const char *trainable; /* the registered class (a plugin's, for a plugin path) */
    char *resources_text;  /* every trial's resources as stored: {"bundles": [...]} */
    double t_start;        /* monotonic */
    double wall_start;     /* Unix time */
    double elapsed_prev;   /* elapsed before a resume */
    double budget_start;   /* elapsed when the current time budget began */
    double last_commit;
    int in_tx;
    int sched_dirty;
    long pending_rows;
    long num_results;
    long num_errors;
    json_t *failures; /* while resuming: {trial_id: failure kind} from the store */
    int stopping;     /* budget exhausted or interrupted */
    int interrupted;
    int out_of_space;     /* a write found the disk full: the run halts (out_of_space()) */
    char space_msg[1024]; /* the first such write's message */
    int budget_used_up;
    lux_console_t *console;
    const lux_run_opts_t *opts;
} runner_t;

/* A stop request (lux_run_request_stop), set from a signal handler: the
 * signal that asked, then the flag the loop reads. */
static volatile sig_atomic_t stop_requested, stop_signal;

void lux_run_request_stop(int signo)
{
    stop_signal = signo;
    stop_requested = 1;
}

static double elapsed(const runner_t *r)
{
    return r->elapsed_prev + lux_clock_monotonic_s() - r->t_start;
}

/* ---- trials --------------------------------------------------------------- */

static void trial_free(trial_t *t)
{
    if (t == NULL)
        return;
    json_decref(t->config);
    json_decref(t->last_result);
    lux_free(t->error);
    lux_free(t->restore);
    lux_free(t->latest_ckpt);
    lux_free(t->parent);
    lux_free(t);
}

static void set_str(char **dst, const char *src)
{
    lux_free(*dst);
    *dst = src ? lux_strdup(src) : NULL;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int push_waiting(runner_t *r, int k)
{
    if (r->nwaiting == r->capwaiting) {
        size_t c = r->capwaiting ? r->capwaiting * 2 : 64;
        int *w = lux_realloc(r->waiting, c * sizeof *w);
        if (w == NULL)
            return LUX_ENOMEM;
        r->waiting = w;
        r->capwaiting = c;
    }
    r->waiting[r->nwaiting++] = k;
    return 0;
}

static void remove_waiting(runner_t *r, int k)
{
    for (size_t i = 0; i < r->nwaiting; i++) {
        if (r->waiting[i] == k) {
            memmove(&r->waiting[i], &r->waiting[i + 1], (r->nwaiting - i - 1) * sizeof(int));
            r->nwaiting--;
            return;
        }
    }
}

static int grow_ptrs(trial_t ***a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    trial_t **b = lux_realloc(*a, c * sizeof *b);
    if (b == NULL)
        return LUX_ENOMEM;
    *a = b;
    *cap = c;
    return 0;
}

/* The index of the first live trial with k' >= k. */
static size_t live_index(const runner_t *r, int k)
{
    size_t lo = 0, hi = r->nlive;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->live[mid]->k < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The live trial k, or NULL (finished or never created). */
static trial_t *find_trial(const runner_t *r, int k)
{
    size_t i = live_index(r, k);
    return i < r->nlive && r->live[i]->k == k ? r->live[i] : NULL;
}

static int live_add(runner_t *r, trial_t *t)
{
    if (grow_ptrs(&r->live, &r->caplive, r->nlive + 1) != 0)
        return LUX_ENOMEM;
    size_t i = live_index(r, t->k);
    memmove(&r->live[i + 1], &r->live[i], (r->nlive - i) * sizeof *r->live);
    r->live[i] = t;
    r->nlive++;
    return 0;
}

/* The live trials as they are now, for loops whose body may end trials. */
static trial_t **live_snapshot(const runner_t *r, size_t *n)
{
    *n = r->nlive;
    trial_t **copy = lux_malloc((r->nlive ? r->nlive : 1) * sizeof *copy);
    if (copy == NULL)
        *n = 0;
    else if (r->nlive > 0) /* r->live is NULL before the first trial */
        memcpy(copy, r->live, r->nlive * sizeof *copy);
    return copy;
}

/* The id of trial k, live or not (trial_create's rule). */
static void trial_id_of(const runner_t *r, int k, char *buf, size_t len)
{
    snprintf(buf, len, "%s_%05d", r->safe_name, k);
}

static void done_clear(done_t *d)
{
    lux_free(d->id);
    lux_free(d->error);
    memset(d, 0, sizeof *d);
}

/* Orders finished trials for the console: those with the metric first, by
 * metric (the better first), then by creation. */
static int done_better(const runner_t *r, const lux_console_row_t *a, int ka,
                       const lux_console_row_t *b, int kb)
{
    if (a->has_metric != b->has_metric)
        return a->has_metric;
    if (a->has_metric && a->metric != b->metric)
        return r->cfg->mode == LUX_MODE_MIN ? a->metric < b->metric : a->metric > b->metric;
    return ka < kb;
}

/* Offers a finished trial (its row) to the console's lists. */
static void done_offer(runner_t *r, const lux_console_row_t *row, int k)
{
    done_t *list = row->status == LUX_TRIAL_ERROR ? r->errors : r->best_done;
    size_t *n = row->status == LUX_TRIAL_ERROR ? &r->nerrors : &r->nbest_done;
    size_t at = *n;
    if (row->status == LUX_TRIAL_ERROR) {
        if (*n == DONE_ROWS) { /* keep the latest: drop the oldest */
            done_clear(&list[0]);
            memmove(&list[0], &list[1], (DONE_ROWS - 1) * sizeof *list);
            memset(&list[DONE_ROWS - 1], 0, sizeof *list);
            (*n)--;
        }
        at = *n;
    } else {
        at = 0;
        while (at < *n && done_better(r, &list[at].row, list[at].k, row, k))
            at++;
        if (at == DONE_ROWS)
            return;
        if (*n == DONE_ROWS) {
            done_clear(&list[DONE_ROWS - 1]);
            (*n)--;
        }
        memmove(&list[at + 1], &list[at], (*n - at) * sizeof *list);
    }
    done_t d = {.row = *row, .k = k};
    d.id = lux_strdup(row->trial_id);
    d.error = row->error ? lux_strndup(row->error, 1000) : NULL;
    if (d.id == NULL) {
        memmove(&list[at], &list[at + 1], (*n - at) * sizeof *list);
        return;
    }
    d.row.trial_id = d.id;
    d.row.error = d.error;
    d.row.config = NULL;
    list[at] = d;
    (*n)++;
}

static char *resources_json(const runner_t *r)
{
    json_t *b = json_array();
    for (size_t i = 0; i < r->nbundles; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "CPU", json_real(r->bundles[i].cpu));
        if (r->bundles[i].gpu > 0)
            json_object_set_new(o, "GPU", json_real(r->bundles[i].gpu));
        json_array_append_new(b, o);
    }
    json_t *j = json_pack("{s:o}", "bundles", b);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* Creates trial k (the next one), tells the scheduler and the store. */
static int trial_create(runner_t *r, char *err, size_t errlen)
{
    int k = (int)r->ncreated;
    trial_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return LUX_ENOMEM;
    t->k = k;
    trial_id_of(r, k, t->id, sizeof t->id);
    t->seed = mix64(r->cfg->seed ^ mix64((uint64_t)k + 1));
    t->status = LUX_TRIAL_PENDING;
    int rc = lux_config_trial_config(r->cfg, k, &t->config);
    if (rc == 0)
        rc = lux_scheduler_on_trial_add(r->sched, k, t->config);
    if (rc != 0) {
        snprintf(err, errlen, "cannot create trial %d: %s", k, lux_strerror(rc));
        trial_free(t);
        return rc;
    }
    char *config_text = json_dumps(t->config, JSON_COMPACT | JSON_SORT_KEYS);
    if (r->resources_text == NULL)
        r->resources_text = resources_json(r);
    lux_store_trial_t st = {
        .trial_id = t->id,
        .config_json = config_text,
        .resources_json = r->resources_text,
        .seed = t->seed,
        .status = LUX_TRIAL_PENDING,
    };
    rc = config_text != NULL ? lux_store_trial_add(r->store, &st) : LUX_ENOMEM;
    free(config_text);
    if (rc == 0)
        rc = lux_store_counter_put(r->store, "trials_created", k + 1);
    if (rc == 0)
        rc = live_add(r, t);
    if (rc == 0 && (rc = push_waiting(r, k)) != 0)
        r->nlive--; /* k is the largest: it was added last */
    if (rc != 0) {
        snprintf(err, errlen, "cannot record trial %s: %s", t->id, lux_store_errmsg(r->store));
        trial_free(t);
        return rc;
    }
    r->ncreated++;
    r->sched_dirty = 1;
    return 0;
}

static int trial_store_update(runner_t *r, trial_t *t)
{
    char *last = t->last_result ? json_dumps(t->last_result, JSON_COMPACT) : NULL;
    const json_t *lineage = lux_scheduler_trial_lineage(r->sched, t->k);
    char *lin = lineage && json_array_size(lineage) ? json_dumps(lineage, JSON_COMPACT) : NULL;
    if (r->resources_text == NULL)
        r->resources_text = resources_json(r);
    lux_store_trial_t st = {
        .trial_id = t->id,
        .resources_json = r->resources_text,
        .seed = t->seed,
        .status = t->status,
        .error = t->error,
        .num_failures = t->num_failures,
        .training_iteration = t->stored_iter,
        .time_total_s = t->time_total,
        .start_time = t->start_time,
        .end_time = t->end_time,
        .last_result_json = last,
        .has_best = t->has_best,
        .best_metric = t->best_metric,
        .best_iteration = t->best_iteration,
        .parent_trial_id = t->parent,
        .lineage_json = lin,
        .restore_checkpoint = t->restore ? t->restore : t->latest_ckpt,
    };
    int rc = lux_store_trial_update(r->store, &st);
    free(last);
    free(lin);
    t->dirty = 0;
    return rc;
}

/* ---- store batches ----------------------------------------------------------- */

static int ensure_tx(runner_t *r)
{
    if (r->in_tx)
        return 0;
    int rc = lux_store_begin(r->store);
    if (rc == 0)
        r->in_tx = 1;
    return rc;
}

/* Appends the scheduler's new journal entries (in the batch). */
static int save_journal(runner_t *r)
{
    json_t *entries = lux_scheduler_take_journal(r->sched);
    if (entries == NULL)
        return LUX_ENOMEM;
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        char *text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = text ? lux_store_journal_add(r->store, "scheduler", text) : LUX_ENOMEM;
        free(text);
        if (rc != 0)
            break;
    }
    json_decref(entries);
    return rc;
}

/* Writes dirty trials and the scheduler state, then commits. */
static int commit_batch(runner_t *r)
{
    int rc = ensure_tx(r);
    for (size_t i = 0; rc == 0 && i < r->nlive; i++)
        if (r->live[i]->dirty)
            rc = trial_store_update(r, r->live[i]);
    for (size_t i = 0; rc == 0 && i < r->nretired; i++)
        if (r->retired[i]->dirty)
            rc = trial_store_update(r, r->retired[i]);
    if (rc == 0)
        rc = save_journal(r);
    if (rc == 0 && r->sched_dirty) {
        json_t *state = lux_scheduler_state(r->sched);
        char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
        json_decref(state);
        rc = text ? lux_store_state_put(r->store, "scheduler", text) : LUX_ENOMEM;
        free(text);
        r->sched_dirty = 0;
    }
    if (rc == 0)
        rc = lux_store_counter_put(r->store, "elapsed_ms", (int64_t)(elapsed(r) * 1000));
    if (rc == 0)
        rc = lux_store_counter_put(r->store, "budget_start_ms", (int64_t)(r->budget_start * 1000));
    if (rc == 0)
        rc = lux_store_commit(r->store);
    else
        lux_store_rollback(r->store);
    r->in_tx = 0;
    r->pending_rows = 0;
    r->last_commit = lux_clock_monotonic_s();
    if (rc != 0) {
        lux_log_error("writing the experiment store failed: %s", lux_store_errmsg(r->store));
        return rc;
    }
    /* Only now that the newer checkpoints are committed may older ones go:
     * a crash before this point leaves the store naming files that exist. */
    for (size_t i = 0; i < r->nlive + r->nretired; i++) {
        trial_t *t = i < r->nlive ? r->live[i] : r->retired[i - r->nlive];
        if (!t->retain_due)
            continue;
        t->retain_due = 0;
        lux_checkpoint_retention_t pol = {
            .num_to_keep = r->cfg->checkpoint.num_to_keep,
            .score_attribute = r->cfg->checkpoint.score_attribute,
            .score_mode = r->cfg->checkpoint.score_order == LUX_MODE_MIN ? "min" : "max",
        };
        char err[1024];
        if (lux_checkpoint_retain(r->store, t->id, &pol, NULL, err, sizeof err) != 0)
            lux_log_warn("checkpoint retention for %s: %s", t->id, err);
    }
    for (size_t i = 0; i < r->nretired; i++)
        trial_free(r->retired[i]);
    r->nretired = 0;
    return 0;
}

static int record_decisions(runner_t *r, json_t *decisions);

/* ---- a full disk --------------------------------------------------------------- */

/* A write (checkpoint, store, journal) found no space. No trial fails for
 * it: the loop halts (run_loop() checks the flag after each event; lux_run
 * puts the message in its outcome, which the command prints),
 * halt_out_of_space() drops the uncommitted batch and the trials' hosts,
 * and the store stays at its last commit, which --resume continues from as
 * after a crash. The first message wins: later writes fail for the same
 * reason. */
static void out_of_space(runner_t *r, const char *message)
{
    if (r->out_of_space)
        return;
    r->out_of_space = 1;
    r->stopping = 1;
    snprintf(r->space_msg, sizeof r->space_msg, "%s", message);
}

/* After out_of_space(): rolls back the batch (a write in it failed, so it
 * must not commit in part), then ends every trial's host without saving
 * (there is no space to save; the committed checkpoints are what a resume
 * restarts from). Trial rows keep their committed status (RUNNING, PAUSED,
 * PENDING), which a resume restarts. */
static void halt_out_of_space(runner_t *r)
{
    if (r->in_tx)
        lux_store_rollback(r->store);
    r->in_tx = 0;
    for (size_t i = 0; i < r->nlive; i++) {
        trial_t *t = r->live[i];
        if (t->exec != NULL) {
            lux_exec_trial_end(r->ex, &t->exec, 0);
            r->nrunning--;
        }
    }
}

/* ---- starting and ending trials ---------------------------------------------- */

static void trial_fail(runner_t *r, trial_t *t, const char *message, int retry_allowed,
                       lux_failure_kind_t kind);

static long iteration_of(const char *relpath)
{
    const char *p = strrchr(relpath, '_');
    return p ? strtol(p + 1, NULL, 10) : 0;
}

/* time_total_s recorded in a checkpoint's metadata (0 when absent). */
static double checkpoint_time_total(const runner_t *r, const char *relpath)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s/%s", r->dir, relpath, LUX_CHECKPOINT_META_NAME);
    json_error_t jerr;
    json_t *meta = json_load_file(path, 0, &jerr);
    double v = json_number_value(json_object_get(meta, "time_total_s"));
    json_decref(meta);
    return v;
}

/* How many steps a trial's host may run in one call. More than one only
 * where that cannot change what is stored or decided: never under PBT (its
 * pauses and checkpoints need the exact state) nor with checkpoint at_end,
 * and never past the next checkpoint or a training_iteration stop. Results
 * computed past a STOP or completion are dropped, which is safe exactly
 * because no state is saved after them. */
static long batch_size(const runner_t *r, const trial_t *t)
{
    if (r->cfg->scheduler.type == LUX_SCHEDULER_PBT || r->cfg->checkpoint.at_end || r->stopping)
        return 1;
    long n = 256;
    long f = r->cfg->checkpoint.frequency;
    if (f > 0 && f - t->iteration % f < n)
        n = f - t->iteration % f;
    const json_t *ti = json_object_get(r->cfg->stop, "training_iteration");
    if (json_is_number(ti) && (long)ceil(json_number_value(ti)) - t->iteration < n)
        n = (long)ceil(json_number_value(ti)) - t->iteration;
    return n < 1 ? 1 : n;
}

static int trial_start(runner_t *r, trial_t *t)
{
    char err[ERR_LEN] = "";
    void *bytes = NULL;
    size_t len = 0;
    remove_waiting(r, t->k);
    if (t->restore != NULL) {
        int rc = lux_checkpoint_read(r->dir, t->restore, &bytes, &len, err, sizeof err);
        if (rc != 0) {
            lux_log_warn("trial %s: %s; restarting it from the beginning", t->id, err);
            set_str(&t->restore, NULL);
        }
    }
    if (t->restore != NULL) {
        long c = iteration_of(t->restore);
        if (t->stored_iter > t->replay_until)
            t->replay_until = t->stored_iter;
        t->iteration = c > t->iteration || t->parent == NULL ? c : t->iteration;
        if (t->parent == NULL)
            t->time_total = checkpoint_time_total(r, t->restore);
    } else if (t->iteration > 0) {
        /* No checkpoint: start over and recompute what was stored. */
        if (t->stored_iter > t->replay_until)
            t->replay_until = t->stored_iter;
        t->iteration = 0;
        t->time_total = 0;
    }
    lux_exec_trial_spec_t spec = {
        .trial_id = t->id,
        .trainable = r->trainable,
        .config = t->config,
        .seed = t->seed,
        .bundles = r->bundles,
        .num_bundles = r->nbundles,
        .strategy = r->cfg->resources.strategy,
        .restore = bytes,
        .restore_len = len,
    };
    int rc = lux_exec_trial_start(r->ex, &spec, t, &t->exec, err, sizeof err);
    lux_free(bytes);
    if (rc != 0) {
        trial_fail(r, t, err, 0, LUX_FAILURE_INFRASTRUCTURE);
        return 0;
    }
    r->nrunning++;
    /* The checkpoint is consumed: from now on the store names the newest. */
    set_str(&t->restore, NULL);
    rc = lux_exec_trial_step(t->exec, batch_size(r, t));
    if (rc != 0) {
        snprintf(err, sizeof err, "cannot call trial %s: %s", t->id, lux_strerror(rc));
        trial_fail(r, t, err, 1, LUX_FAILURE_INFRASTRUCTURE);
        return 0;
    }
    t->status = LUX_TRIAL_RUNNING;
    if (t->start_time == 0)
        t->start_time = lux_clock_wall_s();
    t->dirty = 1;
    t->want_save = 0;
    t->after_save = AFTER_STEP;
    lux_scheduler_on_trial_start(r->sched, t->k);
    r->sched_dirty = 1;
    lux_console_event(r->console, 1, "%s started%s", t->id, t->restore ? " from a checkpoint" : "");
    return 0;
}

/* A trial that finished leaves memory: its row is written now (with its
 * lineage, which the scheduler forgets once told the trial ended), it is
 * counted and offered to the console's lists, and the object itself is
 * freed after the batch commits (callers still use it until then, and
 * checkpoint retention runs after the commit). */
static void retire(runner_t *r, trial_t *t)
{
    size_t i = live_index(r, t->k);
    if (i >= r->nlive || r->live[i] != t)
        return;
    if (grow_ptrs(&r->retired, &r->capretired, r->nretired + 1) != 0) {
        lux_log_error("out of memory retiring trial %s", t->id);
        return; /* it stays live (and in memory) */
    }
    memmove(&r->live[i], &r->live[i + 1], (r->nlive - i - 1) * sizeof *r->live);
    r->nlive--;
    r->retired[r->nretired++] = t;
    int rc = ensure_tx(r);
    if (rc == 0)
        rc = trial_store_update(r, t);
    if (rc == LUX_ENOSPC)
        out_of_space(r, lux_store_errmsg(r->store));
    else if (rc != 0)
        lux_log_error("cannot record trial %s: %s", t->id, lux_store_errmsg(r->store));
    if (t->status == LUX_TRIAL_ERROR)
        r->num_errors++;
    else
        r->num_terminated++;
    lux_console_row_t row = {
        .trial_id = t->id,
        .status = t->status,
        .iteration = t->stored_iter,
        .time_total_s = t->time_total,
        .has_metric = t->has_metric,
        .metric = t->last_metric,
        .has_best = t->has_best,
        .best = t->best_metric,
        .error = t->error,
    };
    done_offer(r, &row, t->k);
    json_decref(t->last_result);
    t->last_result = NULL;
    json_decref(t->config);
    t->config = NULL;
}

/* Ends the trial's host and gives the trial its new status. */
static void trial_end(runner_t *r, trial_t *t, lux_trial_status_t status, int reuse)
{
    if (t->exec != NULL) {
        lux_exec_trial_end(r->ex, &t->exec, reuse);
        r->nrunning--;
    }
    t->status = status;
    t->dirty = 1;
    if (status == LUX_TRIAL_TERMINATED || status == LUX_TRIAL_ERROR) {
        t->end_time = lux_clock_wall_s();
        retire(r, t);
    }
    if (status == LUX_TRIAL_PENDING || status == LUX_TRIAL_PAUSED)
        push_waiting(r, t->k);
}

static void trial_fail(runner_t *r, trial_t *t, const char *message, int retry_allowed,
                       lux_failure_kind_t kind)
{
    t->num_failures++;
    set_str(&t->error, message);
    int retry = retry_allowed && !r->stopping &&
                (r->cfg->max_failures < 0 || t->num_failures <= r->cfg->max_failures);
    if (retry) {
        set_str(&t->restore, t->latest_ckpt);
        lux_log_warn("trial %s failed (%ld of %ld allowed), restarting from %s: %s", t->id,
                     t->num_failures, r->cfg->max_failures,
                     t->latest_ckpt ? t->latest_ckpt : "the beginning", message);
        trial_end(r, t, LUX_TRIAL_PENDING, 0);
        lux_store_decision_add(r->store, "runner", t->id, "restart", NULL);
    } else {
        lux_log_error("trial %s ended in ERROR (%s): %s", t->id, lux_failure_kind_name(kind),
                      message);
        /* Why, in the batch that ends the trial: --resume restarts it when
         * it was not its trainable's fault (or with --retry-errored). */
        if (ensure_tx(r) != 0 ||
            lux_store_trial_failure_put(r->store, t->id, lux_failure_kind_name(kind)) != 0)
            lux_log_error("cannot record why trial %s failed: %s", t->id,
                          lux_store_errmsg(r->store));
        trial_end(r, t, LUX_TRIAL_ERROR, 0);
        lux_scheduler_on_trial_error(r->sched, t->k);
        r->sched_dirty = 1;
    }
    lux_console_event(r->console, 0, "%s failed: %s", t->id, message);
}

/* What to do once the trial has no request in flight. */
static void trial_next(runner_t *r, trial_t *t, after_save_t what)
{
    int save = t->want_save;
    if (what == AFTER_COMPLETE || what == AFTER_STOP)
        save = save || r->cfg->checkpoint.at_end;
    if (what == AFTER_PAUSE || what == AFTER_INTERRUPT)
        save = 1;
    if (save && t->latest_iter == t->iteration && t->latest_ckpt != NULL)
        save = 0; /* already saved at this iteration */
    if (save) {
        t->after_save = what;
        t->want_save = 0;
        int rc = lux_exec_trial_save(t->exec);
        if (rc == 0)
            return;
        char msg[256];
        snprintf(msg, sizeof msg, "cannot ask trial %s for a checkpoint: %s", t->id,
                 lux_strerror(rc));
        trial_fail(r, t, msg, 1, LUX_FAILURE_INFRASTRUCTURE);
        return;
    }
    switch (what) {
    case AFTER_STEP: {
        int rc = lux_exec_trial_step(t->exec, batch_size(r, t));
        if (rc != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "cannot call trial %s: %s", t->id, lux_strerror(rc));
            trial_fail(r, t, msg, 1, LUX_FAILURE_INFRASTRUCTURE);
        }
        break;
    }
    case AFTER_PAUSE:
    case AFTER_INTERRUPT:
        set_str(&t->restore, t->latest_ckpt);
        trial_end(r, t, LUX_TRIAL_PAUSED, 1);
        break;
    case AFTER_STOP:
        trial_end(r, t, LUX_TRIAL_TERMINATED, 1);
        lux_scheduler_on_trial_remove(r->sched, t->k);
        r->sched_dirty = 1;
        break;
    case AFTER_COMPLETE:
        trial_end(r, t, LUX_TRIAL_TERMINATED, 1);
        lux_scheduler_on_trial_complete(r->sched, t->k, NULL);
        r->sched_dirty = 1;
        break;
    }
}

/* ---- events ---------------------------------------------------------------- */

static double metric_value(const runner_t *r, const json_t *result, int *ok)
{
    *ok = 0;
    if (r->cfg->metric == NULL)
        return 0;
    const json_t *v = lux_stopper_lookup(result, r->cfg->metric);
    if (v == NULL || !json_is_number(v))
        return 0;
    double x = json_number_value(v);
    if (!isfinite(x))
        return 0;
    *ok = 1;
    return x;
}

/* The last stored result, recomputed after a restart: if it met a stop
 * criterion, or the scheduler had answered STOP to it, the driver died
 * while the trial was saving its final checkpoint, and the trial ends now
 * (saving that checkpoint first where it is due) instead of training on. */
static after_save_t replay_end(runner_t *r, trial_t *t, json_t *result, double dt)
{
    lux_trainable_autofill(result, t->iteration, dt, t->time_total, t->id);
    long f = r->cfg->checkpoint.frequency;
    if (f > 0 && t->iteration % f == 0)
        t->want_save = 1;
    bool stop = false;
    char why[256];
    if (lux_stopper_check_result(r->stopper, result, &stop, why, sizeof why) != 0)
        stop = false; /* the stored run did not fail on it */
    if (stop || json_is_true(json_object_get(result, "done"))) {
        lux_console_event(r->console, 1, "%s completed (its stored results meet the stop)", t->id);
        return AFTER_COMPLETE;
    }
    if (t->stopped)
        return AFTER_STOP;
    return AFTER_STEP;
}

/* Handles one result (owned). `last` says whether it is the last of its
 * batch: only then does the trial get its next request. Returns 1 when the
 * trial goes on and the batch's next result may be handled, 0 when the
 * trial's turn ended here (stopped, completed, failed, paused, or the batch
 * is over). */
static int on_step(runner_t *r, trial_t *t, json_t *result, const char *text, size_t len, int last)
{
    double dt = json_number_value(json_object_get(result, "time_this_iter_s"));
    t->iteration++;
    t->time_total += dt;
    if (t->iteration <= t->replay_until) {
        /* Recomputing results stored before a restart. What was decided on
         * them stands; the last one may have ended the trial. */
        after_save_t what =
            t->iteration == t->replay_until ? replay_end(r, t, result, dt) : AFTER_STEP;
        json_decref(result);
        if (what == AFTER_STEP && !last)
            return 1;
        trial_next(r, t, what);
        return 0;
    }
    /* The row's text is the trial host's text plus the automatic keys, so
     * the driver does not format every number of every result again. */
    char *row = NULL;
    int rc = lux_trainable_autofill_text(result, text, len, t->iteration, dt, t->time_total, t->id,
                                         &row);
    if (rc == 0)
        rc = ensure_tx(r);
    if (rc == 0)
        rc = row != NULL ? lux_store_result_add(r->store, t->id, t->iteration, t->time_total, row)
                         : lux_store_result_add_json(r->store, t->id, result);
    free(row);
    if (rc == LUX_ENOSPC) {
        out_of_space(r, lux_store_errmsg(r->store));
        json_decref(result);
        return 0;
    }
    if (rc != 0) {
        lux_log_error("cannot store a result of %s: %s", t->id, lux_store_errmsg(r->store));
        json_decref(result);
        r->stopping = 1;
        return 0;
    }
    r->pending_rows++;
    r->num_results++;
    t->stored_iter = t->iteration;
    json_decref(t->last_result);
    t->last_result = result;
    t->dirty = 1;
    int ok;
    double m = metric_value(r, result, &ok);
    if (ok) {
        t->has_metric = 1;
        t->last_metric = m;
        double sign = r->cfg->mode == LUX_MODE_MIN ? -1 : 1;
        if (!t->has_best || sign * m > sign * t->best_metric) {
            t->has_best = 1;
            t->best_metric = m;
            t->best_iteration = t->iteration;
        }
    }
    if (r->opts->verbosity >= 2)
        lux_console_event(r->console, 2, "%s iter %ld: %s=%g", t->id, t->iteration,
                          r->cfg->metric ? r->cfg->metric : "-", ok ? m : NAN);

    bool stop = false;
    char why[1024] = "";
    rc = lux_stopper_check_result(r->stopper, result, &stop, why, sizeof why);
    if (rc != 0) {
        trial_fail(r, t, why, 0, LUX_FAILURE_TRAINABLE);
        return 0;
    }
    if (json_is_true(json_object_get(result, "done"))) {
        stop = true;
        snprintf(why, sizeof why, "done");
    }
    if (r->cfg->checkpoint.frequency > 0 && t->iteration % r->cfg->checkpoint.frequency == 0)
        t->want_save = 1;
    if (stop) {
        lux_store_decision_add(r->store, "stopper", t->id, "complete", NULL);
        lux_console_event(r->console, 1, "%s completed (%s)", t->id, why);
        trial_next(r, t, AFTER_COMPLETE);
        return 0;
    }
    lux_sched_action_t action = LUX_SCHED_CONTINUE;
    char err[1024] = "";
    rc = lux_scheduler_on_trial_result(r->sched, t->k, result, &action, err, sizeof err);
    r->sched_dirty = 1;
    json_t *decisions = lux_scheduler_take_decisions(r->sched);
    if (rc != 0) {
        json_decref(decisions);
        trial_fail(r, t, err, 0, LUX_FAILURE_TRAINABLE);
        return 0;
    }
    if (record_decisions(r, decisions) != 0)
        return 0; /* the trial was handled by an exploit */
    if (t->exec == NULL)
        return 0;
    switch (action) {
    case LUX_SCHED_CONTINUE:
        /* Inside a batch the next result is already computed; the batch's
         * last result decides the next request (a checkpoint boundary is
         * always a batch's end). */
        if (!last)
            return 1;
        trial_next(r, t, r->stopping ? AFTER_INTERRUPT : AFTER_STEP);
        break;
    case LUX_SCHED_PAUSE:
        trial_next(r, t, AFTER_PAUSE);
        break;
    case LUX_SCHED_STOP:
        trial_next(r, t, AFTER_STOP);
        break;
    }
    return 0;
}

/* Copies the donor's checkpoint into the target's trial directory, so that
 * retention of the donor's checkpoints can never take it away. */
static int clone_checkpoint(runner_t *r, trial_t *target, const char *donor_path, char **out,
                            char *err, size_t errlen)
{
    void *bytes = NULL;
    size_t len = 0;
    int rc = lux_checkpoint_read(r->dir, donor_path, &bytes, &len, err, errlen);
    if (rc != 0)
        return rc;
    char meta[512];
    snprintf(meta, sizeof meta, "{\"time_total_s\": %.17g, \"cloned_from\": \"%s\"}",
             target->time_total, donor_path);
    rc = lux_checkpoint_write(r->dir, target->id, target->iteration, bytes, len, meta, out, err,
                              errlen);
    if (rc == 0)
        rc = lux_store_checkpoint_add(r->store, target->id, target->iteration, *out, 0, 0,
                                      (long)len);
    lux_free(bytes);
    return rc;
}

/* Stores the scheduler's decisions and carries out the ones that ask for
 * action. Returns 1 when an exploit ended the current trial's turn. */
static int record_decisions(runner_t *r, json_t *decisions)
{
    int handled = 0;
    size_t i;
    json_t *d;
    json_array_foreach(decisions, i, d)
    {
        const char *kind = json_string_value(json_object_get(d, "decision"));
        int k = (int)json_integer_value(json_object_get(d, "trial"));
        trial_t *t = find_trial(r, k);
        char *detail = json_dumps(d, JSON_COMPACT);
        char id[128];
        trial_id_of(r, k, id, sizeof id);
        ensure_tx(r);
        lux_store_decision_add(r->store, "scheduler", k >= 0 ? id : NULL, kind ? kind : "?",
                               detail);
        free(detail);
        const char *msg = json_string_value(json_object_get(d, "message"));
        if (kind == NULL || t == NULL)
            continue;
        if (strcmp(kind, "stop") == 0 || strcmp(kind, "exploit") == 0)
            lux_console_event(r->console, 1, "%s", msg ? msg : kind);
        if (strcmp(kind, "checkpoint") == 0) {
            t->want_save = 1;
        } else if (strcmp(kind, "exploit") == 0) {
            const char *donor_path = json_string_value(json_object_get(d, "donor_checkpoint"));
            int donor = (int)json_integer_value(json_object_get(d, "donor"));
            const json_t *new_config = json_object_get(d, "new_config");
            char err[ERR_LEN] = "";
            char *copy = NULL;
            int crc = donor_path == NULL || new_config == NULL
                          ? LUX_EINVAL
                          : clone_checkpoint(r, t, donor_path, &copy, err, sizeof err);
            if (crc == LUX_ENOSPC) {
                out_of_space(r, err[0] != '\0' ? err : lux_store_errmsg(r->store));
                continue;
            }
            if (crc != 0) {
                lux_log_warn("PBT exploit into %s skipped: %s", t->id,
                             err[0] ? err : "the decision lacks a checkpoint or a config");
                continue;
            }
            json_decref(t->config);
            t->config = json_deep_copy(new_config);
            set_str(&t->latest_ckpt, copy);
            t->latest_iter = t->iteration;
            t->latest_time = t->time_total;
            set_str(&t->restore, copy);
            if (donor >= 0) {
                char donor_id[128];
                trial_id_of(r, donor, donor_id, sizeof donor_id);
                set_str(&t->parent, donor_id);
            }
            lux_free(copy);
            t->dirty = 1;
            /* The trial was told PAUSE: it restarts later from the copy with
             * the new config. */
            if (t->exec != NULL && !lux_exec_trial_busy(t->exec)) {
                t->want_save = 0;
                trial_end(r, t, LUX_TRIAL_PAUSED, 1);
                handled = 1;
            }
        }
    }
    json_decref(decisions);
    return handled;
}

static void on_save(runner_t *r, trial_t *t, lux_exec_event_t *ev)
{
    char err[ERR_LEN] = "";
    char meta[128];
    snprintf(meta, sizeof meta, "{\"time_total_s\": %.17g}", t->time_total);
    char *rel = NULL;
    int rc = lux_checkpoint_write(r->dir, t->id, t->iteration, ev->bytes, ev->len, meta, &rel, err,
                                  sizeof err);
    if (rc == LUX_ENOSPC) {
        out_of_space(r, err); /* not the trial's fault: the run halts, the trial resumes */
        return;
    }
    if (rc != 0) { /* the disk, not the trainable */
        trial_fail(r, t, err, 1, LUX_FAILURE_INFRASTRUCTURE);
        return;
    }
    int has_score = 0;
    double score = 0;
    const char *attr = r->cfg->checkpoint.score_attribute;
    if (attr != NULL && t->last_result != NULL) {
        const json_t *v = lux_stopper_lookup(t->last_result, attr);
        if (v != NULL && json_is_number(v)) {
            has_score = 1;
            score = json_number_value(v);
        }
    }
    ensure_tx(r);
    rc = lux_store_checkpoint_add(r->store, t->id, t->iteration, rel, has_score, score,
                                  (long)ev->len);
    if (rc == 0) {
        set_str(&t->latest_ckpt, rel);
        t->latest_iter = t->iteration;
        t->latest_time = t->time_total;
        t->dirty = 1;
        double time_attr = t->iteration;
        if (t->last_result != NULL && r->cfg->scheduler.time_attr != NULL) {
            const json_t *v = lux_stopper_lookup(t->last_result, r->cfg->scheduler.time_attr);
            if (v != NULL && json_is_number(v))
                time_attr = json_number_value(v);
        }
        lux_scheduler_on_checkpoint(r->sched, t->k, time_attr, rel);
        r->sched_dirty = 1;
        t->retain_due = r->cfg->checkpoint.num_to_keep > 0;
    } else if (rc == LUX_ENOSPC) {
        out_of_space(r, lux_store_errmsg(r->store));
        lux_free(rel);
        return;
    } else {
        lux_log_error("cannot record checkpoint %s: %s", rel, lux_store_errmsg(r->store));
    }
    lux_free(rel);
    trial_next(r, t, t->after_save);
}

static void on_event(runner_t *r, lux_exec_event_t *ev)
{
    trial_t *t = ev->user;
    if (r->out_of_space)
        return; /* the batch is dropped; the trial resumes from its checkpoint */
    if (ev->error != 0) {
        trial_fail(r, t, ev->message ? ev->message : lux_strerror(ev->error), 1, ev->failure);
        return;
    }
    if (ev->op == LUX_EXEC_STEP) {
        size_t n = json_array_size(ev->results);
        for (size_t i = 0; i < n; i++)
            if (!on_step(r, t, json_incref(json_array_get(ev->results, i)), ev->texts[i].ptr,
                         ev->texts[i].len, i + 1 == n))
                break; /* the rest were computed past the trial's end */
    } else {
        on_save(r, t, ev);
    }
}

/* ---- the loop ------------------------------------------------------------------ */

static int start_waiting_trials(runner_t *r)
{
    char err[ERR_LEN];
    /* PBT's population exists from the start (Ray creates it PENDING): a
     * trial created only when a slot frees would never meet the others at a
     * perturbation point, so with fewer slots than trials nothing would ever
     * pause, time-share or exploit. */
    while (!r->stopping && r->cfg->scheduler.type == LUX_SCHEDULER_PBT &&
           (long)r->ncreated < r->total_trials) {
        int rc = ensure_tx(r);
        if (rc == 0)
            rc = trial_create(r, err, sizeof err);
        if (rc != 0) {
            lux_log_error("%s", err);
            return rc;
        }
    }
    while (!r->stopping && (long)r->nrunning < r->max_running) {
        /* Offer the scheduler one new trial besides those already waiting. */
        int has_pending = 0;
        for (size_t i = 0; i < r->nwaiting; i++) {
            const trial_t *w = find_trial(r, r->waiting[i]);
            if (w != NULL && w->status == LUX_TRIAL_PENDING)
                has_pending = 1;
        }
        if (!has_pending && (long)r->ncreated < r->total_trials) {
            /* In the batch: the trial row and the scheduler state that knows
             * it must commit together. */
            int rc = ensure_tx(r);
            if (rc == 0)
                rc = trial_create(r, err, sizeof err);
            if (rc != 0) {
                lux_log_error("%s", err);
                return rc;
            }
        }
        if (r->nwaiting == 0)
            return 0;
        lux_trial_status_t *st = lux_malloc(r->nwaiting * sizeof *st);
        if (st == NULL)
            return LUX_ENOMEM;
        for (size_t i = 0; i < r->nwaiting; i++) {
            const trial_t *w = find_trial(r, r->waiting[i]);
            st[i] = w != NULL ? w->status : LUX_TRIAL_TERMINATED; /* never chosen */
        }
        int chosen = -1;
        lux_scheduler_choose_trial_to_run(r->sched, r->waiting, st, r->nwaiting, &chosen);
        lux_free(st);
        if (chosen < 0)
            return 0;
        trial_t *t = find_trial(r, chosen);
        if (t == NULL)
            return 0;
        ensure_tx(r);
        trial_start(r, t);
    }
    return 0;
}

static int all_done(const runner_t *r)
{
    if (r->nrunning > 0)
        return 0;
    if (r->stopping)
        return 1;
    return r->nwaiting == 0 && (long)r->ncreated >= r->total_trials;
}

/* Stops everything for a time budget or an interrupt: running trials are
 * checkpointed and PAUSED (busy ones once their request finishes), so that
 * --resume continues them; no trial starts any more. */
static void begin_stopping(runner_t *r, int interrupt)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    r->interrupted = interrupt;
    size_t n;
    trial_t **snap = live_snapshot(r, &n);
    for (size_t i = 0; i < n; i++) {
        trial_t *t = snap[i];
        if (t->exec == NULL || lux_exec_trial_busy(t->exec))
            continue; /* busy ones finish their request first */
        trial_next(r, t, AFTER_INTERRUPT);
    }
    lux_free(snap);
}

/* The stored config of a trial, for console rows of finished trials. */
static json_t *fetch_config(void *user, const char *trial_id)
{
    runner_t *r = user;
    json_t *row = NULL, *cfg = NULL;
    if (lux_store_trial_get(r->store, trial_id, &row) == 0)
        cfg = json_incref(json_object_get(row, "config"));
    json_decref(row);
    return cfg;
}

static void fill_console(runner_t *r, lux_console_view_t *v)
{
    long counts[LUX_TRIAL_STATUS_COUNT] = {0};
    for (size_t i = 0; i < r->nlive; i++)
        counts[r->live[i]->status]++;
    counts[LUX_TRIAL_PENDING] += r->total_trials - (long)r->ncreated;
    counts[LUX_TRIAL_TERMINATED] += r->num_terminated;
    counts[LUX_TRIAL_ERROR] += r->num_errors;
    memcpy(v->counts, counts, sizeof counts);
    v->name = r->cfg->name;
    v->dir = r->dir;
    v->metric = r->cfg->metric;
    v->mode = r->cfg->mode;
    v->elapsed_s = elapsed(r);
    double cpus, gpus;
    lux_executor_capacity(r->ex, &cpus, &gpus);
    v->cpus_total = cpus;
    v->gpus_total = gpus;
    double per_cpu = 0, per_gpu = 0;
    for (size_t i = 0; i < r->nbundles; i++) {
        per_cpu += r->bundles[i].cpu;
        per_gpu += r->bundles[i].gpu;
    }
    v->cpus_used = per_cpu * (double)r->nrunning;
    v->gpus_used = per_gpu * (double)r->nrunning;
    v->space = r->cfg->space;
    v->fetch_config = fetch_config;
    v->fetch_user = r;
    v->num_results = r->num_results;
    /* Live trials, then the best finished and the latest failed ones: all
     * the console can show, however many trials have finished. */
    size_t cap = r->nlive + r->nbest_done + r->nerrors;
    v->rows = lux_calloc(cap ? cap : 1, sizeof *v->rows);
    v->nrows = 0;
    for (size_t i = 0; v->rows && i < r->nlive; i++) {
        trial_t *t = r->live[i];
        lux_console_row_t *row = &v->rows[v->nrows++];
        row->trial_id = t->id;
        row->status = t->status;
        row->config = t->config;
        row->iteration = t->stored_iter;
        row->time_total_s = t->time_total;
        row->has_metric = t->has_metric;
        row->metric = t->last_metric;
        row->has_best = t->has_best;
        row->best = t->best_metric;
        row->error = t->error;
    }
    for (size_t i = 0; v->rows && i < r->nbest_done; i++)
        v->rows[v->nrows++] = r->best_done[i].row;
    for (size_t i = 0; v->rows && i < r->nerrors; i++)
        v->rows[v->nrows++] = r->errors[i].row;
}

static void refresh_console(runner_t *r, int final)
{
    if (!final && !lux_console_due(r->console))
        return;
    lux_console_view_t v = {0};
    json_t *stats = lux_scheduler_stats(r->sched);
    fill_console(r, &v);
    v.scheduler_stats = stats;
    lux_console_show(r->console, &v, final);
    json_decref(stats);
    lux_free(v.rows);
}

static int run_loop(runner_t *r)
{
    lux_exec_event_t events[MAX_EVENTS];
    int rc = 0;
    while (!all_done(r)) {
        if (stop_requested && !r->stopping) {
            lux_console_event(r->console, 0,
                              "%s: checkpointing running trials and stopping "
                              "(press Ctrl-C again to stop at once)",
                              stop_signal == SIGTERM ? "SIGTERM" : "interrupted");
            begin_stopping(r, 1);
        }
        if (!r->stopping &&
            lux_stopper_budget_exhausted(r->stopper, elapsed(r) - r->budget_start)) {
            lux_console_event(r->console, 0, "time budget of %g s used up; stopping",
                              lux_stopper_time_budget(r->stopper));
            begin_stopping(r, 0);
            r->budget_used_up = 1;
        }
        rc = start_waiting_trials(r);
        if (rc == 0 && r->out_of_space)
            rc = LUX_ENOSPC;
        if (rc != 0)
            break;
        if (all_done(r))
            break;
        size_t n = 0;
        double timeout = lux_console_wait_hint(r->console);
        if (r->in_tx) {
            double left = COMMIT_EVERY_S - (lux_clock_monotonic_s() - r->last_commit);
            if (left < timeout)
                timeout = left > 0 ? left : 0;
        }
        rc = lux_executor_wait(r->ex, timeout, events, MAX_EVENTS, &n);
        if (rc != 0 && rc != LUX_EINTERRUPTED) {
            lux_log_error("the runtime failed: %s", lux_strerror(rc));
            break;
        }
        rc = 0;
        if (n > 0)
            ensure_tx(r);
        for (size_t i = 0; i < n; i++) {
            on_event(r, &events[i]);
            lux_exec_event_clear(&events[i]);
        }
        if (r->out_of_space) {
            rc = LUX_ENOSPC;
            break;
        }
        if (r->stopping) {
            /* Trials whose request just finished now checkpoint and stop. */
            size_t nsnap;
            trial_t **snap = live_snapshot(r, &nsnap);
            for (size_t i = 0; i < nsnap; i++) {
                trial_t *t = snap[i];
                if (t->exec != NULL && !lux_exec_trial_busy(t->exec))
                    trial_next(r, t, AFTER_INTERRUPT);
            }
            lux_free(snap);
        }
        if (r->in_tx &&
            (lux_clock_monotonic_s() - r->last_commit >= COMMIT_EVERY_S || r->pending_rows > 5000))
            if ((rc = commit_batch(r)) != 0) {
                if (rc == LUX_ENOSPC)
                    out_of_space(r, lux_store_errmsg(r->store));
                break;
            }
        refresh_console(r, 0);
    }
    return rc;
}

/* ---- set-up ------------------------------------------------------------------- */

static char *sanitize_name(const char *name)
{
    char *s = lux_strdup(name && *name ? name : "experiment");
    if (s == NULL)
        return NULL;
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            *p = '_';
    if (s[0] == '.')
        s[0] = '_';
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* One stored trial, for a resume: a live one becomes a trial_t (restarted
 * from its latest checkpoint), a finished one is only counted and offered
 * to the console's lists. */
/* Whether a stored ERROR trial restarts on this resume: when its failure
 * was not its trainable's fault (its worker killed from outside, the node
 * or the disk failed), or with --retry-errored (Ray's resume_errored)
 * whatever failed. A trial failed before failure kinds were recorded
 * counts as the trainable's. */
static int resumes_errored(const runner_t *r, const json_t *row)
{
    if (r->opts->retry_errored)
        return 1;
    const char *id = json_string_value(json_object_get(row, "trial_id"));
    lux_failure_kind_t kind = LUX_FAILURE_TRAINABLE;
    if (id != NULL)
        lux_failure_kind_parse(json_string_value(json_object_get(r->failures, id)), &kind);
    return kind == LUX_FAILURE_INFRASTRUCTURE;
}

static int load_trial(void *arg, const json_t *row)
{
    runner_t *r = arg;
    int k = (int)r->ncreated;
    r->ncreated++;
    lux_trial_status_t status = LUX_TRIAL_PENDING;
    lux_trial_status_parse(json_string_value(json_object_get(row, "status")), &status);
    int errored = status == LUX_TRIAL_ERROR && resumes_errored(r, row);
    if (status == LUX_TRIAL_TERMINATED || (status == LUX_TRIAL_ERROR && !errored)) {
        int ok = 0;
        double m = metric_value(r, json_object_get(row, "last_result"), &ok);
        const json_t *best = json_object_get(row, "best_metric");
        lux_console_row_t cr = {
            .trial_id = json_string_value(json_object_get(row, "trial_id")),
            .status = status,
            .iteration = (long)json_integer_value(json_object_get(row, "training_iteration")),
            .time_total_s = json_number_value(json_object_get(row, "time_total_s")),
            .has_metric = ok,
            .metric = m,
            .has_best = json_is_number(best),
            .best = json_number_value(best),
            .error = json_string_value(json_object_get(row, "error")),
        };
        if (cr.trial_id == NULL)
            return LUX_ESTORE;
        if (status == LUX_TRIAL_ERROR)
            r->num_errors++;
        else
            r->num_terminated++;
        done_offer(r, &cr, k);
        return 0;
    }
    trial_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return LUX_ENOMEM;
    t->k = k;
    snprintf(t->id, sizeof t->id, "%s", json_string_value(json_object_get(row, "trial_id")));
    t->seed = (uint64_t)json_integer_value(json_object_get(row, "seed"));
    lux_trial_status_parse(json_string_value(json_object_get(row, "status")), &t->status);
    t->config = json_incref(json_object_get(row, "config"));
    if (!json_is_object(t->config)) {
        json_decref(t->config);
        lux_config_trial_config(r->cfg, (long)k, &t->config);
    }
    /* The scheduler forgot a failed trial: a PBT trial's config is the
     * last exploit's (its lineage), not the sampled one the row keeps. */
    const json_t *lineage = json_object_get(row, "lineage");
    const json_t *exploited =
        json_object_get(json_array_get(lineage, json_array_size(lineage) - 1), "new_config");
    if (errored && json_is_object(exploited)) {
        json_decref(t->config);
        t->config = json_deep_copy(exploited);
    }
    t->stored_iter = (long)json_integer_value(json_object_get(row, "training_iteration"));
    t->iteration = t->stored_iter;
    t->time_total = json_number_value(json_object_get(row, "time_total_s"));
    t->num_failures = (long)json_integer_value(json_object_get(row, "num_failures"));
    set_str(&t->error, json_string_value(json_object_get(row, "error")));
    set_str(&t->parent, json_string_value(json_object_get(row, "parent_trial_id")));
    t->start_time = json_number_value(json_object_get(row, "start_time"));
    t->end_time = json_number_value(json_object_get(row, "end_time"));
    const json_t *best = json_object_get(row, "best_metric");
    if (json_is_number(best)) {
        t->has_best = 1;
        t->best_metric = json_number_value(best);
        t->best_iteration = (long)json_integer_value(json_object_get(row, "best_iteration"));
    }
    const json_t *last = json_object_get(row, "last_result");
    if (json_is_object(last)) {
        int ok;
        double m = metric_value(r, last, &ok);
        t->has_metric = ok;
        t->last_metric = m;
        if (t->status != LUX_TRIAL_TERMINATED && t->status != LUX_TRIAL_ERROR)
            t->last_result = json_incref((json_t *)last);
    }
    const char *ck = json_string_value(json_object_get(row, "restore_checkpoint"));
    const char *latest = json_string_value(json_object_get(row, "latest_checkpoint"));
    set_str(&t->latest_ckpt, latest ? latest : ck);
    set_str(&t->restore, latest ? latest : ck);
    if (t->latest_ckpt)
        t->latest_iter = iteration_of(t->latest_ckpt);
    if (live_add(r, t) != 0) {
        trial_free(t);
        return LUX_ENOMEM;
    }
    int pbt = r->cfg->scheduler.type == LUX_SCHEDULER_PBT;
    if (errored) {
        /* Restarted from its latest checkpoint like a trial that was
         * running; what it stored stays and is not stored again. */
        t->status = LUX_TRIAL_RUNNING;
        t->errored = 1;
        t->end_time = 0;
    }
    if (t->status == LUX_TRIAL_RUNNING || (t->status == LUX_TRIAL_PAUSED && !pbt)) {
        /* It was running (or paused by an interrupt: FIFO and ASHA never
         * pause) when the driver stopped: it restarts from its checkpoint,
         * before any new trial, as Ray Tune restarts such trials. Under PBT
         * it waits like the trials PBT paused itself, which PBT orders by
         * training time. */
        t->status = pbt ? LUX_TRIAL_PAUSED : LUX_TRIAL_PENDING;
        t->dirty = 1;
    }
    if (t->status == LUX_TRIAL_PENDING || t->status == LUX_TRIAL_PAUSED)
        push_waiting(r, t->k);
    return 0;
}

/* Loads the stored trials for a resume, one row at a time. */
static int load_trials(runner_t *r, char *err, size_t errlen)
{
    int rc = lux_store_trial_failures(r->store, &r->failures);
    if (rc == 0)
        rc = lux_store_trials_each(r->store, load_trial, r);
    json_decref(r->failures);
    r->failures = NULL;
    if (rc != 0) {
        snprintf(err, errlen, "cannot read trials: %s", lux_store_errmsg(r->store));
        return rc;
    }
    /* Each trial restarted from ERROR gets a restart decision, as a restart
     * within a run does, naming the failure it restarts after. */
    for (size_t i = 0; rc == 0 && i < r->nlive; i++) {
        trial_t *t = r->live[i];
        if (!t->errored)
            continue;
        json_t *d = json_pack("{s:s,s:s?}", "after", "resume", "error", t->error);
        char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        rc = lux_store_decision_add(r->store, "runner", t->id, "restart", detail);
        free(detail);
        set_str(&t->error, NULL);
        if (rc != 0)
            snprintf(err, errlen, "cannot record a restart: %s", lux_store_errmsg(r->store));
    }
    return rc;
}

static int prepare_resume(runner_t *r, lux_config_t *now, char *err, size_t errlen)
{
    json_t *exp = NULL;
    int rc = lux_store_experiment_get(r->store, &exp);
    if (rc != 0 || exp == NULL) {
        snprintf(err, errlen, "%s holds no experiment to resume", r->dir);
        json_decref(exp);
        return rc ? rc : LUX_ENOENT;
    }
    /* The store returns the canonical config already parsed. */
    json_t *stored_json = json_incref(json_object_get(exp, "config"));
    if (!json_is_object(stored_json)) {
        json_decref(stored_json);
        stored_json = NULL;
    }
    r->elapsed_prev = 0;
    int budget_ended =
        json_is_string(json_object_get(exp, "status")) &&
        strcmp(json_string_value(json_object_get(exp, "status")), "BUDGET_USED_UP") == 0;
    json_decref(exp);
    if (stored_json == NULL) {
        snprintf(err, errlen, "%s: the stored experiment config is unreadable", r->dir);
        return LUX_ESTORE;
    }
    lux_config_t *stored = NULL;
    rc = lux_config_from_json(stored_json, r->opts->config_opts, &stored, err, errlen);
    json_decref(stored_json);
    if (rc != 0)
        return rc;
    if (now != NULL) {
        rc = lux_config_resume_check(stored, now, err, errlen);
        if (rc != 0) {
            lux_config_destroy(&stored);
            return rc;
        }
        lux_config_destroy(&stored);
        r->cfg = now;
    } else {
        r->cfg = stored;
    }
    int64_t ms = 0;
    if (lux_store_counter_get(r->store, "elapsed_ms", &ms) == 0)
        r->elapsed_prev = (double)ms / 1000.0;
    /* The time budget is the experiment's, so a run killed or interrupted
     * before it was used up resumes with what was left (Ray's TimeoutStopper
     * keeps its remaining budget); a run that ended because it was used up
     * would stop again at once, so its resume gets a new budget. */
    ms = 0;
    if (budget_ended)
        r->budget_start = r->elapsed_prev;
    else if (lux_store_counter_get(r->store, "budget_start_ms", &ms) == 0)
        r->budget_start = (double)ms / 1000.0;
    long removed = 0;
    lux_checkpoint_sweep(r->dir, &removed, NULL, 0);
    return 0;
}

static int setup_scheduler(runner_t *r, int resuming, char *err, size_t errlen)
{
    lux_scheduler_params_t p = r->cfg->scheduler;
    if (p.seed == 0)
        p.seed = r->cfg->seed;
    int rc = lux_scheduler_new(&p, &r->sched, err, errlen);
    if (rc != 0)
        return rc;
    char *state = NULL;
    if (resuming && lux_store_state_get(r->store, "scheduler", &state) == 0 && state != NULL) {
        json_error_t jerr;
        json_t *j = json_loads(state, 0, &jerr), *journal = NULL;
        lux_free(state);
        if (j != NULL && lux_store_journal(r->store, "scheduler", &journal) != 0)
            snprintf(err, errlen, "cannot read the scheduler's journal: %s",
                     lux_store_errmsg(r->store));
        else if (j != NULL)
            rc = lux_scheduler_restore(r->sched, j, journal, err, errlen);
        json_decref(journal);
        if (j == NULL || journal == NULL || rc != 0) {
            json_decref(j);
            if (err[0] == '\0')
                snprintf(err, errlen, "the stored scheduler state is unreadable");
            return LUX_ESTORE;
        }
        json_decref(j);
    }
    /* Live trials the scheduler does not know yet (a fresh start) are
     * announced now; the others get the config the scheduler holds (PBT may
     * have changed it). */
    for (size_t i = 0; i < r->nlive; i++) {
        trial_t *t = r->live[i];
        const json_t *c = lux_scheduler_trial_config(r->sched, t->k);
        lux_trial_status_t st;
        if (lux_scheduler_trial_status(r->sched, t->k, &st) == 0 && st == LUX_TRIAL_TERMINATED)
            t->stopped = 1;
        if (c == NULL) {
            lux_scheduler_on_trial_add(r->sched, t->k, t->config);
        } else {
            json_decref(t->config);
            t->config = json_deep_copy(c);
        }
    }
    return 0;
}

static int setup_resources(runner_t *r, char *err, size_t errlen)
{
    const lux_resources_t *res = &r->cfg->resources;
    r->nbundles = res->num_bundles;
    r->bundles = lux_calloc(r->nbundles, sizeof *r->bundles);
    if (r->bundles == NULL)
        return LUX_ENOMEM;
    double cpu = 0, gpu = 0;
    for (size_t i = 0; i < r->nbundles; i++) {
        r->bundles[i].cpu = res->bundles[i].cpu;
        r->bundles[i].gpu = res->bundles[i].gpu;
        cpu += res->bundles[i].cpu;
        gpu += res->bundles[i].gpu;
    }
    double cap_cpu, cap_gpu;
    lux_executor_capacity(r->ex, &cap_cpu, &cap_gpu);
    if (cpu > cap_cpu + 1e-9 || gpu > cap_gpu + 1e-9) {
        lux_config_error(r->cfg, "resources_per_trial", err, errlen,
                         "resources_per_trial asks for %g CPU and %g GPU per trial but this "
                         "node has %g CPU and %g GPU; lower resources_per_trial",
                         cpu, gpu, cap_cpu, cap_gpu);
        return LUX_EINFEASIBLE;
    }
    long fit = cpu > 0 ? (long)floor(cap_cpu / cpu + 1e-9) : 1000000;
    if (gpu > 0) {
        long g = (long)floor(cap_gpu / gpu + 1e-9);
        fit = g < fit ? g : fit;
    }
    if (fit > 100000)
        fit = 100000;
    if (r->cfg->max_concurrent_trials > 0 && r->cfg->max_concurrent_trials < fit)
        fit = r->cfg->max_concurrent_trials;
    r->max_running = fit < 1 ? 1 : fit;
    return 0;
}

/* The registered class to run: the config's trainable, or the class a plugin
 * registers (loaded now, before any worker starts: workers inherit
 * LUX_PLUGINS). */
static int resolve_trainable(const lux_config_t *cfg, const char **name, char *err, size_t errlen)
{
    if (!lux_trainable_plugin_is_spec(cfg->trainable)) {
        *name = cfg->trainable;
        return 0;
    }
    return lux_trainable_plugin_load(cfg->trainable, name, err, errlen);
}

static void runner_free(runner_t *r, lux_config_t *keep)
{
    if (r->in_tx)
        lux_store_rollback(r->store);
    lux_executor_destroy(&r->ex);
    for (size_t i = 0; i < r->nlive; i++)
        trial_free(r->live[i]);
    lux_free(r->live);
    for (size_t i = 0; i < r->nretired; i++)
        trial_free(r->retired[i]);
    lux_free(r->retired);
    for (size_t i = 0; i < r->nbest_done; i++)
        done_clear(&r->best_done[i]);
    for (size_t i = 0; i < r->nerrors; i++)
        done_clear(&r->errors[i]);
    lux_free(r->waiting);
    lux_free(r->bundles);
    free(r->resources_text);
    lux_free(r->safe_name);
    lux_scheduler_destroy(&r->sched);
    lux_stopper_destroy(&r->stopper);
    lux_console_destroy(&r->console);
    lux_store_close(&r->store);
    if (r->cfg != keep)
        lux_config_destroy(&r->cfg);
}

/* Ends lux_run with a failure: the message and whether it was the input's
 * fault go into the outcome. Returns rc. */
static int failed(lux_run_outcome_t *out, int rc, bool bad_input, const char *err)
{
    stop_requested = 0; /* the request is used up */
    out->bad_input = bad_input;
    snprintf(out->error, sizeof out->error, "%s", err);
    return rc;
}

int lux_run(const lux_run_opts_t *opts, lux_run_outcome_t *out)
{
    runner_t r = {0};
    r.opts = opts;
    char err[ERR_LEN] = "";
    lux_config_t *cfg = NULL;
    char *text = NULL;
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->end = LUX_RUN_NOT_STARTED;

    /* 1. The config, checked before anything is created. */
    if (opts->config_path != NULL) {
        rc = lux_config_load(opts->config_path, opts->config_opts, &cfg, err, sizeof err);
        if (rc != 0) /* a config that cannot be read or is wrong: bad input */
            return failed(out, rc, true, err);
        if (opts->name != NULL) {
            lux_free(cfg->name);
            cfg->name = lux_strdup(opts->name);
        }
        if (opts->storage != NULL) {
            lux_free(cfg->storage);
            cfg->storage = lux_strdup(opts->storage);
        }
        if (opts->has_seed) {
            cfg->seed = opts->seed;
            cfg->has_seed = true;
        }
        snprintf(r.dir, sizeof r.dir, "%s/%s", cfg->storage, cfg->name);
        lux_fs_read_file(opts->config_path, &text, NULL);
    } else if (opts->resume_dir != NULL) {
        snprintf(r.dir, sizeof r.dir, "%s", opts->resume_dir);
    } else {
        return failed(out, LUX_EINVAL, true, "give an experiment file or --resume DIR");
    }
    snprintf(out->dir, sizeof out->dir, "%s", r.dir);
    int resuming = opts->resume || opts->resume_dir != NULL;
    char dbpath[8192];
    snprintf(dbpath, sizeof dbpath, "%s/%s", r.dir, LUX_STORE_DB_NAME);
    if (resuming != exists(dbpath)) {
        if (resuming)
            snprintf(err, sizeof err,
                     "%s holds no experiment to resume (no %s); run it without --resume", r.dir,
                     LUX_STORE_DB_NAME);
        else
            snprintf(err, sizeof err,
                     "%s already holds an experiment; continue it with --resume, or start "
                     "another with --name NAME",
                     r.dir);
        lux_config_destroy(&cfg);
        lux_free(text);
        return failed(out, resuming ? LUX_ENOENT : LUX_EEXIST, true, err);
    }

    if (cfg != NULL && (rc = resolve_trainable(cfg, &r.trainable, err, sizeof err)) != 0) {
        lux_config_destroy(&cfg);
        lux_free(text);
        return failed(out, rc, true, err);
    }

    /* 2. The runtime first: if it cannot start, nothing is written. */
    lux_executor_opts_t eo = {.num_cpus = opts->num_cpus,
                              .object_store_bytes = opts->object_store_bytes};
    rc = lux_executor_new(&eo, &r.ex, err, sizeof err);
    if (rc != 0) {
        lux_config_destroy(&cfg);
        lux_free(text);
        return failed(out, rc, false, err);
    }

    if (!resuming) {
        r.cfg = cfg;
        cfg = NULL;
        rc = setup_resources(&r, err, sizeof err);
        if (rc != 0)
            goto fail;
    }

    /* 3. The store. */
    rc = lux_store_open(r.dir, &r.store, err, sizeof err);
    if (rc != 0)
        goto fail;
    if (resuming) {
        rc = prepare_resume(&r, cfg, err, sizeof err);
        if (rc != 0)
            goto fail;
        if (r.cfg != cfg)
            lux_config_destroy(&cfg);
        cfg = NULL;
    } else {
        json_t *cj = lux_config_to_json(r.cfg);
        char *cjt = cj ? json_dumps(cj, JSON_COMPACT) : NULL;
        json_decref(cj);
        char mode[4];
        snprintf(mode, sizeof mode, "%s", r.cfg->mode == LUX_MODE_MIN ? "min" : "max");
        lux_store_experiment_t e = {
            .name = r.cfg->name,
            .config_text = text,
            .config_json = cjt,
            .seed = r.cfg->seed,
            .metric = r.cfg->metric,
            .mode = mode,
            .status = "RUNNING",
        };
        rc = lux_store_experiment_put(r.store, &e);
        free(cjt);
        if (rc != 0) {
            snprintf(err, sizeof err, "cannot write the experiment: %s", lux_store_errmsg(r.store));
            goto fail;
        }
    }
    lux_free(text);
    text = NULL;
    if (r.bundles == NULL && (rc = setup_resources(&r, err, sizeof err)) != 0)
        goto fail;
    r.safe_name = sanitize_name(r.cfg->name);
    if (r.trainable == NULL &&
        (rc = resolve_trainable(r.cfg, &r.trainable, err, sizeof err)) != 0) {
        rc = LUX_ECONFIG;
        goto fail;
    }
    r.total_trials = lux_config_num_trials(r.cfg);
    if (resuming && (rc = load_trials(&r, err, sizeof err)) != 0)
        goto fail;
    if ((rc = setup_scheduler(&r, resuming, err, sizeof err)) != 0 ||
        (rc = lux_stopper_new(r.cfg->stop, r.cfg->time_budget_s, &r.stopper, err, sizeof err)) != 0)
        goto fail;
    if (resuming)
        lux_store_experiment_set_status(r.store, "RUNNING", 0);

    r.console = lux_console_new(opts->console ? opts->console : stdout, opts->tty, opts->verbosity,
                                opts->report_interval_s);
    if (r.console == NULL) {
        rc = LUX_ENOMEM;
        err[0] = '\0'; /* nothing to add to the code */
        goto fail;
    }
    lux_console_event(r.console, 0, "%s experiment %s in %s: %ld trial(s), %ld at a time",
                      resuming ? "resuming" : "starting", r.cfg->name, r.dir, r.total_trials,
                      r.max_running);

    r.t_start = lux_clock_monotonic_s();
    r.wall_start = lux_clock_wall_s();
    r.last_commit = lux_clock_monotonic_s();
    rc = run_loop(&r);
    if (rc != LUX_ENOSPC) {
        int crc = commit_batch(&r);
        if (crc != 0 && rc == 0)
            rc = crc == LUX_ENOSPC ? LUX_ENOSPC : LUX_ESTORE;
    }
    if (rc == LUX_ENOSPC) {
        /* Any write may be the one that found the disk full. */
        if (!r.out_of_space)
            out_of_space(&r, lux_store_errmsg(r.store));
        halt_out_of_space(&r);
        r.interrupted = 1;
        snprintf(out->error, sizeof out->error, "%s", r.space_msg);
    }
    refresh_console(&r, 1);

    /* Trials the run leaves for a resume: waiting ones and those never
     * created. */
    long unfinished = r.total_trials - (long)r.ncreated;
    for (size_t i = 0; i < r.nlive; i++)
        unfinished +=
            r.live[i]->status != LUX_TRIAL_TERMINATED && r.live[i]->status != LUX_TRIAL_ERROR;
    int budget_left_trials = !r.interrupted && r.budget_used_up && unfinished > 0;
    /* After a full disk this write may fail too: the status then stays
     * RUNNING, which a resume treats like INTERRUPTED (it never reads it). */
    const char *status = rc != 0 && rc != LUX_ENOSPC ? "ERROR"
                         : r.interrupted             ? "INTERRUPTED"
                         : budget_left_trials        ? "BUDGET_USED_UP"
                                                     : "FINISHED";
    lux_store_experiment_set_status(r.store, status,
                                    r.interrupted || budget_left_trials ? 0 : lux_clock_wall_s());
    out->end = r.interrupted      ? LUX_RUN_INTERRUPTED
               : r.budget_used_up ? LUX_RUN_BUDGET_USED_UP
                                  : LUX_RUN_FINISHED;
    out->num_errored = r.num_errors;
    out->num_unfinished = unfinished;
    out->time_budget_s = r.cfg->time_budget_s;
    runner_free(&r, NULL);
    stop_requested = 0; /* the request is used up */
    return rc;          /* a failed loop logged why (common/log.h) */

fail:
    lux_free(text);
    if (r.cfg == NULL)
        r.cfg = cfg;
    else
        lux_config_destroy(&cfg);
    runner_free(&r, NULL);
    return failed(out, rc, rc == LUX_ECONFIG || rc == LUX_EINFEASIBLE, err);
}
