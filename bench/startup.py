"""Start-up: whole-process wall time of ``import cosim``, ``cosim --help`` and a short run.

    python -m bench startup [--runs 7]

Each command runs ``--runs`` times as a fresh process (after one warm-up run each), the
commands taking turns, beside ``python -c pass`` (the interpreter's own start-up);
printed: the median and min-max wall time of each. Targets of issue 18: ``import cosim``
<= 0.25 s, ``cosim --help`` <= 0.35 s (medians). Writes ``bench/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"import cosim": 0.25, "cosim --help": 0.35}


def commands() -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python -c pass": [py, "-c", "pass"],
        "import cosim": [py, "-c", "import cosim"],
        "cosim --help": [py, "-m", "cosim", "--help"],
        "cosim run decay_chain.yaml": [py, "-m", "cosim", "run", "--no-progress",
                                       str(ROOT / "topologies" / "decay_chain.yaml")],
    }


def wall(cmd: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    clock = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - clock


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench startup")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    cmds = commands()
    for cmd in cmds.values():  # warm-up: page cache, compiled byte code
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():
            times[name].append(wall(cmd))
    print(f"whole-process wall time, {args.runs} runs each (interleaved), "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'command':<30}{'median [s]':>12}{'min':>8}{'max':>8}  target")
    for name, values in times.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (
            f"<= {target} s: {'met' if statistics.median(values) <= target else 'NOT met'}")
        print(f"{name:<30}{statistics.median(values):>12.3f}{min(values):>8.3f}"
              f"{max(values):>8.3f}  {verdict}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(times, indent=2))
    return 0
