"""Read, validate and load in one call: what ``gridmap ingest`` runs.

Reading validates every row before the store is touched; loading happens in one
transaction; rejected rows go to a reject file with their original fields and a
``reason`` column. An unreadable file raises :class:`IngestError` and changes
nothing.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap._spreadsheet import write_table
from gridmap.domain import UnitKind
from gridmap.ingest.load import ConfirmOverwrite, LoadReport, Overwrite, load_many
from gridmap.ingest.provenance import origin_of
from gridmap.ingest.records import IngestError, ReadResult, RecordKind, parse_record_kind
from gridmap.ingest.sniff import check_reject_file
from gridmap.ingest.tables import DEFAULT_MAX_FIELD_CHARS
from gridmap.ingest.validate import Region
from gridmap.store import Store

if TYPE_CHECKING:
    from gridmap.grid.assign import AssignReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    """What one multi-layer import did (:func:`ingest_osm`): a report per layer, one reject file.

    Iterating gives the per-layer :class:`LoadReport`; ``read``, ``loaded`` and
    ``rejected`` are their totals (``read == loaded + rejected``).
    """

    reports: tuple[LoadReport, ...]
    reject_file: Path | None = None

    def __iter__(self) -> Iterator[LoadReport]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, index: int) -> LoadReport:
        return self.reports[index]

    @property
    def read(self) -> int:
        return sum(r.n_read for r in self.reports)

    @property
    def loaded(self) -> int:
        return sum(r.loaded for r in self.reports)

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in self.reports)

    def summary(self) -> dict[str, Any]:
        """Totals, the reject file and each layer's :meth:`LoadReport.summary`."""
        return {
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "reject_file": None if self.reject_file is None else str(self.reject_file),
            "layers": [r.summary() for r in self.reports],
        }

    def __str__(self) -> str:
        """One line: the totals and where the rejected rows went."""
        line = f"read {self.read}, loaded {self.loaded}, rejected {self.rejected}"
        return line + (f" -> {self.reject_file}" if self.reject_file else "")


__all__ = [
    "IngestReport",
    "collector_paused",
    "default_reject_path",
    "default_source",
    "ingest_layer",
    "ingest_osm",
    "write_rejects",
]


def default_reject_path(path: Path) -> Path:
    """Where rejects of ``path`` go unless told: ``<stem>.rejects.csv`` in the working directory."""
    return Path.cwd() / f"{path.stem}.rejects.csv"


def write_rejects(rejects: pd.DataFrame, path: Path) -> Path:
    """Write rejected rows (original fields + ``reason``) as CSV (UTF-8 with BOM) or xlsx."""
    path.parent.mkdir(parents=True, exist_ok=True)
    front = [c for c in ("_row", "reason") if c in rejects]
    frame = rejects[front + [c for c in rejects.columns if c not in front]]
    return write_table(frame, path)  # text a spreadsheet would run as a formula stays text


def default_source(kind: RecordKind, unit_kind: str | None = None) -> str:
    """The source name an import uses unless told: the kind (``firm``, ``station``...).

    It does not depend on the file's name, so next month's list updates this month's; two
    unrelated lists of one kind whose ids collide are caught (:class:`OverwriteRefused`)
    and need their own ``source``.
    """
    return unit_kind or kind.value


