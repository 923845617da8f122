"""Speed of ``cosim.validation`` on 100 signals x 1,000,000 samples.

The engine (:func:`cosim.validation.validate_series`, what ``cosim validate`` runs once
run and telemetry are aligned) computes every point metric of every signal, then — with
bootstrap — 1,000 moving-block replicates of each. Interleaved in the same run, the
baseline computes five of the metrics (MAE, RMSE, R², MAPE, max error) with
scikit-learn, one call per metric and signal. Each is repeated (``--repeat``, >= 5) and
the medians, min-max and the ratio are printed; results in ``bench/results/validate.json``.

    python -m bench validate [--signals 100] [--samples 1000000] [--repeat 5]
                             [--replicates 1000] [--block 100]

The bootstrap uses a given block length (``--block``, samples): the automatic choice
(Politis-White, one FFT per signal) is timed once on its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def make(signals: int, samples: int) -> list:
    from cosim.validation import Series
    rng = np.random.default_rng(1)
    t = np.arange(samples) * 1e-3
    out = []
    for s in range(signals):
        obs = 10.0 + s + np.sin(t * (0.05 + 0.01 * s))
        model = obs + 0.01 * rng.standard_normal(samples) + 0.001
        out.append(Series(f"node{s // 10}.y{s % 10}", "K", t, model, obs))
    return out


def engine(series: list, replicates: int, block: int | str) -> tuple[float, dict]:
    from cosim.validation import Options, validate_series
    t0 = time.perf_counter()
    _, info = validate_series(series, Options(replicates=replicates, block=block))
    return time.perf_counter() - t0, info


def baseline(series: list) -> float:
    from sklearn import metrics as skm
    t0 = time.perf_counter()
    for s in series:
        skm.mean_absolute_error(s.obs, s.model)
        skm.root_mean_squared_error(s.obs, s.model)
        skm.r2_score(s.obs, s.model)
        skm.mean_absolute_percentage_error(s.obs, s.model)
        skm.max_error(s.obs, s.model)
    return time.perf_counter() - t0


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench validate")
    p.add_argument("--signals", type=int, default=100)
    p.add_argument("--samples", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--replicates", type=int, default=1000)
    p.add_argument("--block", type=int, default=100)
    args = p.parse_args(argv)
    import sklearn.metrics  # noqa: F401 - import time is not metric time

    import cosim.validation  # noqa: F401
    print(f"validate: {args.signals} signals x {args.samples:,} samples, "
          f"{args.repeat} repeats")
    series = make(args.signals, args.samples)
    plain, boot, base = [], [], []
    for k in range(args.repeat):
        plain.append(engine(series, 0, args.block)[0])
        base.append(baseline(series))
        wall, info = engine(series, args.replicates, args.block)
        boot.append(wall)
        print(f"  repeat {k + 1}: metrics {plain[-1]:.2f} s, sklearn (5 metrics) "
              f"{base[-1]:.2f} s, with {args.replicates} bootstrap replicates {wall:.2f} s")
    t0 = time.perf_counter()
    from cosim.validation import auto_block_length
    autos = [auto_block_length(s.model - s.obs) for s in series]
    auto_wall = time.perf_counter() - t0
    ratios = [a / b for a, b in zip(plain, base, strict=True)]
    res = {"signals": args.signals, "samples": args.samples, "block": args.block,
           "replicates": args.replicates, "metrics": summary(plain),
           "sklearn_5_metrics": summary(base), "bootstrap": summary(boot),
           "ratio_metrics_to_sklearn": summary(ratios),
           "auto_block": {"wall": auto_wall, "median_length": statistics.median(autos)}}
    m, b, s = res["metrics"], res["bootstrap"], res["sklearn_5_metrics"]
    print(f"\nevery point metric of every signal: "
          f"median {m['median']:.2f} s (min {m['min']:.2f}, max {m['max']:.2f}); target <= 2 s")
    print(f"with {args.replicates} block-bootstrap replicates (block {args.block}): median "
          f"{b['median']:.2f} s (min {b['min']:.2f}, max {b['max']:.2f}); target <= 20 s")
    r = res["ratio_metrics_to_sklearn"]
    print(f"baseline, scikit-learn for 5 of the metrics: median {s['median']:.2f} s; cosim "
          f"(all metrics) / sklearn: {r['median']:.2f}x (min {r['min']:.2f}, max {r['max']:.2f})")
    print(f"automatic block length (Politis-White, all signals): {auto_wall:.2f} s, median "
          f"length {res['auto_block']['median_length']:g} samples")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.json").write_text(json.dumps(res, indent=2))
    return 0
