/* kernel.c -- cosim's compiled master loop (see cosim/fast/__init__.py and
 * docs/performance.md).
 *
 * One call runs macro steps n_from..n_to of the Gauss-Seidel or Jacobi master over the
 * coupled system's own buffers u, y and y_prev, so the state after a call is exactly
 * what the Python loop leaves. Nodes are, by kind:
 *
 *   FMI 2 / FMI 3 co-simulation FMUs  called through the function pointers the Python
 *                                     adapters resolved (float64 ports, by pointer);
 *   built-in blocks                   constant, pid, polynomial surrogate, step, ramp,
 *                                     table (telemetry replay), dynamic surrogates
 *                                     (cosim/surrogates: polynomial NARX, linear state
 *                                     space), each replicated here;
 *   compiled user blocks              a C function of the block's own (cosim.blocks.CStep):
 *                                     int f(t, dt, u, y, state, par);
 *   Python nodes                      everything else: the kernel calls back into Python
 *                                     when their turn comes (hybrid execution), which
 *                                     runs the node's own Python code.
 *
 * The arithmetic replicates cosim/system.py, the masters (cosim/master) and the blocks'
 * step() operation by operation; the file is compiled with -ffp-contract=off (no FMA), so
 * every result is bit-identical to the Python loop. A Python node whose set and get only
 * copy values (a Python block) takes its whole turn in one call under Jacobi too: its
 * inputs cannot change between the phases, nor can anyone read its outputs between them.
 *
 * The call returns early -- at the failing step, before anything of it is recorded --
 * when an FMI function returns a status the masters do not accept (error, fatal; discard
 * from doStep), when an FMI 3 doStep asks to terminate, when a native block asks Python to
 * redo its step (a table outside its range with extrapolation "error", a compiled block
 * returning non-zero), when a Python node raised or reported a step outcome other than
 * OK, when (unless allowed) an output is not finite, and -- under the event loop -- when
 * a monitored condition turns true or an FMU flags an event. The Python side then
 * finishes the macro step as the Python loop would (cosim/fast/loop.py).
 */
#define _GNU_SOURCE /* clock_gettime, CLOCK_MONOTONIC_COARSE */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define KERNEL_ABI 7

typedef int (*Fmi2SetReal)(void *, const uint32_t *, size_t, const double *);
typedef int (*Fmi2GetReal)(void *, const uint32_t *, size_t, double *);
typedef int (*Fmi2DoStep)(void *, double, double, int);
typedef int (*Fmi3SetFloat64)(void *, const uint32_t *, size_t, const double *, size_t);
typedef int (*Fmi3GetFloat64)(void *, const uint32_t *, size_t, double *, size_t);
typedef int (*Fmi3DoStep)(void *, double, double, bool, bool *, bool *, bool *, double *);
/* a compiled user block: advance from t to t + dt; u: every input, y: every output */
typedef int (*BlockStep)(double, double, const double *, double *, double *, const double *);
/* a Python node's turn: returns 0 (go on), 1 (an outcome for the master), 2 (raised) */
typedef int (*PyTurn)(int64_t, int64_t, int64_t, int64_t);

enum { K_FMI2 = 1, K_FMI3 = 2, K_CONSTANT = 3, K_PID = 4, K_POLY = 5, K_STEP = 6, K_RAMP = 7,
       K_TABLE = 8, K_CFUNC = 9, K_PYTHON = 10, K_SURROGATE = 11 };
enum { PH_SET = 1, PH_STEP = 2, PH_GET = 3, PH_ALL = 4 };
enum { R_DONE = 0, R_CALL = 1, R_NONFINITE = 2, R_PYTHON = 3, R_MONITOR = 4 };
enum { FMI_WARNING = 1, FMI_DISCARD = 2, FLAGGED = 100, REDO = 1000 };
enum { TABLE_LINEAR = 0, TABLE_PREVIOUS = 1, TABLE_NEAREST = 2 };

