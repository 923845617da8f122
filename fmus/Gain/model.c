/* Gain: y = k*u + b */
#include "model.h"

static void outputs(Model *m) { V(y) = V(k) * V(u) + V(b); }

const ModelFunctions MODEL = {.outputs = outputs};
