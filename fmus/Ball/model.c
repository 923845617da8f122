/* Ball: der(h) = v, der(v) = -g; bounce when h crosses 0 downwards */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(v_min) > 0)) return "v_min must be > 0 (otherwise the bounces accumulate: Zeno)";
    if (!(V(e) >= 0 && V(e) <= 1)) return "the coefficient of restitution e must be in [0, 1]";
    if (!(V(h0) >= 0)) return "the initial height h0 must be >= 0";
    V(h) = V(h0);
    V(v) = V(v0);
    V(bounces) = 0;
    return NULL;
}

/* lying on the floor without speed: no more free fall */
static bool at_rest(const Model *m) { return V(h) <= 0 && V(v) == 0; }

static void derivatives(const Model *m, double dx[]) {
    DER(h) = V(v);
    DER(v) = at_rest(m) ? 0 : -V(g);
}

static bool event(Model *m) {
    if (!(V(h) <= 0 && V(v) < 0)) return false;
    V(h) = 0;
    V(v) = -V(e) * V(v);
    V(bounces) += 1;
    if (V(v) < V(v_min)) V(v) = 0; /* too slow to take off again: at rest */
    return true;
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives, .event = event};
