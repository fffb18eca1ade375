/*
 * The experiment store on SQLite (contract in store.h, schema in
 * docs/store.md).
 *
 * Every statement the writer runs per result or per trial is prepared once
 * and cached in the store (the stmt[] table, declared once in STMT_MAP);
 * readers prepare their less frequent queries on the fly. SQLite result
 * codes are translated in one place (fail()), which also records the
 * message naming the database path.
 *
 * Migrations are a list of SQL scripts, one per schema version; opening for
 * writing applies the missing ones in one transaction and records each in the
 * migrations table. PRAGMA user_version is the version of the file.
 */
#include "store.h"

#include "clock.h"
#include "fs.h"
#include "alloc.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Readers wait this long for a lock (only WAL recovery or a checkpoint
 * restart can make them wait at all); the writer too, for a reader that is
 * starting up. */
#define BUSY_TIMEOUT_MS 5000

static const char *const status_names[] = {
#define LUX_TRIAL_STATUS_NAME(name) #name,
    LUX_TRIAL_STATUS_MAP(LUX_TRIAL_STATUS_NAME)
#undef LUX_TRIAL_STATUS_NAME
};

const char *lux_trial_status_name(lux_trial_status_t status)
{
    if ((int)status < 0 || status >= LUX_TRIAL_STATUS_COUNT)
        return "?";
    return status_names[status];
}

int lux_trial_status_parse(const char *name, lux_trial_status_t *status)
{
    for (int i = 0; name != NULL && i < LUX_TRIAL_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *status = (lux_trial_status_t)i;
            return 0;
        }
    return LUX_EINVAL;
}

/* ---- Schema ------------------------------------------------------------- */

static const char schema_v1[] =
    "CREATE TABLE migrations ("
    " version INTEGER PRIMARY KEY, applied_time REAL NOT NULL, description TEXT NOT NULL);"
    "CREATE TABLE experiment ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " name TEXT NOT NULL,"
    " config_text TEXT,"
    " config_json TEXT,"
    " seed INTEGER,"
    " metric TEXT,"
    " mode TEXT CHECK (mode IS NULL OR mode IN ('max', 'min')),"
    " status TEXT NOT NULL,"
    " start_time REAL,"
    " end_time REAL,"
    " updated_time REAL);"
    "CREATE TABLE trials ("
    " trial_id TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL,"
    " config TEXT NOT NULL,"
    " resources TEXT,"
    " seed INTEGER,"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('PENDING','RUNNING','PAUSED','TERMINATED','ERROR')),"
    " error TEXT,"
    " num_failures INTEGER NOT NULL DEFAULT 0,"
    " training_iteration INTEGER NOT NULL DEFAULT 0,"
    " time_total_s REAL NOT NULL DEFAULT 0,"
    " created_time REAL NOT NULL,"
    " start_time REAL,"
    " end_time REAL,"
    " updated_time REAL,"
    " last_result TEXT,"
    " best_metric REAL,"
    " best_iteration INTEGER,"
    " parent_trial_id TEXT,"
    " lineage TEXT,"
    " restore_checkpoint TEXT);"
    "CREATE INDEX trials_seq ON trials (seq);"
    "CREATE TABLE results ("
    " trial_id TEXT NOT NULL,"
    " training_iteration INTEGER NOT NULL,"
    " time_total_s REAL,"
    " stored_time REAL NOT NULL,"
    " metrics TEXT NOT NULL,"
    " UNIQUE (trial_id, training_iteration));"
    "CREATE TABLE checkpoints ("
    " trial_id TEXT NOT NULL,"
    " training_iteration INTEGER NOT NULL,"
    " path TEXT NOT NULL,"
    " score REAL,"
    " size INTEGER,"
    " created_time REAL NOT NULL,"
    " pinned INTEGER NOT NULL DEFAULT 0,"
    " deleted_time REAL,"
    " PRIMARY KEY (trial_id, training_iteration));"
    "CREATE TABLE decisions ("
    " id INTEGER PRIMARY KEY,"
    " time REAL NOT NULL,"
    " source TEXT NOT NULL,"
    " trial_id TEXT,"
    " action TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX decisions_trial ON decisions (trial_id);"
    "CREATE TABLE state ("
    " key TEXT PRIMARY KEY,"
    " value,"
    " updated_time REAL NOT NULL);";

/* v2: append-only journals (ASHA's rung values), so the state blob saved at
 * every batch holds live trials only. */
static const char schema_v2[] = "CREATE TABLE journal ("
                                " seq INTEGER PRIMARY KEY,"
                                " source TEXT NOT NULL,"
                                " entry TEXT NOT NULL);";

/* v3: why a trial last failed (lux_store_trial_failure_put), so that
 * `lux run --resume` restarts trials that failed for reasons outside
 * their trainable. A table of its own, so the trials statements stay as
 * they are; IF NOT EXISTS so a store whose version was set back (tests)
 * migrates again. */
static const char schema_v3[] = "CREATE TABLE IF NOT EXISTS trial_failures ("
                                " trial_id TEXT PRIMARY KEY,"
                                " kind TEXT NOT NULL,"
                                " time REAL NOT NULL);";

typedef struct {
    int version;
    const char *description;
    const char *sql;
} migration_t;

static const migration_t migrations[] = {
    {1, "initial schema", schema_v1},
    {2, "journal", schema_v2},
    {3, "trial failure kinds", schema_v3},
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

/* ---- Cached statements --------------------------------------------------- */

/* X(id, sql) */
#define STMT_MAP(X)                                                                                \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(RESULT_ADD, "INSERT OR IGNORE INTO results (trial_id, training_iteration, time_total_s,"     \
                  " stored_time, metrics) VALUES (?1, ?2, ?3, ?4, ?5)")                            \
    X(TRIAL_ADD, "INSERT INTO trials (trial_id, seq, config, resources, seed, status,"             \
                 " created_time, updated_time, parent_trial_id) VALUES (?1,"                       \
                 " (SELECT COALESCE(MAX(seq), 0) + 1 FROM trials), ?2, ?3, ?4, ?5, ?6, ?6, ?7)")   \
    X(TRIAL_UPDATE,                                                                                \
      "UPDATE trials SET resources = ?2, seed = ?3, status = ?4, error = ?5, num_failures = ?6,"   \
      " training_iteration = ?7, time_total_s = ?8, start_time = ?9, end_time = ?10,"              \
      " last_result = ?11, best_metric = ?12, best_iteration = ?13, parent_trial_id = ?14,"        \
      " lineage = ?15, restore_checkpoint = ?16, updated_time = ?17 WHERE trial_id = ?1")          \
    X(TRIAL_STATUS, "UPDATE trials SET status = ?2, error = ?3, updated_time = ?4,"                \
                    " end_time = CASE WHEN ?2 IN ('TERMINATED', 'ERROR') THEN ?4 ELSE end_time"    \
                    " END WHERE trial_id = ?1")                                                    \
    X(CKPT_ADD, "INSERT OR REPLACE INTO checkpoints (trial_id, training_iteration, path, score,"   \
                " size, created_time, pinned, deleted_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"       \
                " COALESCE((SELECT pinned FROM checkpoints WHERE trial_id = ?1 AND"                \
                " training_iteration = ?2), 0), NULL)")                                            \
    X(CKPT_PIN, "UPDATE checkpoints SET pinned = ?3 WHERE trial_id = ?1 AND"                       \
                " training_iteration = ?2")                                                        \
    X(CKPT_DELETED, "UPDATE checkpoints SET deleted_time = ?3 WHERE trial_id = ?1 AND"             \
                    " training_iteration = ?2")                                                    \
    X(DECISION_ADD, "INSERT INTO decisions (time, source, trial_id, action, detail)"               \
                    " VALUES (?1, ?2, ?3, ?4, ?5)")                                                \
    X(STATE_PUT, "INSERT OR REPLACE INTO state (key, value, updated_time) VALUES (?1, ?2, ?3)")    \
    X(STATE_GET, "SELECT value FROM state WHERE key = ?1")                                         \
    X(JOURNAL_ADD, "INSERT INTO journal (source, entry) VALUES (?1, ?2)")                          \
    X(LAST_ITER, "SELECT MAX(training_iteration) FROM results WHERE trial_id = ?1")

