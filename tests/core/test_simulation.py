"""cosim.Simulation: built once, reset and run many times, bit-identical to fresh runs;
runs stopped early and continued; clear errors; FMUs extracted once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

import cosim
from cosim.fmu import cache
from tests.conftest import ROOT, TOPOLOGIES


def same_bits(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.index.to_numpy().tobytes() == b.index.to_numpy().tobytes()
    for c in a.columns:
        assert a[c].to_numpy().tobytes() == b[c].to_numpy().tobytes(), c


def flagship(hours: float = 3.0) -> cosim.Topology:
    topo = cosim.load(TOPOLOGIES / "datacenter.yaml")
    topo.run = topo.run.model_copy(update={"stop": hours * 3600.0})
    return topo


def parameter_sets(n: int, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{**{f"rack{k}.C_cpu": float(rng.uniform(2.5e5, 5e5)) for k in range(1, 5)},
             "rack2.G_cpu": float(rng.uniform(400, 600)),
             "cooler.tau": float(rng.uniform(60, 600)),
             "fan_ctrl.kp": float(rng.uniform(0.04, 0.12))} for _ in range(n)]


def test_100_reused_runs_equal_100_fresh_runs_bit_for_bit(fmus):
    topo = flagship()
    sets = parameter_sets(100)
    with cosim.Simulation(topo) as sim:
        reused = []
        for p in sets:
            sim.reset(parameters=p)
            reused.append(sim.run().df)
    for p, df in zip(sets, reused, strict=True):
        same_bits(df, cosim.run(topo, parameters=p).df)
    # the parameters did reach the runs: the CPU temperatures differ between sets
    peaks = {round(df["rack1.T_cpu"].max(), 9) for df in reused}
    assert len(peaks) == 100


def test_a_finished_run_runs_again_identically_and_reset_restores_defaults(fmus):
    topo = flagship(1.0)
    with cosim.Simulation(topo) as sim:
        first = sim.run().df
        again = sim.run().df
        sim.reset(parameters={"rack1.C_cpu": 2.0e5})
        changed = sim.run().df
        sim.reset()
        back = sim.run().df
    same_bits(first, again)
    same_bits(first, back)
    assert not np.array_equal(first["rack1.T_cpu"], changed["rack1.T_cpu"])


def test_run_until_then_continue_equals_one_run(fmus):
    """Stopping at communication points and continuing changes nothing, bit for bit."""
    for algorithm in ("gauss-seidel", "jacobi"):
        one = cosim.run(flagship(2.0), algorithm=algorithm).df
        with cosim.Simulation(flagship(2.0), algorithm=algorithm) as sim:
            parts = [sim.run(until=1800.0).df, sim.run(until=4500.0).df, sim.run().df]
            assert sim.state == "finished"
        for before, after in zip(parts, parts[1:], strict=False):
            assert after.index[0] > before.index[-1]  # no row twice
        same_bits(pd.concat(parts), one)


def test_run_until_off_the_grid_lands_on_it_and_continues_on_the_grid(fmus):
    with cosim.Simulation(flagship(2.0)) as sim:
        a = sim.run(until=4530.0).df
        b = sim.run().df
    assert a.index[-1] == 4530.0 and a.index[-2] == 4500.0
    assert list(b.index[:2]) == [4560.0, 4620.0] and b.index[-1] == 7200.0


def test_reset_start_time(fmus, fmu):
    topo = cosim.Topology("decay", stop=2.0, step=0.1)
    topo.add_fmu("d", fmu("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    with cosim.Simulation(topo) as sim:
        sim.reset(start=1.0)
        df = sim.run().df
    assert df.index[0] == 1.0 and df.index[-1] == 2.0
    # x(t) = x0 exp(-k (t - start)): the state starts at x0 at the new start time
    assert df["d.x"].iloc[-1] == pytest.approx(np.exp(-1.0), rel=1e-6)


def test_bad_overrides_are_refused_with_the_node_and_variable(fmus):
    with cosim.Simulation(flagship(0.5)) as sim:
        with pytest.raises(cosim.TopologyError) as info:
            sim.reset(parameters={"rack1.C_cpux": 1.0, "nowhere.x": 1.0,
                                  "rack2.T_out": 300.0})
        text = str(info.value)
        assert "rack1.C_cpux: unknown parameter variable (did you mean 'C_cpu'?)" in text
        assert "no node 'nowhere'" in text
        assert "rack2.T_out: is an output, not a parameter" in text
        with pytest.raises(cosim.ConfigError, match="must be before the stop"):
            sim.reset(start=1e6)
        assert sim.run().status == "completed"  # still usable


def test_closed_simulation_refuses_to_run(fmus):
    sim = cosim.Simulation(flagship(0.1))
    with sim:
        pass
    assert sim.state == "closed"
    with pytest.raises(cosim.ConfigError, match="closed"):
        sim.run()
    sim.close()  # idempotent


def test_each_run_writes_its_own_file(fmus, tmp_path):
    with cosim.Simulation(flagship(0.5)) as sim:
        for k, c in enumerate((3.0e5, 4.0e5)):
            sim.reset(parameters={"rack1.C_cpu": c})
            sim.run(output=tmp_path / f"run{k}.h5")
    a, b = cosim.read(tmp_path / "run0.h5"), cosim.read(tmp_path / "run1.h5")
    assert a.parameters["rack1.C_cpu"] == 3.0e5 and b.parameters["rack1.C_cpu"] == 4.0e5
    assert a.status == b.status == "completed"
    assert not np.array_equal(a.df["rack1.T_cpu"], b.df["rack1.T_cpu"])


def test_instances_of_one_fmu_share_one_extraction(fmus):
    with cosim.Simulation(flagship(0.1)) as sim:
        folders = {sim.system.subsystems[sim.system.index[f"rack{k}"]].folder
                   for k in range(1, 5)}
        assert len(folders) == 1
        folder = folders.pop()
        assert folder.parent == cache.root()
        assert folder.name.startswith(f"{os.getpid()}-")


def test_fmu_allowing_one_instance_per_process_gets_private_copies(fmu, tmp_path):
    src = fmu("Decay", 2)
    dst = tmp_path / "Once.fmu"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "modelDescription.xml":
                data = data.replace(b"<CoSimulation ", b"<CoSimulation "
                                    b"canBeInstantiatedOnlyOncePerProcess=\"true\" ")
            zout.writestr(item, data)
    topo = cosim.Topology("once", stop=0.1, step=0.05)
    topo.add_fmu("a", dst)
    topo.add_fmu("b", dst)
    with cosim.Simulation(topo) as sim:
        a, b = (sub.folder for sub in sim.system.subsystems)
        assert a != b and a.is_dir() and b.is_dir()
        assert sim.run().status == "completed"
    assert not a.exists() and not b.exists()  # private copies go with their instance


def test_extractions_of_dead_processes_are_swept(tmp_path, fmus):
    """A process killed mid-run leaves its folder; the next process removes it."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    code = ("import os, cosim; sim = cosim.Simulation('topologies/decay_chain.yaml'); "
            "os._exit(0)")  # no clean-up at exit: as if killed
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    top = tmp_path / f"cosim-fmus-{os.getuid()}"
    left = list(top.iterdir())
    assert left, "the killed process should have left its extraction"
    code = "import cosim; cosim.run('topologies/decay_chain.yaml')"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    assert list(top.iterdir()) == []  # swept, and the second process cleaned up at exit