/* Field order and types must match _Node in cosim/fast/loop.py. */
typedef struct {
    int64_t kind;
    int64_t n_in, n_out;   /* exchanged (connected / needed) ports */
    int64_t in_lo, out_lo; /* this node's slices of u and y */
    int64_t c_lo, c_hi;    /* its connection rows (Gauss-Seidel) */
    void *comp;            /* fmi2Component / fmi3Instance */
    void *set, *get, *step; /* FMU functions; step: BlockStep (cfunc), PyTurn (python) */
    const uint32_t *vr_in, *vr_out;
    bool *event, *terminate, *early; /* FMI 3 doStep flags (the adapter's own c_bools) */
    double *last_time;
    const double *par;    /* block parameters */
    const int64_t *ipar;  /* block integer parameters */
    double *state;        /* block state */
    double *bin, *bout;   /* block inputs (all) and outputs (all) */
    const int64_t *in_map, *out_map; /* exchanged port k -> index in bin / bout */
    int64_t step_status;  /* scratch: this node's doStep status in the current step */
    int64_t index;        /* this node's index (Python nodes) */
    int64_t whole;        /* Python node taking set, step and get in one call (Jacobi) */
    int64_t n_state, n_bout; /* sizes of state and bout (compiled blocks) */
    double *backup;       /* n_state + n_bout doubles: restored when a block asks for REDO */
} Node;

/* Must match _Ctx in cosim/fast/loop.py. */
typedef struct {
    Node *nodes;
    int64_t n_nodes;
    int64_t jacobi;
    double *u, *y, *y_prev;
    int64_t n_y;
    const int64_t *src, *dst;
    const double *gain, *offset;
    const uint8_t *delayed;
    int64_t n_conn;
    int64_t plain, has_delayed;
    int64_t t0, t1, h;
    const int64_t *rec;
    int64_t n_rec;
    double *rows, *times; /* [capacity][n_rec], [capacity] */
    int64_t check_finite;
    int64_t stop_on_flags; /* event loop: stop at any FMI 3 event / early / terminate flag */
    int64_t n_mon;         /* monitors: y[mon_index] <op> mon_threshold turning true */
    const int64_t *mon_index, *mon_op;
    const double *mon_threshold;
    uint8_t *mon_was;      /* scratch: each condition at the last communication point */
    /* where[0]: the node being called, where[1]: end tick of the last completed step
     * (read by cosim's supervisor after a crash; never NULL) */
    int64_t *where;
    int64_t deadline_ns;  /* 0, or return between steps once the monotonic clock passes it */
    int64_t check_every;  /* steps between two looks at the clock */
} Ctx;

/* Must match _Report in cosim/fast/loop.py. */
typedef struct {
    int64_t code, step, node, phase, status, step_status;
} Report;

int64_t cosim_fast_abi(void) { return KERNEL_ABI; }

/* ------------------------------------------------------------------ built-in blocks */

/* Python's min(max(v, lo), hi): max keeps v unless lo > v; min keeps it unless hi < it. */
static inline double clip(double v, double lo, double hi) {
    if (lo > v) v = lo;
    if (hi < v) v = hi;
    return v;
}

/* cosim.clock.to_ticks: round(seconds * 1e9), round half to even (the default mode);
 * for finite |seconds| < 4.6e9 (callers check) */
static inline int64_t to_ticks(double seconds) { return (int64_t)nearbyint(seconds * 1e9); }

/* cosim.clock.ceil_ticks: the first tick at or after seconds */
static inline int64_t ceil_ticks(double seconds) {
    const int64_t k = to_ticks(seconds);
    return (double)k / 1e9 < seconds ? k + 1 : k;
}

/* cosim.master.base.note: an FMI 3 early return ends a Gauss-Seidel macro step when it
 * stopped at least a tick short of t + dt. 1: early, 0: not, -1: leave it to Python
 * (a time to_ticks cannot take). */
static inline int early_return(double reached, double t_end) {
    if (!isfinite(reached) || fabs(reached) > 4e9) return -1;
    return ceil_ticks(reached) < to_ticks(t_end) && reached < t_end;
}

/* cosim/blocks/pid.py PID.step; bin = [measurement, setpoint], bout = [u].
 * par = kp ki kd tf lo hi reverse; state = integral derivative e_prev has_prev. */
static void pid_step(const Node *nd, double dt) {
    const double *p = nd->par;
    double *s = nd->state;
    double e = nd->bin[1] - nd->bin[0];
    if (p[6] != 0.0) e = -e;
    if (dt == 0) {
        nd->bout[0] = clip(p[0] * e + p[1] * s[0] + p[2] * s[1], p[4], p[5]);
        return;
    }
    double d;
    if (s[3] == 0.0)
        d = 0.0;
    else
        d = (p[3] * s[1] + (e - s[2])) / (p[3] + dt);
    double integral = s[0] + e * dt;
    const double u_try = p[0] * e + p[1] * integral + p[2] * d;
    if ((u_try > p[5] && e > 0) || (u_try < p[4] && e < 0)) integral = s[0];
    s[0] = integral, s[1] = d, s[2] = e, s[3] = 1.0;
    nd->bout[0] = clip(p[0] * e + p[1] * integral + p[2] * d, p[4], p[5]);
}