enum {
#define STMT_ENUM(id, sql) STMT_##id,
    STMT_MAP(STMT_ENUM)
#undef STMT_ENUM
        STMT_COUNT
};

static const char *const stmt_sql[] = {
#define STMT_SQL(id, sql) sql,
    STMT_MAP(STMT_SQL)
#undef STMT_SQL
};

struct lux_store {
    sqlite3 *db;
    char *dir;
    char *path;
    int lock_fd; /* the writer's flock on DIR/experiment.lock, or -1 */
    int readonly;
    int in_tx;
    int version;
    long duplicates;
    int tx_failed;            /* a write of the open transaction failed: its code */
    unsigned long long bytes; /* text bound since the transaction (or the write) began */
    sqlite3_stmt *stmt[STMT_COUNT];
    char errmsg[512];
};

static void set_msg(lux_store_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(lux_store_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

/* The one translation of SQLite result codes into LUX_E*. */
static int code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return LUX_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return LUX_EBUSY;
    case SQLITE_FULL:
        return LUX_ENOSPC;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
        return LUX_EIO;
    case SQLITE_CONSTRAINT:
        return LUX_EEXIST;
    case SQLITE_READONLY:
        return LUX_EUNSUPPORTED;
    default:
        return LUX_ESTORE;
    }
}

/* What a write that ran out of space needed: the text bound since the
 * transaction began, in whole WAL frames (a page and its 24-byte header),
 * plus one frame. A lower bound: index pages and the rewritten parts of
 * existing pages need frames too. */
static unsigned long long space_needed(lux_store_t *s)
{
    unsigned long long page = 8192;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
        page = (unsigned long long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ((s->bytes + page - 1) / page + 1) * (page + 24);
}

/* Records "what failed: sqlite's message (path)" and returns the LUX_E*
 * code of rc. A full disk (SQLITE_FULL, or an I/O error whose errno is
 * ENOSPC or EDQUOT) is LUX_ENOSPC with the message "out of disk space
 * writing PATH (needed about N bytes, M free on that filesystem)". A
 * failed write inside a transaction poisons it (tx_failed): SQLite may have
 * rolled back the statement or the whole transaction, so committing the
 * rest would store part of a batch. */
static int fail(lux_store_t *s, int rc, const char *what)
{
    int code = code_of(rc);
    int sys = s->db ? sqlite3_system_errno(s->db) : 0;
    if (code == LUX_EIO && (sys == ENOSPC || sys == EDQUOT))
        code = LUX_ENOSPC;
    if (code == LUX_ENOSPC && s->db != NULL)
        lux_fs_nospc_message(s->errmsg, sizeof s->errmsg, s->path, space_needed(s));
    else
        set_msg(s, "%s: %s (%s)", what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc),
                s->path);
    if (s->in_tx && !s->readonly && s->tx_failed == 0 &&
        (code == LUX_ENOSPC || code == LUX_EIO || code == LUX_ENOMEM ||
         sqlite3_get_autocommit(s->db)))
        s->tx_failed = code;
    return code;
}

/* Counts the text a write binds, for space_needed(). */
static void count_bytes(lux_store_t *s, const char *text)
{
    if (text != NULL)
        s->bytes += strlen(text);
}

const char *lux_store_errmsg(const lux_store_t *self)
{
    return self != NULL ? self->errmsg : "";
}

const char *lux_store_dir(const lux_store_t *self)
{
    return self->dir;
}

const char *lux_store_path(const lux_store_t *self)
{
    return self->path;
}

int lux_store_schema_version(const lux_store_t *self)
{
    return self->version;
}

long lux_store_duplicates(const lux_store_t *self)
{
    return self->duplicates;
}

static int exec(lux_store_t *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(s, rc, what);
}

/* Returns the cached statement id, reset and with bindings cleared. */
static sqlite3_stmt *cached(lux_store_t *s, int id)
{
    sqlite3_stmt *st = s->stmt[id];
    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            fail(s, sqlite3_errcode(s->db), "cannot prepare a statement");
            return NULL;
        }
        s->stmt[id] = st;
    }
    return st;
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text != NULL)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, double t)
{
    if (t > 0)
        sqlite3_bind_double(st, i, t);
    else
        sqlite3_bind_null(st, i);
}

/* Steps a write statement to completion; returns 0 or the code. */
static int step_write(lux_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int code = rc == SQLITE_DONE ? 0 : fail(s, rc, what);
    done(st);
    return code;
}

/* Every write starts here: refused on a reader, and inside a transaction
 * that an earlier write poisoned (the message of that failure stays). */
static int need_writer(lux_store_t *s, const char *what)
{
    if (s->readonly) {
        set_msg(s, "%s: the store is open read-only (%s)", what, s->path);
        return LUX_EINVAL;
    }
    if (s->in_tx && s->tx_failed != 0)
        return s->tx_failed;
    if (!s->in_tx)
        s->bytes = 0;
    return 0;
}

/* ---- Opening ------------------------------------------------------------ */

