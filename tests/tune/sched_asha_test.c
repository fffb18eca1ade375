/*
 * Tests of ASHA (Ray's AsyncHyperBandScheduler) against hand-worked
 * examples: numpy-style percentile cutoffs, rung milestones, stop
 * decisions as data, min mode, skipped rungs, stop_last_trials, bracket
 * sampling, and the JSON state round trip.
 */
#include "test.h"

#define LUX_SCHEDULER_INTERNAL
#include "error.h"
#include "scheduler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static lux_scheduler_t *asha(double max_t, double grace, double rf, int brackets, bool stop_last,
                             lux_mode_t mode)
{
    lux_scheduler_params_t p;
    lux_scheduler_params_default(&p, LUX_SCHEDULER_ASHA);
    p.metric = "acc";
    p.mode = mode;
    p.time_attr = "t";
    p.max_t = max_t;
    p.grace_period = grace;
    p.reduction_factor = rf;
    p.brackets = brackets;
    p.stop_last_trials = stop_last;
    p.seed = 5;
    lux_scheduler_t *s = NULL;
    char err[256] = "";
    int rc = lux_scheduler_new(&p, &s, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    return s;
}

static lux_sched_action_t result(lux_scheduler_t *s, int trial, double t, double acc)
{
    json_t *r = json_pack("{s:f,s:f}", "t", t, "acc", acc);
    lux_sched_action_t a;
    char err[256] = "";
    int rc = lux_scheduler_on_trial_result(s, trial, r, &a, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    json_decref(r);
    return a;
}

/* Takes the decisions and returns the first of `kind`, or NULL (the array
 * is kept in *all for the caller to release). */
static const json_t *take(lux_scheduler_t *s, const char *kind, json_t **all)
{
    *all = lux_scheduler_take_decisions(s);
    size_t i;
    json_t *d;
    json_array_foreach(*all, i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "decision")), kind) == 0)
            return d;
    }
    return NULL;
}

LUX_TEST(cutoff_is_numpy_nanpercentile_linear)
{
    double v1[] = {1, 2, 3, 4};
    /* rf 4: 75th percentile: rank 2.25 -> 3 + 0.25 * (4 - 3) */
    LUX_CHECK_NEAR(lux_sched_asha_cutoff(v1, 4, 4), 3.25, 1e-12);
    double v2[] = {20, 10};
    /* rf 3: 66.67th: rank 2/3 >= 0.5, so numpy lerps from the top: 20 - 10/3 */
    LUX_CHECK_NEAR(lux_sched_asha_cutoff(v2, 2, 3), 16.666666666666668, 1e-12);
    double v3[] = {NAN, 1, 3};
    LUX_CHECK_NEAR(lux_sched_asha_cutoff(v3, 3, 2), 2, 1e-12);
    double v4[] = {NAN};
    LUX_CHECK(isnan(lux_sched_asha_cutoff(v4, 1, 2)));
    double v5[] = {7};
    LUX_CHECK_NEAR(lux_sched_asha_cutoff(v5, 1, 4), 7, 0);
    /* rf 2 over five values: the median. */
    double v6[] = {5, 1, 4, 2, 3};
    LUX_CHECK_NEAR(lux_sched_asha_cutoff(v6, 5, 2), 3, 1e-12);
}

static void check_milestones(lux_scheduler_t *s, size_t bracket, const double *want, size_t n)
{
    json_t *st = lux_scheduler_state(s);
    const json_t *rungs = json_array_get(json_object_get(st, "brackets"), bracket);
    LUX_CHECK_INT_EQ(json_array_size(rungs), n);
    for (size_t i = 0; i < n; i++) /* stored in descending order, like Ray */
        LUX_CHECK_NEAR(json_number_value(json_object_get(json_array_get(rungs, i), "milestone")),
                       want[n - 1 - i], 1e-6);
    json_decref(st);
}

