"""Compile ``kernel.c`` with the machine's C compiler, once, into a per-user cache.

The shared object is named by a hash of the source, the flags, the compiler's identity
and the platform, so a changed kernel or compiler builds a new one and concurrent
processes never see a half-written file (it is written under a temporary name and
renamed). ``-ffp-contract=off`` keeps every multiply and add a separate IEEE operation,
as in numpy and Python: no fused multiply-add, so results stay bit-identical.

Environment: ``COSIM_CC`` (compiler, default ``cc`` then ``gcc``), ``COSIM_CACHE_DIR``
(default ``$XDG_CACHE_HOME/cosim`` or ``~/.cache/cosim``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SOURCE = Path(__file__).with_name("kernel.c")
CFLAGS = ("-O2", "-std=c11", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math",
          "-fexcess-precision=standard", "-Wall")
ABI = 7  # KERNEL_ABI in kernel.c

_lock = threading.Lock()
_kernel: ctypes.CDLL | None = None
_failure: str | None = None
#: seconds the last compilation took (None: loaded from the cache, or not yet built)
compile_seconds: float | None = None


class KernelUnavailable(RuntimeError):
    """The compiled kernel cannot be built or loaded (no compiler, compile error, ...)."""


def compiler() -> str | None:
    """The C compiler to use: ``$COSIM_CC``, else ``cc`` or ``gcc`` on the PATH."""
    explicit = os.environ.get("COSIM_CC")
    if explicit:
        return shutil.which(explicit)
    return shutil.which("cc") or shutil.which("gcc")


def cache_dir() -> Path:
    explicit = os.environ.get("COSIM_CACHE_DIR")
    if explicit:
        return Path(explicit) / "fast"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cosim" / "fast"


def _compiler_identity(cc: str) -> str:
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        raise KernelUnavailable(f"cannot run the C compiler {cc}: {err}") from None
    if out.returncode != 0:
        raise KernelUnavailable(f"the C compiler {cc} does not work: {out.stderr.strip()}")
    return out.stdout.splitlines()[0] if out.stdout else cc


_identities: dict[str, str] = {}


def _target(cc: str, source: Path) -> Path:
    if cc not in _identities:
        _identities[cc] = _compiler_identity(cc)
    key = hashlib.sha256()
    for part in (source.read_bytes(), " ".join(CFLAGS).encode(), _identities[cc].encode(),
                 platform.machine().encode(), sys.platform.encode()):
        key.update(part)
        key.update(b"\0")
    return cache_dir() / f"{source.stem}-{key.hexdigest()[:20]}.so"


def _compile(cc: str, source: Path, target: Path) -> float:
    """Compile ``source`` into the shared object ``target`` (atomically); seconds taken."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KernelUnavailable(f"cannot create the cache folder {target.parent}: {err}") \
            from None
    fd, tmp = tempfile.mkstemp(prefix=target.stem + "-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    clock = time.perf_counter()
    try:
        out = subprocess.run([cc, *CFLAGS, "-o", tmp, str(source), "-lm"],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise KernelUnavailable(f"compiling {source.name} with {cc} failed: "
                                    f"{(out.stderr or out.stdout).strip()[:2000]}")
        os.replace(tmp, target)
    except (OSError, subprocess.SubprocessError) as err:
        raise KernelUnavailable(f"compiling {source.name} with {cc} failed: {err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return time.perf_counter() - clock


def library(source: Path) -> Path:
    """A shared object built from the C file ``source`` with the kernel's flags (no
    fused multiply-add: bit-identical to Python's arithmetic), compiled once into the
    cache; raises :class:`KernelUnavailable` (no compiler, a compile error)."""
    return _built(source)[0]


def _built(source: Path) -> tuple[Path, float | None]:
    """(the shared object of ``source`` in the cache, seconds its compilation took now or
    None when it was there already)."""
    cc = compiler()
    if cc is None:
        raise KernelUnavailable("no C compiler found (set COSIM_CC, or install gcc)")
    target = _target(cc, source)
    if target.is_file():
        return target, None
    return target, _compile(cc, source, target)


def _load(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as err:
        raise KernelUnavailable(f"cannot load {path}: {err}") from None
    lib.cosim_fast_abi.restype = ctypes.c_int64
    if lib.cosim_fast_abi() != ABI:
        raise KernelUnavailable(f"{path} has kernel ABI {lib.cosim_fast_abi()}, expected {ABI}")
    return lib


def kernel() -> ctypes.CDLL:
    """The loaded kernel, compiled on first use; raises :class:`KernelUnavailable`.

    A failure is remembered for the rest of the process (no compiler run per simulation);
    :func:`reset` forgets it.
    """
    global _kernel, _failure, compile_seconds
    with _lock:
        if _kernel is not None:
            return _kernel
        if _failure is not None:
            raise KernelUnavailable(_failure)
        try:
            target, seconds = _built(SOURCE)
            if seconds is not None:
                compile_seconds = seconds
            _kernel = _load(target)
        except KernelUnavailable as err:
            _failure = str(err)
            raise
        return _kernel


def failure() -> str | None:
    """Why the kernel could not be built or loaded in this process (None: it was, or
    it was not tried yet)."""
    return _failure


def reset() -> None:
    """Forget the loaded kernel and any failure (tests; a compiler installed meanwhile)."""
    global _kernel, _failure
    with _lock:
        _kernel, _failure = None, None
