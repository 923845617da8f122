/* Stopper: x = t; asks to end the simulation at t_stop; rejects steps longer than max_step */
#include "model.h"

static void outputs(Model *m) { V(x) = m->time; }

/* via_event = false: doStep lands on t_stop and requests termination there */
static double terminate_at(const Model *m) { return V(via_event) ? INFINITY : V(t_stop); }

/* via_event = true: a time event at t_stop whose event update requests termination */
static double next_time_event(const Model *m) {
    return V(via_event) && !m->terminate ? V(t_stop) : INFINITY;
}

static bool event(Model *m) {
    if (V(via_event) && time_reached(m->time, V(t_stop))) m->terminate = true;
    return false;
}

static const char *discard_step(const Model *m, double t_end) {
    if (V(max_step) > 0 && t_end - m->time > V(max_step) * (1 + 1e-12))
        return "the step is longer than the parameter max_step";
    return NULL;
}

const ModelFunctions MODEL = {.outputs = outputs, .terminate_at = terminate_at,
                              .next_time_event = next_time_event, .event = event,
                              .discard_step = discard_step};
