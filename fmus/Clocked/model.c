/* Clocked: y = sin(t); at every tick of the periodic clock 'sample' (k * interval) the clocked
 * outputs take y_sampled = y and ticks += 1.  The ticks are time events: handled inside doStep
 * without event mode, announced through nextEventTime with event mode. */
#include "model.h"

static void outputs(Model *m) { V(y) = sin(m->time); }

static double next_time_event(const Model *m) { return V(ticks) * VARS[VR_sample].interval; }

static bool event(Model *m) {
    while (time_reached(m->time, next_time_event(m))) {
        V(ticks) += 1;
        V(y_sampled) = sin(m->time);
    }
    V(sample) = false; /* the clock is inactive again once its partition has run */
    return false;
}

const ModelFunctions MODEL = {.outputs = outputs, .next_time_event = next_time_event,
                              .event = event};
