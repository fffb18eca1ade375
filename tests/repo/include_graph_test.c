/*
 * The include graph keeps the layer arrows of docs/architecture.md.
 *
 * Every `#include "x.h"` of every .c and .h under the layer folders (common,
 * runtime, envs, tune, rl, plots, cli, bench) is resolved the way the
 * compiler resolves it: the including file's own folder first, then the one
 * folder of the source tree that holds a header of that name. Headers live
 * in exactly one place: a header name found in two folders outside tests/
 * (and build directories) is a failure naming both, since a bare include of
 * it means whichever include path comes first. The folder an include lands
 * in must be one its layer may use:
 *
 *     common   nothing
 *     runtime  common
 *     envs     common
 *     tune     common, runtime, envs
 *     rl       common, runtime, envs, tune
 *     plots    common, runtime, envs, tune
 *     cli      everything (bench counts as part of cli)
 *
 * and the folder graph the includes draw has no cycle. System headers
 * (<x.h>) are not looked at; a quoted header found nowhere in the tree is
 * accepted only when a CMake file names it (a generated header such as
 * lux_version.h), and is a failure otherwise.
 *
 * The same check runs on small trees written into a temporary directory, to
 * show that each kind of violation is caught.
 */
#include "test.h"

#include "repo_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { L_COMMON, L_RUNTIME, L_ENVS, L_TUNE, L_RL, L_PLOTS, L_CLI, L_BENCH, L_COUNT, L_NONE = -1 };

static const char *const layer_names[L_COUNT] = {"common", "runtime", "envs", "tune",
                                                 "rl",     "plots",   "cli",  "bench"};

#define B(l) (1u << (l))
#define ALL  (B(L_COUNT) - 1u)

/* What each layer may include besides its own folder. */
static const unsigned layer_uses[L_COUNT] = {
    [L_COMMON] = 0,
    [L_RUNTIME] = B(L_COMMON),
    [L_ENVS] = B(L_COMMON),
    [L_TUNE] = B(L_COMMON) | B(L_RUNTIME) | B(L_ENVS),
    [L_RL] = B(L_COMMON) | B(L_RUNTIME) | B(L_ENVS) | B(L_TUNE),
    [L_PLOTS] = B(L_COMMON) | B(L_RUNTIME) | B(L_ENVS) | B(L_TUNE),
    [L_CLI] = ALL,
    [L_BENCH] = ALL,
};

static int layer_of(const char *rel)
{
    for (int l = 0; l < L_COUNT; l++) {
        size_t n = strlen(layer_names[l]);
        if (strncmp(rel, layer_names[l], n) == 0 && rel[n] == '/')
            return l;
    }
    return L_NONE;
}

/* The top-level folder a path is in (its first component), for messages. */
static void top_of(const char *rel, char *out, size_t size)
{
    size_t n = strcspn(rel, "/");
    if (n >= size)
        n = size - 1;
    memcpy(out, rel, n);
    out[n] = '\0';
}

static const char *base_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? slash + 1 : rel;
}

static int is_source(const char *rel)
{
    size_t n = strlen(rel);
    return n > 2 && rel[n - 2] == '.' && (rel[n - 1] == 'c' || rel[n - 1] == 'h');
}

/* Headers by name: every .h of the tree outside tests/. */
struct headers {
    const char **paths; /* sorted by base name, then path */
    size_t count;
};

static int cmp_by_base(const void *a, const void *b)
{
    const char *pa = *(const char *const *)a, *pb = *(const char *const *)b;
    int c = strcmp(base_of(pa), base_of(pb));
    return c ? c : strcmp(pa, pb);
}

static void headers_load(struct headers *h, const lux_repo_tree_t *tree)
{
    h->paths = calloc(tree->count + 1, sizeof *h->paths);
    h->count = 0;
    for (size_t i = 0; i < tree->count; i++) {
        const char *p = tree->paths[i];
        size_t n = strlen(p);
        if (n > 2 && strcmp(p + n - 2, ".h") == 0 && strncmp(p, "tests/", 6) != 0)
            h->paths[h->count++] = p;
    }
    qsort(h->paths, h->count, sizeof *h->paths, cmp_by_base);
}

