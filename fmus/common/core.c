/* core.c -- FMI-version independent glue: see core.h.
 *
 * Co-simulation integrator: classical Runge-Kutta (RK4) with uniform substeps
 * h = r / ceil(r / H_MAX) over the remaining interval r, so that the last substep lands
 * exactly on t + dt.  After every substep the event indicators are compared with their
 * values at the substep start; on a sign change the crossing is located by bisection on
 * the substep length, re-integrating (one RK4 step) from the substep start, until the
 * bracket is shorter than EVENT_TOL.  The state is then placed at the late end of the
 * bracket (the indicator has crossed), the model's event hook is applied, and integration
 * continues -- or, for FMI 3 co-simulation with event mode and early return, doStep returns
 * there with the event pending until fmi3UpdateDiscreteStates applies it.
 */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS_PER_STEP 100000
#define TIME_MATCH_RTOL 1e-9 /* currentCommunicationPoint vs. FMU time */

static const char *mode_name(Mode mode) {
    switch (mode) {
    case MODE_INSTANTIATED: return "Instantiated";
    case MODE_INIT: return "Initialization Mode";
    case MODE_EVENT: return "Event Mode";
    case MODE_CONT: return "Continuous-Time Mode";
    case MODE_STEP: return "Step Mode";
    case MODE_TERMINATED: return "Terminated";
    default: return "Error";
    }
}

static const char *type_name(VarType type) {
    switch (type) {
    case T_REAL: return "Real/Float64";
    case T_INTEGER: return "Integer/Int32";
    default: return "Boolean";
    }
}

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
    core_error(inst, "%s: not allowed in %s", fn, mode_name(inst->mode));
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

/* ---------------------------------------------------------------- life cycle */

bool core_setup(Instance *inst, const char *name, bool is_cs, bool logging_on, LogFn log) {
    inst->log = log;
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
    for (int i = 0; i < NV; i++) m->v[i] = VARS[i].start;
    m->dirty = true;
    inst->mode = MODE_INSTANTIATED;
}

static void evaluate(Model *m) {
    m->v[VR_time] = m->time;
    if (MODEL.outputs) MODEL.outputs(m);
#if MODEL_EXCHANGE && NX > 0
    double dx[NX_ARR] = {0};
    if (MODEL.derivatives) MODEL.derivatives(m, dx);
    for (int i = 0; i < NX; i++) m->v[DER_VR[i]] = dx[i];
#endif
    m->dirty = false;
}

void core_update(Instance *inst) {
    Model *m = &inst->m;
    if (!m->dirty) return;
    /* during initialization the states follow the parameters they are computed from */
    if ((inst->mode & (MODE_INSTANTIATED | MODE_INIT)) && MODEL.initialize) MODEL.initialize(m);
    evaluate(m);
}

Status core_enter_init(Instance *inst, const char *fn, double start_time) {
    if (!core_allowed(inst, fn, MODE_INSTANTIATED)) return ST_ERROR;
    if (!isfinite(start_time)) return core_error(inst, "%s: start time is not finite", fn);
    inst->m.time = start_time;
    inst->m.dirty = true;
    inst->mode = MODE_INIT;
    return ST_OK;
}

static bool apply_event(Instance *inst) {
    Model *m = &inst->m;
    m->event_pending = false;
    if (!MODEL.event || !MODEL.event(m)) return false;
    m->dirty = true;
    core_log(inst, ST_OK, "logEvents", "t=%.17g: event, state reset", m->time);
    return true;
}

