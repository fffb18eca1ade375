/*
 * Fuzz target: the experiment config loader (tune/config.h), YAML text ->
 * lux_config_t, as `lux run FILE` loads it (environments checked against the
 * registry, trainables against the rl classes).
 *
 * The input is the YAML file's text. Every input is loaded twice, as is and
 * with --smoke's overrides. A config that loads must survive its canonical
 * round trip: to_json -> from_json gives a config that differs in no field
 * (lux_config_diff == 0), the --resume check accepts it, and its first and
 * last trial configs can be built. Anything else (a crash, a leak, UB, or a
 * broken round trip) aborts.
 *
 * Seeds: tests/fuzz/corpus/fuzz_config (experiments/ and tests/tune/configs/).
 */
#include "config.h"
#include "env.h"
#include "trainables.h"

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static bool env_exists(const char *name, void *user)
{
    (void)user;
    return lux_env_registry_find(name) != NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (lux_rl_register_trainables() != 0)
        abort();
    return 0;
}

static void check(bool ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
        abort();
    }
}

static void load(const uint8_t *data, size_t size, bool smoke)
{
    lux_config_options_t opts = {.env_exists = env_exists, .smoke = smoke};
    lux_config_t *cfg = NULL;
    char err[1024];
    int rc =
        lux_config_load_string((const char *)data, size, "fuzz.yaml", &opts, &cfg, err, sizeof err);
    if (rc != 0) {
        check(cfg == NULL, "a failed load returned a config", err);
        check(rc == LUX_ECONFIG || rc == LUX_ENOMEM, "unexpected error code", lux_strerror(rc));
        return;
    }
    json_t *json = lux_config_to_json(cfg);
    check(json != NULL, "to_json", "NULL");
    /* The canonical form has the smoke overrides applied already. */
    lux_config_options_t plain = {.env_exists = env_exists};
    lux_config_t *back = NULL;
    rc = lux_config_from_json(json, &plain, &back, err, sizeof err);
    if (rc != 0) {
        char *text = json_dumps(json, JSON_COMPACT);
        fprintf(stderr, "fuzz_config: canonical JSON does not load back: %s\n%s\n", err,
                text ? text : "");
        abort();
    }
    const char *fields[16];
    size_t n = lux_config_diff(cfg, back, fields, 16);
    if (n != 0) {
        fprintf(stderr, "fuzz_config: round trip changed %zu field(s), first '%s'\n", n, fields[0]);
        abort();
    }
    rc = lux_config_resume_check(cfg, back, err, sizeof err);
    check(rc == 0, "resume check of an identical config", err);
    long trials = lux_config_num_trials(cfg);
    if (trials > 0) {
        long ks[2] = {0, trials - 1};
        for (int i = 0; i < 2; i++) {
            json_t *tc = NULL;
            rc = lux_config_trial_config(cfg, ks[i], &tc);
            check(rc == 0 || rc == LUX_ENOMEM, "trial config", lux_strerror(rc));
            json_decref(tc);
        }
    }
    json_t *none = NULL;
    check(lux_config_trial_config(cfg, trials < 0 ? 0 : trials, &none) == LUX_ERANGE,
          "trial config past the end", "not LUX_ERANGE");
    json_decref(json);
    lux_config_destroy(&back);
    lux_config_destroy(&cfg);
    check(cfg == NULL, "destroy", "pointer not cleared");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size, false);
    load(data, size, true);
    return 0;
}
