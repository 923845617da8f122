"""``python -m bench NAME [options]`` — run one benchmark and print its table.

Benchmarks (each prints its figures and ratios against a baseline measured in the same
run, and writes ``bench/results/NAME.json``):

  chain     master overhead on a chain of Gain FMUs vs a plain fmpy loop
  overhead  ns per subsystem-step: cosim, fmpy, libcosim, ecos and a C floor
  masters   adaptive vs fixed steps at equal accuracy; cost of locating events
  compare   the regression comparator on 100 signals x 1,000,000 samples
  sweep     scenarios per second: 1 vs 2 workers, a Dask LocalCluster
  reuse     per-run cost of a short run through a reused Simulation vs cosim.run
  validate  validation metrics and block bootstrap on 100 signals x 1,000,000 samples
  calibrate flagship calibration with 1 and 2 workers; coverage of its intervals
"""

from __future__ import annotations

import importlib
import sys

NAMES = ("chain", "overhead", "masters", "compare", "sweep", "reuse", "validate", "calibrate")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in NAMES:
        print(f"usage: python -m bench {{{'|'.join(NAMES)}}} [options]")
        return 2
    module = importlib.import_module(f"bench.{argv[0]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
