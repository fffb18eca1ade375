/*
 * `lux env-trace ENV`: resets an environment with a seed (optionally
 * overwriting the initial state), plays a given list of actions and prints
 * every step: observation, reward, terminated, truncated, and the float64
 * state. It is how anyone compares our dynamics with another implementation
 * (Gymnasium) step by step. Every input is validated before the first line
 * is printed, so bad input never yields a partial trace.
 */
#include "cli.h"
#include "env.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

const char lux_cmd_env_trace_help[] =
    "usage: lux env-trace ENV [--seed S] [--state x,y,...] [--actions a1,a2,...]\n"
    "                     [--options OPTS] [--csv] [--render]\n\n"
    "Resets ENV with seed S (default 0), optionally sets its physical state, plays\n"
    "the actions in order and prints one line per step: the step number, the\n"
    "action, the float32 observation, the reward, terminated, truncated and the\n"
    "float64 state (classic environments). Step 0 is the reset. The trace stops\n"
    "early when the episode ends.\n\n"
    "  --seed S          reset seed (an unsigned 64-bit integer)\n"
    "  --state x,y,...   initial state after the reset, in the environment's state\n"
    "                    layout (see 'lux envs --bounds'), e.g. CartPole: x,x_dot,theta,theta_dot\n"
    "  --actions LIST    comma-separated actions: integers for discrete spaces,\n"
    "                    numbers for boxes (elements of one action joined by ':');\n"
    "                    box actions beyond the bounds are clipped as in Gymnasium\n"
    "  --options OPTS    keyword options, \"key=value,...\" or a JSON object\n"
    "                    (see 'lux envs --options ENV')\n"
    "  --csv             comma-separated values with a header line\n"
    "  --render          print the text rendering after each step (not with --csv)\n\n"
    "Example: lux env-trace CartPole-v1 --seed 0 --state 0,0,0.2,0 --actions 1,1,0\n";

/* Parses a comma-separated list of finite numbers into *out (allocated);
 * `sep` separates values. Returns the count, or -1 with the offending token
 * in bad[]. */
static int parse_numbers(const char *text, char sep, double **out, char *bad, size_t badlen)
{
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == sep;
    double *v = lux_calloc((size_t)n, sizeof *v);
    if (v == NULL)
        return -1;
    const char *p = text;
    for (int i = 0; i < n; i++) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[64];
        snprintf(tok, sizeof tok, "%.*s", (int)(len < 63 ? len : 63), p);
        char *stop;
        errno = 0;
        v[i] = strtod(tok, &stop);
        if (len == 0 || len >= 63 || *stop != '\0' || errno != 0 || !isfinite(v[i])) {
            snprintf(bad, badlen, "%.*s", (int)(len < 40 ? len : 40), p);
            lux_free(v);
            return -1;
        }
        p += len + 1;
    }
    *out = v;
    return n;
}

static void print_space(const lux_env_space_t *s, char *buf, size_t size)
{
    if (s->kind == LUX_ENV_SPACE_DISCRETE)
        snprintf(buf, size, "Discrete(%d), 0..%d", s->n, s->n - 1);
    else
        snprintf(buf, size, "Box(%d)", s->n);
}

typedef struct {
    int csv, render;
    const lux_env_info_t *info;
    char *text; /* rendering buffer */
    size_t text_size;
} printer_t;

static void print_header(const printer_t *pr, const char *env, unsigned long long seed)
{
    const lux_env_info_t *info = pr->info;
    if (!pr->csv) {
        printf("# %s seed %llu; columns: step action obs reward terminated truncated%s\n", env,
               seed, info->state_dim ? " state" : "");
        return;
    }
    printf("step,action");
    for (int i = 0; i < info->observation.n; i++)
        printf(",obs%d", i);
    printf(",reward,terminated,truncated");
    if (info->state_dim > 0) {
        const char *p = info->state_layout;
        for (int i = 0; i < info->state_dim; i++) {
            const char *c = p ? strchr(p, ',') : NULL;
            int len = c ? (int)(c - p) : (p ? (int)strlen(p) : 0);
            if (p)
                printf(",%.*s", len, p);
            else
                printf(",state%d", i);
            p = c ? c + 1 : NULL;
        }
    }
    if (pr->info->num_agents > 1)
        printf(",agent");
    printf("\n");
}

