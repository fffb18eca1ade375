/*
 * `lux export DIR --csv FILE`: the experiment's results (one row per result,
 * or one per trial with its last result) as CSV, with nested metrics and
 * config keys flattened ("info/learner/loss", "config/optimizer/lr").
 *
 * Results are streamed from the store twice (once for the columns, once for
 * the rows) so memory does not grow with the number of results. Fields are
 * quoted by libcsv (csv_fwrite), so commas, quotes, newlines and any UTF-8
 * survive. A regular file is written under a temporary name and renamed
 * into place, so a reader never sees half an export; devices, FIFOs and
 * standard output are written directly (target_open).
 */
#include "cli.h"
#include "store.h"
#include "table.h"

#include "error.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char lux_cmd_export_help[] =
    "usage: lux export DIR --csv FILE [--per result|trial]\n\n"
    "Writes the experiment in DIR as CSV. --per result (the default) writes one\n"
    "row per reported result: trial_id, training_iteration, time_total_s, every\n"
    "metric (nested ones flattened as a/b) and the trial's config as config/...\n"
    "columns. --per trial writes one row per trial: its status, iteration, time,\n"
    "failures, error, last result and config. Numbers are written bare, every\n"
    "other field quoted; values keep full precision.\n\n"
    "FILE - writes to standard output. A regular FILE is replaced atomically\n"
    "(written under a temporary name, then renamed); through a symbolic link,\n"
    "the file it points to is replaced and the link kept. A device or a FIFO\n"
    "(/dev/null, a named pipe) is written to directly; a directory is refused.\n";

/* Automatic result columns written first, from the results table itself. */
static const char *const fixed_result_cols[] = {"trial_id", "training_iteration", "time_total_s"};
static const char *const fixed_trial_cols[] = {"trial_id",     "status",       "training_iteration",
                                               "time_total_s", "num_failures", "error"};

typedef struct {
    FILE *out;
    json_t *metric_keys; /* object used as an ordered set */
    json_t *configs;     /* trial_id -> flattened config with config/ keys */
    json_t *config_keys; /* ordered set */
    int per_trial;
    int io_error;
    lux_store_t *store;
    char *err; /* the message of a row that cannot be exported */
    size_t errlen;
} export_t;

static int is_fixed(const char *k, const char *const *fixed, size_t n)
{
    /* A result that carries its config (as Ray's do) would repeat the
     * config/ columns, which come from the trials table. */
    if (fixed != NULL && (strcmp(k, "config") == 0 || strncmp(k, "config/", 7) == 0))
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, fixed[i]) == 0)
            return 1;
    return 0;
}

/* Adds every key of flat to the ordered set keys. */
static void add_keys(json_t *keys, json_t *flat, const char *const *fixed, size_t nfixed)
{
    const char *k;
    json_t *v;
    json_object_foreach(flat, k, v)
    {
        if (!is_fixed(k, fixed, nfixed) && json_object_get(keys, k) == NULL)
            json_object_set_new(keys, k, json_true());
    }
}

/* A result's metrics flattened into *flat, or LUX_ESTORE with x->err
 * naming the row when they are not a JSON object (the store only writes
 * objects: the row was damaged or written by hand). An export with blank
 * cells for it would look complete. */
static int flatten_metrics(export_t *x, const char *trial_id, long it, const char *text,
                           json_t **flat)
{
    json_error_t e;
    json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, &e) : NULL;
    if (!json_is_object(v)) {
        if (v == NULL && text != NULL)
            snprintf(x->err, x->errlen,
                     "%s: the metrics of trial %s at iteration %ld are not valid JSON (%s at "
                     "character %d); repair or delete that row of the results table "
                     "(docs/store.md) and export again",
                     lux_store_path(x->store), trial_id, it, e.text, e.position);
        else
            snprintf(x->err, x->errlen,
                     "%s: the metrics of trial %s at iteration %ld are not a JSON object; repair "
                     "or delete that row of the results table (docs/store.md) and export again",
                     lux_store_path(x->store), trial_id, it);
        json_decref(v);
        return LUX_ESTORE;
    }
    *flat = json_object();
    if (*flat == NULL || lux_table_flatten(v, NULL, *flat) != 0) {
        json_decref(v);
        json_decref(*flat);
        *flat = NULL;
        return LUX_ENOMEM;
    }
    json_decref(v);
    return 0;
}

