"""Record kinds, their canonical columns and the result of reading one layer.

Every reader turns a source file into a frame whose columns are the canonical
fields of one :class:`RecordKind` (see :data:`FIELDS`), whatever the source
called them. The store and the coverage analysis only ever see canonical
columns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from gridmap.domain import AdminLevel, DomainEnum, OrgKind, StationTier, UnitKind
from gridmap.errors import GridmapError

if TYPE_CHECKING:  # annotations only: the input checks (sniff) run before pandas loads
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "FIELDS",
    "GEOMETRY_TYPES",
    "OPTIONAL_GEOMETRY",
    "REQUIRED",
    "FieldSpec",
    "IngestError",
    "ReadResult",
    "RecordKind",
    "ValueType",
    "parse_record_kind",
]


class IngestError(GridmapError):
    """A whole input cannot be read: missing, truncated, unreadable or badly mapped.

    Raised before anything is returned, so callers can guarantee the store is
    left untouched. Problems with single rows are never raised: they become
    rejected rows with a reason.
    """


class RecordKind(enum.StrEnum):
    """What one input layer holds."""

    AREA = "area"
    CELL = "cell"
    UNIT = "unit"
    ORG = "org"
    INSTRUCTOR = "instructor"
    STATION = "station"
    WORKER = "worker"
    ROAD = "road"
    SITE = "site"


ValueType = Literal["text", "count", "date", "list", "enum"]


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field: its name, how its cells are parsed, and its enumeration."""

    name: str
    value_type: ValueType = "text"
    enum: type[DomainEnum] | None = None


def _text(*names: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(name) for name in names)


def _count(*names: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(name, "count") for name in names)


_ID = FieldSpec("source_id")

#: Canonical non-geometry fields of each kind, in output column order.
FIELDS: Final[dict[RecordKind, tuple[FieldSpec, ...]]] = {
    RecordKind.AREA: (
        _ID,
        *_text("name", "code"),
        FieldSpec("level", "enum", AdminLevel),
        *_text("parent_code"),
    ),
    RecordKind.CELL: (
        _ID,
        *_text("code", "name", "area_code"),
        *_count("households", "population"),
    ),
    RecordKind.UNIT: (
        _ID,
        FieldSpec("kind", "enum", UnitKind),
        *_text("name"),
        *_count("households", "population", "party_members"),
        *_text("address"),
    ),
    RecordKind.ORG: (
        _ID,
        FieldSpec("kind", "enum", OrgKind),
        *_text("name"),
        *_count("members"),
        FieldSpec("established", "date"),
        FieldSpec("last_activity", "date"),
        FieldSpec("covers", "list"),
        *_text("own_unit"),
    ),
    RecordKind.INSTRUCTOR: (_ID, *_text("name", "phone"), FieldSpec("covers", "list")),
    RecordKind.STATION: (
        _ID,
        FieldSpec("tier", "enum", StationTier),
        *_text("name"),
        FieldSpec("last_activity", "date"),
        *_count("capacity"),
    ),
    RecordKind.WORKER: (_ID, *_text("name", "phone"), FieldSpec("cells", "list")),
    RecordKind.ROAD: (_ID, *_text("name", "highway", "oneway")),
    RecordKind.SITE: (_ID, *_text("name", "site_kind")),
}

#: Fields a file must provide a column for (``kind`` of units may come from ``unit_kind=``).
REQUIRED: Final[dict[RecordKind, frozenset[str]]] = {
    RecordKind.AREA: frozenset({"name", "level"}),
    RecordKind.CELL: frozenset({"code"}),
    RecordKind.UNIT: frozenset({"name", "kind"}),
    RecordKind.ORG: frozenset({"name", "kind"}),
    RecordKind.INSTRUCTOR: frozenset({"name"}),
    RecordKind.STATION: frozenset({"name", "tier"}),
    RecordKind.WORKER: frozenset({"name"}),
    RecordKind.ROAD: frozenset(),
    RecordKind.SITE: frozenset(),
}

_POLYGONAL: Final = frozenset({"Polygon", "MultiPolygon"})

#: Accepted geometry types per kind; ``None`` means the kind has no geometry,
#: and kinds listed in :data:`OPTIONAL_GEOMETRY` may leave it empty.
GEOMETRY_TYPES: Final[dict[RecordKind, frozenset[str] | None]] = {
    RecordKind.AREA: _POLYGONAL,
    RecordKind.CELL: _POLYGONAL,
    RecordKind.UNIT: _POLYGONAL | {"Point"},
    RecordKind.ORG: frozenset({"Point"}),
    RecordKind.INSTRUCTOR: None,
    RecordKind.STATION: frozenset({"Point"}),
    RecordKind.WORKER: None,
    RecordKind.ROAD: frozenset({"LineString"}),
    RecordKind.SITE: frozenset({"Point"}),
}

OPTIONAL_GEOMETRY: Final = frozenset({RecordKind.ORG})


def parse_record_kind(value: RecordKind | str) -> RecordKind:
    """Return ``value`` as a :class:`RecordKind`, or raise naming the accepted kinds."""
    try:
        return RecordKind(str(value).strip().lower())
    except ValueError:
        accepted = ", ".join(kind.value for kind in RecordKind)
        msg = f"unknown record kind {value!r}; accepted: {accepted}"
        raise IngestError(msg) from None


@dataclass(frozen=True)
class ReadResult:
    """What :func:`gridmap.ingest.read_layer` made of one layer.

    Attributes
    ----------
    records
        Accepted rows in EPSG:4326 with the canonical columns of the kind,
        ``geometry`` (all empty for kinds without geometry) and ``_row``.
    rejects
        Rejected rows with their ORIGINAL fields as read, ``reason`` (every
        problem of the row, separated by ``"; "``) and ``_row``.
    n_read
        Rows read from the file; always ``len(records) + len(rejects)``.
    n_repaired
        Accepted rows whose invalid polygon was repaired (see
        :func:`gridmap.ingest.validate.repair_polygon`).
    notes
        Decisions the reader took that the user should know about (encoding
        guessed, CRS assumed, columns ignored).
    source_crs
        The coordinate system the coordinates were read in (``"EPSG:4326"``,
        ``"gcj02"``, ...).

    Notes
    -----
    ``_row`` is the row number a user finds the record at: the line number in
    a spreadsheet or CSV file (the header is line 1, so data starts at 2) and
    the 1-based feature number in vector formats.
    """

    records: gpd.GeoDataFrame
    rejects: pd.DataFrame
    n_read: int
    n_repaired: int = 0
    notes: list[str] = field(default_factory=list)
    source_crs: str = "EPSG:4326"

    def __post_init__(self) -> None:
        if self.n_read != len(self.records) + len(self.rejects):
            msg = (
                f"internal error: read {self.n_read} rows but accepted {len(self.records)} "
                f"and rejected {len(self.rejects)}"
            )
            raise AssertionError(msg)