/* numpy Polynomial.__call__: x = off + scl * x (mapdomain), then polyval (Horner);
 * par = off scl c_0 .. c_{n-1}; ipar[0] = n. */
static void poly_step(const Node *nd) {
    const double *p = nd->par, *c = p + 2;
    const int64_t n = nd->ipar[0];
    const double x = p[0] + p[1] * nd->bin[0];
    double c0 = c[n - 1] + x * 0.0;
    for (int64_t i = 2; i <= n; i++) c0 = c[n - i] + c0 * x;
    nd->bout[0] = c0;
}

/* cosim/blocks/signals.py Step.value_at(t + dt); par = before after; ipar = time_ticks */
static void step_step(const Node *nd, double t_end) {
    nd->bout[0] = to_ticks(t_end) >= nd->ipar[0] ? nd->par[1] : nd->par[0];
}

/* Ramp.value_at(t + dt); par = start_time duration height offset; ipar = start end ticks */
static void ramp_step(const Node *nd, double t_end) {
    const double *p = nd->par;
    const int64_t ticks = to_ticks(t_end);
    if (ticks >= nd->ipar[1]) {
        nd->bout[0] = p[3] + p[2];
        return;
    }
    if (ticks <= nd->ipar[0]) {
        nd->bout[0] = p[3];
        return;
    }
    double f = (t_end - p[0]) / p[1];
    if (0.0 > f) f = 0.0;
    if (1.0 < f) f = 1.0;
    nd->bout[0] = p[3] + p[2] * f;
}

/* numpy.searchsorted(times, tq, side="right") - 1: the last i with times[i] <= tq
 * (times non-decreasing, times[0] <= tq), starting from the hint *cursor. */
static int64_t table_row(const double *times, int64_t n, double tq, double *cursor) {
    const int64_t i = (int64_t)*cursor; /* the unique answer when it and the next fit */
    if (i >= 0 && i < n && times[i] <= tq) {
        if (i + 1 == n || times[i + 1] > tq) return i;
        if (i + 2 == n || times[i + 2] > tq) {
            *cursor = (double)(i + 1);
            return i + 1;
        }
    }
    int64_t lo = 0, hi = n; /* upper bound: first index with times[index] > tq */
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (times[mid] <= tq) lo = mid + 1;
        else hi = mid;
    }
    *cursor = (double)(lo - 1);
    return lo - 1;
}

/* cosim/blocks/table.py TimeTable.values_at(t + dt): par = times[n] data[n][k];
 * ipar = n k interpolation extrapolation_error; state = [row hint]. Returns REDO when
 * Python must raise (outside the table with extrapolation "error"). */
static int table_step(const Node *nd, double t_end) {
    const int64_t n = nd->ipar[0], k = nd->ipar[1], mode = nd->ipar[2];
    const double *times = nd->par, *data = nd->par + n, *row;
    const double tq = nearbyint(t_end * 1e9) / 1e9; /* to_ticks(t) / 10**9: exact */
    double *out = nd->bout;
    if (tq < times[0] || tq > times[n - 1]) {
        if (nd->ipar[3]) return REDO;
        row = tq < times[0] ? data : data + (n - 1) * k;
    } else {
        const int64_t i = table_row(times, n, tq, nd->state);
        if (i >= n - 1) {
            row = data + (n - 1) * k;
        } else if (mode == TABLE_PREVIOUS) {
            row = data + i * k;
        } else {
            const double t_lo = times[i], t_hi = times[i + 1];
            if (mode == TABLE_NEAREST) {
                row = tq - t_lo >= t_hi - tq ? data + (i + 1) * k : data + i * k;
            } else {
                const double w = (tq - t_lo) / (t_hi - t_lo), *a = data + i * k, *b = a + k;
                for (int64_t j = 0; j < k; j++) out[j] = a[j] + w * (b[j] - a[j]);
                return 0;
            }
        }
    }
    memcpy(out, row, (size_t)k * sizeof *out);
    return 0;
}

