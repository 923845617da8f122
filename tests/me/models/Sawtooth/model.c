/* Sawtooth (a test model): der(x) = rate; x := 0 and count += 1 at t = k*period */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(period) > 0)) return "the period must be > 0";
    V(x) = 0;
    V(count) = 0;
    return NULL;
}

static void derivatives(const Model *m, double dx[]) { DER(x) = V(rate); }

static double next_time_event(const Model *m) { return V(period) * (V(count) + 1); }

static bool event(Model *m) {
    bool reset = false;
    while (time_reached(m->time, next_time_event(m))) {
        V(count) += 1;
        V(x) = 0;
        reset = true;
    }
    if (V(stop_after) > 0 && V(count) >= V(stop_after)) m->terminate = true;
    return reset;
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives,
                              .next_time_event = next_time_event, .event = event};
