"""Read, validate and load in one call: what ``gridmap ingest`` runs.

Reading validates every row before the store is touched; loading happens in one
transaction; rejected rows go to a reject file with their original fields and a
``reason`` column. An unreadable file raises :class:`IngestError` and changes
nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap._spreadsheet import write_table
from gridmap.ingest.load import ConfirmOverwrite, LoadReport, Overwrite, load_many
from gridmap.ingest.provenance import origin_of
from gridmap.ingest.records import IngestError, ReadResult, RecordKind, parse_record_kind
from gridmap.ingest.sniff import check_reject_file
from gridmap.store import Store

logger = logging.getLogger(__name__)

__all__ = [
    "default_reject_path",
    "default_source",
    "import_layer",
    "import_osm",
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


def import_layer(
    store: Store,
    path: Path | str,
    kind: RecordKind | str,
    *,
    source: str | None = None,
    reject_file: Path | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
    actor: str | None = None,
    **read_options: Any,
) -> tuple[LoadReport, Path | None]:
    """Import one layer (Shapefile, GeoPackage, GeoJSON, KML, CSV, Excel) into the store.

    Parameters
    ----------
    store
        Where to load.
    path
        The file.
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
    **read_options
        Passed to :func:`gridmap.ingest.read_layer` (``crs``, ``encoding``,
        ``lon_col``, ``columns``, ...).

    Returns
    -------
    The load report and the reject file written, if any.
    """
    from gridmap.ingest.readers import read_layer
    from gridmap.ingest.region import store_extent

    file = Path(path)
    record_kind = parse_record_kind(kind)
    _check_paths(file, reject_file)
    read_options.setdefault("near", store_extent(store, record_kind))
    result = read_layer(file, record_kind, **read_options)
    for note in result.notes:
        logger.warning("%s: %s", file.name, note)
    name = source or default_source(record_kind, read_options.get("unit_kind"))
    report = _load(store, [(record_kind, result)], name, file, sync, confirm, actor)[0]
    return report, _maybe_write(report.rejects, reject_file, file)


def import_osm(
    store: Store,
    path: Path | str,
    *,
    reject_file: Path | None = None,
    tags: Path | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
    actor: str | None = None,
) -> tuple[list[LoadReport], Path | None]:
    """Import an OpenStreetMap extract: areas, units and roads, in one transaction.

    OSM ids are global, so features another extract supplied are updated (``confirm``
    may say otherwise); ``sync`` closes the features this extract had before and lost.

    Values other files added to the same records (households, codes, boundaries) are kept:
    an import changes only what its own file changed (:mod:`gridmap.ingest.provenance`).
    Rejected features go to ``reject_file`` (default: ``<stem>.rejects.csv``), never to
    the extract itself.
    """
    from gridmap.ingest.osm import read_osm

    file = Path(path)
    _check_paths(file, reject_file)
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
    reports = _load(store, batches, "osm", file, sync, confirm or _accept, actor)
    rejects = pd.concat([r.rejects.assign(kind=r.kind.value) for r in reports], ignore_index=True)
    for note in extract.notes:
        logger.warning("%s: %s", file.name, note)
    return reports, _maybe_write(rejects, reject_file, file)


def _load(
    store: Store,
    batches: list[tuple[RecordKind, ReadResult]],
    source: str,
    file: Path,
    sync: bool,
    confirm: ConfirmOverwrite | None,
    actor: str | None,
) -> list[LoadReport]:
    """Load in one transaction, then put units in cells in the same one."""
    assigned: list[str] = []

    def assign(conn: Connection) -> None:
        if any(kind in (RecordKind.UNIT, RecordKind.CELL) for kind, _ in batches):
            from gridmap.grid.stored import assign_units_on, has_grid

            if not has_grid(conn):
                return
            report = assign_units_on(conn)
            if report.units and report.cells:
                assigned.append(f"units in cells: {report.summary()}")

    reports = load_many(
        store,
        batches,
        source=source,
        origin=origin_of(file),
        actor=actor,
        sync=sync,
        confirm=confirm or _refuse,
        then=assign,
    )
    for report in reports:
        if report.kind in (RecordKind.UNIT, RecordKind.CELL):
            report.notes.extend(assigned)
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
