/* Faulty: y = u; fails on purpose (see model.json) to exercise the orchestrator */
#include "model.h"

static void outputs(Model *m) { V(y) = m->time >= V(nan_at) ? NAN : V(u); }

static const char *check_step(const Model *m, double t_end) {
    return t_end > V(fail_at) ? "the step passes fail_at (Faulty fails on purpose)" : NULL;
}

const ModelFunctions MODEL = {.outputs = outputs, .check_step = check_step};
