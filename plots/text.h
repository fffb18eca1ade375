/*
 * Text helpers for the plots: UTF-8 decoding and HTML escaping. Strings in
 * an experiment (trial ids, config values, metric names) are whatever the
 * user wrote; everything that puts them into a gnuplot script or a web page
 * goes through here or through lux_gnuplot_string().
 */
#ifndef LUX_PLOT_TEXT_H
#define LUX_PLOT_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Length (1..4) of the valid UTF-8 sequence at s, with its code point in
 * *cp; 0 when the bytes at s are not valid UTF-8 (overlong, surrogate, past
 * U+10FFFF, truncated). s must be NUL-terminated. Cannot fail. */
size_t lux_text_utf8_seq(const unsigned char *s, unsigned *cp);

/* Writes s to f escaped for HTML text and attribute values: & < > " ' as
 * entities, control characters other than newline and tab as spaces,
 * invalid UTF-8 bytes as U+FFFD. NULL writes nothing. Cannot fail (the
 * caller checks ferror). */
void lux_text_put_html(FILE *f, const char *s);

#endif
