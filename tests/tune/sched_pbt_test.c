/*
 * Tests of PBT (Ray's PopulationBasedTraining) against hand-worked
 * examples: quantiles, exploit only from a donor with a checkpoint, Ray's
 * _explore (factors, integer truncation, categorical shifts and resampling,
 * no clipping), time-multiplexing pauses, synch mode, lineage, and the JSON
 * state round trip.
 */
#include "test.h"

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "scheduler.h"
#include "yaml_tree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lux_scheduler_t *s;
    lux_space_t *mutations;
} pbt_t;

static pbt_t pbt(const char *mutations_yaml, double q, double resample, double factor, bool synch)
{
    pbt_t r = {0};
    lux_yaml_node_t *root = NULL;
    char err[512] = "";
    LUX_CHECK_OK(
        lux_yaml_parse(mutations_yaml, strlen(mutations_yaml), "m.yaml", &root, err, sizeof err));
    int rc =
        lux_space_from_node(root, "m.yaml", LUX_SPACE_MUTATIONS, &r.mutations, err, sizeof err);
    lux_yaml_node_destroy(&root);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    lux_scheduler_params_t p;
    lux_scheduler_params_default(&p, LUX_SCHEDULER_PBT);
    p.metric = "score";
    p.mode = LUX_MODE_MAX;
    p.time_attr = "t";
    p.perturbation_interval = 10;
    p.quantile_fraction = q;
    p.resample_probability = resample;
    p.perturbation_factors[0] = factor;
    p.num_perturbation_factors = 1;
    p.hyperparam_mutations = r.mutations;
    p.synch = synch;
    p.seed = 3;
    rc = lux_scheduler_new(&p, &r.s, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    return r;
}

static void pbt_free(pbt_t *p)
{
    lux_scheduler_destroy(&p->s);
    lux_space_destroy(&p->mutations);
}

static void add(pbt_t *p, int trial, const char *config_json, bool start)
{
    json_t *c = json_loads(config_json, 0, NULL);
    LUX_CHECK(c != NULL);
    LUX_CHECK_OK(lux_scheduler_on_trial_add(p->s, trial, c));
    json_decref(c);
    if (start)
        LUX_CHECK_OK(lux_scheduler_on_trial_start(p->s, trial));
}

static lux_sched_action_t result(pbt_t *p, int trial, double t, double score)
{
    json_t *r = json_pack("{s:f,s:f}", "t", t, "score", score);
    lux_sched_action_t a;
    char err[256] = "";
    int rc = lux_scheduler_on_trial_result(p->s, trial, r, &a, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "%s", err);
    json_decref(r);
    return a;
}

static size_t count_kind(const json_t *all, const char *kind)
{
    size_t n = 0, i;
    json_t *d;
    json_array_foreach(all, i, d) n +=
        strcmp(json_string_value(json_object_get(d, "decision")), kind) == 0;
    return n;
}

static const json_t *find_kind(const json_t *all, const char *kind)
{
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "decision")), kind) == 0)
            return d;
    }
    return NULL;
}

