"""Helpers shared by the surrogate tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def write(path: Path, data: dict) -> Path:
    """``data`` as a YAML file at ``path``."""
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
