/*
 * `lux best DIR`: the best trial of an experiment by a metric, read from its
 * store (read-only; works while the run is writing).
 */
#include "cli.h"
#include "store.h"
#include "table.h"

#include "error.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char lux_cmd_best_help[] =
    "usage: lux best DIR [--metric M] [--mode max|min] [--scope SCOPE] [--json]\n\n"
    "Prints the best trial of the experiment in DIR: its id, its config as JSON,\n"
    "the metric's value and the path of its latest checkpoint (with a warning on\n"
    "stderr when that checkpoint's files are gone).\n\n"
    "options:\n"
    "  --metric M     the metric to rank by; a nested one as a/b (default: the\n"
    "                 experiment's metric)\n"
    "  --mode MODE    max or min (default: the experiment's mode)\n"
    "  --scope SCOPE  last: the last reported value (default); all: the best value\n"
    "                 of any iteration; avg: the average of all iterations;\n"
    "                 last-5-avg, last-10-avg: the average of the last 5 or 10\n"
    "  --json         print one JSON object instead\n";

/* Prints prefix and one line of msg (a copy, sanitised: it names trials and
 * paths from the experiment) to f. */
static void print_safe(FILE *f, const char *prefix, const char *msg)
{
    char *copy = strdup(msg);
    if (copy != NULL)
        lux_table_sanitize(copy, 0);
    fprintf(f, "%s%s\n", prefix, copy != NULL ? copy : msg);
    free(copy);
}

int lux_cmd_best(int argc, char **argv)
{
    const char *metric = NULL, *mode = NULL, *scope_text = "last";
    int as_json = 0;
    const lux_opt_t opts[] = {
        {"--metric", NULL, LUX_OPT_STRING, &metric},
        {"--mode", NULL, LUX_OPT_STRING, &mode},
        {"--scope", NULL, LUX_OPT_STRING, &scope_text},
        {"--json", NULL, LUX_OPT_FLAG, &as_json},
    };
    char *pos[1];
    int npos = 0;
    if (lux_cli_parse("best", argc, argv, opts, 4, pos, 1, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("best", "needs the experiment directory");
    lux_store_scope_t scope;
    if (lux_store_scope_parse(scope_text, &scope) != 0)
        return lux_cli_usage_error(
            "best", "--scope must be last, all, avg, last-5-avg or last-10-avg, not '%s'",
            scope_text);
    if (mode != NULL && strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)
        return lux_cli_usage_error("best", "--mode must be max or min, not '%s'", mode);

    lux_store_t *s = NULL;
    char err[512];
    int rc = lux_store_open_reader(pos[0], &s, err, sizeof err);
    if (rc != 0) {
        print_safe(stderr, "lux best: ", err);
        return rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    json_t *exp = NULL, *best = NULL;
    int code = LUX_EXIT_FAILURE;
    if (lux_store_experiment_get(s, &exp) == 0) {
        if (metric == NULL)
            metric = json_string_value(json_object_get(exp, "metric"));
        if (mode == NULL)
            mode = json_string_value(json_object_get(exp, "mode"));
    }
    if (metric == NULL) {
        code = lux_cli_usage_error("best", "the experiment in %s names no metric; pass --metric",
                                   pos[0]);
        goto done;
    }
    if (mode == NULL)
        mode = "max";
    rc = lux_store_best_trial(s, metric, mode, scope, &best);
    if (rc != 0) {
        print_safe(stderr, "lux best: ", lux_store_errmsg(s));
        code = rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
        goto done;
    }
    /* The checkpoint as a path usable from here. */
    const char *ck = json_string_value(json_object_get(best, "checkpoint"));
    if (ck != NULL) {
        size_t n = strlen(pos[0]) + strlen(ck) + 2;
        char *full = malloc(n);
        if (full != NULL) {
            snprintf(full, n, "%s/%s", pos[0], ck);
            /* The store names it, but its files may have been deleted since
             * (by hand, or a disk cleanup). The best trial is still the
             * answer, so the exit code stays 0; the warning says that the
             * path cannot be restored from. */
            struct stat st;
            if (stat(full, &st) != 0) {
                char warning[8192];
                snprintf(warning, sizeof warning,
                         "warning: the checkpoint of trial %s, %s, is missing (%s); this trial "
                         "cannot be restored from it",
                         json_string_value(json_object_get(best, "trial_id")), full,
                         strerror(errno));
                print_safe(stderr, "lux best: ", warning);
            }
            json_object_set_new(best, "checkpoint", json_string(full));
            free(full);
        }
    }
    if (as_json) {
        char *text = json_dumps(best, JSON_INDENT(2));
        if (text == NULL)
            goto done;
        printf("%s\n", text);
        free(text);
    } else {
        /* Built whole, then sanitised: the trial id, config, metric and
         * path are the experiment's strings and may hold escapes. */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f == NULL)
            goto done;
        char *config = json_dumps(json_object_get(best, "config"), JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(f, "trial_id: %s\n", json_string_value(json_object_get(best, "trial_id")));
        fprintf(f, "config: %s\n", config ? config : "null");
        fprintf(f, "%s: %.17g (mode %s, scope %s", metric,
                json_number_value(json_object_get(best, "value")), mode, scope_text);
        json_t *it = json_object_get(best, "training_iteration");
        if (json_is_integer(it))
            fprintf(f, ", iteration %lld", (long long)json_integer_value(it));
        fprintf(f, ")\n");
        const char *path = json_string_value(json_object_get(best, "checkpoint"));
        fprintf(f, "checkpoint: %s\n", path ? path : "(none)");
        free(config);
        int bad = ferror(f);
        if (fclose(f) != 0 || bad) {
            free(text);
            goto done;
        }
        lux_table_sanitize(text, 1);
        fputs(text, stdout);
        free(text);
    }
    code = LUX_EXIT_OK;
done:
    json_decref(best);
    json_decref(exp);
    lux_store_close(&s);
    return code;
}