/* The paths of the headers called `name`: *first is the index of the first,
 * the return value how many there are. */
static size_t headers_find(const struct headers *h, const char *name, size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (strcmp(base_of(h->paths[i]), name) == 0) {
            if (n == 0)
                *first = i;
            n++;
        }
    }
    return n;
}

/* Every header name is in one place only. */
static void check_unique(const struct headers *h, lux_repo_report_t *report)
{
    for (size_t i = 0; i < h->count;) {
        size_t j = i + 1;
        while (j < h->count && strcmp(base_of(h->paths[i]), base_of(h->paths[j])) == 0)
            j++;
        if (j - i > 1) {
            char where[2048] = "";
            for (size_t k = i; k < j; k++) {
                size_t len = strlen(where);
                snprintf(where + len, sizeof where - len, "%s%s", k == i ? "" : " and ",
                         h->paths[k]);
            }
            lux_repo_report_add(report,
                                "header name %s is defined in %zu places: %s; a bare #include "
                                "\"%s\" cannot tell them apart, so rename all but one",
                                base_of(h->paths[i]), j - i, where, base_of(h->paths[i]));
        }
        i = j;
    }
}

/* The text of every CMake file, for recognising generated headers. */
static char *cmake_text(const lux_repo_tree_t *tree)
{
    size_t len = 0;
    char *all = calloc(1, 1);
    for (size_t i = 0; all != NULL && i < tree->count; i++) {
        const char *p = tree->paths[i];
        size_t n = strlen(p);
        if (strcmp(base_of(p), "CMakeLists.txt") != 0 &&
            !(n > 6 && strcmp(p + n - 6, ".cmake") == 0))
            continue;
        char *text = lux_repo_read(tree, p);
        if (text == NULL)
            continue;
        size_t tlen = strlen(text);
        char *bigger = realloc(all, len + tlen + 2);
        if (bigger != NULL) {
            all = bigger;
            memcpy(all + len, text, tlen);
            len += tlen;
            all[len++] = '\n';
            all[len] = '\0';
        }
        free(text);
    }
    return all;
}

static int named_by_cmake(const char *cmake, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = cmake; p != NULL && (p = strstr(p, name)) != NULL; p += n) {
        char before = p == cmake ? ' ' : p[-1];
        if (before != '_' && !(before >= 'a' && before <= 'z') &&
            !(before >= 'A' && before <= 'Z') && !(before >= '0' && before <= '9'))
            return 1;
    }
    return 0;
}

/* One edge of the folder graph, with the first include that drew it. */
struct graph {
    char witness[L_COUNT][L_COUNT][512];
};

/* The node a layer is in the folder graph: bench is part of cli. */
static int node_of(int layer)
{
    return layer == L_BENCH ? L_CLI : layer;
}

