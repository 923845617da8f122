"""The kernel's build and cache, the fallback without a compiler (one warning per process),
and the guard that keeps blocks whose code changed (a subclass, an instance override)
off the kernel."""

from __future__ import annotations

import warnings

import pytest
from fast_helpers import run_both

import cosim
import cosim.fast
from bench.overhead import gain_chain, to_cosim
from cosim.blocks.pid import PID
from cosim.fast import FastPathWarning, build


@pytest.fixture
def fresh_kernel(monkeypatch):
    """Forget the loaded kernel and the warn-once flag; restore both afterwards."""
    build.reset()
    monkeypatch.setattr(cosim.fast, "_warned", False)
    yield
    build.reset()


def test_no_compiler_runs_the_python_loop_and_warns_once(fresh_kernel, monkeypatch, tmp_path,
                                                         fmus):
    monkeypatch.setenv("COSIM_CC", str(tmp_path / "no-such-cc"))
    topo = to_cosim(gain_chain(3), 50, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_both(topo, expect_fast=False)
        run_both(topo, algorithm="jacobi", expect_fast=False)
    ours = [w for w in caught if issubclass(w.category, FastPathWarning)]
    assert len(ours) == 1 and "no C compiler" in str(ours[0].message)


def test_compile_error_falls_back(fresh_kernel, monkeypatch, tmp_path, fmus):
    bad = tmp_path / "kernel.c"
    bad.write_text("this is not C\n")
    monkeypatch.setattr(build, "SOURCE", bad)
    monkeypatch.setenv("COSIM_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(FastPathWarning, match="failed"):
        run_both(to_cosim(gain_chain(2), 20, tmp_path), expect_fast=False)


def test_kernel_is_built_once_into_the_cache(fresh_kernel, monkeypatch, tmp_path):
    monkeypatch.setenv("COSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "compile_seconds", None)
    build.kernel()
    assert build.compile_seconds is not None and build.compile_seconds > 0
    built = list((tmp_path / "fast").glob("kernel-*.so"))
    assert len(built) == 1
    build.reset()
    monkeypatch.setattr(build, "compile_seconds", None)
    build.kernel()
    assert build.compile_seconds is None  # loaded from the cache
    assert list((tmp_path / "fast").iterdir()) == built  # no temporary files left


class SlowerPID(PID):
    """A PID whose step is not PID's: the kernel's PID would compute something else."""

    def step(self, t, dt, inputs):
        out = super().step(t, dt, inputs)
        return {"u": 0.5 * out["u"]}


def _pid_chain(tmp_path, cls):
    topo = to_cosim(gain_chain(2), 20, tmp_path)
    topo.add_block("ctrl", cls, parameters={"kp": 0.3, "ki": 0.1},
                   start={"setpoint": 1.0, "measurement": 0.0})
    return topo


def _reason(sim, node: str) -> str | None:
    return {p.name: p.reason for p in cosim.fast.node_plan(sim)}[node]


def test_a_block_whose_step_is_replaced_runs_in_python(tmp_path, fmus):
    python, _ = run_both(_pid_chain(tmp_path, SlowerPID), python={"ctrl"})
    with cosim.Simulation(_pid_chain(tmp_path, SlowerPID)) as sim:
        assert cosim.fast.explain(sim) is None
        assert "replaces step() of PID" in _reason(sim, "ctrl")
    # the subclass's own law holds: u = 0.5 * kp * e at the first step (e = 1, I = e*dt)
    first = python.df["ctrl.u"].iloc[1]
    dt = python.info.step
    assert first == pytest.approx(0.5 * (0.3 * 1.0 + 0.1 * dt), rel=1e-12)


def test_a_block_method_replaced_on_the_instance_runs_in_python(tmp_path, fmus):
    with cosim.Simulation(_pid_chain(tmp_path, PID)) as sim:
        assert _reason(sim, "ctrl") is None
        block = sim.system.subsystems[sim.system.index["ctrl"]].block
        block.error = lambda inputs: 0.0
        assert "replaces error() of PID" in _reason(sim, "ctrl")


def test_python_loop_when_asked(fmus, tmp_path):
    topo = to_cosim(gain_chain(2), 20, tmp_path)
    from fast_helpers import compiled_loops
    with compiled_loops() as seen:
        cosim.run(topo, fast=False)
        cosim.run(topo, trace=True)
    assert seen == []
