"""``cosim inspect FMU`` — variables, units, dependencies and capabilities (``--json``:
the same as one JSON document, with every variable's description)."""

from __future__ import annotations

import json

CS_FLAGS = ("canHandleVariableCommunicationStepSize", "canGetAndSetFMUstate",
            "canGetAndSetFMUState", "hasEventMode", "mightReturnEarlyFromDoStep",
            "providesDirectionalDerivative", "providesDirectionalDerivatives")


def register(sub) -> None:
    p = sub.add_parser(
        "inspect", help="show an FMU's variables and capabilities",
        description="Read an FMU's model description (nothing is instantiated) and list "
        "its FMI version, GUID, SHA-256, co-simulation and model-exchange capabilities, "
        "and every variable: causality, variability, type, unit, start value, the inputs "
        "an output depends on directly, and its description.")
    p.add_argument("fmu", metavar="FMU", help="the .fmu file")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document instead of the table (for scripts)")
    p.set_defaults(func=inspect)


def inspect(args) -> int:
    from ..fmu import description
    info = description.read(args.fmu)
    if args.json:
        print(json.dumps(as_dict(info, args.fmu), indent=2, default=str))
        return 0
    _print_header(info, args.fmu)
    rows = [("name", "causality", "variability", "type", "unit", "start", "depends on",
             "description")]
    for v in info.interface.variables.values():
        rows.append((v.name, v.causality, v.variability, v.fmi_type or v.kind,
                     v.unit or "", "" if v.start is None else str(v.start), _deps(v),
                     v.description or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _print_header(info, path) -> None:
    md = info.description
    caps = info.co_simulation
    print(f"{path}: {md.modelName} (FMI {md.fmiVersion}), {md.generationTool or ''}")
    if md.description:
        print(f"  {md.description}")
    print(f"  guid: {info.guid}")
    print(f"  sha256: {info.sha256}")
    if caps is not None:
        shown = [f"{f}={getattr(caps, f)}" for f in CS_FLAGS if hasattr(caps, f)]
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


def _deps(v) -> str:
    if v.causality != "output":
        return ""
    return "(all inputs)" if v.depends_on is None else ", ".join(v.depends_on) or "-"


def as_dict(info, path) -> dict:
    """What ``cosim inspect --json`` prints: plain JSON types only."""
    md = info.description
    cs, me = info.co_simulation, md.modelExchange
    experiment = md.defaultExperiment
    return {
        "path": str(path),
        "model_name": md.modelName,
        "description": md.description or "",
        "fmi_version": md.fmiVersion,
        "generation_tool": md.generationTool or "",
        "guid": info.guid,
        "sha256": info.sha256,
        "co_simulation": None if cs is None else {
            "model_identifier": cs.modelIdentifier,
            **{f: getattr(cs, f) for f in CS_FLAGS if hasattr(cs, f)}},
        "model_exchange": None if me is None else {
            "model_identifier": me.modelIdentifier,
            "continuous_states": md.numberOfContinuousStates or 0,
            "event_indicators": md.numberOfEventIndicators or 0},
        "default_experiment": None if experiment is None else {
            k: _number(getattr(experiment, k, None))
            for k in ("startTime", "stopTime", "tolerance", "stepSize")},
        "variables": [_variable(v) for v in info.interface.variables.values()],
    }


def _variable(v) -> dict:
    return {
        "name": v.name, "causality": v.causality, "variability": v.variability,
        "type": v.fmi_type or v.kind, "unit": v.unit, "display_unit": v.display_unit,
        "start": v.start if not isinstance(v.start, bytes) else v.start.hex(),
        "nominal": v.nominal, "shape": list(v.shape),
        "depends_on": None if v.depends_on is None else list(v.depends_on),
        "description": v.description or "",
    }


def _number(text):
    if text is None:
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _usage(cs: bool, me: bool) -> str:
    if cs and me:
        return ("co-simulation by default; model exchange (integrated by cosim) with "
                "'interface: model-exchange' or in a cluster")
    if me:
        return "model exchange only: cosim integrates it (a cluster of its own, or in one)"
    return "co-simulation"
