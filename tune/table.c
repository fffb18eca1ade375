/*
 * Aligned plain-text tables (contract in table.h).
 *
 * Cells are stored as copied strings in one growing array, row-major.
 * Rendering computes each column's natural width (header and cells, capped
 * by max_width), then, while the total exceeds the width asked for, takes
 * one code point from the widest truncatable column still above its
 * minimum; so long columns give way first and short ones keep their text.
 */
#include "table.h"

#include "alloc.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEP         "  "
#define SEP_LEN     2
#define DEFAULT_MIN 4
#define MAX_CELL    1024 /* code points; wider cells are cut */

struct lux_table {
    lux_table_column_t *cols;
    size_t ncols;
    char **cells; /* rows * ncols */
    size_t rows, cap;
};

/* Length (2..4) of the valid UTF-8 sequence of a non-ASCII code point at
 * s, with the code point in *cp; 0 when the bytes are not valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
    size_t n;
    unsigned min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, min = 0x80, *cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, min = 0x800, *cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, min = 0x10000, *cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        *cp = (*cp << 6) | (s[i] & 0x3fu);
    }
    return *cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff) ? 0 : n;
}

void lux_table_sanitize(char *s, int keep_newlines)
{
    unsigned char *in = (unsigned char *)s, *out = in;
    while (*in != '\0') {
        unsigned cp;
        size_t n = *in < 0x80 ? 1 : utf8_seq(in, &cp);
        if (n == 1) {
            *out++ = (*in < 0x20 && !(keep_newlines && *in == '\n')) || *in == 0x7f ? ' ' : *in;
            in++;
        } else if (n == 0) {
            *out++ = '?'; /* a stray byte; 0x9b alone is CSI on some terminals */
            in++;
        } else if (cp <= 0x9f) {
            *out++ = ' '; /* a C1 control: U+009B is CSI too */
            in += n;
        } else {
            while (n-- > 0)
                *out++ = *in++;
        }
    }
    *out = '\0';
}

size_t lux_table_width(const char *s)
{
    size_t n = 0;
    for (; s != NULL && *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* Byte length of the first cp code points of s. */
static size_t prefix_bytes(const char *s, size_t cp)
{
    size_t i = 0;
    while (s[i] != '\0') {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (cp == 0)
                break;
            cp--;
        }
        i++;
    }
    return i;
}

size_t lux_table_fit(const char *s, size_t max_cp, char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    if (s == NULL)
        s = "";
    size_t w = lux_table_width(s), keep = w, dots = 0;
    if (w > max_cp) {
        dots = max_cp >= 3 ? 2 : 0;
        keep = max_cp - dots;
    }
    size_t b = prefix_bytes(s, keep);
    while (b + dots + 1 > outlen && b > 0) { /* the buffer is the tighter limit */
        b--;
        while (b > 0 && ((unsigned char)s[b] & 0xc0) == 0x80)
            b--;
    }
    memcpy(out, s, b);
    memcpy(out + b, "..", dots);
    out[b + dots] = '\0';
    return lux_table_width(out);
}

lux_table_t *lux_table_new(const lux_table_column_t *cols, size_t ncols)
{
    if (cols == NULL || ncols == 0)
        return NULL;
    lux_table_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cols = lux_calloc(ncols, sizeof *t->cols);
    if (t->cols == NULL)
        goto fail;
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        t->cols[i] = cols[i];
        t->cols[i].header = lux_strdup(cols[i].header != NULL ? cols[i].header : "");
        if (t->cols[i].header == NULL)
            goto fail;
    }
    return t;
fail:
    lux_table_destroy(&t);
    return NULL;
}

void lux_table_destroy(lux_table_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_table_t *t = *self_p;
    for (size_t i = 0; t->cols != NULL && i < t->ncols; i++)
        lux_free((char *)t->cols[i].header);
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        lux_free(t->cells[i]);
    lux_free(t->cells);
    lux_free(t->cols);
    lux_free(t);
    *self_p = NULL;
}

size_t lux_table_rows(const lux_table_t *self)
{
    return self->rows;
}