Status core_exit_init(Instance *inst, const char *fn) {
    if (!core_allowed(inst, fn, MODE_INIT)) return ST_ERROR;
    Model *m = &inst->m;
    const char *msg = MODEL.initialize ? MODEL.initialize(m) : NULL;
    if (msg) {
        inst->mode = MODE_ERROR;
        return core_error(inst, "%s: %s: %s", fn, MODEL_NAME, msg);
    }
    if (inst->is_cs && !inst->event_mode_used) {
        apply_event(inst); /* the initial event; with event mode the importer triggers it */
        inst->mode = MODE_STEP;
    } else {
        inst->mode = MODE_EVENT;
    }
    evaluate(m);
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
        return core_error(inst, "%s: the instance was created with eventModeUsed = false", fn);
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

/* ---------------------------------------------------------------- variables */

Status core_wrong_type(Instance *inst, const char *fn, const unsigned vr[], size_t n,
                       const char *type) {
    if (!inst) return ST_ERROR;
    if (n == 0) return ST_OK;
    if (!vr) return core_error(inst, "%s: valueReferences is NULL", fn);
    if (vr[0] >= NV) return core_error(inst, "%s: unknown value reference %u", fn, vr[0]);
    return core_error(inst, "%s: variable '%s' (vr %u) is of type %s, not %s", fn,
                      VARS[vr[0]].name, vr[0], type_name(VARS[vr[0]].type), type);
}

bool core_can_get(Instance *inst, const char *fn, unsigned vr, VarType type) {
    if (vr >= NV) {
        core_error(inst, "%s: unknown value reference %u", fn, vr);
        return false;
    }
    if (VARS[vr].type != type) {
        core_error(inst, "%s: variable '%s' (vr %u) is of type %s, not %s", fn, VARS[vr].name, vr,
                   type_name(VARS[vr].type), type_name(type));
        return false;
    }
    return true;
}

bool core_can_set(Instance *inst, const char *fn, unsigned vr, VarType type) {
    if (!core_can_get(inst, fn, vr, type)) return false;
    const VarInfo *var = &VARS[vr];
    const Mode mode = inst->mode;
    bool ok;
    switch (var->causality) {
    case C_PARAMETER:
        ok = (mode & (MODE_INSTANTIATED | MODE_INIT)) ||
             (var->variability == V_TUNABLE && (mode & (MODE_EVENT | MODE_STEP)));
        break;
    case C_INPUT:
        ok = mode & (MODE_INSTANTIATED | MODE_INIT | MODE_EVENT | MODE_CONT | MODE_STEP);
        break;
    default:
        core_error(inst, "%s: variable '%s' (vr %u) is calculated by the FMU and cannot be set",
                   fn, var->name, vr);
        return false;
    }
    if (!ok)
        core_error(inst, "%s: variable '%s' (vr %u, %s) cannot be set in %s", fn, var->name, vr,
                   var->causality == C_INPUT ? "input"
                   : var->variability == V_FIXED ? "fixed parameter" : "tunable parameter",
                   mode_name(mode));
    return ok;
}

/* ---------------------------------------------------------------- integration */

static void load_states(const Model *m, double x[]) {
    for (int i = 0; i < NX; i++) x[i] = m->v[STATE_VR[i]];
}

static void place(Model *m, const double x[], double t) {
    for (int i = 0; i < NX; i++) m->v[STATE_VR[i]] = x[i];
    m->time = t;
}

static void eval_derivatives(Model *m, const double x[], double t, double dx[]) {
    place(m, x, t);
    if (MODEL.derivatives) MODEL.derivatives(m, dx);
    else for (int i = 0; i < NX; i++) dx[i] = 0.0;
}

/* one RK4 step of length h from (t, x0) into x1; leaves m at a stage point */
static void rk4(Model *m, double t, const double x0[], double h, double x1[]) {
    double k1[NX_ARR], k2[NX_ARR], k3[NX_ARR], k4[NX_ARR], xs[NX_ARR];
    eval_derivatives(m, x0, t, k1);
    for (int i = 0; i < NX; i++) xs[i] = x0[i] + 0.5 * h * k1[i];
    eval_derivatives(m, xs, t + 0.5 * h, k2);
    for (int i = 0; i < NX; i++) xs[i] = x0[i] + 0.5 * h * k2[i];
    eval_derivatives(m, xs, t + 0.5 * h, k3);
    for (int i = 0; i < NX; i++) xs[i] = x0[i] + h * k3[i];
    eval_derivatives(m, xs, t + h, k4);
    for (int i = 0; i < NX; i++) x1[i] = x0[i] + h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]);
}

static void indicators(Model *m, double z[]) {
    if (NZ == 0) return;
    if (MODEL.outputs) MODEL.outputs(m);
    for (int i = 0; i < NZ; i++) z[i] = m->v[INDICATOR_VR[i]];
}

static bool crossed(const double z0[], const double z1[]) {
    for (int i = 0; i < NZ; i++)
        if ((z0[i] > 0 && z1[i] <= 0) || (z0[i] < 0 && z1[i] >= 0)) return true;
    return false;
}

typedef enum { INT_DONE, INT_EVENT, INT_ERROR } IntResult;

