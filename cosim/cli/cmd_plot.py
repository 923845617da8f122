"""``cosim plot FILE`` — plot a run's result file or a study file to PNG.

A run (root attribute ``cosim_layout_version``): its signals by unit, as ``cosim run
--plot`` does. A study (root attribute ``cosim_study_version``): scatter plots of each
output against each varied parameter, heat maps when the study has a grid of two or
more keys, and the prediction bands when it has ``bands:``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ResultsError


def register(sub) -> None:
    p = sub.add_parser("plot", help="plot a result file or a study file to PNG")
    p.add_argument("file", help="HDF5 result file (cosim run -o) or study file (cosim sweep)")
    p.add_argument("-o", "--output", metavar="PNG",
                   help="image to write (default: next to FILE; a study gets FILE_scatter.png "
                   "and FILE_heatmap.png)")
    p.add_argument("--signals", nargs="+", metavar="GLOB",
                   help="run: signals to plot; study: signals of the bands")
    p.add_argument("--outputs", nargs="+", metavar="NAME", help="study: outputs to plot")
    p.add_argument("--parameters", nargs="+", metavar="KEY",
                   help="study: parameters on the x axis of the scatter plots")
    p.add_argument("--kind", choices=["scatter", "heatmap", "bands", "all"], default="all",
                   help="study: which plots (default: all that apply; bands: the prediction "
                   "bands of a study with 'bands:')")
    p.set_defaults(func=handler)


def _kind(path: Path) -> str:
    from ..studies.store import open_file
    with open_file(path) as f:
        if "cosim_study_version" in f.attrs:
            return "study"
        if "cosim_layout_version" in f.attrs:
            return "run"
    raise ResultsError("neither a cosim result file nor a study file (no "
                       "cosim_layout_version or cosim_study_version attribute)", path=str(path))


def _kinds(kind: str, df) -> list[str]:
    """The study plots asked for (``all``: those that apply; bands are added after)."""
    if kind != "all":
        return [kind]
    if not df.attrs.get("outputs"):
        return []
    grid = [g for g in df.attrs.get("grid", []) if g in df]
    return ["scatter", "heatmap"] if len(grid) >= 2 else ["scatter"]


def handler(args) -> int:
    path = Path(args.file)
    if _kind(path) == "run":
        from ..results import plot
        out = Path(args.output) if args.output else path.with_suffix(".png")
        plot(path, args.signals, path=out)
        print(f"plot: {out}")
        return 0
    from ..studies import read_study
    from ..studies.bands import plot_bands, read_bands
    from ..studies.plot import plot_study
    df = read_study(path)
    kinds = _kinds(args.kind, df)
    bands = read_bands(path) if args.kind in ("all", "bands") else None
    if args.kind == "all" and bands.signals:
        kinds.append("bands")
    for kind in kinds:
        if args.output and len(kinds) == 1:
            out = Path(args.output)
        else:
            base = Path(args.output) if args.output else path
            out = base.with_name(f"{base.stem}_{kind}.png")
        if kind == "bands":
            plot_bands(bands, args.signals, path=out)
        else:
            plot_study(df, kind=kind, outputs=args.outputs, parameters=args.parameters,
                       path=out)
        print(f"{kind}: {out}")
    return 0
