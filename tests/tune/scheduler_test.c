/*
 * Tests of the scheduler front end and FIFO: Ray's FIFO choice of the next
 * trial, CONTINUE for every result, trial bookkeeping errors, decisions
 * draining, names, and state round trip of the shared trial table.
 */
#include "test.h"

#include "error.h"
#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

static lux_scheduler_t *fifo(void)
{
    lux_scheduler_params_t p;
    lux_scheduler_params_default(&p, LUX_SCHEDULER_FIFO);
    lux_scheduler_t *s = NULL;
    char err[128];
    LUX_CHECK_OK(lux_scheduler_new(&p, &s, err, sizeof err));
    LUX_CHECK_INT_EQ(lux_scheduler_type(s), LUX_SCHEDULER_FIFO);
    return s;
}

LUX_TEST(fifo_continues_and_picks_pending_before_paused)
{
    lux_scheduler_t *s = fifo();
    json_t *cfg = json_pack("{s:f}", "lr", 0.1);
    for (int i = 0; i < 3; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, cfg));
    LUX_CHECK_ERR(lux_scheduler_on_trial_add(s, 1, cfg), LUX_EEXIST);
    LUX_CHECK(json_equal(lux_scheduler_trial_config(s, 2), cfg));
    json_decref(cfg);
    json_t *r = json_pack("{s:i}", "training_iteration", 1);
    lux_sched_action_t a = LUX_SCHED_STOP;
    LUX_CHECK_OK(lux_scheduler_on_trial_result(s, 0, r, &a, NULL, 0));
    LUX_CHECK_INT_EQ(a, LUX_SCHED_CONTINUE);
    char err[128] = "";
    LUX_CHECK_ERR(lux_scheduler_on_trial_result(s, 9, r, &a, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "trial 9");
    json_decref(r);

    int cand[3] = {2, 0, 1};
    lux_trial_status_t st[3] = {LUX_TRIAL_PAUSED, LUX_TRIAL_RUNNING, LUX_TRIAL_PENDING};
    int chosen;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(s, cand, st, 3, &chosen));
    LUX_CHECK_INT_EQ(chosen, 1);
    st[2] = LUX_TRIAL_TERMINATED;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(s, cand, st, 3, &chosen));
    LUX_CHECK_INT_EQ(chosen, 2);
    st[0] = LUX_TRIAL_ERROR;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(s, cand, st, 3, &chosen));
    LUX_CHECK_INT_EQ(chosen, -1);

    LUX_CHECK_OK(lux_scheduler_on_trial_complete(s, 0, NULL));
    LUX_CHECK_OK(lux_scheduler_on_trial_error(s, 1));
    LUX_CHECK_OK(lux_scheduler_on_trial_remove(s, 2));
    LUX_CHECK_ERR(lux_scheduler_on_trial_start(s, 7), LUX_ENOENT);
    json_t *d = lux_scheduler_take_decisions(s);
    LUX_CHECK_INT_EQ(json_array_size(d), 0);
    json_decref(d);
    lux_scheduler_destroy(&s);
    LUX_CHECK(s == NULL);
    lux_scheduler_destroy(&s);
}

LUX_TEST(state_round_trip_keeps_trials)
{
    lux_scheduler_t *a = fifo(), *b = fifo();
    json_t *cfg = json_pack("{s:s}", "opt", "cmaes");
    LUX_CHECK_OK(lux_scheduler_on_trial_add(a, 4, cfg));
    LUX_CHECK_OK(lux_scheduler_on_trial_add(a, 1, cfg));
    LUX_CHECK_OK(lux_scheduler_on_checkpoint(a, 4, 3, "ck"));
    json_decref(cfg);
    json_t *st = lux_scheduler_state(a);
    char err[128];
    LUX_CHECK_OK(lux_scheduler_restore(b, st, NULL, err, sizeof err));
    json_t *st2 = lux_scheduler_state(b);
    LUX_CHECK(json_equal(st, st2));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(lux_scheduler_trial_config(b, 1), "opt")),
                     "cmaes");
    LUX_CHECK(lux_scheduler_trial_config(b, 2) == NULL);
    /* Malformed states leave the scheduler as it was. */
    json_t *bad = json_deep_copy(st);
    json_object_set_new(bad, "rng", json_string("x"));
    LUX_CHECK_ERR(lux_scheduler_restore(b, bad, NULL, err, sizeof err), LUX_EINVAL);
    json_decref(bad);
    bad = json_deep_copy(st);
    json_array_append_new(json_object_get(bad, "trials"), json_pack("{s:i}", "id", 4));
    LUX_CHECK_ERR(lux_scheduler_restore(b, bad, NULL, err, sizeof err), LUX_EINVAL);
    json_decref(bad);
    json_t *st3 = lux_scheduler_state(b);
    LUX_CHECK(json_equal(st, st3));
    json_decref(st);
    json_decref(st2);
    json_decref(st3);
    lux_scheduler_destroy(&a);
    lux_scheduler_destroy(&b);
}

