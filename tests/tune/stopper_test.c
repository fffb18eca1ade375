/*
 * Tests of the stopper: Ray's >= rule for every stop key (whatever the
 * mode), "done", nested keys, missing keys as errors, and the time budget.
 */
#include "test.h"

#include "error.h"
#include "stopper.h"

#include <string.h>

static lux_stopper_t *stopper(const char *stop_json, double budget)
{
    json_t *stop = stop_json ? json_loads(stop_json, 0, NULL) : NULL;
    lux_stopper_t *st = NULL;
    char err[256] = "";
    int rc = lux_stopper_new(stop, budget, &st, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    json_decref(stop);
    return st;
}

static bool check(const lux_stopper_t *st, const char *result_json, char *why, size_t whylen)
{
    json_t *r = json_loads(result_json, 0, NULL);
    LUX_CHECK(r != NULL);
    bool stop = false;
    LUX_CHECK_OK(lux_stopper_check_result(st, r, &stop, why, whylen));
    json_decref(r);
    return stop;
}

LUX_TEST(stops_when_any_key_reaches_its_threshold)
{
    lux_stopper_t *st = stopper("{\"training_iteration\": 10, \"episode_reward_mean\": 475}", 0);
    char why[256];
    LUX_CHECK(
        !check(st, "{\"training_iteration\": 9, \"episode_reward_mean\": 100}", why, sizeof why));
    LUX_CHECK(
        check(st, "{\"training_iteration\": 10, \"episode_reward_mean\": 100}", why, sizeof why));
    LUX_CHECK_STR_EQ(why, "training_iteration=10 >= 10");
    LUX_CHECK(
        check(st, "{\"training_iteration\": 3, \"episode_reward_mean\": 480.5}", why, sizeof why));
    LUX_CHECK_STR_EQ(why, "episode_reward_mean=480.5 >= 475");
    lux_stopper_destroy(&st);
    LUX_CHECK(st == NULL);
}

LUX_TEST(the_rule_is_always_greater_or_equal)
{
    /* Even for a loss the experiment minimises, as in Ray. */
    lux_stopper_t *st = stopper("{\"loss\": 0.1}", 0);
    char why[128];
    LUX_CHECK(!check(st, "{\"loss\": 0.05}", why, sizeof why));
    LUX_CHECK(check(st, "{\"loss\": 0.2}", why, sizeof why));
    lux_stopper_destroy(&st);
}

LUX_TEST(done_nested_keys_and_missing_keys)
{
    lux_stopper_t *st = stopper("{\"info/learner/kl\": 2}", 0);
    char why[256];
    LUX_CHECK(check(st, "{\"done\": true}", why, sizeof why));
    LUX_CHECK_STR_EQ(why, "done");
    LUX_CHECK(check(st, "{\"info\": {\"learner\": {\"kl\": 3}}}", why, sizeof why));
    LUX_CHECK(!check(st, "{\"info\": {\"learner\": {\"kl\": 1}}}", why, sizeof why));
    json_t *r = json_pack("{s:i,s:i}", "training_iteration", 1, "score", 2);
    bool stop = true;
    LUX_CHECK_ERR(lux_stopper_check_result(st, r, &stop, why, sizeof why), LUX_EINVAL);
    LUX_CHECK(!stop);
    LUX_CHECK_CONTAINS(why, "stop criterion 'info/learner/kl' is not in the result; its keys are:");
    LUX_CHECK_CONTAINS(why, "training_iteration");
    json_decref(r);
    lux_stopper_destroy(&st);
}

LUX_TEST(time_budget)
{
    lux_stopper_t *st = stopper(NULL, 60);
    LUX_CHECK(!lux_stopper_budget_exhausted(st, 59.9));
    LUX_CHECK(lux_stopper_budget_exhausted(st, 60));
    LUX_CHECK_DBL(lux_stopper_time_budget(st), ==, 60);
    char why[64];
    LUX_CHECK(!check(st, "{\"x\": 1}", why, sizeof why));
    lux_stopper_destroy(&st);
    st = stopper(NULL, 0);
    LUX_CHECK(!lux_stopper_budget_exhausted(st, 1e9));
    lux_stopper_destroy(&st);
}

LUX_TEST(bad_thresholds_are_rejected)
{
    json_t *stop = json_pack("{s:s}", "training_iteration", "ten");
    lux_stopper_t *st = NULL;
    char err[256];
    LUX_CHECK_ERR(lux_stopper_new(stop, 0, &st, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "training_iteration");
    json_decref(stop);
    LUX_CHECK_ERR(lux_stopper_new(NULL, -1, &st, err, sizeof err), LUX_EINVAL);
    LUX_CHECK(st == NULL);
}