int lux_table_add_row(lux_table_t *self, const char *const *cells)
{
    if (self->rows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        char **grown = lux_realloc(self->cells, cap * self->ncols * sizeof *grown);
        if (grown == NULL)
            return LUX_ENOMEM;
        self->cells = grown;
        self->cap = cap;
    }
    char **row = self->cells + self->rows * self->ncols;
    for (size_t i = 0; i < self->ncols; i++) {
        row[i] = lux_strdup(cells != NULL && cells[i] != NULL ? cells[i] : "");
        if (row[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                lux_free(row[j]);
            return LUX_ENOMEM;
        }
        /* A newline or tab inside a cell would break the grid, an escape
         * sequence the terminal. */
        lux_table_sanitize(row[i], 0);
    }
    self->rows++;
    return 0;
}

/* Appends cell s, fitted to w code points and aligned, to the buffer. */
static char *put_cell(char *p, const char *s, size_t w, lux_table_align_t align, int last)
{
    size_t cw = lux_table_width(s), bytes;
    if (cw > w) {
        char tmp[4 * MAX_CELL + 4];
        size_t fitted = lux_table_fit(s, w, tmp, sizeof tmp);
        bytes = strlen(tmp);
        memcpy(p, tmp, bytes);
        p += bytes;
        cw = fitted;
        s = NULL;
    }
    size_t pad = w > cw ? w - cw : 0;
    if (s != NULL && align == LUX_ALIGN_RIGHT) {
        memset(p, ' ', pad);
        p += pad;
        pad = 0;
    }
    if (s != NULL) {
        bytes = strlen(s);
        memcpy(p, s, bytes);
        p += bytes;
    }
    if (!last) {
        memset(p, ' ', pad);
        p += pad;
    }
    return p;
}

int lux_table_render(const lux_table_t *self, size_t width, char **out)
{
    size_t nc = self->ncols;
    size_t *w = lux_calloc(nc, sizeof *w);
    if (w == NULL)
        return LUX_ENOMEM;
    size_t bytes_per_line = 0;
    for (size_t c = 0; c < nc; c++) {
        size_t cw = lux_table_width(self->cols[c].header), maxb = strlen(self->cols[c].header);
        for (size_t r = 0; r < self->rows; r++) {
            const char *s = self->cells[r * nc + c];
            size_t x = lux_table_width(s), b = strlen(s);
            if (x > cw)
                cw = x;
            if (b > maxb)
                maxb = b;
        }
        const lux_table_column_t *col = &self->cols[c];
        if (col->max_width > 0 && cw > col->max_width)
            cw = col->max_width;
        if (cw > MAX_CELL)
            cw = MAX_CELL;
        w[c] = cw;
        /* room for the cell bytes, padding and separator */
        bytes_per_line += maxb + cw + SEP_LEN + 2;
    }
    if (width > 0) {
        size_t total = SEP_LEN * (nc - 1);
        for (size_t c = 0; c < nc; c++)
            total += w[c];
        while (total > width) {
            size_t best = nc;
            for (size_t c = 0; c < nc; c++) {
                size_t min = self->cols[c].min_width ? self->cols[c].min_width : DEFAULT_MIN;
                if (self->cols[c].truncatable && w[c] > min && (best == nc || w[c] > w[best]))
                    best = c;
            }
            if (best == nc)
                break; /* every column is at its minimum */
            w[best]--;
            total--;
        }
    }
    size_t size = (self->rows + 2) * (bytes_per_line + 1) + 1;
    char *buf = lux_malloc(size), *p = buf;
    if (buf == NULL) {
        lux_free(w);
        return LUX_ENOMEM;
    }
    for (size_t c = 0; c < nc; c++) {
        if (c > 0) {
            memcpy(p, SEP, SEP_LEN);
            p += SEP_LEN;
        }
        p = put_cell(p, self->cols[c].header, w[c], self->cols[c].align, c + 1 == nc);
    }
    *p++ = '\n';
    for (size_t c = 0; c < nc; c++) {
        if (c > 0) {
            memcpy(p, SEP, SEP_LEN);
            p += SEP_LEN;
        }
        memset(p, '-', w[c]);
        p += w[c];
    }
    *p++ = '\n';
    for (size_t r = 0; r < self->rows; r++) {
        for (size_t c = 0; c < nc; c++) {
            if (c > 0) {
                memcpy(p, SEP, SEP_LEN);
                p += SEP_LEN;
            }
            p = put_cell(p, self->cells[r * nc + c], w[c], self->cols[c].align, c + 1 == nc);
        }
        *p++ = '\n';
    }
    *p = '\0';
    lux_free(w);
    *out = buf;
    return 0;
}

static int flatten(const json_t *value, char *key, size_t len, size_t cap, json_t *out)
{
    if (!json_is_object(value) || json_object_size(value) == 0) {
        if (len == 0)
            return 0; /* a scalar with no name has nowhere to go */
        return json_object_set(out, key, (json_t *)value) == 0 ? 0 : LUX_ENOMEM;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)value, k, v)
    {
        size_t kl = strlen(k), need = len + (len > 0) + kl;
        if (need + 1 > cap)
            return LUX_ERANGE;
        size_t at = len;
        if (len > 0)
            key[at++] = '/';
        memcpy(key + at, k, kl + 1);
        int rc = flatten(v, key, need, cap, out);
        key[len] = '\0';
        if (rc != 0)
            return rc;
    }
    return 0;
}

int lux_table_flatten(const json_t *value, const char *prefix, json_t *out)
{
    if (!json_is_object(out))
        return LUX_EINVAL;
    char key[1024];
    size_t len = prefix != NULL ? strlen(prefix) : 0;
    if (len + 1 > sizeof key)
        return LUX_ERANGE;
    memcpy(key, prefix != NULL ? prefix : "", len + 1);
    return flatten(value, key, len, sizeof key, out);
}

void lux_table_format(const json_t *value, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (value == NULL)
        return;
    switch (json_typeof(value)) {
    case JSON_INTEGER:
        snprintf(buf, len, "%lld", (long long)json_integer_value(value));
        break;
    case JSON_REAL:
        snprintf(buf, len, "%.5g", json_real_value(value));
        break;
    case JSON_STRING:
        snprintf(buf, len, "%s", json_string_value(value));
        break;
    case JSON_TRUE:
        snprintf(buf, len, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, len, "false");
        break;
    case JSON_NULL:
        break;
    default: {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        if (text != NULL) {
            snprintf(buf, len, "%s", text);
            free(text);
        }
        break;
    }
    }
}
