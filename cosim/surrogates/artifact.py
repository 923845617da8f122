"""The surrogate artifact (``.surrogate``): a zip of JSON and arrays, loaded without code.

Members::

    manifest.json    format and version; the interface (inputs and outputs: name, unit,
                     start value); the node's step [s]; the model (kind, lags, regressor
                     settings); the training envelope; the interval half-widths and their
                     coverage; validation and test metrics; the source model (FMU file,
                     SHA-256, GUID, parameters); the training data (study file and data
                     SHA-256, trajectories, split); library versions; the SHA-256 of every
                     other member; and ``digest``, the SHA-256 of the manifest itself
                     (canonical JSON without ``digest``)
    arrays.npz       every number of the model and the envelope (numpy, read with
                     ``allow_pickle=False``)
    model.skops      scikit-learn regressors only (gp, boosting, mlp): skops format, loaded
                     only when every type in it is one skops trusts or one cosim lists
                     (:data:`cosim.surrogates.regressors.TRUSTED_TYPES`)

Nothing in the file is executed: no pickle. :func:`load` refuses a file that is not a
zip, lacks a member or holds an unknown one, whose manifest digest or member hashes do
not match (a changed or truncated file), of another format version, or whose arrays do
not fit the manifest. The hashes detect accidental corruption and edits that do not
recompute them; they are not a signature (anyone can write a consistent file), which is
why loading never runs code from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..fmu.archive import check_limits
from . import lss, regressors
from .dataset import Port
from .envelope import Envelope
from .intervals import Intervals
from .narx import Lags, Narx, Scaling

FORMAT = "cosim-surrogate"
VERSION = 1
MEMBERS = ("manifest.json", "arrays.npz", "model.skops")
MAX_MEMBER_BYTES = 512 * 1024 * 1024


class ArtifactError(ConfigError):
    """A surrogate file cannot be used: unreadable, tampered with, or not matching."""


@dataclass
class Artifact:
    """A trained surrogate: its model, envelope, intervals and everything recorded."""

    node: str
    inputs: list[Port]
    outputs: list[Port]
    step: float
    model: Any  # Narx | Lss
    envelope: Envelope
    intervals: Intervals
    info: dict[str, Any] = field(default_factory=dict)  # metrics, source, data, versions
    path: Path | None = None

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [p.name for p in self.outputs]

    @property
    def kind(self) -> str:
        """The regressor kind (``linear``, ``polynomial``, ``gp``, ...) or ``lss``."""
        return self.model.kind if isinstance(self.model, lss.Lss) else self.model.regressor.kind

    def describe(self) -> str:
        return self.model.describe()

    # -- saving ----------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "node": self.node,
            "interface": {"inputs": [p.manifest() for p in self.inputs],
                          "outputs": [p.manifest() for p in self.outputs]},
            "step": self.step, "model": _model_manifest(self.model),
            "envelope": self.envelope.manifest(),
            "intervals": self.intervals.manifest(self.output_names),
            **self.info,
        }

    def save(self, path: str | Path) -> Path:
        """Write the artifact (atomically: a temporary file renamed over ``path``)."""
        p = Path(path)
        arrays = _model_arrays(self.model)
        arrays.update(self.envelope.arrays())
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        members = {"arrays.npz": buf.getvalue()}
        blob = _model_blob(self.model)
        if blob is not None:
            members["model.skops"] = blob
        manifest = self.manifest()
        manifest.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
        manifest["versions"] = versions()
        manifest["members"] = {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}
        manifest["digest"] = manifest_digest(manifest)
        tmp = p.with_name(p.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            for name, data in members.items():
                zf.writestr(name, data)
        tmp.replace(p)
        self.info["digest"] = manifest["digest"]
        self.path = p
        return p


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``manifest`` without its ``digest`` entry."""
    body = {k: v for k, v in manifest.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries the artifact's numbers came from."""
    import importlib.metadata as md

    from .._version import __version__
    out = {"cosim": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "scikit-learn", "skops"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def _model_manifest(model: Any) -> dict[str, Any]:
    if isinstance(model, lss.Lss):
        return {**model.params(), "description": model.describe()}
    lg = model.lags
    return {"kind": "narx", "lags": {"ny": lg.ny, "nu": lg.nu, "warmup": lg.warmup},
            "regressor": model.regressor.params(), "description": model.describe()}


def _model_arrays(model: Any) -> dict[str, np.ndarray]:
    if isinstance(model, lss.Lss):
        return model.arrays()
    out = model.scaling.arrays("scaling_")
    out.update({f"reg_{k}": v for k, v in model.regressor.arrays().items()})
    return out


def _model_blob(model: Any) -> bytes | None:
    if isinstance(model, lss.Lss):
        return None
    reg = model.regressor
    return reg.blob() if hasattr(reg, "blob") else None


# -- loading -------------------------------------------------------------------------------


def load(path: str | Path) -> Artifact:
    """Read and verify an artifact; raise :class:`ArtifactError` saying what is wrong."""
    p = Path(path)
    members = _read_members(p)
    try:
        manifest = json.loads(members["manifest.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"manifest.json is not valid JSON ({err})", file=str(p)) from None
    _verify(p, manifest, members)
    try:
        with np.load(io.BytesIO(members["arrays.npz"]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _assemble(p, manifest, arrays, members.get("model.skops"))
    except (KeyError, ValueError, TypeError, IndexError) as err:
        raise ArtifactError(f"the artifact's contents do not fit together ({type(err).__name__}"
                            f": {err}); it was written by another version or changed",
                            file=str(p)) from None


def _read_members(p: Path) -> dict[str, bytes]:
    if not p.is_file():
        raise ArtifactError("surrogate file not found", file=str(p))
    try:
        with zipfile.ZipFile(p) as zf:
            check_limits(zf, p, error=ArtifactError)  # entries, size, zip bombs
            infos = zf.infolist()
            unknown = sorted(i.filename for i in infos if i.filename not in MEMBERS)
            if unknown:
                raise ArtifactError(f"unexpected member(s) {', '.join(unknown)} in the "
                                    f"artifact (expected {', '.join(MEMBERS)})", file=str(p))
            big = [i.filename for i in infos if i.file_size > MAX_MEMBER_BYTES]
            if big:
                raise ArtifactError(f"member {big[0]} is larger than "
                                    f"{MAX_MEMBER_BYTES >> 20} MiB", file=str(p))
            members = {i.filename: zf.read(i) for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ArtifactError(f"not a surrogate artifact (not a readable zip file: {err})",
                            file=str(p)) from None
    except zipfile.LargeZipFile as err:  # pragma: no cover
        raise ArtifactError(str(err), file=str(p)) from None
    for name in ("manifest.json", "arrays.npz"):
        if name not in members:
            raise ArtifactError(f"the artifact lacks {name}", file=str(p))
    return members


def _verify(p: Path, manifest: Any, members: dict[str, bytes]) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"not a cosim surrogate (format {manifest.get('format')!r} "
                            f"in manifest.json)" if isinstance(manifest, dict) else
                            "manifest.json is not a mapping", file=str(p))
    if manifest.get("version") != VERSION:
        raise ArtifactError(f"surrogate format version {manifest.get('version')} is not "
                            f"supported (this cosim reads version {VERSION})", file=str(p))
    if manifest.get("digest") != manifest_digest(manifest):
        raise ArtifactError("manifest.json was changed after the artifact was written (its "
                            "digest does not match): refusing to load it; fit it again",
                            file=str(p))
    recorded = manifest.get("members") or {}
    for name, data in members.items():
        if name == "manifest.json":
            continue
        if recorded.get(name) != hashlib.sha256(data).hexdigest():
            raise ArtifactError(f"{name} was changed after the artifact was written (its "
                                f"SHA-256 does not match the manifest): refusing to load it",
                                file=str(p))
    missing = sorted(set(recorded) - set(members))
    if missing:
        raise ArtifactError(f"the artifact lacks {', '.join(missing)}", file=str(p))


def _assemble(p: Path, manifest: dict, arrays: dict[str, np.ndarray],
              blob: bytes | None) -> Artifact:
    iface = manifest["interface"]
    inputs = [Port(d["name"], d.get("unit"), d.get("start")) for d in iface["inputs"]]
    outputs = [Port(d["name"], d.get("unit"), d.get("start")) for d in iface["outputs"]]
    spec = manifest["model"]
    if spec["kind"] == "lss":
        model = lss.Lss.restore(spec, arrays)
        if model.b.shape[1] != len(inputs) or model.c_out.shape[0] != len(outputs):
            raise ValueError("the state space does not fit the interface")
    elif spec["kind"] == "narx":
        lags = Lags(len(outputs), len(inputs), int(spec["lags"]["ny"]), int(spec["lags"]["nu"]),
                    int(spec["lags"].get("warmup", 0)))
        scaling = Scaling.from_arrays(arrays, "scaling_")
        if scaling.z_mean.shape != (lags.nz,) or scaling.d_mean.shape != (len(outputs),):
            raise ValueError("the scaling does not fit the lags and interface")
        reg_arrays = {k[4:]: v for k, v in arrays.items() if k.startswith("reg_")}
        reg = regressors.restore(spec["regressor"], reg_arrays, blob)
        if isinstance(reg, regressors.Polynomial) and int(reg.terms.max()) > lags.nz:
            raise ValueError("the polynomial's terms index beyond the regressor vector")
        model = Narx(lags, scaling, reg)
    else:
        raise ValueError(f"unknown model kind {spec['kind']!r}")
    envelope = Envelope.restore(manifest["envelope"], arrays)
    if envelope.names != [q.name for q in inputs]:
        raise ValueError("the envelope's inputs are not the interface's")
    intervals = Intervals.restore(manifest["intervals"], [q.name for q in outputs])
    known = {"format", "version", "node", "interface", "step", "model", "envelope",
             "intervals"}
    info = {k: v for k, v in manifest.items() if k not in known}
    step = float(manifest["step"])
    if not step > 0:
        raise ValueError(f"step {step} s is not positive")
    return Artifact(str(manifest["node"]), inputs, outputs, step, model, envelope, intervals,
                    info, p)
