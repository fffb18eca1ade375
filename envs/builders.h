/*
 * The builders world (github.com/martinxyz/progenitor, docs/envs.md): a hexagonal grid of Air,
 * Wall, Food and Agent cells on which a few agents, acting in turn, push,
 * pull and carry Food and Wall; the shared score rewards clusters of Food
 * sheltered by walls.
 *
 * Internal to envs/: env.c wraps it as the "builders" environment, and the
 * tests use the accessors below to build worlds by hand. Cells live in a
 * (2R+3) x (2R+3) axial array (R the radius) whose cells beyond the hexagon
 * are Border, so every cell of the hexagon has its six neighbours in the
 * array and no bounds checks are needed. Directions are numbered clockwise:
 * 0 E, 1 SE, 2 SW, 3 W, 4 NW, 5 NE (axial q to the east, r to the south-east
 * row); heading + 1 is 60 degrees to the right.
 *
 * The world is allocated once (lux_builders_new); reset and step never
 * allocate. Randomness comes only from the generator passed to reset.
 */
#ifndef LUX_ENVS_BUILDERS_H
#define LUX_ENVS_BUILDERS_H

#include <stddef.h>
#include <stdint.h>

#include "env_rng.h"

#define LUX_BUILDERS_OBS        24
#define LUX_BUILDERS_ACTIONS    10
#define LUX_BUILDERS_MAX_AGENTS 64
#define LUX_BUILDERS_MAX_RADIUS 200

typedef enum {
    LUX_CELL_BORDER = 0,
    LUX_CELL_AIR = 1,
    LUX_CELL_WALL = 2,
    LUX_CELL_FOOD = 3,
    LUX_CELL_AGENT = 4,
} lux_cell_t;

typedef enum {
    LUX_BUILDERS_FORWARD = 0,
    LUX_BUILDERS_FORWARD_LEFT = 1,
    LUX_BUILDERS_FORWARD_RIGHT = 2,
    LUX_BUILDERS_BACK = 3,
    LUX_BUILDERS_BACK_LEFT = 4,
    LUX_BUILDERS_BACK_RIGHT = 5,
    LUX_BUILDERS_PULL_BACK = 6,
    LUX_BUILDERS_PULL_BACK_LEFT = 7,
    LUX_BUILDERS_PULL_BACK_RIGHT = 8,
    LUX_BUILDERS_TURN = 9,
} lux_builders_action_t;

/* Every number of the world, with the builders study's values as defaults
 * (lux_builders_config_default). The X-macro lists them once; env.c turns
 * it into the environment's keyword options.
 * X(type, name, default, min, max, help) */
#define LUX_BUILDERS_CONFIG_MAP(X)                                                                 \
    X(int, radius, 33, 1, LUX_BUILDERS_MAX_RADIUS, "hexagon radius in cells")                      \
    X(int, num_agents, 5, 1, LUX_BUILDERS_MAX_AGENTS, "number of agents")                          \
    X(int, wall_free_radius, 10, 0, 1000, "no walls at hex distance below this")                   \
    X(int, wall_ring_period, 4, 1, 1000, "distances that are multiples of this are wall rings")    \
    X(double, wall_ring_prob, 0.9, 0, 1, "wall probability on a wall ring")                        \
    X(double, wall_prob, 0.5, 0, 1, "wall probability elsewhere (beyond wall_free_radius)")        \
    X(int, food_min_distance, 5, 0, 1000, "food only at hex distance above this")                  \
    X(double, food_prob, 0.05, 0, 1, "food probability of a non-wall cell")                        \
    X(int, ca_steps, 6, 0, 1000, "cellular-automaton smoothing steps")                             \
    X(double, ca_wall_prob, 0.05, 0, 1, "CA: air next to a wall becomes wall")                     \
    X(double, ca_wall_single_prob, 0.1, 0, 1, "CA: else, air next to exactly one wall")            \
    X(double, place_reject_decay, 0.9, 0, 1, "agent placement walk: rejection decay")              \
    X(int, cost_back, 1, 0, 100, "turns skipped after a Back-type move")                           \
    X(int, cost_pull, 1, 0, 100, "turns skipped after a Pull-type move")                           \
    X(int, cost_wall, 1, 0, 100, "extra turns skipped after pulling a wall")                       \
    X(int, score_cap0, 1, 0, 1000000, "score cap of a food cell with no wall neighbour")           \
    X(int, score_cap1, 3, 0, 1000000, "score cap with one wall/border neighbour")                  \
    X(int, score_cap2, 7, 0, 1000000, "score cap with two wall/border neighbours")