static int read_version(lux_store_t *s, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int code = fail(s, rc, "cannot read the schema version");
        sqlite3_finalize(st);
        return code;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int migrate(lux_store_t *s)
{
    int rc = exec(s, "BEGIN IMMEDIATE", "cannot lock the database to set up its schema");
    if (rc != 0)
        return rc;
    int version = 0;
    rc = read_version(s, &version); /* again, under the lock */
    for (size_t i = 0; rc == 0 && i < NMIGRATIONS; i++) {
        if (migrations[i].version <= version)
            continue;
        char what[128];
        snprintf(what, sizeof what, "cannot apply schema migration %d (%s)", migrations[i].version,
                 migrations[i].description);
        rc = exec(s, migrations[i].sql, what);
        if (rc != 0)
            break;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO migrations (version, applied_time, description) VALUES (%d, %.6f, "
                 "'%s'); PRAGMA user_version = %d;",
                 migrations[i].version, lux_clock_wall_s(), migrations[i].description,
                 migrations[i].version);
        rc = exec(s, sql, what);
        version = migrations[i].version;
    }
    if (rc != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    rc = exec(s, "COMMIT", "cannot commit the schema");
    if (rc == 0)
        s->version = version;
    return rc;
}

/* Records in the lock file, which the writer holds, that this process
 * writes: its pid, and an open-file-description lock that readers can test
 * with F_OFD_GETLK without taking any lock themselves (a reader holding the
 * flock even for a moment could make a starting writer fail with EBUSY).
 * Both go with the process however it dies, except the pid text, which is
 * how lux_store_writer() tells a dead writer from no writer. Without OFD
 * locks (Linux < 3.15) no pid is written: readers then cannot tell. */
static void mark_writer(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (ftruncate(fd, 0) != 0 || fcntl(fd, F_OFD_SETLK, &fl) != 0)
        return;
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (pwrite(fd, pid, (size_t)n, 0) != n && ftruncate(fd, 0) != 0)
        lux_log_debug("cannot record the writer's pid in the lock file: %s", strerror(errno));
}

lux_store_writer_t lux_store_writer(const lux_store_t *self, long *pid)
{
    *pid = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/experiment.lock", self->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return LUX_STORE_WRITER_UNKNOWN;
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    char *end = NULL;
    long recorded = strtol(text, &end, 10);
    if (end == text || *end != '\n' || recorded <= 0)
        recorded = 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int got = fcntl(fd, F_OFD_GETLK, &fl);
    close(fd);
    *pid = recorded;
    if (got != 0)
        return LUX_STORE_WRITER_UNKNOWN;
    if (fl.l_type != F_UNLCK)
        return LUX_STORE_WRITER_ALIVE;
    return recorded > 0 ? LUX_STORE_WRITER_GONE : LUX_STORE_WRITER_UNKNOWN;
}

static int open_common(const char *dir, int readonly, lux_store_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (dir == NULL || dir[0] == '\0') {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "no experiment directory given");
        return LUX_EINVAL;
    }
    lux_store_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    size_t n = strlen(dir) + sizeof "/" LUX_STORE_DB_NAME;
    s->dir = lux_strdup(dir);
    s->path = lux_malloc(n);
    s->readonly = readonly;
    s->lock_fd = -1;
    int rc = 0;
    if (s->dir == NULL || s->path == NULL) {
        rc = LUX_ENOMEM;
        set_msg(s, "out of memory opening the store in %s", dir);
        goto fail;
    }
    snprintf(s->path, n, "%s/%s", dir, LUX_STORE_DB_NAME);

    if (!readonly) {
        rc = lux_fs_mkdir_p(dir, 0777);
        if (rc != 0) {
            set_msg(s, "cannot create the experiment directory %s: %s", dir, lux_strerror(rc));
            rc = LUX_EIO;
            goto fail;
        }
        /* One writer per experiment: an advisory lock the kernel drops when
         * the process dies, however it dies. */
        char lock[4096];
        snprintf(lock, sizeof lock, "%s/experiment.lock", dir);
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (s->lock_fd < 0) {
            set_msg(s, "cannot create %s: %s", lock, strerror(errno));
            rc = LUX_EIO;
            goto fail;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            set_msg(s,
                    "another process is writing the experiment in %s (is a lux run still "
                    "going?)",
                    dir);
            rc = LUX_EBUSY;
            goto fail;
        }
        mark_writer(s->lock_fd);
    } else {
        struct stat st;
        if (stat(s->path, &st) != 0) {
            set_msg(s, "no experiment store at %s (is %s an experiment directory?)", s->path, dir);
            rc = LUX_ENOENT;
            goto fail;
        }
    }
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int src = sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = fail(s, src, "cannot open the experiment store");
        if (rc == 0)
            rc = LUX_ESTORE;
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

    int version = 0;
    rc = read_version(s, &version);
    if (rc != 0) {
        /* "file is not a database" surfaces here. */
        rc = rc == LUX_EBUSY ? rc : LUX_ESTORE;
        goto fail;
    }
    if (version > LUX_STORE_SCHEMA_VERSION) {
        set_msg(s,
                "%s has schema version %d but this lux understands versions up to %d; "
                "open it with a newer lux",
                s->path, version, LUX_STORE_SCHEMA_VERSION);
        rc = LUX_EUNSUPPORTED;
        goto fail;
    }
    s->version = version;
    if (readonly) {
        if (version == 0) {
            set_msg(s, "%s is not an initialised experiment store (schema version 0)", s->path);
            rc = LUX_ESTORE;
            goto fail;
        }
        rc = exec(s, "PRAGMA query_only = 1", "cannot set up the reader");
        if (rc != 0)
            goto fail;
    } else {
        /* WAL: readers never block the writer. synchronous=NORMAL: a commit
         * does not wait for fsync; the WAL is fsync'd at checkpoints. A killed
         * process loses nothing committed (the OS has the pages); a power loss
         * may lose the last transactions but cannot corrupt the file. */
        /* Larger pages for a new database: fewer pages per batch of result
         * rows (a few hundred bytes each) and a shallower tree. Only
         * possible before the first table exists. */
        if (version == 0) {
            rc = exec(s, "PRAGMA page_size = 8192", "cannot set the page size");
            if (rc != 0)
                goto fail;
        }
        sqlite3_stmt *st = NULL;
        int prc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (prc == SQLITE_OK)
            prc = sqlite3_step(st);
        int wal = prc == SQLITE_ROW &&
                  sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (!wal) {
            rc = prc == SQLITE_ROW ? LUX_ESTORE : fail(s, prc, "cannot switch to WAL mode");
            if (prc == SQLITE_ROW)
                set_msg(s, "cannot switch %s to WAL mode (is it on a network filesystem?)",
                        s->path);
            if (rc == 0)
                rc = LUX_ESTORE;
            goto fail;
        }
        /* Checkpoints (WAL -> database copies, each with two fsyncs) every
         * 4096 pages (32 MiB) rather than SQLite's 1000: fewer stalls of the
         * writer at high result rates (measured ~1.5x by `lux bench store`).
         * The WAL file is truncated back to 64 MiB after a checkpoint. */
        rc = exec(s,
                  "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;"
                  " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -2048;"
                  " PRAGMA wal_autocheckpoint = 4096; PRAGMA journal_size_limit = 67108864",
                  "cannot configure the store");
        if (rc != 0)
            goto fail;
        if (version < LUX_STORE_SCHEMA_VERSION) {
            rc = migrate(s);
            if (rc != 0)
                goto fail;
        }
    }
    *out = s;
    return 0;

fail:
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", s->errmsg);
    lux_store_close(&s);
    return rc;
}

int lux_store_open(const char *dir, lux_store_t **out, char *err, size_t errlen)
{
    return open_common(dir, 0, out, err, errlen);
}

int lux_store_open_reader(const char *dir, lux_store_t **out, char *err, size_t errlen)
{
    return open_common(dir, 1, out, err, errlen);
}

void lux_store_close(lux_store_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_store_t *s = *self_p;
    if (s->in_tx)
        lux_store_rollback(s);
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db != NULL)
        sqlite3_close_v2(s->db);
    if (s->lock_fd >= 0) {
        /* A clean close: no pid, so readers do not take it for a death. */
        if (ftruncate(s->lock_fd, 0) != 0)
            lux_log_debug("cannot clear the lock file in %s: %s", s->dir, strerror(errno));
        close(s->lock_fd); /* drops the writer's locks */
    }
    lux_free(s->dir);
    lux_free(s->path);
    lux_free(s);
    *self_p = NULL;
}

