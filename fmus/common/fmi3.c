/* fmi3.c -- FMI 3.0 API (Co-Simulation and Model Exchange) over core.h.
 *
 * Co-simulation with events: if the instance was created with eventModeUsed and
 * earlyReturnAllowed, fmi3DoStep stops at a located state event and returns
 * eventHandlingNeeded = earlyReturn = true with lastSuccessfulTime = event time (state
 * before the reset); fmi3EnterEventMode, fmi3UpdateDiscreteStates (applies the reset) and
 * fmi3EnterStepMode continue.  Otherwise doStep handles events internally. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fmi3Functions.h"

typedef struct {
    Instance inst; /* first member: an fmi3Instance points to both */
    fmi3LogMessageCallback log_message;
    fmi3InstanceEnvironment env;
} Instance3;

#define INST ((Instance *)instance)

static void logger3(Instance *inst, Status status, const char *category, const char *message) {
    const Instance3 *w = (const Instance3 *)inst;
    if (w->log_message) w->log_message(w->env, (fmi3Status)status, category, message);
}

static fmi3Status unsupported(fmi3Instance instance, const char *fn, const char *why) {
    return (fmi3Status)core_error(INST, "%s: not supported (%s)", fn, why);
}

/* ---------------------------------------------------------------- common functions */

const char *fmi3GetVersion(void) { return fmi3Version; }

fmi3Status fmi3SetDebugLogging(fmi3Instance instance, fmi3Boolean loggingOn, size_t nCategories,
                               const fmi3String categories[]) {
    if (!core_allowed(INST, "fmi3SetDebugLogging", MODE_ANY)) return fmi3Error;
    for (size_t i = 0; i < nCategories; i++) {
        const char *cat = categories ? categories[i] : NULL;
        if (!cat || (strcmp(cat, "logEvents") && strcmp(cat, "logStatusError")))
            return (fmi3Status)core_error(INST, "fmi3SetDebugLogging: unknown log category '%s'",
                                          cat ? cat : "(null)");
    }
    INST->logging_on = loggingOn;
    return fmi3OK;
}

static Instance3 *instantiate(fmi3String name, fmi3String token, bool is_cs, bool logging_on,
                              fmi3InstanceEnvironment env, fmi3LogMessageCallback log_message) {
    const char *fn = is_cs ? "fmi3InstantiateCoSimulation" : "fmi3InstantiateModelExchange";
    Instance3 *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->log_message = log_message;
    w->env = env;
    if (!core_setup(&w->inst, name, is_cs, logging_on, logger3)) {
        free(w);
        return NULL;
    }
    bool ok = core_check_token(token, fn, &w->inst);
    if (ok && !is_cs && !MODEL_EXCHANGE) {
        core_error(&w->inst, "%s: %s does not support Model Exchange", fn, MODEL_NAME);
        ok = false;
    }
    if (!ok) {
        core_cleanup(&w->inst);
        free(w);
        return NULL;
    }
    return w;
}

fmi3Instance fmi3InstantiateModelExchange(fmi3String instanceName,
                                          fmi3String instantiationToken,
                                          fmi3String resourcePath, fmi3Boolean visible,
                                          fmi3Boolean loggingOn,
                                          fmi3InstanceEnvironment instanceEnvironment,
                                          fmi3LogMessageCallback logMessage) {
    (void)resourcePath, (void)visible;
    return instantiate(instanceName, instantiationToken, false, loggingOn, instanceEnvironment,
                       logMessage);
}

fmi3Instance fmi3InstantiateCoSimulation(
    fmi3String instanceName, fmi3String instantiationToken, fmi3String resourcePath,
    fmi3Boolean visible, fmi3Boolean loggingOn, fmi3Boolean eventModeUsed,
    fmi3Boolean earlyReturnAllowed, const fmi3ValueReference requiredIntermediateVariables[],
    size_t nRequiredIntermediateVariables, fmi3InstanceEnvironment instanceEnvironment,
    fmi3LogMessageCallback logMessage, fmi3IntermediateUpdateCallback intermediateUpdate) {
    (void)resourcePath, (void)visible, (void)requiredIntermediateVariables,
        (void)intermediateUpdate;
    Instance3 *w = instantiate(instanceName, instantiationToken, true, loggingOn,
                               instanceEnvironment, logMessage);
    if (!w) return NULL;
    if (nRequiredIntermediateVariables > 0) {
        core_error(&w->inst, "fmi3InstantiateCoSimulation: intermediate update is not supported "
                   "(providesIntermediateUpdate=false)");
        core_cleanup(&w->inst);
        free(w);
        return NULL;
    }
    w->inst.event_mode_used = eventModeUsed;
    w->inst.early_return_allowed = earlyReturnAllowed;
    return w;
}

