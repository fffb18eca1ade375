/*
 * The per-user runtime directory (runtime/rundir.h) where private nodes
 * live: created private, refused when it is open to others, owned by
 * someone else or a link, and swept without ever following a link another
 * user could have planted.
 */
#include "runtime_helpers.h"
#include "test.h"

#include "error.h"
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Points the runtime directory at this case's tmpdir: <tmpdir>/lux. */
static const char *use_tmp_runtime_dir(void)
{
    static char path[4096];
    setenv("XDG_RUNTIME_DIR", lux_test_tmpdir(), 1);
    snprintf(path, sizeof path, "%s/lux", lux_test_tmpdir());
    return path;
}

static void make_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    LUX_CHECK_MSG(f != NULL, "cannot create %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* A pid no process has: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    LUX_CHECK(p > 0);
    waitpid(p, NULL, 0);
    return (long)p;
}

/* lux_init of a private node without workers; its stderr (the runtime's
 * messages) goes to err. Returns lux_init's code, shut down again. */
static int init_private_node(char *err, size_t cap)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/stderr.txt", lux_test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    LUX_CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    lux_init_opts_t o = {.num_cpus = 1, .num_prestart = -1};
    int rc = lux_init(&o);
    if (rc == 0)
        lux_shutdown();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(err, 1, cap - 1, f) : 0;
    if (f)
        fclose(f);
    err[n] = '\0';
    return rc;
}

LUX_TEST(runtime_dir_is_created_private)
{
    const char *want = use_tmp_runtime_dir();
    char path[4096], err[8192];
    int fd = -1;
    LUX_CHECK_OK(lux_rundir_open(path, sizeof path, &fd, err, sizeof err));
    LUX_CHECK_STR_EQ(path, want);
    struct stat st;
    LUX_CHECK_INT_EQ(lstat(path, &st), 0);
    LUX_CHECK(S_ISDIR(st.st_mode));
    LUX_CHECK_INT_EQ(st.st_mode & 07777, 0700);
    LUX_CHECK_INT_EQ(st.st_uid, geteuid());
    char name[64];
    LUX_CHECK_OK(lux_rundir_make_node_dir(fd, name, sizeof name));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "node-%ld-", (long)getpid());
    LUX_CHECK_INT_EQ(strncmp(name, prefix, strlen(prefix)), 0);
    LUX_CHECK_INT_EQ(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
    LUX_CHECK_INT_EQ(st.st_mode & 07777, 0700);
    LUX_CHECK_INT_EQ(lux_rundir_remove_node_dir(fd, name), 0);
    LUX_CHECK(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0);
    close(fd);

    /* Without XDG_RUNTIME_DIR: ${TMPDIR:-/tmp}/lux-<uid>. */
    unsetenv("XDG_RUNTIME_DIR");
    setenv("TMPDIR", lux_test_tmpdir(), 1);
    lux_rundir_path(path, sizeof path);
    char fallback[4200];
    snprintf(fallback, sizeof fallback, "%s/lux-%lu", lux_test_tmpdir(), (unsigned long)geteuid());
    LUX_CHECK_STR_EQ(path, fallback);
}

/* A runtime directory others can enter, that is a link, or (as root) that
 * belongs to another user is refused with a message naming it, and a
 * private node cannot start there; nothing in it is touched. */
