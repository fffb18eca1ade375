/*
 * gnuplot driver: finding the executable, running one script with a timeout
 * and its stderr captured, and quoting strings for scripts (gnuplot.h says
 * why each rule exists).
 *
 * The child does nothing between fork and execv but async-signal-safe
 * calls (dup2, chdir, open, execv, write, _exit), so it is safe to fork from
 * a process with threads.
 */
#include "gnuplot.h"

#include "clock.h"
#include "alloc.h"
#include "error.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char missing_help[] =
    "install the Debian package gnuplot-nox (apt-get install gnuplot-nox; any gnuplot 5 "
    "will do) or set LUX_GNUPLOT to its path";

int lux_plot_format_parse(const char *text, lux_plot_format_t *format)
{
    static const char *const names[] = {"png", "svg", "pdf"};
    for (int i = 0; i < 3; i++) {
        if (text != NULL && strcmp(text, names[i]) == 0) {
            *format = (lux_plot_format_t)i;
            return 0;
        }
    }
    return LUX_EINVAL;
}

const char *lux_plot_format_name(lux_plot_format_t format)
{
    switch (format) {
    case LUX_PLOT_SVG:
        return "svg";
    case LUX_PLOT_PDF:
        return "pdf";
    default:
        return "png";
    }
}

/* ---- finding gnuplot --------------------------------------------------------- */

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The absolute form of an existing executable path, or NULL. */
static char *absolute(const char *path)
{
    if (!is_executable_file(path))
        return NULL;
    char *real = realpath(path, NULL);
    if (real == NULL)
        return NULL;
    char *copy = lux_strdup(real);
    free(real);
    return copy;
}

/* Looks `name` up on PATH. */
static char *search_path(const char *name)
{
    const char *path = getenv("PATH");
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    size_t nlen = strlen(name);
    while (*path != '\0') {
        const char *end = strchr(path, ':');
        size_t dlen = end != NULL ? (size_t)(end - path) : strlen(path);
        char buf[PATH_MAX];
        if (dlen == 0) {
            /* An empty PATH entry is the current directory. */
            if (nlen + 3 <= sizeof buf) {
                snprintf(buf, sizeof buf, "./%s", name);
                char *found = absolute(buf);
                if (found != NULL)
                    return found;
            }
        } else if (dlen + nlen + 2 <= sizeof buf) {
            memcpy(buf, path, dlen);
            buf[dlen] = '/';
            memcpy(buf + dlen + 1, name, nlen + 1);
            char *found = absolute(buf);
            if (found != NULL)
                return found;
        }
        path += dlen;
        if (*path == ':')
            path++;
    }
    return NULL;
}

int lux_gnuplot_find(char **path, char *err, size_t errlen)
{
    *path = NULL;
    const char *env = getenv("LUX_GNUPLOT");
    if (env != NULL && env[0] != '\0') {
        char *found = strchr(env, '/') != NULL ? absolute(env) : search_path(env);
        if (found == NULL) {
            snprintf(err, errlen, "LUX_GNUPLOT is '%s', which is not an executable file; %s", env,
                     missing_help);
            return LUX_ENOENT;
        }
        *path = found;
        return 0;
    }
    char *found = search_path("gnuplot");
    if (found == NULL) {
        snprintf(err, errlen, "gnuplot was not found on PATH; %s", missing_help);
        return LUX_ENOENT;
    }
    *path = found;
    return 0;
}

/* ---- running it ---------------------------------------------------------------- */

