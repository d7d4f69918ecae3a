"""``gridmap grid``: generate, import and check grid cells (网格), and put units in them."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridmap.cli._common import (
    EXIT_PROBLEMS,
    CrsOption,
    EncodingOption,
    LayerOption,
    RejectOption,
    SourceOption,
    console,
    err_console,
    handle_errors,
    open_store,
    parse_mapping,
    print_table,
)
from gridmap.cli.areas import Target, derive_in, print_derived, resolve_target, stored_boundary
from gridmap.cli.ingest import YesOption, _confirm, _UseSource
from gridmap.errors import GridmapError

if TYPE_CHECKING:  # the analysis (pandas, GEOS) loads when a command runs
    from shapely.geometry.base import BaseGeometry

    from gridmap.grid import CodeScheme, GridReport
    from gridmap.grid.stored import AssignReport
    from gridmap.grid.stored_check import StoreGridReport
    from gridmap.ingest.load import LoadReport
    from gridmap.store import Store

app = typer.Typer(
    help="Grid cells (网格): generate or import them, check them, put every unit in one.",
    no_args_is_help=True,
)

#: Units outside every cell listed on screen; the rest are counted.
SHOWN_OUTSIDE = 30
#: Stored cells sharing less than this with an area (m²) are its neighbours, not its grid.
OVERLAP_M2 = 1.0


class Shape(enum.StrEnum):
    """Cell shapes ``grid generate`` offers."""

    SQUARE = "square"
    HEX = "hex"
    H3 = "h3"


class Scheme(enum.StrEnum):
    """Cell-code presets (DOMAIN.md, "Grid cells")."""

    BEIJING = "beijing"
    CJT349 = "cjt349"


def code_scheme(scheme: Scheme) -> CodeScheme:
    """The code preset ``--scheme`` names."""
    from gridmap.grid import BEIJING_DB11_T_2157_2023, CJ_T_349_2010

    return {Scheme.BEIJING: BEIJING_DB11_T_2157_2023, Scheme.CJT349: CJ_T_349_2010}[scheme]


def _print_assignment(report: AssignReport) -> None:
    console.print(f"单位入格 / units in cells: {report}")
    outside = report.outside
    if outside.empty:
        return
    columns = ["id", "source_id", "kind", "name", "lon", "lat"]
    shown = outside.head(SHOWN_OUTSIDE)[columns].astype(object)
    print_table(
        "网格外单位 / units outside every cell",
        columns,
        shown.where(shown.notna(), None).values.tolist(),
    )
    if len(outside) > len(shown):
        console.print(
            f"... and {len(outside) - len(shown)} more; "
            "`gridmap export units` lists them all (empty cell_code)"
        )


def _print_load(report: LoadReport, reject_path: Path | None) -> None:
    print_table(
        "网格导入 / cells loaded",
        ["read", "loaded", "rejected", "inserted", "updated", "unchanged"],
        [
            (
                report.n_read,
                report.loaded,
                report.rejected,
                report.inserted,
                report.updated,
                report.unchanged,
            )
        ],
    )
    for note in report.notes:
        err_console.print(f"note: {note}")
    if reject_path is not None:
        console.print(f"rejected rows with their reasons: {reject_path}")


@contextmanager
def _codes_unique(what: str) -> Iterator[None]:
    """Turn the store's unique-code violation into a message; the load was rolled back."""
    from sqlalchemy.exc import IntegrityError

    try:
        yield
    except IntegrityError as exc:
        msg = (
            f"{what}: a cell code is already stored under another source, and codes are "
            f"unique in the store ({exc.orig}); nothing was saved. Re-import under that "
            "source (--source) to update those cells, or fix the codes"
        )
        raise GridmapError(msg) from exc


def _community_count(store: Store, area: str) -> int:
    from gridmap.grid.stored import communities_within

    try:
        return len(communities_within(store, area))
    except KeyError:
        # communities_within indexes an empty frame by columns when the store holds no
        # village-level area at all; that means none below this area either.
        return 0


def _require_communities(count: int, area: str, scheme: CodeScheme) -> None:
    if count:
        return
    msg = (
        f"--area {area} has no village/community areas with a boundary below it, and "
        f"{scheme.name} codes every cell under its village or community "
        f"({scheme.layout()}): a cell never belongs directly to a township. Derive them "
        f"from the place points (`gridmap areas derive --area {area}`) or import them "
        "(`gridmap ingest layer FILE --kind area`, level village, parent_code "
        f"{area}), then generate again"
    )
    raise GridmapError(msg)


def _refuse_stored_cells(store: Store, what: str, boundary: BaseGeometry, advice: str) -> None:
    """Refuse to add a second grid over cells already stored there.

    Saving upserts by code: a grid of another size would leave the old cells that
    the new one does not renumber beside it, overlapping.
    """
    from gridmap.crs import metric_crs_for
    from gridmap.store.export import export_records

    cells = export_records(store, "cells")
    near = cells[cells.intersects(boundary)]
    if near.empty:
        return
    centre = boundary.centroid
    shared = near.intersection(boundary).to_crs(metric_crs_for(centre.x, centre.y)).area
    inside = near[(shared > OVERLAP_M2).to_numpy()]  # neighbours' edges may graze the boundary
    if inside.empty:
        return
    sources = ", ".join(sorted(set(inside["source"])))
    msg = (
        f"{what} already has {len(inside)} stored cells (source {sources}); a new grid "
        f"would be saved beside them and overlap. {advice}"
    )
    raise GridmapError(msg)


