/* Small file-system helpers (see fs.h). */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"

int lux_fs_mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    size_t n = path == NULL ? 0 : strlen(path);
    if (n == 0 || n >= sizeof buf)
        return LUX_EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return lux_error_from_errno(errno);
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return lux_error_from_errno(errno);
    return S_ISDIR(st.st_mode) ? 0 : LUX_EEXIST;
}

int lux_fs_read_file(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lux_error_from_errno(errno);
    /* Sized by reading, not by fstat: /proc files and pipes report 0. */
    size_t cap = 4096, got = 0;
    char *buf = lux_malloc(cap);
    int rc = buf == NULL ? LUX_ENOMEM : 0;
    while (rc == 0) {
        if (got + 1 >= cap) {
            char *b = lux_realloc(buf, cap * 2);
            if (b == NULL) {
                rc = LUX_ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = lux_error_from_errno(errno);
        else if (r == 0)
            break;
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc != 0) {
        lux_free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    if (len != NULL)
        *len = got;
    return 0;
}

static int rm_tree_first_error;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    if (rc != 0 && errno != ENOENT && rm_tree_first_error == 0)
        rm_tree_first_error = lux_error_from_errno(errno);
    return 0;
}

int lux_fs_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : lux_error_from_errno(errno);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : lux_error_from_errno(errno);
    /* nftw takes no user pointer; the first error is kept in a file-static,
     * so two threads must not remove trees at once (no caller does). */
    rm_tree_first_error = 0;
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && rm_tree_first_error == 0)
        rm_tree_first_error = lux_error_from_errno(errno);
    return rm_tree_first_error;
}

int lux_fs_free_space(const char *path, unsigned long long *bytes, unsigned long long *block)
{
    char buf[4096];
    size_t n = path == NULL ? 0 : strlen(path);
    if (n == 0 || n >= sizeof buf)
        return LUX_EINVAL;
    memcpy(buf, path, n + 1);
    struct statvfs sv;
    /* A path not written yet: ask about the directory it would go in
     * ("." and "/" end the walk: they always exist). */
    while (statvfs(buf, &sv) != 0) {
        if ((errno != ENOENT && errno != ENOTDIR) || strcmp(buf, ".") == 0)
            return lux_error_from_errno(errno);
        char *slash = strrchr(buf, '/');
        if (slash == NULL)
            snprintf(buf, sizeof buf, ".");
        else
            slash[slash == buf ? 1 : 0] = '\0';
    }
    unsigned long long unit = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    *bytes = (unsigned long long)sv.f_bavail * unit;
    if (block != NULL)
        *block = unit ? unit : 4096;
    return 0;
}

void lux_fs_nospc_message(char *buf, size_t len, const char *path, unsigned long long needed)
{
    unsigned long long avail = 0;
    if (lux_fs_free_space(path, &avail, NULL) == 0)
        snprintf(buf, len,
                 "out of disk space writing %s (needed about %llu bytes, %llu free on that "
                 "filesystem)",
                 path, needed, avail);
    else
        snprintf(buf, len, "out of disk space writing %s (needed about %llu bytes)", path, needed);
}
