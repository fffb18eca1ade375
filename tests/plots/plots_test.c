/* Tests of `lux plot`: every figure from small experiments built through the
 * store API (ASHA with stopped and errored trials, PBT with lineage, no
 * search space, no trials, 10,000 trials), string quoting and an injection
 * attempt through names and values, byte-identical reruns, a missing or
 * failing gnuplot, and one real `lux run` + `lux plot`. */
#include "test.h"

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "gnuplot.h"
#include "plots.h"
#include "store.h"

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------- */

/* snprintf into an array, checked for truncation. */
#define PATHF(buf, ...) LUX_CHECK(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap)
            buf = realloc(buf, cap *= 2);
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static char *read_at(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    PATHF(path, "%s/%s", dir, name);
    char *text = read_all(path, len);
    LUX_CHECK_MSG(text != NULL, "cannot read %s", path);
    return text;
}

static int exists(const char *dir, const char *name)
{
    char path[1024];
    PATHF(path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static void check_png(const char *dir, const char *name)
{
    size_t len;
    char *img = read_at(dir, name, &len);
    LUX_CHECK_MSG(len > 1000, "%s/%s has %zu bytes", dir, name, len);
    LUX_CHECK_MSG(memcmp(img, "\x89PNG\r\n\x1a\n", 8) == 0, "%s/%s is not a PNG", dir, name);
    free(img);
}

static void check_svg(const char *dir, const char *name)
{
    size_t len;
    char *img = read_at(dir, name, &len);
    LUX_CHECK_MSG(len > 1000, "%s/%s has %zu bytes", dir, name, len);
    LUX_CHECK_MSG(strncmp(img, "<?xml", 5) == 0 && strstr(img, "<svg") != NULL,
                  "%s/%s is not an SVG", dir, name);
    LUX_CHECK(strstr(img, "</svg>") != NULL);
    free(img);
}

/* The canonical config JSON of a YAML experiment, as the runner stores it. */
static char *canonical(const char *yaml, lux_config_t **cfg_out)
{
    lux_config_options_t opts = {.skip_trainable_check = true};
    lux_config_t *cfg = NULL;
    char err[512];
    int rc = lux_config_load_string(yaml, strlen(yaml), "test.yaml", &opts, &cfg, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "config: %s", err);
    json_t *j = lux_config_to_json(cfg);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    *cfg_out = cfg;
    return text;
}

static lux_store_t *new_store(const char *dir, const char *name, const char *yaml,
                              lux_config_t **cfg)
{
    lux_store_t *s = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    char *json = yaml ? canonical(yaml, cfg) : NULL;
    lux_store_experiment_t exp = {.name = name,
                                  .config_text = yaml,
                                  .config_json = json ? json : "{}",
                                  .seed = 1,
                                  .metric = "episode_reward_mean",
                                  .mode = "max",
                                  .status = "FINISHED"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    free(json);
    return s;
}

static void add_result(lux_store_t *s, const char *id, long it, double reward)
{
    char m[512];
    PATHF(m,
          "{\"episode_reward_mean\":%.17g,\"training_iteration\":%ld,\"time_total_s\":%.3f,"
          "\"total_episodes\":%ld,\"info\":{\"learner\":{\"loss\":%g}}}",
          reward, it, it * 0.25, it * 40, 1.0 / (double)it);
    LUX_CHECK_OK(lux_store_result_add(s, id, it, it * 0.25, m));
}

static void finish_trial(lux_store_t *s, const char *id, const char *config,
                         lux_trial_status_t status, long iters, const char *error,
                         const char *lineage)
{
    lux_store_trial_t tr = {.trial_id = id,
                            .config_json = config,
                            .status = status,
                            .training_iteration = iters,
                            .time_total_s = iters * 0.25,
                            .error = error,
                            .lineage_json = lineage};
    LUX_CHECK_OK(lux_store_trial_update(s, &tr));
}

static const char asha_yaml[] = "name: asha\n"
                                "trainable: sepcmaes\n"
                                "env: CartPole-v1\n"
                                "metric: episode_reward_mean\n"
                                "mode: max\n"
                                "num_samples: 8\n"
                                "seed: 3\n"
                                "stop: {training_iteration: 8}\n"
                                "scheduler: {type: asha, max_t: 8, grace_period: 1, "
                                "reduction_factor: 2}\n"
                                "config:\n"
                                "  popsize: {choice: [8, 16, 32]}\n"
                                "  sigma0: {loguniform: [0.05, 2.0]}\n"
                                "  lr: {uniform: [0.0, 1.0]}\n"
                                "  episodes_per_eval: 2\n";

/* Eight ASHA trials over 8 iterations: trial 2 ends in ERROR at iteration 3,
 * trials 3, 4 and 5 are stopped at the rungs 1, 2 and 4; trial 6 is best. */
static void build_asha(const char *dir)
{
    lux_config_t *cfg = NULL;
    lux_store_t *s = new_store(dir, "asha", asha_yaml, &cfg);
    LUX_CHECK_OK(lux_store_begin(s));
    static const long iters[8] = {8, 8, 3, 1, 2, 4, 8, 8};
    for (int k = 0; k < 8; k++) {
        char id[32];
        PATHF(id, "asha_%05d", k);
        json_t *c = NULL;
        LUX_CHECK_OK(lux_config_trial_config(cfg, k, &c));
        char *ctext = json_dumps(c, JSON_COMPACT);
        lux_store_trial_t tr = {.trial_id = id, .config_json = ctext};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        for (long it = 1; it <= iters[k]; it++)
            add_result(s, id, it, 10.0 * (double)(k + 1) * (double)it + (k == 6 ? 200 : 0));
        if (k >= 3 && k <= 5) {
            char detail[256];
            PATHF(detail,
                  "{\"decision\":\"stop\",\"trial\":%d,\"rung\":%d,\"milestone\":%ld.0,"
                  "\"time\":%ld.0,\"cutoff\":100}",
                  k, k - 3, iters[k], iters[k]);
            LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", id, "stop", detail));
        } else {
            LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", id, "rung",
                                                "{\"decision\":\"rung\",\"rung\":0}"));
        }
        if (k == 7)
            LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", id, "stop",
                                                "{\"decision\":\"stop\",\"reason\":\"max_t\"}"));
        finish_trial(s, id, ctext, k == 2 ? LUX_TRIAL_ERROR : LUX_TRIAL_TERMINATED, iters[k],
                     k == 2 ? "RuntimeError: diverged" : NULL, NULL);
        free(ctext);
        json_decref(c);
    }
    LUX_CHECK_OK(lux_store_commit(s));
    lux_store_close(&s);
    lux_config_destroy(&cfg);
}

