"""``cosim surrogate excite|fit|validate|show`` — dynamic surrogates (docs/surrogates.md)."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import ConfigError
from . import runner_options


def register(sub) -> None:
    p = sub.add_parser("surrogate", help="excite a node, fit a dynamic surrogate, validate it",
                       description="Dynamic surrogates of FMU nodes (docs/surrogates.md).")
    cmds = p.add_subparsers(dest="surrogate_command", required=True, metavar="STEP")
    _excite(cmds)
    _fit(cmds)
    _validate(cmds)
    s = cmds.add_parser("show", help="what an artifact holds: interface, model, envelope, "
                        "metrics")
    s.add_argument("artifact", help="the .surrogate file")
    s.set_defaults(func=show)


def _excite(cmds) -> None:
    p = cmds.add_parser("excite", help="run a node under excitation designs into a study file",
                        description="Run the node an excitation file names alone, driven "
                        "by random steps, ramps and chirps over its envelope, as a study "
                        "(one run per design, traces kept).")
    p.add_argument("spec", help="excitation file (.yaml): topology, node, envelope, runs")
    p.add_argument("-o", "--output", help="study file (default: NODE_excitation.h5)")
    p.add_argument("--runs", type=int, help="override the number of runs")
    p.add_argument("--horizon", type=float, help="override the seconds per run")
    runner_options.add(p)
    p.add_argument("--resume", action="store_true", help="run only the missing scenarios")
    p.add_argument("--overwrite", action="store_true", help="start again over the output")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=excite)


def _fit(cmds) -> None:
    p = cmds.add_parser("fit", help="fit a surrogate of a node from a study file",
                        description="Fit candidate models of the node's dynamics, choose by "
                        "free-run error on held-out trajectories, calibrate intervals, test; "
                        "write the artifact and its report beside it.")
    p.add_argument("study", help="study file (.h5) with traces of the node")
    p.add_argument("--node", required=True, help="the node whose inputs and outputs "
                   "were traced (the excitation file's node)")
    p.add_argument("-o", "--output", required=True, help="artifact to write (.surrogate)")
    p.add_argument("--kinds", help="comma-separated: linear, polynomial, gp, boosting, mlp, "
                   "lss (default: all)")
    p.add_argument("--lags", help="comma-separated NY:NU pairs, e.g. 2:2,3:3 (default: a "
                   "built-in set per kind)")
    p.add_argument("--degree", type=int, default=2, help="polynomial degree with --lags")
    p.add_argument("--outputs", help="comma-separated outputs to learn (default: all traced)")
    p.add_argument("--envelope", choices=("hull", "box"), default="hull",
                   help="training envelope: convex hull of the inputs, or per-input box")
    p.add_argument("--coverage", type=float, default=0.9, help="interval coverage (0.9)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the train/validation/test split and the fits")
    p.set_defaults(func=fit)


def _validate(cmds) -> None:
    p = cmds.add_parser("validate", help="closed loop: a topology with and without the "
                        "surrogate", description="Run TOPOLOGY as it is and with the "
                        "--replace nodes replaced by ARTIFACT; compare every recorded signal "
                        "(NRMSE over the reference's range), time both runs and one node "
                        "step; add the results to the artifact's report.")
    p.add_argument("artifact", help="the .surrogate file")
    p.add_argument("topology", help="topology (.yaml) with the FMU nodes to replace")
    p.add_argument("--replace", required=True, help="comma-separated FMU nodes to replace")
    p.add_argument("--reference", help="a result file of TOPOLOGY to use instead of running it")
    p.add_argument("--max-nrmse", type=float,
                   help="exit 1 when a signal's NRMSE exceeds this (e.g. 0.02)")
    p.set_defaults(func=validate)


def _csv(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def excite(args) -> int:
    from ..surrogates.excite import excite as run_excite
    from ..surrogates.excite import load_spec
    runner_options.check(args)
    spec, base = load_spec(args.spec)
    output = Path(args.output or f"{spec.node}_excitation.h5")
    runner = runner_options.runner(args)
    runs = args.runs or spec.runs
    print(f"{spec.node}: {runs} excitation runs of {args.horizon or spec.horizon:g} s on "
          f"{runner.describe()} -> {output}", flush=True)
    clock = time.perf_counter()
    df = run_excite(spec, output, base_dir=base, runs=args.runs, horizon=args.horizon,
                    runner=runner, resume=args.resume, overwrite=args.overwrite,
                    progress=not args.no_progress)
    ok = int((df["status"] == "completed").sum())
    print(f"{len(df)} runs: {ok} completed, {len(df) - ok} failed; "
          f"{time.perf_counter() - clock:.1f} s wall")
    return 0 if ok else 3


def fit(args) -> int:
    from ..surrogates.api import fit_study
    from ..surrogates.report import report_paths
    from ..surrogates.training import FitOptions, candidates_for
    lags = None
    if args.lags:
        try:
            lags = [tuple(int(x) for x in pair.split(":")) for pair in _csv(args.lags)]
        except ValueError:
            raise ConfigError(f"--lags: expected NY:NU pairs such as 2:2,3:3, got "
                              f"{args.lags!r}") from None
    options = FitOptions(candidates=candidates_for(_csv(args.kinds), lags, args.degree),
                         envelope=args.envelope, coverage=args.coverage, seed=args.seed,
                         progress=lambda text: print(f"  {text}", flush=True))
    print(f"fitting {len(options.candidates)} candidates for {args.node} from {args.study}",
          flush=True)
    art, fitted = fit_study(args.study, args.node, args.output, options, _csv(args.outputs))
    _print_test(art, fitted)
    jpath, hpath = report_paths(Path(args.output))
    print(f"artifact: {args.output}; report: {hpath} ({jpath.name})")
    return 0


def _print_test(art, fitted) -> None:
    t = fitted.test
    print(f"chosen: {fitted.candidate.label} — {art.describe()}")
    print(f"envelope: {art.envelope.describe()}")
    print(f"test on {t['trajectories']} held-out trajectories ({t['points']} points):")
    for name in art.output_names:
        fr = t["free_run"][name]
        print(f"  {name:<10} free-run RMSE {fr['rmse']:.4g}, NRMSE {fr['nrmse_range']:.3%}; "
              f"{art.intervals.coverage:.0%} interval ±{art.intervals.half_width[art.output_names.index(name)]:.4g} "
              f"covers {t['coverage_sample'][name]:.1%} of {t['sample_points']} points")


def validate(args) -> int:
    from ..surrogates.report import add_closed_loop
    from ..surrogates.validate import closed_loop
    nodes = _csv(args.replace) or []
    result = closed_loop(args.artifact, args.topology, nodes, reference=args.reference)
    add_closed_loop(Path(args.artifact), result)
    worst = 0.0
    for name, m in result["signals"].items():
        print(f"  {name:<22} NRMSE {m['nrmse_range']:7.3%}  RMSE {m['rmse']:.4g}  max "
              f"{m['max_abs_error']:.4g}")
        worst = max(worst, m["nrmse_range"])
    sp = result["speed"]
    if "node_speedup" in sp:
        print(f"node step: {sp['original_node_us']:.1f} us original, "
              f"{sp['surrogate_node_us']:.1f} us surrogate: {sp['node_speedup']:.3g}x")
    if sp.get("speedup"):
        print(f"run: {sp['original_s']:.2f} s original, {sp['surrogate_s']:.2f} s with "
              f"surrogates: {sp['speedup']:.1f}x")
    flagged = sum(result["out_of_envelope_steps"].values())
    print(f"steps outside the envelope: {flagged}")
    if args.max_nrmse is not None and worst > args.max_nrmse:
        print(f"FAIL: a signal's NRMSE ({worst:.3%}) exceeds {args.max_nrmse:.3%}")
        return 1
    return 0


def show(args) -> int:
    from ..surrogates.artifact import load
    art = load(args.artifact)
    src = art.info.get("source", {})
    print(f"{args.artifact}: surrogate of {art.node} ({src.get('model')}, {src.get('fmu')})")
    print(f"  model: {art.describe()}; step {art.step:g} s")
    ins = ", ".join(f"{p.name} [{p.unit}]" for p in art.inputs)
    outs = ", ".join(f"{p.name} [{p.unit}]" for p in art.outputs)
    print(f"  inputs: {ins}\n  outputs: {outs}")
    print(f"  envelope: {art.envelope.describe()}")
    widths = ", ".join(f"{n} ±{w:.4g}" for n, w in zip(art.output_names,
                                                        art.intervals.half_width, strict=True))
    print(f"  intervals ({art.intervals.coverage:.0%}): {widths}")
    test = art.info.get("metrics", {}).get("test", {})
    for name, m in test.get("free_run", {}).items():
        print(f"  test free-run {name}: RMSE {m['rmse']:.4g}, NRMSE {m['nrmse_range']:.3%}")
    data = art.info.get("training_data", {})
    print(f"  trained on {data.get('trajectories')} trajectories of {data.get('study_file')} "
          f"(data SHA-256 {str(data.get('data_sha256'))[:16]}…)")
    return 0
