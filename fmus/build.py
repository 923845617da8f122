#!/usr/bin/env python3
"""Build the project's own FMUs (FMI 2.0 and FMI 3.0) from ``fmus/<Model>/`` with gcc.

Each model folder holds two files: ``model.c`` (the equations, see ``common/model.h``) and
``model.json`` (the variables).  From ``model.json`` this script generates the C
configuration header and both ``modelDescription.xml`` files, compiles the model together
with the glue in ``common/`` against the FMI headers shipped with fmpy, and packs

    fmus/build/fmi2/<Model>.fmu   (binaries/linux64/<Model>.so)
    fmus/build/fmi3/<Model>.fmu   (binaries/x86_64-linux/<Model>.so)

An FMU is rebuilt only when its sources change: a hash over ``common/``, the model folder,
the build scripts (build.py, modelspec.py, generate.py), the FMI headers and the compiler
flags is stored beside the FMU
(``<Model>.fmu.json``) together with the FMU's own SHA-256, so a corrupt FMU is rebuilt too.
FMUs are written to a temporary file and renamed, so a half-built FMU never lands in the
cache.  Only the standard library and fmpy are used.

Usage::

    python fmus/build.py [MODEL ...] [--force] [--out DIR] [--list]

It prints a line per FMU it built and nothing for those taken from the cache (``--list``
prints every path).

From Python::

    from fmus.build import build, fmu_path
    fmu_path("Oscillator", 3)          # -> Path to the FMI 3 FMU, built if needed
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    from .generate import config_header, model_description_fmi2, model_description_fmi3
    from .modelspec import IDENTIFIER, FMUBuildError, ModelSpec, load_spec
except ImportError:  # run as a script: python fmus/build.py
    from generate import config_header, model_description_fmi2, model_description_fmi3
    from modelspec import IDENTIFIER, FMUBuildError, ModelSpec, load_spec

__all__ = ["FMUBuildError", "build", "fmu_path", "list_models", "load_spec", "config_header",
           "model_description_fmi2", "model_description_fmi3", "MODELS_DIR", "DEFAULT_OUT_DIR"]

MODELS_DIR = Path(__file__).resolve().parent
COMMON_DIR = MODELS_DIR / "common"
DEFAULT_OUT_DIR = MODELS_DIR / "build"
BUILD_SCRIPTS = ("build.py", "modelspec.py", "generate.py")  # their text is in the source hash

FMI_VERSIONS = (2, 3)
PLATFORM_DIR = {2: "linux64", 3: "x86_64-linux"}
FMI_HEADERS = {
    2: ("fmi2Functions.h", "fmi2FunctionTypes.h", "fmi2TypesPlatform.h"),
    3: ("fmi3Functions.h", "fmi3FunctionTypes.h", "fmi3PlatformTypes.h"),
}
CFLAGS = ("-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden",
          "-Wl,-z,defs")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: identical sources give identical FMUs


# ------------------------------------------------------------------------ build machinery


def fmi_headers_dir() -> Path:
    """The folder with the FMI 2 / FMI 3 C headers shipped with fmpy."""
    try:
        import fmpy
    except ImportError:
        raise FMUBuildError("fmpy is not installed; it provides the FMI headers needed to "
                            "build the FMUs: pip install 'fmpy>=0.3.20'") from None
    return Path(fmpy.__file__).parent / "c-code"


def list_models(source_root: Path | None = None) -> list[str]:
    """Names of the model folders (with model.json) under ``source_root``."""
    root = Path(source_root or MODELS_DIR)
    return sorted(p.parent.name for p in root.glob("*/model.json"))


def _common_dir(source_root: Path) -> Path:
    own = source_root / "common"
    return own if own.is_dir() else COMMON_DIR


def _header_files(headers: Path, model: str) -> list[Path]:
    files = [headers / name for v in FMI_VERSIONS for name in FMI_HEADERS[v]]
    for f in files:
        if not f.is_file():
            raise FMUBuildError(
                f"model '{model}': FMI header {f.name} not found in {headers}: install fmpy "
                f"with its C headers (pip install 'fmpy>=0.3.20')")
    return files


def _compiler() -> str:
    return os.environ.get("CC", "gcc")


def source_hash(model: str, source_root: Path, headers: Path) -> str:
    """Hash over everything an FMU is built from."""
    h = hashlib.sha256(b"cosim-fmus-2\0")
    for script in BUILD_SCRIPTS:
        h.update((MODELS_DIR / script).read_bytes())
    h.update(" ".join((_compiler(), *CFLAGS)).encode())
    common = _common_dir(source_root)
    folder = source_root / model
    for base in (common, folder):
        for f in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"\0{base.name}/{f.relative_to(base)}\0".encode())
            h.update(f.read_bytes())
    for f in _header_files(headers, model):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def model_token(model: str, source_root: Path) -> str:
    """The FMI 2 ``guid`` / FMI 3 ``instantiationToken``: a hash of what defines the model
    (its folder, the common C code and the model-description generator), not of how it is
    built (compiler, flags, build script), so the same model keeps its identity across
    machines and build-script changes (a surrogate or a calibration records it)."""
    h = hashlib.sha256(b"cosim-fmus-token-1\0")
    h.update((MODELS_DIR / "generate.py").read_bytes())
    h.update((MODELS_DIR / "modelspec.py").read_bytes())
    for base in (_common_dir(source_root), source_root / model):
        for f in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"\0{base.name}/{f.relative_to(base)}\0".encode())
            h.update(f.read_bytes())
    d = h.hexdigest()
    return f"{{{d[0:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}}}"


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp_path(fmu: Path) -> Path:
    return fmu.with_name(fmu.name + ".json")


def _cache_valid(fmu: Path, digest: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(fmu).read_text())
        if stamp.get("source_hash") != digest or stamp.get("fmu_sha256") != _sha256_file(fmu):
            return False
        with zipfile.ZipFile(fmu) as zf:
            return zf.testzip() is None and "modelDescription.xml" in zf.namelist()
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _compile(spec: ModelSpec, version: int, workdir: Path, common: Path, headers: Path) -> Path:
    cc = _compiler()
    cc_path = shutil.which(cc)
    if cc_path is None:
        raise FMUBuildError(f"model '{spec.name}': C compiler '{cc}' not found: install gcc "
                            f"(apt-get install gcc) or set CC")
    out = workdir / f"fmi{version}" / f"{spec.name}.so"
    out.parent.mkdir(parents=True, exist_ok=True)
    glue = sorted(p for p in common.glob("*.c") if p.name not in ("fmi2.c", "fmi3.c"))
    sources = [*glue, common / f"fmi{version}.c", spec.folder / "model.c"]
    cmd = [cc_path, *CFLAGS, f"-I{workdir}", f"-I{common}", f"-I{headers}", *map(str, sources),
           "-o", str(out), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        match = re.search(r"^(.+?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$", proc.stderr, re.M)
        where = f"{match.group(1)}:{match.group(2)}: {match.group(3)}" if match else \
            f"{spec.folder / 'model.c'}"
        raise FMUBuildError(f"model '{spec.name}' does not compile for FMI {version}: {where}\n"
                            f"--- {' '.join(cmd)}\n{proc.stderr.strip()}")
    if proc.stderr.strip():
        print(f"warning: compiling model '{spec.name}' for FMI {version}:\n{proc.stderr}",
              file=sys.stderr)
    return out


def _pack(spec: ModelSpec, version: int, library: Path, description: str) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = [("modelDescription.xml", description.encode(), 0o644),
                   (f"binaries/{PLATFORM_DIR[version]}/{spec.name}.so", library.read_bytes(),
                    0o755)]
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _validate(spec: ModelSpec, version: int, data: bytes, workdir: Path) -> None:
    from fmpy.validation import validate_fmu

    path = workdir / f"{spec.name}.fmi{version}.fmu"
    path.write_bytes(data)
    problems = validate_fmu(str(path))
    if problems:
        raise FMUBuildError(f"model '{spec.name}': the generated FMI {version} model description "
                            f"is invalid (check {spec.folder / 'model.json'}):\n  "
                            + "\n  ".join(problems))


def _build_model(model: str, source_root: Path, out_dir: Path, headers: Path,
                 force: bool) -> dict[tuple[str, int], Path]:
    spec = load_spec(model, source_root)
    digest = source_hash(model, source_root, headers)
    targets = {(model, v): out_dir / f"fmi{v}" / f"{model}.fmu" for v in spec.fmi_versions}
    if not force and all(_cache_valid(p, digest) for p in targets.values()):
        return targets
    token = model_token(model, source_root)
    workdir = Path(tempfile.mkdtemp(prefix=f".{model}-", dir=out_dir))
    try:
        (workdir / "model_config.h").write_text(config_header(spec, token))
        common = _common_dir(source_root)
        generate = {2: model_description_fmi2, 3: model_description_fmi3}
        packed = {}
        for v in spec.fmi_versions:
            library = _compile(spec, v, workdir, common, headers)
            packed[v] = _pack(spec, v, library, generate[v](spec, token))
            _validate(spec, v, packed[v], workdir)
        for v, data in packed.items():
            fmu = targets[(model, v)]
            fmu.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(fmu, data)
            stamp = {"model": model, "fmi_version": v, "source_hash": digest,
                     "fmu_sha256": hashlib.sha256(data).hexdigest()}
            _write_atomic(_stamp_path(fmu), (json.dumps(stamp, indent=1) + "\n").encode())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return targets


@contextlib.contextmanager
def _locked(out_dir: Path):
    """Serialize builds into one output folder across processes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build(models: list[str] | tuple[str, ...] | str | None = None, force: bool = False, *,
          source_root: str | os.PathLike | None = None,
          out_dir: str | os.PathLike | None = None,
          fmi_headers: str | os.PathLike | None = None,
          jobs: int = 2) -> dict[tuple[str, int], Path]:
    """Build (or take from the cache) the FMUs of ``models`` (default: all).

    Returns ``{(model, fmi_version): path}`` for the FMI versions of each model (2 and 3, or
    those its ``fmi_versions`` lists).  ``source_root`` is
    the folder with the model folders (default: ``fmus/``; its ``common/`` is used if it has
    one, else the project's), ``out_dir`` where the FMUs land (default: ``fmus/build``),
    ``fmi_headers`` the FMI header folder (default: fmpy's).  Raises FMUBuildError.
    """
    root = Path(source_root or MODELS_DIR).resolve()
    out = Path(out_dir or DEFAULT_OUT_DIR).resolve()
    headers = Path(fmi_headers) if fmi_headers else fmi_headers_dir()
    available = list_models(root)
    if isinstance(models, str):
        models = [models]
    models = list(available if models is None else models)
    unknown = [m for m in models if m not in available]
    if unknown:
        raise FMUBuildError(f"unknown model(s) {unknown}: no model.json in "
                            f"{[str(root / m) for m in unknown]}; available: {available}")
    bad = [m for m in models if not IDENTIFIER.match(m)]
    if bad:
        raise FMUBuildError(f"model folder name(s) {bad} must be C identifiers")
    results: dict[tuple[str, int], Path] = {}
    errors: list[str] = []
    with _locked(out), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_build_model, m, root, out, headers, force) for m in models]
        for future in futures:
            try:
                results.update(future.result())
            except FMUBuildError as exc:
                errors.append(str(exc))
    if errors:
        raise FMUBuildError("\n".join(errors))
    return results


