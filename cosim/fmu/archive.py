"""Safe handling of ``.fmu`` archives.

An FMU is a zip file. Before anything is read or extracted we check that the file
exists, is a zip, holds a ``modelDescription.xml`` without DTDs or entity
declarations (no entity expansion, ever), and that no entry's path escapes the
extraction folder (absolute paths, ``..``, symbolic links). Every problem raises
:class:`~cosim.errors.FMUError` naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import FMUError

MODEL_DESCRIPTION = "modelDescription.xml"
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def open_archive(path: str | Path) -> zipfile.ZipFile:
    """Open an FMU as a zip file, or raise FMUError saying why it is not one."""
    p = Path(path)
    if not p.exists():
        raise FMUError(f"FMU file not found: {p}", file=str(p))
    if p.is_dir():
        raise FMUError(f"{p} is a directory, not an .fmu file", file=str(p))
    try:
        archive = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as err:
        raise FMUError(f"not a valid FMU: {p} is not a zip archive ({err})", file=str(p)) from err
    if MODEL_DESCRIPTION not in archive.namelist():
        archive.close()
        raise FMUError(f"not a valid FMU: {p} has no {MODEL_DESCRIPTION} at its root",
                       file=str(p))
    return archive


def model_description_xml(path: str | Path) -> bytes:
    """The bytes of ``modelDescription.xml``, rejected if it declares a DTD or entities."""
    with open_archive(path) as archive:
        try:
            data = archive.read(MODEL_DESCRIPTION)
        except (zipfile.BadZipFile, OSError, RuntimeError) as err:
            raise FMUError(f"cannot read {MODEL_DESCRIPTION} from {path}: {err}",
                           file=str(path)) from err
    if _DTD.search(data):
        raise FMUError(
            f"{path}: {MODEL_DESCRIPTION} declares a DTD or XML entities; cosim rejects them "
            "(entity expansion is a denial-of-service risk) instead of expanding them",
            file=str(path))
    return data


def check_entries(archive: zipfile.ZipFile, path: str | Path) -> None:
    """Raise FMUError if any entry would land outside the extraction folder."""
    for info in archive.infolist():
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        mode = info.external_attr >> 16
        if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
            raise FMUError(f"{path}: archive entry {name!r} escapes the extraction folder; "
                           "the FMU was rejected before extraction", file=str(path))
        if stat.S_ISLNK(mode):
            raise FMUError(f"{path}: archive entry {name!r} is a symbolic link; "
                           "the FMU was rejected before extraction", file=str(path))


def extract(path: str | Path, prefix: str = "cosim-") -> Path:
    """Extract an FMU into a new temporary folder and return it (the caller removes it)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        extract_into(path, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def extract_into(path: str | Path, folder: Path) -> None:
    """Extract an FMU into the existing empty ``folder`` after checking every entry."""
    with open_archive(path) as archive:
        check_entries(archive, path)
        try:
            archive.extractall(folder)
        except (zipfile.BadZipFile, OSError, RuntimeError) as err:
            raise FMUError(f"cannot extract {path}: {err}", file=str(path)) from err


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
