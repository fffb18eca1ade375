/*
 * Fuzz target: a trainable's restore() from checkpoint bytes
 * (tune/trainable.h), for every class in the registry (rl/trainables.h:
 * cmaes, sepcmaes, es, a3c), as `lux run --resume`, PBT's exploit and
 * `lux rollout --checkpoint` feed it bytes read from disk.
 *
 * The input's first byte picks the class (its index in the registry, modulo
 * the number of classes); the rest is the checkpoint.bin bytes. Each input
 * gets a freshly set-up instance with the small config below (rollouts in
 * this process, short episodes), so one input cannot influence the next.
 * A checkpoint the class accepts must then be usable: the instance saves,
 * the saved bytes restore into a second fresh instance, and one training
 * iteration runs. A rejected one must be rejected with LUX_EINVAL and a
 * message.
 *
 * Seeds: tests/fuzz/corpus/fuzz_restore, real checkpoints written by
 * `lux train` with exactly these configs (tests/fuzz/make_corpus).
 */
#include "trainables.h"

#include "alloc.h"
#include "error.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The config each class is set up with; tests/fuzz/make_corpus trains with
 * the same text so that the seeds match the policy's shape. */
static const struct {
    const char *name;
    const char *config;
} configs[] = {
#define LUX_FUZZ_RESTORE_CONFIG(name, config) {name, config},
#include "fuzz_restore_configs.h"
#undef LUX_FUZZ_RESTORE_CONFIG
};

#define MAX_CLASSES 16
static const lux_trainable_class_t *classes[MAX_CLASSES];
static json_t *class_config[MAX_CLASSES];
static size_t num_classes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (lux_rl_register_trainables() != 0)
        abort();
    const char *names[MAX_CLASSES];
    size_t n = lux_trainable_names(names, MAX_CLASSES);
    for (size_t i = 0; i < n && i < MAX_CLASSES; i++) {
        /* The seeds' first bytes are registry indices: the configs must
         * follow the registry's order. */
        if (i >= sizeof configs / sizeof configs[0] || strcmp(configs[i].name, names[i]) != 0) {
            fprintf(stderr,
                    "fuzz_restore: trainable %zu of the registry is '%s'; list it at that "
                    "place in tests/fuzz/fuzz_restore_configs.h and rerun make_corpus\n",
                    i, names[i]);
            abort();
        }
        const char *text = configs[i].config;
        json_error_t e;
        class_config[num_classes] = json_loads(text, 0, &e);
        if (class_config[num_classes] == NULL) {
            fprintf(stderr, "fuzz_restore: bad config for %s: %s\n", names[i], e.text);
            abort();
        }
        classes[num_classes++] = lux_trainable_find(names[i]);
    }
    if (num_classes == 0)
        abort();
    return 0;
}

static void *setup(size_t k)
{
    lux_trial_context_t ctx = {.trial_id = "fuzz_00000", .seed = 7};
    char err[512] = "";
    void *state = NULL;
    int rc = classes[k]->setup(class_config[k], &ctx, &state, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "fuzz_restore: %s setup failed: %s (%s)\n", classes[k]->name,
                lux_strerror(rc), err);
        abort();
    }
    return state;
}

static void fail(size_t k, const char *what, int rc, const char *err)
{
    fprintf(stderr, "fuzz_restore: %s: %s: %s (%s)\n", classes[k]->name, what, lux_strerror(rc),
            err);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t k = data[0] % num_classes;
    const lux_trainable_class_t *cls = classes[k];
    void *state = setup(k);
    char err[512] = "";
    int rc = cls->restore(state, data + 1, size - 1, err, sizeof err);
    if (rc != 0) {
        if (rc != LUX_EINVAL && rc != LUX_ENOMEM)
            fail(k, "restore failed with an unexpected code", rc, err);
        if (err[0] == '\0')
            fail(k, "restore failed without a message", rc, err);
        cls->cleanup(state);
        return 0;
    }
    void *bytes = NULL;
    size_t len = 0;
    rc = cls->save(state, &bytes, &len, err, sizeof err);
    if (rc != 0)
        fail(k, "save after an accepted restore", rc, err);
    void *again = setup(k);
    rc = cls->restore(again, bytes, len, err, sizeof err);
    if (rc != 0)
        fail(k, "restoring its own save", rc, err);
    cls->cleanup(again);
    lux_free(bytes);
    json_t *result = NULL;
    rc = cls->step(state, &result, err, sizeof err);
    /* A step may refuse a state (a diverged search); it must not crash. */
    if (rc == 0 && !json_is_object(result))
        fail(k, "step returned no result object", rc, err);
    json_decref(result);
    cls->cleanup(state);
    return 0;
}