/* One field: empty for a missing value or null, else quoted by libcsv. */
static void put_field(export_t *x, int first, const json_t *v)
{
    if (!first && fputc(',', x->out) == EOF)
        x->io_error = 1;
    if (v == NULL || json_is_null(v))
        return;
    char buf[64];
    char *dyn = NULL;
    const char *text = buf;
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL: {
        /* the shortest of 15 or 17 digits that reads back the same double */
        double d = json_real_value(v);
        snprintf(buf, sizeof buf, "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, sizeof buf, "%.17g", d);
        break;
    }
    case JSON_TRUE:
        text = "true";
        break;
    case JSON_FALSE:
        text = "false";
        break;
    case JSON_STRING:
        text = json_string_value(v);
        break;
    default:
        dyn = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        text = dyn != NULL ? dyn : "";
        break;
    }
    size_t len = json_is_string(v) ? json_string_length(v) : strlen(text);
    /* Numbers go bare (digits, '-', '.', 'e' need no quotes), so that every
     * reader takes them for numbers; everything else is quoted. */
    if (json_is_number(v) ? fputs(text, x->out) == EOF : csv_fwrite(x->out, text, len) != 0)
        x->io_error = 1;
    free(dyn);
}

static void put_name(export_t *x, int first, const char *name)
{
    json_t *s = json_string(name);
    put_field(x, first, s);
    json_decref(s);
}

static void end_row(export_t *x)
{
    if (fputc('\n', x->out) == EOF)
        x->io_error = 1;
}

static void put_header(export_t *x, const char *const *fixed, size_t nfixed)
{
    for (size_t i = 0; i < nfixed; i++)
        put_name(x, i == 0, fixed[i]);
    const char *k;
    json_t *v;
    json_object_foreach(x->metric_keys, k, v) put_name(x, 0, k);
    json_object_foreach(x->config_keys, k, v) put_name(x, 0, k);
    end_row(x);
}

static void put_tail(export_t *x, json_t *flat_metrics, const char *trial_id)
{
    const char *k;
    json_t *v;
    json_object_foreach(x->metric_keys, k, v) put_field(x, 0, json_object_get(flat_metrics, k));
    json_t *cfg = json_object_get(x->configs, trial_id);
    json_object_foreach(x->config_keys, k, v) put_field(x, 0, json_object_get(cfg, k));
    end_row(x);
}

static int scan_result(void *arg, const char *trial_id, long it, double t, const char *metrics)
{
    (void)t;
    export_t *x = arg;
    json_t *flat = NULL;
    int rc = flatten_metrics(x, trial_id, it, metrics, &flat);
    if (rc != 0)
        return rc;
    add_keys(x->metric_keys, flat, fixed_result_cols, 3);
    json_decref(flat);
    return 0;
}

static int write_result(void *arg, const char *trial_id, long it, double t, const char *metrics)
{
    export_t *x = arg;
    json_t *flat = NULL;
    int rc = flatten_metrics(x, trial_id, it, metrics, &flat);
    if (rc != 0)
        return rc;
    json_t *id = json_string(trial_id), *jit = json_integer(it), *jt = json_real(t);
    if (id == NULL || jit == NULL || jt == NULL) {
        json_decref(flat);
        json_decref(id);
        json_decref(jit);
        json_decref(jt);
        return LUX_ENOMEM;
    }
    put_field(x, 1, id);
    put_field(x, 0, jit);
    put_field(x, 0, jt);
    put_tail(x, flat, trial_id);
    json_decref(flat);
    json_decref(id);
    json_decref(jit);
    json_decref(jt);
    return x->io_error ? LUX_EIO : 0;
}

/* First walk over the trials: each one's flattened config (kept, for the
 * config/... columns of its rows) and the column names. */
static int scan_trial(void *arg, const json_t *t)
{
    export_t *x = arg;
    json_t *flat = json_object();
    if (flat == NULL)
        return LUX_ENOMEM;
    lux_table_flatten(json_object_get(t, "config"), "config", flat);
    add_keys(x->config_keys, flat, NULL, 0);
    json_object_set_new(x->configs, json_string_value(json_object_get(t, "trial_id")), flat);
    if (x->per_trial) {
        /* The store parses last_result and keeps the text of one that does
         * not parse as a string. */
        const json_t *lr = json_object_get(t, "last_result");
        if (lr != NULL && !json_is_object(lr) && !json_is_null(lr)) {
            snprintf(x->err, x->errlen,
                     "%s: the last result of trial %s is not a JSON object; repair that trial's "
                     "last_result in the trials table (docs/store.md) and export again",
                     lux_store_path(x->store), json_string_value(json_object_get(t, "trial_id")));
            return LUX_ESTORE;
        }
        json_t *last = json_object();
        if (last == NULL)
            return LUX_ENOMEM;
        lux_table_flatten(json_object_get(t, "last_result"), NULL, last);
        add_keys(x->metric_keys, last, fixed_trial_cols, 6);
        json_decref(last);
    }
    return 0;
}

