/* Silent: der(x) = -k*x and e = x^2/2, all local: the FMU has no outputs */
#include "model.h"

static const char *initialize(Model *m) {
    V(x) = V(x0);
    return NULL;
}

static void outputs(Model *m) { V(e) = 0.5 * V(x) * V(x); }

static void derivatives(const Model *m, double dx[]) { DER(x) = -V(k) * V(x); }

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives};
