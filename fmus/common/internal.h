/* internal.h -- functions shared between the glue's own modules (not for fmi2.c / fmi3.c). */
#ifndef COSIM_INTERNAL_H
#define COSIM_INTERNAL_H

#include "core.h"

const char *core_mode_name(Mode mode);

/* address of the (first element of the) variable vr */
static inline void *var_ptr(Vars *v, unsigned vr) { return (char *)v + VARS[vr].offset; }
static inline const void *var_cptr(const Vars *v, unsigned vr) {
    return (const char *)v + VARS[vr].offset;
}

/* element count of variable vr for the structural parameter values in v */
size_t vars_count(const Vars *v, unsigned vr);

/* after (Re)Configuration Mode: arrays whose size changed get their start values (if the
 * start has the new size) or zeros */
void core_resize_arrays(Instance *inst);

/* apply the model's event hook at the current instant; true if a continuous state changed */
bool core_apply_event(Instance *inst);

/* recompute outputs, locals and derivative variables from the current state */
void core_evaluate(Model *m);

#endif