static void print_row(printer_t *pr, lux_env_t *env, long step, const double *action,
                      const float *obs, double reward, int term, int trunc)
{
    const lux_env_info_t *info = pr->info;
    const char *sep = pr->csv ? "," : " ";
    printf("%ld%s", step, sep);
    if (action == NULL)
        printf("%s", pr->csv ? "" : "-");
    else
        for (int i = 0; i < info->action.n && (i == 0 || info->action.kind == LUX_ENV_SPACE_BOX);
             i++)
            printf("%s%.17g", i ? ":" : "", action[i]);
    printf("%s", sep);
    if (!pr->csv)
        printf("[");
    for (int i = 0; i < info->observation.n; i++)
        printf("%s%.9g", i ? (pr->csv ? "," : ", ") : "", (double)obs[i]);
    if (!pr->csv)
        printf("]");
    printf("%s%.17g%s%d%s%d", sep, reward, sep, term, sep, trunc);
    if (info->state_dim > 0) {
        double s[LUX_ENV_MAX_STATE];
        lux_env_get_state(env, s, LUX_ENV_MAX_STATE);
        printf("%s", pr->csv ? "" : " [");
        for (int i = 0; i < info->state_dim; i++)
            printf("%s%.17g", pr->csv || i ? (pr->csv ? "," : ", ") : "", s[i]);
        printf("%s", pr->csv ? "" : "]");
    }
    if (info->num_agents > 1)
        printf("%s%s%d", sep, pr->csv ? "" : "agent=", lux_env_current_agent(env));
    printf("\n");
    if (pr->render && !pr->csv) {
        size_t need = lux_env_render_text(env, pr->text, pr->text_size);
        if (need < pr->text_size)
            fputs(pr->text, stdout);
    }
}

