"""``cosim inspect FMU`` — variables, units, dependencies and capabilities."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("inspect", help="show an FMU's variables and capabilities")
    p.add_argument("fmu")
    p.set_defaults(func=inspect)


def inspect(args) -> int:
    from ..fmu import description
    info = description.read(args.fmu)
    md = info.description
    caps = info.co_simulation
    print(f"{args.fmu}: {md.modelName} (FMI {md.fmiVersion}), {md.generationTool or ''}")
    print(f"  guid: {info.guid}")
    print(f"  sha256: {info.sha256}")
    if caps is not None:
        flags = ["canHandleVariableCommunicationStepSize", "canGetAndSetFMUstate",
                 "canGetAndSetFMUState", "hasEventMode", "mightReturnEarlyFromDoStep",
                 "providesDirectionalDerivative", "providesDirectionalDerivatives"]
        shown = [f"{f}={getattr(caps, f)}" for f in flags if hasattr(caps, f)]
        print(f"  co-simulation: {', '.join(shown)}")
    me = md.modelExchange
    if me is not None:
        states = md.numberOfContinuousStates or 0
        indicators = md.numberOfEventIndicators or 0
        print(f"  model exchange: canGetAndSetFMUstate={me.canGetAndSetFMUstate}, "
              f"needsCompletedIntegratorStep={me.needsCompletedIntegratorStep}, "
              f"{states} continuous state{'s' * (states != 1)}, "
              f"{indicators} event indicator{'s' * (indicators != 1)}")
    else:
        print("  model exchange: no")
    print(f"  in a topology: {_usage(caps is not None, me is not None)}")
    rows = [("name", "causality", "variability", "type", "unit", "start", "depends on")]
    for v in info.interface.variables.values():
        deps = "" if v.causality != "output" else (
            "(all inputs)" if v.depends_on is None else ", ".join(v.depends_on) or "-")
        rows.append((v.name, v.causality, v.variability, v.fmi_type or v.kind,
                     v.unit or "", "" if v.start is None else str(v.start), deps))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0




def _usage(cs: bool, me: bool) -> str:
    if cs and me:
        return ("co-simulation by default; model exchange (integrated by cosim) with "
                "'interface: model-exchange' or in a cluster")
    if me:
        return "model exchange only: cosim integrates it (a cluster of its own, or in one)"
    return "co-simulation"
