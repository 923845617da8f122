/* core.h -- FMI-version independent part of the glue: modes, typed variable access, the
 * co-simulation integrator with time and state events, termination requests, model-exchange
 * access, configuration mode and FMU state.  fmi2.c and fmi3.c are thin adaptors over it. */
#ifndef COSIM_CORE_H
#define COSIM_CORE_H

#include "model.h"

/* numerically identical to fmi2Status / fmi3Status */
typedef enum { ST_OK = 0, ST_WARNING = 1, ST_DISCARD = 2, ST_ERROR = 3, ST_FATAL = 4 } Status;

typedef enum {
    MODE_INSTANTIATED = 1 << 0,
    MODE_INIT = 1 << 1,
    MODE_EVENT = 1 << 2,
    MODE_CONT = 1 << 3,     /* model exchange: continuous-time mode */
    MODE_STEP = 1 << 4,     /* co-simulation: step mode */
    MODE_TERMINATED = 1 << 5,
    MODE_ERROR = 1 << 6,
    MODE_CONFIG = 1 << 7,   /* FMI 3 Configuration Mode (from Instantiated) */
    MODE_RECONFIG = 1 << 8, /* FMI 3 Reconfiguration Mode (from Step or Event Mode) */
} Mode;
#define MODE_ANY 0x1ff

/* the C types of the values an FMI get/set function passes */
typedef enum {
    API_FLOAT32, API_FLOAT64, API_INT8, API_UINT8, API_INT16, API_UINT16, API_INT32,
    API_UINT32, API_INT64, API_UINT64, API_BOOL3, API_STRING, API_BINARY, API_CLOCK,
    API_BOOL2, /* fmi2Boolean (int) */
    API_INT2,  /* fmi2Integer: Integer and Enumeration variables */
} ApiType;

typedef struct Instance Instance;
typedef void (*LogFn)(Instance *inst, Status status, const char *category, const char *message);

struct Instance {
    Model m;
    Mode mode;
    Mode mode_before_config;   /* where Exit(Re)ConfigurationMode returns to */
    int fmi_version;           /* 2 or 3 */
    bool is_cs;                /* co-simulation (else model exchange) */
    bool event_mode_used;      /* FMI 3 co-simulation, and the FMU has event mode */
    bool early_return_allowed; /* FMI 3 co-simulation, and the FMU may return early */
    bool terminate_reported;   /* the importer has been told that the FMU wants to stop */
    bool logging_on;
    size_t config_counts[NV];  /* array sizes when (Re)Configuration Mode was entered */
    char *name;
    LogFn log;                 /* adaptor to the FMI 2 / FMI 3 logger callback */
};

/* what a co-simulation step did */
typedef struct {
    bool event_needed; /* stopped at an event the importer must handle in Event Mode */
    bool early_return; /* returned before t + dt */
    bool terminate;    /* the FMU asks to end the simulation at last_time */
    double last_time;  /* the FMU's time when the step returned */
} StepResult;

/* what an event update did */
typedef struct {
    bool states_changed, terminate, next_defined;
    double next_time;
} EventResult;

/* setup after calloc; returns false (after logging) if out of memory */
bool core_setup(Instance *inst, const char *name, int fmi_version, bool is_cs, bool logging_on,
                LogFn log);
void core_cleanup(Instance *inst);
void core_reset(Instance *inst);

void core_log(Instance *inst, Status status, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
Status core_error(Instance *inst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool core_allowed(Instance *inst, const char *fn, int modes);
bool core_check_token(const char *token, const char *fn, Instance *inst);
Status core_check_count(Instance *inst, const char *fn, size_t n, size_t expected, const char *what);
double core_time_tol(double t);

/* variable access: n_values is the total element count (arrays flattened, row-major);
 * sizes[] is for Binary only (element lengths) */
Status core_get(Instance *inst, const char *fn, const unsigned vr[], size_t nvr, ApiType api,
                void *values, size_t n_values, size_t sizes[]);
Status core_set(Instance *inst, const char *fn, const unsigned vr[], size_t nvr, ApiType api,
                const void *values, size_t n_values, const size_t sizes[]);
size_t core_count(const Instance *inst, unsigned vr); /* current element count of a variable */
void core_update(Instance *inst); /* recompute outputs (and derivative variables) if dirty */
Status core_unknown_function(Instance *inst, const char *fn, const char *why);

/* life cycle and mode switches */
Status core_enter_init(Instance *inst, const char *fn, double start_time);
Status core_exit_init(Instance *inst, const char *fn);
Status core_terminate(Instance *inst, const char *fn);
Status core_enter_event_mode(Instance *inst, const char *fn); /* ME: from Continuous-Time Mode;
                                                                 CS: from Step Mode, event mode used */
Status core_enter_cont_mode(Instance *inst, const char *fn);  /* ME: from Event Mode */
Status core_enter_step_mode(Instance *inst, const char *fn);  /* CS: from Event Mode */
Status core_enter_config(Instance *inst, const char *fn);     /* FMI 3 (Re)Configuration Mode */
Status core_exit_config(Instance *inst, const char *fn);

/* co-simulation */
Status core_do_step(Instance *inst, const char *fn, double t, double dt, StepResult *r);

/* Event Mode: apply the model's discrete update, report the next time event */
Status core_update_discrete(Instance *inst, const char *fn, EventResult *r);

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
