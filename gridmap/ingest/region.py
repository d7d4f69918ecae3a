"""Where a store's data lies: the extent that new rows are checked against.

A point far outside the store's admin areas and grid cells is almost always a
mistake (longitude and latitude swapped, the wrong CRS), and once loaded it
moves the projected zone and the coverage of other units. :func:`store_extent`
reads the lon/lat extent of the areas and cells (their envelopes only, a small
read); :func:`gridmap.ingest.validate.check_geometries` rejects rows far
outside it.
"""

from __future__ import annotations

import shapely
from sqlalchemy import func, select

from gridmap.ingest.records import RecordKind
from gridmap.ingest.validate import Region
from gridmap.store import Store, models

__all__ = ["store_extent"]

#: Kinds that define the region rather than being checked against it.
_DEFINING = frozenset({RecordKind.AREA, RecordKind.CELL})


def store_extent(store: Store, kind: RecordKind) -> Region | None:
    """The lon/lat extent of the store's areas and cells, for checking rows of ``kind``.

    ``None`` when the store has neither, and for areas and cells themselves
    (a new county's areas may lie anywhere): those are checked against the
    spread of their own file instead.
    """
    if kind in _DEFINING:
        return None
    envelopes = []
    with store.engine.connect() as conn:
        for column in (models.AdminArea.boundary, models.GridCell.geom):
            query = select(func.ST_AsBinary(func.ST_Envelope(column))).where(column.isnot(None))
            envelopes += [bytes(w) for (w,) in conn.execute(query) if w is not None]
    if not envelopes:
        return None
    bounds = shapely.bounds(shapely.from_wkb(envelopes))
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    return (float(west), float(south), float(east), float(north))
