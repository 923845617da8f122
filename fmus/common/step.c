/* step.c -- the co-simulation integrator, time and state events, termination requests, the
 * event update and model-exchange access.
 *
 * Co-simulation integrator: classical Runge-Kutta (RK4) with uniform substeps
 * h = r / ceil(r / h_max) over the remaining interval r to the next target, so that the last
 * substep lands exactly on it; h_max = H_MAX, or the model's max_step() if smaller.  Targets
 * are the end of the communication step, the next time event (next_time_event) and the time
 * at which the model asks to terminate (terminate_at): the integrator lands on each exactly.
 * Two instants closer than time_tol() are the same (so an event a rounding error after the
 * step end happens at the step end).
 *
 * After every substep the event indicators are compared with their values at the substep
 * start; on a sign change the crossing is located by bisection on the substep length,
 * re-integrating (one RK4 step) from the substep start, until the bracket is shorter than
 * EVENT_TOL.  The state is then placed at the late end of the bracket (the indicator has
 * crossed), the model's event hook is applied, and integration continues -- or, for FMI 3
 * co-simulation with event mode and early return, doStep returns there with the event
 * pending until fmi3UpdateDiscreteStates applies it.
 *
 * Time events: without event mode (FMI 2, FMI 3 with eventModeUsed = false) doStep applies
 * them itself at their exact time.  With event mode the importer must handle them: a step
 * reaching one returns eventHandlingNeeded, a step that would pass one is an error. */
#include <string.h>

#include "internal.h"

#define MAX_EVENTS_PER_STEP 100000

typedef enum { INT_DONE, INT_STATE_EVENT, INT_TIME_EVENT, INT_TERMINATE, INT_ERROR } IntResult;

static double next_time_event(const Model *m) {
    const double t = MODEL.next_time_event ? MODEL.next_time_event(m) : INFINITY;
    return isnan(t) ? INFINITY : t;
}

static double terminate_time(const Model *m) {
    const double t = MODEL.terminate_at ? MODEL.terminate_at(m) : INFINITY;
    return isnan(t) ? INFINITY : t;
}

/* ---------------------------------------------------------------- state vector */

static void load_states(const Model *m, double x[]) {
    for (int i = 0; i < N_STATE_VARS; i++)
        memcpy(x + STATE_IX[i], var_cptr(&m->v, STATE_VR[i]),
               VARS[STATE_VR[i]].capacity * sizeof(double));
    for (int i = 0; i < NW; i++) x[NX + i] = m->w[i];
}

static void place(Model *m, const double x[], double t) {
    for (int i = 0; i < N_STATE_VARS; i++)
        memcpy(var_ptr(&m->v, STATE_VR[i]), x + STATE_IX[i],
               VARS[STATE_VR[i]].capacity * sizeof(double));
    for (int i = 0; i < NW; i++) m->w[i] = x[NX + i];
    m->time = t;
}

void core_evaluate(Model *m) {
    m->v.time = m->time;
    if (MODEL.outputs) MODEL.outputs(m);
#if MODEL_EXCHANGE && NX > 0
    double dx[NX_ARR] = {0};
    if (MODEL.derivatives) MODEL.derivatives(m, dx);
    for (int i = 0; i < NX; i++) *(double *)var_ptr(&m->v, DER_VR[i]) = dx[i];
#endif
    m->dirty = false;
}

void core_update(Instance *inst) {
    Model *m = &inst->m;
    if (!m->dirty) return;
    /* during initialization the states follow the parameters they are computed from */
    if ((inst->mode & (MODE_INSTANTIATED | MODE_INIT)) && MODEL.initialize) MODEL.initialize(m);
    core_evaluate(m);
}

bool core_apply_event(Instance *inst) {
    Model *m = &inst->m;
    m->event_pending = false;
    m->dirty = true;
    if (!MODEL.event || !MODEL.event(m)) return false;
    core_log(inst, ST_OK, "logEvents", "t=%.17g: event, state reset", m->time);
    return true;
}

/* ---------------------------------------------------------------- integration */

static void eval_derivatives(Model *m, const double x[], double t, double dx[]) {
    place(m, x, t);
    for (int i = 0; i < NX + NW; i++) dx[i] = 0.0;
    if (MODEL.derivatives) MODEL.derivatives(m, dx);
}

