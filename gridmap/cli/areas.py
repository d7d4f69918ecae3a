"""``gridmap areas``: derive township and village / community areas, list the stored areas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridmap.cli._common import console, err_console, handle_errors, open_store, print_table
from gridmap.errors import GridmapError, NotFoundError

if TYPE_CHECKING:  # the analysis (pandas, GEOS) loads when a command runs, not at start-up
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from gridmap.admin import DeriveReport, Division
    from gridmap.store import Store

app = typer.Typer(
    help="Administrative areas (行政区划): derive villages / communities, list areas.",
    no_args_is_help=True,
)

AREA_HELP = "code of a stored county/township area with a boundary"
BOUNDARY_HELP = "polygon file (GeoJSON, GPKG, Shapefile, KML) of the area"
BBOX_HELP = "minlon,minlat,maxlon,maxlat of the area (WGS-84)"
ORIGIN_LABELS = {"official": "官方 official", "generated": "生成 generated", "none": "无 none"}
#: Area levels from the top, as :data:`gridmap.admin._stored.LEVEL_ORDER` (a test keeps them
#: equal); written out so that ``--help`` needs no analysis module.
LEVEL_ORDER = ("province", "prefecture", "county", "township", "village")


@dataclass(frozen=True)
class Target:
    """The area a command works on: a stored area's code, or a polygon from a file or box."""

    boundary: BaseGeometry
    area_code: str | None  # set for --area
    label: str  # how messages and source names call it
    flag: str  # the option it came from: --area, --boundary or --bbox


def resolve_target(
    store: Store, area: str | None, boundary: Path | None, bbox: str | None
) -> Target:
    """Exactly one of ``--area``, ``--boundary``, ``--bbox``, checked and read."""
    from gridmap.admin._boundary import bbox_boundary, read_boundary

    given = [
        flag for flag, value in (("--area", area), ("--boundary", boundary), ("--bbox", bbox))
        if value is not None
    ]  # fmt: skip
    if len(given) > 1:
        msg = f"give one of --area, --boundary, --bbox, not {' and '.join(given)}"
        raise GridmapError(msg)
    if boundary is not None:
        return Target(read_boundary(boundary, flag="--boundary"), None, boundary.stem, "--boundary")
    if bbox is not None:
        return Target(bbox_boundary(bbox, flag="--bbox"), None, "bbox", "--bbox")
    if area is None:
        msg = (
            "say which area: --area CODE (a stored area), --boundary FILE (a polygon file) "
            "or --bbox minlon,minlat,maxlon,maxlat"
        )
        raise GridmapError(msg)
    return Target(stored_boundary(store, area), area, area, "--area")


def stored_boundary(store: Store, code: str) -> BaseGeometry:
    """The boundary of the stored area ``--area CODE``, or a message naming the flag."""
    from gridmap.admin._stored import stored_areas

    areas = stored_areas(store)
    match = areas[(areas["code"] == code) & areas.geometry.notna()]
    if match.empty:
        known = ", ".join(sorted(areas.loc[areas.geometry.notna(), "code"].dropna().astype(str)))
        msg = (
            f"--area {code} is not a stored area with a boundary; areas with boundaries: "
            f"{known or 'none'} (`gridmap areas list` shows them; or give --boundary / --bbox)"
        )
        raise NotFoundError(msg)
    geometry: BaseGeometry = match.geometry.iloc[0]
    return geometry


def default_divisions() -> Path | None:
    """The MCA code list shipped in the package (``gridmap/data/china``)."""
    from gridmap.demo import DIVISIONS, demo_data_dir

    path = demo_data_dir() / DIVISIONS
    return path if path.exists() else None


def _divisions(path: Path | None) -> list[Division]:
    from gridmap.admin import load_divisions

    if path is None:
        path = default_divisions()
        return load_divisions(path) if path is not None else []
    if not path.exists():
        msg = f"--divisions {path}: no such file (the MCA code list, JSON)"
        raise NotFoundError(msg)
    try:
        return load_divisions(path)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        msg = (
            f"--divisions {path}: not an MCA code list "
            f'({{"divisions": [[level, code, parent, name], ...]}}): {exc}'
        )
        raise GridmapError(msg) from exc


def _places(osm: Path | None) -> gpd.GeoSeries | None:
    if osm is None:
        return None
    if not osm.exists():
        msg = f"--osm {osm}: no such file (the OSM extract the townships came from)"
        raise NotFoundError(msg)
    from gridmap.ingest.osm import read_osm

    series: gpd.GeoSeries = read_osm(osm).places.set_index("source_id").geometry
    return series


