"""Safe handling of ``.fmu`` archives.

An FMU is a zip file. Before anything is read or extracted we check that the file
exists, is a zip, holds a ``modelDescription.xml``, stays within the size limits below
(what its entries declare bounds what they unpack to: zipfile stops at the declared
size and checks the CRC), and that no entry's path escapes the extraction folder
(absolute paths, ``..``, symbolic links). The model description is parsed by
:mod:`cosim.fmu.xmlsafe` (no DTD, no entity, ever). Corrupt compressed data is reported
with the entry it is in. Every problem raises :class:`~cosim.errors.FMUError` naming the
file and the entry.

Limits (``COSIM_FMU_MAX_BYTES`` raises the size limit for an unusually large FMU):

* at most :data:`MAX_ENTRIES` entries;
* at most :data:`MAX_BYTES` bytes unpacked in total;
* an entry above :data:`RATIO_FLOOR` bytes unpacked may be at most :data:`MAX_RATIO`
  times its compressed size (zip bombs reach ratios of 1000 and more; a compiled
  library compresses 3 to 5 times, a data table rarely beyond 20).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..errors import ConfigError, FMUError

MODEL_DESCRIPTION = "modelDescription.xml"
MAX_ENTRIES = 10_000
MAX_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
#: What reading a damaged entry raises (bad CRC, corrupt deflate data, truncated file,
#: unsupported compression or encryption).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
               NotImplementedError, ValueError)


def max_bytes() -> int:
    """The unpacked-size limit: :data:`MAX_BYTES` or ``$COSIM_FMU_MAX_BYTES``."""
    text = os.environ.get("COSIM_FMU_MAX_BYTES", "")
    try:
        return int(float(text)) if text else MAX_BYTES
    except ValueError:
        raise FMUError(f"COSIM_FMU_MAX_BYTES={text!r} is not a number of bytes") from None


def open_archive(path: str | Path) -> zipfile.ZipFile:
    """Open an FMU as a zip file, or raise FMUError saying why it is not one."""
    p = Path(path)
    if not p.exists():
        raise FMUError("FMU file not found", file=str(p))
    if p.is_dir():
        raise FMUError("a directory, not an .fmu file", file=str(p))
    try:
        archive = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as err:
        raise FMUError(f"not a valid FMU: not a zip archive ({err})", file=str(p)) from None
    try:
        if MODEL_DESCRIPTION not in archive.namelist():
            raise FMUError(f"not a valid FMU: no {MODEL_DESCRIPTION} at the archive root",
                           file=str(p))
        check_limits(archive, p)
    except FMUError:
        archive.close()
        raise
    return archive


def check_limits(archive: zipfile.ZipFile, path: str | Path,
                 error: type[ConfigError] = FMUError) -> None:
    """Raise ``error`` (FMUError) if the archive has too many entries, unpacks to too many
    bytes, or holds an entry compressed beyond :data:`MAX_RATIO` (module docstring); for
    every zip cosim reads (FMUs, surrogate artifacts)."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise error(f"the archive has {len(infos)} entries, more than the "
                       f"{MAX_ENTRIES} cosim accepts (a zip bomb?)", file=str(path))
    limit = max_bytes()
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise error(
                f"archive entry {info.filename!r} unpacks to {info.file_size} bytes "
                f"from {info.compress_size} (ratio {info.file_size / max(info.compress_size, 1):.0f}, "
                f"above {MAX_RATIO}): refused as a likely zip bomb", file=str(path))
    if total > limit:
        raise error(f"the archive unpacks to {total} bytes, more than the "
                       f"{limit} cosim accepts (set COSIM_FMU_MAX_BYTES to allow more)",
                       file=str(path))


def read_entry(archive: zipfile.ZipFile, name: str, path: str | Path) -> bytes:
    """The bytes of one entry; FMUError naming the entry if its data is damaged."""
    try:
        return archive.read(name)
    except KeyError:
        raise FMUError(f"no entry {name!r} in the archive", file=str(path)) from None
    except READ_ERRORS as err:
        raise FMUError(f"archive entry {name!r} is damaged (corrupt compressed "
                       f"data, or a CRC or size mismatch): {err}", file=str(path)) from None


def model_description_xml(path: str | Path) -> bytes:
    """The bytes of ``modelDescription.xml`` (parse them with :mod:`cosim.fmu.xmlsafe`)."""
    with open_archive(path) as archive:
        return read_entry(archive, MODEL_DESCRIPTION, path)


def check_entries(archive: zipfile.ZipFile, path: str | Path) -> None:
    """Raise FMUError if any entry would land outside the extraction folder."""
    for info in archive.infolist():
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        mode = info.external_attr >> 16
        if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
            raise FMUError(f"archive entry {name!r} escapes the extraction folder; "
                           "the FMU was rejected before extraction", file=str(path))
        if stat.S_ISLNK(mode):
            raise FMUError(f"archive entry {name!r} is a symbolic link; "
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
        name = ""
        try:
            for info in archive.infolist():
                name = info.filename
                archive.extract(info, folder)
        except READ_ERRORS as err:
            raise FMUError(f"cannot extract: archive entry {name!r} is damaged or "
                           f"cannot be written ({err})", file=str(path)) from None


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
