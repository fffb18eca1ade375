/*
 * Checkpoints on disk: the bytes a trainable's save() returned, written by
 * the driver under the experiment directory.
 *
 * Layout: DIR/trials/<trial_id>/checkpoint_<iteration, 6 digits>/ holding
 * checkpoint.bin (the bytes) and metadata.json ({"trial_id",
 * "training_iteration", "size", "fnv1a64", "time", plus the caller's
 * fields}). The path returned and stored is relative to DIR
 * ("trials/t_00001/checkpoint_000010") so an experiment directory can be
 * moved.
 *
 * Atomicity: a checkpoint directory is built under a hidden temporary name
 * (".checkpoint_000010.tmp.<pid>.<n>"), each file is fsync'd, the directory
 * is fsync'd, then it is renamed into place (exchanged atomically with an
 * existing checkpoint of the same iteration) and the parent directory is
 * fsync'd. A crash at any moment leaves either the old or the new
 * checkpoint, never a torn one; leftover temporaries start with '.' and are
 * ignored by every reader (lux_checkpoint_sweep removes them). A reader
 * checks size and hash against metadata.json and reports LUX_EIO on a
 * mismatch.
 *
 * Retention keeps the num_to_keep best checkpoints (by a score, or the most
 * recent) of a trial, and never deletes a pinned one (lux_store_checkpoint_pin:
 * a PBT exploit in progress reads it) nor the trial's latest one (a restart
 * restores from it). Each deletion is recorded in the store before the files
 * go, so a crash between the two leaves an orphan directory, never a row
 * that points to nothing that resume would need.
 *
 * Errors: 0 or a negative LUX_E*; err (may be NULL) receives a one-line
 * message naming the path. Blocking file I/O.
 */
#ifndef LUX_CHECKPOINT_H
#define LUX_CHECKPOINT_H

#include <stddef.h>

#include "store.h"

#define LUX_CHECKPOINT_DATA_NAME "checkpoint.bin"
#define LUX_CHECKPOINT_META_NAME "metadata.json"

/* Writes "trials/<trial_id>/checkpoint_<iteration:06>" (relative to the
 * experiment directory) into buf. LUX_EINVAL for a trial id that is empty,
 * contains '/' or starts with '.'; LUX_ERANGE when buf is too small. */
int lux_checkpoint_relpath(const char *trial_id, long training_iteration, char *buf, size_t len);

/* Writes bytes[0..len) atomically as the checkpoint of (trial_id,
 * training_iteration) under exp_dir, creating directories as needed and
 * replacing an existing checkpoint of the same iteration. meta_json (may be
 * NULL) is a JSON object whose fields are added to metadata.json. On success
 * and if relpath is not NULL, *relpath is the path relative to exp_dir
 * (lux_malloc'd, caller lux_frees). Does not touch the store: register the
 * checkpoint with lux_store_checkpoint_add() afterwards, in the batch's
 * transaction. LUX_ENOSPC when the file system is full (or the quota used
 * up): the temporary is removed and err reads "out of disk space writing
 * PATH (needed about N bytes, M free on that filesystem)", N being the
 * checkpoint's two files and its directory in whole allocation units.
 * LUX_EIO on other file errors (nothing is left but maybe a hidden
 * temporary). */
int lux_checkpoint_write(const char *exp_dir, const char *trial_id, long training_iteration,
                         const void *bytes, size_t len, const char *meta_json, char **relpath,
                         char *err, size_t errlen);

/* Reads the checkpoint at exp_dir/relpath into *bytes (lux_malloc'd, caller
 * lux_frees; a 1-byte allocation for an empty checkpoint) and *len, after
 * checking size and hash against metadata.json. LUX_ENOENT when missing,
 * LUX_EIO when unreadable or corrupt. */
int lux_checkpoint_read(const char *exp_dir, const char *relpath, void **bytes, size_t *len,
                        char *err, size_t errlen);

/* Removes the checkpoint directory exp_dir/relpath (missing is fine). */
int lux_checkpoint_remove(const char *exp_dir, const char *relpath, char *err, size_t errlen);

/* Removes leftover temporaries (hidden ".checkpoint_*.tmp.*" entries) under
 * exp_dir/trials/<trial>/ for every trial; *removed (may be NULL) counts
 * them. Call at resume, before any write. */
int lux_checkpoint_sweep(const char *exp_dir, long *removed, char *err, size_t errlen);

typedef struct {
    long num_to_keep;            /* keep at most this many (plus pinned/latest); <= 0: keep all */
    const char *score_attribute; /* rank by the stored score; NULL: by recency */
    const char *score_mode;      /* "max" (default) or "min": which scores are best */
} lux_checkpoint_retention_t;

/* Applies retention to one trial's checkpoints as registered in the store:
 * keeps the num_to_keep best (by score when score_attribute is set,
 * checkpoints without a score ranking last; else the most recent), plus
 * every pinned one and the latest one; for each other checkpoint marks it
 * deleted in the store and then removes its directory. Works inside or
 * outside a store transaction (the marks belong to the open one).
 * *deleted (may be NULL) counts the removed checkpoints. */
int lux_checkpoint_retain(lux_store_t *store, const char *trial_id,
                          const lux_checkpoint_retention_t *policy, long *deleted, char *err,
                          size_t errlen);

#endif
