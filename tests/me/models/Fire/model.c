/* Fire (a test model): der(x) = u; x := 0 and count += 1 when x crosses 1 upwards */
#include "model.h"

static const char *initialize(Model *m) {
    V(x) = 0;
    V(count) = 0;
    return NULL;
}

static void outputs(Model *m) { V(z) = V(x) - 1.0; }

static void derivatives(const Model *m, double dx[]) { DER(x) = V(u); }

static bool event(Model *m) {
    if (V(x) < 1.0) return false;
    V(x) = 0;
    V(count) += 1;
    return true;
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives, .event = event};
