/* Minimal: der(x) = -k*x; the binary omits the optional FMI functions (see model.json) */
#include "model.h"

static const char *initialize(Model *m) {
    V(x) = V(x0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) { DER(x) = -V(k) * V(x); }

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives};
