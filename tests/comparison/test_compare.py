"""compare(): inputs, defaults, the report, streaming, tolerance files, CSV."""

from __future__ import annotations

import copy
import hashlib
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from comparison_helpers import frame, write_h5

from cosim.comparison import Tolerances, compare
from cosim.comparison.csvio import export_csv, read_csv
from cosim.errors import ConfigError, ResultsError
from cosim.results import RunData


def _signals(n: int = 5000, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 50.0, n)
    e = n // 2
    t[e] = t[e - 1]  # an event
    y = np.sin(t) + 0.1 * t
    y[e:] += 2.0
    return t, {"a.y": y, "a.z": np.cos(3 * t) * 300.0 + 300.0,
               "b.n": np.floor(t / 7).astype(np.int64), "b.on": (rng.random(n) > 0.5)}


def test_default_sizes_are_csv_compares():
    t = np.linspace(2.0, 12.0, 101)
    y = 300.0 + np.sin(t)
    s = compare(frame(t, s=y), frame(t, s=y))["s"]
    assert s.x == pytest.approx(0.002 * max(10.0, 2.0))
    assert s.y == pytest.approx(0.002 * max(y.max() - y.min(), abs(y.min()), 1e-3))
    flat = compare(frame(t, s=np.zeros(101)), frame(t, s=np.zeros(101)))["s"]
    assert flat.y == pytest.approx(0.002 * 1e-3)  # no nominal known: 1e-3


def test_nominal_from_the_result_file_sets_Y(tmp_path):
    t = np.linspace(0, 1, 11)
    ref = write_h5(tmp_path / "ref.h5", t, {"p.q": np.zeros(11)}, nominal={"p.q": 50.0})
    assert compare(ref, ref)["p.q"].y == pytest.approx(0.002 * 50.0)


def test_the_inputs_are_never_modified(tmp_path):
    t, sig = _signals()
    res_df = frame(t, **{k: v + (1e-3 if v.dtype == float else 0) for k, v in sig.items()})
    ref_df = frame(t, **sig)
    ref_run = RunData.from_dataframe(ref_df)
    before = (res_df.copy(deep=True), ref_df.copy(deep=True), copy.deepcopy(ref_run.df))
    path = write_h5(tmp_path / "ref.h5", t, {k: v for k, v in sig.items() if k != "b.on"})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for reference in (ref_df, ref_run, path):
        compare(res_df, reference, block_rows=100)
    pd.testing.assert_frame_equal(res_df, before[0])
    pd.testing.assert_frame_equal(ref_df, before[1])
    pd.testing.assert_frame_equal(ref_run.df, before[2])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_blocks_and_sources_do_not_change_the_verdict(tmp_path):
    t, sig = _signals()
    sig = {k: v for k, v in sig.items() if k != "b.on"}
    bad = {k: v.copy() for k, v in sig.items()}
    bad["a.y"][[12, 2601, 4998]] += 0.5
    bad["a.z"][3000:3010] -= 200.0
    bad["b.n"][99] = 9
    kinds = {"b.n": "integer"}
    ref_h5 = write_h5(tmp_path / "ref.h5", t, sig, kinds=kinds)
    res_h5 = write_h5(tmp_path / "res.h5", t[::3], {k: v[::3] for k, v in bad.items()},
                      kinds=kinds)
    res_df = frame(t[::3], **{k: v[::3] for k, v in bad.items()})
    want = compare(res_h5, ref_h5).to_dict()
    want.pop("result")
    want.pop("parameter_differences")  # a DataFrame records no parameters: None, not []
    for res in (res_h5, res_df):
        for rows in (16, 333, 1 << 17):
            got = compare(res, ref_h5, block_rows=rows).to_dict()
            got.pop("result")
            got.pop("parameter_differences")
            assert got == want
    assert {s["name"] for s in want["signals"] if s["status"] == "fail"} == \
        {"a.y", "a.z", "b.n"}