static int write_trial(void *arg, const json_t *t)
{
    export_t *x = arg;
    for (size_t c = 0; c < 6; c++)
        put_field(x, c == 0, json_object_get(t, fixed_trial_cols[c]));
    json_t *flat = json_object();
    if (flat == NULL)
        return LUX_ENOMEM;
    lux_table_flatten(json_object_get(t, "last_result"), NULL, flat);
    put_tail(x, flat, json_string_value(json_object_get(t, "trial_id")));
    json_decref(flat);
    return x->io_error ? LUX_EIO : 0;
}

/* The trials are walked one row at a time (columns first, then rows), so
 * only the flattened configs stay in memory. */
static int export_csv(lux_store_t *s, FILE *out, int per_trial, char *err, size_t errlen)
{
    export_t x = {.out = out,
                  .store = s,
                  .err = err,
                  .errlen = errlen,
                  .per_trial = per_trial,
                  .metric_keys = json_object(),
                  .configs = json_object(),
                  .config_keys = json_object()};
    int rc = LUX_ENOMEM;
    if (x.metric_keys == NULL || x.configs == NULL || x.config_keys == NULL)
        goto done;
    /* One snapshot for all the walks, so a running experiment's new trials
     * and results cannot appear between them. */
    rc = lux_store_read_begin(s);
    if (rc != 0)
        goto done;
    rc = lux_store_trials_each(s, scan_trial, &x);
    if (rc != 0)
        goto done;
    if (per_trial) {
        put_header(&x, fixed_trial_cols, 6);
        rc = lux_store_trials_each(s, write_trial, &x);
    } else {
        rc = lux_store_results_each(s, scan_result, &x);
        if (rc != 0)
            goto done;
        put_header(&x, fixed_result_cols, 3);
        rc = lux_store_results_each(s, write_result, &x);
    }
    if (rc == 0 && x.io_error)
        rc = LUX_EIO;
done:
    lux_store_read_end(s);
    json_decref(x.metric_keys);
    json_decref(x.configs);
    json_decref(x.config_keys);
    return rc;
}

/* Where the CSV goes. A regular file (or a symbolic link to one) is written
 * under a temporary name next to the file and renamed onto it, so a reader
 * never sees half an export; through a link the file it points to is
 * replaced and the link is kept. Anything else that exists (a device such as
 * /dev/null, a FIFO, a socket) is opened and written directly: renaming
 * over it would replace the device node or the link. "-" is standard output
 * (through a duplicate descriptor, so its errors are reported here once).
 * A directory is refused. */
typedef struct {
    const char *name; /* the user's path, or "standard output" */
    char *final;      /* the regular file the temporary is renamed onto, or NULL */
    char *tmp;        /* the temporary, or NULL when written directly */
    FILE *f;
} target_t;

/* Opens the target; 0, or a message on stderr and the exit code. */
static int target_open(const char *csv, target_t *t)
{
    *t = (target_t){.name = csv};
    int fd = -1;
    if (strcmp(csv, "-") == 0) {
        t->name = "standard output";
        fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            fprintf(stderr, "lux export: cannot write to standard output: %s\n", strerror(errno));
            return LUX_EXIT_FAILURE;
        }
    } else {
        struct stat lst, st;
        int have = lstat(csv, &lst) == 0;
        int followed = have && stat(csv, &st) == 0;
        if (have && !S_ISLNK(lst.st_mode))
            st = lst, followed = 1;
        if (followed && S_ISDIR(st.st_mode)) {
            fprintf(stderr,
                    "lux export: %s is a directory; give --csv a file name, such as "
                    "%s/results.csv, or - for standard output\n",
                    csv, csv);
            return LUX_EXIT_USAGE;
        }
        if (!have || (followed && S_ISREG(st.st_mode))) {
            /* A new or regular file: written aside, then renamed onto. */
            t->final = followed && S_ISLNK(lst.st_mode) ? realpath(csv, NULL) : strdup(csv);
            size_t n = t->final != NULL ? strlen(t->final) + 32 : 0;
            t->tmp = n ? malloc(n) : NULL;
            if (t->tmp == NULL) {
                fprintf(stderr, "lux export: cannot resolve %s: %s\n", csv,
                        t->final == NULL && errno != 0 ? strerror(errno) : "out of memory");
                return LUX_EXIT_FAILURE;
            }
            snprintf(t->tmp, n, "%s.tmp.%ld", t->final, (long)getpid());
            fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd < 0) {
                fprintf(stderr, "lux export: cannot create %s: %s\n", t->tmp, strerror(errno));
                return LUX_EXIT_FAILURE;
            }
        } else {
            /* A device, FIFO or socket, or a link to one or to nothing. */
            fd = open(csv, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
            if (fd < 0) {
                fprintf(stderr, "lux export: cannot open %s for writing: %s\n", csv,
                        strerror(errno));
                return LUX_EXIT_FAILURE;
            }
        }
    }
    t->f = fdopen(fd, "w");
    if (t->f == NULL) {
        fprintf(stderr, "lux export: cannot write %s: %s\n", t->name, strerror(errno));
        close(fd);
        return LUX_EXIT_FAILURE;
    }
    return 0;
}

