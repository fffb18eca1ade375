/*
 * Byte sizes as people write them (common/units.h): what `lux start
 * --object-store-memory` and `lux run` accept, and what they refuse.
 */
#include "test.h"

#include "error.h"
#include "units.h"

#include <stdint.h>

LUX_TEST(parse_bytes_accepts_suffixes)
{
    const struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {
        {"0", 0},
        {"1", 1},
        {"1048576", 1048576},
        {"100B", 100},
        {"1K", 1024},
        {"1k", 1024},
        {"1KB", 1024},
        {"1KiB", 1024},
        {"512M", 512ull << 20},
        {"512Mi", 512ull << 20},
        {"512mb", 512ull << 20},
        {"2G", 2ull << 30},
        {"2GiB", 2ull << 30},
        {"1.5G", 3ull << 29},
        {"0.5K", 512},
        {"1.0009765625K", 1025},
        {"0.1K", 102}, /* 102.4 rounds down */
        {"3T", 3ull << 40},
        {"1P", 1ull << 50},
        {"15E", 15ull << 60},
        {"18446744073709551615", UINT64_MAX},
        {"1.9", 1}, /* bytes: the fraction rounds down */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 12345;
        int rc = lux_parse_bytes(ok[i].text, &v);
        LUX_CHECK_MSG(rc == 0, "\"%s\" refused: %s", ok[i].text, lux_test_strerror(rc));
        LUX_CHECK_MSG(v == ok[i].bytes, "\"%s\" gave %llu, expected %llu", ok[i].text,
                      (unsigned long long)v, (unsigned long long)ok[i].bytes);
    }
}

LUX_TEST(parse_bytes_refuses_what_is_not_a_size)
{
    const char *bad[] = {NULL,   "",    " 5",   "5 ",  "-1",  "+1",   "1e9",
                         "0x10", "12X", "1..5", "1.",  ".5",  "K",    "5KK",
                         "5Bi",  "5iB", "5MBs", "inf", "nan", "1,5G", "1_000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 777;
        int rc = lux_parse_bytes(bad[i], &v);
        LUX_CHECK_MSG(rc == LUX_EINVAL, "\"%s\" gave %d (%llu)", bad[i] ? bad[i] : "NULL", rc,
                      (unsigned long long)v);
        LUX_CHECK_INT_EQ(v, 777); /* untouched */
    }
    const char *big[] = {"18446744073709551616", "16E", "17179869184G", "99999999999999999999999",
                         "15.99999999E"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        uint64_t v = 777;
        int rc = lux_parse_bytes(big[i], &v);
        if (i == 4) {
            /* Just below 16 EiB: fits. */
            LUX_CHECK_MSG(rc == 0, "\"%s\" gave %d", big[i], rc);
            LUX_CHECK(v > (15ull << 60));
            continue;
        }
        LUX_CHECK_MSG(rc == LUX_ERANGE, "\"%s\" gave %d (%llu)", big[i], rc, (unsigned long long)v);
        LUX_CHECK_INT_EQ(v, 777);
    }
}
