/* Labeled: Decay (der(x) = -k*x + u) with a String output naming the model, for importers'
 * handling of string ports on model-exchange FMUs */
#include <stdio.h>

#include "model.h"

static const char *initialize(Model *m) {
    V(x) = V(x0);
    snprintf(V(label), sizeof V(label), "decay k=%g", V(k));
    return NULL;
}

static void derivatives(const Model *m, double dx[]) {
    DER(x) = -V(k) * V(x) + V(u);
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives};