int lux_cmd_env_trace(int argc, char **argv)
{
    const char *seed_text = "0", *state_text = NULL, *actions_text = NULL, *options = NULL;
    int csv = 0, render = 0;
    const lux_opt_t opts[] = {
        {"--seed", "-s", LUX_OPT_STRING, &seed_text},
        {"--state", NULL, LUX_OPT_STRING, &state_text},
        {"--actions", "-a", LUX_OPT_STRING, &actions_text},
        {"--options", NULL, LUX_OPT_STRING, &options},
        {"--csv", NULL, LUX_OPT_FLAG, &csv},
        {"--render", NULL, LUX_OPT_FLAG, &render},
    };
    char *pos[2];
    int npos = 0;
    if (lux_cli_parse("env-trace", argc, argv, opts, 6, pos, 2, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("env-trace", "expected one environment name (see 'lux envs')");
    const char *name = pos[0];

    char *end;
    errno = 0;
    unsigned long long seed = strtoull(seed_text, &end, 10);
    if (*seed_text == '\0' || *seed_text == '-' || *end != '\0' || errno != 0)
        return lux_cli_usage_error("env-trace", "--seed needs an unsigned integer, not '%s'",
                                   seed_text);

    lux_env_t *env = NULL;
    char err[512];
    int rc = lux_env_make(name, options, &env, err, sizeof err);
    if (rc != 0)
        return lux_cli_usage_error("env-trace", "%s", err);
    const lux_env_info_t *info = lux_env_info(env);
    int status = LUX_EXIT_USAGE;
    double *state = NULL, *actions = NULL;
    char *text = NULL;
    char bad[64], space[64];
    print_space(&info->action, space, sizeof space);

    int nstate = 0;
    if (state_text != NULL) {
        if (info->state_dim == 0) {
            lux_cli_usage_error("env-trace", "%s has no settable state (--state)", info->name);
            goto out;
        }
        nstate = parse_numbers(state_text, ',', &state, bad, sizeof bad);
        if (nstate < 0) {
            lux_cli_usage_error("env-trace", "--state: '%s' is not a finite number", bad);
            goto out;
        }
        if (nstate != info->state_dim) {
            lux_cli_usage_error("env-trace", "--state: %s has %d state values (%s), got %d",
                                info->name, info->state_dim, info->state_layout, nstate);
            goto out;
        }
    }

    /* Actions: validate all of them before printing anything. */
    int nact = 0, width = info->action.kind == LUX_ENV_SPACE_BOX ? info->action.n : 1;
    if (actions_text != NULL && *actions_text != '\0') {
        int tokens = 1;
        for (const char *p = actions_text; *p; p++)
            tokens += *p == ',';
        actions = lux_calloc((size_t)tokens * (size_t)width, sizeof *actions);
        if (actions == NULL) {
            status = LUX_EXIT_FAILURE;
            goto out;
        }
        const char *p = actions_text;
        for (int k = 0; k < tokens; k++) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            char tok[256];
            snprintf(tok, sizeof tok, "%.*s", (int)(len < 255 ? len : 255), p);
            double *vals = NULL;
            int nv = len == 0 || len > 255 ? -1 : parse_numbers(tok, ':', &vals, bad, sizeof bad);
            if (nv < 0) {
                lux_cli_usage_error("env-trace", "--actions: action %d '%s' is not a number", k + 1,
                                    tok);
                goto out;
            }
            if (nv != width) {
                lux_free(vals);
                lux_cli_usage_error("env-trace",
                                    "--actions: action %d '%s' has %d values; %s needs %d", k + 1,
                                    tok, nv, space, width);
                goto out;
            }
            if (info->action.kind == LUX_ENV_SPACE_DISCRETE &&
                (vals[0] != floor(vals[0]) || vals[0] < 0 || vals[0] >= info->action.n)) {
                lux_free(vals);
                lux_cli_usage_error("env-trace", "--actions: action %d '%s' is outside %s", k + 1,
                                    tok, space);
                goto out;
            }
            for (int i = 0; i < nv; i++) {
                if (info->action.kind == LUX_ENV_SPACE_BOX &&
                    (vals[i] < info->action.low[i] || vals[i] > info->action.high[i]))
                    fprintf(stderr,
                            "lux env-trace: note: action %d '%s' is outside [%g, %g]; the "
                            "environment clips it as Gymnasium does\n",
                            k + 1, tok, info->action.low[i], info->action.high[i]);
                actions[(size_t)k * (size_t)width + (size_t)i] = vals[i];
            }
            lux_free(vals);
            p += len + 1;
        }
        nact = tokens;
    }

    printer_t pr = {csv, render, info, NULL, 0};
    if (render) {
        pr.text_size = 1 << 20;
        text = pr.text = lux_malloc(pr.text_size);
        if (text == NULL) {
            status = LUX_EXIT_FAILURE;
            goto out;
        }
    }
    float obs[LUX_ENV_MAX_OBS];
    lux_env_reset(env, seed, obs);
    if (state != NULL)
        lux_env_set_state(env, state, (size_t)nstate, obs);
    print_header(&pr, name, seed);
    print_row(&pr, env, 0, NULL, obs, 0.0, 0, 0);
    for (int k = 0; k < nact; k++) {
        double reward = 0;
        int term = 0, trunc = 0;
        const double *a = &actions[(size_t)k * (size_t)width];
        rc = lux_env_step(env, a, obs, &reward, &term, &trunc);
        if (rc != 0) { /* validated above: cannot happen */
            fprintf(stderr, "lux env-trace: step %d failed (%d)\n", k + 1, rc);
            status = LUX_EXIT_FAILURE;
            goto out;
        }
        print_row(&pr, env, k + 1, a, obs, reward, term, trunc);
        if (term || trunc) {
            if (k + 1 < nact)
                fprintf(stderr,
                        "lux env-trace: the episode ended (%s) at step %d; the remaining %d "
                        "action(s) were not played\n",
                        term ? "terminated" : "truncated", k + 1, nact - k - 1);
            break;
        }
    }
    status = fflush(stdout) == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
out:
    lux_free(text);
    lux_free(actions);
    lux_free(state);
    lux_env_destroy(&env);
    return status;
}
