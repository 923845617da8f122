/* model.h -- the interface between the FMI glue (core.c, fmi2.c, fmi3.c) and one model.
 *
 * Every variable of a model is stored as a double in Model.v[], indexed by its value
 * reference; value reference 0 is the independent variable `time`.  Integers and Booleans
 * are stored as doubles too (exact for Int32 and 0/1).
 *
 * fmus/build.py generates "model_config.h" from <Model>/model.json.  It defines
 *   MODEL_NAME, INSTANTIATION_TOKEN, MODEL_EXCHANGE (0/1), H_MAX, EVENT_TOL,
 *   NV (variables), NX (continuous states), NZ (event indicators),
 *   VR_<name>   value reference of every variable,
 *   IX_<name>   index of every continuous state in the state vector,
 *   VARS[NV]    name, type, causality, variability and start value of every variable,
 *   STATE_VR[], DER_VR[] (derivative variables, ME models only), INDICATOR_VR[].
 *
 * A model (<Model>/model.c) includes this header and defines `const ModelFunctions MODEL`.
 * Every hook is optional (NULL):
 *   initialize   at the end of initialization (and for queries during it): set the states
 *                and discrete variables from the parameters; return NULL or an error text
 *   outputs      compute the algebraic outputs / locals from states, inputs and parameters
 *   derivatives  write der(state) into dx[] (use DER(name)); must not modify the model
 *   event        apply the discrete change at the current point (e.g. a bounce) if its
 *                condition holds; return true if a continuous state changed
 *   check_step   before a co-simulation step to t_end: return NULL or an error text
 * The event indicators are the values of the variables listed in INDICATOR_VR (evaluated
 * after `outputs`), so what the model description names is what the solver sees.
 */
#ifndef COSIM_MODEL_H
#define COSIM_MODEL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { T_REAL, T_INTEGER, T_BOOLEAN } VarType;
typedef enum { C_INDEPENDENT, C_PARAMETER, C_INPUT, C_OUTPUT, C_LOCAL } Causality;
typedef enum { V_FIXED, V_TUNABLE, V_DISCRETE, V_CONTINUOUS } Variability;

typedef struct {
    const char *name;
    VarType type;
    Causality causality;
    Variability variability;
    double start;
} VarInfo;

#include "model_config.h"

#define NX_ARR (NX > 0 ? NX : 1)
#define NZ_ARR (NZ > 0 ? NZ : 1)

/* Everything that makes up the FMU state: copied by get/set FMU state. */
typedef struct {
    double time;
    double v[NV];
    bool dirty;         /* outputs must be recomputed before the next read */
    bool event_pending; /* FMI 3 CS early return: located event not yet handled */
} Model;

/* V(k) is the variable k of the model instance `m` in scope; DER(x) is der(x) in dx[]. */
#define V(name) (m->v[VR_##name])
#define DER(name) (dx[IX_##name])

typedef struct {
    const char *(*initialize)(Model *m);
    void (*outputs)(Model *m);
    void (*derivatives)(const Model *m, double dx[]);
    bool (*event)(Model *m);
    const char *(*check_step)(const Model *m, double t_end);
} ModelFunctions;

extern const ModelFunctions MODEL;

#endif