LUX_TEST(names)
{
    LUX_CHECK_STR_EQ(lux_scheduler_type_name(LUX_SCHEDULER_ASHA), "asha");
    LUX_CHECK_STR_EQ(lux_scheduler_type_name(LUX_SCHEDULER_PBT), "pbt");
    LUX_CHECK_STR_EQ(lux_decision_name(LUX_DECISION_EXPLOIT), "exploit");
    LUX_CHECK_STR_EQ(lux_sched_action_name(LUX_SCHED_PAUSE), "PAUSE");
    LUX_CHECK_STR_EQ(lux_scheduler_type_name((lux_scheduler_type_t)99), "?");
}

/* A trial that ended is forgotten: nothing of it stays in memory or in the
 * saved state (the experiment store keeps its config and rows), so neither
 * grows with the number of finished trials. */
LUX_TEST(finished_trials_are_forgotten)
{
    lux_scheduler_t *s = fifo();
    json_t *cfg = json_pack("{s:f, s:s}", "lr", 0.1, "opt", "adam");
    for (int i = 0; i < 3; i++)
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, cfg));
    LUX_CHECK_OK(lux_scheduler_on_trial_start(s, 0));
    LUX_CHECK_OK(lux_scheduler_on_trial_complete(s, 0, NULL));
    LUX_CHECK_OK(lux_scheduler_on_trial_start(s, 1));
    LUX_CHECK_OK(lux_scheduler_on_trial_error(s, 1));
    LUX_CHECK(lux_scheduler_trial_config(s, 0) == NULL);
    LUX_CHECK(lux_scheduler_trial_config(s, 1) == NULL);
    LUX_CHECK(lux_scheduler_trial_lineage(s, 1) == NULL);
    LUX_CHECK_ERR(lux_scheduler_on_trial_start(s, 0), LUX_ENOENT);
    LUX_CHECK_ERR(lux_scheduler_on_trial_remove(s, 1), LUX_ENOENT);
    LUX_CHECK(json_equal(lux_scheduler_trial_config(s, 2), cfg));
    json_t *state = lux_scheduler_state(s);
    LUX_CHECK(state != NULL);
    LUX_CHECK_INT_EQ(json_array_size(json_object_get(state, "trials")), 1);
    char *small = json_dumps(state, JSON_COMPACT);
    lux_scheduler_t *r = fifo();
    char err[256] = "";
    LUX_CHECK_OK(lux_scheduler_restore(r, state, NULL, err, sizeof err));
    LUX_CHECK(json_equal(lux_scheduler_trial_config(r, 2), cfg));
    LUX_CHECK(lux_scheduler_trial_config(r, 0) == NULL);
    json_decref(state);

    /* 5,000 more trials that all finish: the state is as large as before,
     * but for the counters' digits. */
    for (int i = 3; i < 5003; i++) {
        LUX_CHECK_OK(lux_scheduler_on_trial_add(s, i, cfg));
        LUX_CHECK_OK(lux_scheduler_on_trial_start(s, i));
        LUX_CHECK_OK(lux_scheduler_on_trial_complete(s, i, NULL));
    }
    state = lux_scheduler_state(s);
    char *big = json_dumps(state, JSON_COMPACT);
    LUX_CHECK_INT_EQ(json_array_size(json_object_get(state, "trials")), 1);
    LUX_CHECK(strlen(big) <= strlen(small) + 8);
    free(small);
    free(big);
    json_decref(state);
    json_decref(cfg);
    lux_scheduler_destroy(&s);
    lux_scheduler_destroy(&r);
}
