/*
 * The builders world: generation, agent placement, the ten actions with
 * pull and exhaustion, the turn order, the score and the ASCII drawing. See
 * builders.h for the geometry and docs/envs.md (builders) for the rules.
 *
 * Two choices the rules leave open, made here and documented in
 * docs/envs.md: an action's cost applies whether or not its move succeeded
 * (a blocked Back still tires the agent), and the cellular automaton's two
 * wall rules use two separate draws (0.05 for any wall neighbour, then 0.1
 * for exactly one), so a cell with exactly one wall neighbour turns to Wall
 * with probability 0.05 + 0.95 * 0.1.
 */
#include "builders.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

struct lux_builders {
    lux_builders_config_t cfg;
    long ticks;     /* episode length in ticks, 0: none */
    int side;       /* 2 * (radius + 1) + 1 */
    int centre;     /* index of (0, 0) */
    int ncells;     /* side * side */
    int offset[6];  /* index offset per direction */
    uint8_t *cells; /* lux_cell_t per index */
    uint8_t *next;  /* scratch for the synchronous automaton */
    int16_t *dist;  /* hex distance from the centre; radius + 1 or more is Border */
    int *inside;    /* indices of the hexagon's cells, in scan order */
    int ninside;
    lux_builders_agent_t agents[LUX_BUILDERS_MAX_AGENTS];
    int current; /* whose turn it is */
    long tick;   /* completed ticks */
    int over;
};

/* Axial direction vectors, clockwise from east. */
static const int dir_q[6] = {1, 0, -1, -1, 0, 1};
static const int dir_r[6] = {0, 1, 1, 0, -1, -1};

/* Observation order relative to the heading: Forward, Left, Right,
 * LeftBack, RightBack, Back (Right = +1, i.e. 60 degrees clockwise). */
static const int obs_rel[6] = {0, 5, 1, 4, 2, 3};

/* Per action: the destination relative to the heading (-1: no move), the
 * heading change, whether it pulls, and whether it is Back-type. */
static const int act_dest[10] = {0, 5, 1, 3, 4, 2, 3, 4, 2, -1};
static const int act_turn[10] = {0, 5, 1, 0, 1, 5, 0, 1, 5, 3};
static const int act_pull[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 0};
static const int act_back[10] = {0, 0, 0, 1, 1, 1, 0, 0, 0, 0};

void lux_builders_config_default(lux_builders_config_t *cfg)
{
#define LUX_BUILDERS_CONFIG_DEFAULT(type, name, def, min, max, help) cfg->name = (def);
    LUX_BUILDERS_CONFIG_MAP(LUX_BUILDERS_CONFIG_DEFAULT)
#undef LUX_BUILDERS_CONFIG_DEFAULT
}

static int config_valid(const lux_builders_config_t *cfg)
{
#define LUX_BUILDERS_CONFIG_CHECK(type, name, def, min, max, help)                                 \
    if (!(cfg->name >= (min) && cfg->name <= (max)))                                               \
        return 0;
    LUX_BUILDERS_CONFIG_MAP(LUX_BUILDERS_CONFIG_CHECK)
#undef LUX_BUILDERS_CONFIG_CHECK
    long cells = 3L * cfg->radius * (cfg->radius + 1) + 1;
    return cfg->num_agents <= cells;
}

lux_builders_t *lux_builders_new(const lux_builders_config_t *cfg, long ticks)
{
    if (cfg == NULL || !config_valid(cfg) || ticks < 0)
        return NULL;
    lux_builders_t *self = lux_calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->cfg = *cfg;
    self->ticks = ticks;
    int R = cfg->radius + 1;
    self->side = 2 * R + 1;
    self->ncells = self->side * self->side;
    self->centre = R * self->side + R;
    for (int d = 0; d < 6; d++)
        self->offset[d] = dir_r[d] * self->side + dir_q[d];
    self->cells = lux_malloc((size_t)self->ncells);
    self->next = lux_malloc((size_t)self->ncells);
    self->dist = lux_malloc((size_t)self->ncells * sizeof *self->dist);
    self->inside = lux_malloc((size_t)self->ncells * sizeof *self->inside);
    if (self->cells == NULL || self->next == NULL || self->dist == NULL || self->inside == NULL) {
        lux_builders_destroy(&self);
        return NULL;
    }
    for (int r = -R; r <= R; r++)
        for (int q = -R; q <= R; q++) {
            int i = (r + R) * self->side + (q + R);
            int s = -q - r;
            int d = (abs(q) + abs(r) + abs(s)) / 2;
            self->dist[i] = (int16_t)(d > R ? R : d);
            if (d <= cfg->radius)
                self->inside[self->ninside++] = i;
        }
    lux_builders_clear(self, LUX_CELL_AIR);
    return self;
}

