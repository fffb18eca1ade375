/*
 * The files the docs and comments name exist, and nothing cites a path
 * outside the repository. The rules are those of docs/HACKING.md
 * ("Repository tests"); in short:
 *
 * Where: the whole text of every Markdown file; the comments of .c and .h
 * files (block and line comments, not string literals); the # comments of
 * CMakeLists.txt, .cmake, .sh, .yaml and .yml files and of every file under
 * scripts/; the # comments and triple-quoted strings of .py files.
 *
 * What is a reference:
 *   - a repository path: the name of a top-level folder (common runtime envs
 *     tune rl plots cli bench tests docs scripts experiments examples cmake,
 *     and any other top-level folder the tree has) followed
 *     by '/', then letters, digits and _ . / - * ? and {a,b} groups, ending
 *     in one of the extensions below, not preceded by a letter, digit or one
 *     of _ . / - (so another project's "x/tune/a.c" is not ours). Braces
 *     expand ("rl/seeding.{c,h}" is two paths, each must exist); a name with
 *     * or ? is a glob that must match at least one file. A trailing '.' (end
 *     of sentence) is not part of the name.
 *   - a bare Markdown name ("optimizers.md"): it must exist next to the file
 *     that names it, in docs/, or at the top of the tree.
 *   - a Markdown link target "](target)" that is not a URL or an anchor: it
 *     must exist relative to the Markdown file.
 *   - a path outside the repository is never cited: an absolute path into a
 *     machine's /work, /home or /Users tree, or a relative path starting
 *     with "../" that climbs out of the tree, is a failure even if it exists.
 * Extensions: c h md yaml yml cmake txt py png sh.
 */
#include "test.h"

#include "repo_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_SKIP, K_TEXT, K_C, K_HASH, K_PY };

static const char *const extensions[] = {"c",     "h",   "md", "yaml", "yml",
                                         "cmake", "txt", "py", "png",  "sh"};

/* The folders a repository path starts with: these, and any other
 * top-level folder the tree has. */
static const char *const top_folders[] = {"common",  "runtime",     "envs",     "tune",  "rl",
                                          "plots",   "cli",         "bench",    "tests", "docs",
                                          "scripts", "experiments", "examples", "cmake"};

static const char *const outside_roots[] = {"/work/", "/home/", "/Users/"};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static enum kind kind_of(const char *rel)
{
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    if (ends_with(rel, ".md"))
        return K_TEXT;
    if (ends_with(rel, ".c") || ends_with(rel, ".h"))
        return K_C;
    if (ends_with(rel, ".py"))
        return K_PY;
    if (strcmp(base, "CMakeLists.txt") == 0 || ends_with(rel, ".cmake") || ends_with(rel, ".sh") ||
        ends_with(rel, ".yaml") || ends_with(rel, ".yml") || strncmp(rel, "scripts/", 8) == 0)
        return K_HASH;
    return K_SKIP;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_path_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '/' || c == '-';
}

/* Copies the comments of C source `in` into `out` (same length); every other
 * byte becomes a space, newlines stay, so offsets and line numbers hold. */
static void mask_c(const char *in, char *out, size_t n)
{
    enum { CODE, LINE, BLOCK, STR, CHR } st = CODE;
    for (size_t i = 0; i < n; i++) {
        char c = in[i], next = i + 1 < n ? in[i + 1] : '\0';
        int keep = 0;
        switch (st) {
        case CODE:
            if (c == '/' && (next == '/' || next == '*')) {
                st = next == '/' ? LINE : BLOCK;
                out[i] = out[i + 1] = ' ';
                i++;
                continue;
            }
            if (c == '"')
                st = STR;
            else if (c == '\'')
                st = CHR;
            break;
        case LINE:
            if (c == '\n')
                st = CODE;
            else
                keep = 1;
            break;
        case BLOCK:
            if (c == '*' && next == '/') {
                out[i] = out[i + 1] = ' ';
                i++;
                st = CODE;
                continue;
            }
            keep = 1;
            break;
        case STR:
        case CHR:
            if (c == '\\' && next != '\0') {
                out[i] = ' ';
                i++;
                out[i] = next == '\n' ? '\n' : ' ';
                continue;
            }
            if (c == (st == STR ? '"' : '\'') || c == '\n')
                st = CODE;
            break;
        }
        out[i] = keep || c == '\n' ? c : ' ';
    }
}

/* The same for '#' comments (a '#' at the start of a line or after a blank,
 * outside quotes) and, for Python, triple-quoted strings. */
