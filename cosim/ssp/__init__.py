"""SSP (System Structure and Parameterization, Modelica Association) import and export.

::

    topo = cosim.load("system.ssp")          # or a bare .ssd; cosim run/check too
    cosim.ssp.export(topo, "system.ssp")     # cosim export TOPOLOGY -o system.ssp

Import (:func:`load`): the SSD's components (FMUs inside the archive), nested systems
(flattened: node names join element names with ``-``), connections through system
connectors, transformations, units, parameter bindings (SSV, SSM) and run settings
become a :class:`~cosim.Topology`. Export (:func:`export`): a topology becomes an SSD,
an SSV and the FMUs in one ``.ssp`` (SSP 1.0), validated against the SSP XSDs.
See ``docs/ssp.md`` for what is supported, version by version.

Modules: :mod:`~cosim.ssp.archive` (safe zips, extraction cache), :mod:`~cosim.ssp.xmlio`
(safe XML, namespaces), :mod:`~cosim.ssp.schema` (XSD validation), :mod:`~cosim.ssp.parse`
and :mod:`~cosim.ssp.values` (files to :mod:`~cosim.ssp.model`),
:mod:`~cosim.ssp.flatten` (names, ports, paths), :mod:`~cosim.ssp.links`
(transformations and units along a path), :mod:`~cosim.ssp.bindings` (parameters),
:mod:`~cosim.ssp.build` (the topology), :mod:`~cosim.ssp.exporter` and :mod:`~cosim.ssp.ssdwrite` (export).
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".ssp", ".ssd")


def is_ssp(path: str | Path) -> bool:
    """Whether ``path`` names an SSP archive or a bare SSD (by its suffix)."""
    return Path(path).suffix.lower() in SUFFIXES


def load(path, limits=None):
    """Read an ``.ssp`` archive or a bare ``.ssd`` into a :class:`~cosim.Topology`."""
    from .build import load as _load
    return _load(path, limits)


def export(topology, path, **options):
    """Write ``topology`` as an ``.ssp``; returns an :class:`~cosim.ssp.exporter.ExportReport`."""
    from .exporter import export as _export
    return _export(topology, path, **options)


__all__ = ["SUFFIXES", "export", "is_ssp", "load"]
