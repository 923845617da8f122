"""Sensitivity indices with SALib, a convergence check, and time-resolved indices.

Indices per method (SALib's names; ``*_conf``: half-width of the bootstrap interval at
the chosen confidence):

``sobol``     ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (and ``S2``, ``S2_conf`` pairwise)
``morris``    ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf`` (per unit of the factor's
              range on the unit scale)
``rbd_fast``  ``S1``, ``S1_conf``
``pawn``      ``minimum``, ``mean``, ``median``, ``maximum``, ``CV`` of the KS statistics

The convergence check repeats the analysis on the first half of the design (N/2: a
design of the same method at half the size) and reports, per output, the largest change
of the main indices (``S1``/``ST``, ``mu_star`` normalised by its largest value, or the
PAWN median); converged when it is at most the tolerance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import salib
from .spec import SensitivitySpec

#: The indices compared by the convergence check, per method.
MAIN = {"sobol": ("S1", "ST"), "morris": ("mu_star",), "rbd_fast": ("S1",),
        "pawn": ("median",)}
#: The index drawn in time-resolved heat maps, per method.
HEAT = {"sobol": "ST", "morris": "mu_star", "rbd_fast": "S1", "pawn": "median"}


@dataclass
class Analysis:
    """Indices of one output: ``table`` (rows: factors; columns: indices), ``s2`` (a
    ``d x d`` frame, Sobol' second order) and ``note`` (why the table is empty)."""

    table: pd.DataFrame
    s2: pd.DataFrame | None = None
    s2_conf: pd.DataFrame | None = None
    note: str = ""


def analyze(spec: SensitivitySpec, prob: dict, u: np.ndarray, y: np.ndarray) -> Analysis:
    """SALib's analysis of outputs ``y`` for the unit design ``u``."""
    names = prob["names"]
    if not np.isfinite(y).all():
        return Analysis(pd.DataFrame(index=pd.Index(names, name="factor")),
                        note=f"{int((~np.isfinite(y)).sum())} runs have no value")
    if np.ptp(y) == 0:
        return Analysis(pd.DataFrame(index=pd.Index(names, name="factor")),
                        note=f"the output is constant ({y[0]:.6g}): no index")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _salib(spec, prob, u, y)
    keys = [k for k in res if k not in ("names", "S2", "S2_conf")]
    table = pd.DataFrame({k: np.asarray(res[k], dtype=np.float64) for k in keys},
                         index=pd.Index(names, name="factor"))
    out = Analysis(table)
    if spec.method == "sobol" and spec.second_order:
        out.s2 = pd.DataFrame(np.asarray(res["S2"]), index=names, columns=names)
        out.s2_conf = pd.DataFrame(np.asarray(res["S2_conf"]), index=names, columns=names)
    return out


def _salib(spec: SensitivitySpec, prob: dict, u: np.ndarray, y: np.ndarray) -> dict:
    common = {"num_resamples": spec.resamples, "conf_level": spec.confidence,
              "seed": spec.seed}
    if spec.method == "sobol":
        return dict(salib("analyze.sobol").analyze(
            prob, y, calc_second_order=spec.second_order, **common))
    if spec.method == "morris":
        return dict(salib("analyze.morris").analyze(prob, u, y, num_levels=spec.levels,
                                                    **common))
    if spec.method == "rbd_fast":
        return dict(salib("analyze.rbd_fast").analyze(prob, u, y, **common))
    return dict(salib("analyze.pawn").analyze(prob, u, y, seed=spec.seed))


def convergence(spec: SensitivitySpec, full: Analysis, half: Analysis) -> dict:
    """``{max_change, index, factor, converged}`` comparing N with N/2."""
    worst = (0.0, "", "")
    for index in MAIN[spec.method]:
        if index not in full.table or index not in half.table:
            return {"max_change": math.nan, "index": "", "factor": "", "converged": False}
        a, b = full.table[index], half.table[index]
        if spec.method == "morris":
            scale = float(np.max(np.abs(a))) or 1.0
            a, b = a / scale, b / scale
        diff = (a - b).abs()
        if float(diff.max()) >= worst[0]:
            worst = (float(diff.max()), index, str(diff.idxmax()))
    return {"max_change": worst[0], "index": worst[1], "factor": worst[2],
            "converged": bool(worst[0] <= spec.convergence_tolerance)}


def time_resolved(spec: SensitivitySpec, prob: dict, u: np.ndarray, columns: dict[str, np.ndarray],
                  windows: list[tuple[float, float]]) -> pd.DataFrame:
    """Long table: (output, window, start, stop, factor) -> the method's indices."""
    frames = []
    for base, per_window in columns.items():
        for k, (a, b) in enumerate(windows):
            res = analyze(spec, prob, u, per_window[:, k])
            t = res.table.reset_index()
            t.insert(0, "stop", b)
            t.insert(0, "start", a)
            t.insert(0, "window", k)
            t.insert(0, "output", base)
            frames.append(t)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