/* integrate from m->time to t_end; with stop_at_event, return at a located event */
static IntResult integrate(Instance *inst, double t_end, bool stop_at_event) {
    Model *m = &inst->m;
    double x0[NX_ARR], x1[NX_ARR], z0[NZ_ARR], z1[NZ_ARR];
    long events = 0;
    m->dirty = true;
    if (NX == 0 && NZ == 0) {
        m->time = t_end;
        return INT_DONE;
    }
    while (m->time < t_end) {
        const double t0 = m->time, r = t_end - t0;
        double n = ceil(r / H_MAX * (1.0 - 1e-12));
        if (n < 1.0) n = 1.0;
        const double h = n == 1.0 ? r : r / n;
        const double t1 = n == 1.0 ? t_end : t0 + h;
        load_states(m, x0);
        indicators(m, z0);
        rk4(m, t0, x0, h, x1);
        place(m, x1, t1);
        if (NZ == 0) continue;
        indicators(m, z1);
        if (!crossed(z0, z1)) continue;
        double a = 0.0, b = h; /* no crossing at t0 + a, crossing at t0 + b */
        while (b - a > EVENT_TOL) {
            const double c = 0.5 * (a + b);
            if (c <= a || c >= b) break; /* bracket at floating-point resolution */
            rk4(m, t0, x0, c, x1);
            place(m, x1, t0 + c);
            indicators(m, z1);
            if (crossed(z0, z1)) b = c;
            else a = c;
        }
        rk4(m, t0, x0, b, x1);
        place(m, x1, b == h ? t1 : t0 + b);
        if (stop_at_event) {
            m->event_pending = true;
            core_log(inst, ST_OK, "logEvents", "t=%.17g: event located, returning early", m->time);
            return INT_EVENT;
        }
        apply_event(inst);
        if (++events > MAX_EVENTS_PER_STEP) {
            core_error(inst, "more than %d events in one step at t=%.17g (chattering?)",
                       MAX_EVENTS_PER_STEP, m->time);
            return INT_ERROR;
        }
    }
    m->time = t_end;
    return INT_DONE;
}

Status core_do_step(Instance *inst, const char *fn, double t, double dt, bool *event_needed,
                    bool *early_return, double *last_time) {
    *event_needed = false;
    *early_return = false;
    if (!core_allowed(inst, fn, MODE_STEP)) return ST_ERROR;
    Model *m = &inst->m;
    *last_time = m->time;
    if (!isfinite(t) || !isfinite(dt) || dt < 0)
        return core_error(inst, "%s: invalid communication point %.17g or step size %.17g", fn, t,
                          dt);
    if (fabs(t - m->time) > TIME_MATCH_RTOL * fmax(1.0, fabs(t)))
        return core_error(inst, "%s: currentCommunicationPoint %.17g does not match the FMU time "
                          "%.17g", fn, t, m->time);
    m->time = t;
    const double t_end = t + dt;
    if (MODEL.check_step) {
        const char *msg = MODEL.check_step(m, t_end);
        if (msg) {
            inst->mode = MODE_ERROR;
            return core_error(inst, "%s: step from t=%.17g to %.17g failed: %s", fn, t, t_end, msg);
        }
    }
    if (m->event_pending) {
        core_log(inst, ST_OK, "logEvents", "t=%.17g: pending event handled in doStep", m->time);
        apply_event(inst);
    }
    const bool stop = inst->event_mode_used && inst->early_return_allowed;
    switch (integrate(inst, t_end, stop)) {
    case INT_ERROR:
        inst->mode = MODE_ERROR;
        return ST_ERROR;
    case INT_EVENT:
        *event_needed = true;
        *early_return = m->time < t_end;
        *last_time = m->time;
        return ST_OK;
    default:
        *last_time = t_end;
        return ST_OK;
    }
}

Status core_update_discrete(Instance *inst, const char *fn, bool *changed) {
    *changed = false;
    if (!core_allowed(inst, fn, MODE_EVENT)) return ST_ERROR;
    *changed = apply_event(inst);
    return ST_OK;
}

/* ---------------------------------------------------------------- model exchange */

static bool me_allowed(Instance *inst, const char *fn, int modes) {
    if (!core_allowed(inst, fn, modes)) return false;
    if (!inst->is_cs) return true;
    core_error(inst, "%s: only available in Model Exchange", fn);
    return false;
}

#define ME_READ (MODE_INIT | MODE_EVENT | MODE_CONT | MODE_TERMINATED | MODE_ERROR)

Status core_set_time(Instance *inst, const char *fn, double t) {
    if (!me_allowed(inst, fn, MODE_EVENT | MODE_CONT)) return ST_ERROR;
    if (!isfinite(t)) return core_error(inst, "%s: time is not finite", fn);
    inst->m.time = t;
    inst->m.dirty = true;
    return ST_OK;
}

Status core_set_states(Instance *inst, const char *fn, const double x[], size_t n) {
    if (!me_allowed(inst, fn, MODE_EVENT | MODE_CONT)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NX, "the state vector")) return ST_ERROR;
    place(&inst->m, x, inst->m.time);
    inst->m.dirty = true;
    return ST_OK;
}

