/*
 * Error codes shared by every layer of lux.
 *
 * A function that can fail returns int: 0 on success or a negative LUX_E*
 * code. Errors from SQLite, ZeroMQ, GSL and errno are translated into these
 * codes where the call is made, once, so the rest of the code sees only this
 * list. The list is declared once (LUX_ERROR_MAP); the enum and the messages
 * are generated from it.
 */
#ifndef LUX_ERROR_H
#define LUX_ERROR_H

/* X(name, value, message) */
#define LUX_ERROR_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(IO, -3, "input/output error")                                                                \
    X(NOENT, -4, "no such file or object")                                                         \
    X(EXIST, -5, "already exists")                                                                 \
    X(TIMEDOUT, -6, "timed out")                                                                   \
    X(CONFIG, -7, "invalid configuration")                                                         \
    X(STORE, -8, "experiment store error")                                                         \
    X(PROTO, -9, "malformed or unexpected message")                                                \
    X(CLOSED, -10, "connection or object closed")                                                  \
    X(AGAIN, -11, "resource temporarily unavailable, try again")                                   \
    X(INFEASIBLE, -12, "resource request can never be satisfied")                                  \
    X(TASK, -13, "remote task failed")                                                             \
    X(WORKERDIED, -14, "worker process died")                                                      \
    X(ACTORDIED, -15, "actor died")                                                                \
    X(CANCELLED, -16, "cancelled")                                                                 \
    X(FULL, -17, "object store is full")                                                           \
    X(RANGE, -18, "value out of range")                                                            \
    X(UNSUPPORTED, -19, "operation not supported")                                                 \
    X(BUSY, -20, "resource busy")                                                                  \
    X(SYS, -21, "system call failed")                                                              \
    X(INTERRUPTED, -22, "interrupted")                                                             \
    X(USAGE, -23, "bad command-line usage")                                                        \
    X(ACCESS, -24, "permission denied")                                                            \
    X(NOSPC, -25, "no space left on device")

typedef enum {
#define LUX_ERROR_ENUM(name, value, msg) LUX_E##name = (value),
    LUX_ERROR_MAP(LUX_ERROR_ENUM)
#undef LUX_ERROR_ENUM
} lux_error_t;

/* Returns a static message for a LUX_E* code ("unknown error" for anything
 * else). Cannot fail. */
const char *lux_strerror(int code);

/* Returns the symbolic name of a code ("LUX_ENOMEM"), or "LUX_E?" for an
 * unknown code. Cannot fail. */
const char *lux_errname(int code);

/* Translates an errno value into a LUX_E* code. Cannot fail. */
int lux_error_from_errno(int err);

#endif
