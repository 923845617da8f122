/* Decay: der(x) = -k*x + u */
#include "model.h"

static const char *initialize(Model *m) {
    V(x) = V(x0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) {
    DER(x) = -V(k) * V(x) + V(u);
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives};
