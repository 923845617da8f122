"""The kernel's build and cache, the fallback without a compiler (one warning per process),
and the guard that keeps the kernel in step with the Python code it replicates."""

from __future__ import annotations

import warnings

import pytest
from fast_helpers import run_both

import cosim
import cosim.fast
from bench.overhead import gain_chain, to_cosim
from cosim.fast import FastPathWarning, build, reference


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


def test_reference_code_is_current():
    """Fails when code the kernel replicates changed: bring kernel.c up to date, then
    refresh PINNED with ``python -m cosim.fast.reference``."""
    assert reference.stale(list(reference.GROUPS)) is None


def test_changed_reference_disables_the_compiled_loop(monkeypatch, tmp_path, fmus):
    name = "cosim.master.jacobi:Jacobi.step"
    monkeypatch.setitem(reference.PINNED, name, "0" * 16)
    topo = to_cosim(gain_chain(2), 20, tmp_path)
    run_both(topo, algorithm="jacobi", expect_fast=False)
    run_both(topo, algorithm="gauss-seidel")  # pins of the other master still hold


def test_digest_ignores_layout_comments_and_docstring():
    a = "def f(x):\n    '''doc'''\n    return x + 1  # one\n"
    b = "def f( x ):\n\n    return x+\\\n        1\n"
    digest = reference._digest_source  # noqa: SLF001
    assert digest(a) == digest(b) != digest(a.replace("+ 1", "+ 2"))


def test_python_loop_when_asked(fmus, tmp_path):
    topo = to_cosim(gain_chain(2), 20, tmp_path)
    from fast_helpers import compiled_loops
    with compiled_loops() as seen:
        cosim.run(topo, fast=False)
        cosim.run(topo, trace=True)
    assert seen == []