LUX_TEST(quantiles_checkpoints_and_exploit_from_a_checkpointed_donor)
{
    pbt_t p = pbt("lr: {loguniform: [0.001, 1]}\npop: {randint: [10, 100]}\n", 0.25, 0, 2.0, false);
    add(&p, 0, "{\"lr\": 0.1, \"pop\": 20}", true);
    add(&p, 1, "{\"lr\": 0.2, \"pop\": 30}", true);
    add(&p, 2, "{\"lr\": 0.3, \"pop\": 40}", true);
    add(&p, 3, "{\"lr\": 0.5, \"pop\": 33, \"other\": \"x\"}", true);
    /* Scores 1 < 2 < 3 < 4 at t = 10. */
    LUX_CHECK_INT_EQ(result(&p, 0, 10, 1), LUX_SCHED_CONTINUE); /* alone: no quantiles */
    json_t *d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(json_array_size(d), 0);
    json_decref(d);
    /* n = 2: k = ceil(0.5) = 1: upper {1} is checkpointed. */
    LUX_CHECK_INT_EQ(result(&p, 1, 10, 2), LUX_SCHED_CONTINUE);
    d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(count_kind(d, "checkpoint"), 1);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(find_kind(d, "checkpoint"), "trial")), 1);
    json_decref(d);
    LUX_CHECK_INT_EQ(result(&p, 2, 10, 3), LUX_SCHED_CONTINUE);
    LUX_CHECK_INT_EQ(result(&p, 3, 10, 4), LUX_SCHED_CONTINUE);
    json_decref(lux_scheduler_take_decisions(p.s));
    LUX_CHECK_OK(lux_scheduler_on_checkpoint(p.s, 3, 10, "trial_3/checkpoint_000010"));
    /* Not yet ready again (t - last perturbation < interval). */
    LUX_CHECK_INT_EQ(result(&p, 0, 15, 0.5), LUX_SCHED_CONTINUE);
    /* Ready: n = 4, k = 1, lower {0}, upper {3}: trial 0 clones trial 3. */
    LUX_CHECK_INT_EQ(result(&p, 0, 20, 0.5), LUX_SCHED_PAUSE);
    d = lux_scheduler_take_decisions(p.s);
    const json_t *e = find_kind(d, "exploit");
    LUX_CHECK(e != NULL);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(e, "trial")), 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(e, "donor")), 3);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(e, "donor_checkpoint")),
                     "trial_3/checkpoint_000010");
    LUX_CHECK_NEAR(json_number_value(json_object_get(e, "score")), 0.5, 0);
    LUX_CHECK_NEAR(json_number_value(json_object_get(e, "donor_score")), 4, 0);
    /* Explore starts from the donor's config: lr 0.5 * 2 = 1.0, pop
     * 33 * 2 = 66 stays an integer, and keys outside the mutations come
     * from the donor too. */
    const json_t *nc = json_object_get(e, "new_config");
    LUX_CHECK_NEAR(json_number_value(json_object_get(nc, "lr")), 1.0, 1e-12);
    LUX_CHECK(json_is_integer(json_object_get(nc, "pop")));
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(nc, "pop")), 66);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(nc, "other")), "x");
    LUX_CHECK_NEAR(json_number_value(json_object_get(json_object_get(e, "old_config"), "lr")), 0.1,
                   0);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(e, "operations"), "pop")),
                     "33 --- (* 2) --> 66");
    LUX_CHECK_CONTAINS(json_string_value(json_object_get(e, "message")),
                       "EXPLOIT trial 0 (score=0.5) clones trial 3 (score=4)");
    LUX_CHECK(json_equal(lux_scheduler_trial_config(p.s, 0), nc));
    const json_t *lin = lux_scheduler_trial_lineage(p.s, 0);
    LUX_CHECK_INT_EQ(json_array_size(lin), 1);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(lin, 0), "donor")), 3);
    json_decref(d);
    json_t *stats = lux_scheduler_stats(p.s);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(stats, "num_perturbations")), 1);
    json_decref(stats);

    /* The clone took the donor's perturbation time (10), so at t = 20 it is
     * due again and, still the worst, clones trial 3 once more. */
    LUX_CHECK_OK(lux_scheduler_on_trial_start(p.s, 0));
    LUX_CHECK_OK(lux_scheduler_on_checkpoint(p.s, 3, 10, "c3"));
    LUX_CHECK_INT_EQ(result(&p, 0, 20, 0.1), LUX_SCHED_PAUSE);
    d = lux_scheduler_take_decisions(p.s);
    e = find_kind(d, "exploit");
    LUX_CHECK(e != NULL);
    json_decref(d);
    pbt_free(&p);
}