void lux_builders_destroy(lux_builders_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_builders_t *self = *self_p;
    lux_free(self->cells);
    lux_free(self->next);
    lux_free(self->dist);
    lux_free(self->inside);
    lux_free(self);
    *self_p = NULL;
}

const lux_builders_config_t *lux_builders_config(const lux_builders_t *self)
{
    return &self->cfg;
}

int lux_builders_index(const lux_builders_t *self, int q, int r)
{
    int R = self->cfg.radius + 1;
    if (q < -R || q > R || r < -R || r > R)
        return -1;
    return (r + R) * self->side + (q + R);
}

int lux_builders_distance(const lux_builders_t *self, int index)
{
    return self->dist[index];
}

int lux_builders_neighbor(const lux_builders_t *self, int index, int dir)
{
    return index + self->offset[dir];
}

int lux_builders_num_cells(const lux_builders_t *self)
{
    return self->ncells;
}

lux_cell_t lux_builders_get(const lux_builders_t *self, int index)
{
    return (lux_cell_t)self->cells[index];
}

static int inside(const lux_builders_t *self, int index)
{
    return index >= 0 && index < self->ncells && self->dist[index] <= self->cfg.radius;
}

int lux_builders_set(lux_builders_t *self, int index, lux_cell_t cell)
{
    if (!inside(self, index) || cell == LUX_CELL_BORDER || cell == LUX_CELL_AGENT ||
        cell > LUX_CELL_AGENT || self->cells[index] == LUX_CELL_AGENT)
        return LUX_EINVAL;
    self->cells[index] = (uint8_t)cell;
    return 0;
}

static void remove_agents(lux_builders_t *self)
{
    for (int a = 0; a < LUX_BUILDERS_MAX_AGENTS; a++) {
        self->agents[a].pos = -1;
        self->agents[a].heading = 0;
        self->agents[a].exhaustion = 0;
    }
    self->current = 0;
    self->tick = 0;
    self->over = 0;
}

void lux_builders_clear(lux_builders_t *self, lux_cell_t cell)
{
    memset(self->cells, LUX_CELL_BORDER, (size_t)self->ncells);
    for (int k = 0; k < self->ninside; k++)
        self->cells[self->inside[k]] = (uint8_t)cell;
    remove_agents(self);
}

int lux_builders_place_agent(lux_builders_t *self, int agent, int index, int heading)
{
    if (agent < 0 || agent >= self->cfg.num_agents || !inside(self, index) || heading < 0 ||
        heading > 5)
        return LUX_EINVAL;
    for (int a = 0; a < self->cfg.num_agents; a++)
        if (a != agent && self->agents[a].pos == index)
            return LUX_EINVAL;
    if (self->agents[agent].pos >= 0)
        self->cells[self->agents[agent].pos] = LUX_CELL_AIR;
    self->agents[agent].pos = index;
    self->agents[agent].heading = heading;
    self->agents[agent].exhaustion = 0;
    self->cells[index] = LUX_CELL_AGENT;
    return 0;
}

const lux_builders_agent_t *lux_builders_agent(const lux_builders_t *self, int agent)
{
    return &self->agents[agent];
}

/* ---- generation ---- */

static void automaton_step(lux_builders_t *self, lux_env_rng_t *rng)
{
    const lux_builders_config_t *cfg = &self->cfg;
    memcpy(self->next, self->cells, (size_t)self->ncells);
    for (int k = 0; k < self->ninside; k++) {
        int i = self->inside[k];
        uint8_t c = self->cells[i];
        if (c != LUX_CELL_AIR && c != LUX_CELL_FOOD)
            continue;
        int food = 0, walls = 0;
        for (int d = 0; d < 6; d++) {
            uint8_t n = self->cells[i + self->offset[d]];
            food += n == LUX_CELL_FOOD;
            walls += n == LUX_CELL_WALL;
        }
        if (c == LUX_CELL_FOOD) {
            if (food > 0)
                self->next[i] = LUX_CELL_AIR;
        } else if (walls >= 1) {
            if (lux_env_rng_bernoulli(rng, cfg->ca_wall_prob))
                self->next[i] = LUX_CELL_WALL;
            else if (walls == 1 && lux_env_rng_bernoulli(rng, cfg->ca_wall_single_prob))
                self->next[i] = LUX_CELL_WALL;
        }
    }
    uint8_t *t = self->cells;
    self->cells = self->next;
    self->next = t;
}