static const char pbt_yaml[] = "name: pbt\n"
                               "trainable: sepcmaes\n"
                               "env: CartPole-v1\n"
                               "metric: episode_reward_mean\n"
                               "mode: max\n"
                               "num_samples: 4\n"
                               "seed: 5\n"
                               "stop: {training_iteration: 9}\n"
                               "scheduler:\n"
                               "  type: pbt\n"
                               "  time_attr: total_episodes\n"
                               "  perturbation_interval: 120\n"
                               "  hyperparam_mutations:\n"
                               "    sigma0: {loguniform: [0.05, 2.0]}\n"
                               "    popsize: [8, 16, 32]\n"
                               "config:\n"
                               "  popsize: {choice: [8, 16, 32]}\n"
                               "  sigma0: {loguniform: [0.05, 2.0]}\n";

/* Four PBT trials over 9 iterations (40 episodes each); trial 1 clones
 * trial 0 at 120 episodes and trial 3 clones trial 2 at 240. */
static void build_pbt(const char *dir)
{
    lux_config_t *cfg = NULL;
    lux_store_t *s = new_store(dir, "pbt", pbt_yaml, &cfg);
    LUX_CHECK_OK(lux_store_begin(s));
    for (int k = 0; k < 4; k++) {
        char id[32];
        PATHF(id, "pbt_%05d", k);
        json_t *c = NULL;
        LUX_CHECK_OK(lux_config_trial_config(cfg, k, &c));
        char *ctext = json_dumps(c, JSON_COMPACT);
        lux_store_trial_t tr = {.trial_id = id, .config_json = ctext};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        for (long it = 1; it <= 9; it++)
            add_result(s, id, it, 20.0 * (double)it + 5.0 * k);
        char *lineage = NULL;
        if (k == 1 || k == 3) {
            json_t *nc = json_deep_copy(c);
            json_object_set_new(nc, "sigma0", json_real(k == 1 ? 1.5 : 0.07));
            json_object_set_new(nc, "popsize", json_integer(k == 1 ? 32 : 8));
            json_t *entry =
                json_pack("{s:f,s:i,s:f,s:O,s:o}", "time", k == 1 ? 120.0 : 240.0, "donor", k - 1,
                          "donor_time", k == 1 ? 120.0 : 200.0, "old_config", c, "new_config", nc);
            json_t *arr = json_array();
            json_array_append_new(arr, entry);
            lineage = json_dumps(arr, JSON_COMPACT);
            json_decref(arr);
            LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", id, "exploit",
                                                "{\"decision\":\"exploit\",\"score\":1}"));
        }
        finish_trial(s, id, ctext, LUX_TRIAL_TERMINATED, 9, NULL, lineage);
        free(lineage);
        free(ctext);
        json_decref(c);
    }
    LUX_CHECK_OK(lux_store_commit(s));
    lux_store_close(&s);
    lux_config_destroy(&cfg);
}

static int make_plots(const char *dir, const char *outdir, lux_plot_format_t format,
                      size_t *nfigures, char *err, size_t errlen)
{
    lux_store_t *s = NULL;
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, errlen));
    lux_plots_options_t o = {.outdir = outdir, .format = format};
    char *index = NULL;
    int rc = lux_plots_make(s, &o, &index, nfigures, err, errlen);
    lux_store_close(&s);
    lux_free(index);
    return rc;
}

static void plot_ok(const char *dir, const char *outdir, lux_plot_format_t format, size_t *nfigures)
{
    char err[2048] = "";
    int rc = make_plots(dir, outdir, format, nfigures, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "lux_plots_make: %s (%s)", err, lux_strerror(rc));
}

/* ---- quoting ------------------------------------------------------------------------ */

