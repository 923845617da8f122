"""The surrogate's report, stored beside the artifact: ``NAME.report.json`` and ``.html``.

Sections: the interface and the source model; the envelope (kind, bounds); every
candidate's one-step and free-run errors on the validation trajectories and the choice;
the chosen model's test errors and the interval coverage measured on held-out
trajectories; and, once ``cosim surrogate validate`` has run it in a topology, the
closed-loop errors against the original model and the speed-up.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .artifact import Artifact


def report_paths(artifact_path: Path) -> tuple[Path, Path]:
    p = Path(artifact_path)
    return p.with_name(p.name + ".report.json"), p.with_name(p.name + ".report.html")


def write_report(art: Artifact, artifact_path: Path,
                 closed_loop: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write both files; ``closed_loop`` (from validation) is kept if given."""
    jpath, hpath = report_paths(artifact_path)
    data = {"artifact": str(Path(artifact_path).name), "digest": art.info.get("digest"),
            "node": art.node, "step": art.step, "model": art.describe(), "kind": art.kind,
            "interface": {"inputs": [p.manifest() for p in art.inputs],
                          "outputs": [p.manifest() for p in art.outputs]},
            "envelope": art.envelope.manifest(),
            "intervals": art.intervals.manifest(art.output_names),
            "source": art.info.get("source", {}),
            "training_data": art.info.get("training_data", {}),
            "metrics": art.info.get("metrics", {})}
    if closed_loop is not None:
        data["closed_loop"] = closed_loop
    jpath.write_text(json.dumps(data, indent=1))
    hpath.write_text(render_html(data))
    return jpath, hpath


def add_closed_loop(artifact_path: Path, closed_loop: dict[str, Any]) -> tuple[Path, Path]:
    """Add (or replace) the closed-loop section of an existing report."""
    jpath, hpath = report_paths(artifact_path)
    data = json.loads(jpath.read_text()) if jpath.is_file() else {}
    data["closed_loop"] = closed_loop
    jpath.write_text(json.dumps(data, indent=1))
    hpath.write_text(render_html(data))
    return jpath, hpath


# -- HTML ---------------------------------------------------------------------------------

_STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:
collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.chosen{background:#e8f4e8}"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _num(x: Any, fmt: str = ".4g") -> str:
    return "—" if x is None else format(float(x), fmt)


def _table(head: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return "".join(out) + "</table>"


def render_html(d: dict[str, Any]) -> str:
    parts = [f"<!doctype html><meta charset=utf-8><title>surrogate {_e(d.get('node'))}</title>"
             f"<style>{_STYLE}</style><h1>Surrogate of {_e(d.get('node'))}: "
             f"{_e(d.get('model'))}</h1>"]
    src = d.get("source", {})
    parts.append(f"<p>Replaces {_e(src.get('model'))} ({_e(src.get('fmu'))}, SHA-256 "
                 f"{_e(str(src.get('sha256'))[:16])}…), step {_e(d.get('step'))} s. Artifact "
                 f"digest {_e(str(d.get('digest'))[:16])}….</p>")
    parts.append(_interface(d))
    env = d.get("envelope", {})
    parts.append(f"<h2>Envelope</h2><p>{_e(env.get('description'))}</p>")
    parts.append(_candidates(d))
    parts.append(_test(d))
    if "closed_loop" in d:
        parts.append(_closed(d["closed_loop"]))
    return "".join(parts)


def _interface(d: dict[str, Any]) -> str:
    rows = [[f'<span class=l>{_e(p["name"])}</span>', kind, _e(p.get("unit")),
             _num(p.get("start"))]
            for kind in ("input", "output")
            for p in d.get("interface", {}).get(kind + "s", [])]
    return "<h2>Interface</h2>" + _table(["port", "", "unit", "start"], rows)


def _candidates(d: dict[str, Any]) -> str:
    m = d.get("metrics", {})
    names = [p["name"] for p in d.get("interface", {}).get("outputs", [])]
    head = ["candidate", "score (free-run NRMSE)"] + [f"free-run RMSE {n}" for n in names] \
        + [f"one-step RMSE {n}" for n in names] + ["fit [s]"]
    rows, classes = [], []
    for c in m.get("candidates", []):
        fr, os_ = c.get("free_run", {}), c.get("one_step", {})
        rows.append([_e(c["candidate"]), _num(c.get("score"), ".3%") if c.get("score")
                     is not None else _e(c.get("error") or "diverged")]
                    + [_num(fr.get(n, {}).get("rmse")) for n in names]
                    + [_num(os_.get(n, {}).get("rmse")) for n in names]
                    + [_num(c.get("fit_seconds"), ".1f")])
        classes.append("chosen" if c["candidate"] == m.get("chosen") else "")
    return (f"<h2>Candidates</h2><p>Chosen by {_e(m.get('selection'))}: "
            f"<b>{_e(m.get('chosen'))}</b>.</p>" + _table(head, rows, classes))


def _test(d: dict[str, Any]) -> str:
    t = d.get("metrics", {}).get("test", {})
    iv = d.get("intervals", {})
    names = list(iv.get("half_width", {}))
    rows = []
    for n in names:
        fr, os_ = t.get("free_run", {}).get(n, {}), t.get("one_step", {}).get(n, {})
        rows.append([_e(n), _num(fr.get("rmse")), _num(fr.get("nrmse_range"), ".3%"),
                     _num(fr.get("max_abs_error")), _num(os_.get("rmse")),
                     _num(iv["half_width"][n]),
                     _num(t.get("coverage_sample", {}).get(n), ".1%"),
                     _num(t.get("coverage_all", {}).get(n), ".1%")])
    return (f"<h2>Test ({t.get('trajectories')} held-out trajectories, {t.get('points')} "
            f"points)</h2><p>Intervals: {_e(iv.get('method'))}, nominal coverage "
            f"{_num(iv.get('coverage'), '.0%')} ({iv.get('n_calibration')} calibration "
            f"points).</p>" + _table(
                ["output", "free-run RMSE", "NRMSE", "max |error|", "one-step RMSE",
                 "interval ±", f"coverage ({t.get('sample_points')} points)",
                 "coverage (all)"], rows))


def _closed(c: dict[str, Any]) -> str:
    rows = [[_e(s), _num(v.get("nrmse_range"), ".3%"), _num(v.get("rmse")),
             _num(v.get("max_abs_error"))] for s, v in c.get("signals", {}).items()]
    speed = c.get("speed", {})
    return (f"<h2>Closed loop: {_e(c.get('topology'))}</h2><p>{_e(c.get('description', ''))}"
            f" Nodes replaced: {_e(', '.join(c.get('replaced', [])))}. Wall time "
            f"{_num(speed.get('original_s'), '.2f')} s with the original model, "
            f"{_num(speed.get('surrogate_s'), '.2f')} s with the surrogate "
            f"({_num(speed.get('speedup'), '.1f')}×); per node step "
            f"{_num(speed.get('original_node_us'), '.1f')} µs vs "
            f"{_num(speed.get('surrogate_node_us'), '.1f')} µs "
            f"({_num(speed.get('node_speedup'), '.0f')}×).</p>"
            + _table(["signal", "NRMSE (range)", "RMSE", "max |error|"], rows))
