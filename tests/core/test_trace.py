"""The exact sequence of set/step/get calls each algorithm makes, and the order's
independence from how a file is written."""

from __future__ import annotations

import random

import cosim


def chain(fmu) -> cosim.Topology:
    topo = cosim.Topology("trace", stop=0.2, step=0.1)
    # added in scrambled order on purpose: the order must come from the graph
    topo.add_fmu("g2", fmu("Gain"), parameters={"k": 0.5})
    topo.add_block("src", "constant", parameters={"value": 2.0})
    topo.add_fmu("g1", fmu("Gain", 3), parameters={"k": 3.0, "b": 1.0})
    topo.connect("g1.y", "g2.u")
    topo.connect("src.y", "g1.u")
    return topo


INIT = [("set", "src", 0.0, ()), ("get", "src", 0.0, (2.0,)),
        ("set", "g1", 0.0, (2.0,)), ("get", "g1", 0.0, (7.0,)),
        ("set", "g2", 0.0, (7.0,)), ("get", "g2", 0.0, (3.5,)),
        # after leaving initialization every node's outputs are read again (FMUs exported
        # by modelling tools compute them only then)
        ("get", "src", 0.0, (2.0,)), ("get", "g1", 0.0, (7.0,)),
        ("get", "g2", 0.0, (3.5,))]


def test_gauss_seidel_sequence(fmu):
    trace = cosim.run(chain(fmu), algorithm="gauss-seidel", trace=True).trace
    step = []
    for t in (0.0, 0.1):
        for node, u, y in (("src", (), (2.0,)), ("g1", (2.0,), (7.0,)),
                           ("g2", (7.0,), (3.5,))):
            step += [("set", node, t, u), ("step", node, t, 0.1),
                     ("get", node, round(t + 0.1, 12), y)]
    assert _rounded(trace) == INIT + step


def test_jacobi_sequence(fmu):
    trace = cosim.run(chain(fmu), algorithm="jacobi", trace=True).trace
    expected = list(INIT)
    for t in (0.0, 0.1):
        expected += [("set", "src", t, ()), ("set", "g1", t, (2.0,)), ("set", "g2", t, (7.0,))]
        expected += [("step", n, t, 0.1) for n in ("src", "g1", "g2")]
        expected += [("get", n, round(t + 0.1, 12), y)
                     for n, y in (("src", (2.0,)), ("g1", (7.0,)), ("g2", (3.5,)))]
    assert _rounded(trace) == expected


def _rounded(trace):
    out = []
    for entry in trace:
        kind, node, t, *rest = entry
        rest = [round(x, 12) if isinstance(x, float) else x for x in rest]
        out.append((kind, node, round(t, 12), *rest))
    return out


def test_order_does_not_depend_on_file_order(tmp_path, fmu):
    nodes = {
        "mass1": f"{{fmu: {fmu('Oscillator')}}}",
        "mass2": f"{{fmu: {fmu('Oscillator')}}}",
        "spring": f"{{fmu: {fmu('Spring')}}}",
        "probe": "{block: constant}",
    }
    conns = ["mass1.x -> spring.x1", "mass1.v -> spring.v1", "mass2.x -> spring.x2",
             "mass2.v -> spring.v2", "spring.F -> mass1.F", "{from: spring.F, to: mass2.F, gain: -1}"]
    orders = set()
    rng = random.Random(7)
    for i in range(6):
        names = list(nodes)
        rng.shuffle(names)
        rng.shuffle(conns)
        text = "run: {stop: 1, step: 0.1}\nnodes:\n" + "".join(
            f"  {n}: {nodes[n]}\n" for n in names) + "connections:\n" + "".join(
            f"  - {c}\n" for c in conns)
        p = tmp_path / f"t{i}.yaml"
        p.write_text(text)
        orders.add(tuple(cosim.load(p).check().order))
    # one order, whatever the file: the spring (direct feedthrough) goes first in its
    # cycle, then the rest by name; the unconnected probe after the cycle (by name)
    assert orders == {("spring", "mass1", "mass2", "probe")}
