/*
 * The experiment store: DIR/experiment.db, one SQLite database per
 * experiment and the one source of truth about it (docs/store.md has the
 * schema, every column, and example queries).
 *
 * One writer, many readers. The driver opens the store with
 * lux_store_open() and is its only writer; `lux status`, `lux best`,
 * `lux export` and plots open it with lux_store_open_reader(), a read-only
 * connection. The database is in WAL mode, so a reader never blocks the
 * writer and the writer never blocks a reader; each reader sees the last
 * committed transaction.
 *
 * Transactions. The writer groups everything one batch of results caused
 * (the results, trial updates, checkpoints, scheduler and searcher decisions
 * and their state blobs) between lux_store_begin() and lux_store_commit(),
 * so a crash at any moment leaves the snapshot of the last committed batch,
 * never half a batch. A write call made outside begin/commit is committed on
 * its own. synchronous=NORMAL in WAL mode: a SIGKILL of the driver loses
 * nothing that was committed (the WAL is in the OS page cache); a power loss
 * may lose the last few transactions but never corrupts the database.
 *
 * The driver's loop, in short:
 *
 *     lux_store_open(dir, &st, err, sizeof err);      // creates or migrates
 *     lux_store_experiment_put(st, &exp);
 *     every tick, for the results that arrived:
 *         lux_store_begin(st);
 *         lux_store_trial_add / _set_status / _update   (trial events)
 *         lux_store_result_add(...)                     (each result)
 *         lux_checkpoint_write(...) then lux_store_checkpoint_add(...)
 *         lux_store_decision_add(...), lux_store_journal_add(st, "scheduler", ...)
 *         lux_store_state_put(st, "scheduler", ...)
 *         lux_store_commit(st);
 *
 * Resume (`lux run --resume DIR`): open the same way (a killed writer's lock
 * is gone with it), lux_checkpoint_sweep(), then lux_store_trials_each()
 * gives every trial's status, config and latest_checkpoint (restart RUNNING
 * and PAUSED ones from it, start PENDING ones, leave TERMINATED/ERROR ones),
 * lux_store_state_get() and lux_store_journal() the scheduler's and
 * searcher's state, and
 * lux_store_last_iteration() where each trial's stored results end; results
 * replayed from an older checkpoint are ignored, never duplicated.
 *
 * Errors. Functions return 0 or a negative LUX_E* code: LUX_ESTORE for a
 * failed SQLite call, LUX_EIO for a disk error, LUX_ENOSPC for a full disk
 * or quota (SQLITE_FULL, or ENOSPC/EDQUOT under an I/O error; the message is
 * "out of disk space writing DIR/experiment.db (needed about N bytes, M free
 * on that filesystem)", N being the transaction's text in whole WAL frames,
 * a lower bound), LUX_EINVAL
 * for bad arguments, LUX_ENOENT for a missing row, LUX_ENOMEM, LUX_EBUSY
 * when the database stayed locked past the busy timeout, LUX_EUNSUPPORTED
 * for a database written by a newer lux. A write inside a transaction that
 * fails with LUX_ENOSPC, LUX_EIO or LUX_ENOMEM (or after which SQLite left
 * the transaction) poisons it: every later write returns the same code and
 * lux_store_commit() rolls back and returns it, so a batch never commits in
 * part.
 * After a failure, lux_store_errmsg() says what failed in a sentence that
 * names the database path. SQLite result codes never leave store.c.
 *
 * Threads: a lux_store_t is used by one thread at a time. Strings passed in
 * are copied by SQLite before the call returns. Times are Unix seconds.
 */
#ifndef LUX_STORE_H
#define LUX_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes (PRAGMA user_version). A database
 * with an older version is migrated by lux_store_open(); a newer one is
 * refused. */
#define LUX_STORE_SCHEMA_VERSION 3

/* The database file's name inside the experiment directory. */
#define LUX_STORE_DB_NAME "experiment.db"