/* ---- Transactions ------------------------------------------------------- */

int lux_store_begin(lux_store_t *self)
{
    int rc = need_writer(self, "cannot begin a transaction");
    if (rc != 0)
        return rc;
    if (self->in_tx) {
        set_msg(self, "a transaction is already open on %s", self->path);
        return LUX_EINVAL;
    }
    sqlite3_stmt *st = cached(self, STMT_BEGIN);
    if (st == NULL)
        return LUX_ESTORE;
    rc = step_write(self, st, "cannot begin a transaction");
    if (rc == 0) {
        self->in_tx = 1;
        self->tx_failed = 0;
        self->bytes = 0;
    }
    return rc;
}

int lux_store_commit(lux_store_t *self)
{
    if (!self->in_tx) {
        set_msg(self, "no transaction is open on %s", self->path);
        return LUX_EINVAL;
    }
    if (self->tx_failed != 0) {
        int code = self->tx_failed;
        lux_store_rollback(self);
        return code;
    }
    sqlite3_stmt *st = cached(self, STMT_COMMIT);
    int rc = st != NULL ? step_write(self, st, "cannot commit a batch") : LUX_ESTORE;
    if (rc != 0) {
        lux_store_rollback(self);
        return rc;
    }
    self->in_tx = 0;
    return 0;
}

int lux_store_read_begin(lux_store_t *self)
{
    if (self->in_tx || sqlite3_get_autocommit(self->db) == 0) {
        set_msg(self, "a transaction is already open on %s", self->path);
        return LUX_EINVAL;
    }
    /* A deferred transaction takes its snapshot at the first read: make
     * that read now. */
    int rc = exec(self, "BEGIN", "cannot start reading");
    if (rc == 0)
        rc = exec(self, "SELECT count(*) FROM sqlite_schema", "cannot start reading");
    if (rc != 0)
        lux_store_read_end(self);
    return rc;
}

void lux_store_read_end(lux_store_t *self)
{
    if (self != NULL && !self->in_tx && sqlite3_get_autocommit(self->db) == 0)
        sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL);
}

void lux_store_rollback(lux_store_t *self)
{
    if (self == NULL || !self->in_tx)
        return;
    if (sqlite3_get_autocommit(self->db) == 0) {
        sqlite3_stmt *st = cached(self, STMT_ROLLBACK);
        if (st != NULL) {
            sqlite3_step(st);
            done(st);
        }
    }
    self->in_tx = 0;
    self->tx_failed = 0;
}

int lux_store_in_transaction(const lux_store_t *self)
{
    return self->in_tx;
}

/* ---- Experiment --------------------------------------------------------- */

int lux_store_experiment_put(lux_store_t *self, const lux_store_experiment_t *exp)
{
    int rc = need_writer(self, "cannot write the experiment");
    if (rc != 0)
        return rc;
    if (exp == NULL || exp->name == NULL ||
        (exp->mode != NULL && strcmp(exp->mode, "max") != 0 && strcmp(exp->mode, "min") != 0)) {
        set_msg(self, "experiment needs a name and mode max or min (%s)", self->path);
        return LUX_EINVAL;
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(
        self->db,
        "INSERT OR REPLACE INTO experiment (id, name, config_text, config_json, seed, metric,"
        " mode, status, start_time, end_time, updated_time) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6,"
        " ?7, ?8, NULL, ?9)",
        -1, &st, NULL);
    if (src != SQLITE_OK)
        return fail(self, src, "cannot write the experiment");
    double t = lux_clock_wall_s();
    bind_text(st, 1, exp->name);
    bind_text(st, 2, exp->config_text);
    bind_text(st, 3, exp->config_json);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)exp->seed);
    bind_text(st, 5, exp->metric);
    bind_text(st, 6, exp->mode);
    bind_text(st, 7, exp->status != NULL ? exp->status : "RUNNING");
    sqlite3_bind_double(st, 8, exp->start_time > 0 ? exp->start_time : t);
    sqlite3_bind_double(st, 9, t);
    rc = step_write(self, st, "cannot write the experiment");
    sqlite3_finalize(st);
    return rc;
}

int lux_store_experiment_set_status(lux_store_t *self, const char *status, double end_time)
{
    int rc = need_writer(self, "cannot set the experiment status");
    if (rc != 0)
        return rc;
    if (status == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(self->db,
                                 "UPDATE experiment SET status = ?1, end_time = COALESCE(?2,"
                                 " end_time), updated_time = ?3 WHERE id = 1",
                                 -1, &st, NULL);
    if (src != SQLITE_OK)
        return fail(self, src, "cannot set the experiment status");
    bind_text(st, 1, status);
    bind_time(st, 2, end_time);
    sqlite3_bind_double(st, 3, lux_clock_wall_s());
    rc = step_write(self, st, "cannot set the experiment status");
    if (rc == 0 && sqlite3_changes(self->db) == 0) {
        set_msg(self, "no experiment row to update in %s", self->path);
        rc = LUX_ENOENT;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- Trials --------------------------------------------------------------- */

int lux_store_trial_add(lux_store_t *self, const lux_store_trial_t *t)
{
    int rc = need_writer(self, "cannot add a trial");
    if (rc != 0)
        return rc;
    if (t == NULL || t->trial_id == NULL || t->trial_id[0] == '\0' || t->config_json == NULL ||
        (int)t->status < 0 || t->status >= LUX_TRIAL_STATUS_COUNT) {
        set_msg(self, "a trial needs an id, a config and a valid status (%s)", self->path);
        return LUX_EINVAL;
    }
    sqlite3_stmt *st = cached(self, STMT_TRIAL_ADD);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, t->trial_id);
    bind_text(st, 2, t->config_json);
    count_bytes(self, t->config_json);
    bind_text(st, 3, t->resources_json);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)t->seed);
    bind_text(st, 5, lux_trial_status_name(t->status));
    sqlite3_bind_double(st, 6, t->created_time > 0 ? t->created_time : lux_clock_wall_s());
    bind_text(st, 7, t->parent_trial_id);
    rc = sqlite3_step(st);
    int code = 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        set_msg(self, "trial %s already exists in %s", t->trial_id, self->path);
        code = LUX_EEXIST;
    } else if (rc != SQLITE_DONE) {
        code = fail(self, rc, "cannot add a trial");
    }
    done(st);
    return code;
}