typedef struct {
#define LUX_BUILDERS_CONFIG_FIELD(type, name, def, min, max, help) type name;
    LUX_BUILDERS_CONFIG_MAP(LUX_BUILDERS_CONFIG_FIELD)
#undef LUX_BUILDERS_CONFIG_FIELD
} lux_builders_config_t;

typedef struct {
    int pos;        /* cell index */
    int heading;    /* 0..5, clockwise */
    int exhaustion; /* turns left to skip */
} lux_builders_agent_t;

typedef struct lux_builders lux_builders_t;

/* The builders study's defaults (docs/envs.md). Cannot fail. */
void lux_builders_config_default(lux_builders_config_t *cfg);

/* A world for `cfg` (copied), all Air inside the hexagon and no agents until
 * reset or lux_builders_place_agent. `ticks` is the episode length in turns
 * per agent (0: no end). NULL when out of memory or cfg is out of range. */
lux_builders_t *lux_builders_new(const lux_builders_config_t *cfg, long ticks);
void lux_builders_destroy(lux_builders_t **self_p);

const lux_builders_config_t *lux_builders_config(const lux_builders_t *self);

/* Generates a new world and places the agents with draws from rng; agent 0
 * has the first turn. Cannot fail. */
void lux_builders_reset(lux_builders_t *self, lux_env_rng_t *rng);

/* Like reset without the agents: generation only (for statistics). */
void lux_builders_generate(lux_builders_t *self, lux_env_rng_t *rng);

/* Places every agent on the current world by the placement walk, in order,
 * each with a random heading (reset = generate + place_agents). Agents
 * already placed are moved. Cannot fail. */
void lux_builders_place_agents(lux_builders_t *self, lux_env_rng_t *rng);

/* Writes the 24 indicators of agent `agent` (Air x6, Food x6, Wall x6,
 * Agent x6 over Forward, Left, Right, LeftBack, RightBack, Back). */
void lux_builders_observe(const lux_builders_t *self, int agent, float *obs);

/* The current agent takes `action` (0..9, validated by the caller); the
 * turn passes to the next agent that is not exhausted (exhausted agents'
 * turns are skipped and counted). Returns 1 when the episode ended with
 * this step (all ticks used), else 0. */
int lux_builders_step(lux_builders_t *self, int action);

/* The agent whose turn it is. */
int lux_builders_current(const lux_builders_t *self);

/* Ticks completed (every agent had its turn or skipped it) and whether the
 * episode is over. */
long lux_builders_tick(const lux_builders_t *self);
int lux_builders_over(const lux_builders_t *self);

/* The shared score: for every Food cell, (Food neighbours)^2 capped by its
 * Wall-or-Border neighbour count (0 -> cap0, 1 -> cap1, 2 -> cap2, 3+ -> no
 * cap), summed. Cannot fail. */
double lux_builders_score(const lux_builders_t *self);

/* ---- geometry and hand-made worlds (tests, rendering) ---- */

/* Cell index of axial (q, r), or -1 when outside the array. The centre is
 * (0, 0). */
int lux_builders_index(const lux_builders_t *self, int q, int r);

/* Hex distance from the centre of cell `index`. */
int lux_builders_distance(const lux_builders_t *self, int index);

/* Index of the neighbour of `index` in direction dir (0..5). */
int lux_builders_neighbor(const lux_builders_t *self, int index, int dir);

/* Number of cells in the array (including the Border ring). */
int lux_builders_num_cells(const lux_builders_t *self);

lux_cell_t lux_builders_get(const lux_builders_t *self, int index);

/* Sets a cell inside the hexagon (not to Agent; use place_agent). Returns 0
 * or LUX_EINVAL (outside the hexagon, Border, Agent, or the cell holds an
 * agent). */
int lux_builders_set(lux_builders_t *self, int index, lux_cell_t cell);

/* Fills every cell of the hexagon with `cell` (Air, Wall or Food) and removes
 * all agents; the turn goes back to agent 0, tick 0. */
void lux_builders_clear(lux_builders_t *self, lux_cell_t cell);

/* Puts agent `agent` (0..num_agents-1) on cell `index` with `heading` and no
 * exhaustion; the cell's previous content is lost. Returns 0 or LUX_EINVAL
 * (outside the hexagon, or another agent is there). An agent not yet placed
 * is skipped by the turn order. */
int lux_builders_place_agent(lux_builders_t *self, int agent, int index, int heading);

const lux_builders_agent_t *lux_builders_agent(const lux_builders_t *self, int agent);

/* ASCII hex drawing: '.' Air, '#' Wall, '*' Food, agents as 0-9 then A-Z
 * ('@' beyond), one row per line, followed by one line per agent (position,
 * heading, exhaustion), the tick and the score. Like snprintf. */
size_t lux_builders_render(const lux_builders_t *self, char *buf, size_t size);

#endif