LUX_TEST(no_exploit_without_a_donor_checkpoint)
{
    pbt_t p = pbt("lr: [0.01, 0.1, 1]\n", 0.5, 0, 1.2, false);
    add(&p, 0, "{\"lr\": 0.1}", true);
    add(&p, 1, "{\"lr\": 0.1}", true);
    /* Trial 0 is processed alone (no quantiles, no checkpoint). */
    LUX_CHECK_INT_EQ(result(&p, 0, 10, 5), LUX_SCHED_CONTINUE);
    /* Trial 1 is lower, trial 0 upper but holds no checkpoint: skip. */
    LUX_CHECK_INT_EQ(result(&p, 1, 10, 1), LUX_SCHED_CONTINUE);
    json_t *d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(count_kind(d, "exploit"), 0);
    json_decref(d);
    /* The runner reports one (e.g. a periodic checkpoint): now it clones. */
    LUX_CHECK_OK(lux_scheduler_on_checkpoint(p.s, 0, 10, "c0"));
    LUX_CHECK_INT_EQ(result(&p, 1, 20, 1), LUX_SCHED_PAUSE);
    d = lux_scheduler_take_decisions(p.s);
    const json_t *e = find_kind(d, "exploit");
    LUX_CHECK(e != NULL);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(e, "donor_checkpoint")), "c0");
    /* Categorical shift from 0.1 (index 1) to a neighbour. */
    double lr = json_number_value(json_object_get(json_object_get(e, "new_config"), "lr"));
    const char *op = json_string_value(json_object_get(json_object_get(e, "operations"), "lr"));
    if (strstr(op, "shift left"))
        LUX_CHECK_NEAR(lr, 0.01, 0);
    else
        LUX_CHECK_NEAR(lr, 1, 0);
    LUX_CHECK(strstr(op, "shift") != NULL && strstr(op, "noop") == NULL);
    json_decref(d);
    pbt_free(&p);
}

/* Runs one exploit of trial 0 from trial 1 with the donor's config `donor`
 * and returns the exploit decision's operations and new config for "x". */
static void one_exploit(const char *mut, double resample, double factor, const char *donor,
                        json_t **value, char *op, size_t oplen)
{
    pbt_t p = pbt(mut, 0.5, resample, factor, false);
    add(&p, 0, donor, true);
    add(&p, 1, donor, true);
    result(&p, 1, 10, 9);
    LUX_CHECK_OK(lux_scheduler_on_checkpoint(p.s, 1, 10, "c1"));
    result(&p, 0, 10, 1);
    json_t *d = lux_scheduler_take_decisions(p.s);
    const json_t *e = find_kind(d, "exploit");
    LUX_CHECK(e != NULL);
    *value = json_incref(json_object_get(json_object_get(e, "new_config"), "x"));
    snprintf(op, oplen, "%s",
             json_string_value(json_object_get(json_object_get(e, "operations"), "x")));
    json_decref(d);
    pbt_free(&p);
}

LUX_TEST(explore_hand_worked_cases)
{
    json_t *v;
    char op[256];
    /* Integers truncate like Python's int(): 33 * 1.5 = 49.5 -> 49. */
    one_exploit("x: {randint: [1, 100]}\n", 0, 1.5, "{\"x\": 33}", &v, op, sizeof op);
    LUX_CHECK(json_is_integer(v));
    LUX_CHECK_INT_EQ(json_integer_value(v), 49);
    LUX_CHECK_STR_EQ(op, "33 --- (* 1.5) --> 49");
    json_decref(v);
    /* Floats are multiplied and not clipped: 0.9 * 1.5 > uniform's 1. */
    one_exploit("x: {uniform: [0, 1]}\n", 0, 1.5, "{\"x\": 0.9}", &v, op, sizeof op);
    LUX_CHECK_NEAR(json_real_value(v), 1.35, 1e-12);
    json_decref(v);
    /* Resampling with probability 1 draws from the domain. */
    one_exploit("x: {uniform: [5, 6]}\n", 1, 1.5, "{\"x\": 100.0}", &v, op, sizeof op);
    LUX_CHECK(json_real_value(v) >= 5 && json_real_value(v) < 6);
    LUX_CHECK_CONTAINS(op, "(resample)");
    json_decref(v);
    /* An integer value stays an integer even when resampled from a float
     * domain. */
    one_exploit("x: {uniform: [5, 6]}\n", 1, 1.5, "{\"x\": 100}", &v, op, sizeof op);
    LUX_CHECK(json_is_integer(v));
    LUX_CHECK_INT_EQ(json_integer_value(v), 5);
    json_decref(v);
    /* A value outside the list is resampled from the list. */
    one_exploit("x: [16, 32, 64]\n", 0, 1.5, "{\"x\": 48}", &v, op, sizeof op);
    LUX_CHECK(json_integer_value(v) == 16 || json_integer_value(v) == 32 ||
              json_integer_value(v) == 64);
    LUX_CHECK_CONTAINS(op, "(resample)");
    json_decref(v);
    /* A string from a choice cannot be multiplied: resampled. */
    one_exploit("x: {choice: [a, b]}\n", 0, 1.5, "{\"x\": \"a\"}", &v, op, sizeof op);
    LUX_CHECK(json_is_string(v));
    LUX_CHECK_CONTAINS(op, "resample (not a number)");
    json_decref(v);
}

