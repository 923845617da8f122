"""Start-up stays light: ``import cosim`` and building the CLI's parser (``cosim --help``)
import none of the heavy libraries (they come with the first use of what needs them),
and the public API still resolves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "pandas", "scipy", "pydantic", "networkx", "matplotlib", "h5py", "pint",
         "dask", "fmpy")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded(code: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
                         capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cosim_loads_no_heavy_library():
    assert loaded("import cosim") == []


def test_the_cli_parser_loads_no_heavy_library():
    assert loaded("from cosim.cli.main import build_parser\nbuild_parser()") == []


def test_the_public_api_resolves_on_first_use():
    assert "pydantic" in loaded("import cosim\ncosim.Topology")
    assert loaded("import cosim\ncosim.CosimError") == []