int lux_store_trial_update(lux_store_t *self, const lux_store_trial_t *t)
{
    int rc = need_writer(self, "cannot update a trial");
    if (rc != 0)
        return rc;
    if (t == NULL || t->trial_id == NULL || (int)t->status < 0 ||
        t->status >= LUX_TRIAL_STATUS_COUNT) {
        set_msg(self, "a trial update needs an id and a valid status (%s)", self->path);
        return LUX_EINVAL;
    }
    sqlite3_stmt *st = cached(self, STMT_TRIAL_UPDATE);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, t->trial_id);
    bind_text(st, 2, t->resources_json);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)t->seed);
    bind_text(st, 4, lux_trial_status_name(t->status));
    bind_text(st, 5, t->error);
    sqlite3_bind_int64(st, 6, t->num_failures);
    sqlite3_bind_int64(st, 7, t->training_iteration);
    sqlite3_bind_double(st, 8, t->time_total_s);
    bind_time(st, 9, t->start_time);
    bind_time(st, 10, t->end_time);
    bind_text(st, 11, t->last_result_json);
    count_bytes(self, t->last_result_json);
    if (t->has_best) {
        sqlite3_bind_double(st, 12, t->best_metric);
        sqlite3_bind_int64(st, 13, t->best_iteration);
    }
    bind_text(st, 14, t->parent_trial_id);
    bind_text(st, 15, t->lineage_json);
    bind_text(st, 16, t->restore_checkpoint);
    sqlite3_bind_double(st, 17, lux_clock_wall_s());
    rc = step_write(self, st, "cannot update a trial");
    if (rc == 0 && sqlite3_changes(self->db) == 0) {
        set_msg(self, "no trial %s in %s", t->trial_id, self->path);
        rc = LUX_ENOENT;
    }
    return rc;
}

int lux_store_trial_set_status(lux_store_t *self, const char *trial_id, lux_trial_status_t status,
                               const char *error)
{
    int rc = need_writer(self, "cannot set a trial's status");
    if (rc != 0)
        return rc;
    if (trial_id == NULL || (int)status < 0 || status >= LUX_TRIAL_STATUS_COUNT)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_TRIAL_STATUS);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, trial_id);
    bind_text(st, 2, lux_trial_status_name(status));
    bind_text(st, 3, error);
    sqlite3_bind_double(st, 4, lux_clock_wall_s());
    rc = step_write(self, st, "cannot set a trial's status");
    if (rc == 0 && sqlite3_changes(self->db) == 0) {
        set_msg(self, "no trial %s in %s", trial_id, self->path);
        rc = LUX_ENOENT;
    }
    return rc;
}

/* ---- Results --------------------------------------------------------------- */

int lux_store_result_add(lux_store_t *self, const char *trial_id, long training_iteration,
                         double time_total_s, const char *metrics_json)
{
    int rc = need_writer(self, "cannot add a result");
    if (rc != 0)
        return rc;
    if (trial_id == NULL || metrics_json == NULL) {
        set_msg(self, "a result needs a trial id and metrics (%s)", self->path);
        return LUX_EINVAL;
    }
    sqlite3_stmt *st = cached(self, STMT_RESULT_ADD);
    if (st == NULL)
        return LUX_ESTORE;
    sqlite3_bind_text(st, 1, trial_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, training_iteration);
    sqlite3_bind_double(st, 3, time_total_s);
    sqlite3_bind_double(st, 4, lux_clock_wall_s());
    sqlite3_bind_text(st, 5, metrics_json, -1, SQLITE_STATIC);
    count_bytes(self, metrics_json);
    rc = sqlite3_step(st);
    int code = 0;
    if (rc != SQLITE_DONE)
        code = fail(self, rc, "cannot store a result");
    else if (sqlite3_changes(self->db) == 0)
        self->duplicates++;
    sqlite3_reset(st); /* every parameter is rebound next time */
    return code;
}

int lux_store_result_add_json(lux_store_t *self, const char *trial_id, const json_t *result)
{
    json_t *it = json_object_get(result, "training_iteration");
    json_t *tt = json_object_get(result, "time_total_s");
    if (!json_is_integer(it) || !json_is_number(tt)) {
        set_msg(self, "a result needs training_iteration and time_total_s (%s)", self->path);
        return LUX_EINVAL;
    }
    char *text = json_dumps(result, JSON_COMPACT);
    if (text == NULL)
        return LUX_ENOMEM;
    int rc = lux_store_result_add(self, trial_id, (long)json_integer_value(it),
                                  json_number_value(tt), text);
    free(text);
    return rc;
}

/* ---- Checkpoints ---------------------------------------------------------- */

int lux_store_checkpoint_add(lux_store_t *self, const char *trial_id, long training_iteration,
                             const char *path, int has_score, double score, long size_bytes)
{
    int rc = need_writer(self, "cannot register a checkpoint");
    if (rc != 0)
        return rc;
    if (trial_id == NULL || path == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_CKPT_ADD);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, trial_id);
    sqlite3_bind_int64(st, 2, training_iteration);
    bind_text(st, 3, path);
    if (has_score)
        sqlite3_bind_double(st, 4, score);
    sqlite3_bind_int64(st, 5, size_bytes);
    sqlite3_bind_double(st, 6, lux_clock_wall_s());
    return step_write(self, st, "cannot register a checkpoint");
}

static int ckpt_update(lux_store_t *self, int id, const char *trial_id, long iteration,
                       sqlite3_stmt **out)
{
    int rc = need_writer(self, "cannot update a checkpoint");
    if (rc != 0)
        return rc;
    if (trial_id == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, id);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, trial_id);
    sqlite3_bind_int64(st, 2, iteration);
    *out = st;
    return 0;
}

static int ckpt_finish(lux_store_t *self, sqlite3_stmt *st, const char *trial_id, long iteration)
{
    int rc = step_write(self, st, "cannot update a checkpoint");
    if (rc == 0 && sqlite3_changes(self->db) == 0) {
        set_msg(self, "no checkpoint %ld of trial %s in %s", iteration, trial_id, self->path);
        rc = LUX_ENOENT;
    }
    return rc;
}

