/* fmi2.c -- FMI 2.0 API (Co-Simulation and Model Exchange) over core.h.
 * Co-simulation always handles state events inside fmi2DoStep. */
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
        if (!cat || (strcmp(cat, "logEvents") && strcmp(cat, "logStatusError")))
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
    if (!core_setup(&w->inst, instanceName, fmuType == fmi2CoSimulation, loggingOn, logger2)) {
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

static fmi2Status get2(fmi2Component c, const char *fn, const fmi2ValueReference vr[], size_t n,
                       VarType type, void *values) {
    if (!core_allowed(INST, fn, MODE_ANY & ~MODE_INSTANTIATED)) return fmi2Error;
    if (n > 0 && (!vr || !values))
        return (fmi2Status)core_error(INST, "%s: NULL argument", fn);
    core_update(INST);
    for (size_t i = 0; i < n; i++) {
        if (!core_can_get(INST, fn, vr[i], type)) return fmi2Error;
        const double x = INST->m.v[vr[i]];
        switch (type) {
        case T_REAL: ((fmi2Real *)values)[i] = x; break;
        case T_INTEGER: ((fmi2Integer *)values)[i] = (fmi2Integer)x; break;
        default: ((fmi2Boolean *)values)[i] = x != 0.0 ? fmi2True : fmi2False;
        }
    }
    return fmi2OK;
}

static fmi2Status set2(fmi2Component c, const char *fn, const fmi2ValueReference vr[], size_t n,
                       VarType type, const void *values) {
    if (!c) return fmi2Error;
    if (n > 0 && (!vr || !values))
        return (fmi2Status)core_error(INST, "%s: NULL argument", fn);
    for (size_t i = 0; i < n; i++) {
        if (!core_can_set(INST, fn, vr[i], type)) return fmi2Error;
        double x;
        switch (type) {
        case T_REAL: x = ((const fmi2Real *)values)[i]; break;
        case T_INTEGER: x = ((const fmi2Integer *)values)[i]; break;
        default: x = ((const fmi2Boolean *)values)[i] ? 1.0 : 0.0;
        }
        INST->m.v[vr[i]] = x;
    }
    INST->m.dirty = true;
    return fmi2OK;
}

fmi2Status fmi2GetReal(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                       fmi2Real value[]) {
    return get2(c, "fmi2GetReal", vr, nvr, T_REAL, value);
}

fmi2Status fmi2GetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                          fmi2Integer value[]) {
    return get2(c, "fmi2GetInteger", vr, nvr, T_INTEGER, value);
}

fmi2Status fmi2GetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                          fmi2Boolean value[]) {
    return get2(c, "fmi2GetBoolean", vr, nvr, T_BOOLEAN, value);
}

fmi2Status fmi2GetString(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                         fmi2String value[]) {
    (void)value;
    return (fmi2Status)core_wrong_type(INST, "fmi2GetString", vr, nvr, "String");
}

fmi2Status fmi2SetReal(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                       const fmi2Real value[]) {
    return set2(c, "fmi2SetReal", vr, nvr, T_REAL, value);
}

fmi2Status fmi2SetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                          const fmi2Integer value[]) {
    return set2(c, "fmi2SetInteger", vr, nvr, T_INTEGER, value);
}

fmi2Status fmi2SetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                          const fmi2Boolean value[]) {
    return set2(c, "fmi2SetBoolean", vr, nvr, T_BOOLEAN, value);
}

fmi2Status fmi2SetString(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                         const fmi2String value[]) {
    (void)value;
    return (fmi2Status)core_wrong_type(INST, "fmi2SetString", vr, nvr, "String");
}

/* ---------------------------------------------------------------- FMU state */

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

fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference vUnknown_ref[],
                                        size_t nUnknown, const fmi2ValueReference vKnown_ref[],
                                        size_t nKnown, const fmi2Real dvKnown[],
                                        fmi2Real dvUnknown[]) {
    (void)vUnknown_ref, (void)nUnknown, (void)vKnown_ref, (void)nKnown, (void)dvKnown,
        (void)dvUnknown;
    return unsupported(c, "fmi2GetDirectionalDerivative", "providesDirectionalDerivative=false");
}

/* ---------------------------------------------------------------- model exchange */

fmi2Status fmi2EnterEventMode(fmi2Component c) {
    return (fmi2Status)core_enter_event_mode(INST, "fmi2EnterEventMode");
}

fmi2Status fmi2NewDiscreteStates(fmi2Component c, fmi2EventInfo *eventInfo) {
    bool changed;
    Status s = core_update_discrete(INST, "fmi2NewDiscreteStates", &changed);
    if (s != ST_OK || !eventInfo) return s != ST_OK ? (fmi2Status)s : fmi2Error;
    eventInfo->newDiscreteStatesNeeded = fmi2False;
    eventInfo->terminateSimulation = fmi2False;
    eventInfo->nominalsOfContinuousStatesChanged = fmi2False;
    eventInfo->valuesOfContinuousStatesChanged = changed ? fmi2True : fmi2False;
    eventInfo->nextEventTimeDefined = fmi2False;
    eventInfo->nextEventTime = 0.0;
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

fmi2Status fmi2DoStep(fmi2Component c, fmi2Real currentCommunicationPoint,
                      fmi2Real communicationStepSize, fmi2Boolean noSetFMUStatePriorToCurrentPoint) {
    (void)noSetFMUStatePriorToCurrentPoint;
    bool event_needed, early_return;
    double last_time;
    return (fmi2Status)core_do_step(INST, "fmi2DoStep", currentCommunicationPoint,
                                    communicationStepSize, &event_needed, &early_return,
                                    &last_time);
}

fmi2Status fmi2CancelStep(fmi2Component c) {
    return unsupported(c, "fmi2CancelStep", "canRunAsynchronuously=false");
}

fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind s, fmi2Status *value) {
    (void)s, (void)value;
    return unsupported(c, "fmi2GetStatus", "fmi2DoStep never returns fmi2Pending");
}

fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind s, fmi2Real *value) {
    if (!core_allowed(INST, "fmi2GetRealStatus", MODE_ANY)) return fmi2Error;
    if (s != fmi2LastSuccessfulTime || !value)
        return unsupported(c, "fmi2GetRealStatus", "only fmi2LastSuccessfulTime");
    *value = INST->m.time;
    return fmi2OK;
}

fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value) {
    (void)s, (void)value;
    return unsupported(c, "fmi2GetIntegerStatus", "no integer status");
}

fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value) {
    if (!core_allowed(INST, "fmi2GetBooleanStatus", MODE_ANY)) return fmi2Error;
    if (s != fmi2Terminated || !value)
        return unsupported(c, "fmi2GetBooleanStatus", "only fmi2Terminated");
    *value = fmi2False;
    return fmi2OK;
}

fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind s, fmi2String *value) {
    (void)s, (void)value;
    return unsupported(c, "fmi2GetStringStatus", "fmi2DoStep never returns fmi2Pending");
}