def _check_community_codes(communities: Any, scheme: CodeScheme) -> None:
    """Every community needs a code of the length the scheme extends."""
    width = scheme.parent_width
    bad = [
        f"{name} ({code})"
        for code, name in zip(communities["code"], communities["name"], strict=True)
        if not (isinstance(code, str) and len(code) == width and code.isdigit())
    ]
    if bad:
        msg = (
            f"--scheme {scheme.name} extends {width}-digit village/community codes, and "
            f"{len(bad)} areas have none or another one: {', '.join(bad[:5])}. Fix their codes "
            "(`gridmap ingest layer FILE --kind area`) or derive them (`gridmap areas derive`)"
        )
        raise GridmapError(msg)


def _check_size(shape: Shape, size: float | None, resolution: int | None) -> None:
    """The size options that go with ``--shape``, named as flags."""
    if shape is Shape.H3:
        if resolution is None or not 0 <= resolution <= 15:
            msg = f"--shape h3 needs --resolution 0-15 (9 is about 170 m across), got {resolution}"
            raise GridmapError(msg)
        if size is not None:
            raise GridmapError(
                "--size applies to --shape square/hex; --shape h3 takes --resolution"
            )
        return
    if size is None or not math.isfinite(size) or size <= 0:
        msg = f"--shape {shape.value} needs --size, the cell side in metres (e.g. 250), got {size}"
        raise GridmapError(msg)
    if resolution is not None:
        raise GridmapError(f"--resolution applies to --shape h3 only, not --shape {shape.value}")


@dataclass(frozen=True)
class _Size:
    shape: Shape
    size: float | None
    resolution: int | None
    scheme: CodeScheme


def _generate_in_area(store: Store, area: str, size: _Size, replace: bool) -> tuple[Any, str]:
    from gridmap.grid.stored import area_boundary, communities_within, generate_grid, save_cells

    boundary = area_boundary(store, area)
    _require_communities(_community_count(store, area), area, size.scheme)
    _check_community_codes(communities_within(store, area), size.scheme)
    if not replace:
        advice = (
            f"Check them with `gridmap grid check --area {area}`, or give --replace to replace them"
        )
        _refuse_stored_cells(store, f"--area {area}", boundary, advice)
    cells = generate_grid(
        store,
        area,
        shape=size.shape.value,
        size_m=size.size,
        resolution=size.resolution,
        scheme=size.scheme,
    )
    with _codes_unique(f"cells over {area}"):
        saved = save_cells(
            store, cells, source=f"grid-{area}", replace_area=area if replace else None
        )
    return cells, str(saved)


def _generate_in_polygon(
    store: Store, target: Target, size: _Size, parent_code: str | None
) -> tuple[Any, str]:
    from gridmap.grid.stored import communities_intersecting, generate_grid_in, save_cells

    flag = target.flag
    communities = communities_intersecting(store, target.boundary)
    if communities.empty:
        print_derived(derive_in(store, target, parent_code=parent_code))
        communities = communities_intersecting(store, target.boundary)
    elif parent_code is not None:
        msg = (
            f"--parent-code applies when villages/communities are derived, and {flag} "
            "already overlaps stored ones: drop --parent-code"
        )
        raise GridmapError(msg)
    _check_community_codes(communities, size.scheme)
    _refuse_stored_cells(store, flag, target.boundary, "Check them with `gridmap grid check`")
    cells = generate_grid_in(
        store,
        target.boundary,
        shape=size.shape.value,
        size_m=size.size,
        resolution=size.resolution,
        scheme=size.scheme,
    )
    with _codes_unique(f"cells in {flag}"):
        saved = save_cells(store, cells, source=f"grid-{target.label}")
    return cells, str(saved)


