/* datacenter_blocks.c -- the compiled step of ReturnAirMixer (datacenter_blocks.py),
 * run natively by cosim's compiled loop; bit-identical to the Python step (tests/fast).
 *
 * u = T_out_1 .. T_out_n, T_cpu_1 .. T_cpu_n [K] (the block's inputs, in declaration
 * order); y = T_return, T_cpu_max [K]; par = [n]. */

int return_air_mixer(double t, double dt, const double *u, double *y, double *state,
                     const double *par) {
    (void)t, (void)dt, (void)state;
    const int n = (int)par[0];
    if (n < 1) return 1; /* Python's step raises: let it */
    double sum = 0.0;    /* sum(outs): 0 + T_out_1 + ... in order */
    for (int i = 0; i < n; i++) sum += u[i];
    y[0] = sum / n;
    double hottest = u[n]; /* max(cpus): the first of the largest, as Python's max */
    for (int i = 1; i < n; i++)
        if (u[n + i] > hottest) hottest = u[n + i];
    y[1] = hottest;
    return 0;
}
