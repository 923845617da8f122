"""Prediction bands of an ensemble: quantiles and statistics of traces across scenarios.

A study with a ``bands:`` section keeps the traces of its band signals for every
scenario; when the study finishes, the bands are computed over the completed scenarios
and written into the study file::

    /bands                    attrs: levels float64 [K], n_members, n_failed, seed,
                                     signals (JSON list), noise (JSON {signal: sigma})
    /bands/time               float64 [n]     the common time grid [s]
    /bands/<signal>/quantiles float64 [K, n]  quantile k at probability levels[k]
    /bands/<signal>/mean      float64 [n]     ensemble mean
    /bands/<signal>/std       float64 [n]     ensemble standard deviation (ddof 1)
                              attrs: units, noise_sigma (0: none)

The members of a band are the traces of the completed scenarios plus, when the study
gives a measurement ``noise`` σ for the signal, independent normal noise of that σ
(drawn from ``numpy.random.default_rng([seed, i])`` for the i-th band signal, so the
same members come back when the file is read: :meth:`Bands.members`). Quantiles use
``numpy.quantile`` (linear interpolation). With noise, the bands are *prediction*
bands for measurements; without, bands of the model output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ResultsError

DEFAULT_LEVELS = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)


@dataclass
class Bands:
    """The bands of a study file (see the module docstring)."""

    path: Path | None
    time: np.ndarray
    levels: np.ndarray
    quantiles: dict[str, np.ndarray] = field(default_factory=dict)
    mean: dict[str, np.ndarray] = field(default_factory=dict)
    std: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str | None] = field(default_factory=dict)
    noise: dict[str, float] = field(default_factory=dict)
    n_members: int = 0
    n_failed: int = 0
    seed: int = 0
    _members: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def signals(self) -> list[str]:
        return list(self.quantiles)

    def members(self, signal: str) -> np.ndarray:
        """``(m, n)``: the ensemble as the bands were computed (noise included)."""
        if signal not in self._members:
            if self.path is None:
                raise ResultsError(f"no members of {signal!r} kept in memory")
            from .store import open_file
            with open_file(self.path) as f:
                traces = _completed_traces(f, self.path, [signal], self.time.size)[signal]
            i = self.signals.index(signal)
            self._members[signal] = _with_noise(traces, self.noise.get(signal, 0.0),
                                                self.seed, i)
        return self._members[signal]


def central_intervals(levels) -> list[tuple[str, int, int]]:
    """Central intervals of increasing ``levels``: ``(percent, low index, high index)``
    for every pair ``a + b = 1``, widest first (``0.05, 0.95`` -> ``("90", i, j)``)."""
    lv = np.asarray(levels, dtype=np.float64)
    out = []
    for i, lo in enumerate(lv):
        if lo >= 0.5:
            break
        for j in range(len(lv) - 1, i, -1):
            if abs(lv[j] + lo - 1.0) < 1e-9:
                out.append((f"{100.0 * (lv[j] - lo):.6g}", i, j))
    return out


def _with_noise(traces: np.ndarray, sigma: float, seed: int, index: int) -> np.ndarray:
    if not sigma:
        return traces
    rng = np.random.default_rng([seed, index])
    return traces + sigma * rng.standard_normal(traces.shape)


def compute(time: np.ndarray, traces: dict[str, np.ndarray], levels, noise: dict[str, float],
            seed: int, units: dict[str, str | None], n_failed: int = 0) -> Bands:
    """Bands of ``traces[signal]`` ``(m, n)`` on ``time``."""
    lv = np.asarray(sorted(levels), dtype=np.float64)
    bands = Bands(None, np.asarray(time, dtype=np.float64), lv, seed=seed,
                  noise={s: float(noise.get(s, 0.0)) for s in traces}, n_failed=n_failed)
    for i, (signal, x) in enumerate(traces.items()):
        members = _with_noise(np.asarray(x, dtype=np.float64), bands.noise[signal], seed, i)
        bands._members[signal] = members
        bands.n_members = members.shape[0]
        if members.shape[0] == 0:
            raise ResultsError(f"no completed scenario to compute the bands of {signal}")
        bands.quantiles[signal] = np.quantile(members, lv, axis=0)
        bands.mean[signal] = members.mean(axis=0)
        bands.std[signal] = members.std(axis=0, ddof=1) if members.shape[0] > 1 else \
            np.zeros(members.shape[1])
        bands.units[signal] = units.get(signal)
    return bands


def write(path: str | Path, bands: Bands) -> None:
    """Write (or replace) ``/bands`` in a finished study file."""
    from .store import replaced_group
    with replaced_group(Path(path), "bands", "the prediction bands") as g:
        g.attrs.update({"levels": bands.levels, "n_members": np.int64(bands.n_members),
                        "n_failed": np.int64(bands.n_failed), "seed": np.int64(bands.seed),
                        "signals": json.dumps(bands.signals),
                        "noise": json.dumps(bands.noise)})
        g.create_dataset("time", data=bands.time).attrs["units"] = "s"
        for s in bands.signals:
            sg = g.create_group(s)
            sg.attrs.update({"units": bands.units.get(s) or "",
                             "noise_sigma": bands.noise.get(s, 0.0)})
            for name, data in (("quantiles", bands.quantiles[s]), ("mean", bands.mean[s]),
                               ("std", bands.std[s])):
                sg.create_dataset(name, data=data, compression="gzip", shuffle=True)


def read_bands(path: str | Path) -> Bands:
    """The bands of a study file (empty, with no signals, if it has none)."""
    from .store import _check, open_file
    p = Path(path)
    with open_file(p) as f:
        _check(f, p)
        g = f.get("bands")
        if g is None:
            return Bands(p, np.zeros(0), np.asarray(DEFAULT_LEVELS))
        bands = Bands(p, g["time"][()], np.asarray(g.attrs["levels"], dtype=np.float64),
                      noise=json.loads(g.attrs.get("noise", "{}")),
                      n_members=int(g.attrs["n_members"]), n_failed=int(g.attrs["n_failed"]),
                      seed=int(g.attrs.get("seed", 0)))
        for s in json.loads(g.attrs["signals"]):
            sg = g[s]
            bands.quantiles[s] = sg["quantiles"][()]
            bands.mean[s] = sg["mean"][()]
            bands.std[s] = sg["std"][()]
            unit = sg.attrs.get("units", "")
            bands.units[s] = (unit.decode() if isinstance(unit, bytes) else str(unit)) or None
    return bands


def _completed_traces(f, path: Path, signals: list[str], n: int
                      ) -> dict[str, np.ndarray]:
    """``{signal: (m, n)}`` traces of the completed scenarios of the open study file
    ``f`` (at ``path``) that have ``n`` rows, in scenario order."""
    from .store import _result_rows
    rows = _result_rows(f)
    done = {int(i) for i, s in zip(rows["scenario"], rows["status"], strict=True)
            if s == "completed"}
    g = f.get("traces")
    if g is None:
        raise ResultsError("the study file keeps no traces", path=str(path))
    ids = g["scenario"][()]
    counts = g["rows"][()]
    pick = [j for j in np.argsort(ids, kind="stable")
            if int(ids[j]) in done and int(counts[j]) == n]
    out = {}
    for s in signals:
        if s not in g:
            raise ResultsError(f"no traces of {s!r} in the study file", path=str(path))
        data = g[s][()] if pick else np.zeros((0, n))
        out[s] = data[pick, :n] if pick else data
    return out


def bands_from_file(path: str | Path, signals: list[str], levels, noise: dict[str, float],
                    seed: int, units: dict[str, str | None]) -> Bands:
    """Compute the bands from a finished study file's traces (and write nothing)."""
    from .store import open_file
    p = Path(path)
    with open_file(p) as f:
        counts = f["traces"]["rows"][()]
        n = int(counts.max(initial=0))
        g = f["traces"]
        j = int(np.argmax(counts))
        time = g["time"][j, :n]
        total = int(f.attrs.get("n_scenarios", len(counts)))
        traces = _completed_traces(f, p, signals, n)
    m = next(iter(traces.values())).shape[0] if traces else 0
    return compute(time, traces, levels, noise, seed, units, n_failed=total - m)


