"""``python -m bench NAME [options]`` — run one benchmark and print its table.

Benchmarks: ``chain`` (master overhead on a chain of Gain FMUs vs a plain fmpy loop).
"""

from __future__ import annotations

import sys

from . import chain

BENCHMARKS = {"chain": chain.main}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [options]")
        return 2
    return BENCHMARKS[argv[0]](argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
