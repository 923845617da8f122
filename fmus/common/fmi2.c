/* fmi2.c -- FMI 2.0 API (Co-Simulation and Model Exchange) over core.h.
 * Co-simulation always handles time and state events inside fmi2DoStep.  Variables of types
 * or shapes FMI 2 does not have (FMI 3 types, arrays, clocks, structural parameters) are not
 * part of the FMI 2 model description and unknown to these functions. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fmi2Functions.h"

typedef struct {
    Instance inst; /* first member: an fmi2Component points to both */
    fmi2CallbackFunctions cb;
} Instance2;

#define INST ((Instance *)c)

static void logger2(Instance *inst, Status status, const char *category, const char *message) {
    const Instance2 *w = (const Instance2 *)inst;
    if (!w->cb.logger) return;
    char buf[2100]; /* the FMI 2 logger treats the message as a printf format: escape '%' */
    size_t j = 0;
    for (const char *p = message; *p && j < sizeof buf - 2; p++) {
        if (*p == '%') buf[j++] = '%';
        buf[j++] = *p;
    }
    buf[j] = '\0';
    w->cb.logger(w->cb.componentEnvironment, inst->name, (fmi2Status)status, category, buf);
}

static fmi2Status unsupported(fmi2Component c, const char *fn, const char *why) {
    return (fmi2Status)core_error(INST, "%s: not supported (%s)", fn, why);
}

/* ---------------------------------------------------------------- common functions */

const char *fmi2GetTypesPlatform(void) { return fmi2TypesPlatform; }

const char *fmi2GetVersion(void) { return fmi2Version; }

fmi2Status fmi2SetDebugLogging(fmi2Component c, fmi2Boolean loggingOn, size_t nCategories,
                               const fmi2String categories[]) {
    if (!core_allowed(INST, "fmi2SetDebugLogging", MODE_ANY)) return fmi2Error;
    for (size_t i = 0; i < nCategories; i++) {
        const char *cat = categories ? categories[i] : NULL;
        if (!cat || (strcmp(cat, "logEvents") && strcmp(cat, "logStatusError") &&
                     strcmp(cat, "logStatusDiscard")))
            return (fmi2Status)core_error(INST, "fmi2SetDebugLogging: unknown log category '%s'",
                                          cat ? cat : "(null)");
    }
    INST->logging_on = loggingOn;
    return fmi2OK;
}

fmi2Component fmi2Instantiate(fmi2String instanceName, fmi2Type fmuType, fmi2String fmuGUID,
                              fmi2String fmuResourceLocation,
                              const fmi2CallbackFunctions *functions, fmi2Boolean visible,
                              fmi2Boolean loggingOn) {
    (void)fmuResourceLocation;
    (void)visible;
    Instance2 *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (functions) w->cb = *functions;
    if (!core_setup(&w->inst, instanceName, 2, fmuType == fmi2CoSimulation, loggingOn,
                    logger2)) {
        free(w);
        return NULL;
    }
    bool ok = core_check_token(fmuGUID, "fmi2Instantiate", &w->inst);
    if (ok && fmuType != fmi2CoSimulation && !(fmuType == fmi2ModelExchange && MODEL_EXCHANGE)) {
        core_error(&w->inst, "fmi2Instantiate: %s does not support %s", MODEL_NAME,
                   fmuType == fmi2ModelExchange ? "Model Exchange" : "this fmi2Type");
        ok = false;
    }
    if (!ok) {
        core_cleanup(&w->inst);
        free(w);
        return NULL;
    }
    return w;
}

void fmi2FreeInstance(fmi2Component c) {
    if (!c) return;
    core_cleanup(INST);
    free(c);
}