/* Trial states (PENDING, RUNNING, PAUSED, TERMINATED, ERROR). */
#include "trial_status.h"

/* "PENDING".. "ERROR"; "?" for anything else. Cannot fail. */
const char *lux_trial_status_name(lux_trial_status_t status);

/* Parses a status name; returns 0 or LUX_EINVAL. */
int lux_trial_status_parse(const char *name, lux_trial_status_t *status);

typedef struct lux_store lux_store_t;

/* ---- Opening ------------------------------------------------------------ */

/* Opens DIR/experiment.db for writing, creating DIR (and its parents) and
 * the database when missing, and migrating an older schema. Sets WAL,
 * synchronous=NORMAL and a busy timeout. On success *out owns the store
 * (close with lux_store_close). On failure *out is NULL and err (may be NULL)
 * holds a one-line message naming the path; returns LUX_EIO (directory),
 * LUX_ESTORE (not a database, cannot open), LUX_EBUSY (another process has
 * the experiment open for writing: the writer holds an advisory lock on
 * DIR/experiment.lock, released when it closes or dies) or LUX_EUNSUPPORTED (written by a newer
 * lux: "DIR/experiment.db has schema version 3 but this lux understands up to 1; use a newer lux").
 */
int lux_store_open(const char *dir, lux_store_t **out, char *err, size_t errlen);

/* Opens DIR/experiment.db read-only. Never creates anything and never blocks
 * the writer. LUX_ENOENT when there is no database; LUX_EUNSUPPORTED for a
 * newer schema; otherwise as lux_store_open. */
int lux_store_open_reader(const char *dir, lux_store_t **out, char *err, size_t errlen);

/* Closes the store (rolling back an open transaction) and clears *self_p.
 * Accepts NULL and *self_p == NULL. Cannot fail. */
void lux_store_close(lux_store_t **self_p);

/* The message of the last failure on this store (a sentence naming the
 * database path), or "" when none. Valid until the next call on the store. */
const char *lux_store_errmsg(const lux_store_t *self);

/* The experiment directory and the database path (owned by the store). */
const char *lux_store_dir(const lux_store_t *self);
const char *lux_store_path(const lux_store_t *self);

/* Whether the experiment's writer (the driver) is alive, for a reader to
 * tell a running experiment from one whose driver died (status RUNNING in
 * both). ALIVE: a process has it open for writing now. GONE: the last writer
 * died without closing the store (SIGKILL, a crash, a power loss). UNKNOWN:
 * no writer, the last one closed the store, or it was written by an older
 * lux. *pid is the pid the last writer recorded, 0 when none. Takes no lock
 * and never blocks or disturbs a writer. Cannot fail (UNKNOWN). */
typedef enum {
    LUX_STORE_WRITER_UNKNOWN,
    LUX_STORE_WRITER_ALIVE,
    LUX_STORE_WRITER_GONE,
} lux_store_writer_t;
lux_store_writer_t lux_store_writer(const lux_store_t *self, long *pid);

/* The schema version of the open database. Cannot fail. */
int lux_store_schema_version(const lux_store_t *self);

/* ---- Transactions (writer) ------------------------------------------------ */

/* Starts a transaction (BEGIN IMMEDIATE). Nested begins are an error
 * (LUX_EINVAL). */
int lux_store_begin(lux_store_t *self);

/* Commits the open transaction; on failure the transaction is rolled back
 * and nothing of it is stored. */
int lux_store_commit(lux_store_t *self);

/* Rolls back the open transaction, if any. Cannot fail. */
void lux_store_rollback(lux_store_t *self);

/* 1 while a transaction is open. */
int lux_store_in_transaction(const lux_store_t *self);

/* A reader's snapshot: the reads between lux_store_read_begin() and
 * lux_store_read_end() all see the same committed state, whatever the
 * writer commits meanwhile (WAL; the writer is never blocked). Not while
 * a write transaction is open on this connection (LUX_EINVAL). */
int lux_store_read_begin(lux_store_t *self);
void lux_store_read_end(lux_store_t *self);

