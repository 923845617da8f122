/* floor.c -- the C floor for `python -m bench overhead`.
 *
 * A hand-written co-simulation master with nothing but the unavoidable work: it dlopens
 * the FMI 2.0 co-simulation binaries the benchmark extracted (the spec names them: one
 * copy per instance, or one binary shared by every instance of an FMU -- dlopen of one
 * path loads it once), instantiates them, and runs the macro-step loop that cosim runs --
 * exchange (u = gain * y + offset over index arrays), fmi2SetReal, fmi2DoStep,
 * fmi2GetReal per node, in Gauss-Seidel or Jacobi order, with times from integer ticks --
 * without error handling beyond a status check, non-finite checks or recording. Blocks
 * (PID, polynomial, a telemetry table with linear interpolation, the flagship's return-air
 * mixer) are plain C functions here.
 *
 * Usage: floor SPEC_FILE [STEPS]   (the spec is written by bench/floors.py; STEPS
 * overrides the spec's)
 * Prints one line: "<steps> <wall ns> <check> <cpu ns>" for the timed loop (set-up
 * excluded; cpu: this thread's CPU time, for diagnosis on a loaded machine).
 *
 * Spec (whitespace-separated tokens):
 *   algorithm gs|jacobi   steps S   h_ticks H   nodes N
 *   N x  fmu2 SO MODEL_ID GUID RESOURCE_URI NAME NPAR {VR VALUE} NIN {VR} NOUT {VR}
 *        pid KP KI KD TF LO HI REVERSE SETPOINT     (inputs: measurement; output: u)
 *        poly OFF SCL NC {C}                        (input x; output y)
 *        table ROWS COLS FILE   (float64 times[ROWS] then data[ROWS][COLS]; outputs COLS)
 *        mixer N                (inputs T_out_1..N, T_cpu_1..N; outputs mean, max)
 *   conns M   M x  SRC_NODE SRC_OUT DST_NODE DST_IN GAIN OFFSET   (rows sorted by DST_NODE)
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *fmi2Component;
typedef unsigned int fmi2ValueReference;
typedef int fmi2Status;
typedef struct {
    void (*logger)(void *, const char *, fmi2Status, const char *, const char *, ...);
    void *(*allocateMemory)(size_t, size_t);
    void (*freeMemory)(void *);
    void (*stepFinished)(void *, fmi2Status);
    void *componentEnvironment;
} fmi2CallbackFunctions;

typedef fmi2Component (*Instantiate)(const char *, int, const char *, const char *,
                                     const fmi2CallbackFunctions *, int, int);
typedef fmi2Status (*Setup)(fmi2Component, int, double, double, int, double);
typedef fmi2Status (*Mode)(fmi2Component);
typedef fmi2Status (*SetReal)(fmi2Component, const fmi2ValueReference *, size_t, const double *);
typedef fmi2Status (*GetReal)(fmi2Component, const fmi2ValueReference *, size_t, double *);
typedef fmi2Status (*DoStep)(fmi2Component, double, double, int);

enum { FMU = 0, PID = 1, POLY = 2, TABLE = 3, MIXER = 4 };

typedef struct {
    int kind;
    fmi2Component c;
    SetReal set;
    GetReal get;
    DoStep step;
    Mode terminate;
    fmi2ValueReference vin[16], vout[16];
    int nin, nout, in_lo, out_lo, c_lo, c_hi;
    double p[64];         /* block parameters */
    double integral, derivative, e_prev; /* PID state */
    int has_prev;
    double *table;        /* TABLE: times[rows], data[rows][cols] */
    long rows, cols, row; /* row: the interval of the last query */
} Node;

static void logger(void *env, const char *name, fmi2Status status, const char *cat,
                   const char *msg, ...) {
    (void)env, (void)cat;
    if (status < 2) return;
    va_list ap;
    va_start(ap, msg);
    fprintf(stderr, "[%s %d] ", name, status);
    vfprintf(stderr, msg, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "floor: %s %s\n", what, detail ? detail : "");
    exit(2);
}

static void *sym(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (!f) die("missing symbol", name);
    return f;
}

static void expect(FILE *f, const char *word) {
    char buf[64];
    if (fscanf(f, "%63s", buf) != 1 || strcmp(buf, word)) die("spec: expected", word);
}

