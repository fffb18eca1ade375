/*
 * The trainable interface: what tune runs as a trial, in Ray Tune's terms
 * (setup(config) / step() -> one result / save() -> bytes / restore(bytes) /
 * cleanup()).
 *
 * Tune declares it; rl implements it (rl includes this header only, it does
 * not link tune); main() registers rl's classes, so tune's core never names an
 * algorithm and tune's tests register toy trainables.
 *
 * Threads: one trainable instance is driven by one thread at a time. Its
 * step() may fan rollouts out to the runtime (lux.h) from whatever process it
 * runs in: the trial actor's worker under `lux run`, or the driver under
 * `lux train`.
 *
 * Results: step() returns a new JSON object holding the trainable's own
 * metrics (timesteps_total, episodes_total, episode_reward_mean/min/max and
 * the algorithm's own figures). The caller adds the metrics Ray Tune fills
 * in automatically: training_iteration, time_this_iter_s, time_total_s,
 * timestamp, trial_id (lux_trainable_autofill). A trainable that wants the
 * trial to end sets "done": true.
 *
 * Errors: every function that can fail returns 0 or a negative LUX_E* code
 * and writes a one-line message for a person into err (which may be NULL)
 * naming the config key or the cause.
 */
#ifndef LUX_TRAINABLE_H
#define LUX_TRAINABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *trial_id;    /* "cartpole_00003"; never NULL */
    uint64_t seed;           /* the trial's seed; every rollout seed derives from it */
    const char *log_dir;     /* a directory the trainable may write to, or NULL */
    int num_rollout_workers; /* rollout bundles the trial holds; 0: rollouts run in-process */
} lux_trial_context_t;

typedef struct lux_trainable_class {
    const char *name;        /* "sepcmaes" */
    const char *description; /* one line for `lux help run` and docs */

    /* Checks a config before any trial starts (unknown keys, types, ranges).
     * Optional (NULL: accept anything). Returns 0 or LUX_ECONFIG with a
     * message naming the key. Must not keep pointers into config. */
    int (*validate)(const json_t *config, char *err, size_t errlen);

    /* Builds an instance from config (the trial's sampled config, which also
     * carries "env" when the experiment names one). On success *state owns
     * everything the instance needs. */
    int (*setup)(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                 size_t errlen);

    /* Runs one training iteration and returns its metrics in *result (a new
     * reference the caller releases). Blocks for the iteration's duration. */
    int (*step)(void *state, json_t **result, char *err, size_t errlen);

    /* Serialises the whole state into *bytes (lux_malloc'd, caller frees with
     * lux_free) so that restore() on a fresh instance of the same config
     * continues bit-for-bit. */
    int (*save)(void *state, void **bytes, size_t *len, char *err, size_t errlen);

    /* Replaces the instance's state with a saved one. The instance may have
     * been set up with a different config (PBT exploit): hyperparameters come
     * from the config given to setup, learned state from the bytes. */
    int (*restore)(void *state, const void *bytes, size_t len, char *err, size_t errlen);

    /* Frees the instance. Accepts NULL. Cannot fail. */
    void (*cleanup)(void *state);
} lux_trainable_class_t;

/* Registers a class under cls->name (the pointer must outlive the registry).
 * Returns 0, LUX_EEXIST for a duplicate name, or LUX_EFULL past 64 classes. */
int lux_trainable_register(const lux_trainable_class_t *cls);

/* Returns the class registered under name, or NULL. */
const lux_trainable_class_t *lux_trainable_find(const char *name);

/* Fills names[] with up to max registered names; returns how many exist. */
size_t lux_trainable_names(const char **names, size_t max);

/* Removes every registration (tests). */
void lux_trainable_registry_clear(void);

/* Adds Ray Tune's automatic metrics to a result: training_iteration,
 * time_this_iter_s, time_total_s, timestamp (Unix seconds) and trial_id.
 * Returns 0 or LUX_ENOMEM. */
int lux_trainable_autofill(json_t *result, long training_iteration, double time_this_iter_s,
                           double time_total_s, const char *trial_id);

/* lux_trainable_autofill, and the filled result's compact JSON text built
 * from `text` (the result as compact JSON before filling, `len` bytes)
 * instead of dumping the whole object again: *out is what json_dumps
 * (JSON_COMPACT) would give, heap (free()), or NULL when the text cannot be
 * reused (the result already held one of the automatic keys, or a value
 * has no plain JSON form); then dump the result. Returns 0 or LUX_ENOMEM. */
int lux_trainable_autofill_text(json_t *result, const char *text, size_t len,
                                long training_iteration, double time_this_iter_s,
                                double time_total_s, const char *trial_id, char **out);

#endif