fmi2Status fmi2SetupExperiment(fmi2Component c, fmi2Boolean toleranceDefined,
                               fmi2Real tolerance, fmi2Real startTime,
                               fmi2Boolean stopTimeDefined, fmi2Real stopTime) {
    (void)toleranceDefined, (void)tolerance, (void)stopTimeDefined, (void)stopTime;
    if (!core_allowed(INST, "fmi2SetupExperiment", MODE_INSTANTIATED)) return fmi2Error;
    if (!isfinite(startTime))
        return (fmi2Status)core_error(INST, "fmi2SetupExperiment: start time is not finite");
    INST->m.time = startTime;
    return fmi2OK;
}

fmi2Status fmi2EnterInitializationMode(fmi2Component c) {
    return (fmi2Status)core_enter_init(INST, "fmi2EnterInitializationMode", c ? INST->m.time : 0);
}

fmi2Status fmi2ExitInitializationMode(fmi2Component c) {
    return (fmi2Status)core_exit_init(INST, "fmi2ExitInitializationMode");
}

fmi2Status fmi2Terminate(fmi2Component c) {
    return (fmi2Status)core_terminate(INST, "fmi2Terminate");
}

fmi2Status fmi2Reset(fmi2Component c) {
    if (!core_allowed(INST, "fmi2Reset", MODE_ANY)) return fmi2Error;
    core_reset(INST);
    return fmi2OK;
}

/* ---------------------------------------------------------------- get / set */

#define GET2(Name, CType, Api)                                                                   \
    fmi2Status fmi2Get##Name(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,         \
                             CType value[]) {                                                    \
        return (fmi2Status)core_get(INST, "fmi2Get" #Name, vr, nvr, Api, value, nvr, NULL);     \
    }                                                                                            \
    fmi2Status fmi2Set##Name(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,         \
                             const CType value[]) {                                              \
        return (fmi2Status)core_set(INST, "fmi2Set" #Name, vr, nvr, Api, value, nvr, NULL);     \
    }

GET2(Real, fmi2Real, API_FLOAT64)
GET2(Integer, fmi2Integer, API_INT2) /* Integer and Enumeration variables */
GET2(Boolean, fmi2Boolean, API_BOOL2)
GET2(String, fmi2String, API_STRING)

/* ---------------------------------------------------------------- FMU state */

#if !OMIT_FMU_STATE
fmi2Status fmi2GetFMUstate(fmi2Component c, fmi2FMUstate *FMUstate) {
    return (fmi2Status)core_get_fmu_state(INST, "fmi2GetFMUstate", FMUstate);
}

fmi2Status fmi2SetFMUstate(fmi2Component c, fmi2FMUstate FMUstate) {
    return (fmi2Status)core_set_fmu_state(INST, "fmi2SetFMUstate", FMUstate);
}

fmi2Status fmi2FreeFMUstate(fmi2Component c, fmi2FMUstate *FMUstate) {
    return (fmi2Status)core_free_fmu_state(INST, "fmi2FreeFMUstate", FMUstate);
}

fmi2Status fmi2SerializedFMUstateSize(fmi2Component c, fmi2FMUstate FMUstate, size_t *size) {
    (void)FMUstate;
    if (!core_allowed(INST, "fmi2SerializedFMUstateSize", MODE_ANY)) return fmi2Error;
    *size = core_serialized_size();
    return fmi2OK;
}

fmi2Status fmi2SerializeFMUstate(fmi2Component c, fmi2FMUstate FMUstate, fmi2Byte serialized[],
                                 size_t size) {
    return (fmi2Status)core_serialize(INST, "fmi2SerializeFMUstate", FMUstate,
                                      (unsigned char *)serialized, size);
}

fmi2Status fmi2DeSerializeFMUstate(fmi2Component c, const fmi2Byte serialized[], size_t size,
                                   fmi2FMUstate *FMUstate) {
    return (fmi2Status)core_deserialize(INST, "fmi2DeSerializeFMUstate",
                                        (const unsigned char *)serialized, size, FMUstate);
}
#endif

#if !OMIT_DERIVATIVES
fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference vUnknown_ref[],
                                        size_t nUnknown, const fmi2ValueReference vKnown_ref[],
                                        size_t nKnown, const fmi2Real dvKnown[],
                                        fmi2Real dvUnknown[]) {
    (void)vUnknown_ref, (void)nUnknown, (void)vKnown_ref, (void)nKnown, (void)dvKnown,
        (void)dvUnknown;
    return unsupported(c, "fmi2GetDirectionalDerivative", "providesDirectionalDerivative=false");
}
#endif

