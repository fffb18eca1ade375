/* Tests of the plain-text table renderer and its cell helpers. */
#include "test.h"

#include "alloc.h"
#include "error.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>

static char *render(lux_table_t *t, size_t width)
{
    char *out = NULL;
    LUX_CHECK_OK(lux_table_render(t, width, &out));
    return out;
}

/* The widest line of text, in code points. */
static size_t widest(const char *text)
{
    size_t best = 0;
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        char *line = lux_strndup(text, n);
        size_t w = lux_table_width(line);
        lux_free(line);
        if (w > best)
            best = w;
        text += n + (nl != NULL);
    }
    return best;
}

LUX_TEST(aligns_columns_left_and_right)
{
    const lux_table_column_t cols[] = {
        {"Trial name", LUX_ALIGN_LEFT, 0, 0, 1},
        {"status", LUX_ALIGN_LEFT, 0, 0, 0},
        {"iter", LUX_ALIGN_RIGHT, 0, 0, 0},
    };
    lux_table_t *t = lux_table_new(cols, 3);
    LUX_CHECK(t != NULL);
    LUX_CHECK_OK(lux_table_add_row(t, (const char *const[]){"t_00000", "RUNNING", "12"}));
    LUX_CHECK_OK(lux_table_add_row(t, (const char *const[]){"t_1", "PENDING", NULL}));
    LUX_CHECK_INT_EQ(lux_table_rows(t), 2);
    LUX_CHECK_OK(lux_table_add_row(t, (const char *const[]){"a\nb", "x\ty", "1"}));
    char *out = render(t, 0);
    LUX_CHECK_STR_EQ(out, "Trial name  status   iter\n"
                          "----------  -------  ----\n"
                          "t_00000     RUNNING    12\n"
                          "t_1         PENDING      \n"
                          "a b         x y         1\n");
    lux_free(out);
    lux_table_destroy(&t);
    LUX_CHECK(t == NULL);
    lux_table_destroy(&t);
    LUX_CHECK(lux_table_new(cols, 0) == NULL);
}

LUX_TEST(truncates_widest_truncatable_columns_to_fit_width)
{
    const lux_table_column_t cols[] = {
        {"name", LUX_ALIGN_LEFT, 0, 0, 1},
        {"status", LUX_ALIGN_LEFT, 0, 0, 0},
        {"config/optimizer/learning_rate", LUX_ALIGN_RIGHT, 12, 6, 1},
    };
    lux_table_t *t = lux_table_new(cols, 3);
    LUX_CHECK_OK(lux_table_add_row(
        t, (const char *const[]){"a_very_long_trial_name_that_goes_on", "TERMINATED", "0.001"}));
    /* max_width caps the third column at 12 even without a total width. */
    char *out = render(t, 0);
    LUX_CHECK_CONTAINS(out, "config/opt..");
    LUX_CHECK_CONTAINS(out, "a_very_long_trial_name_that_goes_on");
    lux_free(out);
    out = render(t, 40);
    LUX_CHECK_INT(widest(out), <=, 40);
    LUX_CHECK_CONTAINS(out, "TERMINATED"); /* not truncatable */
    LUX_CHECK_CONTAINS(out, "..");
    LUX_CHECK_CONTAINS(out, "0.001");
    lux_free(out);
    /* Narrower than the minimums allow: stops at the minimums. */
    out = render(t, 5);
    LUX_CHECK_INT_EQ(widest(out), 4 + 2 + 10 + 2 + 6);
    lux_free(out);
    lux_table_destroy(&t);
}

LUX_TEST(counts_utf8_code_points)
{
    LUX_CHECK_INT_EQ(lux_table_width("héllo"), 5);
    LUX_CHECK_INT_EQ(lux_table_width("温度"), 2);
    LUX_CHECK_INT_EQ(lux_table_width(""), 0);
    char buf[64];
    LUX_CHECK_INT_EQ(lux_table_fit("温度計測値", 4, buf, sizeof buf), 4);
    LUX_CHECK_STR_EQ(buf, "温度..");
    LUX_CHECK_INT_EQ(lux_table_fit("abc", 10, buf, sizeof buf), 3);
    LUX_CHECK_STR_EQ(buf, "abc");
    lux_table_fit("abcdef", 2, buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "ab");
    /* The buffer limit never splits a code point. */
    lux_table_fit("ééééé", 5, buf, 6);
    LUX_CHECK_STR_EQ(buf, "éé");

    const lux_table_column_t cols[] = {{"名前", LUX_ALIGN_LEFT, 0, 0, 1},
                                       {"v", LUX_ALIGN_RIGHT, 0, 0, 0}};
    lux_table_t *t = lux_table_new(cols, 2);
    LUX_CHECK_OK(lux_table_add_row(t, (const char *const[]){"é", "1"}));
    char *out = NULL;
    LUX_CHECK_OK(lux_table_render(t, 0, &out));
    /* Widths are code points, not terminal cells: 名前 counts 2. */
    LUX_CHECK_STR_EQ(out, "名前  v\n"
                          "--  -\n"
                          "é   1\n");
    lux_free(out);
    lux_table_destroy(&t);
}

LUX_TEST(flatten_and_format_json)
{
    json_t *v = json_loads("{\"lr\":0.001,\"opt\":{\"name\":\"adam\",\"betas\":[0.9,0.99],"
                           "\"deep\":{\"x\":1}},\"empty\":{},\"flag\":true,\"none\":null}",
                           0, NULL);
    LUX_CHECK(v != NULL);
    json_t *flat = json_object();
    LUX_CHECK_OK(lux_table_flatten(v, "config", flat));
    LUX_CHECK_INT_EQ(json_object_size(flat), 7);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(flat, "config/opt/name")), "adam");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(flat, "config/opt/deep/x")), 1);
    LUX_CHECK(json_is_array(json_object_get(flat, "config/opt/betas")));
    LUX_CHECK(json_is_object(json_object_get(flat, "config/empty")));
    json_decref(flat);
    flat = json_object();
    LUX_CHECK_OK(lux_table_flatten(v, NULL, flat));
    LUX_CHECK(json_object_get(flat, "opt/name") != NULL);
    LUX_CHECK_ERR(lux_table_flatten(v, NULL, NULL), LUX_EINVAL);
    json_decref(flat);

    char buf[64];
    lux_table_format(json_object_get(v, "lr"), buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "0.001");
    lux_table_format(json_object_get(json_object_get(v, "opt"), "betas"), buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "[0.9,0.99]");
    lux_table_format(json_object_get(v, "flag"), buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "true");
    lux_table_format(json_object_get(v, "none"), buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "");
    lux_table_format(NULL, buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "");
    json_t *r = json_real(3.14159265);
    lux_table_format(r, buf, sizeof buf);
    LUX_CHECK_STR_EQ(buf, "3.1416");
    json_decref(r);
    json_decref(v);
}