LUX_TEST(runtime_dir_refuses_open_mode_links_and_other_owners)
{
    const char *dir = use_tmp_runtime_dir();
    char path[4096], err[8192];
    int fd = -1;
    LUX_CHECK_INT_EQ(mkdir(dir, 0700), 0);
    LUX_CHECK_INT_EQ(chmod(dir, 0777), 0);
    LUX_CHECK_ERR(lux_rundir_open(path, sizeof path, &fd, err, sizeof err), LUX_EACCESS);
    LUX_CHECK_INT_EQ(fd, -1);
    LUX_CHECK_CONTAINS(err, dir);
    LUX_CHECK_CONTAINS(err, "mode 0777");
    LUX_CHECK_CONTAINS(err, "chmod 700");
    /* The driver's lux_init fails, with the message on stderr. */
    LUX_CHECK_ERR(init_private_node(err, sizeof err), LUX_EACCESS);
    LUX_CHECK_CONTAINS(err, "mode 0777");
    struct stat st;
    LUX_CHECK_INT_EQ(stat(dir, &st), 0);
    LUX_CHECK_INT_EQ(st.st_mode & 07777, 0777); /* left as it was */

    if (geteuid() == 0) {
        LUX_CHECK_INT_EQ(chmod(dir, 0700), 0);
        LUX_CHECK_INT_EQ(chown(dir, 65534, 65534), 0);
        LUX_CHECK_ERR(lux_rundir_open(path, sizeof path, &fd, err, sizeof err), LUX_EACCESS);
        LUX_CHECK_CONTAINS(err, "belongs to uid 65534, not to you (uid 0)");
        LUX_CHECK_INT_EQ(chown(dir, 0, 0), 0);
    }

    /* A link to a private directory of ours is still refused: it is not
     * the directory we check and use. */
    char target[4200];
    snprintf(target, sizeof target, "%s/elsewhere", lux_test_tmpdir());
    LUX_CHECK_INT_EQ(mkdir(target, 0700), 0);
    LUX_CHECK_INT_EQ(rmdir(dir), 0);
    LUX_CHECK_INT_EQ(symlink(target, dir), 0);
    LUX_CHECK_ERR(lux_rundir_open(path, sizeof path, &fd, err, sizeof err), LUX_EACCESS);
    LUX_CHECK_CONTAINS(err, "symbolic link");
    LUX_CHECK_ERR(init_private_node(err, sizeof err), LUX_EACCESS);
    LUX_CHECK_CONTAINS(err, "symbolic link");
}

/* Another user plants a link named like a dead node's directory pointing at
 * a live node's directory; starting a private node sweeps dead nodes'
 * directories and must not delete the live node's socket and logs. Planted
 * where nodes lived before ($TMPDIR/lux-node-<pid>-*) and where they live
 * now. Real stale directories are swept, keeping logs that are not empty. */
LUX_TEST(sweep_never_follows_links)
{
    const char *dir = use_tmp_runtime_dir();
    setenv("TMPDIR", lux_test_tmpdir(), 1);
    LUX_CHECK_INT_EQ(mkdir(dir, 0700), 0);
    char victim[4200], p[4400];
    snprintf(victim, sizeof victim, "%s/daemon-node", lux_test_tmpdir());
    LUX_CHECK_INT_EQ(mkdir(victim, 0700), 0);
    snprintf(p, sizeof p, "%s/node.sock", victim);
    make_file(p, "");
    snprintf(p, sizeof p, "%s/worker-1.log", victim);
    make_file(p, "");
    long dead = dead_pid();
    snprintf(p, sizeof p, "%s/lux-node-%ld-planted", lux_test_tmpdir(), dead);
    LUX_CHECK_INT_EQ(symlink(victim, p), 0);
    snprintf(p, sizeof p, "%s/node-%ld-planted", dir, dead);
    LUX_CHECK_INT_EQ(symlink(victim, p), 0);
    /* A real stale directory, with a log that is a link to a victim file. */
    snprintf(p, sizeof p, "%s/node-%ld-stale1", dir, dead);
    LUX_CHECK_INT_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/node-%ld-stale1/worker-1.log", dir, dead);
    make_file(p, "");
    snprintf(p, sizeof p, "%s/node-%ld-stale1/node.sock", dir, dead);
    make_file(p, "");
    char victim_file[4400];
    snprintf(victim_file, sizeof victim_file, "%s/worker-1.log", victim);
    snprintf(p, sizeof p, "%s/node-%ld-stale1/worker-2.log", dir, dead);
    LUX_CHECK_INT_EQ(symlink(victim_file, p), 0);
    /* A stale directory with a crash report: kept. */
    snprintf(p, sizeof p, "%s/node-%ld-stale2", dir, dead);
    LUX_CHECK_INT_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/node-%ld-stale2/worker-3.log", dir, dead);
    make_file(p, "Segmentation fault\n");

    char err[8192];
    LUX_CHECK_OK(init_private_node(err, sizeof err));

    struct stat st;
    snprintf(p, sizeof p, "%s/node.sock", victim);
    LUX_CHECK_MSG(stat(p, &st) == 0, "the sweep followed a link and removed %s", p);
    LUX_CHECK_MSG(stat(victim_file, &st) == 0, "the sweep followed a link and removed %s",
                  victim_file);
    snprintf(p, sizeof p, "%s/node-%ld-stale1", dir, dead);
    LUX_CHECK_MSG(lstat(p, &st) != 0, "stale directory %s not swept", p);
    snprintf(p, sizeof p, "%s/node-%ld-stale2/worker-3.log", dir, dead);
    LUX_CHECK_MSG(stat(p, &st) == 0, "a crash report was swept: %s", p);
}
