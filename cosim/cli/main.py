"""``cosim`` command line.

Exit codes (documented in README):

====  ==========================================================
0     success
1     a comparison found a regression (``cosim compare/regress``)
2     bad input: topology, FMU, settings or result file
3     the simulation failed (an FMU or block error, non-finite value)
130   interrupted (Ctrl-C)
====  ==========================================================

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
    from . import commands

    parser = argparse.ArgumentParser(
        prog="cosim", description="FMI co-simulation orchestrator for digital twins.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a topology (or a single .fmu)")
    p.add_argument("topology", help="topology file (.yaml) or an .fmu")
    p.add_argument("-o", "--output", help="HDF5 result file to write")
    p.add_argument("--start", type=float, help="start time [s]")
    p.add_argument("--stop", type=float, help="stop time [s]")
    p.add_argument("--step", type=float, help="communication step [s]")
    p.add_argument("--algorithm", choices=["gauss-seidel", "jacobi"])
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter (node.name=value; for an .fmu just name=value)")
    p.add_argument("--input", metavar="CSV", help="for an .fmu: a CSV whose columns drive "
                   "inputs of the same name (first column: time [s])")
    p.add_argument("--plot", metavar="PNG", help="save a plot of the results")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=commands.run)

    p = sub.add_parser("check", help="check a topology without running it")
    p.add_argument("topology")
    p.set_defaults(func=commands.check)

    p = sub.add_parser("inspect", help="show an FMU's variables and capabilities")
    p.add_argument("fmu")
    p.set_defaults(func=commands.inspect)

    p = sub.add_parser("graph", help="draw a topology as a PNG")
    p.add_argument("topology")
    p.add_argument("-o", "--output", default="topology.png")
    p.set_defaults(func=commands.graph)
    return parser


def _version() -> str:
    from .. import __version__
    return f"cosim {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("cosim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
