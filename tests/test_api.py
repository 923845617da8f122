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