def derive_in(
    store: Store,
    target: Target,
    *,
    parent_code: str | None = None,
    name: str | None = None,
    divisions: Path | None = None,
    osm: Path | None = None,
    clip_townships: bool = False,
) -> DeriveReport:
    """Check the flags, then derive the areas inside ``target`` (``areas derive``, ``grid``)."""
    from gridmap.admin import derive_areas, parent_code_problem

    if parent_code is not None:
        if target.area_code is not None:
            msg = "--parent-code goes with --boundary or --bbox; --area is the parent already"
            raise GridmapError(msg)
        problem = parent_code_problem(parent_code, flag="--parent-code")
        if problem:
            raise GridmapError(problem)
    if target.area_code is not None:
        problem = parent_code_problem(target.area_code, flag="--area")
        if problem:
            raise GridmapError(problem)
    return derive_areas(
        store,
        boundary=target.boundary,
        parent_code=target.area_code or parent_code,
        parent_name=name,
        divisions=_divisions(divisions),
        places=_places(osm),
        clip_townships=clip_townships,
    )


def print_derived(report: DeriveReport) -> None:
    """The derived areas, their codes and where the codes come from."""
    areas = report.areas
    print_table(
        "派生区域 / derived areas",
        ["层级 level", "代码 code", "名称 name", "上级 parent", "代码来源 code origin"],
        [
            (row.level, row.code, row.name, row.parent_code, ORIGIN_LABELS[str(row.code_origin)])
            for row in areas.itertuples()
        ],
    )
    console.print(f"派生 / derived {report}")
    for note in report.notes:
        err_console.print(f"note: {note}")
    if report.count("village", "generated"):
        console.print(
            "generated codes follow GB/T 2260 + 3 + 3 but are not official: replace them by "
            "importing the real areas (`gridmap ingest layer FILE --kind area`)"
        )


@app.command()
@handle_errors
def derive(
    area: Annotated[str | None, typer.Option(help=AREA_HELP)] = None,
    boundary: Annotated[Path | None, typer.Option(help=BOUNDARY_HELP)] = None,
    bbox: Annotated[str | None, typer.Option(help=BBOX_HELP)] = None,
    parent_code: Annotated[
        str | None,
        typer.Option(help="county (6 digits) or township (9) code the areas belong to"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="name of the parent area if new")] = None,
    divisions: Annotated[
        Path | None, typer.Option(help="MCA code list JSON (default: data/china's)")
    ] = None,
    osm: Annotated[
        Path | None, typer.Option(help="OSM extract: places of townships without a polygon")
    ] = None,
    clip_townships: Annotated[
        bool, typer.Option(help="store the townships clipped to the boundary")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="also write the areas: .geojson, .gpkg, .csv, .xlsx")
    ] = None,
) -> None:
    """Divide an area among its village / community places and code them (approximate)."""
    with open_store() as store:
        target = resolve_target(store, area, boundary, bbox)
        report = derive_in(
            store,
            target,
            parent_code=parent_code,
            name=name,
            divisions=divisions,
            osm=osm,
            clip_townships=clip_townships,
        )
    print_derived(report)
    if out is not None:
        from gridmap.store.export import write_records

        console.print(f"areas: {write_records(report.areas, out)}")


@app.command(name="list")
@handle_errors
def list_(
    level: Annotated[
        str | None, typer.Option(help=f"only this level: {', '.join(LEVEL_ORDER)}")
    ] = None,
    under: Annotated[
        str | None, typer.Option(help="only areas whose code starts with this one")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="also write them: .csv, .xlsx, .geojson (boundaries)")
    ] = None,
) -> None:
    """List the stored areas by level, with codes, names and where each code comes from."""
    if level is not None and level not in LEVEL_ORDER:
        msg = f"--level takes one of {', '.join(LEVEL_ORDER)}, got {level!r}"
        raise GridmapError(msg)
    from gridmap.admin import list_areas
    from gridmap.store.export import write_records

    with open_store() as store:
        areas = list_areas(store)
    if level is not None:
        areas = areas[areas["level"] == level]
    if under is not None:
        areas = areas[areas["code"].fillna("").str.startswith(under)]
    print_table(
        f"行政区划 / areas ({len(areas)})",
        ["层级 level", "代码 code", "名称 name", "上级 parent", "代码来源 origin",
         "来源 source", "边界 boundary", "网格数"],
        [
            (r.level, r.code, r.name, r.parent_code, ORIGIN_LABELS[str(r.code_origin)], r.source,
             "有 yes" if r.boundary else "无 no", r.cells)
            for r in areas.itertuples()
        ],
    )  # fmt: skip
    if out is not None:
        console.print(f"areas: {write_records(areas, out)}")
