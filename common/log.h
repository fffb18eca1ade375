/*
 * Leveled logging to stderr.
 *
 * One process-wide level, set from LUX_LOG_LEVEL (error, warn, info, debug,
 * trace, or 0-4) at the first call and adjusted by the command line's -v and
 * -q. Messages for a person go through lux_log_error() and friends; they say
 * what was wrong, where, and what to do. Thread-safe: each message is written
 * with one write(2).
 */
#ifndef LUX_LOG_H
#define LUX_LOG_H

#include <stdarg.h>

typedef enum {
    LUX_LOG_ERROR = 0,
    LUX_LOG_WARN = 1,
    LUX_LOG_INFO = 2,
    LUX_LOG_DEBUG = 3,
    LUX_LOG_TRACE = 4,
} lux_log_level_t;

/* Returns the current level (reads LUX_LOG_LEVEL the first time). */
lux_log_level_t lux_log_level(void);

/* Sets the level, clamped to [LUX_LOG_ERROR, LUX_LOG_TRACE]. */
void lux_log_set_level(int level);

/* Parses "error".."trace" or "0".."4"; returns 0 and sets *level, or
 * LUX_EINVAL. */
int lux_log_parse_level(const char *text, lux_log_level_t *level);

/* Sets a prefix printed before every message ("lux", "lux-worker[123]").
 * The string is copied; at most 63 bytes are kept. */
void lux_log_set_prefix(const char *prefix);

/* Redirects log output to a file descriptor (default 2). */
void lux_log_set_fd(int fd);

void lux_log(lux_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lux_logv(lux_log_level_t level, const char *fmt, va_list ap);

#define lux_log_error(...) lux_log(LUX_LOG_ERROR, __VA_ARGS__)
#define lux_log_warn(...)  lux_log(LUX_LOG_WARN, __VA_ARGS__)
#define lux_log_info(...)  lux_log(LUX_LOG_INFO, __VA_ARGS__)
#define lux_log_debug(...)                                                                         \
    do {                                                                                           \
        if (lux_log_level() >= LUX_LOG_DEBUG)                                                      \
            lux_log(LUX_LOG_DEBUG, __VA_ARGS__);                                                   \
    } while (0)
#define lux_log_trace(...)                                                                         \
    do {                                                                                           \
        if (lux_log_level() >= LUX_LOG_TRACE)                                                      \
            lux_log(LUX_LOG_TRACE, __VA_ARGS__);                                                   \
    } while (0)

#endif