static void check_quoted(const char *in, size_t max, int flags, const char *want)
{
    char *q = lux_gnuplot_string(in, max, flags);
    LUX_CHECK_STR_EQ(q, want);
    lux_free(q);
}

LUX_TEST(gnuplot_strings_are_single_quoted_and_cleaned)
{
    check_quoted("sigma0", 0, 0, "'sigma0'");
    check_quoted(NULL, 0, 0, "''");
    check_quoted("it's", 0, 0, "'it''s'");
    check_quoted("a\nb\tc\rd", 0, 0, "'a b c d'");
    check_quoted("`rm -rf /` @x $HOME \\n \"q\"", 0, 0, "'`rm -rf /` @x $HOME \\n \"q\"'");
    check_quoted("température 温度 ☃", 0, 0, "'température 温度 ☃'");
    check_quoted("a🙂b", 0, 0,
                 "'a\xef\xbf\xbd"
                 "b'"); /* above U+FFFF: U+FFFD */
    check_quoted("bad\xff\xc3(x", 0, 0,
                 "'bad?"
                 "?(x'");
    check_quoted("\xed\xa0\x80", 0, 0,
                 "'?"
                 "?"
                 "?'"); /* a UTF-16 surrogate is not UTF-8 */
    check_quoted("50%", 0, 0, "'50%'");
    check_quoted("50% %s", 0, LUX_GNUPLOT_TIC, "'50%% %%s'");
    check_quoted("a]]>b", 0, 0, "'a]] >b'");
    check_quoted("abcdefghij", 6, 0, "'abcd..'");
    check_quoted("温度温度温度", 4, 0, "'温度..'");
    check_quoted("abcdef", 6, 0, "'abcdef'");
    check_quoted("x\x7f\xc2\x85y", 0, 0, "'x  y'"); /* DEL and C1 NEL */
}

LUX_TEST(format_names_parse)
{
    lux_plot_format_t f;
    LUX_CHECK_OK(lux_plot_format_parse("svg", &f));
    LUX_CHECK_INT_EQ(f, LUX_PLOT_SVG);
    LUX_CHECK_OK(lux_plot_format_parse("pdf", &f));
    LUX_CHECK_STR_EQ(lux_plot_format_name(f), "pdf");
    LUX_CHECK_ERR(lux_plot_format_parse("jpeg", &f), LUX_EINVAL);
}

/* ---- figures ----------------------------------------------------------------------- */

LUX_TEST_T(asha_experiment_gives_parcoords_curves_and_index, 60)
{
    const char *dir = lux_test_tmpdir();
    build_asha(dir);
    size_t nfig = 0;
    plot_ok(dir, NULL, LUX_PLOT_PNG, &nfig);
    LUX_CHECK_INT_EQ(nfig, 3); /* parcoords, curves by iteration and by time */
    char out[1024];
    PATHF(out, "%s/plots", dir);
    check_png(out, "parcoords.png");
    check_png(out, "curves_iteration.png");
    check_png(out, "curves_time.png");
    LUX_CHECK(!exists(out, "pbt_params.png"));

    /* Parallel coordinates: one axis per sampled parameter and the metric,
     * sigma0 on a log axis, popsize categorical with its values. */
    char *gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set xtics scale 0 nomirror font ',9' ('lr' 1, 'popsize' 2, "
                           "'sigma0 (log)' 3, 'episode_reward_mean' 4)");
    LUX_CHECK_CONTAINS(gp, "set label '8' at 2,0.000000");
    LUX_CHECK_CONTAINS(gp, "set label '16' at 2,0.500000");
    LUX_CHECK_CONTAINS(gp, "set label '32' at 2,1.000000");
    LUX_CHECK_CONTAINS(gp, "set label '0.1' at 3,"); /* a decade tick of the log axis */
    LUX_CHECK_CONTAINS(gp, "set label '1' at 3,");
    LUX_CHECK_CONTAINS(gp, "lc palette title 'completed (4)'");
    LUX_CHECK_CONTAINS(gp, "dt 3 lc palette title 'stopped early (3)'");
    LUX_CHECK_CONTAINS(gp, "dt 2 lc rgb '#8a8a8a' title 'ERROR (1)'");
    LUX_CHECK_CONTAINS(gp, "title 'best: asha_00006'");
    LUX_CHECK_CONTAINS(gp, "set cblabel 'episode_reward_mean'");
    free(gp);
    /* 8 trials of 4 axes each. */
    char *dat = read_at(out, "data/parcoords.dat", NULL);
    size_t lines = 0;
    for (const char *p = dat; *p; p++)
        lines += *p == '\n';
    LUX_CHECK_INT(lines, >=, (8 + 1) * 4);
    free(dat);

    /* Learning curves: rungs at 1, 2, 4; the stopped trials end in crosses;
     * the best trial is highlighted. */
    gp = read_at(out, "data/curves_iteration.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set xlabel 'training_iteration'");
    LUX_CHECK_CONTAINS(gp, "set ylabel 'episode_reward_mean'");
    LUX_CHECK_CONTAINS(gp, "set arrow from 1, graph 0");
    LUX_CHECK_CONTAINS(gp, "set arrow from 2, graph 0");
    LUX_CHECK_CONTAINS(gp, "set arrow from 4, graph 0");
    LUX_CHECK(strstr(gp, "set arrow from 8, graph 0") == NULL);
    LUX_CHECK_CONTAINS(gp, "set label 'rung 2'");
    LUX_CHECK_CONTAINS(gp, "title 'stopped by the scheduler'");
    LUX_CHECK_CONTAINS(gp, "lw 3 lc rgb '#000000' title 'best: asha_00006'");
    free(gp);
    gp = read_at(out, "data/curves_time.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set xlabel 'time_total_s'");
    LUX_CHECK(strstr(gp, "rung") == NULL); /* ASHA's time is the iteration */
    free(gp);
    /* The crosses sit at the stopped trials' last iterations: 1, 2 and 4. */
    dat = read_at(out, "data/curves.dat", NULL);
    LUX_CHECK_CONTAINS(dat, "\n\n\n1 0.25 1 40 40\n2 0.5 2 100 100\n4 1 4 240 240\n\n\n");
    free(dat);

    /* index.html shows every figure and the best trials. */
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "<img src=\"parcoords.png\"");
    LUX_CHECK_CONTAINS(html, "<img src=\"curves_iteration.png\"");
    LUX_CHECK_CONTAINS(html, "<img src=\"curves_time.png\"");
    LUX_CHECK_CONTAINS(html, "<h2 id=\"best\">Best trials</h2>");
    LUX_CHECK_CONTAINS(html, "<tr><td class=\"n\">1</td><td>asha_00006</td><td>TERMINATED</td>"
                             "<td class=\"n\">760</td>");
    LUX_CHECK_CONTAINS(html, "<th>popsize</th>");
    LUX_CHECK_CONTAINS(html, "7 TERMINATED, 1 ERROR");
    LUX_CHECK_CONTAINS(html, "<h2 id=\"errors\">Errored trials (1)</h2>");
    LUX_CHECK_CONTAINS(html, "<tr><td>asha_00002</td><td class=\"n\">3</td>"
                             "<td>RuntimeError: diverged</td></tr>");
    free(html);
}

