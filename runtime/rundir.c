/*
 * The per-user runtime directory (rundir.h). Only the directory itself is
 * reached by path, and it is opened with O_NOFOLLOW and checked through
 * that very descriptor (fstat), so what is checked is what is used. Below
 * it every call is relative to a checked descriptor and never follows a
 * link: another user can plant nothing inside a 0700 directory of ours,
 * and the sweep stays safe even if something odd is found there.
 */
#include "rundir.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Messages and paths are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

void lux_rundir_path(char *path, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (xdg != NULL && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, cap, "%s/lux", xdg);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(path, cap, "%s/lux-%lu", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp",
             (unsigned long)geteuid());
}

int lux_rundir_open(char *path, size_t cap, int *fd_out, char *err, size_t errlen)
{
    *fd_out = -1;
    err[0] = '\0';
    lux_rundir_path(path, cap);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create the runtime directory %s: %s", path, strerror(e));
        return lux_error_from_errno(e);
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
            snprintf(err, errlen,
                     "the runtime directory %s is a symbolic link; refusing to use it (another "
                     "user may have planted it): remove it, and lux creates a private one",
                     path);
            return LUX_EACCESS;
        }
        if (e == ENOTDIR) {
            snprintf(err, errlen, "the runtime directory %s is not a directory; remove it", path);
            return LUX_EACCESS;
        }
        if (e == EACCES || e == EPERM) {
            snprintf(err, errlen,
                     "cannot open the runtime directory %s: permission denied (it belongs to "
                     "another user); remove it, or set XDG_RUNTIME_DIR or TMPDIR to a "
                     "directory of your own",
                     path);
            return LUX_EACCESS;
        }
        snprintf(err, errlen, "cannot open the runtime directory %s: %s", path, strerror(e));
        return lux_error_from_errno(e);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "cannot inspect the runtime directory %s: %s", path, strerror(e));
        return lux_error_from_errno(e);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        snprintf(err, errlen,
                 "the runtime directory %s belongs to uid %lu, not to you (uid %lu); refusing "
                 "to use it: remove it, or set XDG_RUNTIME_DIR or TMPDIR to a directory of "
                 "your own",
                 path, (unsigned long)st.st_uid, (unsigned long)geteuid());
        return LUX_EACCESS;
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen,
                 "the runtime directory %s has mode %04o: other users can reach the node "
                 "sockets in it; refusing to use it: 'chmod 700 %s' or remove it",
                 path, (unsigned)(st.st_mode & 07777), path);
        return LUX_EACCESS;
    }
    *fd_out = fd;
    return 0;
}

int lux_rundir_make_node_dir(int dirfd, char *name, size_t cap)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* The directory is private: the suffix only has to be unique. */
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid() << 40;
    for (int attempt = 0; attempt < 100; attempt++) {
        x += 0x9e3779b97f4a7c15ull * (++counter);
        uint64_t y = x;
        char suffix[7];
        for (int i = 0; i < 6; i++) {
            suffix[i] = chars[y % (sizeof chars - 1)];
            y /= sizeof chars - 1;
        }
        suffix[6] = '\0';
        snprintf(name, cap, "node-%ld-%s", (long)getpid(), suffix);
        if (mkdirat(dirfd, name, 0700) == 0)
            return 0;
        if (errno != EEXIST)
            return lux_error_from_errno(errno);
    }
    return LUX_EEXIST;
}

int lux_rundir_remove_node_dir(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    int kept = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "node.sock") == 0) {
            unlinkat(fd, e->d_name, 0);
            continue;
        }
        if (strncmp(e->d_name, "worker-", 7) != 0)
            continue;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            st.st_size > 0)
            kept = 1;
        else
            unlinkat(fd, e->d_name, 0); /* an empty log; a link goes, never its target */
    }
    closedir(d);
    if (!kept && unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
        kept = errno != ENOENT;
    return kept;
}

void lux_rundir_sweep(int dirfd)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (sscanf(e->d_name, "node-%ld-", &pid) != 1 || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        lux_rundir_remove_node_dir(dirfd, e->d_name);
    }
    closedir(d);
}
