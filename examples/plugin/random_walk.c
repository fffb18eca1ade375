/*
 * An example trainable plugin: a random walk whose step size is the
 * hyperparameter `step`. Build it with
 *
 *   cc -shared -fPIC -I tune -I common $(pkg-config --cflags jansson) \
 *      examples/plugin/random_walk.c -o random_walk.so
 *
 * and name it in an experiment: `trainable: ./random_walk.so`. The lux
 * executable provides every symbol it uses (lux_trainable_register, jansson).
 */
#include "error.h"
#include "trainable.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double step, position;
    uint64_t state;
    long iteration;
} walk_t;

static double next_uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

static int walk_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                      size_t errlen)
{
    const json_t *step = json_object_get(config, "step");
    if (step != NULL && !json_is_number(step)) {
        snprintf(err, errlen, "step must be a number");
        return LUX_ECONFIG;
    }
    walk_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return LUX_ENOMEM;
    w->step = step ? json_number_value(step) : 1.0;
    w->state = ctx->seed;
    *state = w;
    return 0;
}

static int walk_step(void *state, json_t **result, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    walk_t *w = state;
    w->iteration++;
    w->position += w->step * (next_uniform(&w->state) - 0.25);
    *result =
        json_pack("{s:f, s:I}", "position", w->position, "walk_steps", (json_int_t)w->iteration);
    return *result ? 0 : LUX_ENOMEM;
}

static int walk_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *bytes = malloc(sizeof(walk_t));
    if (*bytes == NULL)
        return LUX_ENOMEM;
    memcpy(*bytes, state, sizeof(walk_t));
    *len = sizeof(walk_t);
    return 0;
}

static int walk_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    if (len != sizeof(walk_t)) {
        snprintf(err, errlen, "not a random_walk checkpoint");
        return LUX_EINVAL;
    }
    memcpy(state, bytes, len);
    return 0;
}

static void walk_cleanup(void *state)
{
    free(state);
}

static const lux_trainable_class_t walk_class = {
    .name = "random_walk",
    .description = "a random walk with drift; step is its hyperparameter",
    .setup = walk_setup,
    .step = walk_step,
    .save = walk_save,
    .restore = walk_restore,
    .cleanup = walk_cleanup,
};

int lux_plugin_init(void)
{
    return lux_trainable_register(&walk_class);
}