static void check_file(const lux_repo_tree_t *tree, const struct headers *h, const char *cmake,
                       const char *rel, struct graph *g, lux_repo_report_t *report)
{
    int from = layer_of(rel);
    char *text = lux_repo_read(tree, rel);
    if (text == NULL) {
        lux_repo_report_add(report, "%s: cannot be read", rel);
        return;
    }
    char dir[4096];
    lux_repo_dirname(rel, dir, sizeof dir);
    int line = 0;
    for (char *save = NULL, *l = text; l != NULL; l = save) {
        line++;
        save = strchr(l, '\n');
        if (save != NULL)
            *save++ = '\0';
        const char *p = l + strspn(l, " \t");
        if (*p++ != '#')
            continue;
        p += strspn(p, " \t");
        if (strncmp(p, "include", 7) != 0)
            continue;
        p += 7;
        p += strspn(p, " \t");
        if (*p++ != '"')
            continue;
        size_t n = strcspn(p, "\"");
        if (p[n] != '"' || n == 0 || n >= 1024)
            continue;
        char name[1024];
        memcpy(name, p, n);
        name[n] = '\0';

        /* Resolve: own folder, then (a path) from the root, then by name. */
        char target[4096];
        int found = 0;
        if (lux_repo_join(dir, name, target, sizeof target) == 0 && lux_repo_exists(tree, target))
            found = 1;
        else if (strchr(name, '/') != NULL && lux_repo_join("", name, target, sizeof target) == 0 &&
                 lux_repo_exists(tree, target))
            found = 1;
        if (!found && strchr(name, '/') == NULL) {
            size_t first = 0, count = headers_find(h, name, &first);
            if (count == 1) {
                snprintf(target, sizeof target, "%s", h->paths[first]);
                found = 1;
            } else if (count > 1) {
                lux_repo_report_add(report,
                                    "%s:%d: #include \"%s\" is ambiguous: %s and %s both "
                                    "define it (see the header name clash above)",
                                    rel, line, name, h->paths[first], h->paths[first + 1]);
                continue;
            }
        }
        if (!found) {
            if (!named_by_cmake(cmake, base_of(name)))
                lux_repo_report_add(report,
                                    "%s:%d: #include \"%s\" is in no folder of the source tree "
                                    "(outside tests/) and no CMake file generates it",
                                    rel, line, name);
            continue;
        }
        int to = layer_of(target);
        if (to == from)
            continue;
        char to_dir[256];
        top_of(target, to_dir, sizeof to_dir);
        if (to == L_NONE || !(layer_uses[from] & B(to))) {
            char may[256] = "";
            for (int l = 0; l < L_COUNT; l++) {
                if (layer_uses[from] & B(l)) {
                    size_t len = strlen(may);
                    snprintf(may + len, sizeof may - len, "%s%s", len ? ", " : "", layer_names[l]);
                }
            }
            lux_repo_report_add(report,
                                "%s:%d: #include \"%s\" (%s) draws the edge %s -> %s, which the "
                                "layers do not allow (%s may use: %s)",
                                rel, line, name, target, layer_names[from], to_dir,
                                layer_names[from], may[0] ? may : "nothing");
        }
        if (to != L_NONE && node_of(from) != node_of(to) &&
            g->witness[node_of(from)][node_of(to)][0] == '\0')
            snprintf(g->witness[node_of(from)][node_of(to)], sizeof g->witness[0][0],
                     "%.300s:%d includes \"%.150s\"", rel, line, name);
    }
    free(text);
}

/* Depth-first search for a cycle through `node`; `stack` holds the path. */
static int find_cycle(const struct graph *g, int node, int *state, int *stack, int depth,
                      lux_repo_report_t *report)
{
    state[node] = 1;
    stack[depth] = node;
    for (int next = 0; next < L_COUNT; next++) {
        if (g->witness[node][next][0] == '\0')
            continue;
        if (state[next] == 1) {
            char text[4096] = "";
            int start = 0;
            while (stack[start] != next)
                start++;
            for (int i = start; i <= depth; i++) {
                int to = i < depth ? stack[i + 1] : next;
                size_t len = strlen(text);
                snprintf(text + len, sizeof text - len, "%s%s -> %s (%s)", len ? "; " : "",
                         layer_names[stack[i]], layer_names[to], g->witness[stack[i]][to]);
            }
            lux_repo_report_add(report, "folder cycle: %s", text);
            return 1;
        }
        if (state[next] == 0 && find_cycle(g, next, state, stack, depth + 1, report))
            return 1;
    }
    state[node] = 2;
    return 0;
}

/* Runs every check on the tree at `root`; the problems go to `report`. */
static void check_tree(const char *root, lux_repo_report_t *report)
{
    lux_repo_tree_t tree;
    if (lux_repo_tree_load(&tree, root) != 0) {
        lux_repo_report_add(report, "%s: cannot walk the source tree", root);
        return;
    }
    struct headers h;
    headers_load(&h, &tree);
    check_unique(&h, report);
    char *cmake = cmake_text(&tree);
    struct graph *g = calloc(1, sizeof *g);
    for (size_t i = 0; g != NULL && i < tree.count; i++)
        if (layer_of(tree.paths[i]) != L_NONE && is_source(tree.paths[i]))
            check_file(&tree, &h, cmake, tree.paths[i], g, report);
    int state[L_COUNT] = {0}, stack[L_COUNT + 1];
    for (int l = 0; g != NULL && l < L_COUNT; l++)
        if (state[l] == 0 && find_cycle(g, l, state, stack, 0, report))
            break;
    free(g);
    free(cmake);
    free(h.paths);
    lux_repo_tree_fini(&tree);
}

