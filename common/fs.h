/*
 * Small file-system helpers every layer needs: create a directory with its
 * parents, read a whole file, remove a tree. None follows a symbolic link it
 * did not name: rm_tree removes a link, never what it points to.
 */
#ifndef LUX_FS_H
#define LUX_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Creates `path` and any missing parents with `mode` (before the umask).
 * Returns 0 when `path` is a directory afterwards (also when it already
 * was), LUX_EINVAL for an empty or over-long path, LUX_EEXIST when `path` or
 * a parent exists and is not a directory, or the errno translation. */
int lux_fs_mkdir_p(const char *path, mode_t mode);

/* Reads the whole file at `path` into a new lux_malloc'd buffer with a NUL
 * after the last byte (the caller frees it with lux_free); *len (if not
 * NULL) gets the byte count without that NUL. Returns 0, LUX_ENOMEM, or the
 * errno translation (LUX_ENOENT for a missing file); *out is untouched on
 * failure. */
int lux_fs_read_file(const char *path, char **out, size_t *len);

/* Removes `path` and everything below it, depth first, without following
 * symbolic links (a link is unlinked, its target stays). A missing `path`
 * is success. Returns 0 or the errno translation of the first failure (the
 * rest is still attempted). */
int lux_fs_rm_tree(const char *path);

/* Free bytes for an unprivileged writer (statvfs's f_bavail * f_frsize) on
 * the file system holding `path`, or holding its nearest existing parent
 * when `path` does not exist yet; *block (may be NULL) gets the
 * allocation unit (f_frsize). Returns 0 or the errno translation. */
int lux_fs_free_space(const char *path, unsigned long long *bytes, unsigned long long *block);

/* Writes the one sentence every layer uses for a write that ran out of
 * space: "out of disk space writing PATH (needed about N bytes, M free on
 * that filesystem)", with M measured now (omitted when it cannot be). Cannot
 * fail; truncates to len. */
void lux_fs_nospc_message(char *buf, size_t len, const char *path, unsigned long long needed);

#endif
