"""Cost of one communication step of ``RackDetailed`` (200 thermal nodes) against ``Rack``.

Both FMUs (FMI 2.0 co-simulation) are stepped directly through fmpy's ``FMU2Slave`` with the
default inputs (10 kW, 1 kg/s) and a communication step of ``--step`` seconds; each
repetition times at least 0.5 s of steps of each model, the two interleaved. Prints the
time per step of each, and the ratio per repetition as median (min-max). Writes
``bench/results/rackdetailed.json``.

    python -m bench rackdetailed [--step 10] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
MIN_SECONDS = 0.5


class Stepper:
    """One initialized instance of a model, stepped on from where it stopped."""

    def __init__(self, model: str, step: float):
        from fmpy import extract, read_model_description
        from fmpy.fmi2 import FMU2Slave

        from fmus.build import fmu_path
        path = str(fmu_path(model, 2))
        md = read_model_description(path)
        self.fmu = FMU2Slave(guid=md.guid, unzipDirectory=extract(path), modelIdentifier=model,
                             instanceName=model)
        self.fmu.instantiate()
        self.fmu.setupExperiment(startTime=0.0)
        self.fmu.enterInitializationMode()
        self.fmu.exitInitializationMode()
        self.step, self.t = step, 0.0

    def seconds_per_step(self) -> float:
        """Step for at least MIN_SECONDS; wall time per step."""
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < MIN_SECONDS:
            for _ in range(max(1, 2**min(n.bit_length(), 10))):
                self.fmu.doStep(self.t, self.step)
                self.t += self.step
                n += 1
        return elapsed / n


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench rackdetailed")
    parser.add_argument("--step", type=float, default=10.0, help="communication step [s]")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rack, detailed = Stepper("Rack", args.step), Stepper("RackDetailed", args.step)
    runs = []
    for _ in range(args.repeats):
        runs.append((rack.seconds_per_step(), detailed.seconds_per_step()))
    ratios = [d / r for r, d in runs]
    result = {
        "step_s": args.step, "repeats": args.repeats,
        "rack_us_per_step": statistics.median(r for r, _ in runs) * 1e6,
        "rackdetailed_us_per_step": statistics.median(d for _, d in runs) * 1e6,
        "ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }
    print(f"communication step {args.step:g} s, {args.repeats} repetitions of >= "
          f"{MIN_SECONDS} s each (medians)")
    print(f"  Rack          {result['rack_us_per_step']:10.1f} us per step")
    print(f"  RackDetailed  {result['rackdetailed_us_per_step']:10.1f} us per step")
    print(f"  ratio         {result['ratio_median']:10.0f} x  "
          f"(min {result['ratio_min']:.0f}, max {result['ratio_max']:.0f})")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rackdetailed.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0
