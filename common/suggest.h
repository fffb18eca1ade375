/*
 * "Did you mean ...?" for names a person typed: commands, options, config
 * keys, environment and trainable names.
 */
#ifndef LUX_SUGGEST_H
#define LUX_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between a and b, case-sensitive. Cannot fail (strings
 * longer than 255 bytes are compared on their first 255). */
int lux_edit_distance(const char *a, const char *b);

/* Returns the candidate closest to `name`, or NULL when none is close enough
 * to be a plausible typo (distance greater than max(2, strlen(name)/3)) and
 * none starts with `name`. `candidates` has `n` entries; NULL entries are
 * skipped. The returned pointer is one of the candidates. */
const char *lux_suggest(const char *name, const char *const *candidates, size_t n);

#endif