LUX_TEST_T(pbt_experiment_gives_params_lineage_and_score, 60)
{
    const char *dir = lux_test_tmpdir();
    build_pbt(dir);
    char out[1024];
    PATHF(out, "%s/elsewhere/figs", dir); /* --out, parents created */
    size_t nfig = 0;
    plot_ok(dir, out, LUX_PLOT_SVG, &nfig);
    LUX_CHECK_INT_EQ(nfig, 7); /* parcoords, 3 curves (time_attr is total_episodes), 3 PBT */
    check_svg(out, "parcoords.svg");
    check_svg(out, "curves_iteration.svg");
    check_svg(out, "curves_time.svg");
    check_svg(out, "curves_time_attr.svg");
    check_svg(out, "pbt_params.svg");
    check_svg(out, "pbt_lineage.svg");
    check_svg(out, "pbt_score.svg");

    char *gp = read_at(out, "data/pbt_params.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set multiplot layout 2,1");
    LUX_CHECK_CONTAINS(gp, "set ylabel 'popsize'");
    LUX_CHECK_CONTAINS(gp, "set ytics ('8' 0, '16' 1, '32' 2)");
    LUX_CHECK_CONTAINS(gp, "set ylabel 'sigma0 (log)'\nset xlabel 'total_episodes'\n"
                           "set logscale y");
    LUX_CHECK_CONTAINS(gp, "with points pt 7");
    free(gp);
    /* Trial 1's sigma0 steps to 1.5 at 120 episodes and stays there. */
    char *dat = read_at(out, "data/pbt_params.dat", NULL);
    LUX_CHECK_CONTAINS(dat, "120 1.5 2\n360 1.5 2\n");
    free(dat);
    /* Lineage: an arrow from trial 0 at 120 to trial 1, from 2 at 200 to 3 at
     * 240. */
    dat = read_at(out, "data/pbt_lineage.dat", NULL);
    LUX_CHECK_CONTAINS(dat, "120 0 0 1\n200 2 40 1\n");
    free(dat);
    gp = read_at(out, "data/pbt_lineage.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set ytics font ',8' ('pbt_00000' 0, 'pbt_00001' 1");
    LUX_CHECK_CONTAINS(gp, "with vectors");
    free(gp);
    gp = read_at(out, "data/pbt_score.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "title 'population best'");
    LUX_CHECK_CONTAINS(gp, "title 'exploit'");
    LUX_CHECK_CONTAINS(gp, "set xlabel 'total_episodes'");
    free(gp);
    gp = read_at(out, "data/curves_time_attr.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set xlabel 'total_episodes'");
    free(gp);
    /* The parallel coordinates place PBT trials at their final config. */
    gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "('popsize' 1, 'sigma0 (log)' 2, 'episode_reward_mean' 3)");
    free(gp);
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "<img src=\"pbt_params.svg\"");
    LUX_CHECK_CONTAINS(html, "<img src=\"pbt_lineage.svg\"");
    LUX_CHECK_CONTAINS(html, "<img src=\"pbt_score.svg\"");
    LUX_CHECK_CONTAINS(html, "2 exploits");
    free(html);
    LUX_CHECK(!exists(dir, "plots"));
}