static void mask_hash(const char *in, char *out, size_t n, int python)
{
    int comment = 0, squote = 0, dquote = 0, triple = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (python && !comment && !squote && !dquote && i + 2 < n &&
            (strncmp(in + i, "\"\"\"", 3) == 0 || strncmp(in + i, "'''", 3) == 0)) {
            triple = !triple;
            out[i] = out[i + 1] = out[i + 2] = ' ';
            i += 2;
            continue;
        }
        if (c == '\n') {
            comment = squote = dquote = 0;
            out[i] = c;
            continue;
        }
        if (triple || comment) {
            out[i] = c;
            continue;
        }
        if (c == '"' && !squote)
            dquote = !dquote;
        else if (c == '\'' && !dquote)
            squote = !squote;
        else if (c == '#' && !squote && !dquote &&
                 (i == 0 || in[i - 1] == '\n' || in[i - 1] == ' ' || in[i - 1] == '\t'))
            comment = 1;
        out[i] = ' ';
    }
}

struct scan {
    const lux_repo_tree_t *tree;
    const char *rel; /* the file being read */
    char dir[4096];  /* its folder */
    lux_repo_report_t *report;
};

static int has_listed_extension(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return 0;
    for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++)
        if (strcmp(dot + 1, extensions[i]) == 0)
            return 1;
    return 0;
}

static int path_exists(const lux_repo_tree_t *tree, const char *path)
{
    if (strpbrk(path, "*?") != NULL)
        return lux_repo_glob_count(tree, path) > 0;
    return lux_repo_exists(tree, path);
}

/* Checks every expansion of the brace groups of `token`. `shown` is the
 * token as written, for the message. */