/* a compiled user block: its state and outputs are restored when it asks for REDO */
static int cfunc_step(const Node *nd, double t, double dt) {
    double *keep = nd->backup;
    memcpy(keep, nd->state, (size_t)nd->n_state * sizeof *keep);
    memcpy(keep + nd->n_state, nd->bout, (size_t)nd->n_bout * sizeof *keep);
    if (((BlockStep)nd->step)(t, dt, nd->bin, nd->bout, nd->state, nd->par) == 0) return 0;
    memcpy(nd->state, keep, (size_t)nd->n_state * sizeof *keep);
    memcpy(nd->bout, keep + nd->n_state, (size_t)nd->n_bout * sizeof *keep);
    return REDO;
}

/* cosim/surrogates (block.py, native.py, envelope.py, narx.py, lss.py): one step of a
 * dynamic surrogate, with the layout documented in cosim/surrogates/native.py. Every sum
 * runs left to right as numpy's add.accumulate does in the Python step. */
typedef struct {
    int64_t model, n_in, n_out, intervals, hull, n_f, n_h;
    const int64_t *rest;         /* after the header: the model's integers, then dims */
    const double *low, *high, *span, *a, *b, *width, *mp; /* mp: the model's numbers */
    double h; /* the step the surrogate was trained at [s] */
} SurLayout;

static SurLayout sur_layout(const Node *nd) {
    SurLayout L;
    const int64_t *ip = nd->ipar;
    L.model = ip[0], L.n_in = ip[1], L.n_out = ip[2], L.intervals = ip[3], L.hull = ip[4];
    L.n_f = ip[5], L.n_h = ip[6], L.rest = ip + 7;
    L.low = nd->par, L.high = L.low + L.n_in, L.span = L.high + L.n_in;
    L.a = L.span + L.n_in, L.b = L.a + L.n_f * L.n_h, L.width = L.b + L.n_f;
    L.h = L.width[L.n_out], L.mp = L.width + L.n_out + 1;
    return L;
}

/* Envelope.outside for one sample: the box, then every hull facet */
static bool sur_outside(const SurLayout *L, const double *u, const int64_t *dims) {
    for (int64_t j = 0; j < L->n_in; j++)
        if (!(u[j] >= L->low[j] && u[j] <= L->high[j])) return true;
    if (!L->hull) return false;
    bool out = false;
    for (int64_t f = 0; f < L->n_f; f++) {
        double s = L->b[f];
        for (int64_t j = 0; j < L->n_h; j++) {
            const int64_t d = dims[j];
            s = s + L->a[f * L->n_h + j] * ((u[d] - L->low[d]) / L->span[d]);
        }
        if (!(s <= 1e-9)) out = true; /* cosim.surrogates.envelope.TOLERANCE */
    }
    return out;
}

/* Narx.step with a Polynomial regressor; ms: the model state [k, y lags, u lags] */
static void sur_narx(const SurLayout *L, double *ms, double *scratch, const double *u,
                     double *y) {
    const int64_t ny = L->rest[0], nu = L->rest[1], deg = L->rest[2], n_t = L->rest[3];
    const int64_t warmup = L->rest[4];
    const int64_t *terms = L->rest + 5;
    const int64_t p = L->n_out, q = L->n_in, ny_end = 1 + ny * p;
    const int64_t nz = ny * p + nu * q + (warmup > 0 ? 1 : 0);
    const double *zm = L->mp, *zsc = zm + nz, *dm = zsc + nz, *dsc = dm + p, *coef = dsc + p;
    double *z = scratch, *ext = z + nz, *acc = ext + nz + 1; /* y: not in scratch */
    if (ms[0] == 0.0) {
        for (int64_t k = 0; k < nu - 1; k++)
            for (int64_t j = 0; j < q; j++) ms[ny_end + k * q + j] = u[j];
    }
    int64_t i = 0;
    for (int64_t k = 0; k < ny * p; k++) z[i++] = ms[1 + k];
    for (int64_t j = 0; j < q; j++) z[i++] = u[j];
    for (int64_t k = 0; k < (nu - 1) * q; k++) z[i++] = ms[ny_end + k];
    if (warmup > 0) { /* Lags.warm */
        double w = 1.0 - ms[0] / (double)warmup;
        z[i++] = w > 0.0 ? w : 0.0;
    }
    for (int64_t j = 0; j < nz; j++) ext[j] = (z[j] - zm[j]) / zsc[j];
    ext[nz] = 1.0;
    for (int64_t t = 0; t < n_t; t++) {
        double f = ext[terms[t * deg]];
        for (int64_t k = 1; k < deg; k++) f = f * ext[terms[t * deg + k]];
        for (int64_t o = 0; o < p; o++)
            acc[o] = t == 0 ? f * coef[o] : acc[o] + f * coef[t * p + o];
    }
    for (int64_t o = 0; o < p; o++) y[o] = z[o] + (acc[o] * dsc[o] + dm[o]);
    /* push: shift the lags, count the step */
    for (int64_t k = ny_end - 1; k >= 1 + p; k--) ms[k] = ms[k - p];
    for (int64_t o = 0; o < p; o++) ms[1 + o] = y[o];
    if (nu > 1) {
        for (int64_t k = ny_end + (nu - 1) * q - 1; k >= ny_end + q; k--) ms[k] = ms[k - q];
        for (int64_t j = 0; j < q; j++) ms[ny_end + j] = u[j];
    }
    ms[0] = ms[0] + 1.0;
}