LUX_TEST(categorical_shift_at_an_edge_is_a_noop_half_the_time)
{
    int noop = 0, right = 0;
    for (int seed = 0; seed < 40; seed++) {
        pbt_t p = pbt("x: [1, 2, 3]\n", 0.5, 0, 1.2, false);
        /* vary the RNG stream by adding a different number of trials' worth
         * of draws: the seed is fixed, so shift through extra trials */
        for (int j = 0; j < seed % 7; j++)
            add(&p, 10 + j, "{}", false); /* fills x by sampling: consumes draws */
        add(&p, 0, "{\"x\": 1}", true);
        add(&p, 1, "{\"x\": 1}", true);
        result(&p, 1, 10, 9);
        LUX_CHECK_OK(lux_scheduler_on_checkpoint(p.s, 1, 10, "c"));
        result(&p, 0, 10, 1);
        json_t *d = lux_scheduler_take_decisions(p.s);
        const json_t *e = find_kind(d, "exploit");
        if (e == NULL) { /* trials 10.. have no score, but may be PENDING */
            json_decref(d);
            pbt_free(&p);
            continue;
        }
        json_int_t x = json_integer_value(json_object_get(json_object_get(e, "new_config"), "x"));
        const char *op = json_string_value(json_object_get(json_object_get(e, "operations"), "x"));
        if (x == 1) {
            LUX_CHECK_CONTAINS(op, "shift left (noop)");
            noop++;
        } else {
            LUX_CHECK_INT_EQ(x, 2);
            LUX_CHECK_CONTAINS(op, "shift right");
            right++;
        }
        json_decref(d);
        pbt_free(&p);
    }
    LUX_CHECK(noop > 0 && right > 0);
}

LUX_TEST(missing_mutations_are_sampled_into_the_config)
{
    pbt_t p =
        pbt("lr: {loguniform: [0.001, 0.01]}\nnet: {width: [8, 16]}\n", 0.25, 0.25, 1.2, false);
    json_t *c = json_pack("{s:i}", "seed", 1);
    LUX_CHECK_OK(lux_scheduler_on_trial_add(p.s, 0, c));
    double lr = json_number_value(json_object_get(c, "lr"));
    LUX_CHECK(lr >= 0.001 && lr <= 0.01);
    json_int_t w = json_integer_value(lux_space_get_path(c, "net.width"));
    LUX_CHECK(w == 8 || w == 16);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(c, "seed")), 1);
    LUX_CHECK(json_equal(c, lux_scheduler_trial_config(p.s, 0)));
    json_decref(c);
    LUX_CHECK_ERR(lux_scheduler_on_trial_add(p.s, 0, NULL), LUX_EEXIST);
    /* A result without the metric is an error, as with Ray's require_attrs. */
    json_t *r = json_pack("{s:f}", "t", 10.0);
    lux_sched_action_t a;
    char err[256] = "";
    LUX_CHECK_ERR(lux_scheduler_on_trial_result(p.s, 0, r, &a, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "pbt needs 'score' in every result of trial 0");
    json_decref(r);
    pbt_free(&p);
}

LUX_TEST(async_pauses_to_let_waiting_trials_run_and_chooses_least_trained)
{
    pbt_t p = pbt("lr: [1, 2]\n", 0.25, 0, 1.2, false);
    add(&p, 0, "{\"lr\": 1}", true);
    add(&p, 1, "{\"lr\": 1}", false);                          /* waits for a slot */
    LUX_CHECK_INT_EQ(result(&p, 0, 5, 1), LUX_SCHED_CONTINUE); /* not due yet */
    LUX_CHECK_INT_EQ(result(&p, 0, 10, 1), LUX_SCHED_PAUSE);
    json_t *d = lux_scheduler_take_decisions(p.s);
    const json_t *pz = find_kind(d, "pause");
    LUX_CHECK(pz != NULL);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(pz, "reason")), "pbt time-multiplexing");
    json_decref(d);
    int cand[2] = {0, 1};
    lux_trial_status_t st[2] = {LUX_TRIAL_PAUSED, LUX_TRIAL_PENDING};
    int chosen;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(p.s, cand, st, 2, &chosen));
    LUX_CHECK_INT_EQ(chosen, 1); /* last_train_time 0 < 10 */
    pbt_free(&p);
}

