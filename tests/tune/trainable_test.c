/*
 * Tests of the automatic metrics: lux_trainable_autofill_text must give
 * exactly the text json_dumps gives for the filled result (the runner
 * stores one or the other), and refuse when it cannot.
 */
#include "test.h"

#include "trainable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fills a copy of `result` both ways and compares; returns whether the
 * text was reused. */
static int fill_both_ways(const json_t *result, long it, double total, const char *id)
{
    const json_t *v = json_object_get(result, "time_this_iter_s");
    double dt = v != NULL ? json_number_value(v) : 0.5;
    json_t *a = json_deep_copy(result);
    json_t *b = json_deep_copy(result);
    char *text = json_dumps(a, JSON_COMPACT);
    LUX_CHECK(text != NULL);
    char *row = NULL;
    LUX_CHECK_OK(lux_trainable_autofill_text(a, text, strlen(text), it, dt, total, id, &row));
    LUX_CHECK_OK(lux_trainable_autofill(b, it, dt, total, id));
    /* Same object either way (timestamps may differ by a second). */
    json_object_set(b, "timestamp", json_object_get(a, "timestamp"));
    LUX_CHECK(json_equal(a, b));
    int reused = row != NULL;
    if (row != NULL) {
        char *want = json_dumps(a, JSON_COMPACT);
        LUX_CHECK_STR_EQ(row, want);
        free(want);
    }
    free(row);
    free(text);
    json_decref(a);
    json_decref(b);
    return reused;
}

LUX_TEST(the_text_is_what_json_dumps_gives)
{
    /* Reals jansson writes in every form: exponents both ways, integral
     * values, subnormals, the extremes. */
    static const double totals[] = {
        0.0,
        1.0,
        2.5,
        1e20,
        1e21,
        1e-5,
        6.37e-06,
        2e-7,
        1e-300,
        5e-324,
        1.7e308,
        123456789.0,
        0.1,
        1.0 / 3.0,
        -3.25,
        1e100,
        -1e-100,
        4.5e15,
        9007199254740993.0,
    };
    const char *results[] = {
        "{\"time_this_iter_s\": 0.001}",
        "{\"score\": 1.162653239904694, \"time_this_iter_s\": 6.37e-06}",
        "{\"a\": {\"b\": [1, 2.0, \"x\\\"y\"]}, \"s\": \"caf\\u00e9 \\n\", \"time_this_iter_s\": "
        "1e-9,"
        " \"done\": false, \"n\": null}",
    };
    for (size_t r = 0; r < sizeof results / sizeof *results; r++) {
        json_t *result = json_loads(results[r], 0, NULL);
        LUX_CHECK(result != NULL);
        for (size_t i = 0; i < sizeof totals / sizeof *totals; i++)
            LUX_CHECK(fill_both_ways(result, (long)i + 1, totals[i], "exp_00001"));
        json_decref(result);
    }
    /* Random reals over many magnitudes. */
    srand(7);
    json_t *result = json_loads("{\"time_this_iter_s\": 0.25}", 0, NULL);
    for (int i = 0; i < 20000; i++) {
        double x = ((double)rand() / RAND_MAX) * pow(10.0, (rand() % 600) - 300);
        LUX_CHECK(fill_both_ways(result, i, i % 2 ? x : -x, "t"));
    }
    json_decref(result);
}

LUX_TEST(the_text_is_not_reused_when_it_cannot_be)
{
    /* A trainable that sets an automatic key itself: the filled object
     * overwrites it, so its text would hold the key twice. */
    const char *own[] = {"{\"time_this_iter_s\": 1.0, \"training_iteration\": 9}",
                         "{\"time_this_iter_s\": 1.0, \"time_total_s\": 9}",
                         "{\"time_this_iter_s\": 1.0, \"timestamp\": 9}",
                         "{\"time_this_iter_s\": 1.0, \"trial_id\": \"x\"}",
                         /* time_this_iter_s missing, or an integer */
                         "{\"x\": 1}", "{\"time_this_iter_s\": 1}"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
        json_t *result = json_loads(own[i], 0, NULL);
        LUX_CHECK(result != NULL);
        LUX_CHECK(!fill_both_ways(result, 3, 4.0, "exp_00001"));
        json_decref(result);
    }
    json_t *result = json_loads("{\"time_this_iter_s\": 1.0}", 0, NULL);
    /* An id that needs escaping. */
    LUX_CHECK(!fill_both_ways(result, 3, 4.0, "a\"b"));
    LUX_CHECK(!fill_both_ways(result, 3, 4.0, "a\\b"));
    char *row = (char *)"unset";
    /* No text at all. */
    LUX_CHECK_OK(lux_trainable_autofill_text(result, NULL, 0, 3, 1.0, 4.0, "t", &row));
    LUX_CHECK(row == NULL);
    json_decref(result);
}