def ingest_layer(  # noqa: PLR0913 - the import's options and read_layer's, spelled out
    store: Store,
    path: Path | str | pd.DataFrame,
    kind: RecordKind | str,
    *,
    source: str | None = None,
    reject_file: Path | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
    actor: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    unit_kind: UnitKind | str | None = None,
    region: Region | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
    near: Region | None = None,
) -> LoadReport:
    """Import one layer (Shapefile, GeoPackage, GeoJSON, KML, CSV, Excel) into the store.

    Parameters
    ----------
    store
        Where to load.
    path
        The file, or a frame: a GeoDataFrame (with a CRS) or a DataFrame with lon/lat
        columns, read and checked like a file. A frame's records remember
        ``frame/<source>`` as their file; its rejects are written only to ``reject_file``
        (and are always on the report's ``rejects``).
    kind
        What its rows are (``unit``, ``station``, ...).
    source
        Source name records are matched on (default: :func:`default_source`).
    reject_file
        Where rejected rows go (default: ``<stem>.rejects.csv`` when there are any);
        never the input itself (:class:`IngestError` before anything is read).
    sync
        Close the records this file had before and no longer has.
    confirm
        Asked with the records another file supplied that this import would overwrite;
        returns True to go on. Default: refuse (:class:`OverwriteRefused`, nothing changed).
    actor
        Who imports, for the audit log (default: the operating-system user).
    layer, crs, encoding, lon_col, lat_col, id_col, name_col, columns, unit_kind, region, \
sheet, header_row, max_field_chars
        How to read the file: :func:`gridmap.ingest.read_layer`'s options.
    near
        The extent the rows should lie in (default: the store's areas and cells,
        :func:`gridmap.ingest.region.store_extent`).

    Returns
    -------
    The load report; its ``reject_file`` is the file the rejected rows went to, if any.
    """
    record_kind = parse_record_kind(kind)
    name = source or default_source(record_kind, unit_kind)
    read_options: dict[str, Any] = {
        "layer": layer,
        "crs": crs,
        "encoding": encoding,
        "lon_col": lon_col,
        "lat_col": lat_col,
        "id_col": id_col,
        "name_col": name_col,
        "columns": columns,
        "unit_kind": unit_kind,
        "region": region,
        "sheet": sheet,
        "header_row": header_row,
        "max_field_chars": max_field_chars,
        "near": near,
    }
    if isinstance(path, pd.DataFrame):
        return _ingest_frame(
            store, path, record_kind, name, reject_file, sync, confirm, actor, read_options
        )
    file = Path(path)
    _check_paths(file, reject_file)
    report = _read_and_load(
        store, file, record_kind, name, origin_of(file), sync, confirm, actor, read_options
    )
    return replace(report, reject_file=_maybe_write(report.rejects, reject_file, file))


def _read_and_load(  # noqa: PLR0913 - ingest_layer's arguments, passed on
    store: Store,
    file: Path,
    kind: RecordKind,
    source: str,
    origin: str,
    sync: bool,
    confirm: ConfirmOverwrite | None,
    actor: str | None,
    read_options: dict[str, Any],
) -> LoadReport:
    from gridmap.ingest.readers import read_layer
    from gridmap.ingest.region import store_extent

    if read_options.get("near") is None:
        read_options["near"] = store_extent(store, kind)
    with collector_paused():
        result = read_layer(file, kind, **read_options)
        for note in result.notes:
            logger.warning("%s: %s", file.name, note)
        return _load(store, [(kind, result)], source, origin, sync, confirm, actor)[0]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a layer is read and loaded.

    An import makes millions of small objects that live until it ends; each of the
    collector's full passes walks all of them (a fifth of the time of a 100k-row
    import). Reference counting still frees everything as usual; cycles made meanwhile
    are collected when the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ingest_frame(  # noqa: PLR0913 - ingest_layer's arguments, passed on
    store: Store,
    frame: pd.DataFrame,
    kind: RecordKind,
    source: str,
    reject_file: Path | None,
    sync: bool,
    confirm: ConfirmOverwrite | None,
    actor: str | None,
    read_options: dict[str, Any],
) -> LoadReport:
    """A frame through the same reader as a file: written to a temporary file, then read."""
    import tempfile

    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None:
        msg = "the GeoDataFrame given to ingest_layer has no CRS: expected one; use set_crs() first"
        raise IngestError(msg)
    with tempfile.TemporaryDirectory(prefix="gridmap-frame-") as folder:
        if isinstance(frame, gpd.GeoDataFrame):
            file = Path(folder) / f"{source}.gpkg"
            frame.to_file(file, driver="GPKG")
        else:
            file = Path(folder) / f"{source}.csv"
            frame.to_csv(file, index=False, encoding="utf-8")
        origin = f"frame/{source}"
        report = _read_and_load(
            store, file, kind, source, origin, sync, confirm, actor, read_options
        )
    written = None if reject_file is None else _maybe_write(report.rejects, reject_file, file)
    return replace(report, reject_file=written)


def ingest_osm(
    store: Store,
    path: Path | str,
    *,
    reject_file: Path | None = None,
    tags: Path | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
    actor: str | None = None,
) -> IngestReport:
    """Import an OpenStreetMap extract: areas, units and roads, in one transaction.

    OSM ids are global, so features another extract supplied are updated (``confirm``
    may say otherwise); ``sync`` closes the features this extract had before and lost.

    Values other files added to the same records (households, codes, boundaries) are kept:
    an import changes only what its own file changed (:mod:`gridmap.ingest.provenance`).
    Rejected features go to ``reject_file`` (default: ``<stem>.rejects.csv``), never to
    the extract itself.
    """
    file = Path(path)
    _check_paths(file, reject_file)
    with collector_paused():
        return _ingest_extract(store, file, reject_file, tags, sync, confirm, actor)


