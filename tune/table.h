/*
 * Aligned plain-text tables, as `lux status` and the live console print
 * them:
 *
 *     Trial name      status        lr   iter   total time (s)   reward
 *     --------------  ----------  ----  -----  ---------------  -------
 *     cartpole_00000  RUNNING     0.01     12             31.2    187.5
 *
 * The caller declares the columns, adds rows of cell strings (copied) and
 * renders into a string. Widths are counted in UTF-8 code points. When the
 * table is wider than the width asked for, the widest truncatable columns
 * are shrunk first and their cells end with "..". A column never gets
 * narrower than its min_width (or 4).
 */
#ifndef LUX_TABLE_H
#define LUX_TABLE_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    LUX_ALIGN_LEFT,
    LUX_ALIGN_RIGHT,
} lux_table_align_t;

typedef struct {
    const char *header;      /* column title (copied) */
    lux_table_align_t align; /* numbers: right */
    size_t max_width;        /* cells are cut to this many code points; 0: no limit */
    size_t min_width;        /* fitting to the width never goes below this; 0: 4 */
    int truncatable;         /* may be shrunk to fit the total width */
} lux_table_column_t;

typedef struct lux_table lux_table_t;

/* A new table with ncols columns (the specs are copied). NULL when out of
 * memory or ncols is 0. */
lux_table_t *lux_table_new(const lux_table_column_t *cols, size_t ncols);

/* Frees the table and clears *self_p. Accepts NULL. Cannot fail. */
void lux_table_destroy(lux_table_t **self_p);

/* Appends a row of ncols cells (copied; a NULL cell prints empty; control
 * characters such as newlines and tabs become spaces: lux_table_sanitize).
 * Returns 0 or LUX_ENOMEM. */
int lux_table_add_row(lux_table_t *self, const char *const *cells);

/* Number of rows added. Cannot fail. */
size_t lux_table_rows(const lux_table_t *self);

/* Renders header, rule and rows into *out (lux_malloc'd, caller lux_frees),
 * each line ending in '\n' and at most `width` code points wide (0: no
 * limit) when the columns' min widths allow it. Columns are separated by two
 * spaces. Returns 0 or LUX_ENOMEM. */
int lux_table_render(const lux_table_t *self, size_t width, char **out);

/* Writes a string's first max_cp UTF-8 code points into out (size outlen,
 * NUL-terminated), ending with ".." when it was cut. Returns the code points
 * written. Helper for callers formatting their own cells. */
size_t lux_table_fit(const char *s, size_t max_cp, char *out, size_t outlen);

/* Makes s (modified in place; it can only shrink) safe to print on a
 * terminal: control characters (C0 but newline when keep_newlines, DEL, C1
 * such as U+009B) become spaces, bytes that are not UTF-8 '?'. Everything
 * from an experiment (names, trial ids, config keys, errors) goes through
 * this before a terminal sees it: "\x1b[2J" would clear the screen. Cannot
 * fail. */
void lux_table_sanitize(char *s, int keep_newlines);

/* Number of UTF-8 code points in s. Cannot fail. */
size_t lux_table_width(const char *s);

/* Flattens value into out (an object): nested objects become keys joined
 * with '/' under prefix ("config/optimizer/lr"), any other value is set
 * under the key built so far (prefix itself for a non-object; an empty
 * object is kept as {}). prefix may be NULL or "". Values are shared
 * (incref'd), not copied. Returns 0, LUX_EINVAL (out not an object) or
 * LUX_ENOMEM. */
int lux_table_flatten(const json_t *value, const char *prefix, json_t *out);

/* Formats a JSON value for a table cell into buf: integers as they are,
 * reals with 5 significant digits (%.5g), strings without quotes, true and
 * false, null as "", arrays and objects as compact JSON (reals with 6
 * significant digits). Cannot fail
 * (truncates to len). */
void lux_table_format(const json_t *value, char *buf, size_t len);

#endif