/* Lss.step; ms: [primed, x (n), ys0 (n_out)] */
static void sur_lss(const SurLayout *L, double *ms, double *scratch, const double *u,
                    double *y) {
    const int64_t n = L->rest[0], p = L->n_out, q = L->n_in;
    const double *um = L->mp, *usc = um + q, *ym = usc + q, *ysc = ym + p, *A = ysc + p;
    const double *B = A + n * n, *C = B + n * q, *c = C + p * n, *X0y = c + n;
    const double *X0u = X0y + n * p, *x0c = X0u + n * q;
    double *us = scratch, *x = us + q, *xs = ms + 1, *ys0 = ms + 1 + n;
    for (int64_t j = 0; j < q; j++) us[j] = (u[j] - um[j]) / usc[j];
    if (ms[0] == 0.0) {
        for (int64_t i = 0; i < n; i++) {
            double s = x0c[i];
            for (int64_t j = 0; j < p; j++) s = s + X0y[i * p + j] * ys0[j];
            for (int64_t j = 0; j < q; j++) s = s + X0u[i * q + j] * us[j];
            x[i] = s;
        }
        for (int64_t i = 0; i < n; i++) xs[i] = x[i];
        ms[0] = 1.0;
    }
    for (int64_t i = 0; i < n; i++) {
        double s = c[i];
        for (int64_t j = 0; j < n; j++) s = s + A[i * n + j] * xs[j];
        for (int64_t j = 0; j < q; j++) s = s + B[i * q + j] * us[j];
        x[i] = s;
    }
    for (int64_t i = 0; i < n; i++) xs[i] = x[i];
    for (int64_t o = 0; o < p; o++) {
        double s = 0.0;
        for (int64_t j = 0; j < n; j++) s = s + C[o * n + j] * xs[j];
        y[o] = s * ysc[o] + ym[o];
    }
}

/* DynamicSurrogate.step (on_extrapolation: warn) from t by dt; bin = inputs, bout =
 * outputs (y, [y_lo, y_hi] per output, then out_of_envelope); state layout in native.py.
 * Another step than the trained one: REDO, nothing changed (the block's Python step
 * raises the error that names the trained step). */
static int surrogate_step(const Node *nd, double t, double dt) {
    const SurLayout L = sur_layout(nd);
    double *s = nd->state, *y = s + 5;
    if (!(fabs(dt - L.h) <= fmax(1e-9 * fmax(fabs(dt), fabs(L.h)), 1e-9))) return REDO;
    const int64_t model_ints = L.model == 1 ? 5 + L.rest[2] * L.rest[3] : 1;
    const int64_t *dims = L.rest + model_ints;
    const bool outside = sur_outside(&L, nd->bin, dims);
    s[3] = outside ? 1.0 : 0.0;
    if (outside) {
        s[0] = s[0] + 1.0;
        if (isnan(s[1])) s[1] = t;
    }
    s[2] = outside ? 1.0 : 0.0;
    double *ms = y + L.n_out;
    if (L.model == 1) {
        const int64_t size = 1 + L.rest[0] * L.n_out + (L.rest[1] - 1) * L.n_in;
        sur_narx(&L, ms, ms + size, nd->bin, y);
    } else {
        const int64_t n = L.rest[0];
        double *scratch = ms + 1 + n + L.n_out;
        sur_lss(&L, ms, scratch, nd->bin, y);
    }
    int64_t k = 0;
    for (int64_t o = 0; o < L.n_out; o++) {
        nd->bout[k++] = y[o];
        if (L.intervals) {
            nd->bout[k++] = y[o] - L.width[o];
            nd->bout[k++] = y[o] + L.width[o];
        }
    }
    nd->bout[k] = s[3];
    return 0;
}

