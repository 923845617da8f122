"""SSP packages on disk: a checked ``.ssp`` archive, or the folder of a bare ``.ssd``.

An ``.ssp`` is a zip with ``SystemStructure.ssd`` at its root and its resources (FMUs,
``.ssv``, ``.ssm``) under ``resources/``. Before anything is extracted every entry is
checked: no absolute path, no ``..``, no drive letter, no symbolic link, no encrypted
entry, at most :attr:`Limits.max_entries` entries and :attr:`Limits.max_total` bytes
uncompressed (counted while extracting, so a lying header cannot get past it). An XML
file is read into memory only up to :attr:`Limits.max_xml` bytes.

The archive is extracted once into a folder keyed by its SHA-256,
``<tmp>/cosim-ssp-<uid>/<sha256[:24]>``: loading the same SSP again (or from a worker
process of a study) extracts nothing. The extraction is written under a temporary name
and renamed into place, so a folder that exists is complete. Each use touches the
folder; folders unused for :data:`MAX_AGE` seconds, and half-written ones of processes
that died, are removed by the next extraction.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError
from ..fmu.archive import sha256
from .xmlio import Source

SSD_NAME = "SystemStructure.ssd"
MAX_AGE = 7 * 24 * 3600  # seconds an unused extraction is kept


@dataclass(frozen=True)
class Limits:
    """Size limits for untrusted packages (bytes, entries)."""

    max_entries: int = 10_000
    max_total: int = 4 << 30
    max_xml: int = 64 << 20


@dataclass
class Package:
    """An SSP's files on disk: ``root`` mirrors the package (the extraction folder of an
    archive, or the folder holding a bare ``.ssd``); ``ssd`` is the SSD's name in it.

    Names are POSIX paths relative to ``root``, as URIs in the SSD give them.
    """

    path: Path
    root: Path
    ssd: str
    archive: bool
    limits: Limits = field(default_factory=Limits)

    def source(self, name: str) -> Source:
        """How ``name`` is shown in messages (``system.ssp!/resources/p.ssv``)."""
        if self.archive:
            return Source(f"{self.path}!/{name}")
        return Source(str(self.path.parent / name) if name != self.ssd else str(self.path))

    def file(self, name: str) -> Path:
        return self.root / name

    def has(self, name: str) -> bool:
        return self.file(name).is_file()

    def read(self, name: str) -> bytes:
        """The bytes of an XML file of the package; ConfigError if missing or too big."""
        p = self.file(name)
        try:
            size = p.stat().st_size
        except OSError:
            raise ConfigError(f"{name} not found{self._listing(name)}",
                              file=self.source(name).shown) from None
        if size > self.limits.max_xml:
            raise ConfigError(f"is {size} bytes, more than the {self.limits.max_xml} bytes "
                              "cosim reads from one SSP XML file",
                              file=self.source(name).shown)
        return p.read_bytes()

    def _listing(self, name: str) -> str:
        folder = self.file(name).parent
        if not folder.is_dir():
            return ""
        names = sorted(x.name for x in folder.iterdir() if not x.name.startswith("."))[:12]
        where = "the archive" if self.archive else str(folder)
        return f" in {where} (beside it: {', '.join(names) or 'nothing'})"

    def resolve(self, uri: str, base: str = "") -> str:
        """The package name a relative URI in the SSD names (``resources/a%20b.fmu`` ->
        ``resources/a b.fmu``); ValueError saying why it cannot be used.

        ``base`` is the name of the file the URI is relative to (the SSD, or a component
        for ``sourceBase="component"``). Only relative URIs are supported; in an archive
        they must stay inside it.
        """
        parts = urlsplit(uri)
        if parts.scheme or parts.netloc:
            raise ValueError(f"URI {uri!r} is not relative; cosim reads components and "
                             "parameter files inside the package (relative URIs) only")
        if parts.fragment:
            raise ValueError(f"URI {uri!r} has a fragment ('#{parts.fragment}'); references "
                             "into other documents are not supported")
        path = unquote(parts.path)
        if not path or path.startswith("/"):
            raise ValueError(f"URI {uri!r} is empty or absolute")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
        if self.archive and (joined == ".." or joined.startswith("../")):
            raise ValueError(f"URI {uri!r} leads outside the archive")
        return joined


def open_package(path: str | Path, limits: Limits | None = None) -> Package:
    """An ``.ssp`` (checked and extracted) or a bare ``.ssd``; ConfigError if unusable."""
    p = Path(path)
    limits = limits or Limits()
    if not p.exists():
        raise ConfigError("file not found", file=str(p))
    if p.is_dir():
        raise ConfigError("is a directory; give an .ssp archive or an .ssd file", file=str(p))
    if p.suffix.lower() == ".ssd":
        return Package(p, p.resolve().parent, p.name, archive=False, limits=limits)
    root = extract(p, limits)
    if not (root / SSD_NAME).is_file():
        raise ConfigError(f"not an SSP: no {SSD_NAME} at the root of the archive",
                          file=str(p))
    return Package(p, root, SSD_NAME, archive=True, limits=limits)


# -- checking and extracting ------------------------------------------------------------


def check_entries(archive: zipfile.ZipFile, shown: str, limits: Limits) -> None:
    """Raise ConfigError for the first entry that is unsafe, or if there are too many."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ConfigError(f"the archive has {len(infos)} entries, more than the "
                          f"{limits.max_entries} cosim accepts", file=shown)
    declared = 0
    for info in infos:
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
            raise ConfigError(f"archive entry {name!r} escapes the extraction folder; the SSP "
                              "was rejected before extraction", file=shown)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ConfigError(f"archive entry {name!r} is a symbolic link; the SSP was "
                              "rejected before extraction", file=shown)
        if info.flag_bits & 0x1:
            raise ConfigError(f"archive entry {name!r} is encrypted (SSP forbids encryption)",
                              file=shown)
        declared += info.file_size
    if declared > limits.max_total:
        raise ConfigError(f"the archive unpacks to {declared} bytes, more than the "
                          f"{limits.max_total} cosim accepts", file=shown)