fmi3Instance fmi3InstantiateScheduledExecution(
    fmi3String instanceName, fmi3String instantiationToken, fmi3String resourcePath,
    fmi3Boolean visible, fmi3Boolean loggingOn, fmi3InstanceEnvironment instanceEnvironment,
    fmi3LogMessageCallback logMessage, fmi3ClockUpdateCallback clockUpdate,
    fmi3LockPreemptionCallback lockPreemption, fmi3UnlockPreemptionCallback unlockPreemption) {
    (void)instanceName, (void)instantiationToken, (void)resourcePath, (void)visible,
        (void)loggingOn, (void)clockUpdate, (void)lockPreemption, (void)unlockPreemption;
    if (logMessage)
        logMessage(instanceEnvironment, fmi3Error, "logStatusError",
                   "fmi3InstantiateScheduledExecution: " MODEL_NAME
                   " does not support Scheduled Execution");
    return NULL;
}

void fmi3FreeInstance(fmi3Instance instance) {
    if (!instance) return;
    core_cleanup(INST);
    free(instance);
}

fmi3Status fmi3EnterInitializationMode(fmi3Instance instance, fmi3Boolean toleranceDefined,
                                       fmi3Float64 tolerance, fmi3Float64 startTime,
                                       fmi3Boolean stopTimeDefined, fmi3Float64 stopTime) {
    (void)toleranceDefined, (void)tolerance, (void)stopTimeDefined, (void)stopTime;
    return (fmi3Status)core_enter_init(INST, "fmi3EnterInitializationMode", startTime);
}

fmi3Status fmi3ExitInitializationMode(fmi3Instance instance) {
    return (fmi3Status)core_exit_init(INST, "fmi3ExitInitializationMode");
}

fmi3Status fmi3EnterEventMode(fmi3Instance instance) {
    return (fmi3Status)core_enter_event_mode(INST, "fmi3EnterEventMode");
}

fmi3Status fmi3Terminate(fmi3Instance instance) {
    return (fmi3Status)core_terminate(INST, "fmi3Terminate");
}

fmi3Status fmi3Reset(fmi3Instance instance) {
    if (!core_allowed(INST, "fmi3Reset", MODE_ANY)) return fmi3Error;
    core_reset(INST);
    return fmi3OK;
}

/* ---------------------------------------------------------------- get / set */

static fmi3Status get3(fmi3Instance instance, const char *fn, const fmi3ValueReference vr[],
                       size_t n, VarType type, void *values, size_t n_values) {
    if (!core_allowed(INST, fn, MODE_ANY & ~MODE_INSTANTIATED)) return fmi3Error;
    if (core_check_count(INST, fn, n_values, n, "values (no array variables)")) return fmi3Error;
    if (n > 0 && (!vr || !values)) return (fmi3Status)core_error(INST, "%s: NULL argument", fn);
    core_update(INST);
    for (size_t i = 0; i < n; i++) {
        if (!core_can_get(INST, fn, vr[i], type)) return fmi3Error;
        const double x = INST->m.v[vr[i]];
        switch (type) {
        case T_REAL: ((fmi3Float64 *)values)[i] = x; break;
        case T_INTEGER: ((fmi3Int32 *)values)[i] = (fmi3Int32)x; break;
        default: ((fmi3Boolean *)values)[i] = x != 0.0;
        }
    }
    return fmi3OK;
}