LUX_TEST(synch_mode_waits_at_the_barrier_then_perturbs_all)
{
    pbt_t p = pbt("lr: {uniform: [0, 1]}\n", 0.5, 0, 2.0, true);
    add(&p, 0, "{\"lr\": 0.1}", true);
    add(&p, 1, "{\"lr\": 0.3}", true);
    /* Trial 0 reaches the sync point first and waits. */
    LUX_CHECK_INT_EQ(result(&p, 0, 10, 1), LUX_SCHED_PAUSE);
    json_t *d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(find_kind(d, "pause"), "reason")),
                     "pbt synch barrier");
    json_decref(d);
    int cand[2] = {0, 1};
    lux_trial_status_t st[2] = {LUX_TRIAL_PAUSED, LUX_TRIAL_RUNNING};
    int chosen;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(p.s, cand, st, 2, &chosen));
    LUX_CHECK_INT_EQ(chosen, -1); /* trial 0 is at the sync point */
    /* Trial 1 arrives: everyone is perturbed, upper first (its checkpoint
     * request comes before the exploit that uses it). */
    LUX_CHECK_INT_EQ(result(&p, 1, 10, 3), LUX_SCHED_PAUSE);
    d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(json_array_size(d), 2);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(d, 0), "decision")),
                     "checkpoint");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(d, 0), "trial")), 1);
    const json_t *e = json_array_get(d, 1);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(e, "decision")), "exploit");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(e, "trial")), 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(e, "donor")), 1);
    /* The donor's checkpoint is the one just requested: not labelled yet. */
    LUX_CHECK(json_is_null(json_object_get(e, "donor_checkpoint")));
    LUX_CHECK_NEAR(json_number_value(json_object_get(json_object_get(e, "new_config"), "lr")), 0.6,
                   1e-12);
    json_decref(d);
    /* Next sync point is 20; both may run again, least trained first. */
    st[1] = LUX_TRIAL_PAUSED;
    LUX_CHECK_OK(lux_scheduler_choose_trial_to_run(p.s, cand, st, 2, &chosen));
    LUX_CHECK_INT_EQ(chosen, 0);
    json_t *state = lux_scheduler_state(p.s);
    LUX_CHECK_NEAR(json_number_value(json_object_get(state, "next_sync")), 20, 0);
    json_decref(state);
    pbt_free(&p);
}

LUX_TEST(state_round_trip_continues_identically)
{
    pbt_t a = pbt("lr: {loguniform: [0.001, 1]}\nb: [1, 2, 3]\n", 0.25, 0.25, 1.2, false);
    pbt_t b = pbt("lr: {loguniform: [0.001, 1]}\nb: [1, 2, 3]\n", 0.25, 0.25, 1.2, false);
    for (int i = 0; i < 8; i++)
        add(&a, i, "{\"lr\": 0.01, \"b\": 2}", true);
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < 8; i++) {
            result(&a, i, 10 * round, i * round);
            LUX_CHECK_OK(lux_scheduler_on_checkpoint(a.s, i, 10 * round, "c"));
        }
    json_decref(lux_scheduler_take_decisions(a.s));
    json_t *st = lux_scheduler_state(a.s);
    char *text = json_dumps(st, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    char err[256] = "";
    LUX_CHECK_OK(lux_scheduler_restore(b.s, back, NULL, err, sizeof err));
    json_t *st2 = lux_scheduler_state(b.s);
    LUX_CHECK(json_equal(st, st2));
    for (int i = 0; i < 8; i++) {
        LUX_CHECK_OK(lux_scheduler_on_trial_start(a.s, i));
        LUX_CHECK_OK(lux_scheduler_on_trial_start(b.s, i));
        LUX_CHECK_INT_EQ(result(&a, i, 30, 8 - i), result(&b, i, 30, 8 - i));
    }
    json_t *da = lux_scheduler_take_decisions(a.s), *db = lux_scheduler_take_decisions(b.s);
    LUX_CHECK(count_kind(da, "exploit") > 0);
    LUX_CHECK(json_equal(da, db));
    json_decref(da);
    json_decref(db);
    /* A state of another type is refused. */
    json_object_set_new(back, "type", json_string("asha"));
    LUX_CHECK_ERR(lux_scheduler_restore(b.s, back, NULL, err, sizeof err), LUX_EINVAL);
    LUX_CHECK_CONTAINS(err, "'asha'");
    json_decref(st);
    json_decref(st2);
    json_decref(back);
    pbt_free(&a);
    pbt_free(&b);
}

