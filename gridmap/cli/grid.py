"""``gridmap grid``: generate, import and check grid cells (网格), and put units in them."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from gridmap.cli.areas import _divisions, print_derived, resolve_target, stored_boundary
from gridmap.cli.ingest import YesOption, _confirm, _UseSource
from gridmap.errors import GridmapError

if TYPE_CHECKING:  # the analysis (pandas, GEOS) loads when a command runs
    from gridmap.grid import CodeScheme, GridReport
    from gridmap.grid.stored import AssignReport
    from gridmap.grid.stored_check import StoreGridReport
    from gridmap.ingest.load import LoadReport

app = typer.Typer(
    help="Grid cells (网格): generate or import them, check them, put every unit in one.",
    no_args_is_help=True,
)

#: Units outside every cell listed on screen; the rest are counted.
SHOWN_OUTSIDE = 30


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
    from gridmap.grid.stored_generate import generate_grid

    with open_store() as store:
        target = resolve_target(store, area, boundary, bbox)
        result = generate_grid(
            store,
            target.area_code,
            boundary=None if target.area_code is not None else target.boundary,
            shape=shape.value,
            size_m=size,
            resolution=resolution,
            scheme=code_scheme(scheme),
            parent_code=parent_code,
            replace=replace,
            out=out,
            label=target.label,
            flag=target.flag,
            divisions=lambda: _divisions(None),  # read only if areas are derived
        )
    if result.derived is not None:
        print_derived(result.derived)
    console.print(f"网格生成 / {result}")
    _print_assignment(result.assignment)
    if result.out is not None:
        console.print(f"cells: {result.out}")


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
    from gridmap.grid.stored_generate import codes_unique
    from gridmap.ingest.pipeline import ingest_layer
    from gridmap.ingest.records import RecordKind

    columns = parse_mapping(map_)
    while True:
        try:
            with open_store() as store, codes_unique(file.name):
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
