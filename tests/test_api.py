"""The curated public API, pinned: changing it must be a deliberate act."""

import cosim


def test_public_api_is_pinned():
    assert sorted(cosim.__all__) == sorted([
        "Block", "ConfigError", "CosimError", "FMICallError", "FMUError", "Param", "Port",
        "Result", "ResultsError", "RunSpec", "Simulation", "SimulationError",
        "SubsystemError", "Termination", "Topology", "TopologyError", "__version__", "calibrate", "compare", "load", "read", "run", "sweep",
    ])
    for name in cosim.__all__:
        assert hasattr(cosim, name), name


def test_error_tree():
    assert issubclass(cosim.TopologyError, cosim.ConfigError)
    assert issubclass(cosim.FMUError, cosim.ConfigError)
    assert issubclass(cosim.FMICallError, cosim.SubsystemError)
    for cls in (cosim.ConfigError, cosim.SubsystemError, cosim.SimulationError,
                cosim.ResultsError):
        assert issubclass(cls, cosim.CosimError)
    assert cosim.ConfigError.exit_code == 2 and cosim.SubsystemError.exit_code == 3


def test_import_has_no_side_effects(capsys):
    import importlib
    importlib.reload(cosim)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_subpackages_are_attributes_imported_on_first_use():
    """``cosim.results.read(...)`` works right after ``import cosim``; the documented
    subpackages are pinned like the API, and none is imported before it is used."""
    import subprocess
    import sys
    assert cosim.SUBPACKAGES == ("blocks", "calibration", "comparison", "results",
                                 "sensitivity", "ssp", "studies", "surrogates", "telemetry",
                                 "units", "validation")
    code = ("import sys, cosim\n"
            "assert 'cosim.studies' not in sys.modules and 'pandas' not in sys.modules\n"
            "print(cosim.results.read is not None, cosim.studies.sweep is not None)\n"
            "print(cosim.results.Result is cosim.Result, 'result' in cosim.__all__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    # cosim/result.py holds the class on the run core's side of the layering
    # (docs/design-decisions.md 25); its one public name is cosim.results
    assert out == ["True", "True", "True", "False"]
    present = [name for name in cosim.SUBPACKAGES if hasattr(cosim, name)]
    for name in ("blocks", "comparison", "results", "sensitivity", "ssp", "studies",
                 "telemetry", "units", "validation"):
        assert name in present and name in dir(cosim)
    fresh = subprocess.run([sys.executable, "-c", "import cosim; print(hasattr(cosim, "
                            "'result'))"], capture_output=True, text=True, check=True)
    assert fresh.stdout.split() == ["False"]  # one name for results: cosim.results
    assert not hasattr(cosim, "no_such_subpackage")
