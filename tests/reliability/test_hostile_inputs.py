"""Hostile inputs are refused with one clear error (exit 2), naming the file (and line),
before anything runs: YAML bombs and tricks, FMU archives that are bombs, damaged, not
libraries or not FMI 2/3, XML with entities in any encoding, nonsense settings."""

from __future__ import annotations

import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import write_yaml

from cosim.cli.main import main

BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
nodes: {x: {block: constant, parameters: {value: *g}}}
"""


def cli(capsys, *args) -> tuple[int, str]:
    """Exit code and stderr of an in-process CLI call; exactly one message, no traceback.
    (``cosim regress`` reports a broken case in its table, on stdout.)"""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    if args[0] == "regress":
        return code, out
    assert "Traceback" not in err and err.startswith(f"cosim {args[0]}: error: "), err
    return code, err


# -- YAML -------------------------------------------------------------------------------

YAML_CASES = {
    "bomb": (BOMB, 6, "aliases expand to more than 100000 values (an alias bomb?)"),
    "recursive": ("nodes: &n {x: *n}\n", 1, "recursive alias: an anchor is used inside itself"),
    "deep": ("nodes: " + "[" * 200 + "]" * 200 + "\n", 1, "nesting deeper than 64 levels"),
    "python-tag": ("nodes:\n  x: !!python/object/apply:os.system [echo hi]\n", 2,
                   "unsupported tag '!!python/object/apply:os.system'"),
    "custom-tag": ("nodes:\n  x: !secret {block: constant}\n", 2, "unsupported tag '!secret'"),
    "key-tag": ("nodes:\n  !!python/name:os.system x: {block: constant}\n", 2,
                "unsupported tag '!!python/name:os.system'"),
    "bad-int": ("run: {stop: !!int ten}\nnodes: {x: {block: constant}}\n", 1,
                "invalid !!int value 'ten'"),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
@pytest.mark.parametrize("kind", ["topology", "study", "case"])
def test_hostile_yaml_everywhere(tmp_path, capsys, case, kind):
    text, line, message = YAML_CASES[case]
    if kind == "topology":
        path = tmp_path / "topo.yaml"
        args = ("check", path)
    elif kind == "study":
        path = tmp_path / "study.yaml"
        args = ("sweep", path, "--workers", "0")
    else:
        (tmp_path / "case").mkdir()
        path = tmp_path / "case" / "case.yaml"
        args = ("regress", tmp_path / "case")
    path.write_text(text)
    clock = time.monotonic()
    code, err = cli(capsys, *args)
    assert time.monotonic() - clock < 5  # the bomb took 27-45 s and 1.3 GB before
    assert code == 2, err
    assert f"{path}:{line}: " in err and message in err


# -- FMU archives -----------------------------------------------------------------------


def rezip(src: Path, dst: Path, replace=None, extra=None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return dst


def library_of(path: Path) -> str:
    return next(n for n in zipfile.ZipFile(path).namelist() if n.endswith(".so"))


def bomb(src: Path, dst: Path) -> Path:
    """3 MiB of zeros that deflate to ~3 KiB (ratio ~1000)."""
    rezip(src, dst)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("resources/zeros.bin", bytes(3 << 20))
    return dst


def many_entries(src: Path, dst: Path) -> Path:
    rezip(src, dst)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_STORED) as z:
        for i in range(10_001):
            z.writestr(f"resources/{i}", b"")
    return dst


def corrupt(src: Path, dst: Path) -> Path:
    """Flip bytes inside the compressed data of the library."""
    rezip(src, dst)
    data = bytearray(dst.read_bytes())
    info = zipfile.ZipFile(dst).getinfo(library_of(src))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 16, start + 80):
        data[k] ^= 0x5A
    dst.write_bytes(bytes(data))
    return dst


def no_symbols(src: Path, dst: Path) -> Path:
    c = dst.with_suffix(".c")
    c.write_text("int not_fmi(void) { return 42; }\n")
    so = dst.with_suffix(".so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(c)], check=True)
    return rezip(src, dst, replace={library_of(src): lambda _: so.read_bytes()})


def utf16_entity(src: Path, dst: Path) -> Path:
    def inject(data: bytes) -> bytes:
        body = data.decode().split("?>", 1)[1]
        text = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE fmiModelDescription '
                '[<!ENTITY e "EXPANDED">]>' + body.replace('description="', 'description="&e; ', 1))
        return text.encode("utf-16")
    return rezip(src, dst, replace={"modelDescription.xml": inject})


ARCHIVES = {
    "zip-bomb": (bomb, "unpacks to 3145728 bytes from"),
    "entries": (many_entries, "the archive has 10003 entries, more than the 10000"),
    "corrupt": (corrupt, "is damaged"),
    "not-a-library": (lambda s, d: rezip(s, d, replace={library_of(s): lambda _: b"MZ" * 64}),
                      "is not a shared library for this platform (it starts with b'MZMZ')"),
    "no-fmi-symbols": (no_symbols, "does not export fmi2"),
    "fmi1": (lambda s, d: rezip(s, d, replace={"modelDescription.xml": lambda x: x.replace(
        b'fmiVersion="2.0"', b'fmiVersion="1.0"')}), "the FMU is for FMI 1.0; cosim supports "
        "FMI 2.0 and 3.0"),
    "utf16-entity": (utf16_entity, "declares a DTD or XML entities"),
    "utf8-doctype": (lambda s, d: rezip(s, d, replace={"modelDescription.xml": lambda x: x.replace(
        b"?>", b'?>\n<!DOCTYPE fmiModelDescription SYSTEM "http://example.com/x.dtd">', 1)}),
        "declares a DTD or XML entities"),
    "path-escape": (lambda s, d: rezip(s, d, extra={"../../escaped.txt": b"x"}),
                    "escapes the extraction folder"),
}


@pytest.mark.parametrize("case", list(ARCHIVES))
def test_hostile_fmu_archive(tmp_path, fmu, capsys, case):
    make, message = ARCHIVES[case]
    evil = make(fmu("Gain"), tmp_path / f"{case}.fmu")
    topo = write_yaml(tmp_path / "one.yaml", {
        "run": {"stop": 0.1, "step": 0.01}, "nodes": {"n": {"fmu": str(evil)}}})
    out = tmp_path / "out.h5"
    code, err = cli(capsys, "run", topo, "-o", out, "--no-progress")
    assert code == 2, err
    assert str(evil) in err and message in err, err
    assert not list(tmp_path.parent.rglob("escaped.txt"))
    assert not out.exists() or out.stat().st_size == 0 or case == "no-fmi-symbols"


def test_size_limit_is_configurable(tmp_path, fmu, capsys, monkeypatch):
    topo = write_yaml(tmp_path / "one.yaml", {
        "run": {"stop": 0.1, "step": 0.01}, "nodes": {"n": {"fmu": str(fmu("Gain"))}}})
    monkeypatch.setenv("COSIM_FMU_MAX_BYTES", "1000")
    code, err = cli(capsys, "check", topo)
    assert code == 2 and "more than the 1000 cosim accepts (set COSIM_FMU_MAX_BYTES" in err


# -- settings and options ---------------------------------------------------------------


@pytest.mark.parametrize(("setting", "message"), [
    ("stop: .inf", "run.stop: must be a finite time in seconds, got inf"),
    ("step: .nan", "run.step: must be a finite time in seconds, got nan"),
    ("step: -1", "run: step must be > 0 s, got -1.0"),
    ("start: -.inf", "run.start: must be a finite time in seconds, got -inf"),
    ("stop: 1.0e300", "run.stop: 1e+300 s is beyond the time range"),
])
def test_nonsense_run_settings_in_yaml(tmp_path, capsys, setting, message):
    topo = tmp_path / "t.yaml"
    topo.write_text(f"run: {{{setting}}}\nnodes: {{x: {{block: constant}}}}\n")
    code, err = cli(capsys, "run", topo)
    assert code == 2 and f"{topo}:1: {message}" in err and "pydantic" not in err


@pytest.mark.parametrize(("option", "message"), [
    (("--stop", "nan"), "invalid run settings: stop: must be a finite time in seconds, got nan"),
    (("--step", "-1"), "invalid run settings: step must be > 0 s, got -1.0"),
    (("--start", "inf"), "invalid run settings: start: must be a finite time in seconds, "
                         "got inf"),
])
def test_nonsense_run_settings_on_the_command_line(tmp_path, capsys, option, message):
    topo = tmp_path / "t.yaml"
    topo.write_text("nodes: {x: {block: constant}}\n")
    code, err = cli(capsys, "run", topo, *option)
    assert code == 2 and err.splitlines() == [f"cosim run: error: {message}"]


@pytest.mark.parametrize("args", [
    ("compare", "a.h5", "b.h5", "--jobs", "-3"), ("regress", ".", "--jobs", "0"),
    ("sweep", "s.yaml", "--workers", "-1"), ("sweep", "s.yaml", "--dask-local", "0"),
    ("sweep", "s.yaml", "--timeout", "nan"), ("run", "t.yaml", "--timeout", "-1"),
    ("run", "t.yaml", "--timeout", "0"),
])
def test_nonsense_options_are_refused(capsys, args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert f"argument {args[-2]}: must be" in err and "Traceback" not in err