LUX_TEST_T(pdf_output_is_embedded_in_the_index, 60)
{
    const char *dir = lux_test_tmpdir();
    build_asha(dir);
    plot_ok(dir, NULL, LUX_PLOT_PDF, NULL);
    char out[1024];
    PATHF(out, "%s/plots", dir);
    size_t len;
    char *pdf = read_at(out, "parcoords.pdf", &len);
    LUX_CHECK(len > 1000 && memcmp(pdf, "%PDF-", 5) == 0);
    free(pdf);
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "<object data=\"curves_iteration.pdf\" type=\"application/pdf\"");
    free(html);
}

/* A nested metric where lower is better: the palette turns around (bright
 * is still better) and ties go to the earlier trial. */
LUX_TEST(nested_metric_with_min_mode)
{
    const char *dir = lux_test_tmpdir();
    build_asha(dir);
    lux_store_t *s = NULL;
    char err[2048];
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    lux_plots_options_t o = {.format = LUX_PLOT_SVG, .metric = "info/learner/loss", .mode = "min"};
    int rc = lux_plots_make(s, &o, NULL, NULL, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    lux_store_close(&s);
    char out[1024];
    PATHF(out, "%s/plots", dir);
    char *gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set palette defined (0 '#fde725', 1 '#5ec962'");
    LUX_CHECK_CONTAINS(gp, "set cblabel 'info/learner/loss'");
    LUX_CHECK_CONTAINS(gp, "title 'best: asha_00000'"); /* 1/8, like trials 1, 6 and 7 */
    free(gp);
    gp = read_at(out, "data/curves_iteration.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set ylabel 'info/learner/loss'");
    free(gp);
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "(lower is better)");
    LUX_CHECK_CONTAINS(html, "<td class=\"n\">0.125</td>");
    free(html);
}

/* One trial with one result: every range is degenerate and gets room. */
LUX_TEST(one_trial_one_result)
{
    const char *dir = lux_test_tmpdir();
    lux_config_t *cfg = NULL;
    lux_store_t *s = new_store(dir, "one", asha_yaml, &cfg);
    json_t *c = NULL;
    LUX_CHECK_OK(lux_config_trial_config(cfg, 0, &c));
    char *ctext = json_dumps(c, JSON_COMPACT);
    lux_store_trial_t tr = {.trial_id = "one_00000", .config_json = ctext};
    LUX_CHECK_OK(lux_store_trial_add(s, &tr));
    add_result(s, "one_00000", 1, 42);
    free(ctext);
    json_decref(c);
    lux_store_close(&s);
    lux_config_destroy(&cfg);
    plot_ok(dir, NULL, LUX_PLOT_PNG, NULL);
    char out[1024];
    PATHF(out, "%s/plots", dir);
    check_png(out, "parcoords.png");
    check_png(out, "curves_iteration.png");
    static const char *const scripts[] = {"data/parcoords.gp", "data/curves_iteration.gp",
                                          "data/curves_time.gp"};
    for (int i = 0; i < 3; i++) {
        char *gp = read_at(out, scripts[i], NULL);
        LUX_CHECK_MSG(strstr(gp, "nan") == NULL && strstr(gp, "inf") == NULL, "%s:\n%s", scripts[i],
                      gp);
        free(gp);
    }
    char *gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "set cbrange [37.8:46.2]");
    LUX_CHECK_CONTAINS(gp, "title 'best: one_00000'");
    free(gp);
}

/* Without a stored search space, the config keys that vary are the axes. */
LUX_TEST(store_without_a_space_infers_the_axes)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = new_store(dir, "handmade", NULL, NULL);
    static const char *const configs[] = {
        "{\"env\":\"CartPole\",\"lr\":0.1,\"opt\":{\"beta\":0.9,\"name\":\"adam\"}}",
        "{\"env\":\"CartPole\",\"lr\":0.01,\"opt\":{\"beta\":0.9,\"name\":\"sgd\"}}",
        "{\"env\":\"CartPole\",\"lr\":0.001,\"opt\":{\"beta\":0.99,\"name\":\"adam\"}}"};
    for (int k = 0; k < 3; k++) {
        char id[32];
        PATHF(id, "t%d", k);
        lux_store_trial_t tr = {.trial_id = id, .config_json = configs[k]};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        add_result(s, id, 1, k);
        add_result(s, id, 2, 2 * k);
    }
    lux_store_close(&s);
    plot_ok(dir, NULL, LUX_PLOT_SVG, NULL);
    char out[1024];
    PATHF(out, "%s/plots", dir);
    char *gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "('lr' 1, 'opt.beta' 2, 'opt.name' 3, 'episode_reward_mean' 4)");
    LUX_CHECK_CONTAINS(gp, "set label 'adam' at 3,0.000000");
    LUX_CHECK_CONTAINS(gp, "set label 'sgd' at 3,1.000000");
    LUX_CHECK(strstr(gp, "'env'") == NULL);
    free(gp);
    check_svg(out, "curves_iteration.svg");
}