/* one RK4 step of length h from (t, x0) into x1; leaves m at a stage point */
static void rk4(Model *m, double t, const double x0[], double h, double x1[]) {
    enum { N = NX + NW };
    double k1[NX_ARR], k2[NX_ARR], k3[NX_ARR], k4[NX_ARR], xs[NX_ARR];
    eval_derivatives(m, x0, t, k1);
    for (int i = 0; i < N; i++) xs[i] = x0[i] + 0.5 * h * k1[i];
    eval_derivatives(m, xs, t + 0.5 * h, k2);
    for (int i = 0; i < N; i++) xs[i] = x0[i] + 0.5 * h * k2[i];
    eval_derivatives(m, xs, t + 0.5 * h, k3);
    for (int i = 0; i < N; i++) xs[i] = x0[i] + h * k3[i];
    eval_derivatives(m, xs, t + h, k4);
    for (int i = 0; i < N; i++) x1[i] = x0[i] + h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]);
}

static void indicators(Model *m, double z[]) {
    if (NZ == 0) return;
    if (MODEL.outputs) MODEL.outputs(m);
    for (int i = 0; i < NZ; i++) z[i] = *(const double *)var_cptr(&m->v, INDICATOR_VR[i]);
}

static bool crossed(const double z0[], const double z1[]) {
    for (int i = 0; i < NZ; i++)
        if ((z0[i] > 0 && z1[i] <= 0) || (z0[i] < 0 && z1[i] >= 0)) return true;
    return false;
}

static double internal_step(const Model *m) {
    const double h = MODEL.max_step ? MODEL.max_step(m) : H_MAX;
    return h > 0 && h < H_MAX ? h : H_MAX;
}

/* locate the indicator crossing in the substep (t0, x0) + h by bisection; leaves the model
 * at the late end of the final bracket */
static void locate(Model *m, double t0, const double x0[], double h, double t1,
                   const double z0[]) {
    double x1[NX_ARR], z1[NZ_ARR];
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
}

/* integrate from m->time to exactly `target` with state events; with stop_at_event, return
 * at a located state event (pending) */
static IntResult integrate_to(Instance *inst, double target, bool stop_at_event, long *events) {
    Model *m = &inst->m;
    double x0[NX_ARR], x1[NX_ARR], z0[NZ_ARR], z1[NZ_ARR];
    if (NX + NW == 0 && NZ == 0) {
        m->time = target;
        return INT_DONE;
    }
    while (m->time < target) {
        const double t0 = m->time, r = target - t0;
        double n = ceil(r / internal_step(m) * (1.0 - 1e-12));
        if (n < 1.0) n = 1.0;
        const double h = n == 1.0 ? r : r / n;
        const double t1 = n == 1.0 ? target : t0 + h;
        load_states(m, x0);
        indicators(m, z0);
        rk4(m, t0, x0, h, x1);
        place(m, x1, t1);
        if (NZ == 0) continue;
        indicators(m, z1);
        if (!crossed(z0, z1)) continue;
        locate(m, t0, x0, h, t1, z0);
        if (stop_at_event) {
            m->event_pending = true;
            core_log(inst, ST_OK, "logEvents", "t=%.17g: event located, returning early", m->time);
            return INT_STATE_EVENT;
        }
        core_apply_event(inst);
        if (m->terminate) return INT_TERMINATE;
        if (++*events > MAX_EVENTS_PER_STEP) {
            core_error(inst, "more than %d events in one step at t=%.17g (chattering?)",
                       MAX_EVENTS_PER_STEP, m->time);
            return INT_ERROR;
        }
    }
    m->time = target;
    return INT_DONE;
}

/* integrate from m->time to t_end, landing on time events and the termination time */
static IntResult integrate(Instance *inst, double t_end) {
    Model *m = &inst->m;
    const bool stop_state = inst->event_mode_used && inst->early_return_allowed;
    const bool stop_time = inst->event_mode_used;
    long events = 0;
    m->dirty = true;
    for (;;) {
        const double te = next_time_event(m), ts = terminate_time(m);
        if (time_reached(m->time, te)) {
            if (stop_time) return INT_TIME_EVENT; /* the importer handles it in Event Mode */
            core_apply_event(inst);
            if (m->terminate) return INT_TERMINATE;
            if (++events > MAX_EVENTS_PER_STEP || next_time_event(m) == te) {
                core_error(inst, "t=%.17g: the time event at %.17g is not cleared by the "
                           "model's event hook (or more than %d events in one step)", m->time, te,
                           MAX_EVENTS_PER_STEP);
                return INT_ERROR;
            }
            continue;
        }
        if (time_reached(m->time, ts)) {
            m->terminate = true;
            return INT_TERMINATE;
        }
        if (m->time >= t_end) return INT_DONE;
        const double next = fmin(te, ts);
        const double target = next < t_end - time_tol(next) ? next : t_end;
        const IntResult result = integrate_to(inst, target, stop_state, &events);
        if (result != INT_DONE) return result;
    }
}

