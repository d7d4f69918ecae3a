"""Townships and village / community areas inside a boundary, coded, from place points.

Where no community or village boundaries are published, :func:`derive_areas`
divides a county or township boundary among its places (Voronoi cells, see
:func:`~gridmap.admin.areas_from_points`), gives each area a code that extends
its parent's (:mod:`gridmap.admin._codes`), and stores them in one transaction.
The areas are approximations: villages are stored with source ``derived``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, delete, select

from gridmap.admin._codes import (
    DERIVED_SOURCE,
    GENERATED_TOWNSHIP_FIRST,
    code_level,
    code_origin,
    next_county_code,
)
from gridmap.admin._divisions import Division, child_divisions
from gridmap.admin._points import areas_from_points, child_codes
from gridmap.admin._stored import WGS84, place_units, stored_areas
from gridmap.errors import GridmapError
from gridmap.ingest.load import LoadReport, load_into
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.store import Store, models, table_of

__all__ = ["DeriveError", "DeriveReport", "boundary_problem", "derive_areas", "parent_code_problem"]

logger = logging.getLogger(__name__)

COLUMNS = ["source", "source_id", "name", "code", "level", "parent_code", "geometry"]
#: A stored area counts as inside the boundary when at least this share of it is.
MIN_SHARE = 0.01


class DeriveError(GridmapError, ValueError):
    """Areas cannot be derived from the input given."""


@dataclass(frozen=True)
class DeriveReport:
    """What :func:`derive_areas` stored.

    ``areas`` has one row per area it created or updated (the parent first
    when it was not stored yet, then townships, then villages): ``level, code,
    name, parent_code, code_origin`` (``official`` or ``generated``),
    ``source`` and the WGS-84 ``geometry``.
    """

    parent_code: str
    areas: gpd.GeoDataFrame
    loads: tuple[tuple[str, LoadReport], ...]
    notes: tuple[str, ...] = ()

    def count(self, level: str, origin: str | None = None) -> int:
        """Number of areas at ``level`` (with codes of ``origin``, when given)."""
        rows = self.areas[self.areas["level"] == level]
        if origin is not None:
            rows = rows[rows["code_origin"] == origin]
        return len(rows)

    def summary(self) -> dict[str, Any]:
        """Areas by level and code origin, and what was loaded."""
        return {
            "parent_code": self.parent_code,
            "townships": self.count("township"),
            "townships_official": self.count("township", "official"),
            "villages": self.count("village"),
            "villages_generated": self.count("village", "generated"),
            "loads": {label: report.summary() for label, report in self.loads},
        }

    def __str__(self) -> str:
        """One line for the CLI."""
        towns, villages = self.count("township"), self.count("village")
        return (
            f"under {self.parent_code}: {towns} townships "
            f"({self.count('township', 'official')} with official codes), {villages} "
            f"villages / communities ({self.count('village', 'generated')} generated codes)"
        )


def parent_code_problem(code: str, *, flag: str = "parent_code") -> str | None:
    """Why ``code`` cannot be the parent of derived areas, or None when it can."""
    level = code_level(code)
    if level in ("county", "township"):
        return None
    if level == "village":
        return (
            f"{flag} {code} is a village/community code: give its county (6 digits) or township (9)"
        )
    return (
        f"{flag} takes a 6-digit county code (GB/T 2260, e.g. 360681) or a 9-digit "
        f"township code (e.g. 360681001), got {code!r}"
    )


def boundary_problem(boundary: object, *, flag: str = "boundary") -> str | None:
    """Why ``boundary`` cannot be divided, or None when it is a valid WGS-84 polygon."""
    if not isinstance(boundary, BaseGeometry) or boundary.geom_type not in (
        "Polygon",
        "MultiPolygon",
    ):
        kind = getattr(boundary, "geom_type", type(boundary).__name__)
        return f"{flag} must be a polygon, got {kind}"
    if boundary.is_empty:
        return f"{flag} is an empty polygon"
    if not boundary.is_valid:
        return f"{flag} is not a valid polygon ({shapely.is_valid_reason(boundary)})"
    minx, miny, maxx, maxy = boundary.bounds
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        return f"{flag} must be in lon/lat degrees (WGS-84), got bounds {boundary.bounds}"
    return None


def derive_areas(
    store: Store,
    *,
    boundary: BaseGeometry,
    parent_code: str | None = None,
    parent_name: str | None = None,
    divisions: Sequence[Division] = (),
    places: gpd.GeoSeries | None = None,
    clip_townships: bool = False,
) -> DeriveReport:
    """Derive and store the townships and villages / communities inside ``boundary``.

    Parameters
    ----------
    store
        Holds the place units (kinds ``village`` and ``community``) and any
        township areas; receives the derived areas.
    boundary
        The WGS-84 polygon to divide (a county, a township, or any study area).
    parent_code
        Code of the county (6 digits) or township (9) the areas belong to.
        Default: the finest stored coded area holding most of ``boundary``,
        else a generated county code (``990101`` ...).
    parent_name
        Name of the parent when it is not stored yet (default: from
        ``divisions``, else a generated one).
    divisions
        The MCA code list (:func:`~gridmap.admin.load_divisions`): townships
        (and villages, when it lists them) get their official code by name.
    places
        Points of townships stored without a boundary, by their ``source_id``
        (OSM ``place=town`` nodes: ``read_osm(path).places``).
    clip_townships
        Store the townships' polygons clipped to ``boundary`` (a study area
        cut out of a county); by default only townships without a polygon
        get one, derived from their points.

    Returns
    -------
    DeriveReport
        The stored areas and the load reports.

    Raises
    ------
    DeriveError
        When the boundary or parent code cannot be used, or no place lies inside.
    """
    problem = boundary_problem(boundary)
    if problem is None and parent_code is not None:
        problem = parent_code_problem(parent_code)
    if problem:
        raise DeriveError(problem)
    stored = stored_areas(store)
    code = (
        parent_code
        or _containing_code(stored, boundary)
        or next_county_code(stored["code"].dropna())
    )
    notes: list[str] = []
    parent = _parent_row(stored, code, parent_name, boundary, divisions)
    if code_level(code) == "county":
        towns = _townships(stored, boundary, code, divisions, places, notes)
        towns_stored = towns if clip_townships else _keep_stored_polygons(towns, stored)
    else:
        towns = _single(DERIVED_SOURCE, code, _name_of(stored, code, parent), "township", boundary)
        towns_stored = towns.iloc[0:0]
    villages = _villages(place_units(store), towns, stored, divisions, notes)
    if villages.empty:
        msg = (
            f"nothing to derive under {code}: its townships already have imported "
            "village/community areas (grid them with `gridmap grid generate`)"
            if any("imported village areas" in n for n in notes)
            else f"no township lies inside the boundary under {code}"
        )
        raise DeriveError(msg)
    loads = _store(store, parent, towns_stored, villages, [str(t) for t in towns["code"]])
    frame = pd.concat([f for f in (parent, towns, villages) if f is not None], ignore_index=True)
    frame["code_origin"] = [
        code_origin(c, s) for c, s in zip(frame["code"], frame["source"], strict=True)
    ]
    rank = frame["level"].map({"county": 0, "township": 1, "village": 2})
    frame = frame.assign(_rank=rank).sort_values(["_rank", "code"], kind="stable")
    frame = frame.drop(columns="_rank").reset_index(drop=True)
    report = DeriveReport(code, gpd.GeoDataFrame(frame, crs=WGS84), tuple(loads), tuple(notes))
    logger.info("derived areas %s", report)
    return report


def _single(
    source: str, code: str, name: str, level: str, geometry: BaseGeometry
) -> gpd.GeoDataFrame:
    row = {"source": source, "source_id": code, "name": name, "code": code, "level": level}
    return gpd.GeoDataFrame([{**row, "parent_code": None}], geometry=[geometry], crs=WGS84)


def _name_of(stored: gpd.GeoDataFrame, code: str, parent: gpd.GeoDataFrame | None) -> str:
    if parent is not None:
        return str(parent["name"].iloc[0])
    return str(stored.loc[stored["code"] == code, "name"].iloc[0])


def _share_inside(geoms: gpd.GeoSeries, boundary: BaseGeometry) -> pd.Series:
    """Share of each polygon's area inside ``boundary`` (0 for points and missing ones).

    A ratio of areas in degrees², which a local projection would barely change.
    """
    values = geoms.to_numpy()
    areas = shapely.area(values)
    inside = shapely.area(shapely.intersection(values, boundary))
    shares = [i / a if a and a > 0 else 0.0 for i, a in zip(inside, areas, strict=True)]
    return pd.Series(shares, index=geoms.index, dtype=float)


def _containing_code(stored: gpd.GeoDataFrame, boundary: BaseGeometry) -> str | None:
    """The finest stored county or township with a code that holds most of ``boundary``."""
    coded = stored[stored["code"].notna() & stored.geometry.notna()]
    coded = coded[coded["level"].isin(["county", "township"])]
    if coded.empty:
        return None
    share = shapely.area(shapely.intersection(coded.geometry.to_numpy(), boundary)) / shapely.area(
        boundary
    )
    holding = coded[share >= 0.5].assign(share=share[share >= 0.5])
    if holding.empty:
        return None
    holding = holding.assign(fine=holding["level"] == "township")
    best = holding.sort_values(["fine", "share"], ascending=False).iloc[0]
    return str(best["code"])


def _parent_row(
    stored: gpd.GeoDataFrame,
    code: str,
    name: str | None,
    boundary: BaseGeometry,
    divisions: Sequence[Division],
) -> gpd.GeoDataFrame | None:
    """The parent area to store, or None when the store has it."""
    if (stored["code"] == code).any():
        return None
    official = {c: n for _, c, _, n in divisions}
    level = code_level(code) or "county"
    label = name or official.get(code) or f"生成区域 {code}"
    row = _single(DERIVED_SOURCE, code, label, level, boundary)
    if level == "township" and (stored["code"] == code[:6]).any():
        row["parent_code"] = code[:6]
    return row


def _townships(
    stored: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    county: str,
    divisions: Sequence[Division],
    places: gpd.GeoSeries | None,
    notes: list[str],
) -> gpd.GeoDataFrame:
    """The county's townships inside ``boundary``, with shapes and codes."""
    towns = stored[stored["level"] == "township"]
    towns = towns[towns["code"].isna() | towns["code"].astype(str).str.startswith(county)].copy()
    missing = towns.geometry.isna()
    if places is not None and missing.any():
        towns.loc[missing, "geometry"] = towns.loc[missing, "source_id"].map(places)
    polygonal = towns.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    inside = (polygonal & (_share_inside(towns.geometry, boundary) > MIN_SHARE)) | (
        ~polygonal & towns.geometry.notna() & towns.within(boundary)
    )
    unplaced = towns[towns.geometry.isna()]
    if len(unplaced):
        notes.append(
            f"{len(unplaced)} townships have neither a boundary nor a place point "
            f"({', '.join(unplaced['name'].astype(str))}): give the OSM extract (--osm) "
            "to place them"
        )
    towns = towns[inside.to_numpy()]
    if towns.empty:
        return _single(DERIVED_SOURCE, f"{county}{GENERATED_TOWNSHIP_FIRST}", "全域（生成）",
                       "township", boundary)  # fmt: skip
    shaped = _township_shapes(towns, boundary)
    shaped["code"] = _township_codes(shaped, county, divisions)
    shaped["parent_code"] = county
    return gpd.GeoDataFrame(shaped[COLUMNS], geometry="geometry", crs=WGS84)