LUX_TEST(milestones_match_ray)
{
    lux_scheduler_t *s = asha(100, 1, 4, 3, true, LUX_MODE_MAX);
    double b0[] = {1, 4, 16, 64}, b1[] = {4, 16, 64}, b2[] = {16, 64};
    check_milestones(s, 0, b0, 4);
    check_milestones(s, 1, b1, 3);
    check_milestones(s, 2, b2, 2);
    lux_scheduler_destroy(&s);
    /* The builders study: 30M episodes, grace 1.2M, rf 3. */
    s = asha(30e6, 1.2e6, 3, 1, true, LUX_MODE_MAX);
    double b[] = {1.2e6, 3.6e6, 10.8e6};
    check_milestones(s, 0, b, 3);
    lux_scheduler_destroy(&s);
}

/* max_t 5, grace 1, rf 2: rungs at 1, 2, 4. */
LUX_TEST(hand_worked_stops_with_decisions)
{
    lux_scheduler_t *s = asha(5, 1, 2, 1, true, LUX_MODE_MAX);
    for (int i = 0; i < 4; i++) {
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
        LUX_CHECK_OK(lux_scheduler_on_trial_start(s, i));
    }
    json_t *all;
    /* Rung 0 is empty: the first arrival passes, no cutoff. */
    LUX_CHECK_INT_EQ(result(s, 0, 1, 0.5), LUX_SCHED_CONTINUE);
    const json_t *d = take(s, "rung", &all);
    LUX_CHECK(d != NULL);
    LUX_CHECK(json_is_null(json_object_get(d, "cutoff")));
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(d, "rung")), 0);
    json_decref(all);
    /* Median of {0.5} is 0.5 > 0.3: stop. */
    LUX_CHECK_INT_EQ(result(s, 1, 1, 0.3), LUX_SCHED_STOP);
    d = take(s, "stop", &all);
    LUX_CHECK(d != NULL);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(d, "trial")), 1);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(d, "rung")), 0);
    LUX_CHECK_NEAR(json_number_value(json_object_get(d, "cutoff")), 0.5, 1e-12);
    LUX_CHECK_NEAR(json_number_value(json_object_get(d, "value")), 0.3, 1e-12);
    LUX_CHECK_CONTAINS(json_string_value(json_object_get(d, "message")),
                       "STOP trial 1 at rung 0 (t=1): acc=0.3 is below the cutoff 0.5");
    json_decref(all);
    /* Median of {0.5, 0.3} is 0.4 <= 0.6: continue. */
    LUX_CHECK_INT_EQ(result(s, 2, 1, 0.6), LUX_SCHED_CONTINUE);
    /* Median of {0.5, 0.3, 0.6} is 0.5 > 0.45: stop (stopped trials count). */
    LUX_CHECK_INT_EQ(result(s, 3, 1, 0.45), LUX_SCHED_STOP);
    /* Rung 1 (t=2). */
    LUX_CHECK_INT_EQ(result(s, 0, 2, 0.7), LUX_SCHED_CONTINUE);
    LUX_CHECK_INT_EQ(result(s, 2, 2, 0.65), LUX_SCHED_STOP);
    json_decref(lux_scheduler_take_decisions(s));
    /* Between milestones nothing is recorded. */
    LUX_CHECK_INT_EQ(result(s, 0, 3, 0.1), LUX_SCHED_CONTINUE);
    json_t *none = lux_scheduler_take_decisions(s);
    LUX_CHECK_INT_EQ(json_array_size(none), 0);
    json_decref(none);
    /* max_t ends the last trial. */
    LUX_CHECK_INT_EQ(result(s, 0, 5, 0.9), LUX_SCHED_STOP);
    d = take(s, "stop", &all);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(d, "reason")), "max_t");
    json_decref(all);
    json_t *stats = lux_scheduler_stats(s);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(stats, "num_stopped")), 4);
    json_decref(stats);
    lux_scheduler_destroy(&s);
}

