/*
 * Tests of the YAML document tree: marks (1-based line and column) on every
 * node, the lookup helpers, scalar typing, merging, trees built from JSON,
 * and the one file:line:column error formatter every config message uses.
 */
#include "test.h"

#include "error.h"
#include "yaml_tree.h"

#include <stdlib.h>
#include <string.h>

static lux_yaml_node_t *parse(const char *yaml)
{
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    int rc = lux_yaml_parse(yaml, strlen(yaml), "t.yaml", &root, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    return root;
}

static void check_json(const lux_yaml_node_t *node, const char *want)
{
    json_t *j = lux_yaml_node_to_json(node);
    LUX_CHECK(j != NULL);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    LUX_CHECK_STR_EQ(text, want);
    free(text);
    json_decref(j);
}

LUX_TEST(error_names_file_line_and_column)
{
    char err[128];
    int rc = lux_yaml_error(err, sizeof err, "t.yaml", 3, 7, "config.lr", "bad %s; fix it", "x");
    LUX_CHECK_INT_EQ(rc, LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "t.yaml:3:7: bad x; fix it");
}

LUX_TEST(error_without_marks_names_the_path_or_the_file)
{
    char err[128];
    LUX_CHECK_INT_EQ(lux_yaml_error(err, sizeof err, "<json>", 0, 0, "config.lr", "bad"),
                     LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "<json>: at 'config.lr': bad");
    LUX_CHECK_INT_EQ(lux_yaml_error(err, sizeof err, "<json>", 0, 0, NULL, "bad %d", 2),
                     LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "<json>: bad 2");
}

LUX_TEST(error_is_truncated_to_the_buffer)
{
    char err[12];
    memset(err, 'z', sizeof err);
    LUX_CHECK_INT_EQ(lux_yaml_error(err, sizeof err, "t.yaml", 1, 2, NULL, "a long message"),
                     LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "t.yaml:1:2:");
    memset(err, 'z', sizeof err);
    LUX_CHECK_INT_EQ(lux_yaml_error(err, 9, "t.yaml", 0, 0, NULL, "message"), LUX_ECONFIG);
    LUX_CHECK_STR_EQ(err, "t.yaml: ");
    LUX_CHECK_INT_EQ(lux_yaml_error(NULL, 0, "t.yaml", 1, 1, NULL, "nowhere"), LUX_ECONFIG);
}

LUX_TEST(nodes_keep_their_line_and_column)
{
    lux_yaml_node_t *root = parse("name: x\nscheduler:\n  type: asha\n  max_t: [1, 'two']\n");
    LUX_CHECK_INT_EQ(root->kind, LUX_YAML_MAPPING);
    const lux_yaml_node_t *sched = lux_yaml_node_get(root, "scheduler");
    LUX_CHECK(sched != NULL && sched->kind == LUX_YAML_MAPPING);
    const lux_yaml_node_t *key = lux_yaml_node_key(sched, "max_t");
    LUX_CHECK(key != NULL);
    LUX_CHECK_INT_EQ(key->line, 4);
    LUX_CHECK_INT_EQ(key->column, 3);
    const lux_yaml_node_t *v = lux_yaml_node_get(sched, "max_t");
    LUX_CHECK_INT_EQ(v->kind, LUX_YAML_SEQUENCE);
    LUX_CHECK_INT_EQ(v->items[1]->line, 4);
    LUX_CHECK_INT_EQ(v->items[1]->column, 14);
    LUX_CHECK(lux_yaml_node_get(root, "missing") == NULL);
    LUX_CHECK(lux_yaml_node_key(v, "max_t") == NULL); /* not a mapping */
    check_json(root, "{\"name\":\"x\",\"scheduler\":{\"max_t\":[1,\"two\"],\"type\":\"asha\"}}");
    lux_yaml_node_destroy(&root);
    LUX_CHECK(root == NULL);
    lux_yaml_node_destroy(&root);
}

LUX_TEST(plain_scalars_are_typed_quoted_ones_are_strings)
{
    lux_yaml_node_t *root =
        parse("a: 1\nb: '1'\nc: 1e-4\nd: true\ne: ~\nf:\ng: \"null\"\nh: 9999999999999999999999\n");
    check_json(root, "{\"a\":1,\"b\":\"1\",\"c\":0.0001,\"d\":true,\"e\":null,\"f\":null,"
                     "\"g\":\"null\",\"h\":1e22}");
    LUX_CHECK(lux_yaml_node_is_null(lux_yaml_node_get(root, "e")));
    LUX_CHECK(lux_yaml_node_is_null(lux_yaml_node_get(root, "f")));
    LUX_CHECK(!lux_yaml_node_is_null(lux_yaml_node_get(root, "g")));
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(lux_yaml_node_get(root, "a")), "an integer");
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(lux_yaml_node_get(root, "b")), "a string");
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(lux_yaml_node_get(root, "c")), "a number");
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(lux_yaml_node_get(root, "d")), "a boolean");
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(lux_yaml_node_get(root, "e")), "null");
    LUX_CHECK_STR_EQ(lux_yaml_node_type_name(root), "a mapping");
    lux_yaml_node_destroy(&root);
}

