/* model.h -- the interface between the FMI glue (core.c, fmi2.c, fmi3.c) and one model.
 *
 * Every variable of a model is a field of the struct `Vars`, stored in its own C type
 * (double, float, int8_t ... uint64_t, bool, char[] for String, bytes + length for Binary,
 * int64_t for Enumeration, bool for Clock); arrays are C arrays sized for their largest
 * extent.  Value reference 0 is the independent variable `time`.
 *
 * fmus/build.py generates "model_config.h" from <Model>/model.json.  It defines
 *   MODEL_NAME, INSTANTIATION_TOKEN, MODEL_EXCHANGE (0/1), H_MAX, EVENT_TOL,
 *   CS_EVENT_MODE, CS_EARLY_RETURN (the FMI 3 capability flags hasEventMode and
 *   mightReturnEarlyFromDoStep), OMIT_FMU_STATE, OMIT_DERIVATIVES (0/1: functions left out
 *   of the binary), NV (value references), NX (continuous-state vector, declared states),
 *   NW (internal states), NZ (event indicators), N_STATE_VARS, N_STRUCTURAL,
 *   N_TUNABLE_STRUCTURAL,
 *   VR_<name>   value reference of every variable,
 *   IX_<name>   offset of every continuous state in the state vector,
 *   Vars        the variables, START its start values,
 *   VARS[NV]    name, type, causality, variability, storage and shape of every variable,
 *   STATE_VR[], DER_VR[] (derivative variables, ME models only), INDICATOR_VR[].
 *
 * A model (<Model>/model.c) includes this header and defines `const ModelFunctions MODEL`.
 * Every hook is optional (NULL):
 *   initialize       set the states and discrete variables from the parameters, at the end
 *                    of initialization and for queries during it; NULL or an error text
 *   exit_initialization  only in ExitInitializationMode, after initialize (values that a
 *                    model computes only when initialization ends); NULL or an error text
 *   outputs          compute the algebraic outputs / locals from states, inputs, parameters
 *   derivatives      write der(state) into dx[] (zero-filled before the call): DER(name),
 *                    DERA(name) for state arrays, DERW(i) for internal states; must not
 *                    modify the model
 *   event            apply the discrete change at the current instant (initial event, time
 *                    event, state event) if its condition holds; return true if a
 *                    continuous state changed; may set m->terminate to end the simulation
 *   next_time_event  time of the next time event (>= m->time if one is due now), or
 *                    INFINITY; the glue lands on it exactly and calls `event` there
 *   terminate_at     time at which the model asks to end the simulation (co-simulation),
 *                    or INFINITY: doStep stops there and requests termination
 *   check_step       before a co-simulation step to t_end: NULL or an error text (Error)
 *   discard_step     before a co-simulation step to t_end: NULL or the reason to reject the
 *                    step unchanged (Discard: "retry with a smaller step")
 *   max_step         the largest stable internal step for the current state (<= H_MAX used)
 *   configure        when leaving (Re)Configuration Mode: check the structural parameters;
 *                    NULL or an error text
 * The event indicators are the values of the variables listed in INDICATOR_VR (evaluated
 * after `outputs`), so what the model description names is what the solver sees.
 */
#ifndef COSIM_MODEL_H
#define COSIM_MODEL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    T_FLOAT32, T_FLOAT64, T_INT8, T_UINT8, T_INT16, T_UINT16, T_INT32, T_UINT32, T_INT64,
    T_UINT64, T_BOOLEAN, T_STRING, T_BINARY, T_ENUMERATION, T_CLOCK
} VarType;
typedef enum { C_INDEPENDENT, C_STRUCTURAL, C_PARAMETER, C_INPUT, C_OUTPUT, C_LOCAL } Causality;
typedef enum { V_FIXED, V_TUNABLE, V_DISCRETE, V_CONTINUOUS } Variability;

#define MAX_DIMS 4

typedef struct {
    const char *name;
    VarType type;
    Causality causality;
    Variability variability;
    bool fmi2;              /* part of the FMI 2 model description */
    size_t offset;          /* of the value (first element) in Vars */
    size_t size_offset;     /* Binary: of its length (size_t) in Vars */
    size_t capacity;        /* elements (arrays: at the largest extents); String/Binary: bytes */
    int ndims;              /* 0: scalar */
    long dim_size[MAX_DIMS];/* fixed extent, or -1 ... */
    int dim_vr[MAX_DIMS];   /* ... the structural parameter giving it */
    double min, max;        /* structural parameters: allowed values */
    const int64_t *items;   /* Enumeration: the item values */
    size_t n_items;
    double interval;        /* Clock: constant interval [s] (0: none) */
} VarInfo;

#define TIME_RTOL 1e-9 /* two instants closer than TIME_RTOL * max(1, |t|) are the same */

#include "model_config.h"

#define NX_ARR (NX + NW > 0 ? NX + NW : 1)
#define NZ_ARR (NZ > 0 ? NZ : 1)

/* Everything that makes up the FMU state: copied by get/set FMU state (no pointers). */
typedef struct {
    double time;
    Vars v;
    double w[NW > 0 ? NW : 1]; /* internal states, integrated after the declared states */
    bool dirty;                /* outputs must be recomputed before the next read */
    bool event_pending;        /* FMI 3 CS early return: located state event not yet handled */
    bool terminate;            /* the model asks to end the simulation (set by a hook) */
} Model;

/* V(k) is the variable k of the model instance `m` in scope (an array for array variables),
 * VSIZE(k) the length of a Binary, W(i) the internal state i; DER(x) is der(x) in dx[],
 * DERA(x) points to der(x[0]) for a state array, DERW(i) is der(w[i]). */
#define V(name) (m->v.name)
#define VSIZE(name) (m->v.name##__size)
#define W(i) (m->w[i])
#define DER(name) (dx[IX_##name])
#define DERA(name) (dx + IX_##name)
#define DERW(i) (dx[NX + (i)])

static inline double time_tol(double t) { return TIME_RTOL * fmax(1.0, fabs(t)); }

/* true once the model's time has reached t_event (within the time tolerance) */
static inline bool time_reached(double time, double t_event) {
    return time >= t_event - time_tol(t_event);
}

typedef struct {
    const char *(*initialize)(Model *m);
    const char *(*exit_initialization)(Model *m);
    void (*outputs)(Model *m);
    void (*derivatives)(const Model *m, double dx[]);
    bool (*event)(Model *m);
    double (*next_time_event)(const Model *m);
    double (*terminate_at)(const Model *m);
    const char *(*check_step)(const Model *m, double t_end);
    const char *(*discard_step)(const Model *m, double t_end);
    double (*max_step)(const Model *m);
    const char *(*configure)(Model *m);
} ModelFunctions;

extern const ModelFunctions MODEL;

#endif
