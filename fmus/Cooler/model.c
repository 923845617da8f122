/* Cooler: first-order supply temperature, fan affinity law, cooling power via COP */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(tau) > 0)) return "the time constant tau must be > 0";
    if (!(V(COP) > 0)) return "COP must be > 0";
    V(T_supply) = V(T0);
    return NULL;
}

static void outputs(Model *m) {
    const double fan = fmin(fmax(V(fan), 0.0), 1.0);
    V(m_flow) = fan * V(m_flow_nominal);
    const double q_cool = V(failed) ? 0.0 : fmax(0.0, V(m_flow) * V(cp) * (V(T_return) - V(T_supply)));
    V(P_el) = V(P_fan_nominal) * fan * fan * fan + q_cool / V(COP);
}

static void derivatives(const Model *m, double dx[]) {
    const double target = V(failed) ? V(T_return) : V(T_setpoint);
    DER(T_supply) = (target - V(T_supply)) / V(tau);
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives};
