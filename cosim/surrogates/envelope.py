"""The training envelope: where a surrogate's inputs may go without extrapolating.

Two kinds, chosen when fitting (``--envelope``) and stated in the artifact and report:

``box``
    each input inside ``[low, high]``, the least and greatest value it took in training.
``hull`` (default)
    the convex hull of the input vectors seen in training (held inputs of every step),
    computed by Qhull (``scipy.spatial.ConvexHull``) in box-normalised coordinates
    ``(u - low) / (high - low)``; a point is inside when every facet's ``a . un + b`` is
    at most :data:`TOLERANCE`. The hull is tighter than the box when inputs were
    correlated in training (a rack's power and air flow, say), and never larger: a
    point outside the box is outside the hull. Inputs that never varied are checked by
    the box only (they must equal their training value).

Only the inputs are checked, never the surrogate's own state. Both checks are the
same operations, in the same order, in Python and in the compiled kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-9  # in normalised units (fractions of each input's range)
KINDS = ("hull", "box")


@dataclass
class Envelope:
    """``names``, the box ``low``/``high`` and, for a hull, facets ``a`` (rows over
    the varying inputs ``dims``) and offsets ``b``."""

    kind: str
    names: list[str]
    low: np.ndarray
    high: np.ndarray
    dims: np.ndarray | None = None
    a: np.ndarray | None = None
    b: np.ndarray | None = None

    @classmethod
    def fit(cls, names: list[str], u: np.ndarray, kind: str = "hull") -> Envelope:
        """The envelope of input samples ``u`` (samples x inputs)."""
        if kind not in KINDS:
            raise ValueError(f"unknown envelope kind {kind!r}; choose {' or '.join(KINDS)}")
        u = np.asarray(u, dtype=np.float64)
        low, high = u.min(axis=0), u.max(axis=0)
        env = cls("box", list(names), low, high)
        if kind == "box":
            return env
        dims = np.flatnonzero(high > low)
        if len(dims) == 0:
            return env
        un = env.normalise(u)[:, dims]
        if len(dims) == 1:  # an interval: the box is the hull
            a, b = np.array([[1.0], [-1.0]]), np.array([-1.0, 0.0])
        else:
            from scipy.spatial import ConvexHull, QhullError
            try:
                hull = ConvexHull(np.unique(un, axis=0))
            except QhullError as err:
                raise ValueError(f"the training inputs span no {len(dims)}-dimensional "
                                 f"volume (Qhull: {str(err).splitlines()[0]}); fit with the "
                                 f"box envelope") from None
            a, b = hull.equations[:, :-1].copy(), hull.equations[:, -1].copy()
        return cls("hull", list(names), low, high, dims.astype(np.int64), a, b)

    def span(self) -> np.ndarray:
        return np.where(self.high > self.low, self.high - self.low, 1.0)

    def normalise(self, u: np.ndarray) -> np.ndarray:
        return (u - self.low) / self.span()

    def outside_one(self, u: np.ndarray) -> bool:
        """:meth:`outside` for one sample ``u`` (inputs,), with less overhead (the block
        calls it every step); the same operations in the same order."""
        if not ((u >= self.low) & (u <= self.high)).all():
            return True
        if self.kind != "hull":
            return False
        cache = self.__dict__.get("_one")
        if cache is None:
            cache = self._one = (self.span(), [np.ascontiguousarray(self.a[:, j])
                                               for j in range(len(self.dims))],
                                 [int(d) for d in self.dims])
        span, cols, dims = cache
        un = (u - self.low) / span
        s = self.b
        for col, d in zip(cols, dims, strict=True):
            s = s + col * un[d]
        return not s.max() <= TOLERANCE

    def outside(self, u: np.ndarray) -> np.ndarray:
        """For samples ``u`` (samples x inputs): True where a sample leaves the envelope.
        NaN inputs are outside."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        out = ~((u >= self.low) & (u <= self.high)).all(axis=1)
        if self.kind == "hull":
            un = self.normalise(u)
            worst = self._facet_values(un)
            out |= ~(worst <= TOLERANCE)
        return out

    def _facet_values(self, un: np.ndarray) -> np.ndarray:
        """max over facets of ``b + a[:, 0] un_0 + a[:, 1] un_1 + ...`` (summed in this
        order, as the kernel does)."""
        s = np.broadcast_to(self.b, (un.shape[0], len(self.b))).copy()
        for j, d in enumerate(self.dims):
            s = s + self.a[:, j][None, :] * un[:, d][:, None]
        return s.max(axis=1)

    def which(self, u: np.ndarray) -> list[str]:
        """The inputs of one sample outside their box (for messages)."""
        u = np.asarray(u, dtype=np.float64).reshape(-1)
        return [f"{n}={v:.6g} (trained on [{lo:.6g}, {hi:.6g}])"
                for n, v, lo, hi in zip(self.names, u, self.low, self.high, strict=True)
                if not lo <= v <= hi]

    def describe(self) -> str:
        box = ", ".join(f"{n} [{lo:.6g}, {hi:.6g}]"
                        for n, lo, hi in zip(self.names, self.low, self.high, strict=True))
        if self.kind == "box":
            return f"per-input box: {box}"
        return f"convex hull of the training inputs ({len(self.b)} facets) inside the box {box}"

    # -- storage -------------------------------------------------------------------------

    def manifest(self) -> dict:
        return {"kind": self.kind, "inputs": self.names, "low": self.low.tolist(),
                "high": self.high.tolist(), "tolerance": TOLERANCE,
                "facets": 0 if self.b is None else int(len(self.b)),
                "description": self.describe()}

    def arrays(self) -> dict[str, np.ndarray]:
        if self.kind == "box":
            return {}
        return {"envelope_dims": self.dims, "envelope_a": self.a, "envelope_b": self.b}

    @classmethod
    def restore(cls, manifest: dict, arrays: dict[str, np.ndarray]) -> Envelope:
        kind = manifest["kind"]
        low = np.asarray(manifest["low"], dtype=np.float64)
        high = np.asarray(manifest["high"], dtype=np.float64)
        if kind == "box":
            return cls("box", list(manifest["inputs"]), low, high)
        if kind != "hull":
            raise ValueError(f"unknown envelope kind {kind!r}")
        dims = np.asarray(arrays["envelope_dims"], dtype=np.int64)
        a = np.asarray(arrays["envelope_a"], dtype=np.float64)
        b = np.asarray(arrays["envelope_b"], dtype=np.float64)
        if a.shape != (len(b), len(dims)):
            raise ValueError(f"envelope facets do not fit: a {a.shape}, b {b.shape}")
        return cls("hull", list(manifest["inputs"]), low, high, dims, a, b)
