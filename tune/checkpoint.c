/*
 * Checkpoints on disk (contract and layout in checkpoint.h).
 *
 * A checkpoint is published by one rename of a fully written and fsync'd
 * hidden directory; replacing an existing one uses renameat2's
 * RENAME_EXCHANGE so the old and new never coexist half-way. Readers trust
 * only names of the form checkpoint_<digits> and verify size and FNV-1a
 * hash from metadata.json.
 */
#include "checkpoint.h"

#include "alloc.h"
#include "error.h"
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 4096

static int say(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int say(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static uint64_t fnv1a64(const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int valid_trial_id(const char *id)
{
    return id != NULL && id[0] != '\0' && id[0] != '.' && strchr(id, '/') == NULL;
}

int lux_checkpoint_relpath(const char *trial_id, long training_iteration, char *buf, size_t len)
{
    if (!valid_trial_id(trial_id) || training_iteration < 0)
        return LUX_EINVAL;
    int n = snprintf(buf, len, "trials/%s/checkpoint_%06ld", trial_id, training_iteration);
    return n < 0 || (size_t)n >= len ? LUX_ERANGE : 0;
}

static int fsync_path(const char *path, int directory)
{
    int fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Writes a whole file and fsyncs it. Returns 0 or -1 with errno. */
static int write_file(const char *path, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    const char *p = bytes;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    return close(fd);
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Removes a directory tree (one level of files is all a checkpoint has, but
 * nested directories are handled). Missing is fine. */
static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return errno == ENOENT ? 0 : (errno == ENOTDIR ? unlink(path) : -1);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[PATH_LEN];
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= (int)sizeof child) {
            rc = -1;
            errno = ENAMETOOLONG;
            continue;
        }
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (remove_tree(child) != 0)
                rc = -1;
        } else if (unlink(child) != 0 && errno != ENOENT) {
            rc = -1;
        }
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

static long tmp_counter;

/* What a checkpoint occupies once written: its two files, each rounded up
 * to the file system's allocation unit, plus one unit for the directory. */
static unsigned long long space_needed(const char *dir, size_t data_len, size_t meta_len)
{
    unsigned long long avail = 0, unit = 0;
    if (lux_fs_free_space(dir, &avail, &unit) != 0 || unit == 0)
        unit = 4096;
    unsigned long long data = (data_len + unit - 1) / unit, meta = (meta_len + unit - 1) / unit;
    return (data + meta + 1) * unit;
}

int lux_checkpoint_write(const char *exp_dir, const char *trial_id, long training_iteration,
                         const void *bytes, size_t len, const char *meta_json, char **relpath,
                         char *err, size_t errlen)
{
    char rel[PATH_LEN], final[PATH_LEN], parent[PATH_LEN], tmp[PATH_LEN], file[PATH_LEN + 32];
    if (exp_dir == NULL || (bytes == NULL && len > 0))
        return say(err, errlen, LUX_EINVAL, "checkpoint: no experiment directory or no bytes");
    int rc = lux_checkpoint_relpath(trial_id, training_iteration, rel, sizeof rel);
    if (rc != 0)
        return say(err, errlen, rc, "checkpoint: bad trial id '%s' or iteration %ld",
                   trial_id ? trial_id : "(null)", training_iteration);
    json_t *meta = NULL;
    if (meta_json != NULL) {
        meta = json_loads(meta_json, 0, NULL);
        if (!json_is_object(meta)) {
            json_decref(meta);
            return say(err, errlen, LUX_EINVAL, "checkpoint of %s: metadata must be a JSON object",
                       trial_id);
        }
    } else {
        meta = json_object();
    }
    if (meta == NULL)
        return LUX_ENOMEM;
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a64(bytes, len));
    json_object_set_new(meta, "trial_id", json_string(trial_id));
    json_object_set_new(meta, "training_iteration", json_integer(training_iteration));
    json_object_set_new(meta, "size", json_integer((json_int_t)len));
    json_object_set_new(meta, "fnv1a64", json_string(hash));
    json_object_set_new(meta, "time", json_real((double)time(NULL)));
    char *meta_text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(meta);
    if (meta_text == NULL)
        return LUX_ENOMEM;

    long n = __atomic_add_fetch(&tmp_counter, 1, __ATOMIC_RELAXED);
    if (snprintf(final, sizeof final, "%s/%s", exp_dir, rel) >= (int)sizeof final ||
        snprintf(parent, sizeof parent, "%s/trials/%s", exp_dir, trial_id) >= (int)sizeof parent ||
        snprintf(tmp, sizeof tmp, "%s/.checkpoint_%06ld.tmp.%ld.%ld", parent, training_iteration,
                 (long)getpid(), n) >= (int)sizeof tmp) {
        free(meta_text);
        return say(err, errlen, LUX_ERANGE, "checkpoint path too long under %s", exp_dir);
    }
    rc = lux_fs_mkdir_p(parent, 0777);
    if (rc != 0) {
        unsigned long long need = space_needed(parent, len, strlen(meta_text));
        free(meta_text);
        if (rc == LUX_ENOSPC) {
            if (err != NULL && errlen > 0)
                lux_fs_nospc_message(err, errlen, parent, need);
            return LUX_ENOSPC;
        }
        return say(err, errlen, LUX_EIO, "cannot create %s: %s", parent, lux_strerror(rc));
    }
    const char *step = "create";
    if (mkdir(tmp, 0777) != 0)
        goto fail;
    step = "write";
    snprintf(file, sizeof file, "%s/%s", tmp, LUX_CHECKPOINT_DATA_NAME);
    if (write_file(file, bytes, len) != 0)
        goto fail;
    snprintf(file, sizeof file, "%s/%s", tmp, LUX_CHECKPOINT_META_NAME);
    if (write_file(file, meta_text, strlen(meta_text)) != 0)
        goto fail;
    step = "sync";
    if (fsync_path(tmp, 1) != 0)
        goto fail;
    step = "publish";
    if (rename(tmp, final) != 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            goto fail;
        /* An older checkpoint of this iteration (a replay after resume):
         * swap atomically, then remove the old one under the temp name. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0)
            goto fail;
        remove_tree(tmp);
    }
    step = "sync";
    if (fsync_path(parent, 1) != 0)
        goto fail;
    free(meta_text);
    if (relpath != NULL) {
        *relpath = lux_strdup(rel);
        if (*relpath == NULL)
            return LUX_ENOMEM;
    }
    return 0;

fail:;
    int e = errno;
    remove_tree(tmp);
    if (lux_error_from_errno(e) == LUX_ENOSPC) {
        /* The temporary is gone; say how much the whole checkpoint needs,
         * which is what must be freed before a resume can write it. */
        if (err != NULL && errlen > 0)
            lux_fs_nospc_message(err, errlen, final, space_needed(parent, len, strlen(meta_text)));
        free(meta_text);
        return LUX_ENOSPC;
    }
    free(meta_text);
    return say(err, errlen, lux_error_from_errno(e) == LUX_ENOMEM ? LUX_ENOMEM : LUX_EIO,
               "cannot %s checkpoint %s: %s", step, final, strerror(e));
}

int lux_checkpoint_read(const char *exp_dir, const char *relpath, void **bytes, size_t *len,
                        char *err, size_t errlen)
{
    char dir[PATH_LEN], file[PATH_LEN + 32];
    int rc;
    if (exp_dir == NULL || relpath == NULL)
        return say(err, errlen, LUX_EINVAL, "checkpoint: no path given");
    if (snprintf(dir, sizeof dir, "%s/%s", exp_dir, relpath) >= (int)sizeof dir)
        return say(err, errlen, LUX_ERANGE, "checkpoint path too long");
    const char *base = strrchr(relpath, '/');
    base = base ? base + 1 : relpath;
    if (strncmp(base, "checkpoint_", 11) != 0)
        return say(err, errlen, LUX_EINVAL,
                   "%s is not a checkpoint directory (checkpoint_<iteration>)", dir);
    char *meta_text = NULL, *data = NULL;
    size_t meta_len = 0, data_len = 0;
    snprintf(file, sizeof file, "%s/%s", dir, LUX_CHECKPOINT_META_NAME);
    rc = lux_fs_read_file(file, &meta_text, &meta_len);
    if (rc != 0) {
        if (rc == LUX_ENOENT)
            return say(err, errlen, LUX_ENOENT, "no checkpoint at %s", dir);
        return say(err, errlen, LUX_EIO, "cannot read %s: %s", file, lux_strerror(rc));
    }
    json_t *meta = json_loadb(meta_text, meta_len, 0, NULL);
    lux_free(meta_text);
    json_t *size = json_object_get(meta, "size");
    const char *hash = json_string_value(json_object_get(meta, "fnv1a64"));
    if (!json_is_integer(size) || hash == NULL) {
        json_decref(meta);
        return say(err, errlen, LUX_EIO, "corrupt checkpoint %s: bad %s", dir,
                   LUX_CHECKPOINT_META_NAME);
    }
    snprintf(file, sizeof file, "%s/%s", dir, LUX_CHECKPOINT_DATA_NAME);
    rc = lux_fs_read_file(file, &data, &data_len);
    if (rc != 0) {
        json_decref(meta);
        return say(err, errlen, rc == LUX_ENOMEM ? LUX_ENOMEM : LUX_EIO, "cannot read %s: %s", file,
                   lux_strerror(rc));
    }
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)fnv1a64(data, data_len));
    int ok = (json_int_t)data_len == json_integer_value(size) && strcmp(want, hash) == 0;
    json_decref(meta);
    if (!ok) {
        lux_free(data);
        return say(err, errlen, LUX_EIO, "corrupt checkpoint %s: size or hash differs from %s", dir,
                   LUX_CHECKPOINT_META_NAME);
    }
    *bytes = data;
    *len = data_len;
    return 0;
}

