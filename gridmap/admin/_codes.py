"""Area codes gridmap generates where no official one is known, and how to recognise them.

Official codes (DOMAIN.md, "Grid cells"): GB/T 2260 county (6 digits) + township
(3, GB/T 10114: first digit 0 sub-district, 1 town, 2-3 township; the statistical
list uses up to 5) + village / community committee (3). Generated codes keep that
layout, so grid cells can extend them, and are told apart by their digits:

* a county with no code gets ``99`` + ``01`` + a 2-digit number (``990101``): no
  province is numbered 99;
* a township with no official code gets 901-999: no township code starts with 9;
* a village or community derived from a place point gets its township's code +
  001, 002 ... north to south, west to east, and is stored with source
  :data:`DERIVED_SOURCE`: the shipped code list stops at townships, so every
  derived village code is a generated one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "DERIVED_SOURCE",
    "GENERATED_COUNTY_PREFIX",
    "GENERATED_TOWNSHIP_FIRST",
    "code_level",
    "code_origin",
    "is_generated",
    "next_county_code",
]

#: Source of the areas :func:`gridmap.admin.derive_areas` creates.
DERIVED_SOURCE = "derived"
#: Generated county codes: no GB/T 2260 province is numbered 99.
GENERATED_COUNTY_PREFIX = "9901"
#: Generated township codes are numbered from here (no official one starts with 9).
GENERATED_TOWNSHIP_FIRST = 901

_LEVELS = {6: "county", 9: "township", 12: "village"}


def code_level(code: str) -> str | None:
    """``county``, ``township`` or ``village`` for a 6-, 9- or 12-digit code, else None."""
    if not re.fullmatch(r"\d+", code):
        return None
    return _LEVELS.get(len(code))


def is_generated(code: object) -> bool:
    """Whether ``code`` is one gridmap generated (by its county or township digits)."""
    if not isinstance(code, str) or not code:
        return False
    return code.startswith("99") or (len(code) >= 9 and code[6] == "9")


def code_origin(code: object, source: object) -> str:
    """Where an area's code comes from: ``generated``, ``official`` or ``none``.

    ``official`` means imported or matched by name in the MCA list; derived
    villages (source :data:`DERIVED_SOURCE`) always carry generated codes.
    """
    if not isinstance(code, str) or not code:
        return "none"
    if is_generated(code) or (source == DERIVED_SOURCE and len(code) == 12):
        return "generated"
    return "official"


def next_county_code(used: Iterable[str]) -> str:
    """The first generated county code (``990101``, ``990102`` ...) not in ``used``."""
    taken = set(used)
    for n in range(1, 100):
        code = f"{GENERATED_COUNTY_PREFIX}{n:02d}"
        if code not in taken:
            return code
    msg = f"all 99 generated county codes {GENERATED_COUNTY_PREFIX}01-99 are in use"
    raise ValueError(msg)