/* --------------------------------------------------------------- one node, one phase */

/* FMI 2 calls inline, everything else out of line: small loop bodies matter here (a
 * switch over all kinds inlined into the Jacobi phases cost ~15 ns per node and phase). */

/* FMI 3 doStep flags, as the adapter reads them (event, early return, terminate) */
enum { F_EVENT = 1, F_EARLY = 2, F_TERMINATE = 4 };

/* A step's times: t, dt [s] for the FMUs and blocks; now, limit [ticks] for Python. */
typedef struct {
    double t, dt;
    int64_t now, limit;
} Times;

__attribute__((noinline)) static int other_set(const Node *nd, const double *u,
                                               const Times *tm) {
    switch (nd->kind) {
    case K_FMI3:
        return nd->n_in ? ((Fmi3SetFloat64)nd->set)(nd->comp, nd->vr_in, (size_t)nd->n_in,
                                                    u + nd->in_lo, (size_t)nd->n_in) : 0;
    case K_PYTHON:
        return nd->n_in && !nd->whole ?
            ((PyTurn)nd->step)(nd->index, PH_SET, tm->now, tm->limit) : 0;
    default:
        for (int64_t k = 0; k < nd->n_in; k++) nd->bin[nd->in_map[k]] = u[nd->in_lo + k];
        return 0;
    }
}

__attribute__((noinline)) static int other_step(const Node *nd, const Times *tm,
                                                int *flags) {
    const double t = tm->t, dt = tm->dt;
    switch (nd->kind) {
    case K_FMI3: {
        const int st = ((Fmi3DoStep)nd->step)(nd->comp, t, dt, true, nd->event,
                                             nd->terminate, nd->early, nd->last_time);
        if (st <= FMI_WARNING)
            *flags = (*nd->event ? F_EVENT : 0) | (*nd->early ? F_EARLY : 0) |
                     (*nd->terminate ? F_TERMINATE : 0);
        return st;
    }
    case K_CONSTANT: nd->bout[0] = nd->par[0]; return 0;
    case K_PID: pid_step(nd, dt); return 0;
    case K_POLY: poly_step(nd); return 0;
    case K_STEP: step_step(nd, t + dt); return 0;
    case K_RAMP: ramp_step(nd, t + dt); return 0;
    case K_TABLE: return table_step(nd, t + dt);
    case K_CFUNC: return cfunc_step(nd, t, dt);
    case K_PYTHON:
        return ((PyTurn)nd->step)(nd->index, nd->whole ? PH_ALL : PH_STEP, tm->now,
                                  tm->limit);
    case K_SURROGATE: return surrogate_step(nd, t, dt);
    default: return 4;
    }
}

__attribute__((noinline)) static int other_get(const Node *nd, double *y, const Times *tm) {
    switch (nd->kind) {
    case K_FMI3:
        return nd->n_out ? ((Fmi3GetFloat64)nd->get)(nd->comp, nd->vr_out, (size_t)nd->n_out,
                                                     y + nd->out_lo, (size_t)nd->n_out) : 0;
    case K_PYTHON:
        return nd->n_out && !nd->whole ?
            ((PyTurn)nd->step)(nd->index, PH_GET, tm->now, tm->limit) : 0;
    default:
        for (int64_t k = 0; k < nd->n_out; k++) y[nd->out_lo + k] = nd->bout[nd->out_map[k]];
        return 0;
    }
}

static inline int node_set(const Node *nd, const double *u, const Times *tm) {
    if (nd->kind != K_FMI2) return other_set(nd, u, tm);
    return nd->n_in ? ((Fmi2SetReal)nd->set)(nd->comp, nd->vr_in, (size_t)nd->n_in,
                                             u + nd->in_lo) : 0;
}

/* doStep of one node: returns the FMI status (REDO: a block asks Python to redo its step;
 * 1/2 from a Python node: an outcome / an exception), sets *flags (FMI 3) */
static inline int node_step(const Node *nd, const Times *tm, int *flags) {
    *flags = 0;
    if (nd->kind != K_FMI2) return other_step(nd, tm, flags);
    return ((Fmi2DoStep)nd->step)(nd->comp, tm->t, tm->dt, 1);
}

static inline int node_get(const Node *nd, double *y, const Times *tm) {
    if (nd->kind != K_FMI2) return other_get(nd, y, tm);
    return nd->n_out ? ((Fmi2GetReal)nd->get)(nd->comp, nd->vr_out, (size_t)nd->n_out,
                                              y + nd->out_lo) : 0;
}

