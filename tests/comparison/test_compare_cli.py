"""``cosim compare``: table, exit codes, JSON and HTML reports, CSV export, bad input."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil

import h5py
import numpy as np
import pytest
from comparison_helpers import cli, write_h5
from matplotlib import image


@pytest.fixture
def pair(tmp_path):
    t = np.linspace(0.0, 10.0, 501)
    ref = {"m.x": np.sin(t), "m.v": np.cos(t), "m.n": (t > 5).astype(np.int64)}
    res = {"m.x": np.sin(t) + np.where((t > 3) & (t < 4), 0.3, 0.0), "m.v": np.cos(t),
           "m.n": (t > 6).astype(np.int64)}
    kinds = {"m.n": "integer"}
    return (write_h5(tmp_path / "run.h5", t, res, kinds=kinds),
            write_h5(tmp_path / "ref.h5", t, ref, kinds=kinds))


def test_passing_comparison_exits_0_with_one_line_per_signal(capsys, pair):
    _, ref = pair
    code, out, _ = cli(capsys, "compare", ref, ref)
    assert code == 0 and "PASS: 3/3 signals within the tube" in out
    rows = [ln for ln in out.splitlines() if ln.startswith("m.")]
    assert [r.split()[0] for r in rows] == ["m.x", "m.v", "m.n"]
    assert all(r.split()[1] == "PASS" for r in rows)


def test_regression_exits_1_and_shows_error_time_first_failure_x_y(capsys, pair):
    run, ref = pair
    code, out, _ = cli(capsys, "compare", run, ref, "--failed-only")
    assert code == 1 and "FAIL: 1/3 signals within the tube" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("m.x"))
    status, samples, outliers, err, at, first, x, y, dev = line.split()[1:10]
    assert status == "FAIL" and float(first) == pytest.approx(3.02)
    assert 3 < float(at) < 4 and float(err) > 0.25 and float(x) == pytest.approx(0.02)
    assert "m.n" in out and "m.v" not in out


def test_json_report_for_machines(capsys, pair, tmp_path):
    run, ref = pair
    out_file = tmp_path / "report.json"
    code, _, _ = cli(capsys, "compare", run, ref, "--report", out_file)
    data = json.loads(out_file.read_text())
    assert code == 1 and data["passed"] is False and data["n_failed"] == 2
    by_name = {s["name"]: s for s in data["signals"]}
    assert by_name["m.n"]["kind"] == "discrete" and by_name["m.n"]["y"] == 0.0
    assert set(by_name["m.x"]) >= {"status", "samples", "outliers", "max_error",
                                   "max_error_time", "first_failure", "x", "y"}


def test_html_report_embeds_one_figure_per_failing_signal(capsys, pair, tmp_path):
    run, ref = pair
    out_file = tmp_path / "report.html"
    code, out, _ = cli(capsys, "compare", run, ref, "--report", out_file)
    assert code == 1 and f"report: {out_file}" in out
    html = out_file.read_text()
    assert "m.x" in html and "m.n" in html
    figures = re.findall(r"<figure id='([^']+)'><img[^>]+base64,([A-Za-z0-9+/=]+)'", html)
    assert [name for name, _ in figures] == ["m.x", "m.n"]
    for _, data in figures:
        img = image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert img.shape[0] >= 400 and img.shape[1] >= 700  # height, width in pixels


def test_tolerances_beside_the_reference_are_used(capsys, pair, tmp_path):
    run, ref = pair
    (ref.parent / "tolerances.toml").write_text(
        '[[signal]]\npattern = "m.x"\ny = 0.5\n[[signal]]\npattern = "m.n"\nx = 1.5\n')
    code, out, _ = cli(capsys, "compare", run, ref)
    assert code == 0 and f"tolerances: {ref.parent / 'tolerances.toml'}" in out
    code, _, _ = cli(capsys, "compare", run, ref, "--exact")
    assert code == 1


def test_export_csv_then_compare_csv(capsys, pair, tmp_path):
    _, ref = pair
    csv = tmp_path / "Model_ref.csv"
    code, out, _ = cli(capsys, "compare", ref, "--export-csv", csv)
    assert code == 0 and f"wrote {csv} (501 rows)" in out
    assert csv.read_text().startswith('"time","m.x","m.v","m.n"\n0.0,')
    code, out, _ = cli(capsys, "compare", csv, ref, "--exact")
    assert code == 0


# -- bad input: exit 2, naming the file and the problem --------------------------------


def _truncated(src, dst):
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def _not_cosim(path):
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    return path


def _empty_signal(path):
    return write_h5(path, np.linspace(0, 10, 11), {"m.x": []})


@pytest.mark.parametrize("make, message", [
    (lambda tmp, ref: tmp.joinpath("notes.h5").write_text("hello") and tmp / "notes.h5",
     "not an HDF5 file"),
    (lambda tmp, ref: _not_cosim(tmp / "other.h5"), "not a cosim result file"),
    (lambda tmp, ref: _truncated(ref, tmp / "cut.h5"), "corrupt or truncated"),
    (lambda tmp, ref: _empty_signal(tmp / "empty.h5"), "no samples: signal 'm.x' is empty"),
    (lambda tmp, ref: write_h5(tmp / "later.h5", np.linspace(20, 30, 11),
                               {"m.x": np.zeros(11)}), "no overlap in time"),
    (lambda tmp, ref: tmp / "missing.h5", "no such file"),
    (lambda tmp, ref: tmp.joinpath("x.csv").write_text("t,a\n0,1\n") and tmp / "x.csv",
     "the first column must be 'time'"),
])
def test_bad_input_exits_2_naming_file_and_problem(capsys, pair, tmp_path, make, message):
    _, ref = pair
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = make(bad_dir, ref)
    code, out, err = cli(capsys, "compare", bad, ref)
    assert code == 2, out + err
    assert str(bad) in err and message in err and err.count("\n") == 1
    # the same as the reference
    code, _, err = cli(capsys, "compare", ref, bad)
    assert code == 2 and str(bad) in err and message in err


def test_a_corrupt_chunk_is_bad_input_too(capsys, pair, tmp_path):
    _, ref = pair
    bad = tmp_path / "flipped.h5"
    shutil.copy(ref, bad)
    with h5py.File(bad, "r") as f:
        offset = f["m.x"].id.get_chunk_info(0).byte_offset
    data = bytearray(bad.read_bytes())
    data[offset:offset + 64] = bytes(64)
    bad.write_bytes(bytes(data))
    code, _, err = cli(capsys, "compare", bad, ref)
    assert code == 2 and str(bad) in err and "m.x" in err and "corrupt" in err