LUX_TEST(min_mode_flips_the_comparison)
{
    lux_scheduler_t *s = asha(5, 1, 2, 1, true, LUX_MODE_MIN);
    for (int i = 0; i < 3; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
    LUX_CHECK_INT_EQ(result(s, 0, 1, 0.5), LUX_SCHED_CONTINUE);
    LUX_CHECK_INT_EQ(result(s, 1, 1, 0.7), LUX_SCHED_STOP); /* a larger loss */
    LUX_CHECK_INT_EQ(result(s, 2, 1, 0.2), LUX_SCHED_CONTINUE);
    json_t *all;
    const json_t *d = take(s, "stop", &all);
    LUX_CHECK_NEAR(json_number_value(json_object_get(d, "cutoff")), 0.5, 1e-12);
    LUX_CHECK_CONTAINS(json_string_value(json_object_get(d, "message")), "is above the cutoff 0.5");
    json_decref(all);
    lux_scheduler_destroy(&s);
}

LUX_TEST(a_late_first_result_is_judged_at_the_highest_rung_reached)
{
    lux_scheduler_t *s = asha(5, 1, 2, 1, true, LUX_MODE_MAX);
    for (int i = 0; i < 3; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
    LUX_CHECK_INT_EQ(result(s, 0, 2, 0.9), LUX_SCHED_CONTINUE);
    /* Trial 1 reports t=3 first: judged at rung 1 (t=2) against {0.9}. */
    LUX_CHECK_INT_EQ(result(s, 1, 3, 0.8), LUX_SCHED_STOP);
    json_t *all;
    const json_t *d = take(s, "stop", &all);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(d, "rung")), 1);
    LUX_CHECK_NEAR(json_number_value(json_object_get(d, "milestone")), 2, 0);
    json_decref(all);
    /* Results without the metric or time are ignored, as in Ray. */
    json_t *r = json_pack("{s:f}", "t", 4.0);
    lux_sched_action_t a;
    LUX_CHECK_OK(lux_scheduler_on_trial_result(s, 2, r, &a, NULL, 0));
    LUX_CHECK_INT_EQ(a, LUX_SCHED_CONTINUE);
    json_decref(r);
    lux_scheduler_destroy(&s);
}

LUX_TEST(stop_last_trials_false_lets_recorded_trials_run_on)
{
    lux_scheduler_t *s = asha(5, 1, 2, 1, false, LUX_MODE_MAX);
    for (int i = 0; i < 2; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
    LUX_CHECK_INT_EQ(result(s, 0, 4, 0.9), LUX_SCHED_CONTINUE);
    LUX_CHECK_INT_EQ(result(s, 0, 7, 0.9), LUX_SCHED_CONTINUE); /* past max_t */
    LUX_CHECK_INT_EQ(result(s, 1, 4, 0.1), LUX_SCHED_STOP);
    lux_scheduler_destroy(&s);
}

LUX_TEST(on_trial_complete_records_the_final_value)
{
    lux_scheduler_t *s = asha(5, 1, 2, 1, true, LUX_MODE_MAX);
    for (int i = 0; i < 2; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
    json_t *r = json_pack("{s:f,s:f}", "t", 1.0, "acc", 0.8);
    LUX_CHECK_OK(lux_scheduler_on_trial_complete(s, 0, r));
    json_decref(r);
    LUX_CHECK_INT_EQ(result(s, 1, 1, 0.7), LUX_SCHED_STOP);
    lux_scheduler_destroy(&s);
}

LUX_TEST(brackets_drawn_from_softmax_of_rung_counts)
{
    /* Rung counts 4, 3, 2: p = e^0, e^-1, e^-2 normalised. */
    lux_scheduler_t *s = asha(100, 1, 4, 3, true, LUX_MODE_MAX);
    long count[3] = {0};
    int n = 6000;
    for (int i = 0; i < n; i++) {
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, NULL));
        json_t *all;
        const json_t *d = take(s, "bracket", &all);
        LUX_CHECK(d != NULL);
        json_int_t b = json_integer_value(json_object_get(d, "bracket"));
        LUX_CHECK(b >= 0 && b < 3);
        count[b]++;
        json_decref(all);
    }
    double z = 1 + exp(-1) + exp(-2), c2 = 0;
    double p[3] = {1 / z, exp(-1) / z, exp(-2) / z};
    for (int i = 0; i < 3; i++)
        c2 += (count[i] - p[i] * n) * (count[i] - p[i] * n) / (p[i] * n);
    LUX_CHECK_DBL(c2, <, 25); /* df 2 */
    lux_scheduler_destroy(&s);
}