/* ---------------------------------------------------------------- model exchange */

fmi2Status fmi2EnterEventMode(fmi2Component c) {
    return (fmi2Status)core_enter_event_mode(INST, "fmi2EnterEventMode");
}

fmi2Status fmi2NewDiscreteStates(fmi2Component c, fmi2EventInfo *eventInfo) {
    EventResult r;
    const Status s = core_update_discrete(INST, "fmi2NewDiscreteStates", &r);
    if (s != ST_OK) return (fmi2Status)s;
    if (!eventInfo) return (fmi2Status)core_error(INST, "fmi2NewDiscreteStates: NULL eventInfo");
    eventInfo->newDiscreteStatesNeeded = fmi2False;
    eventInfo->terminateSimulation = r.terminate ? fmi2True : fmi2False;
    eventInfo->nominalsOfContinuousStatesChanged = fmi2False;
    eventInfo->valuesOfContinuousStatesChanged = r.states_changed ? fmi2True : fmi2False;
    eventInfo->nextEventTimeDefined = r.next_defined ? fmi2True : fmi2False;
    eventInfo->nextEventTime = r.next_time;
    return fmi2OK;
}

fmi2Status fmi2EnterContinuousTimeMode(fmi2Component c) {
    return (fmi2Status)core_enter_cont_mode(INST, "fmi2EnterContinuousTimeMode");
}

fmi2Status fmi2CompletedIntegratorStep(fmi2Component c, fmi2Boolean noSetFMUStatePriorToCurrentPoint,
                                       fmi2Boolean *enterEventMode,
                                       fmi2Boolean *terminateSimulation) {
    (void)noSetFMUStatePriorToCurrentPoint;
    if (!core_allowed(INST, "fmi2CompletedIntegratorStep", MODE_CONT)) return fmi2Error;
    if (enterEventMode) *enterEventMode = fmi2False;
    if (terminateSimulation) *terminateSimulation = fmi2False;
    return fmi2OK;
}

fmi2Status fmi2SetTime(fmi2Component c, fmi2Real time) {
    return (fmi2Status)core_set_time(INST, "fmi2SetTime", time);
}

fmi2Status fmi2SetContinuousStates(fmi2Component c, const fmi2Real x[], size_t nx) {
    return (fmi2Status)core_set_states(INST, "fmi2SetContinuousStates", x, nx);
}

fmi2Status fmi2GetDerivatives(fmi2Component c, fmi2Real derivatives[], size_t nx) {
    return (fmi2Status)core_get_derivatives(INST, "fmi2GetDerivatives", derivatives, nx);
}

fmi2Status fmi2GetEventIndicators(fmi2Component c, fmi2Real eventIndicators[], size_t ni) {
    return (fmi2Status)core_get_indicators(INST, "fmi2GetEventIndicators", eventIndicators, ni);
}

fmi2Status fmi2GetContinuousStates(fmi2Component c, fmi2Real x[], size_t nx) {
    return (fmi2Status)core_get_states(INST, "fmi2GetContinuousStates", x, nx);
}

fmi2Status fmi2GetNominalsOfContinuousStates(fmi2Component c, fmi2Real x_nominal[], size_t nx) {
    return (fmi2Status)core_get_nominals(INST, "fmi2GetNominalsOfContinuousStates", x_nominal,
                                         nx);
}

/* ---------------------------------------------------------------- co-simulation */

fmi2Status fmi2SetRealInputDerivatives(fmi2Component c, const fmi2ValueReference vr[],
                                       size_t nvr, const fmi2Integer order[],
                                       const fmi2Real value[]) {
    (void)vr, (void)nvr, (void)order, (void)value;
    return unsupported(c, "fmi2SetRealInputDerivatives", "canInterpolateInputs=false");
}