/* Stop at node i of step n. step_status: that node's doStep status in this step, with
 * FLAGGED added when its FMI 3 flags were set (so Python can replay the adapter). */
static inline bool failed(Report *r, int64_t n, int64_t i, int64_t phase, int st,
                          int64_t step_status) {
    r->code = R_CALL, r->step = n, r->node = i, r->phase = phase, r->status = st;
    r->step_status = step_status;
    return true;
}

/* A Python node stopped the step (1: it has an outcome for the master; 2: it raised). */
static inline bool python_stop(Report *r, int64_t n, int64_t i, int64_t phase, int code) {
    r->code = R_PYTHON, r->step = n, r->node = i, r->phase = phase, r->status = code;
    r->step_status = 0;
    return true;
}

static inline int64_t recorded(int st, int flags) { return flags ? FLAGGED + st : st; }

/* ------------------------------------------------------------------------ the masters */

/* cosim/master/gauss_seidel.py GaussSeidel.step (without loops or extrapolation):
 * per node exchange, set, doStep, get, then the outcome check -- an error status raises
 * in the adapter's do_step (before the get); discard and terminate raise after the get;
 * an early return ends the macro step; an event is only noted (under the event loop,
 * every flag stops). A Python node takes its whole turn (set, step, get) in one call. */
static bool gauss_seidel(const Ctx *x, int64_t n, const Times *tm, Report *r) {
    double *u = x->u, *y = x->y;
    const double *yp = x->y_prev;
    if (x->has_delayed) memcpy(x->y_prev, y, (size_t)x->n_y * sizeof *y);
    for (int64_t i = 0; i < x->n_nodes; i++) {
        const Node *nd = &x->nodes[i];
        x->where[0] = i;
        for (int64_t k = nd->c_lo; k < nd->c_hi; k++)
            u[x->dst[k]] = x->gain[k] * (x->delayed[k] ? yp[x->src[k]] : y[x->src[k]]) +
                           x->offset[k];
        if (nd->kind == K_PYTHON) {
            const int code = ((PyTurn)nd->step)(i, PH_ALL, tm->now, tm->limit);
            if (code) return python_stop(r, n, i, PH_ALL, code);
            continue;
        }
        int st = node_set(nd, u, tm);
        if (st > FMI_WARNING) return failed(r, n, i, PH_SET, st, 0);
        int flags;
        st = node_step(nd, tm, &flags);
        if (st > FMI_DISCARD) return failed(r, n, i, PH_STEP, st, st);
        const int got = node_get(nd, y, tm);
        if (got > FMI_WARNING) return failed(r, n, i, PH_GET, got, recorded(st, flags));
        if (st == FMI_DISCARD || (flags & F_TERMINATE) || (flags && x->stop_on_flags))
            return failed(r, n, i, PH_STEP, st, recorded(st, flags));
        if (flags & F_EARLY) { /* MacroOutcome.early ends the macro step */
            const int early = early_return(*nd->last_time, tm->t + tm->dt);
            if (early < 0) return failed(r, n, i, PH_STEP, st, recorded(st, flags));
            if (early) break;
        }
    }
    return false;
}

/* cosim/master/jacobi.py Jacobi.step (without loops or extrapolation) with
 * CoupledSystem.exchange_all: a failed doStep raises at once, before the next node. */
static bool jacobi(const Ctx *x, int64_t n, const Times *tm, Report *r) {
    double *u = x->u, *y = x->y;
    if (x->plain) {
        for (int64_t k = 0; k < x->n_conn; k++) u[x->dst[k]] = y[x->src[k]];
    } else {
        for (int64_t k = 0; k < x->n_conn; k++)
            u[x->dst[k]] = x->gain[k] * y[x->src[k]] + x->offset[k];
    }
    for (int64_t i = 0; i < x->n_nodes; i++) {
        const Node *nd = &x->nodes[i];
        x->where[0] = i;
        const int st = node_set(nd, u, tm);
        if (nd->kind == K_PYTHON && st) return python_stop(r, n, i, PH_SET, st);
        if (st > FMI_WARNING) return failed(r, n, i, PH_SET, st, 0);
    }
    for (int64_t i = 0; i < x->n_nodes; i++) {
        Node *nd = &x->nodes[i];
        int flags;
        x->where[0] = i;
        const int st = node_step(nd, tm, &flags);
        if (nd->kind == K_PYTHON && st) return python_stop(r, n, i, PH_STEP, st);
        nd->step_status = recorded(st, flags);
        if (st > FMI_WARNING || (flags & F_TERMINATE) || (flags && x->stop_on_flags))
            return failed(r, n, i, PH_STEP, st, nd->step_status);
    }
    for (int64_t i = 0; i < x->n_nodes; i++) {
        const Node *nd = &x->nodes[i];
        x->where[0] = i;
        const int st = node_get(nd, y, tm);
        if (nd->kind == K_PYTHON && st) return python_stop(r, n, i, PH_GET, st);
        if (st > FMI_WARNING) return failed(r, n, i, PH_GET, st, nd->step_status);
    }
    return false;
}