def _township_shapes(towns: gpd.GeoDataFrame, boundary: BaseGeometry) -> gpd.GeoDataFrame:
    """Polygons clipped to ``boundary``; the rest of it split among the point-only towns."""
    has_polygon = towns.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    complete = towns[has_polygon].copy()
    complete["geometry"] = complete.geometry.intersection(boundary)
    rest = (
        shapely.difference(boundary, shapely.union_all(complete.geometry.values))
        if len(complete)
        else boundary
    )
    points = towns[~has_polygon]
    derived = areas_from_points(points, rest) if len(points) else points
    frame = gpd.GeoDataFrame(pd.concat([complete, derived]), geometry="geometry", crs=WGS84)
    return frame[~frame.geometry.is_empty]


def _township_codes(
    towns: gpd.GeoDataFrame, county: str, divisions: Sequence[Division]
) -> list[str]:
    """A stored code, else the official one by name, else a generated 9xx one."""
    official = child_divisions(list(divisions), county)
    codes = [
        str(c) if isinstance(c, str) and c else official.get(str(n), "")
        for c, n in zip(towns["code"], towns["name"], strict=True)
    ]
    todo = [i for i, c in enumerate(codes) if not c]
    if todo:
        generated = child_codes(
            county, towns.iloc[todo], first=GENERATED_TOWNSHIP_FIRST, used=frozenset(codes)
        )
        for i, c in zip(todo, generated, strict=True):
            codes[i] = c
    return codes


