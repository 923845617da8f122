"""Hostile: faults inside FMU code, each driven in a child process that prints y = t per step.

fault 1 segfault (SIGSEGV), 2 abort() (SIGABRT), 3 _exit(3), 4 doStep never returns, 5
ExitInitializationMode never returns; faults 1-4 hit the first doStep whose end is > t_fault.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

DRIVER = r"""
import sys
from fmpy import extract, read_model_description
from fmpy.fmi2 import FMU2Slave
from fmpy.fmi3 import FMU3Slave

path, version, fault = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
md = read_model_description(path)
vr = {v.name: v.valueReference for v in md.modelVariables}
cls = FMU2Slave if version == 2 else FMU3Slave
fmu = cls(guid=md.guid, unzipDirectory=extract(path), modelIdentifier="Hostile",
          instanceName="hostile")
fmu.instantiate()
if version == 2:
    fmu.setInteger([vr["fault"]], [fault])
    fmu.setReal([vr["t_fault"]], [0.25])
    fmu.setupExperiment(startTime=0)
    fmu.enterInitializationMode()
    get = lambda: fmu.getReal([vr["y"]])[0]
else:
    fmu.setInt32([vr["fault"]], [fault])
    fmu.setFloat64([vr["t_fault"]], [0.25])
    fmu.enterInitializationMode(startTime=0)
    get = lambda: fmu.getFloat64([vr["y"]])[0]
print("exiting initialization", flush=True)
fmu.exitInitializationMode()
print("initialized", flush=True)
for i in range(10):
    fmu.doStep(i * 0.1, 0.1)
    print(repr(get()), flush=True)
print("done", flush=True)
"""


def command(fmus, version, fault):
    return [sys.executable, "-c", DRIVER, str(fmus[("Hostile", version)]), str(version),
            str(fault)]


def drive(fmus, version, fault):
    """(returncode, printed lines) of a run that ends by itself."""
    proc = subprocess.run(command(fmus, version, fault), capture_output=True, text=True,
                          timeout=60)
    return proc.returncode, proc.stdout.split("\n")[:-1]


def drive_until_stuck(fmus, version, fault, last_line, grace=0.5):
    """Read the child's lines up to `last_line`, check it is still running `grace` s later
    (stuck), kill it; the printed lines."""
    proc = subprocess.Popen(command(fmus, version, fault), stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1] != last_line:
            line = proc.stdout.readline()
            assert line, f"the child ended early: {lines}"
            lines.append(line.rstrip("\n"))
        time.sleep(grace)
        assert proc.poll() is None, "the child finished: it should hang"
        return lines
    finally:
        proc.kill()
        proc.wait()


ROWS = ["exiting initialization", "initialized", "0.1", "0.2"]  # steps ending <= t_fault


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("fault,returncode", [(1, -signal.SIGSEGV), (2, -signal.SIGABRT),
                                              (3, 3)])
def test_crash_in_the_step_after_t_fault(fmus, version, fault, returncode):
    code, lines = drive(fmus, version, fault)
    assert code == returncode
    assert lines == ROWS  # every row before the fault, none after


@pytest.mark.parametrize("version", [2, 3])
def test_hang_in_do_step(fmus, version):
    assert drive_until_stuck(fmus, version, 4, "0.2") == ROWS


def test_hang_in_exit_initialization(fmus):
    assert drive_until_stuck(fmus, 3, 5, "exiting initialization") == ROWS[:1]


def test_no_fault_runs_through(fmus):
    code, lines = drive(fmus, 2, 0)
    assert code == 0 and lines[-1] == "done" and float(lines[-2]) == pytest.approx(1.0)
