/*
 * Registration of the rl trainables with tune's registry.
 */
#include "trainables.h"

#include "trainable_int.h"

#include "error.h"

int lux_rl_register_trainables(void)
{
    const lux_trainable_class_t *classes[] = {
        &lux_rl_cmaes_trainable,
        &lux_rl_sepcmaes_trainable,
        &lux_rl_es_trainable,
        &lux_rl_a3c_trainable,
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        if (lux_trainable_find(classes[i]->name) == classes[i])
            continue;
        int rc = lux_trainable_register(classes[i]);
        if (rc != 0 && rc != LUX_EEXIST)
            return rc;
    }
    return 0;
}

int lux_rl_evaluate_episode(const lux_trainable_class_t *cls, void *state, uint64_t seed,
                            double *episode_return, long *length)
{
    int (*fn)(void *, uint64_t, lux_rollout_result_t *) = NULL;
    if (cls == &lux_rl_cmaes_trainable || cls == &lux_rl_sepcmaes_trainable)
        fn = lux_rl_cmaes_evaluate;
    else if (cls == &lux_rl_es_trainable)
        fn = lux_rl_es_evaluate;
    else if (cls == &lux_rl_a3c_trainable)
        fn = lux_rl_a3c_evaluate;
    if (fn == NULL)
        return LUX_EINVAL;
    lux_rollout_result_t res;
    int rc = fn(state, seed, &res);
    if (rc == 0) {
        *episode_return = res.episode_return;
        *length = res.length;
    }
    return rc;
}