void lux_builders_generate(lux_builders_t *self, lux_env_rng_t *rng)
{
    const lux_builders_config_t *cfg = &self->cfg;
    lux_builders_clear(self, LUX_CELL_AIR);
    for (int k = 0; k < self->ninside; k++) {
        int i = self->inside[k];
        int c = self->dist[i];
        double wall_p =
            c < cfg->wall_free_radius
                ? 0.0
                : (c % cfg->wall_ring_period == 0 ? cfg->wall_ring_prob : cfg->wall_prob);
        if (wall_p > 0 && lux_env_rng_bernoulli(rng, wall_p))
            self->cells[i] = LUX_CELL_WALL;
        else if (c > cfg->food_min_distance && lux_env_rng_bernoulli(rng, cfg->food_prob))
            self->cells[i] = LUX_CELL_FOOD;
    }
    for (int s = 0; s < cfg->ca_steps; s++)
        automaton_step(self, rng);
}

/* The placement walk of docs/envs.md (builders): from the centre, step in a random
 * direction (a step towards Border is not taken and judges nothing); on
 * reaching an Air cell stop there with probability 1 - reject, else reject
 * *= decay; on any other cell reject = decay * reject + (1 - decay). It ends
 * with probability 1 when an Air cell is reachable; after a million steps
 * (only possible in a world nearly without Air) the agent takes the first
 * Air cell in scan order, or failing that the first cell without an agent. */
static int placement_walk(lux_builders_t *self, lux_env_rng_t *rng)
{
    double decay = self->cfg.place_reject_decay;
    double reject = 1.0;
    int pos = self->centre;
    for (long step = 0; step < 1000000; step++) {
        int next = pos + self->offset[lux_env_rng_below(rng, 6)];
        uint8_t c = self->cells[next];
        if (c == LUX_CELL_BORDER)
            continue;
        pos = next;
        if (c == LUX_CELL_AIR) {
            if (!(lux_rng_uniform(rng) < reject))
                return pos;
            reject *= decay;
        } else {
            reject = decay * reject + (1 - decay);
        }
    }
    for (int k = 0; k < self->ninside; k++)
        if (self->cells[self->inside[k]] == LUX_CELL_AIR)
            return self->inside[k];
    for (int k = 0; k < self->ninside; k++)
        if (self->cells[self->inside[k]] != LUX_CELL_AGENT)
            return self->inside[k];
    return self->centre; /* unreachable: num_agents <= cells was checked */
}

void lux_builders_reset(lux_builders_t *self, lux_env_rng_t *rng)
{
    lux_builders_generate(self, rng);
    lux_builders_place_agents(self, rng);
}

void lux_builders_place_agents(lux_builders_t *self, lux_env_rng_t *rng)
{
    for (int a = 0; a < self->cfg.num_agents; a++) {
        int pos = placement_walk(self, rng);
        int heading = (int)lux_env_rng_below(rng, 6);
        lux_builders_place_agent(self, a, pos, heading);
    }
}

/* ---- observation, actions, turns ---- */

void lux_builders_observe(const lux_builders_t *self, int agent, float *obs)
{
    const lux_builders_agent_t *ag = &self->agents[agent];
    if (ag->pos < 0) {
        memset(obs, 0, LUX_BUILDERS_OBS * sizeof *obs);
        return;
    }
    for (int k = 0; k < 6; k++) {
        uint8_t c = self->cells[ag->pos + self->offset[(ag->heading + obs_rel[k]) % 6]];
        obs[k] = c == LUX_CELL_AIR;
        obs[6 + k] = c == LUX_CELL_FOOD;
        obs[12 + k] = c == LUX_CELL_WALL;
        obs[18 + k] = c == LUX_CELL_AGENT;
    }
}

/* Applies `action` for agent `a`; returns the number of turns it skips. */
static int act(lux_builders_t *self, int a, int action)
{
    lux_builders_agent_t *ag = &self->agents[a];
    const lux_builders_config_t *cfg = &self->cfg;
    int h = ag->heading;
    int cost = act_pull[action] ? cfg->cost_pull : (act_back[action] ? cfg->cost_back : 0);
    ag->heading = (h + act_turn[action]) % 6;
    if (act_dest[action] < 0)
        return cost;
    int old = ag->pos;
    int dest = old + self->offset[(h + act_dest[action]) % 6];
    int front = old + self->offset[h];
    uint8_t d = self->cells[dest], f = self->cells[front];
    if (act_pull[action] && d == LUX_CELL_AIR &&
        (f == LUX_CELL_WALL || f == LUX_CELL_FOOD || f == LUX_CELL_AIR)) {
        self->cells[dest] = LUX_CELL_AGENT;
        self->cells[old] = f;
        self->cells[front] = LUX_CELL_AIR;
        ag->pos = dest;
        if (f == LUX_CELL_WALL)
            cost += cfg->cost_wall;
    } else if (d == LUX_CELL_AIR || d == LUX_CELL_FOOD) {
        self->cells[old] = d;
        self->cells[dest] = LUX_CELL_AGENT;
        ag->pos = dest;
    }
    return cost;
}

