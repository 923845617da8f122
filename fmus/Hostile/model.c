/* Hostile: y = t; crashes, exits or hangs on request (see model.json) */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "model.h"

enum { NONE, SEGFAULT, ABORT, EXIT, HANG_IN_STEP, HANG_IN_INIT };

static void hang(void) {
    for (;;) { /* sleeps, so it costs no CPU; signals only interrupt one sleep */
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
}

static void fail(int fault) {
    volatile int *volatile nowhere = NULL; /* a real invalid write: SIGSEGV */
    switch (fault) {
    case SEGFAULT: *nowhere = 42; break;
    case ABORT: abort();
    case EXIT: _exit(3);
    case HANG_IN_STEP: hang();
    default: break;
    }
}

static const char *initialize(Model *m) {
    return V(fault) < NONE || V(fault) > HANG_IN_INIT ? "fault must be 0 ... 5" : NULL;
}

static const char *exit_initialization(Model *m) {
    if (V(fault) == HANG_IN_INIT) hang();
    return NULL;
}

static void outputs(Model *m) { V(y) = m->time; }

static const char *check_step(const Model *m, double t_end) {
    if (t_end > V(t_fault)) fail(V(fault));
    return NULL;
}

const ModelFunctions MODEL = {.initialize = initialize, .exit_initialization = exit_initialization,
                              .outputs = outputs, .check_step = check_step};