/* Flushes and closes the target and, for a regular file, syncs it and
 * renames it into place (ok: the export is complete). Returns 0 or LUX_EIO
 * with a message on stderr; a temporary never stays behind. */
static int target_close(target_t *t, int ok)
{
    int rc = 0;
    if (t->f != NULL) {
        errno = 0;
        int bad = fflush(t->f) != 0 || ferror(t->f);
        if (!bad && t->tmp != NULL && fsync(fileno(t->f)) != 0)
            bad = 1;
        int err = errno;
        if (fclose(t->f) != 0 && !bad) {
            bad = 1;
            err = errno;
        }
        t->f = NULL;
        if (bad && ok) {
            fprintf(stderr, "lux export: cannot write %s: %s\n", t->tmp != NULL ? t->tmp : t->name,
                    err ? strerror(err) : "a write failed");
            rc = LUX_EIO;
        }
    }
    if (t->tmp != NULL && ok && rc == 0) {
        /* The target may have become something else meanwhile. */
        struct stat st;
        if (lstat(t->final, &st) == 0 && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "lux export: %s is no longer a regular file; not replacing it\n",
                    t->final);
            rc = LUX_EIO;
        } else if (rename(t->tmp, t->final) != 0) {
            fprintf(stderr, "lux export: cannot rename %s to %s: %s\n", t->tmp, t->final,
                    strerror(errno));
            rc = LUX_EIO;
        }
    }
    if (t->tmp != NULL && (!ok || rc != 0))
        unlink(t->tmp);
    free(t->tmp);
    free(t->final);
    t->tmp = t->final = NULL;
    return rc;
}

int lux_cmd_export(int argc, char **argv)
{
    const char *csv = NULL, *per = "result";
    const lux_opt_t opts[] = {
        {"--csv", NULL, LUX_OPT_STRING, &csv},
        {"--per", NULL, LUX_OPT_STRING, &per},
    };
    char *pos[1];
    int npos = 0;
    if (lux_cli_parse("export", argc, argv, opts, 2, pos, 1, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("export", "needs the experiment directory");
    if (csv == NULL || csv[0] == '\0')
        return lux_cli_usage_error("export", "needs --csv FILE");
    if (strcmp(per, "result") != 0 && strcmp(per, "trial") != 0)
        return lux_cli_usage_error("export", "--per must be result or trial, not '%s'", per);

    lux_store_t *s = NULL;
    char err[8192];
    int rc = lux_store_open_reader(pos[0], &s, err, sizeof err);
    if (rc != 0) {
        lux_table_sanitize(err, 0);
        fprintf(stderr, "lux export: %s\n", err);
        return rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    target_t t;
    int code = target_open(csv, &t);
    if (code != 0) {
        target_close(&t, 0);
        lux_store_close(&s);
        return code;
    }
    err[0] = '\0';
    rc = export_csv(s, t.f, strcmp(per, "trial") == 0, err, sizeof err);
    if (rc != 0 && err[0] == '\0' && lux_store_errmsg(s)[0] != '\0')
        snprintf(err, sizeof err, "%s", lux_store_errmsg(s));
    if (rc != 0 && err[0] != '\0') {
        /* It names trials of the experiment: no escapes to the terminal. */
        lux_table_sanitize(err, 0);
        fprintf(stderr, "lux export: %s\n", err);
    } else if (rc == LUX_EIO)
        fprintf(stderr, "lux export: cannot write %s: %s\n", t.tmp != NULL ? t.tmp : t.name,
                strerror(errno ? errno : EIO));
    else if (rc != 0)
        fprintf(stderr, "lux export: cannot export to %s: %s\n", t.name, lux_strerror(rc));
    if (target_close(&t, rc == 0) != 0)
        rc = LUX_EIO;
    lux_store_close(&s);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
