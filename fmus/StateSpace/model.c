/* StateSpace: der(x) = A x + B u, y = C x + D u; matrices row-major, sizes nx, nu, ny */
#include "model.h"

static const char *initialize(Model *m) {
    for (size_t i = 0; i < V(nx); i++) V(x)[i] = V(x0)[i];
    return NULL;
}

/* out[r] = M[r, :] . v for an [rows, cols] matrix M, accumulated */
static void mul_add(const double *M, const double *v, size_t rows, size_t cols, double *out) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) out[r] += M[r * cols + c] * v[c];
}

static void outputs(Model *m) {
    const size_t nx = V(nx), nu = V(nu), ny = V(ny);
    for (size_t i = 0; i < ny; i++) V(y)[i] = 0.0;
    mul_add(V(C), V(x), ny, nx, V(y));
    mul_add(V(D), V(u), ny, nu, V(y));
    double one = 0.0, two = 0.0, max = 0.0;
    for (size_t i = 0; i < nx; i++) {
        const double a = fabs(V(x)[i]);
        one += a;
        two += a * a;
        max = fmax(max, a);
    }
    V(x_norms)[0] = one;
    V(x_norms)[1] = sqrt(two);
    V(x_norms)[2] = max;
}

static void derivatives(const Model *m, double dx[]) {
    const size_t nx = V(nx), nu = V(nu);
    mul_add(V(A), V(x), nx, nx, DERA(x)); /* dx[] is zero-filled */
    mul_add(V(B), V(u), nx, nu, DERA(x));
}

const ModelFunctions MODEL = {.initialize = initialize, .outputs = outputs,
                              .derivatives = derivatives};
