/*
 * FIFO: Ray's FIFOScheduler. Every result gets CONTINUE; the next trial to
 * run is the first pending one, else the first paused one (the front end's
 * default rule). It keeps no state beyond the shared trial table.
 */
#define LUX_SCHEDULER_INTERNAL
#include "scheduler.h"

const lux_sched_ops_t lux_sched_fifo_ops = {0};