def _keep_stored_polygons(towns: gpd.GeoDataFrame, stored: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Townships to store: stored polygons kept as they were, derived ones as derived."""
    polygons = stored[stored.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    kept = dict(zip(zip(polygons["source"], polygons["source_id"], strict=True),
                    polygons.geometry, strict=True))  # fmt: skip
    out = towns.copy()
    keys = list(zip(out["source"], out["source_id"], strict=True))
    out["geometry"] = [kept.get(k, g) for k, g in zip(keys, out.geometry, strict=True)]
    return out


def _villages(
    places: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    stored: gpd.GeoDataFrame,
    divisions: Sequence[Division],
    notes: list[str],
) -> gpd.GeoDataFrame:
    """Village / community areas: each township divided among the places inside it."""
    imported = stored[(stored["level"] == "village") & (stored["source"] != DERIVED_SOURCE)]
    imported = imported[imported.geometry.notna()]
    pieces = []
    for _, town in towns.iterrows():
        if len(imported) and (_share_inside(imported.geometry, town.geometry) > MIN_SHARE).any():
            notes.append(f"{town['name']} ({town['code']}) has imported village areas: kept")
            continue
        inside = _distinct(places[places.within(town.geometry)], notes)
        if inside.empty:
            notes.append(
                f"{town['name']} ({town['code']}) has no village or community place: "
                "one area covers it all"
            )
            areas = _whole_town(town)
        else:
            areas = areas_from_points(inside[["source_id", "name", "geometry"]], town.geometry)
        areas["code"] = _village_codes(areas, str(town["code"]), divisions)
        areas["parent_code"] = town["code"]
        pieces.append(areas)
    if not pieces:
        return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs=WGS84)
    frame = pd.concat(pieces, ignore_index=True)
    frame["level"] = "village"
    frame["source"] = DERIVED_SOURCE
    return gpd.GeoDataFrame(frame[COLUMNS], geometry="geometry", crs=WGS84)


def _distinct(places: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    """One place per location: two nodes at the same point would get the same area."""
    keys = shapely.to_wkb(places.geometry.to_numpy())
    dup = pd.Series(keys, index=places.index).duplicated()
    if dup.any():
        names = ", ".join(places.loc[dup.to_numpy(), "name"].astype(str))
        notes.append(f"places at the same point as another were left out: {names}")
    return places[~dup.to_numpy()]


def _whole_town(town: pd.Series) -> gpd.GeoDataFrame:
    """One village / community area for a township without places: all of it."""
    row = {"source_id": f"{town['code']}-all", "name": f"{town['name']}（全域）"}
    return gpd.GeoDataFrame([row], geometry=[town.geometry], crs=WGS84)


def _village_codes(areas: gpd.GeoDataFrame, town: str, divisions: Sequence[Division]) -> list[str]:
    """Official codes by name where the code list has villages, else generated ones."""
    official = child_divisions(list(divisions), town)
    codes = [official.get(str(n), "") for n in areas["name"]]
    todo = [i for i, c in enumerate(codes) if not c]
    if todo:
        generated = child_codes(town, areas.iloc[todo], used=frozenset(codes))
        for i, c in zip(todo, generated, strict=True):
            codes[i] = c
    return codes


def _result(frame: gpd.GeoDataFrame) -> ReadResult:
    records = frame.drop(columns="source").reset_index(drop=True)
    return ReadResult(records=records, rejects=pd.DataFrame(), n_read=len(records))


def _store(
    store: Store,
    parent: gpd.GeoDataFrame | None,
    towns: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    town_codes: list[str],
) -> list[tuple[str, LoadReport]]:
    """Load parent, townships (each under its own source) and villages in one transaction."""
    loads: list[tuple[str, LoadReport]] = []
    with store.engine.begin() as conn:
        if parent is not None:
            report = load_into(conn, RecordKind.AREA, _result(parent), source=DERIVED_SOURCE)
            loads.append(("parent area", report))
        for source, rows in towns.groupby("source", sort=True):
            report = load_into(conn, RecordKind.AREA, _result(rows), source=str(source))
            loads.append((f"township codes and boundaries ({source})", report))
        _remove_stale(conn, town_codes, set(villages["source_id"]))
        report = load_into(conn, RecordKind.AREA, _result(villages), source=DERIVED_SOURCE)
        loads.append(("community / village areas (derived)", report))
    return loads


def _remove_stale(conn: Connection, town_codes: list[str], keep: set[str]) -> None:
    """Drop villages an earlier derivation put under these townships that this one does not."""
    table = table_of(models.AdminArea)
    towns = table.alias("town")
    ids = [
        int(i)
        for i, sid in conn.execute(
            select(table.c.id, table.c.source_id)
            .join(towns, towns.c.id == table.c.parent_id)
            .where(table.c.source == DERIVED_SOURCE, towns.c.code.in_(town_codes))
        )
        if sid not in keep
    ]
    if ids:
        conn.execute(delete(table).where(table.c.id.in_(ids)))
        logger.info("removed %d derived areas no longer derived", len(ids))
