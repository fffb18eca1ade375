/*
 * Quantities written by people: byte sizes such as "512M" or "2G", as
 * command-line options (`lux start --object-store-memory`, `lux run`) take
 * them. One parser, so every command accepts the same spellings.
 */
#ifndef LUX_UNITS_H
#define LUX_UNITS_H

#include <stdint.h>

/* Parses a byte size into *out: a non-negative number (digits, optionally a
 * fraction: "1.5G") and an optional suffix K, M, G, T, P or E (case does
 * not matter; powers of 1024, as `free`, Docker and systemd count memory),
 * optionally followed by "i", "B" or "iB" ("512MB", "2GiB", "512Mi"); a
 * bare number, or
 * one with "B", is bytes. A fractional result is rounded down to whole
 * bytes. No spaces, signs or other characters. Returns 0; LUX_EINVAL for
 * text that is not such a size (NULL, empty, "12X", "-1", "1e9", " 5");
 * LUX_ERANGE when it exceeds UINT64_MAX. *out is set only on success. */
int lux_parse_bytes(const char *text, uint64_t *out);

#endif
