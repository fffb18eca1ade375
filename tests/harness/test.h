/*
 * The lux test harness.
 *
 * A test module is one executable; each case is declared with LUX_TEST(name)
 * (default timeout) or LUX_TEST_T(name, seconds). CMake's lux_add_test()
 * reads the case names out of the sources and registers one ctest test per
 * case ("module.case"), so every case runs alone by name:
 *
 *     ./build/tests/common/common_test --run edit_distance
 *     ./build/tests/common/common_test --list
 *
 * Run without arguments, the executable runs every case, each in a forked
 * child. A case that runs longer than its timeout is killed together with
 * every process it started (the case runs in its own process group). The
 * LUX_CHECK* assertions survive NDEBUG, print both sides on failure and end
 * the case.
 */
#ifndef LUX_TEST_H
#define LUX_TEST_H

#include <stddef.h>

typedef void (*lux_test_fn)(void);

void lux_test_register(const char *name, lux_test_fn fn, int timeout_s, const char *file);
void lux_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define LUX_TEST_T(name, seconds)                                                                  \
    static void lux_test_##name(void);                                                             \
    __attribute__((constructor)) static void lux_test_reg_##name(void)                             \
    {                                                                                              \
        lux_test_register(#name, lux_test_##name, (seconds), __FILE__);                            \
    }                                                                                              \
    static void lux_test_##name(void)

#define LUX_TEST(name) LUX_TEST_T(name, 60)

#define LUX_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            lux_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                          \
    } while (0)

#define LUX_CHECK_MSG(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            lux_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                        \
    } while (0)

/* Integer comparison: LUX_CHECK_INT(a, ==, b). */
#define LUX_CHECK_INT(a, op, b)                                                                    \
    do {                                                                                           \
        long long lux_a_ = (long long)(a), lux_b_ = (long long)(b);                                \
        if (!(lux_a_ op lux_b_))                                                                   \
            lux_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, lux_a_,       \
                          lux_b_);                                                                 \
    } while (0)

#define LUX_CHECK_INT_EQ(a, b) LUX_CHECK_INT(a, ==, b)

/* Floating comparison: LUX_CHECK_DBL(a, <, b). */
#define LUX_CHECK_DBL(a, op, b)                                                                    \
    do {                                                                                           \
        double lux_a_ = (double)(a), lux_b_ = (double)(b);                                         \
        if (!(lux_a_ op lux_b_))                                                                   \
            lux_test_fail(__FILE__, __LINE__, "%s %s %s: %.17g vs %.17g", #a, #op, #b, lux_a_,     \
                          lux_b_);                                                                 \
    } while (0)

/* |a - b| <= tol. */
#define LUX_CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                           \
        double lux_a_ = (double)(a), lux_b_ = (double)(b), lux_t_ = (double)(tol);                 \
        double lux_d_ = lux_a_ - lux_b_;                                                           \
        if (!(lux_d_ <= lux_t_ && -lux_d_ <= lux_t_))                                              \
            lux_test_fail(__FILE__, __LINE__, "%s ~= %s: %.17g vs %.17g (|diff| %.3g > %.3g)", #a, \
                          #b, lux_a_, lux_b_, lux_d_ < 0 ? -lux_d_ : lux_d_, lux_t_);              \
    } while (0)

#define LUX_CHECK_STR_EQ(a, b)                                                                     \
    do {                                                                                           \
        const char *lux_a_ = (a), *lux_b_ = (b);                                                   \
        if (lux_a_ == NULL || lux_b_ == NULL || lux_test_strcmp(lux_a_, lux_b_) != 0)              \
            lux_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b,                \
                          lux_a_ ? lux_a_ : "(null)", lux_b_ ? lux_b_ : "(null)");                 \
    } while (0)

/* `haystack` contains `needle`. */
#define LUX_CHECK_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        const char *lux_h_ = (haystack), *lux_n_ = (needle);                                       \
        if (lux_h_ == NULL || lux_test_strstr(lux_h_, lux_n_) == NULL)                             \
            lux_test_fail(__FILE__, __LINE__, "%s does not contain \"%s\"; it is:\n%s", #haystack, \
                          lux_n_, lux_h_ ? lux_h_ : "(null)");                                     \
    } while (0)

/* A call returning a LUX_E* code succeeded (0). */
#define LUX_CHECK_OK(expr)                                                                         \
    do {                                                                                           \
        int lux_rc_ = (expr);                                                                      \
        if (lux_rc_ != 0)                                                                          \
            lux_test_fail(__FILE__, __LINE__, "%s returned %d (%s)", #expr, lux_rc_,               \
                          lux_test_strerror(lux_rc_));                                             \
    } while (0)

/* A call returned exactly the LUX_E* code `code`. */
#define LUX_CHECK_ERR(expr, code)                                                                  \
    do {                                                                                           \
        int lux_rc_ = (expr), lux_want_ = (code);                                                  \
        if (lux_rc_ != lux_want_)                                                                  \
            lux_test_fail(__FILE__, __LINE__, "%s returned %d (%s), expected %d (%s)", #expr,      \
                          lux_rc_, lux_test_strerror(lux_rc_), lux_want_,                          \
                          lux_test_strerror(lux_want_));                                           \
    } while (0)

int lux_test_strcmp(const char *a, const char *b);
const char *lux_test_strstr(const char *h, const char *n);
const char *lux_test_strerror(int code);

/* A fresh directory for this case, removed with its contents when the case
 * ends (also on failure). The path stays valid for the whole case. */
const char *lux_test_tmpdir(void);

/* Writes `text` to the file `name` in this case's lux_test_tmpdir()
 * (replacing it) and returns the file's path, valid for the whole case. The
 * case fails at once when the file cannot be written. For the YAML configs
 * and small files tests hand to the code under test. */
const char *lux_test_write_tmp(const char *name, const char *text);

/* Runs argv[0] with argv (no shell), feeding `input` (may be NULL) on stdin
 * and collecting stdout and stderr (merged when `merge` is non-zero; stderr
 * otherwise goes to *err_out). Kills the child after `timeout_s`. Returns the
 * exit code, 128+signal for a signal, or -1 when it could not start or timed
 * out. *out and *err_out (either may be NULL) are heap strings the caller
 * frees with free(). `env` (may be NULL) is a NULL-terminated list of
 * NAME=VALUE strings added to the environment. */
int lux_test_spawn(char *const argv[], char *const env[], const char *input, double timeout_s,
                   char **out, char **err_out);

/* Path of the lux executable under test (set by CMake for each test module),
 * or the LUX_BINARY environment variable, or NULL. */
const char *lux_test_env_lux_binary(void);
static inline const char *lux_test_lux_binary(void)
{
#ifdef LUX_TEST_LUX_BINARY
    return LUX_TEST_LUX_BINARY;
#else
    return lux_test_env_lux_binary();
#endif
}

/* Runs the lux executable under test with the NULL-terminated `args` (its
 * arguments, without the program name; at most 62), as lux_test_spawn does
 * with no input. Returns what lux_test_spawn returns; a case fails at once
 * when there is no lux binary to run. */
int lux_test_lux_at(const char *binary, const char *const args[], char *const env[],
                    double timeout_s, char **out, char **err_out);

static inline int lux_test_lux(const char *const args[], char *const env[], double timeout_s,
                               char **out, char **err_out)
{
    return lux_test_lux_at(lux_test_lux_binary(), args, env, timeout_s, out, err_out);
}

/* Path of the source tree (set by CMake). */
const char *lux_test_source_dir(void);

/* Seconds on a monotonic clock. */
double lux_test_now(void);

#endif