LUX_TEST(state_round_trip_continues_identically)
{
    lux_scheduler_t *a = asha(100, 1, 3, 2, true, LUX_MODE_MAX);
    for (int i = 0; i < 6; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(a, i, NULL));
    for (int i = 0; i < 6; i++)
        result(a, i, 1, 0.1 * i);
    for (int i = 0; i < 6; i++)
        result(a, i, 3, 0.1 * (6 - i));
    json_decref(lux_scheduler_take_decisions(a));
    json_t *st = lux_scheduler_state(a);
    char *text = json_dumps(st, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    /* The rung values are journal entries, one per value recorded. */
    json_t *journal = lux_scheduler_take_journal(a);
    size_t values = 0;
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < json_array_size(json_array_get(json_object_get(st, "brackets"), i));
             j++)
            values += (size_t)json_integer_value(json_object_get(
                json_array_get(json_array_get(json_object_get(st, "brackets"), i), j), "n"));
    LUX_CHECK(values >= 6);
    LUX_CHECK_INT_EQ(json_array_size(journal), values);

    lux_scheduler_t *b = asha(100, 1, 3, 2, true, LUX_MODE_MAX);
    char err[256] = "";
    /* Without its journal the state does not restore. */
    LUX_CHECK_ERR(lux_scheduler_restore(b, back, NULL, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_OK(lux_scheduler_restore(b, back, journal, err, sizeof err));
    json_t *st2 = lux_scheduler_state(b);
    LUX_CHECK(json_equal(st, st2));
    /* Same future: new trials land in the same brackets, same decisions. */
    for (int i = 6; i < 12; i++) {
        LUX_CHECK_OK(lux_scheduler_on_trial_add(a, i, NULL));
        LUX_CHECK_OK(lux_scheduler_on_trial_add(b, i, NULL));
        LUX_CHECK_INT_EQ(result(a, i, 3, 0.05 * i), result(b, i, 3, 0.05 * i));
    }
    json_t *da = lux_scheduler_take_decisions(a), *db = lux_scheduler_take_decisions(b);
    LUX_CHECK(json_array_size(da) > 0);
    LUX_CHECK(json_equal(da, db));
    json_decref(da);
    json_decref(db);

    /* A state saved with other parameters is refused and changes nothing. */
    lux_scheduler_t *c = asha(100, 1, 4, 2, true, LUX_MODE_MAX);
    LUX_CHECK_ERR(lux_scheduler_restore(c, back, journal, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "does not match");
    json_t *empty = lux_scheduler_state(c);
    LUX_CHECK_INT_EQ(json_array_size(json_object_get(empty, "trials")), 0);
    json_decref(empty);

    json_decref(st);
    json_decref(st2);
    json_decref(back);
    json_decref(journal);
    lux_scheduler_destroy(&a);
    lux_scheduler_destroy(&b);
    lux_scheduler_destroy(&c);
}

LUX_TEST(parameter_checks_follow_rays_assertions)
{
    lux_scheduler_params_t p;
    char err[256];
    lux_scheduler_params_default(&p, LUX_SCHEDULER_ASHA);
    p.metric = "acc";
    LUX_CHECK_OK(lux_scheduler_params_check(&p, err, sizeof err));
    p.grace_period = 0;
    LUX_CHECK_ERR(lux_scheduler_params_check(&p, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "grace_period:");
    p.grace_period = 200;
    LUX_CHECK_ERR(lux_scheduler_params_check(&p, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "max_t:");
    p.grace_period = 1;
    p.reduction_factor = 1;
    LUX_CHECK_ERR(lux_scheduler_params_check(&p, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK_CONTAINS(err, "reduction_factor:");
    p.reduction_factor = 2;
    p.metric = NULL;
    lux_scheduler_t *s = NULL;
    LUX_CHECK_ERR(lux_scheduler_new(&p, &s, err, sizeof err), LUX_ECONFIG);
    LUX_CHECK(s == NULL);
    LUX_CHECK_CONTAINS(err, "metric:");
}