def _extract_all(archive: zipfile.ZipFile, folder: Path, shown: str, limits: Limits) -> None:
    """Extract every entry, counting the bytes actually written against the limit."""
    total = 0
    for info in archive.infolist():
        target = folder / info.filename.replace("\\", "/")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                total += len(chunk)
                if total > limits.max_total:
                    raise ConfigError(f"the archive unpacks to more than {limits.max_total} "
                                      f"bytes (at entry {info.filename!r})", file=shown)
                dst.write(chunk)


def cache_root() -> Path:
    """The per-user folder holding extracted SSPs (private to the user)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    top = Path(tempfile.gettempdir()) / f"cosim-ssp-{uid}"
    top.mkdir(mode=0o700, exist_ok=True)
    return top


def extract(path: Path, limits: Limits) -> Path:
    """The folder holding the checked, extracted archive ``path`` (shared, see module)."""
    shown = str(path)
    try:
        digest = sha256(path)
    except OSError as err:
        raise ConfigError(f"cannot read: {err}", file=shown) from None
    top = cache_root()
    final = top / digest[:24]
    if final.is_dir():
        with contextlib.suppress(OSError):
            os.utime(final)
        return final
    with contextlib.suppress(OSError):
        sweep(top)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=top))
    try:
        try:
            with zipfile.ZipFile(path) as archive:
                check_entries(archive, shown, limits)
                _extract_all(archive, work, shown, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as err:
            raise ConfigError(f"not a valid SSP archive (zip): {err}", file=shown) from None
        except (OSError, RuntimeError, EOFError) as err:
            raise ConfigError(f"cannot extract the SSP archive: {err}", file=shown) from None
        try:
            os.rename(work, final)
        except OSError:  # another process finished the same archive first
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def sweep(top: Path, max_age: float = MAX_AGE) -> int:
    """Remove extractions unused for ``max_age`` seconds and half-written ones of dead
    processes; return how many folders were removed."""
    removed = 0
    now = time.time()
    for entry in top.iterdir():
        if entry.name.startswith(".tmp-"):
            pid = entry.name.split("-")[2]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        elif entry.is_dir() and now - entry.stat().st_mtime > max_age:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
