"""What every subcommand gets from :mod:`cosim.cli.main`, whoever registered it.

* ``-q/--quiet``: print only warnings and errors (standard output goes nowhere, no
  progress bar); ``-v/--verbose``: more detail (``-vv`` more still), cosim's log on
  stderr. A command that declares its own ``-v`` keeps it (``args.verbose`` stays truthy).
* ``--help`` that wraps the description and ends with the command's examples
  (:mod:`cosim.cli.examples`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import textwrap
from collections.abc import Iterator

from .examples import EXAMPLES

WIDTH = 88


def finish_subcommands(sub: argparse._SubParsersAction, prefix: str = "") -> None:
    """Add the shared options, examples and formatting to every (nested) subcommand."""
    for name, parser in sub.choices.items():
        key = f"{prefix}{name}"
        _format(parser, key)
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for action in nested:
                finish_subcommands(action, f"{key} ")
        else:
            _shared_options(parser)


def _format(parser: argparse.ArgumentParser, key: str) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    if parser.description:
        paragraphs = [" ".join(p.split()) for p in parser.description.split("\n\n")]
        parser.description = "\n\n".join(textwrap.fill(p, WIDTH) for p in paragraphs if p)
    examples = EXAMPLES.get(key)
    if examples and not parser.epilog:
        body = textwrap.dedent(examples).strip("\n")
        parser.epilog = "examples:\n" + textwrap.indent(body, "  ")


def _shared_options(parser: argparse.ArgumentParser) -> None:
    taken = parser._option_string_actions
    group = parser.add_argument_group("output")
    if "-q" not in taken and "--quiet" not in taken:
        group.add_argument("-q", "--quiet", action="store_true",
                           help="print only warnings and errors")
    if "-v" not in taken and "--verbose" not in taken:
        group.add_argument("-v", "--verbose", action="count", default=0,
                           help="print more detail (-vv: more still), and cosim's log")


@contextlib.contextmanager
def verbosity(args: argparse.Namespace) -> Iterator[None]:
    """Apply ``-q``/``-v`` around a command."""
    quiet = bool(getattr(args, "quiet", False))
    verbose = int(getattr(args, "verbose", 0) or 0)
    if quiet and hasattr(args, "no_progress"):
        args.no_progress = True
    handler = None
    log = logging.getLogger("cosim")
    if verbose and not quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cosim: %(message)s"))
        log.addHandler(handler)
        old_level = log.level
        log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    try:
        if quiet:
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                yield
        else:
            yield
    finally:
        if handler is not None:
            log.removeHandler(handler)
            log.setLevel(old_level)
