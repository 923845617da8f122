"""Moving-block bootstrap confidence intervals for metrics that are ratios of sums.

Telemetry residuals are autocorrelated, so resampling single samples would understate
the uncertainty of a metric. The moving-block bootstrap (Künsch 1989) resamples blocks
of ``L`` consecutive samples instead: a replicate is ``n // L`` blocks of length ``L``
with uniformly random starts in ``0..n-L`` (overlapping blocks), plus one block of the
remaining ``n mod L`` samples, so that every replicate has exactly ``n`` samples.

Every metric with an interval here is a function of per-sample sums (counts, residual
sums, squares, ...), so a replicate needs only the sums over its blocks. The sums over
all ``n - L + 1`` blocks come from one cumulative sum, and the replicates' draws are a
sparse ``(B, n - L + 1)`` count matrix shared by every signal on the same time grid:
``replicate sums = counts @ block sums`` — one sparse product per signal instead of
``B x n`` gathers.

``auto`` block length: Politis & White (2004) with the correction of Patton, Politis &
White (2009), for the circular/moving-block bootstrap, from the residuals' sample
autocovariances (flat-top lag window). Percentile intervals.
"""

from __future__ import annotations

import math

import numpy as np

#: Replicates by default, and the default confidence level.
REPLICATES, LEVEL = 1000, 0.95


class MovingBlockBootstrap:
    """Block draws for series of ``n`` samples, reused for every signal of one grid.

    ``sums(x)`` maps per-sample quantities ``x`` of shape ``(n, q)`` to the ``(B, q)``
    sums of each replicate; :meth:`sums_of` does the same for quantities given one at a
    time (less memory). The count matrices are stored by column (CSC), so the product
    streams through the block sums in order and accumulates into the small ``(B, q)``
    result, which stays in cache.
    """

    def __init__(self, n: int, length: int, replicates: int = REPLICATES, seed: int = 0):
        from scipy import sparse
        if length < 1:
            raise ValueError(f"block length must be >= 1, got {length}")
        if n < length:
            raise ValueError(f"{n} samples are fewer than the bootstrap block ({length})")
        self.n, self.length, self.replicates, self.seed = n, length, replicates, seed
        rng = np.random.default_rng(seed)
        full, rest = divmod(n, length)
        starts = rng.integers(0, n - length + 1, size=(replicates, full))
        rows = np.repeat(np.arange(replicates), full)
        self.full = sparse.csc_matrix((np.ones(rows.size), (rows, starts.ravel())),
                                      shape=(replicates, n - length + 1))
        self.full.sum_duplicates()
        self.rest = rest
        self.rest_matrix = None
        if rest:
            last = rng.integers(0, n - rest + 1, size=replicates)
            self.rest_matrix = sparse.csc_matrix(
                (np.ones(replicates), (np.arange(replicates), last)),
                shape=(replicates, n - rest + 1))
        self.buffers = Buffers()

    def sums(self, x: np.ndarray) -> np.ndarray:
        """``(B, q)`` replicate sums of the per-sample quantities ``x`` ``(n, q)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] != self.n:
            raise ValueError(f"expected {self.n} samples, got {x.shape[0]}")
        return self.sums_of((x[:, j] for j in range(x.shape[1])), x.shape[1])

    def sums_of(self, columns, q: int, buffers: Buffers | None = None) -> np.ndarray:
        """Replicate sums of ``q`` quantities given one at a time (each ``(n,)``; an
        array may be overwritten once the next one is requested). ``buffers``: scratch
        space of the calling thread (default: this object's own)."""
        b = buffers or self.buffers
        cs = b.get("cs", (self.n + 1,))
        cs[0] = 0.0
        blocks = b.get("blocks", (self.n - self.length + 1, q))
        rest = b.get("rest", (self.n - self.rest + 1, q)) if self.rest else None
        for j, column in enumerate(columns):
            np.cumsum(column, out=cs[1:])
            np.subtract(cs[self.length:], cs[:-self.length], out=blocks[:, j])
            if rest is not None:
                np.subtract(cs[self.rest:], cs[:-self.rest], out=rest[:, j])
        out = self.full @ blocks
        if rest is not None:
            out += self.rest_matrix @ rest
        return np.asarray(out)


class Buffers:
    """Scratch arrays by name, kept while their shape stays the same."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        buf = self._arrays.get(name)
        if buf is None or buf.shape != shape:
            buf = self._arrays[name] = np.empty(shape)
        return buf


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of the finite ``values``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    a = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(v, [a, 100.0 - a])
    return float(lo), float(hi)


# -- automatic block length ------------------------------------------------------------------


def autocovariance(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocovariances ``R(0..max_lag)`` (divisor n) of the finite series ``x``
    (by FFT, zero-padded by ``max_lag``: exact for those lags)."""
    from scipy import fft
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = x.size
    max_lag = min(max_lag, n - 1)
    size = fft.next_fast_len(n + max_lag + 1, real=True)
    f = fft.rfft(x, size)
    f *= np.conj(f)
    return fft.irfft(f, size)[:max_lag + 1] / n


def _flat_top(t: np.ndarray) -> np.ndarray:
    t = np.abs(t)
    return np.where(t <= 0.5, 1.0, np.where(t <= 1.0, 2.0 * (1.0 - t), 0.0))


def auto_block_length(x: np.ndarray) -> int:
    """Politis-White optimal block length for the moving-block bootstrap of ``x``'s mean
    (finite values, in samples; at least 1, at most n / 3)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 8:
        return 1
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = math.ceil(math.sqrt(n)) + k_n
    acov = autocovariance(x, min(n - 1, 2 * m_max))
    if acov[0] <= 0:
        return 1
    rho = acov / acov[0]
    bound = 2.0 * math.sqrt(math.log10(n) / n)
    small = np.abs(rho[1:]) < bound  # small[j] is lag j + 1
    m_hat = m_max
    for m in range(0, m_max):
        if small[m:m + k_n].all():
            m_hat = m
            break
    big_m = min(2 * max(m_hat, 1), m_max)
    lags = np.arange(-big_m, big_m + 1)
    weights = _flat_top(lags / big_m)
    r = acov[np.abs(lags)]
    g = float(np.sum(weights * np.abs(lags) * r))
    g0 = float(np.sum(weights * r))
    d = (4.0 / 3.0) * g0 * g0
    if d <= 0 or g == 0:
        return 1
    b = (2.0 * g * g / d) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return int(min(max(1, round(b)), max(1, n // 3)))
