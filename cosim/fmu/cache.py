"""FMU extraction, once per process per archive content (keyed by SHA-256).

Every instance of an FMU in a process shares one extracted folder, so its binary is
loaded once (dlopen returns the same library for the same path) and a study that runs a
topology thousands of times extracts nothing after the first run. An FMU that declares
``canBeInstantiatedOnlyOncePerProcess`` gets a private copy per instance instead.

Folders live under ``<tmp>/cosim-fmus-<uid>/<pid>-<sha256[:16]>[-<k>]`` and are removed
when the process exits. Folders of processes that died without cleaning up (killed,
crashed) are removed by the next process that extracts an FMU, so they never pile up.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from . import archive

_lock = threading.Lock()
_shared: dict[str, Path] = {}
_private: list[Path] = []
_swept = False


def root() -> Path:
    """The per-user folder holding every process's extractions (private to the user)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    top = Path(tempfile.gettempdir()) / f"cosim-fmus-{uid}"
    top.mkdir(mode=0o700, exist_ok=True)
    return top


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(top: Path) -> int:
    """Remove folders left by processes that are gone; return how many were removed."""
    removed = 0
    for entry in top.iterdir():
        pid_text = entry.name.split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def extract(path: str | Path, sha256: str, *, private: bool = False) -> Path:
    """The folder holding the extracted FMU ``path`` (whose content hash is ``sha256``).

    Shared by every caller in this process unless ``private`` (then a new folder, removed
    by :func:`release` or at exit).
    """
    global _swept
    with _lock:
        top = root()
        if not _swept:
            _swept = True
            with contextlib.suppress(OSError):
                sweep(top)
        if not private and sha256 in _shared and _shared[sha256].is_dir():
            return _shared[sha256]
        stem = f"{os.getpid()}-{sha256[:16]}"
        folder = Path(tempfile.mkdtemp(prefix=f"{stem}-", dir=top)) if private \
            else top / stem
        if not private:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(mode=0o700)
        try:
            archive.extract_into(path, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if private:
            _private.append(folder)
        else:
            _shared[sha256] = folder
        return folder


def release(folder: Path) -> None:
    """Remove a private extraction (shared ones stay until the process exits)."""
    with _lock:
        if folder in _private:
            _private.remove(folder)
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _cleanup() -> None:
    for folder in [*_shared.values(), *_private]:
        shutil.rmtree(folder, ignore_errors=True)
    _shared.clear()
    _private.clear()
