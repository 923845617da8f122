/* core.h -- FMI-version independent part of the glue: modes, variable access, the
 * co-simulation integrator with state-event location, model-exchange access and FMU state.
 * fmi2.c and fmi3.c are thin adaptors over these functions. */
#ifndef COSIM_CORE_H
#define COSIM_CORE_H

#include "model.h"

/* numerically identical to fmi2Status / fmi3Status */
typedef enum { ST_OK = 0, ST_WARNING = 1, ST_DISCARD = 2, ST_ERROR = 3, ST_FATAL = 4 } Status;

typedef enum {
    MODE_INSTANTIATED = 1 << 0,
    MODE_INIT = 1 << 1,
    MODE_EVENT = 1 << 2,
    MODE_CONT = 1 << 3,   /* model exchange: continuous-time mode */
    MODE_STEP = 1 << 4,   /* co-simulation: step mode */
    MODE_TERMINATED = 1 << 5,
    MODE_ERROR = 1 << 6,
} Mode;
#define MODE_ANY 0x7f

typedef struct Instance Instance;
typedef void (*LogFn)(Instance *inst, Status status, const char *category, const char *message);

struct Instance {
    Model m;
    Mode mode;
    bool is_cs;                /* co-simulation (else model exchange) */
    bool event_mode_used;      /* FMI 3 co-simulation */
    bool early_return_allowed; /* FMI 3 co-simulation */
    bool logging_on;
    char *name;
    LogFn log;                 /* adaptor to the FMI 2 / FMI 3 logger callback */
};

/* setup after calloc; returns false (after logging) if out of memory */
bool core_setup(Instance *inst, const char *name, bool is_cs, bool logging_on, LogFn log);
void core_cleanup(Instance *inst);
void core_reset(Instance *inst);

void core_log(Instance *inst, Status status, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
Status core_error(Instance *inst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool core_allowed(Instance *inst, const char *fn, int modes);
bool core_check_token(const char *token, const char *fn, Instance *inst);

/* variable access: check one value reference for a read / write of the given type */
bool core_can_get(Instance *inst, const char *fn, unsigned vr, VarType type);
bool core_can_set(Instance *inst, const char *fn, unsigned vr, VarType type);
void core_update(Instance *inst); /* recompute outputs (and derivative variables) if dirty */
Status core_check_count(Instance *inst, const char *fn, size_t n, size_t expected, const char *what);

Status core_wrong_type(Instance *inst, const char *fn, const unsigned vr[], size_t n,
                       const char *type); /* for types the models never use (String, ...) */

/* life cycle and mode switches */
Status core_enter_init(Instance *inst, const char *fn, double start_time);
Status core_exit_init(Instance *inst, const char *fn);
Status core_terminate(Instance *inst, const char *fn);
Status core_enter_event_mode(Instance *inst, const char *fn); /* ME: from Continuous-Time Mode;
                                                                 CS: from Step Mode, event mode used */
Status core_enter_cont_mode(Instance *inst, const char *fn);  /* ME: from Event Mode */
Status core_enter_step_mode(Instance *inst, const char *fn);  /* CS: from Event Mode */

/* co-simulation */
Status core_do_step(Instance *inst, const char *fn, double t, double dt, bool *event_needed,
                    bool *early_return, double *last_time);

/* events: apply the model's discrete update; *changed: continuous states changed */
Status core_update_discrete(Instance *inst, const char *fn, bool *changed);

/* model exchange */
Status core_set_time(Instance *inst, const char *fn, double t);
Status core_set_states(Instance *inst, const char *fn, const double x[], size_t n);
Status core_get_states(Instance *inst, const char *fn, double x[], size_t n);
Status core_get_derivatives(Instance *inst, const char *fn, double dx[], size_t n);
Status core_get_indicators(Instance *inst, const char *fn, double z[], size_t n);
Status core_get_nominals(Instance *inst, const char *fn, double x[], size_t n);

/* FMU state (a heap copy of Model) and its serialization */
Status core_get_fmu_state(Instance *inst, const char *fn, void **state);
Status core_set_fmu_state(Instance *inst, const char *fn, const void *state);
Status core_free_fmu_state(Instance *inst, const char *fn, void **state);
size_t core_serialized_size(void);
Status core_serialize(Instance *inst, const char *fn, const void *state, unsigned char *buf,
                      size_t size);
Status core_deserialize(Instance *inst, const char *fn, const unsigned char *buf, size_t size,
                        void **state);

#endif
