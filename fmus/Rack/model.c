/* Rack: two thermal masses, IT equipment (T_cpu) and rack air (T_air, output as T_out) */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(C_cpu) > 0 && V(C_air) > 0)) return "the heat capacities C_cpu and C_air must be > 0";
    V(T_cpu) = V(T0);
    V(T_out) = V(T0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) {
    const double q_cpu = V(G_cpu) * (V(T_cpu) - V(T_out));             /* IT -> air [W] */
    const double q_air = V(m_flow) * V(cp) * (V(T_out) - V(T_supply)); /* carried out [W] */
    DER(T_cpu) = (V(P_it) - q_cpu) / V(C_cpu);
    DER(T_out) = (q_cpu - q_air) / V(C_air);
}

const ModelFunctions MODEL = {.initialize = initialize, .derivatives = derivatives};