int lux_checkpoint_remove(const char *exp_dir, const char *relpath, char *err, size_t errlen)
{
    char dir[PATH_LEN];
    if (exp_dir == NULL || relpath == NULL || strstr(relpath, "..") != NULL)
        return say(err, errlen, LUX_EINVAL, "checkpoint: bad path to remove");
    if (snprintf(dir, sizeof dir, "%s/%s", exp_dir, relpath) >= (int)sizeof dir)
        return say(err, errlen, LUX_ERANGE, "checkpoint path too long");
    if (remove_tree(dir) != 0)
        return say(err, errlen, LUX_EIO, "cannot remove checkpoint %s: %s", dir, strerror(errno));
    return 0;
}

int lux_checkpoint_sweep(const char *exp_dir, long *removed, char *err, size_t errlen)
{
    char trials[PATH_LEN];
    long count = 0;
    if (removed != NULL)
        *removed = 0;
    if (snprintf(trials, sizeof trials, "%s/trials", exp_dir) >= (int)sizeof trials)
        return say(err, errlen, LUX_ERANGE, "path too long");
    DIR *d = opendir(trials);
    if (d == NULL)
        return errno == ENOENT
                   ? 0
                   : say(err, errlen, LUX_EIO, "cannot list %s: %s", trials, strerror(errno));
    int rc = 0;
    struct dirent *t;
    while ((t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char tdir[PATH_LEN];
        if (snprintf(tdir, sizeof tdir, "%s/%s", trials, t->d_name) >= (int)sizeof tdir)
            continue;
        DIR *cd = opendir(tdir);
        if (cd == NULL)
            continue;
        struct dirent *c;
        while ((c = readdir(cd)) != NULL) {
            if (strncmp(c->d_name, ".checkpoint_", 12) != 0 || strstr(c->d_name, ".tmp.") == NULL)
                continue;
            char path[PATH_LEN];
            if (snprintf(path, sizeof path, "%s/%s", tdir, c->d_name) >= (int)sizeof path)
                continue;
            if (remove_tree(path) == 0)
                count++;
            else
                rc = say(err, errlen, LUX_EIO, "cannot remove %s: %s", path, strerror(errno));
        }
        closedir(cd);
    }
    closedir(d);
    if (removed != NULL)
        *removed = count;
    return rc;
}

typedef struct {
    long iteration;
    const char *path;
    int has_score;
    double score;
    int pinned;
    int keep;
} entry_t;

static int maximize_scores;

/* Best first: scored before unscored, then by score, then newer first. */
static int by_score(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->has_score != y->has_score)
        return y->has_score - x->has_score;
    if (x->has_score && x->score != y->score) {
        int better = maximize_scores ? x->score > y->score : x->score < y->score;
        return better ? -1 : 1;
    }
    return x->iteration > y->iteration ? -1 : x->iteration < y->iteration;
}

