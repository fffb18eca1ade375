/* Tests of the error codes, logging, allocation wrappers and suggestions. */
#include "test.h"

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "fs.h"
#include "log.h"
#include "suggest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

LUX_TEST(strerror_names_every_code)
{
    LUX_CHECK_STR_EQ(lux_strerror(0), "success");
    LUX_CHECK_STR_EQ(lux_strerror(LUX_ENOMEM), "out of memory");
    LUX_CHECK_STR_EQ(lux_errname(LUX_EINFEASIBLE), "LUX_EINFEASIBLE");
    LUX_CHECK_STR_EQ(lux_strerror(12345), "unknown error");
    LUX_CHECK_STR_EQ(lux_errname(-9999), "LUX_E?");
    /* Codes are distinct, negative and each has its own message. */
    for (int a = -1; a >= LUX_ENOSPC; a--) {
        LUX_CHECK(strcmp(lux_strerror(a), "unknown error") != 0);
        for (int b = a - 1; b >= LUX_ENOSPC; b--)
            LUX_CHECK_MSG(strcmp(lux_strerror(a), lux_strerror(b)) != 0,
                          "codes %d and %d share a message", a, b);
    }
}

LUX_TEST(errno_translation)
{
    LUX_CHECK_INT_EQ(lux_error_from_errno(0), LUX_EOK);
    LUX_CHECK_INT_EQ(lux_error_from_errno(ENOMEM), LUX_ENOMEM);
    LUX_CHECK_INT_EQ(lux_error_from_errno(ENOENT), LUX_ENOENT);
    LUX_CHECK_INT_EQ(lux_error_from_errno(ETIMEDOUT), LUX_ETIMEDOUT);
    LUX_CHECK_INT_EQ(lux_error_from_errno(EPIPE), LUX_ECLOSED);
    LUX_CHECK_INT_EQ(lux_error_from_errno(EACCES), LUX_EACCESS);
    LUX_CHECK_INT_EQ(lux_error_from_errno(EPERM), LUX_EACCESS);
    LUX_CHECK_INT_EQ(lux_error_from_errno(ENOEXEC), LUX_ESYS);
}