static fmi3Status set3(fmi3Instance instance, const char *fn, const fmi3ValueReference vr[],
                       size_t n, VarType type, const void *values, size_t n_values) {
    if (!instance) return fmi3Error;
    if (core_check_count(INST, fn, n_values, n, "values (no array variables)")) return fmi3Error;
    if (n > 0 && (!vr || !values)) return (fmi3Status)core_error(INST, "%s: NULL argument", fn);
    for (size_t i = 0; i < n; i++) {
        if (!core_can_set(INST, fn, vr[i], type)) return fmi3Error;
        double x;
        switch (type) {
        case T_REAL: x = ((const fmi3Float64 *)values)[i]; break;
        case T_INTEGER: x = ((const fmi3Int32 *)values)[i]; break;
        default: x = ((const fmi3Boolean *)values)[i] ? 1.0 : 0.0;
        }
        INST->m.v[vr[i]] = x;
    }
    INST->m.dirty = true;
    return fmi3OK;
}

#define GETSET(Name, CType, VT)                                                                  \
    fmi3Status fmi3Get##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             CType values[], size_t nValues) {                                   \
        return get3(instance, "fmi3Get" #Name, vr, nvr, VT, values, nValues);                    \
    }                                                                                            \
    fmi3Status fmi3Set##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             const CType values[], size_t nValues) {                             \
        return set3(instance, "fmi3Set" #Name, vr, nvr, VT, values, nValues);                    \
    }

GETSET(Float64, fmi3Float64, T_REAL)
GETSET(Int32, fmi3Int32, T_INTEGER)
GETSET(Boolean, fmi3Boolean, T_BOOLEAN)

/* types no model uses: any value reference is of the wrong type (or unknown) */
#define WRONG_TYPE(Name, CType)                                                                  \
    fmi3Status fmi3Get##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             CType values[], size_t nValues) {                                   \
        (void)values, (void)nValues;                                                             \
        return (fmi3Status)core_wrong_type(INST, "fmi3Get" #Name, vr, nvr, #Name);               \
    }                                                                                            \
    fmi3Status fmi3Set##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             const CType values[], size_t nValues) {                             \
        (void)values, (void)nValues;                                                             \
        return (fmi3Status)core_wrong_type(INST, "fmi3Set" #Name, vr, nvr, #Name);               \
    }

WRONG_TYPE(Float32, fmi3Float32)
WRONG_TYPE(Int8, fmi3Int8)
WRONG_TYPE(UInt8, fmi3UInt8)
WRONG_TYPE(Int16, fmi3Int16)
WRONG_TYPE(UInt16, fmi3UInt16)
WRONG_TYPE(UInt32, fmi3UInt32)
WRONG_TYPE(Int64, fmi3Int64)
WRONG_TYPE(UInt64, fmi3UInt64)
WRONG_TYPE(String, fmi3String)

fmi3Status fmi3GetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                         size_t valueSizes[], fmi3Binary values[], size_t nValues) {
    (void)valueSizes, (void)values, (void)nValues;
    return (fmi3Status)core_wrong_type(INST, "fmi3GetBinary", vr, nvr, "Binary");
}

fmi3Status fmi3SetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                         const size_t valueSizes[], const fmi3Binary values[], size_t nValues) {
    (void)valueSizes, (void)values, (void)nValues;
    return (fmi3Status)core_wrong_type(INST, "fmi3SetBinary", vr, nvr, "Binary");
}

fmi3Status fmi3GetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                        fmi3Clock values[]) {
    (void)values;
    return (fmi3Status)core_wrong_type(INST, "fmi3GetClock", vr, nvr, "Clock");
}

fmi3Status fmi3SetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                        const fmi3Clock values[]) {
    (void)values;
    return (fmi3Status)core_wrong_type(INST, "fmi3SetClock", vr, nvr, "Clock");
}

fmi3Status fmi3GetNumberOfVariableDependencies(fmi3Instance instance,
                                               fmi3ValueReference valueReference,
                                               size_t *nDependencies) {
    (void)valueReference, (void)nDependencies;
    return unsupported(instance, "fmi3GetNumberOfVariableDependencies",
                       "providesPerElementDependencies=false");
}

fmi3Status fmi3GetVariableDependencies(fmi3Instance instance, fmi3ValueReference dependent,
                                       size_t elementIndicesOfDependent[],
                                       fmi3ValueReference independents[],
                                       size_t elementIndicesOfIndependents[],
                                       fmi3DependencyKind dependencyKinds[],
                                       size_t nDependencies) {
    (void)dependent, (void)elementIndicesOfDependent, (void)independents,
        (void)elementIndicesOfIndependents, (void)dependencyKinds, (void)nDependencies;
    return unsupported(instance, "fmi3GetVariableDependencies",
                       "providesPerElementDependencies=false");
}