static inline bool all_finite(const double *y, int64_t n) {
    uint64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &y[i], sizeof bits);
        bad |= (uint64_t)((bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL);
    }
    return bad == 0;
}

/* cosim/events/monitors.py Monitor.holds: y[index] > >= < <= threshold (NaN: false) */
static inline bool holds(const Ctx *x, int64_t m) {
    const double v = x->y[x->mon_index[m]], c = x->mon_threshold[m];
    switch (x->mon_op[m]) {
    case 0: return v > c;
    case 1: return v >= c;
    case 2: return v < c;
    default: return v <= c;
    }
}

/* a condition that was false at the last point and holds now (EventLoop._crossed) */
static inline bool crossed(const Ctx *x) {
    bool any = false;
    for (int64_t m = 0; m < x->n_mon; m++) {
        const bool now = holds(x, m);
        any |= now && !x->mon_was[m];
        x->mon_was[m] = now;
    }
    return any;
}

/* Nanoseconds of the monotonic clock (the coarse one where it exists: a few ns a call,
 * plenty for a deadline of half a second). */
static int64_t monotonic_ns(void) {
#if defined(CLOCK_MONOTONIC_COARSE)
    const clockid_t id = CLOCK_MONOTONIC_COARSE;
#elif defined(CLOCK_MONOTONIC)
    const clockid_t id = CLOCK_MONOTONIC;
#endif
#if defined(CLOCK_MONOTONIC_COARSE) || defined(CLOCK_MONOTONIC)
    struct timespec ts;
    if (clock_gettime(id, &ts) == 0) return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
    return 0; /* no clock: never past the deadline */
}

/* Macro steps n_from..n_to; the first starts at t_first [ticks] (a point at or after
 * t0 + (n_from - 1) * h), step n ends at min(t0 + n*h, t1). Returns the number of steps
 * completed; their rows are at rows/times[0..] when record is set. When it returns fewer
 * than asked, *r says why (the step it stopped in is not recorded) -- or, with r->code
 * R_DONE, the deadline passed and the rows so far are due to the observers. */
int64_t cosim_fast_run(const Ctx *x, int64_t t_first, int64_t n_from, int64_t n_to,
                       int64_t record, Report *r) {
    r->code = R_DONE;
    int64_t countdown = x->check_every > 0 ? x->check_every : 1;
    int64_t tp = t_first;
    int64_t row = 0;
    for (int64_t m = 0; m < x->n_mon; m++) x->mon_was[m] = holds(x, m);
    for (int64_t n = n_from; n <= n_to; n++) {
        int64_t tn = x->t0 + n * x->h;
        if (tn > x->t1) tn = x->t1;
        /* cosim.clock.to_seconds: ticks / 10**9, exact for ticks a double holds exactly
         * (the Python side checks) */
        const double t = (double)tp / 1e9, now = (double)tn / 1e9;
        const Times tm = {t, now - t, tp, tn};
        if (x->jacobi ? jacobi(x, n, &tm, r) : gauss_seidel(x, n, &tm, r)) return row;
        if (x->n_mon && crossed(x)) {
            r->code = R_MONITOR, r->step = n;
            return row;
        }
        if (x->check_finite && !all_finite(x->y, x->n_y)) {
            r->code = R_NONFINITE, r->step = n;
            return row;
        }
        if (record) {
            x->times[row] = now;
            double *dst = x->rows + row * x->n_rec;
            for (int64_t j = 0; j < x->n_rec; j++) dst[j] = x->y[x->rec[j]];
        }
        row++;
        tp = tn;
        x->where[1] = tn;
        if (x->deadline_ns && --countdown == 0) {
            countdown = x->check_every > 0 ? x->check_every : 1;
            if (n < n_to && monotonic_ns() >= x->deadline_ns) return row;
        }
    }
    return row;
}