/* Child side: never returns. Only async-signal-safe calls. */
static void child_exec(const char *gnuplot, const char *workdir, const char *script, int errfd)
{
    static const char cd_msg[] = "cannot enter the plot directory\n";
    static const char exec_msg[] = "cannot execute gnuplot\n";
    /* A clean signal mask: the caller may block signals it waits for. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0 && in != STDIN_FILENO) {
        dup2(in, STDIN_FILENO);
        close(in);
    }
    dup2(errfd, STDOUT_FILENO);
    dup2(errfd, STDERR_FILENO);
    if (errfd != STDOUT_FILENO && errfd != STDERR_FILENO)
        close(errfd);
    if (chdir(workdir) != 0) {
        ssize_t w = write(STDERR_FILENO, cd_msg, sizeof cd_msg - 1);
        (void)w;
        _exit(127);
    }
    char *const argv[] = {(char *)gnuplot, (char *)script, NULL};
    execv(gnuplot, argv);
    ssize_t w = write(STDERR_FILENO, exec_msg, sizeof exec_msg - 1);
    (void)w;
    _exit(127);
}

/* Folds runs of whitespace (newlines included) into one space and trims. */
static void fold_lines(char *s)
{
    char *w = s;
    int space = 1;
    for (const char *r = s; *r != '\0'; r++) {
        unsigned char c = (unsigned char)*r;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!space)
                *w++ = ' ';
            space = 1;
        } else {
            *w++ = (char)c;
            space = 0;
        }
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

int lux_gnuplot_run(const char *gnuplot, const char *workdir, const char *script, double timeout_s,
                    char *err, size_t errlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot run gnuplot for %s: pipe: %s", script, strerror(errno));
        return LUX_ESYS;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot run gnuplot for %s: fork: %s", script, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return LUX_ESYS;
    }
    if (pid == 0) {
        close(fds[0]);
        child_exec(gnuplot, workdir, script, fds[1]);
    }
    close(fds[1]);

    /* Collect what it says (the first 4 KiB) until it closes the pipe or the
     * time is up. */
    char text[4096];
    size_t len = 0;
    double deadline = lux_clock_monotonic_s() + timeout_s;
    int timed_out = 0;
    for (;;) {
        double left = deadline - lux_clock_monotonic_s();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue; /* the deadline check above ends the loop */
        char buf[1024];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < sizeof text - 1 - len ? (size_t)r : sizeof text - 1 - len;
        memcpy(text + len, buf, take);
        len += take;
    }
    close(fds[0]);
    text[len] = '\0';

    int status = 0;
    if (!timed_out) {
        /* The pipe is closed; gnuplot is exiting. Give it until the deadline. */
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR) {
                status = 0;
                break;
            }
            if (lux_clock_monotonic_s() >= deadline) {
                timed_out = 1;
                break;
            }
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (timed_out) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        snprintf(err, errlen, "gnuplot did not finish %s/%s within %.0f s and was killed", workdir,
                 script, timeout_s);
        return LUX_ETIMEDOUT;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fold_lines(text);
    if (WIFEXITED(status))
        snprintf(err, errlen, "gnuplot failed on %s/%s (exit status %d): %s", workdir, script,
                 WEXITSTATUS(status), text[0] ? text : "no message");
    else
        snprintf(err, errlen, "gnuplot was killed by signal %d on %s/%s: %s",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, workdir, script,
                 text[0] ? text : "no message");
    return LUX_EIO;
}

/* ---- quoting ------------------------------------------------------------------------ */

char *lux_gnuplot_string(const char *s, size_t max_cp, int flags)
{
    if (s == NULL)
        s = "";
    size_t slen = strlen(s);
    /* Worst case: every byte doubled, plus the quotes and "..". */
    char *out = lux_malloc(2 * slen + 8);
    if (out == NULL)
        return NULL;
    /* Count code points (an invalid byte counts as one) to know whether to cut. */
    size_t total = 0;
    for (const unsigned char *q = (const unsigned char *)s; *q != '\0'; total++) {
        unsigned cp;
        size_t n = lux_text_utf8_seq(q, &cp);
        q += n ? n : 1;
    }
    size_t keep = total;
    int cut = 0;
    if (max_cp > 0 && total > max_cp) {
        keep = max_cp > 2 ? max_cp - 2 : 0;
        cut = 1;
    }
    size_t o = 0;
    out[o++] = '\'';
    const unsigned char *p = (const unsigned char *)s;
    for (size_t ncp = 0; ncp < keep; ncp++) {
        unsigned cp;
        size_t n = lux_text_utf8_seq(p, &cp);
        if (n == 0) {
            out[o++] = '?';
            p++;
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            out[o++] = ' ';
            p += n;
        } else if (cp > 0xffff) {
            /* Emoji and other supplementary-plane characters: the usual
             * fonts lack them and cairo then draws a glyph box the size of
             * the figure over the plot. */
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            p += n;
        } else if (cp == '\'') {
            out[o++] = '\'';
            out[o++] = '\'';
            p++;
        } else if (cp == '%' && (flags & LUX_GNUPLOT_TIC)) {
            out[o++] = '%';
            out[o++] = '%';
            p++;
        } else if (cp == '>' && o >= 3 && out[o - 1] == ']' && out[o - 2] == ']') {
            out[o++] = ' ';
            out[o++] = '>';
            p++;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    if (cut) {
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

void lux_gnuplot_put_string(FILE *f, const char *s, size_t max_cp, int flags)
{
    char *q = lux_gnuplot_string(s, max_cp, flags);
    if (q != NULL)
        fputs(q, f);
    lux_free(q);
}

void lux_gnuplot_terminal(FILE *f, lux_plot_format_t format, int width, int height,
                          const char *output)
{
    static const char font[] = "'DejaVu Sans,10'";
    switch (format) {
    case LUX_PLOT_SVG:
        fprintf(f, "set terminal svg size %d,%d fixed noenhanced font %s background '#ffffff'\n",
                width, height, font);
        break;
    case LUX_PLOT_PDF:
        fprintf(f, "set terminal pdfcairo size %.2fin,%.2fin noenhanced font %s\n", width / 100.0,
                height / 100.0, font);
        break;
    default:
        fprintf(f,
                "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                "    set terminal pngcairo size %d,%d noenhanced font %s background '#ffffff'\n"
                "} else {\n"
                "    set terminal png size %d,%d noenhanced background '#ffffff'\n"
                "}\n",
                width, height, font, width, height);
        break;
    }
    fprintf(f, "set output '%s'\n", output);
}
