"""``cosim export TOPOLOGY -o system.ssp`` — write a topology as an SSP archive."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("export", help="write a topology as an SSP (SSD + SSV + FMUs)")
    p.add_argument("topology", help="topology file (.yaml), or an .ssp/.ssd")
    p.add_argument("-o", "--output", required=True, metavar="SSP",
                   help="the .ssp archive to write")
    p.set_defaults(func=export)


def export(args) -> int:
    from ..ssp import export as export_ssp
    from ..topology import load
    out = Path(args.output)
    if out.suffix.lower() != ".ssp":
        raise ConfigError(f"cosim export writes SSP archives: name the output *.ssp, not "
                          f"{out.name!r}")
    topo = load(args.topology)
    report = export_ssp(topo, out)
    kinds = [topo.graph.nodes[n]["kind"] for n in topo.nodes]
    fmus = sum(1 for e in report.entries if e.endswith(".fmu"))
    print(f"{out}: SSP 1.0, {len(kinds)} components ({kinds.count('fmu')} FMU nodes, "
          f"{kinds.count('block')} Python blocks), {topo.graph.number_of_edges()} "
          f"connections, {fmus} FMU file(s), {len(report.entries)} entries")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