LUX_TEST(allocation_failures_leave_a_usable_scheduler)
{
    /* With allocations failing from the n-th on, every call returns 0 or
     * LUX_ENOMEM and destroy frees everything (the sanitizer build checks
     * the leaks). */
    lux_yaml_node_t *root = NULL;
    char err[256];
    const char *y = "lr: {loguniform: [0.001, 1]}\nb: [1, 2, 3]\n";
    LUX_CHECK_OK(lux_yaml_parse(y, strlen(y), "m.yaml", &root, err, sizeof err));
    lux_space_t *m = NULL;
    LUX_CHECK_OK(lux_space_from_node(root, "m.yaml", LUX_SPACE_MUTATIONS, &m, err, sizeof err));
    lux_yaml_node_destroy(&root);
    lux_scheduler_params_t p;
    lux_scheduler_params_default(&p, LUX_SCHEDULER_PBT);
    p.metric = "score";
    p.time_attr = "t";
    p.perturbation_interval = 10;
    p.hyperparam_mutations = m;
    int injected_runs = 0;
    for (long n = 0; n < 2000; n++) {
        lux_alloc_fail_after(n);
        lux_scheduler_t *s = NULL;
        int rc = lux_scheduler_new(&p, &s, err, sizeof err);
        LUX_CHECK(rc == 0 || rc == LUX_ENOMEM);
        for (int i = 0; s != NULL && i < 6; i++) {
            json_t *c = json_pack("{s:f}", "lr", 0.01);
            rc = lux_scheduler_on_trial_add(s, i, c);
            LUX_CHECK(rc == 0 || rc == LUX_ENOMEM);
            json_decref(c);
            lux_scheduler_on_trial_start(s, i);
        }
        for (int round = 1; s != NULL && round <= 3; round++)
            for (int i = 0; i < 6; i++) {
                json_t *r = json_pack("{s:f,s:f}", "t", 10.0 * round, "score", (double)(i * round));
                lux_sched_action_t a;
                rc = lux_scheduler_on_trial_result(s, i, r, &a, err, sizeof err);
                LUX_CHECK(rc == 0 || rc == LUX_ENOMEM || rc == LUX_ENOENT);
                json_decref(r);
                rc = lux_scheduler_on_checkpoint(s, i, 10.0 * round, "c");
                LUX_CHECK(rc == 0 || rc == LUX_ENOMEM || rc == LUX_ENOENT);
            }
        if (s != NULL) {
            json_decref(lux_scheduler_take_decisions(s));
            json_t *st = lux_scheduler_state(s);
            if (st != NULL) {
                rc = lux_scheduler_restore(s, st, NULL, err, sizeof err);
                LUX_CHECK(rc == 0 || rc == LUX_ENOMEM);
            }
            json_decref(st);
        }
        lux_scheduler_destroy(&s);
        long injected = lux_alloc_failures();
        lux_alloc_fail_reset();
        if (injected == 0)
            break;
        injected_runs++;
    }
    LUX_CHECK(injected_runs > 5);
    lux_space_destroy(&m);
}

/* Two rounds of results with the runner reporting every checkpoint; returns
 * the second round's decisions. */
static json_t *two_rounds(pbt_t *p, const double *scores, int n)
{
    for (int i = 0; i < n; i++)
        add(p, i, "{\"lr\": 1}", true);
    for (int round = 1; round <= 2; round++) {
        if (round == 2)
            json_decref(lux_scheduler_take_decisions(p->s));
        for (int i = 0; i < n; i++) {
            LUX_CHECK_OK(lux_scheduler_on_trial_start(p->s, i));
            result(p, i, 10 * round, scores[i]);
            if (round == 1)
                LUX_CHECK_OK(lux_scheduler_on_checkpoint(p->s, i, 10, "c"));
        }
    }
    return lux_scheduler_take_decisions(p->s);
}