LUX_TEST(parse_errors_point_at_the_text)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a' (first at line 1); keep only one"},
        {"a: *x\n", "t.yaml:1:4: YAML aliases (*name) are not supported; repeat the value "
                    "instead"},
        {"? [1]\n: 2\n", "t.yaml:1:3: a mapping key must be a plain name, not a list or mapping; "
                         "write name: value"},
        {"a: 1\n---\nb: 2\n", "t.yaml:2:1: a second YAML document; an experiment file holds one "
                              "document, remove the '---' and what follows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lux_yaml_node_t *root = NULL;
        char err[512] = "";
        int rc =
            lux_yaml_parse(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", &root, err, sizeof err);
        LUX_CHECK_INT_EQ(rc, LUX_ECONFIG);
        LUX_CHECK(root == NULL);
        LUX_CHECK_STR_EQ(err, cases[i].want);
    }
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    LUX_CHECK_ERR(lux_yaml_parse("a: [1, 2\n", 9, "t.yaml", &root, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:2:1: YAML syntax error: ");
}

LUX_TEST(merge_overrides_values_and_merges_mappings)
{
    lux_yaml_node_t *dst = parse("a: {x: 1, y: 2}\nb: 1\nl: [1]\n");
    lux_yaml_node_t *src = parse("a: {y: 3}\nc: 4\nl: [2, 3]\n");
    LUX_CHECK_OK(lux_yaml_node_merge(dst, src));
    check_json(dst, "{\"a\":{\"x\":1,\"y\":3},\"b\":1,\"c\":4,\"l\":[2,3]}");
    lux_yaml_node_destroy(&src);
    lux_yaml_node_destroy(&dst);
}

LUX_TEST(trees_from_json_have_no_marks)
{
    json_t *j = json_loads("{\"a\": [1, 2.5, \"s\", null, true]}", 0, NULL);
    lux_yaml_node_t *root = lux_yaml_node_from_json(j);
    LUX_CHECK(root != NULL);
    LUX_CHECK_INT_EQ(root->line, 0);
    const lux_yaml_node_t *a = lux_yaml_node_get(root, "a");
    LUX_CHECK_INT_EQ(a->items[2]->line, 0);
    LUX_CHECK(a->items[2]->quoted);
    check_json(root, "{\"a\":[1,2.5,\"s\",null,true]}");
    lux_yaml_node_destroy(&root);
    json_decref(j);
}

/* Keys are checked for duplicates through a hash set and nodes grow
 * geometrically: 100,000 keys took 80 s to reach this error (Release) when
 * each key was compared with every earlier one; linear work takes a fraction
 * of a second there and a few seconds in the sanitizer build. The 20 s bound
 * leaves room for a sanitizer build on a busy host. */
LUX_TEST_T(many_keys_parse_in_linear_time, 120)
{
    const int n = 100000;
    size_t cap = (size_t)n * 24 + 64, len = 0;
    char *y = malloc(cap);
    LUX_CHECK(y != NULL);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(y + len, cap - len, "k%d: %d\n", i, i);
    len += (size_t)snprintf(y + len, cap - len, "k0: again\n");
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    double t0 = lux_test_now();
    LUX_CHECK_ERR(lux_yaml_parse(y, len, "t.yaml", &root, err, sizeof err), LUX_ECONFIG);
    double took = lux_test_now() - t0;
    LUX_CHECK_STR_EQ(err, "t.yaml:100001:1: duplicate key 'k0' (first at line 1); keep only one");
    LUX_CHECK_MSG(took < 20, "%d keys took %.1f s", n, took);
    /* Without the duplicate: a tree, and merging it into a copy of itself
     * (what --smoke does) is linear too. */
    len -= strlen("k0: again\n");
    lux_yaml_node_t *a = NULL, *b = NULL;
    t0 = lux_test_now();
    LUX_CHECK_OK(lux_yaml_parse(y, len, "t.yaml", &a, err, sizeof err));
    LUX_CHECK_OK(lux_yaml_parse(y, len, "t.yaml", &b, err, sizeof err));
    LUX_CHECK_OK(lux_yaml_node_merge(a, b));
    took = lux_test_now() - t0;
    LUX_CHECK_INT_EQ(a->count, (size_t)n);
    LUX_CHECK_STR_EQ(lux_yaml_node_get(a, "k99999")->scalar, "99999");
    LUX_CHECK_MSG(took < 20, "parsing and merging %d keys took %.1f s", n, took);
    lux_yaml_node_destroy(&a);
    lux_yaml_node_destroy(&b);
    free(y);
}

/* A plain scalar written as a number that no double holds is an error at
 * its position, not a string; quoted it is a string, and a key is a name. */
LUX_TEST(numbers_beyond_a_double_are_errors)
{
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    const char *y = "a: 1\nb: -1e400\n";
    LUX_CHECK_ERR(lux_yaml_parse(y, strlen(y), "t.yaml", &root, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:2:4: the number -1e400 is out of range");
    y = "a: [1, 1e999]\n";
    LUX_CHECK_ERR(lux_yaml_parse(y, strlen(y), "t.yaml", &root, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "t.yaml:1:8: the number 1e999");
    root = parse("a: '1e400'\n1e400: x\nc: 1e-400\n");
    check_json(root, "{\"1e400\":\"x\",\"a\":\"1e400\",\"c\":0.0}");
    lux_yaml_node_destroy(&root);
}
