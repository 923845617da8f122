"""The Python code the kernel replicates, pinned by digest.

The compiled loop must match the Python loop bit for bit, so it copies the Python code's
exact operations. If any of that code changes (a new exchange rule, a block's law, how a
status is handled), the copy is stale: :func:`stale` then names what changed and the
fast path stands aside (the Python loop runs) until ``kernel.c`` is brought up to date
and the digests below are refreshed::

    python -m cosim.fast.reference          # print the current table to paste here

Digests are over the functions' tokens without comments, docstrings or layout, so
reformatting does not count as a change.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
import textwrap
import tokenize

#: what each part of the system needs pinned (module:qualname)
GROUPS: dict[str, tuple[str, ...]] = {
    "core": (
        "cosim.execution:Execution._python_steps", "cosim.execution:Execution._check_finite",
        "cosim.execution:_isfinite_all", "cosim.clock:to_seconds",
        "cosim.system:CoupledSystem.snapshot", "cosim.system:CoupledSystem.first_nonfinite",
        "cosim.master.base:check_outcome",
    ),
    "gauss-seidel": ("cosim.master.gauss_seidel:GaussSeidel.step",
                     "cosim.system:CoupledSystem.exchange_into", "cosim.master.base:note"),
    "jacobi": ("cosim.master.jacobi:Jacobi.step", "cosim.system:CoupledSystem.exchange_all"),
    "fmi2": ("cosim.subsystems.fmi2:FMI2Subsystem.set_inputs",
             "cosim.subsystems.fmi2:FMI2Subsystem.do_step",
             "cosim.subsystems.fmi2:FMI2Subsystem.get_outputs",
             "cosim.subsystems.fmu_common:PortGroup.push",
             "cosim.subsystems.fmu_common:PortGroup.pull"),
    "fmi3": ("cosim.subsystems.fmi3:FMI3Subsystem.set_inputs",
             "cosim.subsystems.fmi3:FMI3Subsystem.do_step",
             "cosim.subsystems.fmi3:FMI3Subsystem.get_outputs",
             "cosim.subsystems.fmu_common:PortGroup.push",
             "cosim.subsystems.fmu_common:PortGroup.pull"),
    "block": ("cosim.subsystems.block:BlockSubsystem.set_inputs",
              "cosim.subsystems.block:BlockSubsystem.do_step",
              "cosim.subsystems.block:BlockSubsystem.get_outputs",
              "cosim.subsystems.block:BlockSubsystem._store"),
    "Constant": ("cosim.blocks.constant:Constant.step",),
    "PID": ("cosim.blocks.pid:PID.step", "cosim.blocks.pid:PID.error", "cosim.blocks.pid:PID._clip"),
    "Surrogate": ("cosim.blocks.surrogate:Surrogate.step",
                  "cosim.blocks.surrogate:Surrogate.evaluate",
                  "cosim.blocks.surrogate:Surrogate._shape"),
    "Step": ("cosim.blocks.signals:Step.step", "cosim.blocks.signals:Step.value_at",
             "cosim.clock:to_ticks"),
    "Ramp": ("cosim.blocks.signals:Ramp.step", "cosim.blocks.signals:Ramp.value_at",
             "cosim.clock:to_ticks"),
}

#: digests of the code kernel.c was written against (python -m cosim.fast.reference)
PINNED: dict[str, str] = {
    'cosim.blocks.constant:Constant.step': '87c4682c6abf85ac',
    'cosim.blocks.pid:PID._clip': 'e0e481d254bf27a9',
    'cosim.blocks.pid:PID.error': 'db303c6c7f988bec',
    'cosim.blocks.pid:PID.step': '5bda2817e474eb4b',
    'cosim.blocks.signals:Ramp.step': 'e6d20f56900f37dc',
    'cosim.blocks.signals:Ramp.value_at': 'ac3c58bf28a5f0d0',
    'cosim.blocks.signals:Step.step': 'e6d20f56900f37dc',
    'cosim.blocks.signals:Step.value_at': '171d0ba03599b3c2',
    'cosim.blocks.surrogate:Surrogate._shape': '1d866e1270c73a30',
    'cosim.blocks.surrogate:Surrogate.evaluate': '86d4b937455cdcc9',
    'cosim.blocks.surrogate:Surrogate.step': 'e6311364c5c09055',
    'cosim.clock:to_seconds': 'e938a662012bbe57',
    'cosim.clock:to_ticks': '4fe39c9ef3d3d97f',
    'cosim.execution:Execution._check_finite': '738b585054b6111f',
    'cosim.execution:Execution._python_steps': '3edd1e635afbb35a',
    'cosim.execution:_isfinite_all': 'd847ec5147ba914d',
    'cosim.master.base:check_outcome': '6c5509e730ae7003',
    'cosim.master.base:note': '0a8d36e78fe25820',
    'cosim.master.gauss_seidel:GaussSeidel.step': '1612ae9d82403692',
    'cosim.master.jacobi:Jacobi.step': '3888bb9f64b74ef9',
    'cosim.subsystems.block:BlockSubsystem._store': 'a25b562b838ba249',
    'cosim.subsystems.block:BlockSubsystem.do_step': 'c15ecb88e66c64e7',
    'cosim.subsystems.block:BlockSubsystem.get_outputs': '38d5a46a91aad215',
    'cosim.subsystems.block:BlockSubsystem.set_inputs': '86ac197ac7b2dd22',
    'cosim.subsystems.fmi2:FMI2Subsystem.do_step': '60627ed33bceddc6',
    'cosim.subsystems.fmi2:FMI2Subsystem.get_outputs': 'b77df6d0da986076',
    'cosim.subsystems.fmi2:FMI2Subsystem.set_inputs': '7a8a2763f514f014',
    'cosim.subsystems.fmi3:FMI3Subsystem.do_step': '74a000854200aae9',
    'cosim.subsystems.fmi3:FMI3Subsystem.get_outputs': '5bc09e94e4bb1a67',
    'cosim.subsystems.fmi3:FMI3Subsystem.set_inputs': '43b1551af773a1b0',
    'cosim.subsystems.fmu_common:PortGroup.pull': '651eb2ac13079747',
    'cosim.subsystems.fmu_common:PortGroup.push': 'aa7ae12796866bec',
    'cosim.system:CoupledSystem.exchange_all': 'ca57200052045ed8',
    'cosim.system:CoupledSystem.exchange_into': 'e1979746e7213ae2',
    'cosim.system:CoupledSystem.first_nonfinite': 'a2bc5cb898ad3a63',
    'cosim.system:CoupledSystem.snapshot': '4015ad544abbc3c1',
}

_cache: dict[str, str] = {}


def _resolve(name: str):
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def digest(name: str) -> str:
    """Digest of the function ``module:qualname``, ignoring comments, docstring, layout."""
    if name not in _cache:
        try:
            source = inspect.getsource(_resolve(name))
        except (OSError, TypeError, AttributeError, ImportError):
            _cache[name] = "unavailable"
        else:
            _cache[name] = _digest_source(source)
    return _cache[name]


def _digest_source(source: str) -> str:
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                    tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, IndentationError):
        return "unavailable"
    # drop the docstring: the first token after the signature's closing ':' (depth 0)
    depth, body = 0, len(tokens)
    for k, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.OP and tok.string == ":" and depth == 0:
            body = k + 1
            break
    if body < len(tokens) and tokens[body].type == tokenize.STRING:
        del tokens[body]
    text = " ".join(t.string for t in tokens)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stale(groups: list[str]) -> str | None:
    """The first pinned function of ``groups`` whose code changed, or None."""
    for group in groups:
        for name in GROUPS[group]:
            if PINNED.get(name) != digest(name):
                return name
    return None


def table() -> dict[str, str]:
    names = sorted({n for group in GROUPS.values() for n in group})
    return {n: digest(n) for n in names}


if __name__ == "__main__":
    print("PINNED: dict[str, str] = {")
    for key, value in table().items():
        print(f"    {key!r}: {value!r},")
    print("}")