/* ---- Experiment (writer) -------------------------------------------------- */

typedef struct {
    const char *name;        /* required */
    const char *config_text; /* the config file as the user wrote it, or NULL */
    const char *config_json; /* the canonical config as JSON text, or NULL */
    uint64_t seed;
    const char *metric; /* default metric for `lux best`, or NULL */
    const char *mode;   /* "max" or "min", or NULL */
    const char *status; /* "RUNNING", "FINISHED", "ERROR", "INTERRUPTED"; NULL: "RUNNING" */
    double start_time;  /* 0: now */
} lux_store_experiment_t;

/* Writes the experiment row (there is one per database); a second call
 * replaces it. Strings are copied. */
int lux_store_experiment_put(lux_store_t *self, const lux_store_experiment_t *exp);

/* Sets the experiment's status and end time (0: leave end time unset). */
int lux_store_experiment_set_status(lux_store_t *self, const char *status, double end_time);

/* ---- Trials (writer) -------------------------------------------------------- */

/* Every stored field of a trial. In lux_store_trial_add() only trial_id,
 * config_json, resources_json, seed, status, parent_trial_id and
 * created_time are used (the rest start empty). lux_store_trial_update()
 * writes every field except trial_id, config_json and created_time: pass the
 * trial's whole current state. NULL strings store SQL NULL. */
typedef struct {
    const char *trial_id;           /* "cartpole_00003" */
    const char *config_json;        /* the trial's sampled config (JSON object text) */
    const char *resources_json;     /* {"cpu": 1, "bundles": 2} or NULL */
    uint64_t seed;                  /* the trial's seed */
    lux_trial_status_t status;      /* PENDING on add, usually */
    const char *error;              /* last error message, or NULL */
    long num_failures;              /* failures so far (retries) */
    long training_iteration;        /* iteration of the last result, 0 before any */
    double time_total_s;            /* time_total_s of the last result */
    double created_time;            /* 0: now */
    double start_time;              /* first start, 0: unset */
    double end_time;                /* TERMINATED/ERROR time, 0: unset */
    const char *last_result_json;   /* the last result's metrics, or NULL */
    int has_best;                   /* best_metric/best_iteration are set */
    double best_metric;             /* best value of the experiment metric so far */
    long best_iteration;            /* the iteration that reported it */
    const char *parent_trial_id;    /* PBT: the donor this trial was cloned from, or NULL */
    const char *lineage_json;       /* PBT: JSON array of exploits, or NULL */
    const char *restore_checkpoint; /* checkpoint to restore from on (re)start, or NULL */
} lux_store_trial_t;

/* Inserts a trial. LUX_EEXIST when the id is taken (nothing changes). */
int lux_store_trial_add(lux_store_t *self, const lux_store_trial_t *trial);

/* Replaces the mutable fields of trial->trial_id. LUX_ENOENT if unknown. */
int lux_store_trial_update(lux_store_t *self, const lux_store_trial_t *trial);

/* Sets status and error (error may be NULL: cleared) of one trial, and the
 * end time when the status is TERMINATED or ERROR. LUX_ENOENT if unknown. */
int lux_store_trial_set_status(lux_store_t *self, const char *trial_id, lux_trial_status_t status,
                               const char *error);

/* ---- Results (writer) ------------------------------------------------------- */

/* Appends one result row. metrics_json is the result's JSON object text
 * (compact is best). A row for the same (trial_id, training_iteration) that
 * is already stored is left as it was and the call still returns 0: a result
 * replayed after a resume is never duplicated (lux_store_duplicates() counts
 * them). Call between begin and commit for speed: one transaction per
 * batch. */
int lux_store_result_add(lux_store_t *self, const char *trial_id, long training_iteration,
                         double time_total_s, const char *metrics_json);

/* The same with a jansson object (serialised compactly; training_iteration
 * and time_total_s are taken from the object, which must hold them:
 * LUX_EINVAL otherwise). */