/* Captures what the logger writes at `level` through a pipe. */
static char *log_through_pipe(int set_level, lux_log_level_t level, const char *msg)
{
    int fds[2];
    LUX_CHECK(pipe(fds) == 0);
    lux_log_set_fd(fds[1]);
    lux_log_set_level(set_level);
    lux_log(level, "%s", msg);
    lux_log_set_fd(2);
    close(fds[1]);
    static char buf[512];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

LUX_TEST(log_levels_filter)
{
    lux_log_set_prefix("lux-test");
    LUX_CHECK_STR_EQ(log_through_pipe(LUX_LOG_INFO, LUX_LOG_WARN, "disk low"),
                     "lux-test: warning: disk low\n");
    LUX_CHECK_STR_EQ(log_through_pipe(LUX_LOG_INFO, LUX_LOG_DEBUG, "hidden"), "");
    LUX_CHECK_STR_EQ(log_through_pipe(LUX_LOG_TRACE, LUX_LOG_DEBUG, "shown"),
                     "lux-test: debug: shown\n");
    LUX_CHECK_STR_EQ(log_through_pipe(LUX_LOG_ERROR, LUX_LOG_ERROR, "bad"),
                     "lux-test: error: bad\n");
    /* Clamping. */
    lux_log_set_level(99);
    LUX_CHECK_INT_EQ(lux_log_level(), LUX_LOG_TRACE);
    lux_log_set_level(-5);
    LUX_CHECK_INT_EQ(lux_log_level(), LUX_LOG_ERROR);
}

LUX_TEST(log_level_parsing)
{
    lux_log_level_t l;
    LUX_CHECK_OK(lux_log_parse_level("debug", &l));
    LUX_CHECK_INT_EQ(l, LUX_LOG_DEBUG);
    LUX_CHECK_OK(lux_log_parse_level("WARNING", &l));
    LUX_CHECK_INT_EQ(l, LUX_LOG_WARN);
    LUX_CHECK_OK(lux_log_parse_level("4", &l));
    LUX_CHECK_INT_EQ(l, LUX_LOG_TRACE);
    LUX_CHECK_ERR(lux_log_parse_level("loud", &l), LUX_EINVAL);
    LUX_CHECK_ERR(lux_log_parse_level("", &l), LUX_EINVAL);
    LUX_CHECK_ERR(lux_log_parse_level("5", &l), LUX_EINVAL);
}

LUX_TEST(alloc_failure_injection)
{
    void *a = lux_malloc(16);
    LUX_CHECK(a != NULL);
    lux_free(a);
    lux_alloc_fail_after(2);
    void *p1 = lux_malloc(8);
    void *p2 = lux_calloc(2, 8);
    void *p3 = lux_malloc(8);
    char *p4 = lux_strdup("x");
    LUX_CHECK(p1 != NULL);
    LUX_CHECK(p2 != NULL);
    LUX_CHECK(p3 == NULL);
    LUX_CHECK(p4 == NULL);
    LUX_CHECK_INT_EQ(lux_alloc_failures(), 2);
    lux_alloc_fail_reset();
    char *p5 = lux_strdup("hello");
    LUX_CHECK_STR_EQ(p5, "hello");
    char *p6 = lux_strndup("hello", 3);
    LUX_CHECK_STR_EQ(p6, "hel");
    lux_free(p1);
    lux_free(p2);
    lux_free(p5);
    lux_free(p6);
    /* Zero-size requests return a freeable pointer. */
    void *z = lux_malloc(0);
    LUX_CHECK(z != NULL);
    lux_free(z);
}

LUX_TEST(edit_distance)
{
    LUX_CHECK_INT_EQ(lux_edit_distance("", ""), 0);
    LUX_CHECK_INT_EQ(lux_edit_distance("run", "run"), 0);
    LUX_CHECK_INT_EQ(lux_edit_distance("rn", "run"), 1);
    LUX_CHECK_INT_EQ(lux_edit_distance("kitten", "sitting"), 3);
    LUX_CHECK_INT_EQ(lux_edit_distance("abc", ""), 3);
}

LUX_TEST(suggest_closest_name)
{
    const char *names[] = {"run", "status", "plot", "export", "best", NULL, "optimize"};
    LUX_CHECK_STR_EQ(lux_suggest("rnu", names, 7), "run");
    LUX_CHECK_STR_EQ(lux_suggest("stauts", names, 7), "status");
    LUX_CHECK_STR_EQ(lux_suggest("opt", names, 7), "optimize");
    LUX_CHECK(lux_suggest("zzzzzzzz", names, 7) == NULL);
}

LUX_TEST(fs_mkdir_p_read_file_rm_tree)
{
    char path[4200], file[4300], outside[4200], link[4300];
    const char *tmp = lux_test_tmpdir();
    snprintf(path, sizeof path, "%s/a/b/c", tmp);
    LUX_CHECK_OK(lux_fs_mkdir_p(path, 0700));
    LUX_CHECK_OK(lux_fs_mkdir_p(path, 0700)); /* already there */
    snprintf(file, sizeof file, "%s/f", path);
    FILE *f = fopen(file, "w");
    LUX_CHECK(f != NULL);
    for (int i = 0; i < 3000; i++) /* longer than one read buffer */
        fputs("0123456789", f);
    fclose(f);
    char *text = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_fs_read_file(file, &text, &len));
    LUX_CHECK_INT_EQ(len, 30000);
    LUX_CHECK_INT_EQ(text[len], '\0');
    LUX_CHECK(memcmp(text + 29990, "0123456789", 10) == 0);
    lux_free(text);
    LUX_CHECK_ERR(lux_fs_mkdir_p(file, 0700), LUX_EEXIST); /* a file, not a dir */
    LUX_CHECK_ERR(lux_fs_read_file("/nonexistent/lux", &text, NULL), LUX_ENOENT);
    LUX_CHECK_ERR(lux_fs_mkdir_p("", 0700), LUX_EINVAL);

    /* rm_tree removes a link inside the tree, never what it points to. */
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    LUX_CHECK_OK(lux_fs_mkdir_p(outside, 0700));
    snprintf(link, sizeof link, "%s/a/b/link", tmp);
    LUX_CHECK_INT_EQ(symlink(outside, link), 0);
    snprintf(path, sizeof path, "%s/a", tmp);
    LUX_CHECK_OK(lux_fs_rm_tree(path));
    LUX_CHECK(access(path, F_OK) != 0);
    LUX_CHECK(access(outside, F_OK) == 0);
    LUX_CHECK_OK(lux_fs_rm_tree(path)); /* missing is fine */
}

LUX_TEST(clocks_advance)
{
    double m = lux_clock_monotonic_s(), w = lux_clock_wall_s(), c = lux_clock_process_cpu_s();
    volatile double x = 0;
    for (int i = 0; i < 2000000; i++)
        x += i;
    LUX_CHECK_DBL(lux_clock_monotonic_s(), >, m);
    LUX_CHECK_DBL(lux_clock_process_cpu_s(), >, c);
    LUX_CHECK_DBL(w, >, 1.6e9); /* after 2020 */
    LUX_CHECK_DBL(lux_clock_thread_cpu_s(), >, 0);
}
