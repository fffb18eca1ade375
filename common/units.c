/*
 * Byte sizes (units.h), parsed by hand: strtod would accept exponents,
 * hexadecimal, "inf" and leading spaces, and round large integers; the
 * integer and the fraction are kept apart here so "18446744073709551615"
 * is exact and overflow is caught.
 */
#include "units.h"

#include "error.h"

#include <ctype.h>
#include <string.h>

int lux_parse_bytes(const char *text, uint64_t *out)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return LUX_EINVAL;
    const char *p = text;
    uint64_t whole = 0;
    int overflow = 0;
    for (; isdigit((unsigned char)*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            whole = whole * 10 + d;
    }
    /* The fraction as frac / scale; digits past the 18th are dropped,
     * which only ever rounds down. */
    uint64_t frac = 0, scale = 1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return LUX_EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
            if (scale < 1000000000000000000ull) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
    }
    static const char units[] = "KMGTPE";
    unsigned shift = 0;
    if (*p != '\0') {
        const char *u = strchr(units, toupper((unsigned char)*p));
        if (u != NULL) {
            shift = 10u * (unsigned)(u - units + 1);
            p++;
            if (*p == 'i' || *p == 'I')
                p++;
        }
        if (*p == 'B' || *p == 'b')
            p++;
        if (*p != '\0')
            return LUX_EINVAL;
    }
    if (overflow || (shift > 0 && whole > (UINT64_MAX >> shift)))
        return LUX_ERANGE;
    uint64_t bytes = whole << shift;
    if (frac > 0 && shift > 0) {
        /* frac / scale of 2^shift bytes, without overflowing: split 2^shift
         * into 2^a * 2^b with frac * 2^a < 2^64. */
        unsigned a = shift > 4 ? 4 : shift;
        uint64_t part = (frac << a) / scale; /* frac < 10^18 < 2^60 */
        uint64_t rem = (frac << a) % scale;
        uint64_t extra = part << (shift - a);
        /* What the remainder adds, in whole bytes (rem / scale < 1). */
        unsigned b = shift - a;
        uint64_t rem_bytes = 0;
        for (unsigned i = 0; i < b; i++) {
            rem *= 2;
            rem_bytes *= 2;
            if (rem >= scale) {
                rem -= scale;
                rem_bytes += 1;
            }
        }
        extra += rem_bytes;
        if (bytes > UINT64_MAX - extra)
            return LUX_ERANGE;
        bytes += extra;
    }
    *out = bytes;
    return 0;
}
