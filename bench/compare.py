"""Speed and memory of ``cosim.comparison.compare`` on large result files.

Writes two result files (cosim layout: ``/time`` plus one dataset per signal, 4096-row
chunks) with h5py — the reference, and a result that differs by noise well inside the
tube on the same time grid — then compares them and prints wall time and memory: the
peak of Python/numpy allocations (tracemalloc) and the process's peak RSS
(``getrusage``, which includes the interpreter and libraries). The same comparison at
a tenth of the length shows that memory does not grow with the run length.

    python -m bench compare [--signals 100] [--samples 1000000] [--gzip] [--jobs 1 2]

Files are uncompressed by default (``--gzip``: gzip+shuffle as the recorder writes
them; decompression then dominates). The first comparison in a process is slower
than the next ones (fresh memory pages); both are shown.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np

CHUNK = 4096
WRITE_ROWS = 1 << 17


def write(path: Path, signals: int, samples: int, noise: float, gzip: bool) -> None:
    """A result file in cosim's layout, written in slices (little memory)."""
    kw: dict = {"chunks": (CHUNK,), "maxshape": (None,)}
    if gzip:
        kw.update(compression="gzip", shuffle=True)
    rng = np.random.default_rng(1)
    with h5py.File(path, "w", libver=("v110", "v110")) as f:
        f.attrs.update({"cosim_layout_version": 1, "name": "bench", "status": "completed",
                        "algorithm": "jacobi"})
        tds = f.create_dataset("time", shape=(samples,), dtype=np.float64, **kw)
        for i0 in range(0, samples, WRITE_ROWS):
            tds[i0:i0 + WRITE_ROWS] = np.arange(i0, min(samples, i0 + WRITE_ROWS)) * 1e-3
        for s in range(signals):
            ds = f.create_dataset(f"node{s // 10}.y{s % 10}", shape=(samples,),
                                  dtype=np.float64, **kw)
            ds.attrs.update({"kind": "real", "units": ""})
            for i0 in range(0, samples, WRITE_ROWS):
                t = np.arange(i0, min(samples, i0 + WRITE_ROWS)) * 1e-3
                y = 10.0 + s + np.sin(t * (0.05 + 0.01 * s))
                if noise:
                    y += noise * rng.standard_normal(len(t))
                ds[i0:i0 + len(t)] = y


def measure(result: Path, reference: Path, jobs: int) -> tuple[float, float, str]:
    from cosim.comparison import compare
    tracemalloc.start()
    t0 = time.perf_counter()
    report = compare(result, reference, jobs=jobs)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return wall, peak / 1e6, report.summary()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench compare")
    p.add_argument("--signals", type=int, default=100)
    p.add_argument("--samples", type=int, default=1_000_000)
    p.add_argument("--gzip", action="store_true", help="gzip+shuffle, as cosim records")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = p.parse_args(argv)
    import cosim.comparison  # noqa: F401 - import time is not comparison time
    print(f"compare: {args.signals} signals, {'gzip' if args.gzip else 'uncompressed'}")
    with tempfile.TemporaryDirectory(prefix="cosim-bench-") as tmp:
        rows = []
        for samples in (args.samples // 10, args.samples):
            ref, res = Path(tmp, f"ref{samples}.h5"), Path(tmp, f"res{samples}.h5")
            t0 = time.perf_counter()
            write(ref, args.signals, samples, 0.0, args.gzip)
            write(res, args.signals, samples, 1e-6, args.gzip)
            os.sync()  # no write-back of the fresh files during the measurement
            print(f"  wrote 2 x {args.signals} x {samples:,} samples "
                  f"({2 * ref.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
            for jobs in args.jobs:
                for attempt in ("first", "again"):
                    wall, peak, summary = measure(res, ref, jobs)
                    rows.append((samples, jobs, attempt, wall, peak, summary))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'samples':>10} {'jobs':>4} {'run':>6} {'wall [s]':>9} "
          f"{'Msamples/s':>10} {'tracemalloc peak [MB]':>22}  verdict")
    for samples, jobs, attempt, wall, peak, summary in rows:
        rate = 2 * args.signals * samples / wall / 1e6
        print(f"  {samples:>10,} {jobs:>4} {attempt:>6} {wall:>9.2f} {rate:>10.0f} "
              f"{peak:>22.1f}  {summary}")
    print(f"  peak RSS of this process (interpreter, libraries, file writing): {rss:.0f} MB")
    print("  (with jobs > 1 the workers' memory is not in these figures; each holds one "
          "block per signal like the serial run)")
    return 0