Status core_get_states(Instance *inst, const char *fn, double x[], size_t n) {
    if (!me_allowed(inst, fn, ME_READ)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NX, "the state vector")) return ST_ERROR;
    core_update(inst);
    load_states(&inst->m, x);
    return ST_OK;
}

Status core_get_derivatives(Instance *inst, const char *fn, double dx[], size_t n) {
    if (!me_allowed(inst, fn, ME_READ)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NX, "the derivative vector")) return ST_ERROR;
    core_update(inst);
    for (int i = 0; i < NX; i++) dx[i] = 0.0;
    if (NX > 0 && MODEL.derivatives) MODEL.derivatives(&inst->m, dx);
    return ST_OK;
}

Status core_get_indicators(Instance *inst, const char *fn, double z[], size_t n) {
    if (!me_allowed(inst, fn, ME_READ)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NZ, "the event indicator vector")) return ST_ERROR;
    core_update(inst);
    for (int i = 0; i < NZ; i++) z[i] = inst->m.v[INDICATOR_VR[i]];
    return ST_OK;
}

Status core_get_nominals(Instance *inst, const char *fn, double x[], size_t n) {
    if (!me_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NX, "the nominal vector")) return ST_ERROR;
    for (size_t i = 0; i < n; i++) x[i] = 1.0;
    return ST_OK;
}

/* ---------------------------------------------------------------- FMU state */

typedef struct {
    const VarInfo *owner; /* identifies the model (and the loaded binary) */
    Model m;
} Snapshot;

static const char SER_MAGIC[16] = "cosim-fmustate1";

Status core_get_fmu_state(Instance *inst, const char *fn, void **state) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (!state) return core_error(inst, "%s: FMUstate pointer is NULL", fn);
    Snapshot *s = *state;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return core_error(inst, "%s: out of memory", fn);
    } else if (s->owner != VARS) {
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    }
    s->owner = VARS;
    s->m = inst->m;
    *state = s;
    return ST_OK;
}

Status core_set_fmu_state(Instance *inst, const char *fn, const void *state) {
    if (!core_allowed(inst, fn, MODE_ANY & ~MODE_TERMINATED)) return ST_ERROR;
    const Snapshot *s = state;
    if (!s || s->owner != VARS)
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    inst->m = s->m;
    if (inst->mode == MODE_ERROR) inst->mode = inst->is_cs ? MODE_STEP : MODE_CONT;
    return ST_OK;
}

Status core_free_fmu_state(Instance *inst, const char *fn, void **state) {
    if (!inst) return ST_ERROR;
    (void)fn;
    if (state && *state) {
        ((Snapshot *)*state)->owner = NULL;
        free(*state);
        *state = NULL;
    }
    return ST_OK;
}

size_t core_serialized_size(void) {
    return sizeof SER_MAGIC + sizeof INSTANTIATION_TOKEN + sizeof(Model);
}

Status core_serialize(Instance *inst, const char *fn, const void *state, unsigned char *buf,
                      size_t size) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    const Snapshot *s = state;
    if (!s || s->owner != VARS)
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    if (!buf || core_check_count(inst, fn, size, core_serialized_size(), "the buffer"))
        return ST_ERROR;
    memcpy(buf, SER_MAGIC, sizeof SER_MAGIC);
    memcpy(buf + sizeof SER_MAGIC, INSTANTIATION_TOKEN, sizeof INSTANTIATION_TOKEN);
    memcpy(buf + sizeof SER_MAGIC + sizeof INSTANTIATION_TOKEN, &s->m, sizeof(Model));
    return ST_OK;
}

Status core_deserialize(Instance *inst, const char *fn, const unsigned char *buf, size_t size,
                        void **state) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (!buf || size != core_serialized_size() ||
        memcmp(buf, SER_MAGIC, sizeof SER_MAGIC) != 0 ||
        memcmp(buf + sizeof SER_MAGIC, INSTANTIATION_TOKEN, sizeof INSTANTIATION_TOKEN) != 0)
        return core_error(inst, "%s: the serialized state does not belong to %s", fn, MODEL_NAME);
    if (!state) return core_error(inst, "%s: FMUstate pointer is NULL", fn);
    void *s = *state;
    if (core_get_fmu_state(inst, fn, &s) != ST_OK) return ST_ERROR;
    memcpy(&((Snapshot *)s)->m, buf + sizeof SER_MAGIC + sizeof INSTANTIATION_TOKEN,
           sizeof(Model));
    *state = s;
    return ST_OK;
}
