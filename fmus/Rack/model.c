/* Rack: two thermal masses, IT equipment (T_cpu) and rack air (T_air, output as T_out), with
 * thermal protection: the dissipated power f*P_it is derated above T_throttle and cut to 0
 * (latched) once T_cpu reaches T_trip. */
#include "model.h"

static const char *initialize(Model *m) {
    if (!(V(C_cpu) > 0 && V(C_air) > 0)) return "the heat capacities C_cpu and C_air must be > 0";
    if (!(V(T_trip) > V(T_throttle))) return "T_trip must be above T_throttle";
    if (!(V(throttle_min) >= 0 && V(throttle_min) <= 1)) return "throttle_min must be in [0, 1]";
    V(T_cpu) = V(T0);
    V(T_out) = V(T0);
    V(tripped) = false;
    return NULL;
}

/* fraction of P_it dissipated: 1 up to T_throttle, linear to throttle_min at T_trip, 0 tripped */
static double throttle(const Model *m) {
    if (V(tripped)) return 0.0;
    if (V(T_cpu) <= V(T_throttle)) return 1.0;
    const double x = (V(T_cpu) - V(T_throttle)) / (V(T_trip) - V(T_throttle));
    return fmax(1.0 - (1.0 - V(throttle_min)) * x, V(throttle_min));
}

static void outputs(Model *m) {
    V(throttle) = throttle(m);
    V(trip_margin) = V(T_cpu) - V(T_trip);
}

static void derivatives(const Model *m, double dx[]) {
    const double q_cpu = V(G_cpu) * (V(T_cpu) - V(T_out));             /* IT -> air [W] */
    const double q_air = V(m_flow) * V(cp) * (V(T_out) - V(T_supply)); /* carried out [W] */
    DER(T_cpu) = (throttle(m) * V(P_it) - q_cpu) / V(C_cpu);
    DER(T_out) = (q_cpu - q_air) / V(C_air);
}

/* the trip: T_cpu reached T_trip (located by the event indicator trip_margin) */
static bool event(Model *m) {
    if (!V(tripped) && V(T_cpu) >= V(T_trip)) V(tripped) = true;
    return false;
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives, .event = event};
