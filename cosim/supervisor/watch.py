"""The supervisor: run a simulation in a forked child process and watch it.

:func:`supervise` forks. The child runs ``body()`` — the whole ``cosim run`` command,
printing what it always prints — with a :class:`~.beacon.Beacon` active, and leaves
through ``os._exit`` with the command's exit code after marking the beacon *done*. The
parent waits and:

* forwards SIGINT, SIGTERM and SIGHUP to the child once (the child's handler turns the first
  into ``KeyboardInterrupt``, so the run ends as an interrupted run and marks its own
  file; repeats are ignored while it cleans up). If the child has not ended
  :func:`grace_seconds` later — stuck inside FMU code, where Python signal handlers
  never run — or on a second signal, it kills it (SIGKILL);
* enforces ``timeout`` [s] of wall time the same way, asking the child to end with a
  :class:`~cosim.errors.RunTimeout` (status failed, exit 3);
* when the child ended any other way than through ``os._exit`` after *done* — a
  signal (segfault, ``abort()``, SIGKILL), or ``exit()`` called inside an FMU — marks
  the result file (``crashed``, ``interrupted`` or ``failed``, with the signal or exit
  status, the node being called and the end of the last completed step: see
  :mod:`cosim.results.marking`), prints one message and returns 3 (130 when
  interrupted).

Why fork and not a new interpreter: the child needs nothing to be imported again
(``cosim`` with numpy, scipy and pandas takes about a second to import) and inherits
the parsed command, the checked topology and the claim on the output file (whose lock
then stays held by the parent until the file is marked). Where ``os.fork`` does not
exist the run goes on in-process, unsupervised. ``COSIM_SUPERVISE=0`` does the same
(for debuggers).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import beacon as beacons

EXIT_FAILED, EXIT_INTERRUPTED = 3, 130
#: signals the supervisor passes on to the run (Ctrl-C, kill, a closed terminal)
FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                  if hasattr(signal, name))
#: seconds a signalled child gets to end by itself before it is killed
DEFAULT_GRACE = 5.0
POLL = 0.02


def grace_seconds() -> float:
    """``$COSIM_GRACE_SECONDS`` or :data:`DEFAULT_GRACE`."""
    text = os.environ.get("COSIM_GRACE_SECONDS", "")
    try:
        value = float(text) if text else DEFAULT_GRACE
    except ValueError:
        return DEFAULT_GRACE
    return value if value >= 0 else DEFAULT_GRACE


def available() -> bool:
    """Whether runs can be supervised here (POSIX fork; not disabled by the user)."""
    return hasattr(os, "fork") and os.environ.get("COSIM_SUPERVISE", "1") != "0"


@dataclass
class Ending:
    """How a supervised child ended, as the supervisor saw it."""

    status: int  # os.waitpid status
    done: bool  # the child left through cosim's own exit (it reported itself)
    code: int  # its exit code when done
    request: int  # beacons.NONE | INTERRUPT | TIMEOUT
    killed: bool  # the supervisor killed it (it did not stop within the grace period)
    where: beacons.Where


def supervise(body: Callable[[], int], *, output: str | Path | None = None,
              timeout: float | None = None, command: str = "run") -> int:
    """Run ``body()`` in a supervised child process; return the exit code (see module)."""
    record = beacons.Beacon()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(body, record, parent, timeout)
    ending = _Watcher(pid, record, timeout).wait()
    if ending.done:
        return ending.code
    return _report(ending, output, timeout, command)


# -- the child ---------------------------------------------------------------------------


def _child(body: Callable[[], int], record: beacons.Beacon, parent: int,
           timeout: float | None) -> None:
    code = EXIT_FAILED
    try:
        beacons.activate(record)
        _install_handlers(record, timeout)
        _watch_parent(parent)
        code = body()
    except SystemExit as err:  # never a silent success
        code = err.code if isinstance(err.code, int) and err.code else EXIT_FAILED
        with contextlib.suppress(Exception):
            print(f"cosim: error: the run called sys.exit({err.code!r})", file=sys.stderr)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BaseException as err:  # noqa: BLE001 - report and exit, never a traceback
        with contextlib.suppress(Exception):
            print(f"cosim: error: {type(err).__name__}: {err}", file=sys.stderr)
    finally:
        for sig in FORWARDED:  # nothing may interrupt the way out (os._exit below)
            with contextlib.suppress(Exception):
                signal.signal(sig, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        record.slots[beacons.EXIT_CODE] = code
        record.set_phase(beacons.DONE)
        os._exit(code)


def _watch_parent(parent: int) -> None:
    """If the supervisor dies (killed with SIGKILL, say), end this orphaned run as an
    interrupted one; kill it if it does not stop (stuck in model code) within the grace
    period. A thread: it runs while the main thread is inside an FMU (ctypes releases
    the GIL)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL * 25)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds())
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="cosim-orphan-watch", daemon=True).start()