def _ingest_extract(
    store: Store,
    file: Path,
    reject_file: Path | None,
    tags: Path | None,
    sync: bool,
    confirm: ConfirmOverwrite | None,
    actor: str | None,
) -> IngestReport:
    from gridmap.ingest.osm import read_osm

    extract = read_osm(file, tags=tags)
    # Place points of areas whose polygon the extract lacks are kept as areas without a
    # boundary (one can be derived or imported later); the others add nothing.
    known = set(extract.areas["name"].dropna())
    places = extract.places[~extract.places["name"].isin(known)].copy()
    places["geometry"] = None
    merged = len(extract.places) - len(places)
    if merged:
        logger.info(
            "%d place points are the same areas as boundary polygons in the extract", merged
        )
    bad = extract.rejects
    batches: list[tuple[RecordKind, ReadResult]] = [
        (
            RecordKind.AREA,
            _whole(
                pd.concat([extract.areas, places], ignore_index=True),
                bad[bad["section"].isin(["areas", "places"])],
            ),
        ),
        (RecordKind.UNIT, _whole(extract.units, bad[bad["section"] == "units"])),
        (RecordKind.ROAD, _whole(extract.roads, bad[bad["section"] == "roads"])),
        (RecordKind.SITE, _whole(_points(extract.sites), bad[bad["section"] == "sites"])),
    ]
    # OSM ids name the same feature in every extract: another extract updates, never collides.
    reports = _load(store, batches, "osm", origin_of(file), sync, confirm or _accept, actor)
    rejects = pd.concat([r.rejects.assign(kind=r.kind.value) for r in reports], ignore_index=True)
    for note in extract.notes:
        logger.warning("%s: %s", file.name, note)
    return IngestReport(tuple(reports), _maybe_write(rejects, reject_file, file))


def _load(
    store: Store,
    batches: list[tuple[RecordKind, ReadResult]],
    source: str,
    origin: str,
    sync: bool,
    confirm: ConfirmOverwrite | None,
    actor: str | None,
) -> list[LoadReport]:
    """Load in one transaction, then put units in cells in the same one.

    The report of the first unit or cell layer carries the assignment (``assignment``);
    an import of cells always assigns, one of units only when there is a grid.
    """
    assigned: list[AssignReport] = []

    def assign(conn: Connection) -> None:
        kinds = {kind for kind, _ in batches}
        if kinds & {RecordKind.UNIT, RecordKind.CELL}:
            from gridmap.grid.stored import assign_units_on, has_grid

            if RecordKind.CELL in kinds or has_grid(conn):
                assigned.append(assign_units_on(conn))

    reports = load_many(
        store,
        batches,
        source=source,
        origin=origin,
        actor=actor,
        sync=sync,
        confirm=confirm or _refuse,
        then=assign,
    )
    if not assigned:
        return reports
    done = assigned[0]
    for i, report in enumerate(reports):
        if report.kind in (RecordKind.UNIT, RecordKind.CELL):
            if done.units and done.cells:
                report.notes.append(f"units in cells: {done}")
            reports[i] = replace(report, assignment=done)
            break
    return reports


def _accept(overwrites: list[Overwrite]) -> bool:
    """OSM features are the same features whichever extract they come from."""
    logger.info("updating %d OSM features another extract supplied", len(overwrites))
    return True


def _refuse(overwrites: list[Overwrite]) -> bool:
    """The default answer when another file's records would be overwritten: no."""
    del overwrites
    return False


def _points(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidate sites as points: a building footprint becomes a point on its surface."""
    out = sites.copy()
    out["geometry"] = shapely.point_on_surface(out.geometry.values)
    return out


def _whole(frame: pd.DataFrame, rejects: pd.DataFrame | None = None) -> ReadResult:
    """What the OSM reader accepted of one section, with that section's rejected features."""
    records = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
    bad = pd.DataFrame() if rejects is None else rejects.reset_index(drop=True)
    return ReadResult(
        records=records.reset_index(drop=True), rejects=bad, n_read=len(frame) + len(bad)
    )


def _check_paths(file: Path, reject_file: Path | None) -> None:
    """Refuse, before anything is read, a missing input or rejects that would overwrite it."""
    if not file.exists():
        msg = f"{file}: no such file"
        raise IngestError(msg)
    check_reject_file(file, reject_file or default_reject_path(file))


def _maybe_write(rejects: pd.DataFrame, reject_file: Path | None, source: Path) -> Path | None:
    if rejects.empty:
        return None
    return write_rejects(rejects, reject_file or default_reject_path(source))
