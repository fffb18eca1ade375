/*
 * `lux envs`: the environment registry as a table (or JSON): spaces, agents,
 * time limits and reward thresholds; `--options ENV` lists the keyword
 * options of one environment.
 */
#include "cli.h"
#include "env.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char lux_cmd_envs_help[] =
    "usage: lux envs [--bounds] [--json] [--options ENV]\n\n"
    "Lists the environments lux knows, like Gymnasium's registry: observation and\n"
    "action spaces, number of agents, max_episode_steps (the time limit; for\n"
    "builders the episode length in turns per agent) and the registered reward\n"
    "threshold ('-' when Gymnasium registers none).\n\n"
    "  --bounds        also print each space's bounds and the state layout\n"
    "  --json          print the registry as JSON\n"
    "  --options ENV   list the keyword options ENV accepts (for lux_env_make and\n"
    "                  'lux env-trace --options')\n";

/* "Discrete(3)" or "Box(4)". */
static void space_name(const lux_env_space_t *s, char *buf, size_t size)
{
    if (s->kind == LUX_ENV_SPACE_DISCRETE)
        snprintf(buf, size, "Discrete(%d)", s->n);
    else
        snprintf(buf, size, "Box(%d)", s->n);
}

static void print_bounds(const char *label, const lux_env_space_t *s)
{
    if (s->kind == LUX_ENV_SPACE_DISCRETE) {
        printf("    %-12s {0..%d}\n", label, s->n - 1);
        return;
    }
    printf("    %-12s low  [", label);
    for (int i = 0; i < s->n; i++)
        printf("%s%.8g", i ? ", " : "", s->low[i]);
    printf("]\n    %-12s high [", "");
    for (int i = 0; i < s->n; i++)
        printf("%s%.8g", i ? ", " : "", s->high[i]);
    printf("]\n");
}

static json_t *space_json(const lux_env_space_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "type",
                        json_string(s->kind == LUX_ENV_SPACE_DISCRETE ? "Discrete" : "Box"));
    json_object_set_new(o, "n", json_integer(s->n));
    if (s->kind == LUX_ENV_SPACE_BOX) {
        json_t *shape = json_array(), *low = json_array(), *high = json_array();
        for (int i = 0; i < s->ndim; i++)
            json_array_append_new(shape, json_integer(s->shape[i]));
        /* JSON has no infinity: unbounded is null. */
        for (int i = 0; i < s->n; i++) {
            json_array_append_new(low, isfinite(s->low[i]) ? json_real(s->low[i]) : json_null());
            json_array_append_new(high, isfinite(s->high[i]) ? json_real(s->high[i]) : json_null());
        }
        json_object_set_new(o, "shape", shape);
        json_object_set_new(o, "low", low);
        json_object_set_new(o, "high", high);
    }
    return o;
}

static int print_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < lux_env_registry_count(); i++) {
        const lux_env_info_t *e = lux_env_registry_get(i);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "summary", json_string(e->summary));
        json_object_set_new(o, "observation_space", space_json(&e->observation));
        json_object_set_new(o, "action_space", space_json(&e->action));
        json_object_set_new(o, "num_agents", json_integer(e->num_agents));
        json_object_set_new(o, "max_episode_steps", json_integer(e->max_episode_steps));
        json_object_set_new(o, "reward_threshold",
                            e->has_reward_threshold ? json_real(e->reward_threshold) : json_null());
        json_object_set_new(o, "state",
                            e->state_layout ? json_string(e->state_layout) : json_null());
        json_array_append_new(arr, o);
    }
    int rc =
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    printf("\n");
    json_decref(arr);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}

int lux_cmd_envs(int argc, char **argv)
{
    int bounds = 0, json = 0;
    const char *options_of = NULL;
    const lux_opt_t opts[] = {
        {"--bounds", NULL, LUX_OPT_FLAG, &bounds},
        {"--json", NULL, LUX_OPT_FLAG, &json},
        {"--options", NULL, LUX_OPT_STRING, &options_of},
    };
    if (lux_cli_parse("envs", argc, argv, opts, 3, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (options_of != NULL) {
        const char *help = lux_env_options(options_of);
        if (help == NULL) {
            const char *s = lux_env_suggest(options_of);
            if (s != NULL)
                return lux_cli_usage_error("envs", "unknown environment '%s'; did you mean '%s'?",
                                           options_of, s);
            return lux_cli_usage_error("envs", "unknown environment '%s'", options_of);
        }
        printf("options of %s (JSON {\"key\": value} or key=value,key=value):\n", options_of);
        for (const char *p = help; *p != '\0';) {
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            printf("  %.*s\n", len, p);
            p += len + (nl ? 1 : 0);
        }
        return LUX_EXIT_OK;
    }
    if (json)
        return print_json();
    printf("%-26s %-13s %-13s %6s %10s %10s\n", "name", "observation", "action", "agents",
           "max_steps", "threshold");
    for (size_t i = 0; i < lux_env_registry_count(); i++) {
        const lux_env_info_t *e = lux_env_registry_get(i);
        char obs[32], act[32], thr[32];
        space_name(&e->observation, obs, sizeof obs);
        space_name(&e->action, act, sizeof act);
        if (e->has_reward_threshold)
            snprintf(thr, sizeof thr, "%g", e->reward_threshold);
        else
            snprintf(thr, sizeof thr, "-");
        printf("%-26s %-13s %-13s %6d %10ld %10s\n", e->name, obs, act, e->num_agents,
               e->max_episode_steps, thr);
        if (bounds) {
            printf("    %s\n", e->summary);
            print_bounds("observation", &e->observation);
            print_bounds("action", &e->action);
            printf("    %-12s %s\n", "state", e->state_layout ? e->state_layout : "(not settable)");
        }
    }
    return LUX_EXIT_OK;
}
