/*
 * The per-user runtime directory (internal to the runtime): where private
 * nodes keep their socket and their workers' logs, one `node-<pid>-XXXXXX`
 * directory each.
 *
 * It is $XDG_RUNTIME_DIR/lux when XDG_RUNTIME_DIR names a directory, else
 * ${TMPDIR:-/tmp}/lux-<uid>. A shared /tmp lets any local user plant names
 * there, so the directory is created 0700, opened without following a link,
 * and refused unless it is a directory owned by this user that no one else
 * can enter; everything below it is then reached relative to that checked
 * directory's fd (openat, fstatat, unlinkat), never through a link. A node
 * whose driver died leaves its directory behind; the next node sweeps it.
 */
#ifndef LUX_RUNTIME_RUNDIR_H
#define LUX_RUNTIME_RUNDIR_H

#include <stddef.h>

/* Writes the runtime directory's path into path (cut to cap bytes).
 * Cannot fail. */
void lux_rundir_path(char *path, size_t cap);

/* Creates (0700) and opens the runtime directory, writing its path into
 * path and a descriptor of it (O_DIRECTORY, close-on-exec; the caller
 * closes it) into *fd_out. Returns 0; LUX_EACCESS when it is a symbolic
 * link, not a directory, owned by another user or open to group or others,
 * with a message for a person in err (what is wrong, the path, what to do);
 * another LUX_E* code with a message when it cannot be created or opened.
 * Nothing is ever changed in a directory that is refused. */
int lux_rundir_open(char *path, size_t cap, int *fd_out, char *err, size_t errlen);

/* Creates a fresh node directory `node-<pid>-XXXXXX` (0700) in the runtime
 * directory dirfd and writes its name into name. Returns 0 or a LUX_E* code
 * (the errno of mkdirat). */
int lux_rundir_make_node_dir(int dirfd, char *name, size_t cap);

/* Removes the node directory `name` in dirfd: its socket, its empty worker
 * logs, then the directory itself, unless a worker log that is not empty
 * remains (a crash report, a failed task's output) for the user to read.
 * Never follows a link: a `name` that is not a directory, or entries that
 * are not regular files or sockets, are left alone. Returns 1 when
 * something was kept, else 0. */
int lux_rundir_remove_node_dir(int dirfd, const char *name);

/* Removes the node directories in dirfd whose process is gone (a driver
 * killed, or exited without lux_shutdown), as lux_rundir_remove_node_dir
 * does; skips its own process's, live processes' and anything that is not a
 * directory (a link is never followed, its target never touched). */
void lux_rundir_sweep(int dirfd);

#endif
