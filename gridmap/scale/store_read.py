"""Workers read their county's units from the store themselves, in bounded chunks.

The client lists the counties from the cells and areas alone
(:func:`unit_counties`: one grouped query, no unit row); each worker then streams
the units of one county out of the store (:func:`export_county_units`),
``chunk_rows`` rows at a time, and writes every chunk as one file of the county's
partition in the exchange folder: ``units/<county>.parquet/part-<n>.parquet`` (a
directory the readers of :mod:`.exchange` read as one partition). A task holds at
most one chunk of store rows and its GeoParquet encoding at a time.

A unit's county is the one of :func:`gridmap.scale.partition.county_keys`: the
6-digit prefix of its cell's area code. Units without one (no cell, or an area
without such a code) are read by one more task (key ``None``) and go to the
square tiles of :data:`~gridmap.scale.partition.TILE_M`, chunk by chunk.
Counties are not cut into strips here (that needs every unit of a county at once).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import URL, Select, case, func, make_url, select
from sqlalchemy.exc import ArgumentError

from gridmap.coverage.inputs import representative_points
from gridmap.scale.exchange import Box, union, write_chunk
from gridmap.scale.partition import COUNTY_DIGITS, TILE_M
from gridmap.store import Store, models, table_of

logger = logging.getLogger(__name__)

__all__ = [
    "PASSWORD_VARIABLE",
    "ChunkedExport",
    "export_county_units",
    "export_store_units",
    "unit_counties",
    "with_worker_password",
    "without_password",
]

WGS84 = "EPSG:4326"
#: Store rows a worker reads (and writes) at once.
CHUNK_ROWS = 200_000


#: Where a worker finds the store's password: the store's whole URL, the variable gridmap
#: reads everywhere. Tasks carry the URL without it (task arguments pass through the
#: scheduler, its logs and dashboards); libpq's ``PGPASSWORD`` or ``~/.pgpass`` do too.
PASSWORD_VARIABLE = "GRIDMAP_DATABASE_URL"


def without_password(url: str) -> str:
    """``url`` with no password at all (what a worker task is given)."""
    parsed = make_url(url)
    if parsed.password is None:
        return url
    bare = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False)


def _same_database(a: URL, b: URL) -> bool:
    keys = ("drivername", "username", "host", "port", "database")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def with_worker_password(url: str) -> str:
    """On a worker: ``url`` with the password of :data:`PASSWORD_VARIABLE` for the same database.

    Without one (or for another database) ``url`` stays as it is, and the PostgreSQL
    driver looks in ``PGPASSWORD`` and ``~/.pgpass``, as libpq does everywhere.
    """
    parsed = make_url(url)
    own = os.environ.get(PASSWORD_VARIABLE)
    if parsed.password is not None or not own:
        return url
    try:
        known = make_url(own)
    except ArgumentError:
        return url
    if known.password is None or not _same_database(parsed, known):
        return url
    return parsed.set(password=known.password).render_as_string(hide_password=False)


def _county_of_area() -> Any:
    areas = table_of(models.AdminArea)
    long_enough = func.length(areas.c.code) >= COUNTY_DIGITS
    return case((long_enough, func.substr(areas.c.code, 1, COUNTY_DIGITS)), else_=None)


def _joined() -> Any:
    units, cells, areas = (table_of(m) for m in (models.Unit, models.GridCell, models.AdminArea))
    # closed cells and areas are history only: a run reads neither (coverage.inputs)
    return units.outerjoin(
        cells, (units.c.cell_id == cells.c.id) & cells.c.closed_at.is_(None)
    ).outerjoin(areas, (cells.c.area_id == areas.c.id) & areas.c.closed_at.is_(None))


def unit_counties(store: Store) -> dict[str | None, int]:
    """Units per county code (``None``: units without one), counted in the store."""
    units = table_of(models.Unit)
    county = _county_of_area().label("county")
    query = (
        select(county, func.count())
        .select_from(_joined())
        .where(units.c.closed_at.is_(None))
        .group_by(county)
    )
    with store.engine.connect() as conn:
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def _units_query(county: str | None) -> Select[Any]:
    units = table_of(models.Unit)
    county_of = _county_of_area()
    chosen = county_of.is_(None) if county is None else county_of == county
    return (
        select(units.c.id, units.c.cell_id, units.c.population, func.ST_AsBinary(units.c.geom))
        .select_from(_joined())
        .where(units.c.closed_at.is_(None), chosen)
        .order_by(units.c.id)
    )


def _chunks(store: Store, county: str | None, chunk_rows: int) -> Iterator[gpd.GeoDataFrame]:
    """The units of ``county`` in id order, ``chunk_rows`` at a time, as WGS-84 frames."""
    with store.engine.connect() as conn:
        streamed = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
        for rows in streamed.execute(_units_query(county)).partitions(chunk_rows):
            ids, cell_ids, population, blobs = zip(*rows, strict=True)
            yield gpd.GeoDataFrame(
                {
                    "cell_id": pd.array(cell_ids, dtype="Int64"),
                    "population": pd.array(population, dtype="Int64"),
                },
                geometry=_from_wkb(blobs),
                index=pd.Index(np.asarray(ids, dtype=np.int64)),
                crs=WGS84,
            )


def _from_wkb(blobs: tuple[Any, ...]) -> Any:
    return shapely.from_wkb(np.asarray([bytes(b) for b in blobs], dtype=object))


def _tiles(chunk: gpd.GeoDataFrame, crs: CRS) -> pd.Series:
    points = representative_points(chunk).to_crs(crs)
    x = np.floor(points.x.to_numpy() / TILE_M).astype(np.int64)
    y = np.floor(points.y.to_numpy() / TILE_M).astype(np.int64)
    return pd.Series([f"tile-{a}-{b}" for a, b in zip(x, y, strict=True)], index=chunk.index)


@dataclass
class ChunkedExport:
    """What one worker wrote: per partition its box, units read and largest chunk."""

    boxes: dict[str, Box] = field(default_factory=dict)
    units: int = 0
    chunks: int = 0
    largest_chunk: int = 0


def export_county_units(
    url: str,
    county: str | None,
    folder: Path,
    metric_crs: str,
    *,
    chunk_rows: int = CHUNK_ROWS,
    spatialite_library: str = "mod_spatialite",
) -> ChunkedExport:
    """Stream the units of ``county`` (``None``: those without one) into ``folder``.

    Runs on a worker; ``url`` is the store's, without its password
    (:func:`with_worker_password` finds it on the worker). Every chunk becomes one
    file of its partition (see the module docstring); the returned boxes go into the
    manifest.
    """
    store = Store(with_worker_password(url), spatialite_library=spatialite_library)
    crs = CRS.from_user_input(metric_crs)
    done = ChunkedExport()
    try:
        for number, chunk in enumerate(_chunks(store, county, chunk_rows)):
            keys = _tiles(chunk, crs) if county is None else pd.Series(county, index=chunk.index)
            for key in sorted(set(keys)):
                part = chunk[keys.to_numpy() == key].assign(partition=key)
                box = write_chunk(folder, "units", key, number, part, crs)
                boxes = [b for b in (done.boxes.get(key), box) if b is not None]
                found = union(boxes)
                if found is not None:
                    done.boxes[key] = found
            done.units += len(chunk)
            done.chunks += 1
            done.largest_chunk = max(done.largest_chunk, len(chunk))
    finally:
        store.engine.dispose()
    logger.info("county %s: %d units in %d chunk(s)", county, done.units, done.chunks)
    return done


def export_store_units(
    client: Any, store: Store, folder: Path, metric_crs: CRS, *, chunk_rows: int = CHUNK_ROWS
) -> dict[str, Box]:
    """Have the workers of ``client`` export every county's units; the boxes per partition.

    One task per county (and one for the units without a county); the client reads
    no unit. ``store.url`` must open the same store on every worker; the tasks carry it
    without its password, which each worker finds in its own environment
    (:func:`with_worker_password`; a local cluster of :func:`gridmap.scale.connect` is
    given it at start, not through the scheduler).
    """
    import shutil

    # chunks of an earlier run in a reused --exchange folder would be read with these
    shutil.rmtree(folder / "units", ignore_errors=True)
    counties = sorted(unit_counties(store), key=lambda c: (c is None, c or ""))
    futures = client.map(
        export_county_units,
        [without_password(store.url)] * len(counties),
        counties,
        folder=folder,
        metric_crs=metric_crs.to_string(),
        chunk_rows=chunk_rows,
        pure=False,
    )
    boxes: dict[str, Box] = {}
    for done in client.gather(futures):
        boxes.update(done.boxes)  # counties are disjoint; tiles come from one task only
    return boxes
