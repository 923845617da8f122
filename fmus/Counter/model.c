/* Counter: count += 1 at the time events t_first + k*period; y = count + 0.25*t */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(period) > 0)) return "the period must be > 0";
    V(count) = 0;
    return NULL;
}

static void outputs(Model *m) { V(y) = V(count) + 0.25 * m->time; }

/* the next increment is due at t_first + count*period (count events have happened) */
static double next_time_event(const Model *m) { return V(t_first) + V(count) * V(period); }

static bool event(Model *m) {
    while (time_reached(m->time, next_time_event(m))) V(count) += 1;
    return false;
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .next_time_event = next_time_event, .event = event};
