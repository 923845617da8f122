"""cosim benchmarks: ``python -m bench <name>``. They print figures; they are not tests."""