def test_Y_known_only_at_the_end_is_applied_to_earlier_blocks():
    # the reference's range is revealed in the last block: early blocks are re-checked
    t = np.arange(1000.0)
    ref = np.zeros(1000)
    ref[-1] = 100.0  # final Y = 0.002 * 100 = 0.2
    for offset, passes in ((0.15, True), (0.25, False)):
        res = ref.copy()
        res[:10] += offset
        report = compare(frame(t, s=res), frame(t, s=ref), block_rows=64)
        assert report.passed is passes
        assert report["s"].y == pytest.approx(0.2)
        assert report["s"].outliers == (0 if passes else 10)


def test_missing_signals_fail_in_both_directions():
    t = np.linspace(0, 1, 5)
    report = compare(frame(t, a=t, new=t), frame(t, a=t, gone=t))
    assert not report.passed
    assert report["gone"].status == "missing" and "missing in the result" in \
        report["gone"].problems[0]
    assert report["new"].status == "new" and "not in the reference" in report["new"].problems[0]
    assert report["a"].passed


def test_nan_and_inf_fail_where_the_reference_is_finite():
    t = np.linspace(0, 1, 11)
    for bad in (np.nan, np.inf, -np.inf):
        y = t.copy()
        y[4] = bad
        s = compare(frame(t, s=y), frame(t, s=t))["s"]
        assert s.status == "fail" and s.outliers == 1 and s.first_failure == t[4]
        assert s.max_error == np.inf
    # the same non-finite value where the reference has it is not a failure
    y = t.copy()
    y[4] = np.nan
    assert compare(frame(t, s=y), frame(t, s=y)).passed


def test_start_and_stop_must_match_within_X():
    t = np.linspace(0, 10, 1001)
    ref = frame(t, s=np.sin(t))
    short = compare(frame(t[:-5], s=np.sin(t[:-5])), ref)["s"]  # ends 0.05 s early > X
    assert short.status == "fail" and "stops at 9.95 s" in short.problems[0]
    assert short.first_failure == pytest.approx(9.95)
    within = compare(frame(t[:-1], s=np.sin(t[:-1])), ref)  # 0.01 s < X = 0.02 s
    assert within.passed


def test_exact_mode():
    t = np.linspace(0, 1, 11)
    y = np.exp(t)
    assert compare(frame(t, s=y), frame(t, s=y), exact=True).passed
    y2 = y.copy()
    y2[3] = np.nextafter(y2[3], 10)
    report = compare(frame(t, s=y2), frame(t, s=y), exact=True)
    assert not report.passed and report["s"].x == 0 and report["s"].y == 0
    assert compare(frame(t, s=y2), frame(t, s=y)).passed  # the default tube is wider


def test_tolerance_files_resolve_by_glob_in_order(tmp_path):
    path = tmp_path / "tolerances.toml"
    path.write_text('[defaults]\ntol = 1e-4\n\n[[signal]]\npattern = "rack*.T_*"\ny = 0.05\n\n'
                    '[[signal]]\npattern = "rack2.T_cpu"\ntol = 0.01\nx = 3\n\n'
                    '[[signal]]\npattern = "*.mode"\ndiscrete = true\n')
    tols = Tolerances.load(path)
    r1, r2, other = (tols.resolve(n) for n in ("rack1.T_cpu", "rack2.T_cpu", "cooler.P"))
    assert (r1.y_abs, r1.x_abs, r1.x_tol) == (0.05, None, 1e-4)
    assert (r2.y_abs, r2.y_tol, r2.x_abs) == (None, 0.01, 3.0)
    assert (other.y_abs, other.y_tol, other.discrete) == (None, 1e-4, None)
    assert tols.resolve("ctrl.mode").discrete is True
    t = np.linspace(0, 100, 11)
    s = compare(frame(t, **{"rack1.T_cpu": t}), frame(t, **{"rack1.T_cpu": t}), path)
    assert s["rack1.T_cpu"].y == 0.05 and s["rack1.T_cpu"].x == pytest.approx(1e-2)