/* ---------------------------------------------------------------- FMU state */

fmi3Status fmi3GetFMUState(fmi3Instance instance, fmi3FMUState *FMUState) {
    return (fmi3Status)core_get_fmu_state(INST, "fmi3GetFMUState", FMUState);
}

fmi3Status fmi3SetFMUState(fmi3Instance instance, fmi3FMUState FMUState) {
    return (fmi3Status)core_set_fmu_state(INST, "fmi3SetFMUState", FMUState);
}

fmi3Status fmi3FreeFMUState(fmi3Instance instance, fmi3FMUState *FMUState) {
    return (fmi3Status)core_free_fmu_state(INST, "fmi3FreeFMUState", FMUState);
}

fmi3Status fmi3SerializedFMUStateSize(fmi3Instance instance, fmi3FMUState FMUState,
                                      size_t *size) {
    (void)FMUState;
    if (!core_allowed(INST, "fmi3SerializedFMUStateSize", MODE_ANY)) return fmi3Error;
    *size = core_serialized_size();
    return fmi3OK;
}

fmi3Status fmi3SerializeFMUState(fmi3Instance instance, fmi3FMUState FMUState,
                                 fmi3Byte serializedState[], size_t size) {
    return (fmi3Status)core_serialize(INST, "fmi3SerializeFMUState", FMUState, serializedState,
                                      size);
}

fmi3Status fmi3DeserializeFMUState(fmi3Instance instance, const fmi3Byte serializedState[],
                                   size_t size, fmi3FMUState *FMUState) {
    return (fmi3Status)core_deserialize(INST, "fmi3DeserializeFMUState", serializedState, size,
                                        FMUState);
}

/* ---------------------------------------------------------------- not provided */

fmi3Status fmi3GetDirectionalDerivative(fmi3Instance instance, const fmi3ValueReference unknowns[],
                                        size_t nUnknowns, const fmi3ValueReference knowns[],
                                        size_t nKnowns, const fmi3Float64 seed[], size_t nSeed,
                                        fmi3Float64 sensitivity[], size_t nSensitivity) {
    (void)unknowns, (void)nUnknowns, (void)knowns, (void)nKnowns, (void)seed, (void)nSeed,
        (void)sensitivity, (void)nSensitivity;
    return unsupported(instance, "fmi3GetDirectionalDerivative",
                       "providesDirectionalDerivatives=false");
}

fmi3Status fmi3GetAdjointDerivative(fmi3Instance instance, const fmi3ValueReference unknowns[],
                                    size_t nUnknowns, const fmi3ValueReference knowns[],
                                    size_t nKnowns, const fmi3Float64 seed[], size_t nSeed,
                                    fmi3Float64 sensitivity[], size_t nSensitivity) {
    (void)unknowns, (void)nUnknowns, (void)knowns, (void)nKnowns, (void)seed, (void)nSeed,
        (void)sensitivity, (void)nSensitivity;
    return unsupported(instance, "fmi3GetAdjointDerivative", "providesAdjointDerivatives=false");
}

fmi3Status fmi3EnterConfigurationMode(fmi3Instance instance) {
    return unsupported(instance, "fmi3EnterConfigurationMode", "no structural parameters");
}

fmi3Status fmi3ExitConfigurationMode(fmi3Instance instance) {
    return unsupported(instance, "fmi3ExitConfigurationMode", "no structural parameters");
}

#define NO_CLOCKS "no clocks"

fmi3Status fmi3GetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference vr[],
                                  size_t nvr, fmi3Float64 intervals[],
                                  fmi3IntervalQualifier qualifiers[]) {
    (void)vr, (void)nvr, (void)intervals, (void)qualifiers;
    return unsupported(instance, "fmi3GetIntervalDecimal", NO_CLOCKS);
}

fmi3Status fmi3GetIntervalFraction(fmi3Instance instance, const fmi3ValueReference vr[],
                                   size_t nvr, fmi3UInt64 counters[], fmi3UInt64 resolutions[],
                                   fmi3IntervalQualifier qualifiers[]) {
    (void)vr, (void)nvr, (void)counters, (void)resolutions, (void)qualifiers;
    return unsupported(instance, "fmi3GetIntervalFraction", NO_CLOCKS);
}

