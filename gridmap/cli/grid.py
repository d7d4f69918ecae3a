"""``gridmap grid``: generate, import and check grid cells (网格), and put units in them."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import IntegrityError

from gridmap.cells import (
    AssignReport,
    area_boundary,
    assign_units,
    check_stored_grid,
    communities_within,
    generate_grid,
    save_cells,
)
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
    require_positive,
)
from gridmap.crs import metric_crs_for
from gridmap.errors import GridmapError
from gridmap.export import export_records, write_records
from gridmap.grid import BEIJING_DB11_T_2157_2023, CJ_T_349_2010, CodeScheme, GridReport
from gridmap.ingest.load import LoadReport
from gridmap.ingest.pipeline import import_layer
from gridmap.ingest.records import RecordKind
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


SCHEMES: dict[Scheme, CodeScheme] = {
    Scheme.BEIJING: BEIJING_DB11_T_2157_2023,
    Scheme.CJT349: CJ_T_349_2010,
}


def _print_assignment(report: AssignReport) -> None:
    console.print(f"单位入格 / units in cells: {report.summary()}")
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
        f"area {area} has no village/community areas with a boundary below it, and "
        f"{scheme.name} codes every cell under its village or community "
        f"({scheme.layout()}): a cell never belongs directly to a township. Import the "
        "community/village areas first (`gridmap ingest layer FILE --kind area` with "
        "level village and parent_code "
        f"{area}), or derive them (see `gridmap demo`), then generate again"
    )
    raise GridmapError(msg)


def _refuse_stored_cells(store: Store, area: str, boundary: BaseGeometry) -> None:
    """Refuse to add a second grid over cells already stored there.

    Saving upserts by code: a grid of another size would leave the old cells that
    the new one does not renumber beside it, overlapping.
    """
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
        f"area {area} already has {len(inside)} stored cells (source {sources}); a new grid "
        "would be saved beside them and overlap. Check them with `gridmap grid check --area "
        f"{area}`, or give --replace to replace them"
    )
    raise GridmapError(msg)


@app.command()
@handle_errors
def generate(
    area: Annotated[str, typer.Option(help="code of the township/county area to cover")],
    shape: Annotated[Shape, typer.Option(help="cell shape")] = Shape.SQUARE,
    size: Annotated[
        float | None, typer.Option(help="square side or hexagon side, in metres")
    ] = None,
    resolution: Annotated[
        int | None, typer.Option(help="H3 resolution (0-15)", min=0, max=15)
    ] = None,
    scheme: Annotated[Scheme, typer.Option(help="cell-code preset")] = Scheme.BEIJING,
    out: Annotated[
        Path | None, typer.Option(help="also write the cells: .geojson, .gpkg, .csv, .xlsx")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="replace the area's stored cells (their worker links go too)")
    ] = False,
) -> None:
    """Generate cells over an area, split by its communities, code, store them, assign units."""
    require_positive(size=size)
    code_scheme = SCHEMES[scheme]
    with open_store() as store:
        boundary = area_boundary(store, area)  # an unknown code fails here, listing known ones
        _require_communities(_community_count(store, area), area, code_scheme)
        if not replace:
            _refuse_stored_cells(store, area, boundary)
        cells = generate_grid(
            store,
            area,
            shape=shape.value,
            size_m=size,
            resolution=resolution,
            scheme=code_scheme,
        )
        with _codes_unique(f"cells over {area}"):
            saved = save_cells(
                store, cells, source=f"grid-{area}", replace_area=area if replace else None
            )
        assignment = assign_units(store)
    console.print(f"网格生成 / cells over {area} ({code_scheme.name}): {saved.summary()}")
    _print_assignment(assignment)
    if out is not None:
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
) -> None:
    """Load cells with their codes, then put every unit in its cell."""
    with open_store() as store, _codes_unique(file.name):
        report, reject_path = import_layer(
            store,
            file,
            RecordKind.CELL,
            source=source,
            reject_file=reject_file,
            layer=layer,
            crs=crs,
            encoding=encoding,
            columns=parse_mapping(map_),
        )
        assignment = assign_units(store)
    _print_load(report, reject_path)
    _print_assignment(assignment)


def _print_check(report: GridReport, area: str) -> None:
    title = f"网格检查 / grid check of {area}"
    if report.ok:
        console.print(f"{title}: no gaps, overlaps, crossings or duplicate codes")
        return
    print_table(title, list(GridReport.TABLE_COLUMNS), report.to_table())


@app.command()
@handle_errors
def check(
    area: Annotated[str, typer.Option(help="code of the area whose cells to check")],
    out: Annotated[
        Path | None, typer.Option(help="write the problems with their shapes as GeoJSON")
    ] = None,
    tolerance: Annotated[
        float, typer.Option(help="overlaps up to this many m² are ignored", min=0.0)
    ] = 1.0,
) -> None:
    """Find gaps, overlaps, cells across two communities and duplicate codes; exit 1 if any."""
    with open_store() as store:
        report = check_stored_grid(store, area, overlap_tolerance_m2=tolerance)
    _print_check(report, area)
    if out is not None:
        console.print(f"problems: {write_records(report.to_geodataframe(), out)}")
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS)
