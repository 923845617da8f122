/* Spring: F = k*(x2 - x1) + c*(v2 - v1), the force on mass 1 */
#include "model.h"

static void outputs(Model *m) {
    V(F) = V(k) * (V(x2) - V(x1)) + V(c) * (V(v2) - V(v1));
}

const ModelFunctions MODEL = {.outputs = outputs};