fmi3Status fmi3GetShiftDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                               fmi3Float64 shifts[]) {
    (void)vr, (void)nvr, (void)shifts;
    return unsupported(instance, "fmi3GetShiftDecimal", NO_CLOCKS);
}

fmi3Status fmi3GetShiftFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                                fmi3UInt64 counters[], fmi3UInt64 resolutions[]) {
    (void)vr, (void)nvr, (void)counters, (void)resolutions;
    return unsupported(instance, "fmi3GetShiftFraction", NO_CLOCKS);
}

fmi3Status fmi3SetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference vr[],
                                  size_t nvr, const fmi3Float64 intervals[]) {
    (void)vr, (void)nvr, (void)intervals;
    return unsupported(instance, "fmi3SetIntervalDecimal", NO_CLOCKS);
}

fmi3Status fmi3SetIntervalFraction(fmi3Instance instance, const fmi3ValueReference vr[],
                                   size_t nvr, const fmi3UInt64 counters[],
                                   const fmi3UInt64 resolutions[]) {
    (void)vr, (void)nvr, (void)counters, (void)resolutions;
    return unsupported(instance, "fmi3SetIntervalFraction", NO_CLOCKS);
}

fmi3Status fmi3SetShiftDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                               const fmi3Float64 shifts[]) {
    (void)vr, (void)nvr, (void)shifts;
    return unsupported(instance, "fmi3SetShiftDecimal", NO_CLOCKS);
}

fmi3Status fmi3SetShiftFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                                const fmi3UInt64 counters[], const fmi3UInt64 resolutions[]) {
    (void)vr, (void)nvr, (void)counters, (void)resolutions;
    return unsupported(instance, "fmi3SetShiftFraction", NO_CLOCKS);
}

fmi3Status fmi3EvaluateDiscreteStates(fmi3Instance instance) {
    return unsupported(instance, "fmi3EvaluateDiscreteStates",
                       "providesEvaluateDiscreteStates=false");
}

fmi3Status fmi3ActivateModelPartition(fmi3Instance instance, fmi3ValueReference clockReference,
                                      fmi3Float64 activationTime) {
    (void)clockReference, (void)activationTime;
    return unsupported(instance, "fmi3ActivateModelPartition", "no Scheduled Execution");
}

fmi3Status fmi3GetOutputDerivatives(fmi3Instance instance, const fmi3ValueReference vr[],
                                    size_t nvr, const fmi3Int32 orders[], fmi3Float64 values[],
                                    size_t nValues) {
    (void)vr, (void)nvr, (void)orders, (void)values, (void)nValues;
    return unsupported(instance, "fmi3GetOutputDerivatives", "maxOutputDerivativeOrder=0");
}

/* ---------------------------------------------------------------- events */

fmi3Status fmi3UpdateDiscreteStates(fmi3Instance instance, fmi3Boolean *discreteStatesNeedUpdate,
                                    fmi3Boolean *terminateSimulation,
                                    fmi3Boolean *nominalsOfContinuousStatesChanged,
                                    fmi3Boolean *valuesOfContinuousStatesChanged,
                                    fmi3Boolean *nextEventTimeDefined,
                                    fmi3Float64 *nextEventTime) {
    bool changed;
    const Status s = core_update_discrete(INST, "fmi3UpdateDiscreteStates", &changed);
    if (s != ST_OK) return (fmi3Status)s;
    if (discreteStatesNeedUpdate) *discreteStatesNeedUpdate = false;
    if (terminateSimulation) *terminateSimulation = false;
    if (nominalsOfContinuousStatesChanged) *nominalsOfContinuousStatesChanged = false;
    if (valuesOfContinuousStatesChanged) *valuesOfContinuousStatesChanged = changed;
    if (nextEventTimeDefined) *nextEventTimeDefined = false;
    if (nextEventTime) *nextEventTime = 0.0;
    return fmi3OK;
}

/* ---------------------------------------------------------------- model exchange */

fmi3Status fmi3EnterContinuousTimeMode(fmi3Instance instance) {
    return (fmi3Status)core_enter_cont_mode(INST, "fmi3EnterContinuousTimeMode");
}

