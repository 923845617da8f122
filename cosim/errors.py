"""Every exception cosim raises, in one tree.

::

    CosimError                      base class; ``exit_code`` is the CLI's exit status
    ├── ConfigError                 a file or setting is wrong (file, line, field)      exit 2
    │   ├── TopologyError           one or more problems in a topology, all at once   exit 2
    │   └── FMUError                an FMU file cannot be used (missing, corrupt,       exit 2
    │                               unsafe archive, no binary for this platform)
    ├── SubsystemError              a node failed while running (node, variable, time)  exit 3
    │   └── FMICallError            an FMI function returned error/fatal (function, status)
    ├── SimulationError             the run as a whole failed (time, nodes)             exit 3
    │   ├── NonFiniteError          a NaN or infinite value reached an output
    │   └── RunTimeout              the run exceeded its wall-time limit (--timeout)
    └── ResultsError                a result file is unreadable (path, dataset)         exit 2
        └── ResultsWriteError       writing results failed mid-run (disk full, ...)     exit 3

Messages say what failed, where (``rack1.T_out at t=12.5 s`` or ``topologies/dc.yaml:42``),
why, and what to try. :func:`context` attaches the node and time to errors that pass up
through the master loop, so the code raising them need not know where it runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


class CosimError(Exception):
    """Base class of all cosim errors. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(CosimError):
    """A configuration file or setting is invalid."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.file, self.line, self.field = file, line, field
        where = file if file else ""
        if file and line:
            where = f"{file}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Problem:
    """One problem found while checking a topology.

    ``where`` is ``file:line`` (or the empty string for topologies built in Python);
    ``node`` and ``variable`` name the port concerned, if any.
    """

    message: str
    where: str = ""
    node: str | None = None
    variable: str | None = None

    def __str__(self) -> str:
        subject = ""
        if self.node:
            subject = f"{self.node}.{self.variable}" if self.variable else self.node
        parts = [p for p in (self.where, subject) if p]
        return f"{': '.join(parts)}: {self.message}" if parts else self.message


class TopologyError(ConfigError):
    """A topology has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"topology has {n} problem{'s' if n != 1 else ''}:"
        body = "\n".join(f"  - {p}" for p in self.problems)
        CosimError.__init__(self, f"{head}\n{body}")
        self.file = self.line = self.field = None


class FMUError(ConfigError):
    """An FMU file cannot be loaded: missing, not a zip, unsafe, or unsupported."""


class SubsystemError(CosimError):
    """A subsystem failed during set-up or a run."""

    exit_code = 3

    def __init__(self, message: str, *, node: str | None = None, variable: str | None = None,
                 time: float | None = None):
        self.node, self.variable, self.time = node, variable, time
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.node:
            where = f"{self.node}.{self.variable}" if self.variable else self.node
        if self.time is not None:
            where = f"{where} at t={self.time:g} s" if where else f"at t={self.time:g} s"
        return f"{where}: {self.detail}" if where else self.detail

    def locate(self, *, node: str | None = None, time: float | None = None) -> None:
        """Fill in the node and time if the raiser did not know them."""
        if self.node is None and node is not None:
            self.node = node
        if self.time is None and time is not None:
            self.time = time
        self.args = (self._format(),)


class FMICallError(SubsystemError):
    """An FMI function returned a status of error or fatal (or discard where not handled)."""

    def __init__(self, function: str, status: int, *, node: str | None = None,
                 time: float | None = None, log: str = ""):
        self.function, self.status = function, status
        names = {1: "warning", 2: "discard", 3: "error", 4: "fatal", 5: "pending"}
        msg = f"{function} returned {names.get(status, status)}"
        if log:
            msg += f" ({log.strip()})"
        super().__init__(msg, node=node, time=time)


class SimulationError(CosimError):
    """The run as a whole cannot continue."""

    exit_code = 3

    def __init__(self, message: str, *, time: float | None = None,
                 nodes: Sequence[str] = ()):
        self.time, self.nodes = time, list(nodes)
        where = f"at t={time:g} s: " if time is not None else ""
        super().__init__(where + message)


class NonFiniteError(SubsystemError):
    """An output became NaN or infinite (an error unless the run allows non-finite values)."""


class ResultsError(CosimError):
    """A result file cannot be read or created."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, dataset: str | None = None):
        self.path, self.dataset = path, dataset
        where = str(path) if path else ""
        if dataset:
            where = f"{where}:{dataset}" if where else dataset
        super().__init__(f"{where}: {message}" if where else message)


class ResultsWriteError(ResultsError):
    """Writing results failed while the run went (a full disk, a file-size limit): the run
    failed, and the file keeps what was written up to its last complete flush."""

    exit_code = 3


class RunTimeout(SimulationError):
    """The run took longer than its wall-time limit (``cosim run --timeout``, a study's
    ``timeout:``)."""


@contextmanager
def context(*, node: str | None = None, time: float | None = None) -> Iterator[None]:
    """Attach ``node`` and ``time`` to a :class:`SubsystemError` passing through.

    Any other exception escaping a node's code (a Python block that raises, say) is
    wrapped in a :class:`SubsystemError` so that the user learns which node failed.
    """
    try:
        yield
    except SubsystemError as err:
        err.locate(node=node, time=time)
        raise
    except CosimError:
        raise
    except Exception as err:  # a user's block or a library failing inside a node
        raise SubsystemError(f"{type(err).__name__}: {err}", node=node, time=time) from err
