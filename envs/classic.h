/*
 * Gymnasium's classic-control environments: CartPole, Acrobot, MountainCar,
 * MountainCarContinuous and Pendulum (docs/envs.md; Gymnasium's gymnasium/envs/classic_control).
 *
 * Internal to envs/: env.c dispatches to these and the tests call them. The
 * step functions are static inline so that env.c's dispatch compiles to a
 * switch with the physics inlined (CartPole's step is a few dozen flops, so a
 * call through a function pointer would cost a noticeable share of it). Each
 * step function takes a validated action, advances the state, writes the
 * float32 observation (obs may be NULL) and the reward, and returns the
 * terminated flag. Arithmetic follows Gymnasium's order of operations in
 * float64, so that our trajectories agree with Gymnasium's to rounding.
 */
#ifndef LUX_ENVS_CLASSIC_H
#define LUX_ENVS_CLASSIC_H

#include <math.h>

#include "env_rng.h"

/* ---- CartPole-v0/v1 ---------------------------------------------------- */

#define LUX_CARTPOLE_GRAVITY         9.8
#define LUX_CARTPOLE_MASSCART        1.0
#define LUX_CARTPOLE_MASSPOLE        0.1
#define LUX_CARTPOLE_TOTAL_MASS      (LUX_CARTPOLE_MASSPOLE + LUX_CARTPOLE_MASSCART)
#define LUX_CARTPOLE_LENGTH          0.5
#define LUX_CARTPOLE_POLEMASS_L      (LUX_CARTPOLE_MASSPOLE * LUX_CARTPOLE_LENGTH)
#define LUX_CARTPOLE_FORCE_MAG       10.0
#define LUX_CARTPOLE_TAU             0.02
#define LUX_CARTPOLE_X_THRESHOLD     2.4
#define LUX_CARTPOLE_THETA_THRESHOLD (12 * 2 * M_PI / 360)

typedef struct {
    double x, x_dot, theta, theta_dot;
    int sutton_barto_reward; /* 0 per step, -1 on termination */
} lux_cartpole_t;

static inline void lux_cartpole_obs(const lux_cartpole_t *s, float *obs)
{
    if (obs != NULL) {
        obs[0] = (float)s->x;
        obs[1] = (float)s->x_dot;
        obs[2] = (float)s->theta;
        obs[3] = (float)s->theta_dot;
    }
}

static inline void lux_cartpole_reset(lux_cartpole_t *s, lux_env_rng_t *rng)
{
    s->x = lux_env_rng_uniform(rng, -0.05, 0.05);
    s->x_dot = lux_env_rng_uniform(rng, -0.05, 0.05);
    s->theta = lux_env_rng_uniform(rng, -0.05, 0.05);
    s->theta_dot = lux_env_rng_uniform(rng, -0.05, 0.05);
}

/* Explicit Euler: positions advance with the old velocities. */
static inline int lux_cartpole_step(lux_cartpole_t *s, int action, float *obs, double *reward)
{
    double force = action == 1 ? LUX_CARTPOLE_FORCE_MAG : -LUX_CARTPOLE_FORCE_MAG;
    double costheta = cos(s->theta), sintheta = sin(s->theta);
    double temp = (force + LUX_CARTPOLE_POLEMASS_L * (s->theta_dot * s->theta_dot) * sintheta) /
                  LUX_CARTPOLE_TOTAL_MASS;
    double thetaacc =
        (LUX_CARTPOLE_GRAVITY * sintheta - costheta * temp) /
        (LUX_CARTPOLE_LENGTH *
         (4.0 / 3.0 - LUX_CARTPOLE_MASSPOLE * (costheta * costheta) / LUX_CARTPOLE_TOTAL_MASS));
    double xacc = temp - LUX_CARTPOLE_POLEMASS_L * thetaacc * costheta / LUX_CARTPOLE_TOTAL_MASS;
    s->x = s->x + LUX_CARTPOLE_TAU * s->x_dot;
    s->x_dot = s->x_dot + LUX_CARTPOLE_TAU * xacc;
    s->theta = s->theta + LUX_CARTPOLE_TAU * s->theta_dot;
    s->theta_dot = s->theta_dot + LUX_CARTPOLE_TAU * thetaacc;
    int terminated = s->x < -LUX_CARTPOLE_X_THRESHOLD || s->x > LUX_CARTPOLE_X_THRESHOLD ||
                     s->theta < -LUX_CARTPOLE_THETA_THRESHOLD ||
                     s->theta > LUX_CARTPOLE_THETA_THRESHOLD;
    if (s->sutton_barto_reward)
        *reward = terminated ? -1.0 : 0.0;
    else
        *reward = 1.0;
    lux_cartpole_obs(s, obs);
    return terminated;
}

