"""``cosim sweep`` and ``cosim plot``; reading a study as xarray; the shipped example."""

from __future__ import annotations

import h5py
import pytest
from conftest import write

import cosim
import cosim.studies as cs
from cosim.cli.main import main
from tests.conftest import TOPOLOGIES


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def grid_study(tmp_path, decay_topology):
    return write(tmp_path / "grid.yaml", {
        "name": "grid", "topology": decay_topology.name,
        "grid": {"d.k": [0.5, 1.0, 2.0], "d.x0": [1.0, 2.0]},
        "variants": {"a": {}, "b": {"parameters": {"start.d.u": 1.0}}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"},
                    "x_mean": {"signal": "d.x", "stat": "mean"}}})


def test_sweep_prints_a_summary_and_writes_the_study_file(tmp_path, grid_study, capsys,
                                                          monkeypatch, fmus):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "sweep", grid_study, "--workers", "2")
    assert code == 0
    assert out.startswith("grid: 12 scenarios (grid 3x2, 2 variants) on a local process "
                          "pool of 2 workers -> grid.h5")
    assert "12 scenarios: 12 completed, 0 failed" in out and "x_end: " in out
    assert err == ""  # off a terminal: no bar (a line every 10 s for longer studies)
    df = cs.read_study(tmp_path / "grid.h5")
    assert df.attrs["status"] == "completed" and len(df) == 12


def test_sweep_reports_bad_input_with_exit_code_2(tmp_path, decay_topology, capsys):
    bad = write(tmp_path / "bad.yaml", {"topology": decay_topology.name,
                                        "outputs": {"x": {"signal": "d.q", "stat": "max"}}})
    code, _, err = cli(capsys, "sweep", bad)
    assert code == 2 and f"{bad}:" in err and "'d.q' matches no output" in err
    code, _, err = cli(capsys, "sweep", bad, "--workers", "2", "--dask-local", "2")
    assert code == 2 and "--workers is for local processes" in err


def test_plot_a_study_file_as_scatter_plots_and_heat_maps(tmp_path, grid_study, capsys,
                                                          fmus):
    cs.sweep(grid_study, tmp_path / "grid.h5", workers=0)
    code, out, _ = cli(capsys, "plot", tmp_path / "grid.h5")
    assert code == 0
    for kind in ("scatter", "heatmap"):
        png = tmp_path / f"grid_{kind}.png"
        assert f"{kind}: {png}" in out and png.stat().st_size > 10_000
    code, out, _ = cli(capsys, "plot", tmp_path / "grid.h5", "--kind", "heatmap",
                       "--outputs", "x_end", "-o", tmp_path / "one.png")
    assert code == 0 and (tmp_path / "one.png").is_file()
    fig = cs.plot_study(tmp_path / "grid.h5", kind="heatmap")
    assert len(fig.axes) == 2 * 2 * 2  # 2 outputs x 2 variants, each with a colour bar


def test_plot_delegates_run_files_and_refuses_other_files(tmp_path, decay_topology, capsys,
                                                          fmus):
    cosim.run(decay_topology, output=tmp_path / "run.h5")
    code, out, _ = cli(capsys, "plot", tmp_path / "run.h5")
    assert code == 0 and (tmp_path / "run.png").is_file() and "plot:" in out
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1, 2]
    code, _, err = cli(capsys, "plot", tmp_path / "other.h5")
    assert code == 2 and "neither a cosim result file nor a study file" in err


def test_a_grid_study_reads_as_an_xarray_dataset(tmp_path, grid_study, fmus):
    cs.sweep(grid_study, tmp_path / "grid.h5", workers=0)
    ds = cs.read_study(tmp_path / "grid.h5", format="xarray")
    assert dict(ds.sizes) == {"variant": 2, "d.k": 3, "d.x0": 2}
    assert ds["x_end"].attrs["units"] == "1"
    assert float(ds["x_end"].sel(variant="a", **{"d.k": 1.0, "d.x0": 2.0})) == \
        pytest.approx(2 * 2.718281828459045 ** -1, rel=1e-9)


def test_the_example_study_physics_on_a_short_horizon(fmus):
    study = cs.load_study(TOPOLOGIES / "studies" / "datacenter_setpoint.yaml")
    study.topology.run = study.topology.run.model_copy(update={"stop": 7200.0})
    design = study.design()
    pick = design[(design["load.scale"] == 1.2)
                  & (design["start.cooler.T_setpoint"] == 291.15)].index
    study.scenarios = [study.scenarios[i] for i in pick]
    df = cs.sweep(study, workers=0).set_index("variant")
    assert (df["status"] == "completed").all()
    nominal, outage = df.loc["nominal"], df.loc["outage"]
    assert 45 < nominal["peak_cpu"] < 60 and outage["peak_cpu"] > 85
    assert outage["cooling_energy"] < nominal["cooling_energy"]  # no compressor power
    assert nominal["time_over_85C"] == 0 and 0.5 < outage["ride_through"] < 2.0
