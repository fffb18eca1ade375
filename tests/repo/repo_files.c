/*
 * The source tree walk and the problem report of the repository checks
 * (repo_files.h). Plain malloc/free: this is test code, and a failed
 * allocation simply fails the walk.
 */
#include "repo_files.h"

#include "fs.h"

#include <dirent.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_CAP 4096

struct list {
    char **items;
    size_t count, cap;
};

static int list_add(struct list *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    if ((l->items[l->count] = strdup(s)) == NULL)
        return -1;
    l->count++;
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder to leave out: build trees and run directories at the top, the
 * fuzzers' seed corpora (inputs, often mangled copies of other files), and
 * any folder that CMake configured into. */
static int skip_dir(const char *root, const char *rel, int top)
{
    const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    if (top && (strncmp(name, "build", 5) == 0 || strcmp(name, "runs") == 0))
        return 1;
    if (strcmp(rel, "tests/fuzz/corpus") == 0)
        return 1;
    char path[2 * PATH_CAP + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/CMakeCache.txt", root, rel);
    return lstat(path, &st) == 0;
}

static int walk(const char *root, const char *rel, struct list *files, struct list *tops)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *dir = opendir(path);
    if (dir == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[PATH_CAP], full[2 * PATH_CAP + 2];
        int n = snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof child)
            continue;
        snprintf(full, sizeof full, "%s/%s", root, child);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (skip_dir(root, child, rel[0] == '\0'))
                continue;
            if (rel[0] == '\0' && list_add(tops, child) != 0)
                rc = -1;
            else if (walk(root, child, files, tops) != 0)
                rc = -1;
        } else if (S_ISREG(st.st_mode)) {
            rc = list_add(files, child);
        }
    }
    closedir(dir);
    return rc;
}

int lux_repo_tree_load(lux_repo_tree_t *tree, const char *root)
{
    memset(tree, 0, sizeof *tree);
    struct list files = {0}, tops = {0};
    if ((tree->root = strdup(root)) == NULL || walk(root, "", &files, &tops) != 0) {
        list_free(&files);
        list_free(&tops);
        free(tree->root);
        tree->root = NULL;
        return -1;
    }
    qsort(files.items, files.count, sizeof *files.items, cmp_str);
    qsort(tops.items, tops.count, sizeof *tops.items, cmp_str);
    tree->paths = files.items;
    tree->count = files.count;
    tree->top_dirs = tops.items;
    tree->top_count = tops.count;
    return 0;
}

void lux_repo_tree_fini(lux_repo_tree_t *tree)
{
    struct list files = {tree->paths, tree->count, tree->count};
    struct list tops = {tree->top_dirs, tree->top_count, tree->top_count};
    list_free(&files);
    list_free(&tops);
    free(tree->root);
    memset(tree, 0, sizeof *tree);
}

char *lux_repo_read(const lux_repo_tree_t *tree, const char *rel)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", tree->root, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

int lux_repo_exists(const lux_repo_tree_t *tree, const char *rel)
{
    char path[PATH_CAP];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", tree->root, rel);
    return stat(path, &st) == 0;
}

int lux_repo_glob_count(const lux_repo_tree_t *tree, const char *rel)
{
    char pattern[PATH_CAP];
    snprintf(pattern, sizeof pattern, "%s/%s", tree->root, rel);
    glob_t g;
    int n = 0;
    if (glob(pattern, 0, NULL, &g) == 0)
        n = (int)g.gl_pathc;
    globfree(&g);
    return n;
}

int lux_repo_join(const char *dir, const char *rel, char *out, size_t size)
{
    char buf[PATH_CAP];
    int n = snprintf(buf, sizeof buf, "%s%s%s", dir, dir[0] ? "/" : "", rel);
    if (n < 0 || (size_t)n >= sizeof buf || size == 0)
        return -1;
    /* Rebuild component by component; ".." pops the last one kept. */
    size_t len = 0;
    out[0] = '\0';
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part != NULL;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            if (len == 0)
                return -1;
            char *slash = strrchr(out, '/');
            len = slash ? (size_t)(slash - out) : 0;
            out[len] = '\0';
            continue;
        }
        size_t plen = strlen(part);
        if (len + (len ? 1 : 0) + plen + 1 > size)
            return -1;
        if (len)
            out[len++] = '/';
        memcpy(out + len, part, plen + 1);
        len += plen;
    }
    return 0;
}

void lux_repo_dirname(const char *rel, char *out, size_t size)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    if (n >= size)
        n = size - 1;
    memcpy(out, rel, n);
    out[n] = '\0';
}

int lux_repo_put(const char *root, const char *rel, const char *text)
{
    char path[PATH_CAP], dir[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    lux_repo_dirname(path, dir, sizeof dir);
    if (lux_fs_mkdir_p(dir, 0755) != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

void lux_repo_report_add(lux_repo_report_t *report, const char *fmt, ...)
{
    char line[2 * PATH_CAP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t add = strlen(line) + 1;
    if (report->len + add + 1 > report->cap) {
        size_t cap = report->cap ? report->cap : 4096;
        while (report->len + add + 1 > cap)
            cap *= 2;
        char *text = realloc(report->text, cap);
        if (text == NULL)
            return;
        report->text = text;
        report->cap = cap;
    }
    memcpy(report->text + report->len, line, add - 1);
    report->len += add - 1;
    report->text[report->len++] = '\n';
    report->text[report->len] = '\0';
    report->count++;
}

void lux_repo_report_fini(lux_repo_report_t *report)
{
    free(report->text);
    memset(report, 0, sizeof *report);
}