int lux_store_checkpoint_pin(lux_store_t *self, const char *trial_id, long training_iteration,
                             int pinned)
{
    sqlite3_stmt *st;
    int rc = ckpt_update(self, STMT_CKPT_PIN, trial_id, training_iteration, &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(st, 3, pinned != 0);
    return ckpt_finish(self, st, trial_id, training_iteration);
}

int lux_store_checkpoint_mark_deleted(lux_store_t *self, const char *trial_id,
                                      long training_iteration)
{
    sqlite3_stmt *st;
    int rc = ckpt_update(self, STMT_CKPT_DELETED, trial_id, training_iteration, &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_double(st, 3, lux_clock_wall_s());
    return ckpt_finish(self, st, trial_id, training_iteration);
}

/* ---- Decisions and state --------------------------------------------------- */

int lux_store_decision_add(lux_store_t *self, const char *source, const char *trial_id,
                           const char *action, const char *detail_json)
{
    int rc = need_writer(self, "cannot record a decision");
    if (rc != 0)
        return rc;
    if (source == NULL || action == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_DECISION_ADD);
    if (st == NULL)
        return LUX_ESTORE;
    sqlite3_bind_double(st, 1, lux_clock_wall_s());
    bind_text(st, 2, source);
    bind_text(st, 3, trial_id);
    bind_text(st, 4, action);
    bind_text(st, 5, detail_json);
    count_bytes(self, detail_json);
    return step_write(self, st, "cannot record a decision");
}

static int state_put(lux_store_t *self, const char *key, const char *text, const int64_t *num)
{
    int rc = need_writer(self, "cannot store state");
    if (rc != 0)
        return rc;
    if (key == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_STATE_PUT);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, key);
    if (num != NULL)
        sqlite3_bind_int64(st, 2, *num);
    else
        bind_text(st, 2, text);
    count_bytes(self, text);
    sqlite3_bind_double(st, 3, lux_clock_wall_s());
    return step_write(self, st, "cannot store state");
}

int lux_store_state_put(lux_store_t *self, const char *key, const char *value)
{
    return state_put(self, key, value, NULL);
}

int lux_store_counter_put(lux_store_t *self, const char *key, int64_t value)
{
    return state_put(self, key, NULL, &value);
}

int lux_store_journal_add(lux_store_t *self, const char *source, const char *entry_json)
{
    int rc = need_writer(self, "cannot append to the journal");
    if (rc != 0)
        return rc;
    if (source == NULL || entry_json == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_JOURNAL_ADD);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, source);
    bind_text(st, 2, entry_json);
    count_bytes(self, entry_json);
    return step_write(self, st, "cannot append to the journal");
}

/* Steps STATE_GET for key; on SQLITE_ROW leaves the statement for the
 * caller to read and reset. */
static int state_row(lux_store_t *self, const char *key, sqlite3_stmt **out)
{
    if (key == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st = cached(self, STMT_STATE_GET);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = st;
        return 0;
    }
    int code =
        rc == SQLITE_DONE || rc == SQLITE_ROW ? LUX_ENOENT : fail(self, rc, "cannot read state");
    if (code == LUX_ENOENT)
        set_msg(self, "no state '%s' in %s", key, self->path);
    done(st);
    return code;
}

int lux_store_state_get(lux_store_t *self, const char *key, char **value)
{
    sqlite3_stmt *st;
    int rc = state_row(self, key, &st);
    if (rc != 0)
        return rc;
    const char *text = (const char *)sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    *value = text != NULL ? lux_strndup(text, (size_t)n) : NULL;
    done(st);
    return *value != NULL ? 0 : LUX_ENOMEM;
}

int lux_store_counter_get(lux_store_t *self, const char *key, int64_t *value)
{
    sqlite3_stmt *st;
    int rc = state_row(self, key, &st);
    if (rc != 0)
        return rc;
    *value = (int64_t)sqlite3_column_int64(st, 0);
    done(st);
    return 0;
}

/* ---- Reading ---------------------------------------------------------------- */

static int prepare(lux_store_t *self, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(self->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : fail(self, rc, what);
}

/* Column i as JSON: numbers and text as they are, NULL as null; when
 * parse is set, text is parsed as JSON (kept as a string if it is not). */
static json_t *column_json(sqlite3_stmt *st, int i, int parse)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return json_null();
    default: {
        const char *text = (const char *)sqlite3_column_text(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        if (text == NULL)
            return json_null();
        if (parse) {
            json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            if (v != NULL)
                return v;
        }
        return json_stringn(text, n);
    }
    }
}

/* Builds an object from the current row: names[i] is column i's key; a
 * name starting with '@' is parsed as JSON text. */
static json_t *row_object(sqlite3_stmt *st, const char *const *names, int n)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        int parse = names[i][0] == '@';
        json_t *v = column_json(st, i, parse);
        if (v == NULL || json_object_set_new(obj, names[i] + parse, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* Runs a prepared query and collects every row as an object into *out.
 * Finalizes st. */
static int collect(lux_store_t *self, sqlite3_stmt *st, const char *const *names, int n,
                   json_t **out, const char *what)
{
    json_t *arr = json_array();
    int rc, code = 0;
    if (arr == NULL) {
        sqlite3_finalize(st);
        return LUX_ENOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = row_object(st, names, n);
        if (row == NULL || json_array_append_new(arr, row) != 0) {
            code = LUX_ENOMEM;
            break;
        }
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(self, rc, what);
    sqlite3_finalize(st);
    if (code != 0) {
        json_decref(arr);
        return code;
    }
    *out = arr;
    return 0;
}

int lux_store_experiment_get(lux_store_t *self, json_t **exp)
{
    static const char *const names[] = {"name",     "config_text", "@config", "seed",
                                        "metric",   "mode",        "status",  "start_time",
                                        "end_time", "updated_time"};
    sqlite3_stmt *st;
    int rc = prepare(self,
                     "SELECT name, config_text, config_json, seed, metric, mode, status,"
                     " start_time, end_time, updated_time FROM experiment WHERE id = 1",
                     &st, "cannot read the experiment");
    if (rc != 0)
        return rc;
    json_t *rows;
    rc = collect(self, st, names, 10, &rows, "cannot read the experiment");
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        set_msg(self, "%s has no experiment row yet", self->path);
        return LUX_ENOENT;
    }
    *exp = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

#define TRIAL_COLUMNS                                                                              \
    "t.trial_id, t.config, t.resources, t.seed, t.status, t.error, t.num_failures,"                \
    " t.training_iteration, t.time_total_s, t.created_time, t.start_time, t.end_time,"             \
    " t.last_result, t.best_metric, t.best_iteration, t.parent_trial_id, t.lineage,"               \
    " t.restore_checkpoint, (SELECT c.path FROM checkpoints c WHERE c.trial_id = t.trial_id"       \
    " AND c.deleted_time IS NULL ORDER BY c.training_iteration DESC LIMIT 1)"

static const char *const trial_names[] = {"trial_id",         "@config",
                                          "@resources",       "seed",
                                          "status",           "error",
                                          "num_failures",     "training_iteration",
                                          "time_total_s",     "created_time",
                                          "start_time",       "end_time",
                                          "@last_result",     "best_metric",
                                          "best_iteration",   "parent_trial_id",
                                          "@lineage",         "restore_checkpoint",
                                          "latest_checkpoint"};
#define NTRIAL_NAMES ((int)(sizeof trial_names / sizeof trial_names[0]))

int lux_store_trials(lux_store_t *self, json_t **trials)
{
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT " TRIAL_COLUMNS " FROM trials t ORDER BY t.seq", &st,
                     "cannot list the trials");
    if (rc != 0)
        return rc;
    return collect(self, st, trial_names, NTRIAL_NAMES, trials, "cannot list the trials");
}

int lux_store_trials_each(lux_store_t *self, lux_store_trial_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT " TRIAL_COLUMNS " FROM trials t ORDER BY t.seq", &st,
                     "cannot list the trials");
    if (rc != 0)
        return rc;
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = row_object(st, trial_names, NTRIAL_NAMES);
        code = row == NULL ? LUX_ENOMEM : fn(arg, row);
        json_decref(row);
        if (code != 0)
            break;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(self, rc, "cannot list the trials");
    sqlite3_finalize(st);
    return code;
}

int lux_store_journal(lux_store_t *self, const char *source, json_t **entries)
{
    static const char *const names[] = {"@entry"};
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT entry FROM journal WHERE source = ?1 ORDER BY seq", &st,
                     "cannot read the journal");
    if (rc != 0)
        return rc;
    bind_text(st, 1, source);
    json_t *rows;
    rc = collect(self, st, names, 1, &rows, "cannot read the journal");
    if (rc != 0)
        return rc;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (out != NULL && json_array_append(out, json_object_get(row, "entry")) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(rows);
    if (out == NULL)
        return LUX_ENOMEM;
    *entries = out;
    return 0;
}

int lux_store_trial_get(lux_store_t *self, const char *trial_id, json_t **trial)
{
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT " TRIAL_COLUMNS " FROM trials t WHERE t.trial_id = ?1", &st,
                     "cannot read a trial");
    if (rc != 0)
        return rc;
    bind_text(st, 1, trial_id);
    json_t *rows;
    rc = collect(self, st, trial_names, NTRIAL_NAMES, &rows, "cannot read a trial");
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        set_msg(self, "no trial %s in %s", trial_id, self->path);
        return LUX_ENOENT;
    }
    *trial = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

