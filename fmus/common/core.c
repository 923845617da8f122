/* core.c -- FMI-version independent glue, part 1: logging, checks, life cycle, mode switches
 * and (Re)Configuration Mode.  See core.h; variables are in vars.c, the integrator and events
 * in step.c, the FMU state in state.c. */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *core_mode_name(Mode mode) {
    switch (mode) {
    case MODE_INSTANTIATED: return "Instantiated";
    case MODE_INIT: return "Initialization Mode";
    case MODE_EVENT: return "Event Mode";
    case MODE_CONT: return "Continuous-Time Mode";
    case MODE_STEP: return "Step Mode";
    case MODE_TERMINATED: return "Terminated";
    case MODE_CONFIG: return "Configuration Mode";
    case MODE_RECONFIG: return "Reconfiguration Mode";
    default: return "Error";
    }
}

double core_time_tol(double t) { return time_tol(t); }

/* ---------------------------------------------------------------- logging, checks */

void core_log(Instance *inst, Status status, const char *category, const char *fmt, ...) {
    if (!inst || !inst->log) return;
    if (status == ST_OK && !inst->logging_on) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    inst->log(inst, status, category, msg);
}

Status core_error(Instance *inst, const char *fmt, ...) {
    if (!inst || !inst->log) return ST_ERROR;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    inst->log(inst, ST_ERROR, "logStatusError", msg);
    return ST_ERROR;
}

bool core_allowed(Instance *inst, const char *fn, int modes) {
    if (!inst) return false;
    if (inst->mode & modes) return true;
    core_error(inst, "%s: not allowed in %s", fn, core_mode_name(inst->mode));
    return false;
}

bool core_check_token(const char *token, const char *fn, Instance *inst) {
    if (token && strcmp(token, INSTANTIATION_TOKEN) == 0) return true;
    core_error(inst, "%s: wrong GUID / instantiation token '%s' for %s (expected '%s'): "
               "the binary does not belong to this modelDescription.xml",
               fn, token ? token : "(null)", MODEL_NAME, INSTANTIATION_TOKEN);
    return false;
}

Status core_check_count(Instance *inst, const char *fn, size_t n, size_t expected,
                        const char *what) {
    if (n == expected) return ST_OK;
    return core_error(inst, "%s: %s has %zu elements, expected %zu", fn, what, n, expected);
}

Status core_unknown_function(Instance *inst, const char *fn, const char *why) {
    return core_error(inst, "%s: not supported (%s)", fn, why);
}

/* ---------------------------------------------------------------- life cycle */

bool core_setup(Instance *inst, const char *name, int fmi_version, bool is_cs, bool logging_on,
                LogFn log) {
    inst->log = log;
    inst->fmi_version = fmi_version;
    inst->is_cs = is_cs;
    inst->logging_on = logging_on;
    inst->name = malloc(strlen(name ? name : "") + 1);
    if (!inst->name) {
        core_error(inst, "out of memory");
        return false;
    }
    strcpy(inst->name, name ? name : "");
    core_reset(inst);
    return true;
}

void core_cleanup(Instance *inst) {
    free(inst->name);
    inst->name = NULL;
}

void core_reset(Instance *inst) {
    Model *m = &inst->m;
    memset(m, 0, sizeof *m);
    m->v = START;
    m->dirty = true;
    inst->mode = MODE_INSTANTIATED;
    inst->terminate_reported = false;
}

Status core_enter_init(Instance *inst, const char *fn, double start_time) {
    if (!core_allowed(inst, fn, MODE_INSTANTIATED)) return ST_ERROR;
    if (!isfinite(start_time)) return core_error(inst, "%s: start time is not finite", fn);
    inst->m.time = start_time;
    inst->m.dirty = true;
    inst->mode = MODE_INIT;
    return ST_OK;
}

Status core_exit_init(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_INIT)) return ST_ERROR;
    Model *m = &inst->m;
    const char *msg = MODEL.initialize ? MODEL.initialize(m) : NULL;
    if (!msg && MODEL.exit_initialization) msg = MODEL.exit_initialization(m);
    if (msg) {
        inst->mode = MODE_ERROR;
        return core_error(inst, "%s: %s: %s", fn, MODEL_NAME, msg);
    }
    if (inst->is_cs && !inst->event_mode_used) {
        core_apply_event(inst); /* the initial event; with event mode the importer triggers it */
        inst->mode = MODE_STEP;
    } else {
        inst->mode = MODE_EVENT;
    }
    core_evaluate(m);
    return ST_OK;
}

Status core_terminate(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_EVENT | MODE_CONT | MODE_STEP | MODE_ERROR)) return ST_ERROR;
    inst->mode = MODE_TERMINATED;
    return ST_OK;
}

Status core_enter_event_mode(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, inst && inst->is_cs ? MODE_STEP : MODE_CONT)) return ST_ERROR;
    if (inst->is_cs && !inst->event_mode_used)
        return core_error(inst, "%s: the instance was created with eventModeUsed = false%s", fn,
                          CS_EVENT_MODE ? "" : " (the FMU declares hasEventMode = false)");
    inst->mode = MODE_EVENT;
    return ST_OK;
}

Status core_enter_cont_mode(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_EVENT)) return ST_ERROR;
    if (inst->is_cs) return core_error(inst, "%s: only available in Model Exchange", fn);
    inst->mode = MODE_CONT;
    return ST_OK;
}

Status core_enter_step_mode(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_EVENT)) return ST_ERROR;
    if (!inst->is_cs) return core_error(inst, "%s: only available in Co-Simulation", fn);
    inst->mode = MODE_STEP;
    return ST_OK;
}

/* ---------------------------------------------------------------- configuration mode */

Status core_enter_config(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_INSTANTIATED | MODE_STEP | MODE_EVENT)) return ST_ERROR;
    if (N_STRUCTURAL == 0)
        return core_error(inst, "%s: %s has no structural parameters", fn, MODEL_NAME);
    if (inst->mode != MODE_INSTANTIATED && N_TUNABLE_STRUCTURAL == 0)
        return core_error(inst, "%s: %s has no tunable structural parameters (Reconfiguration "
                          "Mode is only for those)", fn, MODEL_NAME);
    for (unsigned vr = 0; vr < NV; vr++) inst->config_counts[vr] = core_count(inst, vr);
    inst->mode_before_config = inst->mode;
    inst->mode = inst->mode == MODE_INSTANTIATED ? MODE_CONFIG : MODE_RECONFIG;
    return ST_OK;
}

Status core_exit_config(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_CONFIG | MODE_RECONFIG)) return ST_ERROR;
    core_resize_arrays(inst);
    const char *msg = MODEL.configure ? MODEL.configure(&inst->m) : NULL;
    if (msg) return core_error(inst, "%s: %s: %s", fn, MODEL_NAME, msg);
    inst->mode = inst->mode_before_config;
    inst->m.dirty = true;
    return ST_OK;
}