/* Moves the turn to the next agent that may act, consuming the turns of
 * exhausted (and unplaced) agents. */
static void advance(lux_builders_t *self)
{
    int n = self->cfg.num_agents;
    for (long guard = 0;; guard++) {
        if (++self->current == n) {
            self->current = 0;
            self->tick++;
            if (self->ticks > 0 && self->tick >= self->ticks) {
                self->over = 1;
                return;
            }
        }
        lux_builders_agent_t *ag = &self->agents[self->current];
        if (ag->pos < 0) {
            if (guard > n) /* nobody is placed: stop anywhere */
                return;
            continue;
        }
        if (ag->exhaustion == 0)
            return;
        ag->exhaustion--;
    }
}

int lux_builders_step(lux_builders_t *self, int action)
{
    if (self->over)
        return 1;
    lux_builders_agent_t *ag = &self->agents[self->current];
    if (ag->pos >= 0)
        ag->exhaustion = act(self, self->current, action);
    advance(self);
    return self->over;
}

int lux_builders_current(const lux_builders_t *self)
{
    return self->current;
}

long lux_builders_tick(const lux_builders_t *self)
{
    return self->tick;
}

int lux_builders_over(const lux_builders_t *self)
{
    return self->over;
}

double lux_builders_score(const lux_builders_t *self)
{
    const lux_builders_config_t *cfg = &self->cfg;
    long score = 0;
    for (int k = 0; k < self->ninside; k++) {
        int i = self->inside[k];
        if (self->cells[i] != LUX_CELL_FOOD)
            continue;
        int food = 0, walls = 0;
        for (int d = 0; d < 6; d++) {
            uint8_t n = self->cells[i + self->offset[d]];
            food += n == LUX_CELL_FOOD;
            walls += n == LUX_CELL_WALL || n == LUX_CELL_BORDER;
        }
        long g = (long)food * food;
        long cap = walls == 0 ? cfg->score_cap0
                              : (walls == 1 ? cfg->score_cap1 : (walls == 2 ? cfg->score_cap2 : g));
        score += g < cap ? g : cap;
    }
    return (double)score;
}

/* ---- drawing ---- */

typedef struct {
    char *buf;
    size_t size, len;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = t->len < t->size ? t->buf + t->len : NULL;
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static char agent_char(int a)
{
    if (a < 10)
        return (char)('0' + a);
    if (a < 36)
        return (char)('A' + a - 10);
    return '@';
}

size_t lux_builders_render(const lux_builders_t *self, char *buf, size_t size)
{
    static const char *const heading_names[6] = {"E", "SE", "SW", "W", "NW", "NE"};
    text_t t = {buf, size, 0};
    if (buf != NULL && size > 0)
        buf[0] = '\0';
    int rad = self->cfg.radius;
    for (int r = -rad; r <= rad; r++) {
        int qmin = r < 0 ? -rad - r : -rad, qmax = r > 0 ? rad - r : rad;
        put(&t, "%*s", abs(r), "");
        for (int q = qmin; q <= qmax; q++) {
            int i = lux_builders_index(self, q, r);
            char ch = '?';
            switch ((lux_cell_t)self->cells[i]) {
            case LUX_CELL_BORDER:
                ch = ' ';
                break;
            case LUX_CELL_AIR:
                ch = '.';
                break;
            case LUX_CELL_WALL:
                ch = '#';
                break;
            case LUX_CELL_FOOD:
                ch = '*';
                break;
            case LUX_CELL_AGENT:
                for (int a = 0; a < self->cfg.num_agents; a++)
                    if (self->agents[a].pos == i)
                        ch = agent_char(a);
                break;
            }
            put(&t, q < qmax ? "%c " : "%c", ch);
        }
        put(&t, "\n");
    }
    for (int a = 0; a < self->cfg.num_agents; a++) {
        const lux_builders_agent_t *ag = &self->agents[a];
        if (ag->pos < 0) {
            put(&t, "agent %c: not placed\n", agent_char(a));
            continue;
        }
        int q = ag->pos % self->side - (rad + 1), r = ag->pos / self->side - (rad + 1);
        put(&t, "agent %c: q=%d r=%d heading=%s exhaustion=%d%s\n", agent_char(a), q, r,
            heading_names[ag->heading], ag->exhaustion, a == self->current ? " (to act)" : "");
    }
    put(&t, "tick %ld%s, score %.0f\n", self->tick, self->over ? " (over)" : "",
        lux_builders_score(self));
    return t.len;
}
