/*
 * What the repository checks (include_graph_test, doc_names_test) share: the
 * list of a source tree's files and a report of the problems a check found.
 *
 * A tree is walked from its root without following symbolic links. Hidden
 * entries (.git, .ci, ...), top-level folders whose name starts with "build"
 * or is "runs", the fuzzers' seed corpora (tests/fuzz/corpus), and any folder holding a
 * CMakeCache.txt (a build directory wherever it was made) are left out: the checks are about
 * sources only. Paths are relative to the root, '/'-separated and sorted, so reports come out in
 * the same order on every machine.
 */
#ifndef LUX_REPO_FILES_H
#define LUX_REPO_FILES_H

#include <stddef.h>

typedef struct {
    char *root;
    char **paths; /* files (not folders), relative to root, sorted */
    size_t count;
    char **top_dirs; /* top-level folders that were walked, sorted */
    size_t top_count;
} lux_repo_tree_t;

/* Walks `root`. Returns 0, or -1 when `root` cannot be read or memory runs
 * out (then the tree is empty and lux_repo_tree_fini is still safe). */
int lux_repo_tree_load(lux_repo_tree_t *tree, const char *root);
void lux_repo_tree_fini(lux_repo_tree_t *tree);

/* The whole file `rel` of the tree, NUL-terminated, heap-allocated (the
 * caller frees it with free()), or NULL when it cannot be read. */
char *lux_repo_read(const lux_repo_tree_t *tree, const char *rel);

/* 1 when `rel` (a relative path, possibly a directory) exists in the tree's
 * root on disk, else 0. */
int lux_repo_exists(const lux_repo_tree_t *tree, const char *rel);

/* Number of tree paths matching the glob(3) pattern `rel` under the root. */
int lux_repo_glob_count(const lux_repo_tree_t *tree, const char *rel);

/* Joins `dir` (relative to the root, "" for the root) and `rel`, removing
 * "." and ".." components, into `out`. Returns 0, or -1 when the result
 * would leave the root or does not fit. */
int lux_repo_join(const char *dir, const char *rel, char *out, size_t size);

/* The folder part of `rel` ("" for a file at the root), into `out`. */
void lux_repo_dirname(const char *rel, char *out, size_t size);

/* Writes `text` to `root`/`rel`, creating the folders on the way (for the
 * checks' own tests, which build small trees). Returns 0 or -1. */
int lux_repo_put(const char *root, const char *rel, const char *text);

/* Problems found by a check: one line each, in the order found. */
typedef struct {
    char *text;
    size_t len, cap;
    int count;
} lux_repo_report_t;

void lux_repo_report_add(lux_repo_report_t *report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lux_repo_report_fini(lux_repo_report_t *report);

#endif
