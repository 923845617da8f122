"""Telemetry: formats, timestamps, units, gaps and alignment against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cosim.errors import ConfigError
from cosim.telemetry import TelemetryError, load_telemetry
from cosim.units import UnitError

CSV = """\
# a comment line
time,T [degC],P [kW],flow
2026-06-01T00:00:00Z,20.0,1.0,0.5
2026-06-01T00:01:00Z,21.0,1.5,0.6
2026-06-01T00:02:00Z,,2.0,0.7
2026-06-01T00:03:00Z,23.0,2.5,0.8
2026-06-01T00:10:00Z,30.0,3.0,0.9
"""


@pytest.fixture
def csv(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(CSV)
    return p


def spec(csv, **more):
    return {"file": str(csv), "signals": {"a.T": "T", "a.P": {"column": "P", "sigma": 0.01}},
            **more}


def test_csv_units_from_header_converted_to_model_units(csv):
    tel = load_telemetry(spec(csv))
    np.testing.assert_array_equal(tel.time, [0.0, 60.0, 120.0, 180.0, 600.0])
    assert tel.unit("a.T") == "degC" and tel.unit("a.P") == "kW"
    al = tel.align([0.0, 60.0, 180.0], {"a.T": "K", "a.P": "W"})
    np.testing.assert_allclose(al.values["a.T"], [293.15, 294.15, 296.15], rtol=0, atol=1e-12)
    np.testing.assert_allclose(al.values["a.P"], [1000.0, 1500.0, 2500.0], rtol=1e-15)
    assert al.sigma["a.P"] == pytest.approx(10.0, rel=1e-15)  # 0.01 kW -> W, no offset
    assert al.units == {"a.T": "K", "a.P": "W"}


def test_linear_interpolation_and_gaps(csv):
    tel = load_telemetry(spec(csv, max_gap=150.0))
    grid = np.array([30.0, 90.0, 150.0, 300.0, 600.0, 700.0])
    al = tel.align(grid, {"a.T": "degC"})
    y = al.values["a.T"]
    # 30 s: between 20 @ 0 and 21 @ 60; 90 s: the NaN at 120 s is dropped, so between
    # 21 @ 60 and 23 @ 180 (gap 120 s <= 150 s); 300 s: gap 180..600 s > 150 s: masked;
    # 600 s: a sample exactly there; 700 s: after the data.
    assert y[0] == pytest.approx(20.5, abs=1e-12)
    assert y[1] == pytest.approx(21.0 + 2.0 * 30.0 / 120.0, abs=1e-12)
    assert y[2] == pytest.approx(21.0 + 2.0 * 90.0 / 120.0, abs=1e-12)
    assert np.isnan(y[3]) and y[4] == 30.0 and np.isnan(y[5])
    assert al.max_gap == 150.0


def test_default_max_gap_is_three_median_intervals(csv):
    al = load_telemetry(spec(csv)).align([150.0, 400.0])
    assert al.max_gap == pytest.approx(3 * 60.0)
    assert np.isfinite(al.values["a.P"][0]) and np.isnan(al.values["a.P"][1])


def test_previous_and_mean_methods(tmp_path):
    p = tmp_path / "fast.csv"
    t = np.arange(0.0, 10.0, 0.5)
    pd.DataFrame({"time": t, "x": t ** 2}).to_csv(p, index=False)
    prev = load_telemetry({"file": str(p), "method": "previous", "max_gap": 0.6})
    np.testing.assert_array_equal(prev.align([1.2, 3.0]).values["x"], [1.0, 9.0])
    mean = load_telemetry({"file": str(p), "method": "mean"})
    grid = np.array([2.0, 4.0, 6.0])  # cells (1, 3], (3, 5], (5, 7]: half-open at the left
    got = mean.align(grid).values["x"]
    cells = [(1.0, 3.0), (3.0, 5.0), (5.0, 7.0)]
    want = [np.mean([v ** 2 for v in t if a <= v < b]) for a, b in cells]
    want[-1] = np.mean([v ** 2 for v in t if 5.0 <= v <= 7.0])  # the last cell is closed
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_warmup_windows_and_iso_window_bounds(csv):
    tel = load_telemetry(spec(csv, warmup=60.0, window=["2026-06-01T00:01:30Z", 600],
                              holdout=[540, 600]))
    al = tel.align(np.arange(0.0, 601.0, 30.0))
    keep = al.mask("window")
    assert al.windows["window"] == (90.0, 600.0)
    np.testing.assert_array_equal(al.time[keep], np.arange(90.0, 601.0, 30.0))
    np.testing.assert_array_equal(al.time[al.mask("holdout")], [540.0, 570.0, 600.0])
    np.testing.assert_array_equal(al.time[al.mask("all")], np.arange(60.0, 601.0, 30.0))
    sel = al.select("holdout")["a.P"]
    assert np.isnan(sel[:18]).all() and np.isfinite(sel[-1])


def test_numeric_times_with_unit_and_origin(tmp_path):
    p = tmp_path / "m.csv"
    pd.DataFrame({"minutes": [10.0, 11.0, 12.0], "y": [1.0, 2.0, 3.0]}).to_csv(p, index=False)
    tel = load_telemetry({"file": str(p), "time": {"column": "minutes", "unit": "min",
                                                   "origin": 10}})
    np.testing.assert_array_equal(tel.time, [0.0, 60.0, 120.0])


def test_hdf5_and_parquet_read_like_csv(tmp_path, csv):
    import h5py
    import pyarrow as pa
    import pyarrow.parquet as pq
    df = pd.read_csv(csv, comment="#")
    h5 = tmp_path / "t.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("time", data=np.array(df["time"].tolist(), dtype=object),
                         dtype=h5py.string_dtype())
        f.create_dataset("T", data=df["T [degC]"].to_numpy()).attrs["units"] = "degC"
        f.create_dataset("P", data=df["P [kW]"].to_numpy()).attrs["units"] = "kW"
    table = pa.table({"time": pd.to_datetime(df["time"], utc=True), "T": df["T [degC]"],
                      "P": df["P [kW]"]})
    fields = [table.schema.field("time"),
              table.schema.field("T").with_metadata({"unit": "degC"}),
              table.schema.field("P").with_metadata({"unit": "kW"})]
    pq.write_table(table.cast(pa.schema(fields)), tmp_path / "t.parquet")
    grid = np.arange(0.0, 601.0, 20.0)
    want = load_telemetry(spec(csv)).align(grid, {"a.T": "K", "a.P": "W"}).values
    for path in (h5, tmp_path / "t.parquet"):
        got = load_telemetry(spec(path)).align(grid, {"a.T": "K", "a.P": "W"}).values
        for s in want:
            np.testing.assert_array_equal(got[s], want[s])


def test_sidecar_units_and_implicit_mapping(tmp_path):
    p = tmp_path / "plain.csv"
    pd.DataFrame({"time": [0.0, 1.0], "rack1.T_cpu": [20.0, 21.0]}).to_csv(p, index=False)
    (tmp_path / "plain.units.yaml").write_text("rack1.T_cpu: degC\n")
    tel = load_telemetry(p)
    assert list(tel.signals) == ["rack1.T_cpu"] and tel.unit("rack1.T_cpu") == "degC"
    al = tel.align([0.0, 1.0], {"rack1.T_cpu": "K"})
    np.testing.assert_allclose(al.values["rack1.T_cpu"], [293.15, 294.15], atol=1e-12)


def test_a_signal_without_unit_takes_the_model_unit_with_a_note(tmp_path, csv):
    al = load_telemetry({"file": str(csv), "signals": {"a.f": "flow"}}).align(
        [0.0], {"a.f": "kg/s"})
    assert al.values["a.f"][0] == 0.5 and al.units["a.f"] == "kg/s"
    assert any("states no unit" in n for n in al.notes)


def test_yaml_spec_paths_relative_to_its_file(tmp_path, csv):
    (tmp_path / "tel.yaml").write_text("file: t.csv\nsignals: {a.T: T}\n")
    tel = load_telemetry(tmp_path / "tel.yaml")
    assert tel.files == [csv]


# -- bad input: one clear error each ---------------------------------------------------------


def test_unit_mismatch(csv):
    with pytest.raises(TelemetryError, match=r"a\.T: unit mismatch: cannot convert 'degC'"):
        load_telemetry(spec(csv)).align([0.0], {"a.T": "W"})
    assert issubclass(UnitError, ConfigError)


def test_missing_column_names_the_signal_and_a_close_match(csv):
    with pytest.raises(TelemetryError, match=r"signals\.a\.T: no column 'Tx'.*did you mean 'T'"):
        load_telemetry({"file": str(csv), "signals": {"a.T": "Tx"}})


def test_no_overlap_in_time(csv):
    with pytest.raises(TelemetryError, match=r"no overlap in time between the run \(1000\.\.2000 s\)"):
        load_telemetry(spec(csv)).align([1000.0, 2000.0])


def test_duplicated_timestamps(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("time,y\n0,1\n1,2\n1,3\n")
    with pytest.raises(TelemetryError, match="1 duplicated timestamps"):
        load_telemetry(p)


def test_yaml_errors_name_file_and_line(tmp_path, csv):
    (tmp_path / "bad.yaml").write_text("file: t.csv\nmethod: cubic\n")
    with pytest.raises(TelemetryError, match=r"bad\.yaml:2: method"):
        load_telemetry(tmp_path / "bad.yaml")


def test_unreadable_timestamps(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("time,y\nyesterday,1\n")
    with pytest.raises(ConfigError, match="cannot read 'yesterday' as an ISO 8601 datetime"):
        load_telemetry(p)