/* ---- Acrobot-v1 -------------------------------------------------------- */

#define LUX_ACROBOT_DT        0.2
#define LUX_ACROBOT_L1        1.0
#define LUX_ACROBOT_M1        1.0
#define LUX_ACROBOT_M2        1.0
#define LUX_ACROBOT_LC1       0.5
#define LUX_ACROBOT_LC2       0.5
#define LUX_ACROBOT_I1        1.0
#define LUX_ACROBOT_I2        1.0
#define LUX_ACROBOT_G         9.8
#define LUX_ACROBOT_MAX_VEL_1 (4 * M_PI)
#define LUX_ACROBOT_MAX_VEL_2 (9 * M_PI)

typedef struct {
    double theta1, theta2, dtheta1, dtheta2;
} lux_acrobot_t;

static inline void lux_acrobot_obs(const lux_acrobot_t *s, float *obs)
{
    if (obs != NULL) {
        obs[0] = (float)cos(s->theta1);
        obs[1] = (float)sin(s->theta1);
        obs[2] = (float)cos(s->theta2);
        obs[3] = (float)sin(s->theta2);
        obs[4] = (float)s->dtheta1;
        obs[5] = (float)s->dtheta2;
    }
}

/* Gymnasium draws the initial state in float64 and stores it as float32. */
static inline void lux_acrobot_reset(lux_acrobot_t *s, lux_env_rng_t *rng)
{
    s->theta1 = (float)lux_env_rng_uniform(rng, -0.1, 0.1);
    s->theta2 = (float)lux_env_rng_uniform(rng, -0.1, 0.1);
    s->dtheta1 = (float)lux_env_rng_uniform(rng, -0.1, 0.1);
    s->dtheta2 = (float)lux_env_rng_uniform(rng, -0.1, 0.1);
}

/* The "book" dynamics: d/dt of (theta1, theta2, dtheta1, dtheta2) under
 * torque a. */
static inline void lux_acrobot_dsdt(const double y[4], double a, double dy[4])
{
    const double m1 = LUX_ACROBOT_M1, m2 = LUX_ACROBOT_M2, l1 = LUX_ACROBOT_L1;
    const double lc1 = LUX_ACROBOT_LC1, lc2 = LUX_ACROBOT_LC2, I1 = LUX_ACROBOT_I1;
    const double I2 = LUX_ACROBOT_I2, g = LUX_ACROBOT_G;
    double theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
    double cos2 = cos(theta2), sin2 = sin(theta2);
    double d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + I1 + I2;
    double d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + I2;
    double phi2 = m2 * lc2 * g * cos(theta1 + theta2 - M_PI / 2.0);
    double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin2 -
                  2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 +
                  (m1 * lc1 + m2 * l1) * g * cos(theta1 - M_PI / 2) + phi2;
    double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin2 - phi2) /
                      (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    dy[0] = dtheta1;
    dy[1] = dtheta2;
    dy[2] = ddtheta1;
    dy[3] = ddtheta2;
}

/* Gymnasium's wrap(): shifts x by whole periods into [m, M]. */
static inline double lux_acrobot_wrap(double x, double m, double M)
{
    double diff = M - m;
    while (x > M)
        x = x - diff;
    while (x < m)
        x = x + diff;
    return x;
}

static inline double lux_acrobot_bound(double x, double m, double M)
{
    return x < m ? m : (x > M ? M : x);
}

static inline int lux_acrobot_terminal(const lux_acrobot_t *s)
{
    return -cos(s->theta1) - cos(s->theta2 + s->theta1) > 1.0;
}