int lux_store_result_add_json(lux_store_t *self, const char *trial_id, const json_t *result);

/* Results ignored as duplicates since the store was opened. Cannot fail. */
long lux_store_duplicates(const lux_store_t *self);

/* ---- Checkpoints (writer) --------------------------------------------------- */

/* Registers a checkpoint written by lux_checkpoint_write(). path is relative
 * to the experiment directory ("trials/t_00001/checkpoint_000010"). score is
 * the value of the retention score attribute (has_score 0: none). A second
 * registration of the same (trial, iteration) replaces the row (and clears
 * its deleted mark). */
int lux_store_checkpoint_add(lux_store_t *self, const char *trial_id, long training_iteration,
                             const char *path, int has_score, double score, long size_bytes);

/* Pins (pinned=1) or unpins a checkpoint: retention never deletes a pinned
 * one (a PBT exploit in progress reads it). LUX_ENOENT if unknown. */
int lux_store_checkpoint_pin(lux_store_t *self, const char *trial_id, long training_iteration,
                             int pinned);

/* Records that a checkpoint's files were deleted. LUX_ENOENT if unknown. */
int lux_store_checkpoint_mark_deleted(lux_store_t *self, const char *trial_id,
                                      long training_iteration);

/* ---- Decisions and state (writer) ------------------------------------------- */

/* Appends a scheduler or searcher decision: source "scheduler" or
 * "searcher" (any short word), trial_id may be NULL, action a word
 * ("CONTINUE", "PAUSE", "STOP", "EXPLOIT", "SUGGEST", ...), detail_json a
 * JSON value or NULL. The time is now. */
int lux_store_decision_add(lux_store_t *self, const char *source, const char *trial_id,
                           const char *action, const char *detail_json);

/* Stores text under key ("scheduler", "searcher", ...), replacing the old
 * value. Opaque to the store. */
int lux_store_state_put(lux_store_t *self, const char *key, const char *value);

/* Stores an integer counter under key. */
int lux_store_counter_put(lux_store_t *self, const char *key, int64_t value);

/* Appends an entry (JSON text) to the journal of `source` ("scheduler").
 * Journals hold what only ever grows (ASHA's rung values), so that the state
 * saved at every batch stays as small as the live part. */
int lux_store_journal_add(lux_store_t *self, const char *source, const char *entry_json);

/* ---- Reading (reader or writer) ---------------------------------------------
 *
 * Returned JSON values are new references the caller releases with
 * json_decref. JSON text columns (config, metrics, ...) come back parsed;
 * SQL NULL comes back as JSON null or an absent key as noted. */

/* Copies the value stored under key into *value (lux_malloc'd, caller
 * lux_frees). LUX_ENOENT when absent. */
int lux_store_state_get(lux_store_t *self, const char *key, char **value);

/* The journal of `source` as a new array of its entries (parsed), oldest
 * first; empty when there are none. */
int lux_store_journal(lux_store_t *self, const char *source, json_t **entries);

/* Reads a counter; LUX_ENOENT when absent. */
int lux_store_counter_get(lux_store_t *self, const char *key, int64_t *value);

/* The experiment row as an object {name, config_text, config (parsed or
 * null), seed, metric, mode, status, start_time, end_time, updated_time}.
 * LUX_ENOENT when it was never written. */
int lux_store_experiment_get(lux_store_t *self, json_t **exp);

/* Every trial in creation order, as an array of objects {trial_id, config,
 * resources, seed, status, error, num_failures, training_iteration,
 * time_total_s, created_time, start_time, end_time, last_result,
 * best_metric, best_iteration, parent_trial_id, lineage,
 * restore_checkpoint, latest_checkpoint}. latest_checkpoint is the path
 * (relative to DIR) of the newest checkpoint not deleted, or null. */
int lux_store_trials(lux_store_t *self, json_t **trials);

/* Calls fn with each trial (same shape, borrowed for the call) in creation
 * order, without holding them all in memory. A non-zero return from fn
 * stops the walk and is returned. */