static void load_fmu(FILE *f, Node *nd, int *ui, int *yi) {
    static const fmi2CallbackFunctions cb = {logger, calloc, free, NULL, NULL};
    char so[4096], model[256], guid[256], uri[4096], name[256];
    if (fscanf(f, "%4095s %255s %255s %4095s %255s", so, model, guid, uri, name) != 5)
        die("spec: bad fmu line", NULL);
    void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!lib) die("dlopen failed:", dlerror());
    (void)model;
    Instantiate inst = (Instantiate)sym(lib, "fmi2Instantiate");
    Setup setup = (Setup)sym(lib, "fmi2SetupExperiment");
    Mode enter = (Mode)sym(lib, "fmi2EnterInitializationMode");
    Mode exit_ = (Mode)sym(lib, "fmi2ExitInitializationMode");
    nd->set = (SetReal)sym(lib, "fmi2SetReal");
    nd->get = (GetReal)sym(lib, "fmi2GetReal");
    nd->step = (DoStep)sym(lib, "fmi2DoStep");
    nd->terminate = (Mode)sym(lib, "fmi2Terminate");
    nd->c = inst(name, 1 /* fmi2CoSimulation */, guid, uri, &cb, 0, 0);
    if (!nd->c) die("fmi2Instantiate failed for", name);
    if (setup(nd->c, 0, 0.0, 0.0, 0, 0.0) > 1) die("fmi2SetupExperiment failed", name);
    int npar;
    if (fscanf(f, "%d", &npar) != 1) die("spec: bad parameter count", name);
    for (int i = 0; i < npar; i++) {
        fmi2ValueReference vr;
        double v;
        if (fscanf(f, "%u %lf", &vr, &v) != 2) die("spec: bad parameter", name);
        if (nd->set(nd->c, &vr, 1, &v) > 1) die("fmi2SetReal (parameter) failed", name);
    }
    if (fscanf(f, "%d", &nd->nin) != 1 || nd->nin > 16) die("spec: bad input count", name);
    for (int i = 0; i < nd->nin; i++)
        if (fscanf(f, "%u", &nd->vin[i]) != 1) die("spec: bad input", name);
    if (fscanf(f, "%d", &nd->nout) != 1 || nd->nout > 16) die("spec: bad output count", name);
    for (int i = 0; i < nd->nout; i++)
        if (fscanf(f, "%u", &nd->vout[i]) != 1) die("spec: bad output", name);
    if (enter(nd->c) > 1 || exit_(nd->c) > 1) die("initialization failed", name);
    nd->in_lo = *ui, nd->out_lo = *yi;
    *ui += nd->nin, *yi += nd->nout;
}

static void load_table(FILE *f, Node *nd) {
    char file[4096];
    if (fscanf(f, "%ld %ld %4095s", &nd->rows, &nd->cols, file) != 3 || nd->rows < 1)
        die("spec: bad table", NULL);
    const size_t n = (size_t)(nd->rows * (1 + nd->cols));
    nd->table = malloc(n * sizeof *nd->table);
    FILE *t = fopen(file, "rb");
    if (!t || fread(nd->table, sizeof *nd->table, n, t) != n) die("cannot read table", file);
    fclose(t);
    nd->kind = TABLE, nd->nin = 0, nd->nout = (int)nd->cols;
}

static void load_block(FILE *f, Node *nd, const char *kind, int *ui, int *yi) {
    int np = 0;
    nd->nin = 1, nd->nout = 1;
    if (!strcmp(kind, "table")) {
        load_table(f, nd);
    } else if (!strcmp(kind, "mixer")) {
        nd->kind = MIXER;
        if (fscanf(f, "%lf", &nd->p[0]) != 1) die("spec: mixer", NULL);
        nd->nin = 2 * (int)nd->p[0], nd->nout = 2;
    } else if (!strcmp(kind, "pid")) {
        nd->kind = PID;
        np = 8;
    } else if (!strcmp(kind, "poly")) {
        nd->kind = POLY;
        if (fscanf(f, "%lf %lf %lf", &nd->p[0], &nd->p[1], &nd->p[2]) != 3) die("spec: poly", 0);
        np = (int)nd->p[2];
        if (np > 60) die("spec: too many coefficients", NULL);
        for (int i = 0; i < np; i++)
            if (fscanf(f, "%lf", &nd->p[3 + i]) != 1) die("spec: poly coefficient", NULL);
        np = 0;
    } else {
        die("spec: unknown node kind", kind);
    }
    for (int i = 0; i < np; i++)
        if (fscanf(f, "%lf", &nd->p[i]) != 1) die("spec: block parameter", kind);
    nd->in_lo = *ui, nd->out_lo = *yi;
    *ui += nd->nin, *yi += nd->nout;
}

