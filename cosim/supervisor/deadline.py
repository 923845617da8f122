"""A wall-time limit for code running in this process's main thread (SIGALRM).

Used where no supervisor process watches: ``cosim run`` without ``fork``, and each
scenario inside a study's worker process (whose parent still kills a worker stuck in
C code, where no Python signal handler runs). Elsewhere — another thread, or no
SIGALRM on this platform — :func:`deadline` does nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def deadline(seconds: float | None, message: str) -> Iterator[None]:
    """Raise :class:`~cosim.errors.RunTimeout` (``message``) in this thread once
    ``seconds`` of wall time have passed inside the block."""
    if not seconds or not hasattr(signal, "SIGALRM") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    from ..errors import RunTimeout

    def expired(signum, frame):
        raise RunTimeout(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
