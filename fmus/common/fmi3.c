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
        if (!cat || (strcmp(cat, "logEvents") && strcmp(cat, "logStatusError") &&
                     strcmp(cat, "logStatusDiscard")))
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
    if (!core_setup(&w->inst, name, 3, is_cs, logging_on, logger3)) {
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
    /* the importer may only use what the FMU declares (hasEventMode,
     * mightReturnEarlyFromDoStep); flags it must not set are ignored */
    w->inst.event_mode_used = eventModeUsed && CS_EVENT_MODE;
    w->inst.early_return_allowed = earlyReturnAllowed && CS_EARLY_RETURN;
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

#define GETSET(Name, CType, Api)                                                                 \
    fmi3Status fmi3Get##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             CType values[], size_t nValues) {                                   \
        return (fmi3Status)core_get(INST, "fmi3Get" #Name, vr, nvr, Api, values, nValues, NULL); \
    }                                                                                            \
    fmi3Status fmi3Set##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,   \
                             const CType values[], size_t nValues) {                             \
        return (fmi3Status)core_set(INST, "fmi3Set" #Name, vr, nvr, Api, values, nValues, NULL); \
    }

GETSET(Float32, fmi3Float32, API_FLOAT32)
GETSET(Float64, fmi3Float64, API_FLOAT64)
GETSET(Int8, fmi3Int8, API_INT8)
GETSET(UInt8, fmi3UInt8, API_UINT8)
GETSET(Int16, fmi3Int16, API_INT16)
GETSET(UInt16, fmi3UInt16, API_UINT16)
GETSET(Int32, fmi3Int32, API_INT32)
GETSET(UInt32, fmi3UInt32, API_UINT32)
GETSET(Int64, fmi3Int64, API_INT64) /* Int64 and Enumeration variables */
GETSET(UInt64, fmi3UInt64, API_UINT64)
GETSET(Boolean, fmi3Boolean, API_BOOL3)
GETSET(String, fmi3String, API_STRING)

fmi3Status fmi3GetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                         size_t valueSizes[], fmi3Binary values[], size_t nValues) {
    return (fmi3Status)core_get(INST, "fmi3GetBinary", vr, nvr, API_BINARY, values, nValues,
                                valueSizes);
}

fmi3Status fmi3SetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                         const size_t valueSizes[], const fmi3Binary values[], size_t nValues) {
    return (fmi3Status)core_set(INST, "fmi3SetBinary", vr, nvr, API_BINARY, values, nValues,
                                valueSizes);
}

fmi3Status fmi3GetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                        fmi3Clock values[]) {
    return (fmi3Status)core_get(INST, "fmi3GetClock", vr, nvr, API_CLOCK, values, nvr, NULL);
}

fmi3Status fmi3SetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                        const fmi3Clock values[]) {
    return (fmi3Status)core_set(INST, "fmi3SetClock", vr, nvr, API_CLOCK, values, nvr, NULL);
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

#if !OMIT_FMU_STATE
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

#endif

/* ---------------------------------------------------------------- not provided */

#if !OMIT_DERIVATIVES
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
#endif

fmi3Status fmi3EnterConfigurationMode(fmi3Instance instance) {
    return (fmi3Status)core_enter_config(INST, "fmi3EnterConfigurationMode");
}

fmi3Status fmi3ExitConfigurationMode(fmi3Instance instance) {
    return (fmi3Status)core_exit_config(INST, "fmi3ExitConfigurationMode");
}

#define NO_CLOCKS "no clocks"

/* clocks with a constant interval (intervalVariability="constant") report it; shifts are 0 */
static bool constant_clock(fmi3Instance instance, const char *fn, fmi3ValueReference vr) {
    if (vr < NV && VARS[vr].type == T_CLOCK && VARS[vr].interval > 0) return true;
    core_error(INST, "%s: value reference %u is not a clock with a constant interval", fn, vr);
    return false;
}

fmi3Status fmi3GetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference vr[],
                                  size_t nvr, fmi3Float64 intervals[],
                                  fmi3IntervalQualifier qualifiers[]) {
    if (!core_allowed(INST, "fmi3GetIntervalDecimal", MODE_ANY & ~MODE_INSTANTIATED))
        return fmi3Error;
    for (size_t i = 0; i < nvr; i++) {
        if (!constant_clock(instance, "fmi3GetIntervalDecimal", vr[i])) return fmi3Error;
        intervals[i] = VARS[vr[i]].interval;
        qualifiers[i] = fmi3IntervalUnchanged;
    }
    return fmi3OK;
}

fmi3Status fmi3GetIntervalFraction(fmi3Instance instance, const fmi3ValueReference vr[],
                                   size_t nvr, fmi3UInt64 counters[], fmi3UInt64 resolutions[],
                                   fmi3IntervalQualifier qualifiers[]) {
    (void)vr, (void)nvr, (void)counters, (void)resolutions, (void)qualifiers;
    return unsupported(instance, "fmi3GetIntervalFraction", NO_CLOCKS);
}

fmi3Status fmi3GetShiftDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr,
                               fmi3Float64 shifts[]) {
    if (!core_allowed(INST, "fmi3GetShiftDecimal", MODE_ANY & ~MODE_INSTANTIATED)) return fmi3Error;
    for (size_t i = 0; i < nvr; i++) {
        if (!constant_clock(instance, "fmi3GetShiftDecimal", vr[i])) return fmi3Error;
        shifts[i] = 0.0;
    }
    return fmi3OK;
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
    EventResult r;
    const Status s = core_update_discrete(INST, "fmi3UpdateDiscreteStates", &r);
    if (s != ST_OK) return (fmi3Status)s;
    if (discreteStatesNeedUpdate) *discreteStatesNeedUpdate = false;
    if (terminateSimulation) *terminateSimulation = r.terminate;
    if (nominalsOfContinuousStatesChanged) *nominalsOfContinuousStatesChanged = false;
    if (valuesOfContinuousStatesChanged) *valuesOfContinuousStatesChanged = r.states_changed;
    if (nextEventTimeDefined) *nextEventTimeDefined = r.next_defined;
    if (nextEventTime) *nextEventTime = r.next_time;
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

/* A request to end the simulation comes back as terminateSimulation = true with
 * lastSuccessfulTime = the time of the request (earlyReturn only if it was allowed); the
 * importer must then call fmi3Terminate.  Time events with eventModeUsed: a step reaching one
 * returns eventHandlingNeeded = true (earlyReturn = false); a step passing one is an error. */
fmi3Status fmi3DoStep(fmi3Instance instance, fmi3Float64 currentCommunicationPoint,
                      fmi3Float64 communicationStepSize,
                      fmi3Boolean noSetFMUStatePriorToCurrentPoint,
                      fmi3Boolean *eventHandlingNeeded, fmi3Boolean *terminateSimulation,
                      fmi3Boolean *earlyReturn, fmi3Float64 *lastSuccessfulTime) {
    (void)noSetFMUStatePriorToCurrentPoint;
    StepResult r;
    const Status s = core_do_step(INST, "fmi3DoStep", currentCommunicationPoint,
                                  communicationStepSize, &r);
    if (s == ST_OK && r.terminate) INST->terminate_reported = true;
    if (eventHandlingNeeded) *eventHandlingNeeded = r.event_needed;
    if (terminateSimulation) *terminateSimulation = r.terminate;
    if (earlyReturn) *earlyReturn = r.early_return;
    if (lastSuccessfulTime) *lastSuccessfulTime = r.last_time;
    return (fmi3Status)s;
}