LUX_TEST(experiment_without_trials_still_plots)
{
    const char *dir = lux_test_tmpdir();
    lux_config_t *cfg = NULL;
    lux_store_t *s = new_store(dir, "empty", asha_yaml, &cfg);
    lux_store_close(&s);
    lux_config_destroy(&cfg);
    size_t nfig = 0;
    plot_ok(dir, NULL, LUX_PLOT_SVG, &nfig);
    LUX_CHECK_INT_EQ(nfig, 3);
    char out[1024];
    PATHF(out, "%s/plots", dir);
    check_svg(out, "parcoords.svg");
    check_svg(out, "curves_iteration.svg");
    char *svg = read_at(out, "parcoords.svg", NULL);
    LUX_CHECK_CONTAINS(svg, "no trials yet");
    free(svg);
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "No trial has reported episode_reward_mean yet.");
    free(html);
}

/* ---- injection ----------------------------------------------------------------------- */

/* Names and values written to provoke gnuplot (backquotes run commands in
 * double-quoted strings, system() runs them in expressions, a quote or a
 * newline would end the string and start a command) and HTML. None may run
 * anything, and the plots must still render. */
LUX_TEST_T(hostile_names_and_values_are_inert, 60)
{
    const char *dir = lux_test_tmpdir();
    char marker[1024], yaml[8192], name[2048];
    PATHF(marker, "%s/pwned", dir);
    PATHF(name, "exp' ; system(\"touch %s1\") ; `touch %s2` \" `touch %s3` \"\nprint 'x <b>&amp;",
          marker, marker, marker);
    PATHF(yaml,
          "name: \"x\"\ntrainable: sepcmaes\nmetric: \"reward'`touch %s4`\"\nmode: max\n"
          "num_samples: 6\nseed: 1\n"
          "config:\n"
          "  \"opt'`touch %s5`\": {choice: [\"a'b\", \"`touch %s6`\", \"line\\nbreak\\r\", "
          "\"température 温度 \U0001F642 — a very long categorical value that goes on and on\", "
          "\"system('touch %s7')\", \"50%% %%s ]]> @x\"]}\n"
          "  \"lr\\n'system(\\\"touch %s8\\\")\": {loguniform: [0.001, 0.1]}\n",
          marker, marker, marker, marker, marker);
    lux_config_t *cfg = NULL;
    char *json = canonical(yaml, &cfg);
    lux_store_t *s = NULL;
    char err[2048];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    lux_store_experiment_t exp = {
        .name = name, .config_json = json, .metric = cfg->metric, .mode = "max"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    for (int k = 0; k < 6; k++) {
        char id[512];
        PATHF(id, "t%d'\n`touch %s9` system(\"touch %s10\") \xe6\xb8\xa9 <td>", k, marker, marker);
        json_t *c = NULL;
        LUX_CHECK_OK(lux_config_trial_config(cfg, k, &c));
        char *ctext = json_dumps(c, JSON_COMPACT);
        lux_store_trial_t tr = {.trial_id = id, .config_json = ctext};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        for (long it = 1; it <= 3; it++) {
            json_t *m = json_pack("{s:f,s:I,s:f}", cfg->metric, (double)(k * 10 + it),
                                  "training_iteration", (json_int_t)it, "time_total_s", (double)it);
            char *mt = json_dumps(m, JSON_COMPACT);
            LUX_CHECK_OK(lux_store_result_add(s, id, it, (double)it, mt));
            free(mt);
            json_decref(m);
        }
        free(ctext);
        json_decref(c);
    }
    lux_store_close(&s);
    lux_config_destroy(&cfg);
    free(json);

    size_t nfig = 0;
    plot_ok(dir, NULL, LUX_PLOT_SVG, &nfig);
    LUX_CHECK_INT_EQ(nfig, 3);
    plot_ok(dir, NULL, LUX_PLOT_PNG, &nfig);

    /* Nothing ran. */
    DIR *dp = opendir(dir);
    LUX_CHECK(dp != NULL);
    struct dirent *e;
    while ((e = readdir(dp)) != NULL)
        LUX_CHECK_MSG(strncmp(e->d_name, "pwned", 5) != 0, "%s/%s was created", dir, e->d_name);
    closedir(dp);

    char out[1024];
    PATHF(out, "%s/plots", dir);
    check_svg(out, "parcoords.svg");
    check_png(out, "parcoords.png");
    /* Every string in the scripts is one single-quoted literal on its line:
     * no line starts with anything but a gnuplot command or a continuation. */
    static const char *const scripts[] = {"data/parcoords.gp", "data/curves_iteration.gp",
                                          "data/curves_time.gp"};
    for (int i = 0; i < 3; i++) {
        char *gp = read_at(out, scripts[i], NULL);
        for (char *line = gp; *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            LUX_CHECK_MSG(len == 0 || strncmp(line, "set ", 4) == 0 ||
                              strncmp(line, "unset ", 6) == 0 || strncmp(line, "plot ", 5) == 0 ||
                              strncmp(line, "     ", 5) == 0 || strncmp(line, "#", 1) == 0 ||
                              strncmp(line, "reset", 5) == 0 || strncmp(line, "if (", 4) == 0 ||
                              strncmp(line, "    set terminal", 16) == 0 ||
                              strncmp(line, "} else {", 8) == 0 || strncmp(line, "}", 1) == 0,
                          "%s: unexpected line: %.*s", scripts[i], (int)len, line);
            /* Quotes balance on every line. */
            size_t quotes = 0;
            for (size_t j = 0; j < len; j++)
                quotes += line[j] == '\'';
            LUX_CHECK_MSG(quotes % 2 == 0, "%s: odd quotes in: %.*s", scripts[i], (int)len, line);
            line = nl ? nl + 1 : line + len;
        }
        free(gp);
    }
    /* The values reached the picture as text. */
    char *svg = read_at(out, "parcoords.svg", NULL);
    LUX_CHECK_CONTAINS(svg, "a'b");
    LUX_CHECK_CONTAINS(svg, "line break");
    LUX_CHECK_CONTAINS(svg, "température 温度");
    LUX_CHECK_CONTAINS(svg, "`touch ");
    free(svg);
    /* index.html escapes everything. */
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "exp&#39; ; system(&quot;touch ");
    LUX_CHECK_CONTAINS(html, "&lt;b&gt;&amp;amp;");
    LUX_CHECK_CONTAINS(html, "\xe6\xb8\xa9 &lt;td&gt;");
    LUX_CHECK(strstr(html, "<b>") == NULL);
    free(html);
}