fmi2Status fmi2GetRealOutputDerivatives(fmi2Component c, const fmi2ValueReference vr[],
                                        size_t nvr, const fmi2Integer order[],
                                        fmi2Real value[]) {
    (void)vr, (void)nvr, (void)order, (void)value;
    return unsupported(c, "fmi2GetRealOutputDerivatives", "maxOutputDerivativeOrder=0");
}

/* A request to end the simulation (the model's terminate_at / event hook) is reported as
 * fmi2Discard with fmi2Terminated = fmi2True and fmi2LastSuccessfulTime = the time of the
 * request.  A step that ends exactly at that time computed its whole interval: it returns
 * fmi2OK, and the next fmi2DoStep returns the Discard (with no progress). */
fmi2Status fmi2DoStep(fmi2Component c, fmi2Real currentCommunicationPoint,
                      fmi2Real communicationStepSize, fmi2Boolean noSetFMUStatePriorToCurrentPoint) {
    (void)noSetFMUStatePriorToCurrentPoint;
    StepResult r;
    const double t_end = currentCommunicationPoint + communicationStepSize;
    const Status s = core_do_step(INST, "fmi2DoStep", currentCommunicationPoint,
                                  communicationStepSize, &r);
    if (s != ST_OK || !r.terminate || r.last_time >= t_end - core_time_tol(t_end))
        return (fmi2Status)s;
    INST->terminate_reported = true;
    core_log(INST, ST_DISCARD, "logStatusDiscard", "fmi2DoStep: %s asks to end the simulation at "
             "t=%.17g (fmi2Terminated = fmi2True, fmi2LastSuccessfulTime = %.17g)", MODEL_NAME,
             r.last_time, r.last_time);
    return fmi2Discard;
}

fmi2Status fmi2CancelStep(fmi2Component c) {
    return unsupported(c, "fmi2CancelStep", "canRunAsynchronuously=false");
}

/* "If a status is required which cannot be retrieved by the slave it returns fmi2Discard"
 * (FMI 2.0, 4.2.3): fmi2DoStepStatus and fmi2PendingStatus only exist for fmi2Pending, which
 * this FMU never returns; there is no Integer status. */
#define STATUS_MODES (MODE_STEP | MODE_TERMINATED | MODE_ERROR)

static fmi2Status no_status(fmi2Component c, const char *fn, fmi2StatusKind s) {
    if (!core_allowed(INST, fn, STATUS_MODES)) return fmi2Error;
    core_log(INST, ST_DISCARD, "logStatusDiscard", "%s: status kind %d is not available (only "
             "fmi2LastSuccessfulTime as Real and fmi2Terminated as Boolean)", fn, (int)s);
    return fmi2Discard;
}

fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind s, fmi2Status *value) {
    (void)value;
    return no_status(c, "fmi2GetStatus", s);
}

fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind s, fmi2Real *value) {
    if (s != fmi2LastSuccessfulTime) return no_status(c, "fmi2GetRealStatus", s);
    if (!core_allowed(INST, "fmi2GetRealStatus", STATUS_MODES)) return fmi2Error;
    if (!value) return (fmi2Status)core_error(INST, "fmi2GetRealStatus: NULL value");
    *value = INST->m.time;
    return fmi2OK;
}

fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value) {
    (void)value;
    return no_status(c, "fmi2GetIntegerStatus", s);
}

fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value) {
    if (s != fmi2Terminated) return no_status(c, "fmi2GetBooleanStatus", s);
    if (!core_allowed(INST, "fmi2GetBooleanStatus", STATUS_MODES)) return fmi2Error;
    if (!value) return (fmi2Status)core_error(INST, "fmi2GetBooleanStatus: NULL value");
    *value = INST->m.terminate ? fmi2True : fmi2False;
    return fmi2OK;
}

fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind s, fmi2String *value) {
    (void)value;
    return no_status(c, "fmi2GetStringStatus", s);
}