def plot_bands(bands: Bands | str | Path, signals: list[str] | None = None,
               path: str | Path | None = None, telemetry: dict | None = None):
    """One panel per band signal: the central intervals shaded (wider: lighter), the
    median and the mean; ``telemetry`` (signal -> (t, y)) adds measured points."""
    from matplotlib.figure import Figure

    b = bands if isinstance(bands, Bands) else read_bands(bands)
    names = signals or b.signals
    unknown = [s for s in names if s not in b.quantiles]
    if unknown or not names:
        raise ResultsError(f"no bands of {unknown[0] if unknown else 'any signal'!r} (bands: "
                           f"{', '.join(b.signals) or 'none'})")
    span = float(b.time[-1] - b.time[0]) if b.time.size else 0.0
    scale, tunit = (3600.0, "h") if span > 2 * 3600 else (1.0, "s")
    t = b.time / scale
    fig = Figure(figsize=(9, 2.8 * len(names) + 0.6), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, s in zip(axes, names, strict=True):
        q = b.quantiles[s]
        pairs = central_intervals(b.levels)
        for k, (label, i, j) in enumerate(pairs):
            ax.fill_between(t, q[i], q[j], color="tab:blue", lw=0,
                            alpha=0.15 + 0.5 * k / max(1, len(pairs)),
                            label=f"{label} % band")
        med = np.flatnonzero(np.isclose(b.levels, 0.5))
        if med.size:
            ax.plot(t, q[med[0]], color="tab:blue", lw=1.0, label="median")
        ax.plot(t, b.mean[s], color="k", lw=0.8, ls="--", label="mean")
        if telemetry and s in telemetry:
            tt, yy = telemetry[s]
            ax.plot(np.asarray(tt) / scale, yy, ".", color="tab:orange", ms=2,
                    label="telemetry")
        unit = b.units.get(s)
        ax.set_ylabel(f"{s} [{unit}]" if unit else s)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel(f"time [{tunit}]")
    noise = ", ".join(f"{s}: σ = {v:g}" for s, v in b.noise.items() if v)
    fig.suptitle(f"prediction bands of {b.n_members} members"
                 + (f" (with measurement noise {noise})" if noise else ""), fontsize="medium")
    from ..figures import declutter
    declutter(fig)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=100)
    return fig