@pytest.mark.parametrize("text, message", [
    ("[defaults]\ntol = 'a'\n", "tol must be a number"),
    ("[defaults]\ntolerance = 1\n", "unknown key(s) ['tolerance']"),
    ("[[signal]]\ny = 1\n", "needs pattern"),
    ("[defaults]\nx = -1\n", "must be finite and >= 0"),
    ("[defaults\n", "invalid TOML"),
])
def test_bad_tolerance_files_name_the_file_and_problem(tmp_path, text, message):
    path = tmp_path / "tolerances.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        Tolerances.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_csv_export_and_cross_check_csv_input(tmp_path):
    t, sig = _signals(200)
    sig.pop("b.on")
    h5 = write_h5(tmp_path / "run.h5", t, sig, kinds={"b.n": "integer"})
    csv = tmp_path / "Model_ref.csv"
    assert export_csv(h5, csv) == 200
    lines = csv.read_text().splitlines()
    assert lines[0] == '"time","a.y","a.z","b.n"'
    assert lines[1].split(",")[3] == "0"  # integers stay integers, unquoted
    back = read_csv(csv)
    np.testing.assert_array_equal(back.index.to_numpy(), t)  # exact round trip
    np.testing.assert_array_equal(back["a.y"].to_numpy(), sig["a.y"])
    assert compare(h5, csv, exact=True).passed and compare(csv, h5, exact=True).passed
    moved = frame(t, **{**sig, "a.y": sig["a.y"] + 1.0})
    assert not compare(moved, csv).passed


def test_memory_does_not_grow_with_the_run_length(tmp_path):
    peaks = []
    for n in (20_000, 400_000):
        t = np.arange(n) * 0.01
        ref = write_h5(tmp_path / f"ref{n}.h5", t, {"a.y": np.sin(t), "a.z": np.cos(t)},
                       chunk=4096)
        res = write_h5(tmp_path / f"res{n}.h5", t, {"a.y": np.sin(t) + 1e-6,
                                                    "a.z": np.cos(t)}, chunk=4096)
        tracemalloc.start()
        assert compare(res, ref, block_rows=8192).passed
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # 20x the rows: the peak stays about one block per signal (not 20x)
    assert peaks[1] < 1.5 * peaks[0] + 256 * 1024, peaks


def test_bad_input_raises_results_errors(tmp_path):
    t = np.linspace(0, 1, 11)
    with pytest.raises(ResultsError, match="time decreases at row 3"):
        compare(frame(t[[0, 1, 2, 1]], s=t[:4]), frame(t, s=t))
    with pytest.raises(ResultsError, match="no overlap in time"):
        compare(frame(t + 5, s=t), frame(t, s=t))
    with pytest.raises(ResultsError, match="no samples"):
        compare(frame([], s=[]), frame(t, s=t))


def test_parallel_jobs_give_the_same_report(tmp_path):
    t, sig = _signals(3000)
    sig.pop("b.on")
    bad = {k: v + (0.5 if k == "a.y" else 0) for k, v in sig.items()}
    ref = write_h5(tmp_path / "ref.h5", t, sig, kinds={"b.n": "integer"})
    res = write_h5(tmp_path / "res.h5", t, bad, kinds={"b.n": "integer"})
    assert compare(res, ref, jobs=2).to_dict() == compare(res, ref).to_dict()


def test_a_cosim_result_and_a_one_row_reference(tmp_path, fmus):
    import cosim
    from tests.conftest import TOPOLOGIES
    run = cosim.run(TOPOLOGIES / "decay_chain.yaml", output=tmp_path / "run.h5")
    assert compare(run, run.path, exact=True).passed
    assert compare(run.df, run, exact=True).passed
    one = frame([0.0], s=[1.0])
    report = compare(frame([0.0], s=[1.0]), one)
    assert report.passed and report["s"].x == 0.0
    assert not compare(frame([0.0, 1.0], s=[1.0, 1.0]), one).passed  # stops 1 s later


def test_a_reference_whose_time_decreases_is_bad_input(tmp_path):
    t = np.linspace(0, 1, 200)
    ref = write_h5(tmp_path / "ref.h5", np.concatenate([t[:150], t[150:] - 0.5]),
                   {"s": np.zeros(200)})
    with pytest.raises(ResultsError, match=r"ref.h5:time: time decreases at row 150"):
        compare(frame(t, s=np.zeros(200)), ref, block_rows=64)
