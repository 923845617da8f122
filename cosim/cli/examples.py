"""The examples each command's ``--help`` ends with (keyed by the command as typed after
``cosim``). Paths are those of the repository; the tests check every registered
command has some, and run the ones marked in ``tests/core/test_cli_help.py``."""

from __future__ import annotations

EXAMPLES = {
    "run": """
        cosim run topologies/datacenter.yaml -o out/dc.h5 --plot out/dc.png
        cosim run topologies/datacenter.yaml --stop 3600 --param rack1.C_cpu=3.03e5
        cosim run fmus/build/fmi2/Decay.fmu --param k=1e-3 --input inputs.csv -o decay.h5
    """,
    "check": """
        cosim check topologies/datacenter.yaml
        cosim check system.ssp
    """,
    "inspect": """
        cosim inspect fmus/build/fmi2/Rack.fmu
        cosim inspect fmus/build/fmi2/Rack.fmu --json > rack.json
    """,
    "graph": """
        cosim graph topologies/datacenter.yaml -o out/datacenter_graph.png
        cosim graph topologies/datacenter.yaml -o out/datacenter.dot   # Graphviz text
    """,
    "compare": """
        cosim compare out/dc.h5 reference_results/datacenter/reference.h5
        cosim compare out/dc.h5 ref.h5 --tolerances tol.toml --report out/compare.html
        cosim compare out/dc.h5 --export-csv out/dc.csv
    """,
    "regress": """
        cosim regress
        cosim regress reference_results/two_mass --report out/regress.json
        cosim regress --update two_mass --why "spring model fixed (issue 12)"
    """,
    "sweep": """
        cosim sweep topologies/studies/datacenter_setpoint.yaml -o out/setpoint.h5
        cosim sweep study.yaml -o study.h5 --resume --workers 2
        cosim sweep study.yaml --dask-local 4
    """,
    "plot": """
        cosim plot out/dc.h5 -o out/dc.png
        cosim plot out/dc.h5 --signals "rack*.T_cpu" -o out/cpus.png
        cosim plot out/setpoint.h5 --kind heatmap --outputs peak_cpu
    """,
    "export": """
        cosim export topologies/datacenter.yaml -o out/datacenter.ssp
    """,
    "validate": """
        cosim validate out/datacenter_true.h5 topologies/calibration/telemetry.yaml \\
            --criteria topologies/calibration/criteria.yaml --report out/validation.html
        cosim validate run.h5 measured.csv --criteria ashrae14-hourly
    """,
    "sensitivity": """
        cosim sensitivity topologies/sensitivity/ishigami_sobol.yaml -o out/ishigami.h5 \\
            --plot out/ishigami.png --report out/ishigami.html
    """,
    "calibrate": """
        cosim calibrate topologies/calibration/calibrate.yaml -o calib.h5 --report calib.html
        cosim calibrate calib.yaml -o calib.h5 --resume
    """,
    "surrogate": """
        cosim surrogate excite topologies/surrogates/rack_excitation.yaml -o rack_excitation.h5
        cosim surrogate fit rack_excitation.h5 --node rack1 -o rack.surrogate
        cosim surrogate validate rack.surrogate topologies/datacenter_detailed.yaml --replace rack1
        cosim surrogate show rack.surrogate
    """,
    "surrogate excite": """
        cosim surrogate excite topologies/surrogates/rack_excitation.yaml -o rack_excitation.h5 --workers 2
    """,
    "surrogate fit": """
        cosim surrogate fit rack_excitation.h5 --node rack1 -o rack.surrogate --kinds polynomial
    """,
    "surrogate validate": """
        cosim surrogate validate rack.surrogate topologies/datacenter_detailed.yaml --replace rack1,rack2 --max-nrmse 0.02
    """,
    "surrogate show": """
        cosim surrogate show topologies/surrogates/rack_detailed.surrogate
    """,
}