fmi3Status fmi3CompletedIntegratorStep(fmi3Instance instance,
                                       fmi3Boolean noSetFMUStatePriorToCurrentPoint,
                                       fmi3Boolean *enterEventMode,
                                       fmi3Boolean *terminateSimulation) {
    (void)noSetFMUStatePriorToCurrentPoint;
    if (!core_allowed(INST, "fmi3CompletedIntegratorStep", MODE_CONT)) return fmi3Error;
    if (enterEventMode) *enterEventMode = false;
    if (terminateSimulation) *terminateSimulation = false;
    return fmi3OK;
}

fmi3Status fmi3SetTime(fmi3Instance instance, fmi3Float64 time) {
    return (fmi3Status)core_set_time(INST, "fmi3SetTime", time);
}

fmi3Status fmi3SetContinuousStates(fmi3Instance instance, const fmi3Float64 continuousStates[],
                                   size_t nContinuousStates) {
    return (fmi3Status)core_set_states(INST, "fmi3SetContinuousStates", continuousStates,
                                       nContinuousStates);
}

fmi3Status fmi3GetContinuousStateDerivatives(fmi3Instance instance, fmi3Float64 derivatives[],
                                             size_t nContinuousStates) {
    return (fmi3Status)core_get_derivatives(INST, "fmi3GetContinuousStateDerivatives",
                                            derivatives, nContinuousStates);
}

fmi3Status fmi3GetEventIndicators(fmi3Instance instance, fmi3Float64 eventIndicators[],
                                  size_t nEventIndicators) {
    return (fmi3Status)core_get_indicators(INST, "fmi3GetEventIndicators", eventIndicators,
                                           nEventIndicators);
}

fmi3Status fmi3GetContinuousStates(fmi3Instance instance, fmi3Float64 continuousStates[],
                                   size_t nContinuousStates) {
    return (fmi3Status)core_get_states(INST, "fmi3GetContinuousStates", continuousStates,
                                       nContinuousStates);
}

fmi3Status fmi3GetNominalsOfContinuousStates(fmi3Instance instance, fmi3Float64 nominals[],
                                             size_t nContinuousStates) {
    return (fmi3Status)core_get_nominals(INST, "fmi3GetNominalsOfContinuousStates", nominals,
                                         nContinuousStates);
}

fmi3Status fmi3GetNumberOfEventIndicators(fmi3Instance instance, size_t *nEventIndicators) {
    if (!core_allowed(INST, "fmi3GetNumberOfEventIndicators", MODE_ANY)) return fmi3Error;
    if (nEventIndicators) *nEventIndicators = NZ;
    return fmi3OK;
}

fmi3Status fmi3GetNumberOfContinuousStates(fmi3Instance instance, size_t *nContinuousStates) {
    if (!core_allowed(INST, "fmi3GetNumberOfContinuousStates", MODE_ANY)) return fmi3Error;
    if (nContinuousStates) *nContinuousStates = NX;
    return fmi3OK;
}

/* ---------------------------------------------------------------- co-simulation */

fmi3Status fmi3EnterStepMode(fmi3Instance instance) {
    return (fmi3Status)core_enter_step_mode(INST, "fmi3EnterStepMode");
}

fmi3Status fmi3DoStep(fmi3Instance instance, fmi3Float64 currentCommunicationPoint,
                      fmi3Float64 communicationStepSize,
                      fmi3Boolean noSetFMUStatePriorToCurrentPoint,
                      fmi3Boolean *eventHandlingNeeded, fmi3Boolean *terminateSimulation,
                      fmi3Boolean *earlyReturn, fmi3Float64 *lastSuccessfulTime) {
    (void)noSetFMUStatePriorToCurrentPoint;
    bool event_needed = false, early = false;
    double last = currentCommunicationPoint;
    const Status s = core_do_step(INST, "fmi3DoStep", currentCommunicationPoint,
                                  communicationStepSize, &event_needed, &early, &last);
    if (eventHandlingNeeded) *eventHandlingNeeded = event_needed;
    if (terminateSimulation) *terminateSimulation = false;
    if (earlyReturn) *earlyReturn = early;
    if (lastSuccessfulTime) *lastSuccessfulTime = last;
    return (fmi3Status)s;
}
