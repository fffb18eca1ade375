/*
 * Leveled logging. The level lives in one static int read without locking:
 * a racing reader sees either the old or the new level, which is harmless.
 * Each message is formatted into a stack buffer and written with a single
 * write(2) so lines from threads and processes do not interleave.
 */
#include "log.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int log_level = -1;
static int log_fd = 2;
static char log_prefix[64] = "lux";

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

int lux_log_parse_level(const char *text, lux_log_level_t *level)
{
    if (text == NULL || *text == '\0')
        return LUX_EINVAL;
    for (int i = 0; i <= LUX_LOG_TRACE; i++) {
        if (strcasecmp(text, level_names[i]) == 0 || (text[0] == '0' + i && text[1] == '\0')) {
            *level = (lux_log_level_t)i;
            return 0;
        }
    }
    if (strcasecmp(text, "warning") == 0) {
        *level = LUX_LOG_WARN;
        return 0;
    }
    return LUX_EINVAL;
}

lux_log_level_t lux_log_level(void)
{
    if (log_level < 0) {
        lux_log_level_t level = LUX_LOG_INFO;
        const char *env = getenv("LUX_LOG_LEVEL");
        if (env != NULL && lux_log_parse_level(env, &level) != 0) {
            log_level = LUX_LOG_INFO;
            lux_log_warn("LUX_LOG_LEVEL=%s is not a level; use error, warn, info, debug or trace",
                         env);
        }
        log_level = (int)level;
    }
    return (lux_log_level_t)log_level;
}

void lux_log_set_level(int level)
{
    if (level < LUX_LOG_ERROR)
        level = LUX_LOG_ERROR;
    if (level > LUX_LOG_TRACE)
        level = LUX_LOG_TRACE;
    log_level = level;
}

void lux_log_set_prefix(const char *prefix)
{
    snprintf(log_prefix, sizeof log_prefix, "%s", prefix ? prefix : "lux");
}

void lux_log_set_fd(int fd)
{
    log_fd = fd;
}

void lux_logv(lux_log_level_t level, const char *fmt, va_list ap)
{
    if ((int)level > (int)lux_log_level())
        return;
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s: %s: ", log_prefix,
                     level == LUX_LOG_WARN ? "warning" : level_names[level]);
    if (n < 0)
        return;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len >= sizeof buf - 1)
        len = sizeof buf - 2;
    buf[len++] = '\n';
    ssize_t w = write(log_fd, buf, len);
    (void)w;
}

void lux_log(lux_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lux_logv(level, fmt, ap);
    va_end(ap);
}