/* linear interpolation at t (held outside the table); the last interval is the hint */
static void table_step(Node *nd, double *y, double t) {
    const long n = nd->rows, k = nd->cols;
    const double *times = nd->table, *data = nd->table + n;
    double *out = y + nd->out_lo;
    if (t <= times[0] || t >= times[n - 1]) {
        memcpy(out, t <= times[0] ? data : data + (n - 1) * k, (size_t)k * sizeof *out);
        return;
    }
    long i = nd->row;
    if (i < 0 || i >= n - 1 || times[i] > t) i = 0;
    while (times[i + 1] <= t) i++;
    nd->row = i;
    const double w = (t - times[i]) / (times[i + 1] - times[i]);
    for (long j = 0; j < k; j++) out[j] = data[i * k + j] + w * (data[(i + 1) * k + j] - data[i * k + j]);
}

static void mixer_step(Node *nd, const double *u, double *y) {
    const int n = (int)nd->p[0];
    const double *in = u + nd->in_lo;
    double sum = 0.0, hottest = in[n];
    for (int i = 0; i < n; i++) sum += in[i];
    for (int i = 1; i < n; i++) if (in[n + i] > hottest) hottest = in[n + i];
    y[nd->out_lo] = sum / n, y[nd->out_lo + 1] = hottest;
}

static inline double clip(double u, double lo, double hi) {
    if (lo > u) u = lo;
    if (hi < u) u = hi;
    return u;
}

static inline void block_step(Node *nd, const double *u, double *y, double t, double dt) {
    const double *p = nd->p;
    if (nd->kind == TABLE) {
        table_step(nd, y, t + dt);
    } else if (nd->kind == MIXER) {
        mixer_step(nd, u, y);
    } else if (nd->kind == PID) { /* p: kp ki kd tf lo hi reverse setpoint */
        double e = p[7] - u[nd->in_lo];
        if (p[6] != 0.0) e = -e;
        double d = nd->has_prev ? (p[3] * nd->derivative + (e - nd->e_prev)) / (p[3] + dt) : 0.0;
        double integral = nd->integral + e * dt;
        double u_try = p[0] * e + p[1] * integral + p[2] * d;
        if ((u_try > p[5] && e > 0) || (u_try < p[4] && e < 0)) integral = nd->integral;
        nd->integral = integral, nd->derivative = d, nd->e_prev = e, nd->has_prev = 1;
        y[nd->out_lo] = clip(p[0] * e + p[1] * integral + p[2] * d, p[4], p[5]);
    } else { /* p: off scl nc c... */
        const int nc = (int)p[2];
        const double x = p[0] + p[1] * u[nd->in_lo];
        double c0 = p[3 + nc - 1] + x * 0.0;
        for (int i = 2; i <= nc; i++) c0 = p[3 + nc - i] + c0 * x;
        y[nd->out_lo] = c0;
    }
}

static inline void exchange(const Node *nd, double *u, const double *y, const int *src,
                            const int *dst, const double *gain, const double *offset) {
    for (int k = nd->c_lo; k < nd->c_hi; k++) u[dst[k]] = gain[k] * y[src[k]] + offset[k];
}

static inline void set_in(Node *nd, const double *u) {
    if (nd->kind == FMU && nd->nin && nd->set(nd->c, nd->vin, nd->nin, u + nd->in_lo) > 1)
        die("fmi2SetReal failed", NULL);
}

static inline void do_step(Node *nd, const double *u, double *y, double t, double dt) {
    if (nd->kind != FMU) {
        block_step(nd, u, y, t, dt);
        return;
    }
    if (nd->step(nd->c, t, dt, 1) > 1) die("fmi2DoStep failed", NULL);
}

