"""``cosim`` command line.

Exit codes (documented in README):

====  =================================================================================
0     success
1     a regression (``cosim compare/regress``) or a failed criterion (``cosim validate``)
2     bad input: topology, FMU, settings, result file, or a file that cannot be written
3     the simulation failed (an FMU or block error, non-finite value), or cosim itself
      failed (an internal error: a bug, reported as such)
130   interrupted (Ctrl-C)
====  =================================================================================

Errors are printed as one message on stderr, never a traceback
(``COSIM_TRACEBACK=1`` shows it). Every command takes ``-q/--quiet`` (print only
warnings and errors) and ``-v/--verbose`` (more detail, cosim's log on stderr), added
here to every subcommand a ``cmd_*.py`` module registers; its ``--help`` ends with the
examples of :mod:`cosim.cli.examples`.

Run as a program (``cosim ...`` or ``python -m cosim ...``: ``main()`` without
arguments), ``cosim run`` steps the simulation in a supervised child process
(cosim/supervisor); ``main([...])`` called from Python runs every command in the
calling process, like ``cosim.run``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from ..errors import CosimError

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cosim", description="FMI co-simulation orchestrator for digital twins.",
        epilog="Run 'cosim COMMAND --help' for a command's arguments and examples. Exit "
        "codes: 0 ok, 1 a regression or failed criterion, 2 bad input, 3 the run (or "
        "cosim) failed, 130 interrupted.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    from .common import finish_subcommands
    finish_subcommands(sub)
    return parser


def command_modules() -> list:
    """Every ``cosim/cli/cmd_*.py`` module, in a fixed order (each has ``register``)."""
    import importlib
    import pkgutil

    from .. import cli
    names = sorted(m.name for m in pkgutil.iter_modules(cli.__path__)
                   if m.name.startswith("cmd_"))
    first = [f"cmd_{n}" for n in ORDER if f"cmd_{n}" in names]
    return [importlib.import_module(f"{cli.__name__}.{n}")
            for n in first + [n for n in names if n not in first]]


ORDER = ("run", "check", "inspect", "graph", "compare", "regress", "sweep", "plot", "validate",
         "sensitivity", "calibrate", "surrogate")


def _version() -> str:
    from .._version import __version__
    return f"cosim {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.as_program = argv is None  # a process of its own: runs may be supervised
    return handle(args, args.func)


def handle(args, func) -> int:
    """``func(args)``, its errors mapped to one message and an exit code (no traceback).

    ``-q`` sends the command's standard output to nowhere; ``-v`` shows cosim's log.
    ``cosim run`` calls it again in its supervised child process (cosim/supervisor)."""
    from .common import verbosity
    try:
        with verbosity(args):
            code = func(args)
    except KeyboardInterrupt as err:
        detail = f" {err}" if str(err) else ""  # where, from a supervised run
        print(f"cosim {args.command}: interrupted{detail}", file=sys.stderr)
        _partial(err, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        return EXIT_OK
    except CosimError as err:
        _traceback()
        print(f"cosim {args.command}: error: {err}", file=sys.stderr)
        _partial(err, "failed")
        return err.exit_code
    except OSError as err:  # a file the command reads or writes: a path, a permission
        _traceback()
        print(f"cosim {args.command}: error: {_os_message(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # noqa: BLE001 - a bug in cosim: say so, in one message
        _traceback()
        print(f"cosim {args.command}: internal error: {type(err).__name__}: {err}\n"
              "This is a bug in cosim, not in your input; please report it with the "
              "command line (COSIM_TRACEBACK=1 shows where it happened).", file=sys.stderr)
        return EXIT_FAILED
    return code or EXIT_OK


def _traceback() -> None:
    if os.environ.get("COSIM_TRACEBACK"):
        traceback.print_exc()


def _partial(err: BaseException, status: str) -> None:
    result = getattr(err, "result", None)
    if result is not None and result.path is not None:
        print(f"partial results (status {status}) are in {result.path}", file=sys.stderr)


def _os_message(err: OSError) -> str:
    """``cannot write 'out/x.png': No such file or directory`` and the like."""
    why = err.strerror or str(err)
    if err.filename is None:
        return why
    return f"{err.filename}: {why}"


if __name__ == "__main__":
    sys.exit(main())