static int by_recency(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    return x->iteration > y->iteration ? -1 : x->iteration < y->iteration;
}

int lux_checkpoint_retain(lux_store_t *store, const char *trial_id,
                          const lux_checkpoint_retention_t *policy, long *deleted, char *err,
                          size_t errlen)
{
    if (deleted != NULL)
        *deleted = 0;
    if (store == NULL || trial_id == NULL || policy == NULL)
        return say(err, errlen, LUX_EINVAL, "checkpoint retention: missing argument");
    if (policy->num_to_keep <= 0)
        return 0;
    int maximize = policy->score_mode == NULL || strcmp(policy->score_mode, "min") != 0;
    json_t *list;
    int rc = lux_store_checkpoints(store, trial_id, 0, &list);
    if (rc != 0)
        return say(err, errlen, rc, "%s", lux_store_errmsg(store));
    size_t n = json_array_size(list);
    if (n <= (size_t)policy->num_to_keep) {
        json_decref(list);
        return 0;
    }
    entry_t *e = lux_calloc(n, sizeof *e);
    if (e == NULL) {
        json_decref(list);
        return LUX_ENOMEM;
    }
    long latest = -1;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(list, i);
        json_t *score = json_object_get(c, "score");
        e[i].iteration = (long)json_integer_value(json_object_get(c, "training_iteration"));
        e[i].path = json_string_value(json_object_get(c, "path"));
        e[i].has_score = json_is_number(score);
        e[i].score = json_number_value(score);
        e[i].pinned = json_is_true(json_object_get(c, "pinned"));
        if (e[i].iteration > latest)
            latest = e[i].iteration;
    }
    /* qsort has no context argument; retention runs on the driver thread. */
    maximize_scores = maximize;
    qsort(e, n, sizeof *e, policy->score_attribute != NULL ? by_score : by_recency);
    for (size_t i = 0; i < n; i++)
        e[i].keep = (long)i < policy->num_to_keep || e[i].pinned || e[i].iteration == latest;
    long count = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (e[i].keep)
            continue;
        /* The row first: a crash after it leaves an orphan directory, which
         * nothing reads; never a row pointing at removed files. */
        rc = lux_store_checkpoint_mark_deleted(store, trial_id, e[i].iteration);
        if (rc != 0) {
            say(err, errlen, rc, "%s", lux_store_errmsg(store));
            break;
        }
        if (e[i].path != NULL)
            rc = lux_checkpoint_remove(lux_store_dir(store), e[i].path, err, errlen);
        if (rc == 0)
            count++;
    }
    lux_free(e);
    json_decref(list);
    if (deleted != NULL)
        *deleted = count;
    return rc;
}