/* ---- determinism, failures ------------------------------------------------------------- */

static void check_same_file(const char *a_dir, const char *b_dir, const char *name)
{
    size_t la, lb;
    char *a = read_at(a_dir, name, &la), *b = read_at(b_dir, name, &lb);
    LUX_CHECK_MSG(la == lb && memcmp(a, b, la) == 0, "%s differs between two runs", name);
    free(a);
    free(b);
}

LUX_TEST_T(two_runs_render_identically, 60)
{
    const char *dir = lux_test_tmpdir();
    build_pbt(dir);
    char a[1024], b[1024];
    PATHF(a, "%s/a", dir);
    PATHF(b, "%s/b", dir);
    static const char *const files[] = {"parcoords",        "curves_iteration", "curves_time",
                                        "curves_time_attr", "pbt_params",       "pbt_lineage",
                                        "pbt_score"};
    for (int fmt = 0; fmt < 2; fmt++) {
        lux_plot_format_t format = fmt ? LUX_PLOT_PNG : LUX_PLOT_SVG;
        plot_ok(dir, a, format, NULL);
        plot_ok(dir, b, format, NULL);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char name[128];
            PATHF(name, "%s.%s", files[i], lux_plot_format_name(format));
            check_same_file(a, b, name);
            PATHF(name, "data/%s.gp", files[i]);
            check_same_file(a, b, name);
        }
        check_same_file(a, b, "index.html");
        check_same_file(a, b, "data/curves.dat");
    }
}

LUX_TEST(missing_gnuplot_names_the_package)
{
    const char *dir = lux_test_tmpdir();
    build_asha(dir);
    const char *argv[] = {"plot", dir, NULL};
    char *env1[] = {"LUX_GNUPLOT=/nonexistent/gnuplot", NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(argv, env1, 20, &out, &err), 1);
    LUX_CHECK_CONTAINS(err, "LUX_GNUPLOT is '/nonexistent/gnuplot'");
    LUX_CHECK_CONTAINS(err, "gnuplot-nox");
    free(out);
    free(err);
    char *env2[] = {"PATH=/nonexistent", "LUX_GNUPLOT=", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(argv, env2, 20, &out, &err), 1);
    LUX_CHECK_CONTAINS(err, "lux plot: gnuplot was not found on PATH; install the Debian "
                            "package gnuplot-nox");
    free(out);
    free(err);
    char path[1024];
    PATHF(path, "%s/plots/index.html", dir);
    LUX_CHECK(access(path, F_OK) != 0);
}

static void write_script(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    LUX_CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    LUX_CHECK_INT_EQ(chmod(path, 0755), 0);
}

