"""``cosim`` command line.

Exit codes (documented in README):

====  =================================================================================
0     success
1     a regression (``cosim compare/regress``) or a failed criterion (``cosim validate``)
2     bad input: topology, FMU, settings or result file
3     the simulation failed (an FMU or block error, non-finite value)
130   interrupted (Ctrl-C)
====  =================================================================================

Errors are printed as one message on stderr, never a traceback
(``COSIM_TRACEBACK=1`` shows it).
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
        prog="cosim", description="FMI co-simulation orchestrator for digital twins.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
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
         "sensitivity", "surrogate")


def _version() -> str:
    from .._version import __version__
    return f"cosim {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("cosim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        return EXIT_OK
    except CosimError as err:
        if os.environ.get("COSIM_TRACEBACK"):
            traceback.print_exc()
        print(f"cosim {args.command}: error: {err}", file=sys.stderr)
        result = getattr(err, "result", None)
        if result is not None and result.path is not None:
            print(f"partial results (status failed) are in {result.path}", file=sys.stderr)
        return err.exit_code
    return code or EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