static inline void get_out(Node *nd, double *y) {
    if (nd->kind == FMU && nd->nout && nd->get(nd->c, nd->vout, nd->nout, y + nd->out_lo) > 1)
        die("fmi2GetReal failed", NULL);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) die("usage: floor SPEC_FILE [STEPS]", NULL);
    FILE *f = fopen(argv[1], "r");
    if (!f) die("cannot open", argv[1]);
    char algorithm[16], kind[16];
    long long steps, h;
    int n, m, ui = 0, yi = 0;
    expect(f, "algorithm");
    if (fscanf(f, "%15s", algorithm) != 1) die("spec: algorithm", NULL);
    expect(f, "steps");
    if (fscanf(f, "%lld", &steps) != 1) die("spec: steps", NULL);
    if (argc == 3) steps = atoll(argv[2]);
    expect(f, "h_ticks");
    if (fscanf(f, "%lld", &h) != 1) die("spec: h_ticks", NULL);
    expect(f, "nodes");
    if (fscanf(f, "%d", &n) != 1 || n < 1) die("spec: nodes", NULL);
    Node *nodes = calloc((size_t)n, sizeof *nodes);
    for (int i = 0; i < n; i++) {
        if (fscanf(f, "%15s", kind) != 1) die("spec: node kind", NULL);
        if (!strcmp(kind, "fmu2"))
            load_fmu(f, &nodes[i], &ui, &yi);
        else
            load_block(f, &nodes[i], kind, &ui, &yi);
    }
    expect(f, "conns");
    if (fscanf(f, "%d", &m) != 1 || m < 0) die("spec: conns", NULL);
    int *src = calloc((size_t)m + 1, sizeof *src), *dst = calloc((size_t)m + 1, sizeof *dst);
    double *gain = calloc((size_t)m + 1, sizeof *gain), *offset = calloc((size_t)m + 1, sizeof *offset);
    for (int k = 0; k < m; k++) {
        int sn, so, dn, di;
        if (fscanf(f, "%d %d %d %d %lf %lf", &sn, &so, &dn, &di, &gain[k], &offset[k]) != 6)
            die("spec: bad connection", NULL);
        src[k] = nodes[sn].out_lo + so;
        dst[k] = nodes[dn].in_lo + di;
        if (nodes[dn].c_hi == 0) nodes[dn].c_lo = k; /* rows are sorted by target node */
        nodes[dn].c_hi = k + 1;
    }
    fclose(f);
    double *u = calloc((size_t)ui + 1, sizeof *u), *y = calloc((size_t)yi + 1, sizeof *y);
    for (int i = 0; i < n; i++) get_out(&nodes[i], y);
    const int jacobi = !strcmp(algorithm, "jacobi");

    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
    clock_gettime(CLOCK_MONOTONIC, &a);
    long long t_prev = 0;
    for (long long s = 1; s <= steps; s++) {
        const long long t_next = s * h;
        const double t = (double)t_prev / 1e9, dt = (double)t_next / 1e9 - t;
        if (jacobi) {
            for (int k = 0; k < m; k++) u[dst[k]] = gain[k] * y[src[k]] + offset[k];
            for (int i = 0; i < n; i++) set_in(&nodes[i], u);
            for (int i = 0; i < n; i++) do_step(&nodes[i], u, y, t, dt);
            for (int i = 0; i < n; i++) get_out(&nodes[i], y);
        } else {
            for (int i = 0; i < n; i++) {
                exchange(&nodes[i], u, y, src, dst, gain, offset);
                set_in(&nodes[i], u);
                do_step(&nodes[i], u, y, t, dt);
                get_out(&nodes[i], y);
            }
        }
        t_prev = t_next;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
    const long long ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    const long long cpu =
        (long long)(cb.tv_sec - ca.tv_sec) * 1000000000LL + (cb.tv_nsec - ca.tv_nsec);
    double check = 0.0; /* keep the loop's results observable */
    for (int i = 0; i < yi; i++) check += y[i];
    for (int i = 0; i < n; i++)
        if (nodes[i].kind == FMU) nodes[i].terminate(nodes[i].c);
    printf("%lld %lld %.17g %lld\n", steps, ns, check, cpu);
    return 0;
}
