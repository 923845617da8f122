/* VanDerPol: der(x1) = x2, der(x2) = mu*(1 - x1^2)*x2 - x1 (the classic, stiff form) */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(mu) >= 0)) return "mu must be >= 0";
    V(x1) = V(x1_0);
    V(x2) = V(x2_0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) {
    DER(x1) = V(x2);
    DER(x2) = V(mu) * (1.0 - V(x1) * V(x1)) * V(x2) - V(x1);
}

/* Co-simulation: explicit RK4 is stable for h*|lambda| < 2.78; keep h*||J||_inf <= 0.5,
 * J = [[0, 1], [-2 mu x1 x2 - 1, mu (1 - x1^2)]] (tiny steps for large mu: slow, but sound) */
static double max_step(const Model *m) {
    const double row2 = fabs(-2.0 * V(mu) * V(x1) * V(x2) - 1.0) + fabs(V(mu) * (1.0 - V(x1) * V(x1)));
    return 0.5 / fmax(1.0, row2);
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives,
                              .max_step = max_step};