static void check_expanded(struct scan *s, int line, const char *token, const char *shown,
                           int depth)
{
    const char *open = strchr(token, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (open == NULL || close == NULL || depth > 4) {
        if (!has_listed_extension(token) || path_exists(s->tree, token))
            return;
        if (strcmp(token, shown) == 0)
            lux_repo_report_add(s->report, "%s:%d: names %s, which is not in the repository",
                                s->rel, line, token);
        else
            lux_repo_report_add(s->report,
                                "%s:%d: names %s (in %s), which is not in the repository", s->rel,
                                line, token, shown);
        return;
    }
    const char *alt = open + 1;
    while (alt <= close) {
        size_t n = strcspn(alt, ",}");
        char expanded[4096];
        snprintf(expanded, sizeof expanded, "%.*s%.*s%s", (int)(open - token), token, (int)n, alt,
                 close + 1);
        check_expanded(s, line, expanded, shown, depth + 1);
        alt += n + 1;
    }
}

/* A repository path starting at t[i] (whose top folder matched); returns
 * its length. */
static size_t repo_path(struct scan *s, const char *t, size_t i, int line)
{
    size_t j = i;
    for (;;) {
        char c = t[j];
        if (is_path_char(c) || c == '*' || c == '?') {
            j++;
        } else if (c == '{') {
            size_t k = j + 1;
            while (k < j + 128 && (is_path_char(t[k]) || t[k] == ',' || t[k] == '*'))
                k++;
            if (t[k] != '}')
                break;
            j = k + 1;
        } else {
            break;
        }
    }
    size_t len = j - i;
    while (len > 0 && t[i + len - 1] == '.')
        len--;
    char token[4096];
    if (len == 0 || len >= sizeof token)
        return j - i;
    memcpy(token, t + i, len);
    token[len] = '\0';
    check_expanded(s, line, token, token, 0);
    return j - i;
}

/* A "../" path starting at t[i]: it must stay inside the tree (and exist,
 * when it names a file of a listed kind). Returns its length. */
static size_t relative_path(struct scan *s, const char *t, size_t i, int line)
{
    size_t len = 0;
    while (is_path_char(t[i + len]))
        len++;
    size_t end = len;
    while (len > 0 && t[i + len - 1] == '.')
        len--;
    char token[4096], joined[4096];
    if (len >= sizeof token)
        return end;
    memcpy(token, t + i, len);
    token[len] = '\0';
    if (lux_repo_join(s->dir, token, joined, sizeof joined) != 0)
        lux_repo_report_add(s->report,
                            "%s:%d: cites %s, a path outside the repository; cite a file of "
                            "the repository, or the paper or project by name",
                            s->rel, line, token);
    else if (has_listed_extension(joined) && !lux_repo_exists(s->tree, joined))
        lux_repo_report_add(s->report, "%s:%d: names %s (%s), which is not in the repository",
                            s->rel, line, token, joined);
    return end;
}

/* A Markdown link target at t[i] (just after "]("); returns its length. */
static size_t link_target(struct scan *s, const char *t, size_t i, int line)
{
    size_t n = strcspn(t + i, ") \t\n");
    char target[4096], joined[4096];
    if (t[i + n] != ')' || n == 0 || n >= sizeof target)
        return n;
    memcpy(target, t + i, n);
    target[n] = '\0';
    if (strstr(target, "://") != NULL || target[0] == '#' || strncmp(target, "mailto:", 7) == 0)
        return n;
    target[strcspn(target, "#")] = '\0';
    if (target[0] == '/' || lux_repo_join(s->dir, target, joined, sizeof joined) != 0)
        lux_repo_report_add(s->report,
                            "%s:%d: links to %s, a path outside the repository; link a file "
                            "of the repository, or the paper or project by its URL",
                            s->rel, line, target);
    else if (!lux_repo_exists(s->tree, joined))
        lux_repo_report_add(s->report, "%s:%d: links to %s (%s), which is not in the repository",
                            s->rel, line, target, joined);
    return n;
}

/* A bare Markdown name at t[i]: returns its length, or 0 if there is none. */
static size_t bare_markdown(struct scan *s, const char *t, size_t i, int line)
{
    size_t n = 0;
    while (is_alnum(t[i + n]) || t[i + n] == '_' || t[i + n] == '-')
        n++;
    if (n == 0 || strncmp(t + i + n, ".md", 3) != 0 || is_alnum(t[i + n + 3]) ||
        t[i + n + 3] == '_')
        return 0;
    char name[256], here[4096], docs[512];
    if (n + 3 >= sizeof name)
        return n + 3;
    memcpy(name, t + i, n + 3);
    name[n + 3] = '\0';
    snprintf(docs, sizeof docs, "docs/%s", name);
    if ((lux_repo_join(s->dir, name, here, sizeof here) == 0 && lux_repo_exists(s->tree, here)) ||
        lux_repo_exists(s->tree, docs) || lux_repo_exists(s->tree, name))
        return n + 3;
    lux_repo_report_add(s->report,
                        "%s:%d: names %s, which is neither in docs/ nor at the top of the "
                        "repository",
                        s->rel, line, name);
    return n + 3;
}

static void scan_text(struct scan *s, const char *t, size_t n, int markdown)
{
    int line = 1;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\n') {
            line++;
            continue;
        }
        if (markdown && t[i] == ']' && t[i + 1] == '(') {
            i += 1 + link_target(s, t, i + 2, line);
            continue;
        }
        if (i > 0 && is_path_char(t[i - 1]))
            continue;
        size_t used = 0;
        for (size_t k = 0; k < sizeof outside_roots / sizeof *outside_roots; k++) {
            size_t m = strlen(outside_roots[k]);
            if (strncmp(t + i, outside_roots[k], m) == 0) {
                size_t len = m;
                while (is_path_char(t[i + len]))
                    len++;
                lux_repo_report_add(s->report,
                                    "%s:%d: cites %.*s, a path outside the repository; cite a "
                                    "file of the repository, or the paper or project by name",
                                    s->rel, line, (int)len, t + i);
                used = len;
            }
        }
        if (used == 0 && strncmp(t + i, "../", 3) == 0)
            used = relative_path(s, t, i, line);
        size_t tops = sizeof top_folders / sizeof *top_folders;
        for (size_t k = 0; used == 0 && k < tops + s->tree->top_count; k++) {
            const char *top = k < tops ? top_folders[k] : s->tree->top_dirs[k - tops];
            size_t m = strlen(top);
            if (strncmp(t + i, top, m) == 0 && t[i + m] == '/')
                used = repo_path(s, t, i, line);
        }
        if (used == 0)
            used = bare_markdown(s, t, i, line);
        if (used > 0)
            i += used - 1;
    }
}

/* Runs the check on the tree at `root`; the problems go to `report`. */
static void check_tree(const char *root, lux_repo_report_t *report)
{
    lux_repo_tree_t tree;
    if (lux_repo_tree_load(&tree, root) != 0) {
        lux_repo_report_add(report, "%s: cannot walk the source tree", root);
        return;
    }
    for (size_t f = 0; f < tree.count; f++) {
        const char *rel = tree.paths[f];
        enum kind kind = kind_of(rel);
        if (kind == K_SKIP)
            continue;
        char *text = lux_repo_read(&tree, rel);
        if (text == NULL) {
            lux_repo_report_add(report, "%s: cannot be read", rel);
            continue;
        }
        size_t n = strlen(text);
        char *masked = malloc(n + 4);
        if (masked == NULL) {
            free(text);
            continue;
        }
        if (kind == K_TEXT)
            memcpy(masked, text, n);
        else if (kind == K_C)
            mask_c(text, masked, n);
        else
            mask_hash(text, masked, n, kind == K_PY);
        memset(masked + n, 0, 4);
        struct scan s = {.tree = &tree, .rel = rel, .report = report};
        lux_repo_dirname(rel, s.dir, sizeof s.dir);
        scan_text(&s, masked, n, kind == K_TEXT);
        free(masked);
        free(text);
    }
    lux_repo_tree_fini(&tree);
}