@app.command()
@handle_errors
def generate(
    area: Annotated[
        str | None, typer.Option(help="code of the township/county area to cover")
    ] = None,
    boundary: Annotated[
        Path | None, typer.Option(help="or a polygon file (GeoJSON, GPKG, Shapefile, KML)")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option(help="or minlon,minlat,maxlon,maxlat (WGS-84)")
    ] = None,
    shape: Annotated[Shape, typer.Option(help="cell shape")] = Shape.SQUARE,
    size: Annotated[
        float | None, typer.Option(help="square side or hexagon side, in metres")
    ] = None,
    resolution: Annotated[
        int | None, typer.Option(help="H3 resolution (0-15)", min=0, max=15)
    ] = None,
    scheme: Annotated[Scheme, typer.Option(help="cell-code preset")] = Scheme.BEIJING,
    parent_code: Annotated[
        str | None,
        typer.Option(help="with --boundary/--bbox: county or township code of derived areas"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="also write the cells: .geojson, .gpkg, .csv, .xlsx")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            help="replace the area's stored cells; workers keep cells whose code survives"
        ),
    ] = False,
) -> None:
    """Generate cells over an area, split by its communities, code, store them, assign units.

    With --boundary or --bbox, the cells go to the villages/communities the polygon
    overlaps; where none is stored, they are derived first (`gridmap areas derive`).
    """
    _check_size(shape, size, resolution)
    from gridmap.grid.stored import assign_units

    sizing = _Size(shape, size, resolution, code_scheme(scheme))
    with open_store() as store:
        target = resolve_target(store, area, boundary, bbox)
        if target.area_code is None and replace:
            msg = "--replace works with --area only; remove the old cells first, or use --area"
            raise GridmapError(msg)
        if target.area_code is not None:
            if parent_code is not None:
                raise GridmapError("--parent-code goes with --boundary or --bbox, not --area")
            cells, summary = _generate_in_area(store, target.area_code, sizing, replace)
        else:
            cells, summary = _generate_in_polygon(store, target, sizing, parent_code)
        assignment = assign_units(store)
    console.print(f"网格生成 / cells over {target.label} ({sizing.scheme.name}): {summary}")
    _print_assignment(assignment)
    if out is not None:
        from gridmap.store.export import write_records

        console.print(f"cells: {write_records(cells, out)}")


@app.command(name="import")
@handle_errors
def import_(
    file: Annotated[
        Path, typer.Argument(help="cells drawn by hand: GeoJSON, GPKG, Shapefile, KML")
    ],
    crs: CrsOption = None,
    encoding: EncodingOption = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, e.g. code=网格编码 or area_code=社区代码"),
    ] = None,
    layer: LayerOption = None,
    source: SourceOption = None,
    reject_file: RejectOption = None,
    yes: YesOption = False,
) -> None:
    """Load cells with their codes, then put every unit in its cell.

    When the codes belong to cells another file supplied, the import shows what it would
    overwrite and asks (at a terminal); --yes overwrites without asking.
    """
    from gridmap.ingest.pipeline import ingest_layer
    from gridmap.ingest.records import RecordKind

    columns = parse_mapping(map_)
    while True:
        try:
            with open_store() as store, _codes_unique(file.name):
                report = ingest_layer(
                    store,
                    file,
                    RecordKind.CELL,
                    source=source,
                    reject_file=reject_file,
                    confirm=_confirm(yes),
                    layer=layer,
                    crs=crs,
                    encoding=encoding,
                    columns=columns,
                )
            break
        except _UseSource as answer:
            source = answer.source
            console.print(f"importing {file.name} as source {source!r}")
    _print_load(report, report.reject_file)
    if report.assignment is not None:  # always: an import of cells puts units in them
        _print_assignment(report.assignment)


def _print_check(report: GridReport, area: str) -> None:
    from gridmap.grid import GridReport

    title = f"网格检查 / grid check of {area}"
    if report.ok:
        console.print(f"{title}: no gaps, overlaps, crossings or duplicate codes")
        return
    print_table(title, list(GridReport.TABLE_COLUMNS), report.to_table())


def _print_store_check(report: StoreGridReport) -> None:
    from gridmap.grid.stored_check import TABLE_COLUMNS

    if not report.areas:
        console.print("网格检查 / grid check: no grid cells are stored (`gridmap grid generate`)")
        return
    print_table(
        f"网格检查 / grid check of every cell ({report.n_cells})",
        ["区域 area", "网格数", "问题数", "result"],
        [
            (a.label, a.n_cells, len(a.report.to_table()), "ok" if a.report.ok else "problems")
            for a in report.areas
        ],
    )
    if report.ok:
        console.print("no gaps, overlaps, crossings or duplicate codes in any area")
        return
    print_table("问题 / problems", list(TABLE_COLUMNS), report.to_table())


@app.command()
@handle_errors
def check(
    area: Annotated[
        str | None,
        typer.Option(help="code of the area whose cells to check (default: every cell)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="write the problems with their shapes as GeoJSON")
    ] = None,
    tolerance: Annotated[
        float, typer.Option(help="overlaps up to this many m² are ignored", min=0.0)
    ] = 1.0,
) -> None:
    """Find gaps, overlaps, cells across two communities and duplicate codes; exit 1 if any.

    Without --area every stored cell is checked, area by area; gaps are measured
    against the boundaries of the cells' villages/communities.
    """
    from gridmap.grid.stored_check import StoreGridReport, check_grid

    with open_store() as store:
        if area is not None:
            stored_boundary(store, area)  # an unknown code fails here, naming --area
        result = check_grid(store, area, overlap_tolerance_m2=tolerance)
    if isinstance(result, StoreGridReport):
        _print_store_check(result)
    else:
        _print_check(result, area or "")
    if out is not None:
        from gridmap.store.export import write_records

        console.print(f"problems: {write_records(result.to_geodataframe(), out)}")
    if not result.ok:
        raise typer.Exit(EXIT_PROBLEMS)