LUX_TEST(layers_hold)
{
    lux_repo_report_t report = {0};
    check_tree(lux_test_source_dir(), &report);
    if (report.count > 0)
        fprintf(stderr, "%s", report.text);
    int count = report.count;
    lux_repo_report_fini(&report);
    LUX_CHECK_MSG(count == 0, "%d include graph problem(s), listed above", count);
}

static void put(const char *root, const char *rel, const char *text)
{
    LUX_CHECK_MSG(lux_repo_put(root, rel, text) == 0, "cannot write %s/%s", root, rel);
}

LUX_TEST(catches_violations)
{
    const char *root = lux_test_tmpdir();
    put(root, "CMakeLists.txt", "# writes gen_version.h into the build tree\n");
    put(root, "common/error.h", "#include <stdio.h>\n");
    put(root, "runtime/store.h", "#include \"error.h\"\n");
    put(root, "tune/store.h", "\n");
    put(root, "tune/runner.c",
        "#include \"store.h\"\n#include \"gen_version.h\"\n#include \"lost.h\"\n");
    put(root, "tune/trainable.h", "#include \"policy.h\"\n");
    put(root, "rl/policy.h", "#include \"trainable.h\"\n");
    put(root, "envs/env.c", "#include \"runner.h\"\n#include \"error.h\"\n");
    put(root, "tune/runner.h", "\n");
    put(root, "plots/plot.c", "#include \"store.h\"\n");
    put(root, "tests/harness/test.h", "\n");
    put(root, "cli/main.c", "#include \"test.h\"\n#include \"policy.h\"\n");
    put(root, "build/generated/lux_other.h", "\n");

    lux_repo_report_t report = {0};
    check_tree(root, &report);
    const char *text = report.text ? report.text : "";
    fprintf(stderr, "%s", text);
    LUX_CHECK_CONTAINS(text, "header name store.h is defined in 2 places: runtime/store.h and "
                             "tune/store.h");
    LUX_CHECK_CONTAINS(text, "plots/plot.c:1: #include \"store.h\" is ambiguous: runtime/store.h "
                             "and tune/store.h");
    LUX_CHECK_CONTAINS(text, "tune/runner.c:3: #include \"lost.h\" is in no folder");
    LUX_CHECK_CONTAINS(text, "tune/trainable.h:1: #include \"policy.h\" (rl/policy.h) draws the "
                             "edge tune -> rl");
    LUX_CHECK_CONTAINS(text, "envs/env.c:1: #include \"runner.h\" (tune/runner.h) draws the edge "
                             "envs -> tune, which the layers do not allow (envs may use: common)");
    LUX_CHECK_CONTAINS(text, "cli/main.c:1: #include \"test.h\" is in no folder");
    LUX_CHECK_CONTAINS(text, "folder cycle: tune -> rl (tune/trainable.h:1 includes "
                             "\"policy.h\"); rl -> tune (rl/policy.h:1 includes \"trainable.h\")");
    /* Same-folder store.h, generated headers, common and cli -> rl are fine;
     * build trees are not read. */
    LUX_CHECK_MSG(strstr(text, "tune/runner.c:1") == NULL, "tune/runner.c:1 reported");
    LUX_CHECK_MSG(strstr(text, "gen_version.h") == NULL, "generated header reported");
    LUX_CHECK_MSG(strstr(text, "envs/env.c:2") == NULL, "envs -> common reported");
    LUX_CHECK_MSG(strstr(text, "cli/main.c:2") == NULL, "cli -> rl reported");
    LUX_CHECK_MSG(strstr(text, "lux_other.h") == NULL, "build tree read");
    LUX_CHECK_INT_EQ(report.count, 7);
    lux_repo_report_fini(&report);
}