LUX_TEST(failing_or_hanging_gnuplot_is_reported)
{
    const char *dir = lux_test_tmpdir();
    build_asha(dir);
    char fake[1024];
    PATHF(fake, "%s/fake-gnuplot", dir);
    write_script(fake, "#!/bin/sh\necho \"\\\"$1\\\" line 7: undefined variable: x\" >&2\n"
                       "echo 'second line' >&2\nexit 1\n");
    lux_store_t *s = NULL;
    char err[2048];
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    lux_plots_options_t o = {.gnuplot = fake};
    LUX_CHECK_ERR(lux_plots_make(s, &o, NULL, NULL, err, sizeof err), LUX_EIO);
    LUX_CHECK_CONTAINS(err, "gnuplot failed on ");
    LUX_CHECK_CONTAINS(err, "/plots/data/parcoords.gp (exit status 1): \"data/parcoords.gp\" "
                            "line 7: undefined variable: x second line");

    /* A gnuplot that never finishes is killed at the timeout. */
    char pidfile[1024], text[2048];
    PATHF(pidfile, "%s/pid", dir);
    PATHF(text, "#!/bin/sh\necho $$ > %s\nexec sleep 30\n", pidfile);
    write_script(fake, text);
    o.timeout_s = 0.5;
    double t0 = lux_test_now();
    LUX_CHECK_ERR(lux_plots_make(s, &o, NULL, NULL, err, sizeof err), LUX_ETIMEDOUT);
    LUX_CHECK(lux_test_now() - t0 < 10);
    LUX_CHECK_CONTAINS(err, "did not finish");
    char *pid = read_all(pidfile, NULL);
    LUX_CHECK(pid != NULL);
    LUX_CHECK_MSG(kill((pid_t)atol(pid), 0) != 0, "gnuplot %s still runs", pid);
    free(pid);
    lux_store_close(&s);

    /* The bad mode and the missing metric are the caller's mistakes. */
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    o = (lux_plots_options_t){.gnuplot = fake, .mode = "sideways"};
    LUX_CHECK_ERR(lux_plots_make(s, &o, NULL, NULL, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "mode must be max or min, not 'sideways'");
    lux_store_close(&s);
}

/* 10,000 trials: one data file, one plot element per class; fast. */
LUX_TEST_T(ten_thousand_trials, 120)
{
    const char *dir = lux_test_tmpdir();
    lux_config_t *cfg = NULL;
    lux_store_t *s = new_store(dir, "big", asha_yaml, &cfg);
    LUX_CHECK_OK(lux_store_begin(s));
    for (int k = 0; k < 10000; k++) {
        char id[32];
        PATHF(id, "big_%05d", k);
        json_t *c = NULL;
        LUX_CHECK_OK(lux_space_trial_config(cfg->space, 7, k, &c));
        char *ctext = json_dumps(c, JSON_COMPACT);
        lux_store_trial_t tr = {.trial_id = id, .config_json = ctext};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        long n = k % 4 == 0 ? 4 : 2;
        double sigma = json_real_value(json_object_get(c, "sigma0"));
        for (long it = 1; it <= n; it++)
            add_result(s, id, it, 100.0 * sigma * (double)it);
        if (n == 2)
            LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", id, "stop",
                                                "{\"rung\":1,\"milestone\":2.0}"));
        finish_trial(s, id, ctext, k % 97 == 0 ? LUX_TRIAL_ERROR : LUX_TRIAL_TERMINATED, n, NULL,
                     NULL);
        free(ctext);
        json_decref(c);
    }
    LUX_CHECK_OK(lux_store_commit(s));
    lux_store_close(&s);
    lux_config_destroy(&cfg);

    double t0 = lux_test_now();
    plot_ok(dir, NULL, LUX_PLOT_SVG, NULL);
    double took = lux_test_now() - t0;
    char out[1024];
    PATHF(out, "%s/plots", dir);
    check_svg(out, "parcoords.svg");
    check_svg(out, "curves_iteration.svg");
    char *gp = read_at(out, "data/parcoords.gp", NULL);
    LUX_CHECK_CONTAINS(gp, "title 'stopped early (7422)'");
    LUX_CHECK_CONTAINS(gp, "title 'ERROR (104)'");
    free(gp);
    LUX_CHECK_MSG(took < 60, "plotting 10,000 trials took %.1f s", took);
    char *html = read_at(out, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "10000:");
    free(html);
}

/* ---- end to end --------------------------------------------------------------------------- */

LUX_TEST_T(lux_run_then_lux_plot, 60)
{
    const char *dir = lux_test_tmpdir();
    char yaml[2048];
    PATHF(yaml,
          "name: tiny\ntrainable: sepcmaes\nenv: CartPole-v1\nmetric: episode_reward_mean\n"
          "mode: max\nnum_samples: 4\nseed: 1\nstop: {training_iteration: 4}\n"
          "storage: %s/runs\n"
          "scheduler: {type: asha, max_t: 4, grace_period: 1, reduction_factor: 2}\n"
          "config:\n  popsize: {choice: [8, 16]}\n  sigma0: {loguniform: [0.05, 2.0]}\n"
          "  episodes_per_eval: 1\n  num_workers: 0\n",
          dir);
    const char *yaml_path = lux_test_write_tmp("tiny.yaml", yaml);
    const char *run[] = {"run", yaml_path, NULL};
    char *out = NULL, *err = NULL;
    int rc = lux_test_lux(run, NULL, 40, &out, &err);
    LUX_CHECK_MSG(rc == 0, "lux run: %d\n%s\n%s", rc, out, err);
    free(out);
    free(err);
    char exp[1024];
    PATHF(exp, "%s/runs/tiny", dir);
    const char *plot[] = {"plot", exp, "--format", "svg", NULL};
    rc = lux_test_lux(plot, NULL, 40, &out, &err);
    LUX_CHECK_MSG(rc == 0, "lux plot: %d\n%s\n%s", rc, out, err);
    LUX_CHECK_CONTAINS(out, "3 figures and ");
    LUX_CHECK_CONTAINS(out, "/runs/tiny/plots/index.html");
    free(out);
    free(err);
    char plots[1024];
    PATHF(plots, "%s/plots", exp);
    check_svg(plots, "parcoords.svg");
    check_svg(plots, "curves_iteration.svg");
    check_svg(plots, "curves_time.svg");
    char *html = read_at(plots, "index.html", NULL);
    LUX_CHECK_CONTAINS(html, "<td>tiny_0000");
    free(html);

    /* Usage errors. */
    const char *bad[] = {"plot", exp, "--format", "gif", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(bad, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "--format must be png, svg or pdf, not 'gif'");
    free(out);
    free(err);
    const char *none[] = {"plot", "/nonexistent/exp", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(none, NULL, 20, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "/nonexistent/exp/experiment.db");
    free(out);
    free(err);
}