typedef int (*lux_store_trial_fn)(void *arg, const json_t *trial);
int lux_store_trials_each(lux_store_t *self, lux_store_trial_fn fn, void *arg);

/* One trial, same shape; LUX_ENOENT if unknown. */
int lux_store_trial_get(lux_store_t *self, const char *trial_id, json_t **trial);

/* Number of trials in each status (counts[LUX_TRIAL_PENDING]...). */
int lux_store_trial_counts(lux_store_t *self, long counts[LUX_TRIAL_STATUS_COUNT]);

/* Results of one trial in iteration order: an array of objects
 * {training_iteration, time_total_s, metrics}. Empty array for none. */
int lux_store_results(lux_store_t *self, const char *trial_id, json_t **results);

/* The largest stored training_iteration of a trial (0 when none). Resume
 * uses it to skip replayed iterations. */
int lux_store_last_iteration(lux_store_t *self, const char *trial_id, long *iteration);

/* Calls fn once per stored result, ordered by trial creation then iteration,
 * without holding them all in memory. metrics_json is valid during the call.
 * A non-zero return from fn stops the walk and is returned. */
typedef int (*lux_store_result_fn)(void *arg, const char *trial_id, long training_iteration,
                                   double time_total_s, const char *metrics_json);
int lux_store_results_each(lux_store_t *self, lux_store_result_fn fn, void *arg);

/* How lux_store_best_trial scores a trial on a metric, as in Ray Tune's
 * ExperimentAnalysis: the last reported value, the best over all results,
 * or the average over all (or the last 5 / 10) results. */
typedef enum {
    LUX_SCOPE_LAST,
    LUX_SCOPE_ALL,
    LUX_SCOPE_AVG,
    LUX_SCOPE_LAST_5_AVG,
    LUX_SCOPE_LAST_10_AVG,
} lux_store_scope_t;

/* Parses "last", "all", "avg", "last-5-avg", "last-10-avg"; 0 or LUX_EINVAL. */
int lux_store_scope_parse(const char *text, lux_store_scope_t *scope);

/* The best trial by metric ("episode_reward_mean", or a nested key
 * "info/learner/loss") and mode ("max"/"min"), as an object {trial_id,
 * status, config, metric, mode, scope, value, training_iteration (of the
 * value for last/all), checkpoint (path relative to DIR of the latest
 * checkpoint not deleted, or null)}. Results without the metric, or with a
 * non-numeric value, are skipped; ties go to the earlier trial. LUX_ENOENT
 * when no result reports the metric; LUX_EINVAL for a bad mode. */
int lux_store_best_trial(lux_store_t *self, const char *metric, const char *mode,
                         lux_store_scope_t scope, json_t **best);

/* Checkpoints of one trial (deleted ones included when include_deleted) in
 * iteration order: an array of {training_iteration, path, score (or null),
 * size, pinned, deleted}. */
int lux_store_checkpoints(lux_store_t *self, const char *trial_id, int include_deleted,
                          json_t **checkpoints);

/* Decisions with id > after_id (0: all), oldest first, at most limit (0: no
 * limit): an array of {id, time, source, trial_id, action, detail}. */
int lux_store_decisions(lux_store_t *self, long after_id, long limit, json_t **decisions);

/* Records why a trial last failed: kind is a name the runner chooses
 * ("trainable": its own code failed; "infrastructure": its worker was
 * killed from outside, the node or the disk failed), replacing an earlier
 * one; NULL forgets it. Inside the writer's transaction or on its own.
 * Returns 0, LUX_EINVAL (no trial id, or a reader) or a store error. */
int lux_store_trial_failure_put(lux_store_t *self, const char *trial_id, const char *kind);

/* Every recorded failure kind as an object {trial_id: kind} (empty for a
 * store older than version 3). Returns 0, LUX_ENOMEM or a store error. */
int lux_store_trial_failures(lux_store_t *self, json_t **kinds);

#endif
