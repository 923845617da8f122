/* Lazy: T is set from T0 only in ExitInitializationMode (0 before), then
 * tau*der(T) = T_amb - T.  This mimics FMUs exported by modelling tools, which evaluate their
 * initial equations when initialization ends: an importer must read outputs after
 * fmi2ExitInitializationMode / fmi3ExitInitializationMode, not during Initialization Mode. */
#include "model.h"

static const char *exit_initialization(Model *m) {
    if (!(V(tau) > 0)) return "the time constant tau must be > 0";
    V(T) = V(T0);
    return NULL;
}

static void derivatives(const Model *m, double dx[]) { DER(T) = (V(T_amb) - V(T)) / V(tau); }

const ModelFunctions MODEL = {.exit_initialization = exit_initialization,
                              .derivatives = derivatives};
