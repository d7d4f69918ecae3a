"""The Ministry of Civil Affairs code list: official codes by name."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["Division", "child_divisions", "load_divisions", "township_codes"]

Division = tuple[int, str, str, str]  # level, code, parent code, name


def load_divisions(path: Path) -> list[Division]:
    """Read the MCA code list (``{"divisions": [[level, code, parent, name], ...]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(int(d[0]), str(d[1]), str(d[2]), str(d[3])) for d in data["divisions"]]


def child_divisions(divisions: list[Division], parent_code: str) -> dict[str, str]:
    """Official codes of the divisions directly below ``parent_code``, by name."""
    return {name: code for _, code, parent, name in divisions if parent == parent_code}


def township_codes(divisions: list[Division], county_code: str) -> dict[str, str]:
    """Official 9-digit codes of the townships / sub-districts of a county, by name."""
    return {
        name: code
        for level, code, parent, name in divisions
        if level == 4 and parent == county_code
    }