def fmu_path(model: str, fmi_version: int = 2, *, source_root: str | os.PathLike | None = None,
             out_dir: str | os.PathLike | None = None) -> Path:
    """Path of the FMU of ``model`` for FMI ``fmi_version`` (2 or 3), built if needed."""
    if fmi_version not in FMI_VERSIONS:
        raise ValueError(f"fmi_version must be 2 or 3, not {fmi_version!r}")
    paths = build([model], source_root=source_root, out_dir=out_dir)
    if (model, fmi_version) not in paths:
        raise FMUBuildError(f"model '{model}' is built for FMI {sorted(v for _, v in paths)} "
                            f"only, not FMI {fmi_version}")
    return paths[(model, fmi_version)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the project's FMUs (FMI 2 and FMI 3) into fmus/build/.")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="models to build (default: all)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output folder (default: {DEFAULT_OUT_DIR})")
    parser.add_argument("--source", type=Path, default=None,
                        help=f"folder with the model folders (default: {MODELS_DIR})")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel builds (default 2)")
    parser.add_argument("--list", action="store_true",
                        help="print the path of every FMU, built or taken from the cache "
                        "(default: one line per FMU built, nothing for cached ones)")
    args = parser.parse_args(argv)
    out = Path(args.out or DEFAULT_OUT_DIR).resolve()
    before = {p: p.stat().st_mtime_ns for p in out.glob("fmi*/*.fmu")} if out.is_dir() else {}
    try:
        paths = build(args.models or None, args.force, source_root=args.source,
                      out_dir=args.out, jobs=args.jobs)
    except FMUBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for (_, _), path in sorted(paths.items()):
        if args.list:
            print(path)
        elif before.get(Path(path).resolve()) != Path(path).stat().st_mtime_ns:
            print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
