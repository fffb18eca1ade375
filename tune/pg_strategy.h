/*
 * Placement group strategies as tune names them: the one definition shared
 * by the config (resources_per_trial.strategy) and the executor, which
 * converts it to the runtime's own type in one place (tune/executor.c), so
 * tune's names never depend on runtime/lux.h.
 */
#ifndef LUX_PG_STRATEGY_H
#define LUX_PG_STRATEGY_H

/* X(ENUM, "name"), in this order (the names are stored in the canonical
 * config). */
#define LUX_TRIAL_PG_STRATEGY_MAP(X)                                                               \
    X(PACK, "PACK")                                                                                \
    X(SPREAD, "SPREAD")                                                                            \
    X(STRICT_PACK, "STRICT_PACK")                                                                  \
    X(STRICT_SPREAD, "STRICT_SPREAD")

typedef enum {
#define LUX_TRIAL_PG_ENUM(e, name) LUX_TRIAL_PG_##e,
    LUX_TRIAL_PG_STRATEGY_MAP(LUX_TRIAL_PG_ENUM)
#undef LUX_TRIAL_PG_ENUM
        LUX_TRIAL_PG_STRATEGY_COUNT
} lux_trial_pg_strategy_t;

#endif