int lux_store_trial_counts(lux_store_t *self, long counts[LUX_TRIAL_STATUS_COUNT])
{
    for (int i = 0; i < LUX_TRIAL_STATUS_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT status, COUNT(*) FROM trials GROUP BY status", &st,
                     "cannot count the trials");
    if (rc != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lux_trial_status_t s;
        if (lux_trial_status_parse((const char *)sqlite3_column_text(st, 0), &s) == 0)
            counts[s] = (long)sqlite3_column_int64(st, 1);
    }
    int code = rc == SQLITE_DONE ? 0 : fail(self, rc, "cannot count the trials");
    sqlite3_finalize(st);
    return code;
}

int lux_store_results(lux_store_t *self, const char *trial_id, json_t **results)
{
    static const char *const names[] = {"training_iteration", "time_total_s", "@metrics"};
    sqlite3_stmt *st;
    int rc = prepare(self,
                     "SELECT training_iteration, time_total_s, metrics FROM results"
                     " WHERE trial_id = ?1 ORDER BY training_iteration",
                     &st, "cannot read results");
    if (rc != 0)
        return rc;
    bind_text(st, 1, trial_id);
    return collect(self, st, names, 3, results, "cannot read results");
}

int lux_store_last_iteration(lux_store_t *self, const char *trial_id, long *iteration)
{
    sqlite3_stmt *st = cached(self, STMT_LAST_ITER);
    if (st == NULL)
        return LUX_ESTORE;
    bind_text(st, 1, trial_id);
    int rc = sqlite3_step(st);
    int code = 0;
    if (rc == SQLITE_ROW)
        *iteration = (long)sqlite3_column_int64(st, 0); /* NULL reads as 0 */
    else
        code = fail(self, rc, "cannot read the last iteration");
    done(st);
    return code;
}

int lux_store_results_each(lux_store_t *self, lux_store_result_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc = prepare(self,
                     "SELECT r.trial_id, r.training_iteration, r.time_total_s, r.metrics"
                     " FROM results r LEFT JOIN trials t ON t.trial_id = r.trial_id"
                     " ORDER BY t.seq, r.trial_id, r.training_iteration",
                     &st, "cannot read results");
    if (rc != 0)
        return rc;
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *trial_id = (const char *)sqlite3_column_text(st, 0);
        const char *metrics = (const char *)sqlite3_column_text(st, 3);
        /* The schema says NOT NULL, but a damaged file need not: callers
         * are promised strings. */
        if (trial_id == NULL || metrics == NULL) {
            set_msg(self, "%s has a result without a trial id or metrics (a damaged database?)",
                    self->path);
            code = LUX_ESTORE;
            break;
        }
        code = fn(arg, trial_id, (long)sqlite3_column_int64(st, 1), sqlite3_column_double(st, 2),
                  metrics);
        if (code != 0)
            break;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(self, rc, "cannot read results");
    sqlite3_finalize(st);
    return code;
}

int lux_store_scope_parse(const char *text, lux_store_scope_t *scope)
{
    static const struct {
        const char *name;
        lux_store_scope_t scope;
    } scopes[] = {{"last", LUX_SCOPE_LAST},
                  {"all", LUX_SCOPE_ALL},
                  {"avg", LUX_SCOPE_AVG},
                  {"last-5-avg", LUX_SCOPE_LAST_5_AVG},
                  {"last-10-avg", LUX_SCOPE_LAST_10_AVG}};
    for (size_t i = 0; text != NULL && i < sizeof scopes / sizeof scopes[0]; i++)
        if (strcmp(text, scopes[i].name) == 0) {
            *scope = scopes[i].scope;
            return 0;
        }
    return LUX_EINVAL;
}

static const char *scope_name(lux_store_scope_t scope)
{
    switch (scope) {
    case LUX_SCOPE_LAST:
        return "last";
    case LUX_SCOPE_ALL:
        return "all";
    case LUX_SCOPE_AVG:
        return "avg";
    case LUX_SCOPE_LAST_5_AVG:
        return "last-5-avg";
    case LUX_SCOPE_LAST_10_AVG:
        return "last-10-avg";
    }
    return "?";
}

/* Writes JSON paths for metric: the flat key ('$."a/b"') and, when the
 * name has '/', the nested one ('$."a"."b"'). Quotes in names are
 * escaped. */
static int metric_paths(const char *metric, char *flat, char *nested, size_t len)
{
    size_t f = 0, n = 0;
    flat[f++] = '$';
    flat[f++] = '.';
    flat[f++] = '"';
    nested[n++] = '$';
    nested[n++] = '.';
    nested[n++] = '"';
    for (const char *p = metric; *p != '\0'; p++) {
        if (f + 4 >= len || n + 6 >= len)
            return LUX_ERANGE;
        if (*p == '"' || *p == '\\') {
            flat[f++] = '\\';
            nested[n++] = '\\';
        }
        flat[f++] = *p;
        if (*p == '/') {
            /* '/' separates levels: close this key, open the next */
            nested[n++] = '"';
            nested[n++] = '.';
            nested[n++] = '"';
        } else {
            nested[n++] = *p;
        }
    }
    flat[f++] = '"';
    flat[f] = '\0';
    nested[n++] = '"';
    nested[n] = '\0';
    return 0;
}