LUX_TEST(named_paths_exist)
{
    lux_repo_report_t report = {0};
    check_tree(lux_test_source_dir(), &report);
    if (report.count > 0)
        fprintf(stderr, "%s", report.text);
    int count = report.count;
    lux_repo_report_fini(&report);
    LUX_CHECK_MSG(count == 0, "%d file name problem(s), listed above", count);
}

static void put(const char *root, const char *rel, const char *text)
{
    LUX_CHECK_MSG(lux_repo_put(root, rel, text) == 0, "cannot write %s/%s", root, rel);
}

LUX_TEST(catches_bad_names)
{
    const char *root = lux_test_tmpdir();
    put(root, "README.md", "See docs/guide.md, docs/gone.md and [x](docs/img/a.png).\n");
    put(root, "docs/guide.md",
        "Read ALGORITHMS.md and guide.md, [the runner](../tune/runner.c) and\n"
        "[up](../../outside.md), then tune/yaml.{h,c} and tune/*.c and rl/*.h.\n"
        "Facts in /work/shared/notes.md and ../shared/STYLE.md; ray/tune/x.c is theirs.\n");
    put(root, "docs/img/a.png", "");
    put(root, "tune/yaml.h", "/* See tune/runner.c and rl/seeding.c. */\n");
    put(root, "tune/runner.c",
        "#include \"yaml.h\"\n"
        "static const char *p = \"tune/missing.c\"; // but rl/also_missing.h\n"
        "/* Two lines,\n * and cmake/x.cmake. */\n");
    put(root, "CMakeLists.txt", "set(X \"# tune/a.c\") # tests/none.c\n");
    put(root, "scripts/run", "#!/bin/sh\necho tune/b.c  # examples/none.yaml\n");
    put(root, "tests/t.py", "\"\"\"As in BUILDERS.md.\"\"\"\nx = 'docs/y.md'  # docs/z.md\n");

    lux_repo_report_t report = {0};
    check_tree(root, &report);
    const char *text = report.text ? report.text : "";
    fprintf(stderr, "%s", text);
    LUX_CHECK_CONTAINS(text, "README.md:1: names docs/gone.md, which is not");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:1: names ALGORITHMS.md, which is neither in docs/");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:2: links to ../../outside.md, a path outside");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:2: names tune/yaml.c (in tune/yaml.{h,c}), which is");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:2: names rl/*.h, which is not");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:3: cites /work/shared/notes.md, a path outside");
    LUX_CHECK_CONTAINS(text, "docs/guide.md:3: names ../shared/STYLE.md (shared/STYLE.md)");
    LUX_CHECK_CONTAINS(text, "tune/yaml.h:1: names rl/seeding.c, which is not");
    LUX_CHECK_CONTAINS(text, "tune/runner.c:2: names rl/also_missing.h, which is not");
    LUX_CHECK_CONTAINS(text, "tune/runner.c:4: names cmake/x.cmake, which is not");
    LUX_CHECK_CONTAINS(text, "CMakeLists.txt:1: names tests/none.c, which is not");
    LUX_CHECK_CONTAINS(text, "scripts/run:2: names examples/none.yaml, which is not");
    LUX_CHECK_CONTAINS(text, "tests/t.py:1: names BUILDERS.md, which is neither");
    LUX_CHECK_CONTAINS(text, "tests/t.py:2: names docs/z.md, which is not");
    /* Strings are not comments; other projects' paths and files that exist
     * are fine. */
    LUX_CHECK_MSG(strstr(text, "tune/missing.c") == NULL, "string literal read");
    LUX_CHECK_MSG(strstr(text, "tune/a.c") == NULL, "CMake string read");
    LUX_CHECK_MSG(strstr(text, "tune/b.c") == NULL, "shell command read");
    LUX_CHECK_MSG(strstr(text, "docs/y.md") == NULL, "Python string read");
    LUX_CHECK_MSG(strstr(text, "ray/tune") == NULL && strstr(text, "tune/x.c") == NULL,
                  "another project's path read");
    LUX_CHECK_MSG(strstr(text, "runner.c (") == NULL && strstr(text, "a.png") == NULL,
                  "an existing file reported");
    LUX_CHECK_INT_EQ(report.count, 14);
    lux_repo_report_fini(&report);
}
