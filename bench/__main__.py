"""``python -m bench NAME [options]`` — run one benchmark and print its table.

Every module of this folder with a ``main(argv)`` is a benchmark, named after its file
(``python -m bench`` lists them with the first line of their docstrings). Each prints
its figures and ratios against a baseline measured in the same run, and writes
``bench/results/NAME.json``.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> dict[str, str]:
    """name -> first line of the module docstring, for every module with ``main``."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        if any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
            doc = (ast.get_docstring(tree) or "").strip().splitlines()
            found[path.stem] = doc[0] if doc else ""
    return found


def main(argv: list[str]) -> int:
    names = benchmarks()
    if not argv or argv[0] not in names:
        print("usage: python -m bench NAME [options]\n")
        for name, text in names.items():
            print(f"  {name:<13} {text}")
        return 2
    module = importlib.import_module(f"bench.{argv[0]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