int lux_store_best_trial(lux_store_t *self, const char *metric, const char *mode,
                         lux_store_scope_t scope, json_t **best)
{
    if (metric == NULL || metric[0] == '\0' || mode == NULL ||
        (strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)) {
        set_msg(self, "best trial needs a metric and mode max or min (%s)", self->path);
        return LUX_EINVAL;
    }
    char flat[512], nested[1024];
    if (metric_paths(metric, flat, nested, sizeof flat) != 0) {
        set_msg(self, "metric name too long: %.64s...", metric);
        return LUX_EINVAL;
    }
    int maximize = strcmp(mode, "max") == 0;
    /* v: one numeric value per result row that has the metric; per trial,
     * the score by scope; the best trial by mode, ties to the earlier. */
    const char *agg;
    long last_n = 0;
    switch (scope) {
    case LUX_SCOPE_ALL:
        agg = maximize ? "MAX(v)" : "MIN(v)";
        break;
    case LUX_SCOPE_AVG:
        agg = "AVG(v)";
        break;
    case LUX_SCOPE_LAST_5_AVG:
        agg = "AVG(v)";
        last_n = 5;
        break;
    case LUX_SCOPE_LAST_10_AVG:
        agg = "AVG(v)";
        last_n = 10;
        break;
    case LUX_SCOPE_LAST:
    default:
        agg = "AVG(v)"; /* over the one last row */
        last_n = 1;
        break;
    }
    char sql[2048];
    snprintf(sql, sizeof sql,
             "WITH vals AS (SELECT trial_id, training_iteration AS it,"
             "   COALESCE(json_extract(metrics, ?1), json_extract(metrics, ?2)) AS v"
             "   FROM results),"
             " numeric AS (SELECT trial_id, it, v, ROW_NUMBER() OVER (PARTITION BY trial_id"
             "   ORDER BY it DESC) AS rn FROM vals WHERE typeof(v) IN ('integer', 'real')),"
             " scored AS (SELECT trial_id, %s AS score, MAX(it) AS last_it FROM numeric"
             "   WHERE %s GROUP BY trial_id)"
             " SELECT s.trial_id, t.status, t.config, s.score,"
             "  %s AS it,"
             "  (SELECT c.path FROM checkpoints c WHERE c.trial_id = s.trial_id AND"
             "   c.deleted_time IS NULL ORDER BY c.training_iteration DESC LIMIT 1)"
             " FROM scored s LEFT JOIN trials t ON t.trial_id = s.trial_id"
             " ORDER BY s.score %s, COALESCE(t.seq, 9223372036854775807), s.trial_id LIMIT 1",
             agg, last_n > 0 ? "rn <= ?3" : "1",
             scope == LUX_SCOPE_ALL
                 ? "(SELECT MIN(n.it) FROM numeric n WHERE n.trial_id = s.trial_id AND n.v = "
                   "s.score)"
                 : (scope == LUX_SCOPE_LAST ? "s.last_it" : "NULL"),
             maximize ? "DESC" : "ASC");
    sqlite3_stmt *st;
    int rc = prepare(self, sql, &st, "cannot find the best trial");
    if (rc != 0)
        return rc;
    bind_text(st, 1, flat);
    bind_text(st, 2, strchr(metric, '/') != NULL ? nested : flat);
    if (last_n > 0)
        sqlite3_bind_int64(st, 3, last_n);
    static const char *const names[] = {"trial_id",           "status",    "@config", "value",
                                        "training_iteration", "checkpoint"};
    json_t *rows;
    rc = collect(self, st, names, 6, &rows, "cannot find the best trial");
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        set_msg(self, "no result in %s reports the metric '%s'", self->path, metric);
        return LUX_ENOENT;
    }
    json_t *b = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    json_object_set_new(b, "metric", json_string(metric));
    json_object_set_new(b, "mode", json_string(mode));
    json_object_set_new(b, "scope", json_string(scope_name(scope)));
    *best = b;
    return 0;
}

int lux_store_checkpoints(lux_store_t *self, const char *trial_id, int include_deleted,
                          json_t **checkpoints)
{
    static const char *const names[] = {
        "training_iteration", "path", "score", "size", "pinned", "deleted"};
    sqlite3_stmt *st;
    int rc = prepare(self,
                     "SELECT training_iteration, path, score, size, pinned,"
                     " deleted_time IS NOT NULL FROM checkpoints WHERE trial_id = ?1"
                     " AND (?2 OR deleted_time IS NULL) ORDER BY training_iteration",
                     &st, "cannot list checkpoints");
    if (rc != 0)
        return rc;
    bind_text(st, 1, trial_id);
    sqlite3_bind_int(st, 2, include_deleted != 0);
    rc = collect(self, st, names, 6, checkpoints, "cannot list checkpoints");
    if (rc != 0)
        return rc;
    /* pinned and deleted as booleans */
    size_t i;
    json_t *c;
    json_array_foreach(*checkpoints, i, c)
    {
        json_object_set_new(c, "pinned",
                            json_boolean(json_integer_value(json_object_get(c, "pinned"))));
        json_object_set_new(c, "deleted",
                            json_boolean(json_integer_value(json_object_get(c, "deleted"))));
    }
    return 0;
}

int lux_store_decisions(lux_store_t *self, long after_id, long limit, json_t **decisions)
{
    static const char *const names[] = {"id", "time", "source", "trial_id", "action", "@detail"};
    sqlite3_stmt *st;
    int rc = prepare(self,
                     "SELECT id, time, source, trial_id, action, detail FROM decisions"
                     " WHERE id > ?1 ORDER BY id LIMIT ?2",
                     &st, "cannot list decisions");
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    return collect(self, st, names, 6, decisions, "cannot list decisions");
}

/* ---- Trial failure kinds ------------------------------------------------------ */

int lux_store_trial_failure_put(lux_store_t *self, const char *trial_id, const char *kind)
{
    int rc = need_writer(self, "cannot record why a trial failed");
    if (rc != 0)
        return rc;
    if (trial_id == NULL)
        return LUX_EINVAL;
    sqlite3_stmt *st;
    rc = prepare(self,
                 kind != NULL ? "INSERT OR REPLACE INTO trial_failures (trial_id, kind, time)"
                                " VALUES (?1, ?2, ?3)"
                              : "DELETE FROM trial_failures WHERE trial_id = ?1",
                 &st, "cannot record why a trial failed");
    if (rc != 0)
        return rc;
    bind_text(st, 1, trial_id);
    if (kind != NULL) {
        bind_text(st, 2, kind);
        sqlite3_bind_double(st, 3, lux_clock_wall_s());
    }
    rc = sqlite3_step(st);
    int code = rc == SQLITE_DONE ? 0 : fail(self, rc, "cannot record why a trial failed");
    sqlite3_finalize(st);
    return code;
}

int lux_store_trial_failures(lux_store_t *self, json_t **kinds)
{
    *kinds = NULL;
    json_t *obj = json_object();
    if (obj == NULL)
        return LUX_ENOMEM;
    if (self->version < 3) { /* a reader of an older store: none recorded */
        *kinds = obj;
        return 0;
    }
    sqlite3_stmt *st;
    int rc = prepare(self, "SELECT trial_id, kind FROM trial_failures", &st,
                     "cannot read why trials failed");
    if (rc != 0) {
        json_decref(obj);
        return rc;
    }
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        if (id != NULL && kind != NULL && json_object_set_new(obj, id, json_string(kind)) != 0) {
            code = LUX_ENOMEM;
            break;
        }
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(self, rc, "cannot read why trials failed");
    sqlite3_finalize(st);
    if (code != 0) {
        json_decref(obj);
        return code;
    }
    *kinds = obj;
    return 0;
}