def _install_handlers(record: beacons.Beacon, timeout: float | None) -> None:
    stopping = []

    def on_signal(signum, frame):
        if stopping:
            return  # a repeat (Ctrl-C reaches both processes; the parent forwards it)
        stopping.append(signum)
        where = record.where().describe()
        if record.request == beacons.TIMEOUT:
            from ..errors import RunTimeout
            raise RunTimeout(f"the run took longer than its time limit of {timeout:g} s "
                             f"(--timeout); stopped {where}")
        raise KeyboardInterrupt(where)

    for sig in FORWARDED:
        signal.signal(sig, on_signal)


# -- the parent --------------------------------------------------------------------------


class _Watcher:
    """Waits for the child, forwarding signals, enforcing the timeout and the grace."""

    def __init__(self, pid: int, record: beacons.Beacon, timeout: float | None):
        self.pid, self.record = pid, record
        self.deadline = time.monotonic() + timeout if timeout else None
        self.kill_at: float | None = None
        self.killed = False
        self.signals: list[int] = []

    def wait(self) -> Ending:
        saved = {sig: signal.signal(sig, self._on_signal) for sig in FORWARDED}
        try:
            status = self._loop()
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
        done = self.record.phase == beacons.DONE and os.WIFEXITED(status)
        return Ending(status, done, os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
                      self.record.request, self.killed, self.record.where())

    def _on_signal(self, signum, frame) -> None:
        self.signals.append(signum)

    def _loop(self) -> int:
        handled = 0
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: nothing more to learn
                return 0
            if pid == self.pid:
                return status
            now = time.monotonic()
            while handled < len(self.signals):
                self._ask(self.signals[handled], beacons.INTERRUPT, now)
                handled += 1
            if self.deadline is not None and now >= self.deadline and \
                    self.record.request == beacons.NONE:
                self._ask(signal.SIGTERM, beacons.TIMEOUT, now)
            if self.kill_at is not None and now >= self.kill_at and not self.killed:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            time.sleep(POLL)

    def _ask(self, signum: int, why: int, now: float) -> None:
        """Forward a signal (the first time), or kill at once (a second request)."""
        if self.record.request != beacons.NONE:
            self.kill_at = now  # asked twice: stop now
            return
        self.record.slots[beacons.REQUEST] = why
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)
        self.kill_at = now + grace_seconds()


# -- after an abnormal end ------------------------------------------------------------------


def _how(ending: Ending) -> str:
    """``was killed by SIGSEGV (segmentation fault)`` or ``exited with status 3 ...``."""
    status = ending.status
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        text = (signal.strsignal(sig) or "").lower()
        return f"was killed by {name} ({text})" if text else f"was killed by {name}"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)} (exit() called inside the model)"
    return "ended for an unknown reason"


def _verdict(ending: Ending, timeout: float | None) -> tuple[str, int, str]:
    """``(status, exit code, sentence)`` for an abnormal end."""
    where = ending.where.describe()
    if ending.request == beacons.TIMEOUT:
        stuck = f" and did not stop within {grace_seconds():g} s, so it was killed" \
            if ending.killed else ""
        return ("failed", EXIT_FAILED,
                f"the run took longer than its time limit of {timeout:g} s (--timeout) "
                f"{where}{stuck}")
    if ending.request == beacons.INTERRUPT:
        stuck = f"; it did not stop within {grace_seconds():g} s (stuck inside the " \
            "model), so it was killed" if ending.killed else f"; the process {_how(ending)}"
        return "interrupted", EXIT_INTERRUPTED, f"interrupted {where}{stuck}"
    return ("crashed", EXIT_FAILED,
            f"the simulation process {_how(ending)} {where}; the fault is in that node's "
            "model code")


def _report(ending: Ending, output: str | Path | None, timeout: float | None,
            command: str) -> int:
    status, code, sentence = _verdict(ending, timeout)
    label = "interrupted" if status == "interrupted" else "error"
    lines = [f"cosim {command}: {label}: {sentence}" if label == "error"
             else f"cosim {command}: {sentence}"]
    started = ending.where.phase != beacons.PHASE_NAMES[beacons.STARTING]
    if output is not None and started and Path(output).is_file():
        lines.append(_mark(Path(output), status, sentence))
    print("\n".join(lines), file=sys.stderr)
    return code


def _mark(path: Path, status: str, sentence: str) -> str:
    from ..errors import ResultsError
    from ..results.marking import mark
    try:
        rows = mark(path, status, sentence)
    except ResultsError as err:
        return f"the result file could not be marked {status}: {err}"
    return f"partial results (status {status}, {rows} rows) are in {path}"
