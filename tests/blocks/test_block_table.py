"""TimeTable: CSV and HDF5 replay against numpy.interp and hand-computed values."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.blocks.table import TimeTable
from cosim.errors import ConfigError, SubsystemError

TIMES = np.array([0.0, 1.0, 2.5, 4.0, 10.0])
RACK1 = np.array([10.0, 12.0, 9.0, 9.0, 20.0])
RACK2 = np.array([-1.0, 0.5, 0.25, 3.0, 3.0])


def write_csv(path, header="time,rack1,rack2", rows=None):
    rows = rows if rows is not None else zip(TIMES, RACK1, RACK2, strict=True)
    def cell(v):
        return v if isinstance(v, str) else repr(float(v))

    path.write_text(header + "\n" + "".join(",".join(map(cell, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def csv_file(tmp_path):
    return write_csv(tmp_path / "load.csv")


def table(tmp_path, file="load.csv", **params):
    block = TimeTable(file=file, base_dir=tmp_path, **params)
    block.reset(0.0)
    return block


def y_at(block, t, column):
    return block.step(t, 0.0, {})[column]


QUERIES = [-3.0, 0.0, 0.3, 1.0, 1.75, 2.5, 3.0, 3.99, 4.0, 7.0, 10.0, 12.0]


def test_linear_matches_numpy_interp(tmp_path, csv_file):
    block = table(tmp_path)
    for t in QUERIES:
        assert y_at(block, t, "rack1") == pytest.approx(np.interp(t, TIMES, RACK1), abs=1e-12)
        assert y_at(block, t, "rack2") == pytest.approx(np.interp(t, TIMES, RACK2), abs=1e-12)


def test_step_returns_value_at_end_of_step(tmp_path, csv_file):
    block = table(tmp_path)
    assert block.step(1.0, 0.5, {}) == pytest.approx({"rack1": 11.0, "rack2": 0.5 - 0.25 / 3})
    assert block.initialize(0.0, {}) == {"rack1": 10.0, "rack2": -1.0}


def test_previous_by_hand(tmp_path, csv_file):
    block = table(tmp_path, interpolation="previous")
    expected = {-3.0: 10.0, 0.0: 10.0, 0.3: 10.0, 1.0: 12.0, 1.75: 12.0, 2.5: 9.0,
                3.99: 9.0, 4.0: 9.0, 7.0: 9.0, 10.0: 20.0, 12.0: 20.0}
    assert {t: y_at(block, t, "rack1") for t in expected} == expected


def test_nearest_by_hand_ties_go_later(tmp_path, csv_file):
    block = table(tmp_path, interpolation="nearest")
    expected = {0.4: 10.0, 0.5: 12.0, 0.6: 12.0, 1.75: 9.0, 1.7: 12.0, 3.2: 0.25,
                3.25: 3.0, 9.0: 3.0, 11.0: 3.0}
    column = {t: ("rack2" if t in (3.2, 3.25, 9.0, 11.0) else "rack1") for t in expected}
    assert {t: y_at(block, t, column[t]) for t in expected} == expected


def test_sample_times_are_hit_on_the_clock_grid(tmp_path):
    write_csv(tmp_path / "s.csv", "time,x", [(0.0, 0.0), (0.8, 1.0), (2.0, 2.0)])
    block = table(tmp_path, file="s.csv", interpolation="previous")
    assert 0.7 + 0.1 < 0.8  # float sum falls short of the sample time ...
    assert block.step(0.7, 0.1, {})["x"] == 1.0  # ... but the 1 ns clock grid reaches it


def test_scaled_sample_times_are_snapped_to_the_clock_grid(tmp_path):
    write_csv(tmp_path / "h.csv", "time,x", [(0.0, 0.0), (1.1, 1.0), (2.0, 2.0)])  # hours
    block = table(tmp_path, file="h.csv", interpolation="previous", time_scale=3600.0)
    assert 1.1 * 3600.0 > 3960.0  # the product overshoots the sample time ...
    assert block.step(3900.0, 60.0, {})["x"] == 1.0  # ... the grid does not


def test_hold_and_error_extrapolation(tmp_path, csv_file):
    hold = table(tmp_path)
    assert y_at(hold, -1.0, "rack1") == 10.0 and y_at(hold, 99.0, "rack1") == 20.0
    strict = table(tmp_path, extrapolation="error")
    assert y_at(strict, 10.0, "rack1") == 20.0
    with pytest.raises(SubsystemError, match=r"outside the table.*0 s to 10 s"):
        strict.step(9.5, 1.0, {})


def test_scale_time_scale_units_and_columns(tmp_path, csv_file):
    block = table(tmp_path, columns=["rack2"], scale=1000.0, time_scale=60.0,
                  units={"rack2": "W"})
    assert block.step(60.0, 30.0, {}) == pytest.approx({"rack2": 1000 * np.interp(1.5, TIMES,
                                                                                  RACK2)})
    iface = block.interface()
    assert [v.name for v in iface.outputs] == ["rack2"]
    assert iface["rack2"].unit == "W" and iface["rack2"].start == -1000.0
    assert iface.inputs == []


def test_repeated_time_is_a_jump(tmp_path):
    write_csv(tmp_path / "j.csv", "time,x", [(0.0, 0.0), (1.0, 1.0), (1.0, 5.0), (2.0, 5.0)])
    for mode in ("linear", "previous", "nearest"):
        block = table(tmp_path, file="j.csv", interpolation=mode)
        assert y_at(block, 1.0, "x") == 5.0
    assert y_at(table(tmp_path, file="j.csv"), 0.5, "x") == 0.5


def test_single_row_table_is_constant(tmp_path):
    write_csv(tmp_path / "one.csv", "time,x", [(5.0, 7.0)])
    block = table(tmp_path, file="one.csv")
    assert [y_at(block, t, "x") for t in (0.0, 5.0, 9.0)] == [7.0, 7.0, 7.0]


def write_result_h5(path):
    with h5py.File(path, "w") as f:
        f["time"] = TIMES
        f["rack1"] = RACK1
        f["rack1"].attrs["unit"] = "kW"
        f.create_group("room")["T"] = RACK2
        f["matrix"] = np.zeros((5, 2))  # not a signal: skipped
    return path


def test_hdf5_result_file_matches_csv(tmp_path, csv_file):
    write_result_h5(tmp_path / "run.h5")
    block = table(tmp_path, file="run.h5")
    assert [v.name for v in block.interface().outputs] == ["rack1", "room/T"]
    assert block.interface()["rack1"].unit == "kW"
    csv = table(tmp_path)
    for t in QUERIES:
        assert y_at(block, t, "rack1") == y_at(csv, t, "rack1")
        assert y_at(block, t, "room/T") == y_at(csv, t, "rack2")


def test_cosim_result_file_layout(tmp_path):
    """Layout of cosim/observers/hdf5.py: signals node.variable with a 'units' attribute,
    row_kind and parameters are not signals; a crashed run has signals longer than /time
    and may end /time in NaN padding."""
    path = tmp_path / "result.h5"
    with h5py.File(path, "w") as f:
        f.attrs["cosim_layout_version"] = 1
        f["time"] = np.concatenate([TIMES, [np.nan]])
        f["time"].attrs["units"] = "s"
        f["rack1.P"] = np.concatenate([RACK1, [99.0, 98.0]])  # written before /time
        f["rack1.P"].attrs["units"] = "W"
        f["room.T"] = np.concatenate([RACK2, [7.0, 7.0]])
        f["room.T"].attrs["units"] = ""
        f["row_kind"] = np.zeros(len(TIMES) + 2, dtype=np.int8)
        f.create_group("parameters")["room.C"] = 5.0e5
    block = table(tmp_path, file="result.h5")
    iface = block.interface()
    assert [v.name for v in iface.outputs] == ["rack1.P", "room.T"]
    assert iface["rack1.P"].unit == "W" and iface["room.T"].unit is None
    for t in QUERIES:
        assert y_at(block, t, "rack1.P") == pytest.approx(np.interp(t, TIMES, RACK1))
        assert y_at(block, t, "room.T") == pytest.approx(np.interp(t, TIMES, RACK2))


def test_hdf5_group_and_table_datasets(tmp_path):
    path = tmp_path / "telemetry.h5"
    records = np.zeros(5, dtype=[("t", "f8"), ("rack1", "f8"), ("tag", "S4")])
    records["t"], records["rack1"] = TIMES, RACK1
    with h5py.File(path, "w") as f:
        g = f.create_group("site/hall1")
        g["time"], g["rack1"] = TIMES, RACK1
        f["compound"] = records
        f["plain"] = np.column_stack([TIMES, RACK1])
        f["plain"].attrs["columns"] = ["time", "rack1"]
    group = table(tmp_path, file="telemetry.h5", dataset="site/hall1")
    compound = table(tmp_path, file="telemetry.h5", dataset="compound", time_column="t")
    plain = table(tmp_path, file="telemetry.h5", dataset="plain")
    assert [v.name for v in compound.interface().outputs] == ["rack1"]  # "tag" is text
    for t in QUERIES:
        expected = np.interp(t, TIMES, RACK1)
        for block in (group, compound, plain):
            assert y_at(block, t, "rack1") == pytest.approx(expected, abs=1e-12)


def test_hdf5_errors(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["flat"] = np.arange(5.0)
        f.create_group("g")["x"] = np.arange(3.0)
    with pytest.raises(ConfigError, match="no dataset or group 'nope'.*flat, g"):
        table(tmp_path, file="bad.h5", dataset="nope")
    with pytest.raises(ConfigError, match="'/flat'.*is not a table"):
        table(tmp_path, file="bad.h5", dataset="flat")
    with pytest.raises(ConfigError, match="no time dataset 'time' in HDF5 group '/g'"):
        table(tmp_path, file="bad.h5", dataset="g")


def test_missing_column_lists_available(tmp_path, csv_file):
    with pytest.raises(ConfigError) as info:
        table(tmp_path, columns=["rack1", "rack9"])
    message = str(info.value)
    assert "'rack9'" in message and "available columns: rack1, rack2" in message
    assert str(csv_file) in message and info.value.field == "columns"


def test_missing_file_names_the_path(tmp_path):
    block = TimeTable(file="data/none.csv", base_dir=tmp_path)  # lazy: no error yet
    with pytest.raises(ConfigError, match="file not found") as info:
        block.reset(0.0)
    assert info.value.file == str(tmp_path / "data" / "none.csv")


def test_non_monotonic_time_names_the_row(tmp_path):
    write_csv(tmp_path / "m.csv", "time,x", [(0.0, 1.0), (1.0, 1.0), (3.0, 1.0), (2.0, 1.0)])
    with pytest.raises(ConfigError, match=r"not monotonic: at data row 4 time 2 is before 3"):
        table(tmp_path, file="m.csv")


def test_nan_and_text_name_column_and_row(tmp_path):
    write_csv(tmp_path / "n.csv", "time,x,y", [(0.0, 1.0, 1.0), (1.0, "", 2.0), (2.0, 1.0, 3.0)])
    with pytest.raises(ConfigError, match=r"n.csv: .*column 'x' is missing or NaN at data row 2"):
        table(tmp_path, file="n.csv")
    assert y_at(table(tmp_path, file="n.csv", columns=["y"]), 1.5, "y") == 2.5  # x unused
    write_csv(tmp_path / "s.csv", "time,x", [(0.0, 1.0), (1.0, "oops")])
    with pytest.raises(ConfigError, match="column 'x' is not numeric: 'oops' at data row 2"):
        table(tmp_path, file="s.csv")


def test_missing_time_column(tmp_path, csv_file):
    with pytest.raises(ConfigError, match="no time column 't'.*time, rack1, rack2"):
        table(tmp_path, time_column="t")


@pytest.mark.parametrize("params, field", [
    ({"interpolation": "cubic"}, "interpolation"),
    ({"extrapolation": "wrap"}, "extrapolation"),
    ({"time_scale": 0.0}, "time_scale"),
    ({"scale": "big"}, "scale"),
    ({"columns": []}, "columns"),
    ({"units": {"rack1": 3}}, "units"),
])
def test_bad_parameters(tmp_path, csv_file, params, field):
    with pytest.raises(ConfigError, match="TimeTable") as info:
        TimeTable(file="load.csv", base_dir=tmp_path, **params)
    assert info.value.field == field


def test_units_for_unknown_column(tmp_path, csv_file):
    with pytest.raises(ConfigError, match="'units' names rack7"):
        table(tmp_path, units={"rack7": "W"})


def test_state_is_tiny_and_round_trips(tmp_path, csv_file):
    block = table(tmp_path, interpolation="previous")
    block.step(0.0, 1.0, {})
    state = block.save_state()
    assert state is None  # never a copy of the data
    first = [block.step(1.0, 1.0, {}), block.step(2.0, 1.0, {})]
    cached = block.table
    block.restore_state(state)
    again = [block.step(1.0, 1.0, {}), block.step(2.0, 1.0, {})]
    assert first == again and block.table is cached
    assert first[0] != first[1]


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=12),
    values=st.lists(st.floats(-1e6, 1e6), min_size=13, max_size=13),
    fractions=st.lists(st.floats(-0.2, 1.2), min_size=1, max_size=10),
)
def test_property_interpolation(tmp_path_factory, steps, values, fractions):
    times = np.concatenate([[0.0], np.cumsum(steps)])
    times = np.round(times, 6)  # representable in the CSV and on the 1 ns grid
    data = np.array(values[:len(times)])
    path = tmp_path_factory.mktemp("prop") / "p.csv"
    write_csv(path, "time,x", zip(times.tolist(), data.tolist(), strict=True))
    linear = table(path.parent, file="p.csv")
    previous = table(path.parent, file="p.csv", interpolation="previous")
    nearest = table(path.parent, file="p.csv", interpolation="nearest")
    span = times[-1]
    for f in fractions:
        t = round(f * span, 6)
        y = y_at(linear, t, "x")
        assert y == pytest.approx(np.interp(t, times, data), rel=1e-9, abs=1e-6)
        i = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1))
        j = min(i + 1, len(times) - 1)
        lo, hi = min(data[i], data[j]), max(data[i], data[j])
        assert lo - 1e-6 <= y <= hi + 1e-6  # within the bracketing samples
        assert y_at(previous, t, "x") == data[i]
        assert y_at(nearest, t, "x") in (data[i], data[j])


@pytest.mark.parametrize(("start", "stop", "extrapolation", "refused"), [
    (0.0, 10.0, "error", False), (1.0, 4.0, "error", False),
    (0.0, 10.5, "error", True), (-1.0, 5.0, "error", True), (0.0, 50.0, "hold", False)])
def test_check_refuses_a_run_outside_a_table_that_cannot_extrapolate(
        csv_file, start, stop, extrapolation, refused):
    """cosim check says what the run would meet: a table with extrapolation 'error'
    (times 0 to 10 s) must cover the run from start to stop."""
    import cosim
    topo = cosim.Topology("span", start=start, stop=stop, step=0.5, base_dir=csv_file.parent)
    topo.add_block("load", "table", parameters={"file": csv_file.name,
                                                "extrapolation": extrapolation})
    problems = [p.message for p in topo.check().problems]
    expected = [f"it answers from 0 to 10 s only (extrapolation: error), but the run goes "
                f"from {start:g} to {stop:g} s"] if refused else []
    assert problems == expected