/* One classic RK4 step over [0, dt] with the torque held fixed; then wrap
 * the angles into [-pi, pi] and clip the velocities. Reward -1, or 0 on the
 * terminal step. */
static inline int lux_acrobot_step(lux_acrobot_t *s, int action, float *obs, double *reward)
{
    double torque = (double)(action - 1);
    double y0[4] = {s->theta1, s->theta2, s->dtheta1, s->dtheta2};
    double k1[4], k2[4], k3[4], k4[4], y[4];
    const double dt = LUX_ACROBOT_DT, dt2 = LUX_ACROBOT_DT / 2.0;
    lux_acrobot_dsdt(y0, torque, k1);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k1[i];
    lux_acrobot_dsdt(y, torque, k2);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k2[i];
    lux_acrobot_dsdt(y, torque, k3);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt * k3[i];
    lux_acrobot_dsdt(y, torque, k4);
    double ns[4];
    for (int i = 0; i < 4; i++)
        ns[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    s->theta1 = lux_acrobot_wrap(ns[0], -M_PI, M_PI);
    s->theta2 = lux_acrobot_wrap(ns[1], -M_PI, M_PI);
    s->dtheta1 = lux_acrobot_bound(ns[2], -LUX_ACROBOT_MAX_VEL_1, LUX_ACROBOT_MAX_VEL_1);
    s->dtheta2 = lux_acrobot_bound(ns[3], -LUX_ACROBOT_MAX_VEL_2, LUX_ACROBOT_MAX_VEL_2);
    int terminated = lux_acrobot_terminal(s);
    *reward = terminated ? 0.0 : -1.0;
    lux_acrobot_obs(s, obs);
    return terminated;
}

/* ---- MountainCar-v0 and MountainCarContinuous-v0 ------------------------ */

#define LUX_MCAR_MIN_POSITION   (-1.2)
#define LUX_MCAR_MAX_POSITION   0.6
#define LUX_MCAR_MAX_SPEED      0.07
#define LUX_MCAR_GOAL_POSITION  0.5
#define LUX_MCAR_FORCE          0.001
#define LUX_MCAR_GRAVITY        0.0025
#define LUX_MCARC_GOAL_POSITION 0.45
#define LUX_MCARC_POWER         0.0015

typedef struct {
    double position, velocity;
    double goal_velocity; /* option, default 0 */
} lux_mcar_t;

static inline void lux_mcar_obs(const lux_mcar_t *s, float *obs)
{
    if (obs != NULL) {
        obs[0] = (float)s->position;
        obs[1] = (float)s->velocity;
    }
}

static inline void lux_mcar_reset(lux_mcar_t *s, lux_env_rng_t *rng)
{
    s->position = lux_env_rng_uniform(rng, -0.6, -0.4);
    s->velocity = 0.0;
}

/* The second half of both cars' semi-implicit Euler step, once the new
 * velocity is known: clip it to the speed limit, move, clip the position to
 * the track and stop at the inelastic left wall. */
static inline void lux_mcar_move(double *position, double *velocity)
{
    double v = *velocity;
    v = v < -LUX_MCAR_MAX_SPEED ? -LUX_MCAR_MAX_SPEED
                                : (v > LUX_MCAR_MAX_SPEED ? LUX_MCAR_MAX_SPEED : v);
    double p = *position + v;
    p = p < LUX_MCAR_MIN_POSITION ? LUX_MCAR_MIN_POSITION
                                  : (p > LUX_MCAR_MAX_POSITION ? LUX_MCAR_MAX_POSITION : p);
    if (p == LUX_MCAR_MIN_POSITION && v < 0)
        v = 0;
    *position = p;
    *velocity = v;
}

/* Semi-implicit Euler with an inelastic left wall. Reward -1 on every step. */
static inline int lux_mcar_step(lux_mcar_t *s, int action, float *obs, double *reward)
{
    double position = s->position, velocity = s->velocity;
    velocity += (action - 1) * LUX_MCAR_FORCE + cos(3 * position) * (-LUX_MCAR_GRAVITY);
    lux_mcar_move(&position, &velocity);
    s->position = position;
    s->velocity = velocity;
    *reward = -1.0;
    lux_mcar_obs(s, obs);
    return position >= LUX_MCAR_GOAL_POSITION && velocity >= s->goal_velocity;
}

/* The continuous version keeps its state in float32: reset and every step
 * round it (the arithmetic in between is float64). */
static inline void lux_mcarc_reset(lux_mcar_t *s, lux_env_rng_t *rng)
{
    s->position = (float)lux_env_rng_uniform(rng, -0.6, -0.4);
    s->velocity = 0.0;
}

/* Reward 100 on reaching the goal, minus 0.1 * a^2 of the unclipped action. */
static inline int lux_mcarc_step(lux_mcar_t *s, double action, float *obs, double *reward)
{
    double position = s->position, velocity = s->velocity;
    double force = action < -1.0 ? -1.0 : (action > 1.0 ? 1.0 : action);
    velocity += force * LUX_MCARC_POWER - 0.0025 * cos(3 * position);
    lux_mcar_move(&position, &velocity);
    int terminated = position >= LUX_MCARC_GOAL_POSITION && velocity >= s->goal_velocity;
    *reward = (terminated ? 100.0 : 0.0) - action * action * 0.1;
    s->position = (float)position;
    s->velocity = (float)velocity;
    lux_mcar_obs(s, obs);
    return terminated;
}

/* ---- Pendulum-v1 ------------------------------------------------------- */

#define LUX_PENDULUM_MAX_SPEED  8.0
#define LUX_PENDULUM_MAX_TORQUE 2.0
#define LUX_PENDULUM_DT         0.05
#define LUX_PENDULUM_M          1.0
#define LUX_PENDULUM_L          1.0

typedef struct {
    double theta, theta_dot;
    double g; /* option, default 10 */
} lux_pendulum_t;

static inline void lux_pendulum_obs(const lux_pendulum_t *s, float *obs)
{
    if (obs != NULL) {
        obs[0] = (float)cos(s->theta);
        obs[1] = (float)sin(s->theta);
        obs[2] = (float)s->theta_dot;
    }
}

static inline void lux_pendulum_reset(lux_pendulum_t *s, lux_env_rng_t *rng)
{
    s->theta = lux_env_rng_uniform(rng, -M_PI, M_PI);
    s->theta_dot = lux_env_rng_uniform(rng, -1.0, 1.0);
}

/* ((x + pi) mod 2 pi) - pi with Python's modulo (result of the divisor's
 * sign). */
static inline double lux_pendulum_angle_normalize(double x)
{
    double m = fmod(x + M_PI, 2 * M_PI);
    if (m < 0)
        m += 2 * M_PI;
    return m - M_PI;
}

/* Semi-implicit Euler; the cost is computed on the pre-step state. Never
 * terminates. */
static inline int lux_pendulum_step(lux_pendulum_t *s, double action, float *obs, double *reward)
{
    const double g = s->g, m = LUX_PENDULUM_M, l = LUX_PENDULUM_L, dt = LUX_PENDULUM_DT;
    double u = action < -LUX_PENDULUM_MAX_TORQUE
                   ? -LUX_PENDULUM_MAX_TORQUE
                   : (action > LUX_PENDULUM_MAX_TORQUE ? LUX_PENDULUM_MAX_TORQUE : action);
    double th = s->theta, thdot = s->theta_dot;
    double an = lux_pendulum_angle_normalize(th);
    double costs = an * an + 0.1 * (thdot * thdot) + 0.001 * (u * u);
    double newthdot = thdot + (3 * g / (2 * l) * sin(th) + 3.0 / (m * (l * l)) * u) * dt;
    newthdot = newthdot < -LUX_PENDULUM_MAX_SPEED
                   ? -LUX_PENDULUM_MAX_SPEED
                   : (newthdot > LUX_PENDULUM_MAX_SPEED ? LUX_PENDULUM_MAX_SPEED : newthdot);
    s->theta = th + newthdot * dt;
    s->theta_dot = newthdot;
    *reward = -costs;
    lux_pendulum_obs(s, obs);
    return 0;
}

#endif
