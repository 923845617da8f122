/* Oscillator: m*der(v) = F - k*x - c*v, der(x) = v */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(m) > 0)) return "the mass m must be > 0";
    V(x) = V(x0);
    V(v) = V(v0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) {
    DER(x) = V(v);
    DER(v) = (V(F) - V(k) * V(x) - V(c) * V(v)) / V(m);
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives};
