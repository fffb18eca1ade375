/*
 * Stopping criteria: the experiment's `stop:` mapping (Ray Tune's stop dict)
 * and `time_budget_s`.
 *
 * Ray's semantics, kept on purpose: a trial stops when, for any key of the
 * stop mapping, result[key] >= threshold. The comparison is always >=, also
 * for a metric the experiment minimises (Ray does the same; to stop when a
 * loss falls below x, report its negation or stop on another attribute).
 * A trial also stops when its result carries "done": true. A key missing
 * from a result is an error, as in Ray (a misspelt stop key would otherwise
 * never stop anything); keys may be "a/b" paths into nested result objects,
 * like Ray's flattened results.
 *
 * The time budget applies to the whole experiment: once the elapsed wall
 * time reaches time_budget_s the runner stops every trial (Ray's
 * TimeoutStopper). 0 means no budget.
 *
 * Pure functions over the thresholds; no state beyond them.
 */
#ifndef LUX_STOPPER_H
#define LUX_STOPPER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct lux_stopper lux_stopper_t;

/* Builds a stopper from `stop` (an object of key -> number, or NULL for
 * none; copied) and time_budget_s (>= 0; 0 for none). Returns 0 and *out,
 * LUX_EINVAL with a message when a threshold is not a number or the budget
 * is negative, or LUX_ENOMEM. */
int lux_stopper_new(const json_t *stop, double time_budget_s, lux_stopper_t **out, char *err,
                    size_t errlen);

void lux_stopper_destroy(lux_stopper_t **stopper_p);

/* Decides on one result. Sets *stop and, when stopping, writes the reason
 * into why ("training_iteration=10 >= 10", "done"). Returns 0, or
 * LUX_EINVAL when a stop key is missing from the result or not a number
 * there (message in why: "stop criterion 'episode_reward_mean' is not in the
 * result; its keys are: ..."). */
int lux_stopper_check_result(const lux_stopper_t *st, const json_t *result, bool *stop, char *why,
                             size_t whylen);

/* True once elapsed_s >= time_budget_s (never without a budget). */
bool lux_stopper_budget_exhausted(const lux_stopper_t *st, double elapsed_s);

double lux_stopper_time_budget(const lux_stopper_t *st);

/* Looks up a "a/b/c" path in a result; borrowed reference or NULL. */
const json_t *lux_stopper_lookup(const json_t *result, const char *key);

#endif
