/* RackDetailed: the Rack spatially resolved into N horizontal slices, bottom (air inlet) to top.
 *
 * Internal states: W(i) air node i, W(N + i) server (IT equipment) node i, i = 0 ... N-1.
 *   (C_air/N) der(Ta_i) = m_flow cp (Ta_{i-1} - Ta_i) + (G_cpu/N)(Ts_i - Ta_i)
 *                         + G_AX_AIR (Ta_{i-1} - 2 Ta_i + Ta_{i+1})        Ta_{-1} = T_supply
 *   (C_cpu/N) der(Ts_i) = P_it/N - (G_cpu/N)(Ts_i - Ta_i)
 *                         + G_AX_IT (Ts_{i-1} - 2 Ts_i + Ts_{i+1})
 * (the conduction terms only between existing neighbours: no conduction through the ends).
 * T_out is the top air node, T_cpu the hottest server node.  Thermal protection as in Rack,
 * driven by T_cpu (the hottest node): every slice dissipates f*P_it/N. */
#include "model.h"

#define N (NW / 2)        /* slices */
#define G_AX_AIR 5.0      /* W/K: turbulent mixing between neighbouring air slices */
#define G_AX_IT 5.0       /* W/K: conduction between neighbouring slices of equipment */
#define COURANT 0.2       /* internal step: air moves at most this fraction of a slice */

static const char *initialize(Model *m) {
    if (!(V(C_cpu) > 0 && V(C_air) > 0)) return "the heat capacities C_cpu and C_air must be > 0";
    if (!(V(T_trip) > V(T_throttle))) return "T_trip must be above T_throttle";
    if (!(V(throttle_min) >= 0 && V(throttle_min) <= 1)) return "throttle_min must be in [0, 1]";
    for (int i = 0; i < NW; i++) W(i) = V(T0);
    V(tripped) = false;
    return NULL;
}

static double hottest(const Model *m) {
    double t = W(N);
    for (int i = 1; i < N; i++) t = fmax(t, W(N + i));
    return t;
}

/* the same law as Rack's: 1 up to T_throttle, linear to throttle_min at T_trip, 0 tripped */
static double throttle(const Model *m, double t_cpu) {
    if (V(tripped)) return 0.0;
    if (t_cpu <= V(T_throttle)) return 1.0;
    const double x = (t_cpu - V(T_throttle)) / (V(T_trip) - V(T_throttle));
    return fmax(1.0 - (1.0 - V(throttle_min)) * x, V(throttle_min));
}

static void outputs(Model *m) {
    V(T_out) = W(N - 1);
    V(T_cpu) = hottest(m);
    V(throttle) = throttle(m, V(T_cpu));
    V(trip_margin) = V(T_cpu) - V(T_trip);
}

static bool event(Model *m) {
    if (!V(tripped) && hottest(m) >= V(T_trip)) V(tripped) = true;
    return false;
}

/* neighbour conduction into node i of the chain starting at `first` */
static double axial(const Model *m, int first, int i, double g) {
    const double t = W(first + i);
    return g * ((i > 0 ? W(first + i - 1) - t : 0.0) + (i < N - 1 ? W(first + i + 1) - t : 0.0));
}

static void derivatives(const Model *m, double dx[]) {
    const double c_air = V(C_air) / N, c_it = V(C_cpu) / N, g = V(G_cpu) / N;
    const double p = throttle(m, hottest(m)) * V(P_it) / N;
    const double flow = fmax(0.0, V(m_flow)) * V(cp); /* W/K carried upwards */
    for (int i = 0; i < N; i++) {
        const double ta = W(i), ts = W(N + i);
        const double upstream = i > 0 ? W(i - 1) : V(T_supply);
        const double q = g * (ts - ta); /* equipment -> air */
        DERW(i) = (flow * (upstream - ta) + q + axial(m, 0, i, G_AX_AIR)) / c_air;
        DERW(N + i) = (p - q + axial(m, N, i, G_AX_IT)) / c_it;
    }
}

/* accuracy and stability of the explicit scheme at high air flow */
static double max_step(const Model *m) {
    const double flow = fmax(0.0, V(m_flow)) * V(cp);
    return COURANT * (V(C_air) / N) / (flow + V(G_cpu) / N + 2.0 * G_AX_AIR);
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives, .event = event, .max_step = max_step};
