"""Where a command's simulations run: ``--workers N`` local processes, ``--dask ADDRESS``
(an existing cluster) or ``--dask-local N`` (a loopback cluster started for the command).
One definition for every command that runs a study (sweep, sensitivity, calibrate,
surrogate excite), so their options, help and checks cannot drift apart."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from .argtypes import nonnegative_int, positive_int


def add(p: argparse.ArgumentParser) -> None:
    """Add ``--workers``, and ``--dask`` / ``--dask-local`` (exclusive), to ``p``."""
    p.add_argument("--workers", type=nonnegative_int, metavar="N",
                   help="local worker processes (default: one per core; 0: run serially "
                   "in this process)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                       "(needs: pip install cosim[dask])")
    where.add_argument("--dask-local", type=positive_int, metavar="N",
                       help="start a local Dask cluster of N worker processes (loopback)")


def check(args: argparse.Namespace) -> None:
    """Refuse options that exclude each other (before any input file is read)."""
    if args.workers is not None and (args.dask or args.dask_local is not None):
        raise ConfigError("--workers is for local processes; with Dask the cluster decides")


def check_restart(args: argparse.Namespace) -> None:
    """Refuse ``--resume`` with ``--overwrite`` (commands that write a resumable file)."""
    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")


def runner(args: argparse.Namespace):
    """The study runner the options ask for (:func:`cosim.studies.runners.make_runner`)."""
    from ..studies.runners import make_runner
    check(args)
    return make_runner(workers=args.workers, dask=args.dask, dask_local=args.dask_local)