/* ---------------------------------------------------------------- co-simulation step */

static Status check_step(Instance *inst, const char *fn, double t, double t_end) {
    Model *m = &inst->m;
    if (MODEL.check_step) {
        const char *msg = MODEL.check_step(m, t_end);
        if (msg) {
            inst->mode = MODE_ERROR;
            return core_error(inst, "%s: step from t=%.17g to %.17g failed: %s", fn, t, t_end, msg);
        }
    }
    if (MODEL.discard_step) {
        const char *msg = MODEL.discard_step(m, t_end);
        if (msg) {
            core_log(inst, ST_DISCARD, "logStatusDiscard", "%s: step from t=%.17g to %.17g "
                     "rejected, state unchanged: %s; retry with a smaller step", fn, t, t_end, msg);
            return ST_DISCARD;
        }
    }
    if (inst->event_mode_used) { /* the importer must stop at announced time events */
        const double te = next_time_event(m);
        if (te < t_end - time_tol(te))
            return core_error(inst, "%s: the step from t=%.17g to %.17g passes the time event "
                              "at t=%.17g announced by nextEventTime: step to t=%.17g, then "
                              "handle it in Event Mode", fn, t, t_end, te, te);
    }
    return ST_OK;
}

Status core_do_step(Instance *inst, const char *fn, double t, double dt, StepResult *r) {
    memset(r, 0, sizeof *r);
    if (!core_allowed(inst, fn, MODE_STEP)) return ST_ERROR;
    Model *m = &inst->m;
    r->last_time = m->time;
    if (!isfinite(t) || !isfinite(dt) || dt < 0)
        return core_error(inst, "%s: invalid communication point %.17g or step size %.17g", fn, t,
                          dt);
    if (fabs(t - m->time) > time_tol(t))
        return core_error(inst, "%s: currentCommunicationPoint %.17g does not match the FMU time "
                          "%.17g", fn, t, m->time);
    if (m->terminate) {
        if (inst->terminate_reported)
            return core_error(inst, "%s: %s asked to end the simulation at t=%.17g; call "
                              "fmi%dTerminate", fn, MODEL_NAME, m->time, inst->fmi_version);
        r->terminate = true;
        return ST_OK;
    }
    m->time = t;
    const double t_end = t + dt;
    const Status checked = check_step(inst, fn, t, t_end);
    if (checked != ST_OK) return checked;
    if (m->event_pending) {
        core_log(inst, ST_OK, "logEvents", "t=%.17g: pending event handled in doStep", m->time);
        core_apply_event(inst);
    }
    const IntResult result = integrate(inst, t_end);
    r->last_time = m->time;
    switch (result) {
    case INT_ERROR:
        inst->mode = MODE_ERROR;
        return ST_ERROR;
    case INT_STATE_EVENT:
    case INT_TIME_EVENT:
        r->event_needed = true;
        r->early_return = m->time < t_end;
        return ST_OK;
    case INT_TERMINATE:
        r->terminate = true;
        r->early_return = inst->early_return_allowed && m->time < t_end;
        core_log(inst, ST_OK, "logEvents", "t=%.17g: %s asks to end the simulation", m->time,
                 MODEL_NAME);
        return ST_OK;
    default:
        return ST_OK;
    }
}

Status core_update_discrete(Instance *inst, const char *fn, EventResult *r) {
    memset(r, 0, sizeof *r);
    if (!core_allowed(inst, fn, MODE_EVENT)) return ST_ERROR;
    Model *m = &inst->m;
    r->states_changed = core_apply_event(inst);
    r->terminate = m->terminate;
    if (m->terminate) inst->terminate_reported = true;
    const double te = next_time_event(m);
    r->next_defined = isfinite(te);
    r->next_time = r->next_defined ? te : 0.0;
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
    for (int i = 0; i < NZ; i++) z[i] = *(const double *)var_cptr(&inst->m.v, INDICATOR_VR[i]);
    return ST_OK;
}

Status core_get_nominals(Instance *inst, const char *fn, double x[], size_t n) {
    if (!me_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (core_check_count(inst, fn, n, NX, "the nominal vector")) return ST_ERROR;
    for (size_t i = 0; i < n; i++) x[i] = 1.0;
    return ST_OK;
}