static bool has(const json_t *all, const char *kind, int trial)
{
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "decision")), kind) == 0 &&
            json_integer_value(json_object_get(d, "trial")) == trial)
            return true;
    }
    return false;
}

LUX_TEST(quantile_sizes_hand_worked)
{
    /* n = 5, q = 0.25: k = ceil(1.25) = 2. Sorted: 1 (t1), 2 (t3), 3 (t4),
     * 4 (t2), 5 (t0): lower {1, 3}, upper {2, 0}. */
    pbt_t p = pbt("lr: [1, 2]\n", 0.25, 0, 1.2, false);
    double s5[] = {5, 1, 4, 2, 3};
    json_t *d = two_rounds(&p, s5, 5);
    LUX_CHECK_INT_EQ(count_kind(d, "checkpoint"), 2);
    LUX_CHECK(has(d, "checkpoint", 0) && has(d, "checkpoint", 2));
    LUX_CHECK_INT_EQ(count_kind(d, "exploit"), 2);
    LUX_CHECK(has(d, "exploit", 1) && has(d, "exploit", 3));
    size_t i;
    json_t *e;
    json_array_foreach(d, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "decision")), "exploit") == 0) {
            json_int_t donor = json_integer_value(json_object_get(e, "donor"));
            LUX_CHECK(donor == 0 || donor == 2);
        }
    }
    json_decref(d);
    pbt_free(&p);

    /* n = 3, q = 0.5: ceil(1.5) = 2 > 3/2, so k = floor(1.5) = 1. */
    p = pbt("lr: [1, 2]\n", 0.5, 0, 1.2, false);
    double s3[] = {1, 2, 3};
    d = two_rounds(&p, s3, 3);
    LUX_CHECK_INT_EQ(count_kind(d, "checkpoint"), 1);
    LUX_CHECK(has(d, "checkpoint", 2));
    LUX_CHECK_INT_EQ(count_kind(d, "exploit"), 1);
    LUX_CHECK(has(d, "exploit", 0));
    json_decref(d);
    pbt_free(&p);
}

LUX_TEST(burn_in_and_interval_gate_perturbations)
{
    lux_yaml_node_t *root = NULL;
    char err[256];
    const char *y = "lr: [1, 2]\n";
    LUX_CHECK_OK(lux_yaml_parse(y, strlen(y), "m.yaml", &root, err, sizeof err));
    lux_space_t *m = NULL;
    LUX_CHECK_OK(lux_space_from_node(root, "m.yaml", LUX_SPACE_MUTATIONS, &m, err, sizeof err));
    lux_yaml_node_destroy(&root);
    lux_scheduler_params_t prm;
    lux_scheduler_params_default(&prm, LUX_SCHEDULER_PBT);
    prm.metric = "score";
    prm.time_attr = "t";
    prm.perturbation_interval = 10;
    prm.burn_in_period = 25;
    prm.hyperparam_mutations = m;
    pbt_t p = {0};
    p.mutations = m;
    LUX_CHECK_OK(lux_scheduler_new(&prm, &p.s, err, sizeof err));
    add(&p, 0, "{\"lr\": 1}", true);
    add(&p, 1, "{\"lr\": 1}", true);
    for (int t = 10; t <= 20; t += 10) {
        result(&p, 0, t, 5);
        result(&p, 1, t, 1);
    }
    json_t *d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(json_array_size(d), 0); /* still burning in */
    json_decref(d);
    /* Past burn-in both are scored; trial 0 was alone when it was scored,
     * so it is checkpointed only at its next perturbation (t = 40). */
    result(&p, 0, 30, 5);
    result(&p, 1, 30, 1);
    d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(count_kind(d, "checkpoint"), 0);
    LUX_CHECK_INT_EQ(count_kind(d, "exploit"), 0); /* the donor has no checkpoint */
    json_decref(d);
    result(&p, 0, 35, 5); /* within the interval */
    d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK_INT_EQ(json_array_size(d), 0);
    json_decref(d);
    result(&p, 0, 40, 5);
    d = lux_scheduler_take_decisions(p.s);
    LUX_CHECK(has(d, "checkpoint", 0));
    json_decref(d);
    pbt_free(&p);
}
