/*
 * Trial states, as Ray Tune names them: the one definition shared by the
 * scheduler, the experiment store and the runner.
 */
#ifndef LUX_TRIAL_STATUS_H
#define LUX_TRIAL_STATUS_H

/* X(name), in this order (the values are stored in the experiment DB). */
#define LUX_TRIAL_STATUS_MAP(X)                                                                    \
    X(PENDING)                                                                                     \
    X(RUNNING)                                                                                     \
    X(PAUSED)                                                                                      \
    X(TERMINATED)                                                                                  \
    X(ERROR)

typedef enum {
#define LUX_TRIAL_STATUS_ENUM(name) LUX_TRIAL_##name,
    LUX_TRIAL_STATUS_MAP(LUX_TRIAL_STATUS_ENUM)
#undef LUX_TRIAL_STATUS_ENUM
        LUX_TRIAL_STATUS_COUNT
} lux_trial_status_t;

#endif
