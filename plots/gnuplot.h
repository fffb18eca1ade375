/*
 * Running gnuplot, safely and reproducibly.
 *
 * gnuplot is found at run time (lux does not link it): $LUX_GNUPLOT when
 * set, else `gnuplot` on PATH. A plot is a script file written by C next to
 * its data files; lux_gnuplot_run() starts gnuplot with fork + execv of the
 * absolute path and the script's name as argv[1], never through a shell, in
 * the plot directory, so the script names its data and output files with
 * fixed relative names and no path given by the user ever appears in it.
 *
 * Every string taken from an experiment (axis labels, tick labels, titles)
 * goes into a script through lux_gnuplot_string(): a single-quoted gnuplot
 * string, in which gnuplot expands nothing (no backquote command
 * substitution, no @macros, no backslash escapes); quotes are doubled,
 * control characters become spaces, invalid UTF-8 becomes '?', so no trial
 * name or config value can end the string or the line. Terminals are set
 * `noenhanced`, so '_' and '^' in a name are printed, not typeset.
 *
 * Output is deterministic: fixed sizes and fonts, no timestamps.
 */
#ifndef LUX_GNUPLOT_H
#define LUX_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    LUX_PLOT_PNG = 0,
    LUX_PLOT_SVG = 1,
    LUX_PLOT_PDF = 2,
} lux_plot_format_t;

/* Parses "png", "svg" or "pdf"; 0 or LUX_EINVAL. */
int lux_plot_format_parse(const char *text, lux_plot_format_t *format);

/* "png", "svg", "pdf" (also the file extension). Cannot fail. */
const char *lux_plot_format_name(lux_plot_format_t format);

/* Finds the gnuplot executable: $LUX_GNUPLOT when set and not empty (a path,
 * or a name looked up on PATH), else "gnuplot" on PATH. On success *path is
 * its absolute path (lux_malloc'd, caller lux_frees). LUX_ENOENT when there
 * is none, with a message in err that names the Debian package to install;
 * LUX_ENOMEM. */
int lux_gnuplot_find(char **path, char *err, size_t errlen);

/* Runs `gnuplot SCRIPT` with the working directory workdir (script is
 * relative to it), stdin from /dev/null, and waits at most timeout_s
 * seconds. Returns 0 when gnuplot exits with status 0. Otherwise err gets
 * one line naming the script with gnuplot's own message (its stderr, newlines
 * folded), and the call returns LUX_EIO (non-zero exit or a signal),
 * LUX_ETIMEDOUT (killed after the timeout) or LUX_ESYS (could not start).
 * Blocks. */
int lux_gnuplot_run(const char *gnuplot, const char *workdir, const char *script, double timeout_s,
                    char *err, size_t errlen);

/* Flags for lux_gnuplot_string. */
enum {
    LUX_GNUPLOT_TIC = 1, /* a tick label: gnuplot reads it as a format, so '%' is doubled */
};

/* s as a gnuplot single-quoted string literal, quotes included: at most
 * max_cp UTF-8 code points of s (0: no limit; a cut string ends with ".."),
 * "'" doubled, control characters (newlines, tabs, DEL, C1) replaced by a
 * space, bytes that are not UTF-8 replaced by '?', code points above
 * U+FFFF (emoji: common fonts lack them, and cairo then paints a box over
 * the whole figure) replaced by U+FFFD, and "]]>" broken as
 * "]] >" (gnuplot's SVG output does not escape '>'). NULL s is ''. Returns a
 * lux_malloc'd string the caller lux_frees, or NULL when out of memory. */
char *lux_gnuplot_string(const char *s, size_t max_cp, int flags);

/* Writes lux_gnuplot_string(s, max_cp, flags) to f (nothing on allocation
 * failure, which the caller detects with ferror or not at all: a missing
 * label is not worth failing a plot). */
void lux_gnuplot_put_string(FILE *f, const char *s, size_t max_cp, int flags);

/* Writes the `set terminal` and `set output` lines for format at width x
 * height pixels (PDF: the same aspect at 100 px per inch), with a fixed font
 * and noenhanced text. `output` is a plain file name chosen by the caller
 * (letters, digits, '_', '-', '.'); PNG uses pngcairo when this gnuplot has
 * it, else png. */
void lux_gnuplot_terminal(FILE *f, lux_plot_format_t format, int width, int height,
                          const char *output);

#endif
