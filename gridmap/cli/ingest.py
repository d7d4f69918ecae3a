"""``gridmap ingest``: OpenStreetMap extracts and layers in any format users have."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli._common import (
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
    settings,
)
from gridmap.domain import UnitKind
from gridmap.ingest.load import LoadReport
from gridmap.ingest.pipeline import default_reject_path, import_layer, import_osm
from gridmap.ingest.records import RecordKind
from gridmap.ingest.sniff import check_reject_file, check_table_file

app = typer.Typer(
    help="Load data into the store; every rejected row is reported.", no_args_is_help=True
)

KIND_HELP = (
    "what the rows are: area, cell, unit, org, instructor, station, worker, road; "
    "or a unit kind (village, community, building, park, firm, social_org) for units"
)


def _print_report(reports: list[LoadReport], reject_path: Path | None) -> None:
    print_table(
        "导入结果 / import",
        ["kind", "read", "loaded", "rejected", "inserted", "updated", "unchanged", "repaired"],
        [
            (
                r.kind.value,
                r.n_read,
                r.loaded,
                r.rejected,
                r.inserted,
                r.updated,
                r.unchanged,
                r.n_repaired,
            )
            for r in reports
        ],
    )
    for report in reports:
        console.print(f"{report.kind.value}: {report.summary()}")
        for note in report.notes:
            err_console.print(f"note: {note}")
    if reject_path is not None:
        console.print(f"rejected rows with their reasons: {reject_path}")


@app.command()
@handle_errors
def osm(
    file: Annotated[Path, typer.Argument(help="an .osm.pbf or .osm extract")],
    reject_file: Annotated[Path | None, typer.Option(help="where rejected features go")] = None,
    tags: Annotated[
        Path | None, typer.Option(help="a TOML file overriding the tag-to-kind mapping")
    ] = None,
) -> None:
    """Load villages, communities, buildings, parks, admin areas and roads from OSM."""
    from gridmap.demo import unit_counts

    check_reject_file(file, reject_file or default_reject_path(file))
    with open_store() as store:
        reports, reject_path = import_osm(store, file, reject_file=reject_file, tags=tags)
        kinds = unit_counts(store, source="osm")
    _print_report(reports, reject_path)
    print_table(
        "单位类型 / units from OSM by kind",
        ["kind", "count"],
        [(f"{UnitKind(k).label()} ({k})", n) for k, n in kinds.items()],
    )


@app.command()
@handle_errors
def layer(
    file: Annotated[Path, typer.Argument(help="Shapefile, GeoPackage, GeoJSON, KML, CSV or Excel")],
    kind: Annotated[str, typer.Option(help=KIND_HELP)],
    layer: LayerOption = None,
    crs: CrsOption = None,
    encoding: EncodingOption = None,
    lon_col: Annotated[
        str | None, typer.Option(help="longitude column (auto: lon/lng/x/经度)")
    ] = None,
    lat_col: Annotated[str | None, typer.Option(help="latitude column (auto: lat/y/纬度)")] = None,
    id_col: Annotated[str | None, typer.Option(help="column with each record's id")] = None,
    name_col: Annotated[str | None, typer.Option(help="column with each record's name")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN for other fields, e.g. party_members=党员人数"),
    ] = None,
    source: SourceOption = None,
    reject_file: RejectOption = None,
    sheet: Annotated[
        str | None, typer.Option(help="Excel sheet to read (default: the first; others listed)")
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(help="row number of the header in a CSV/Excel sheet (default: found)"),
    ] = None,
) -> None:
    """Load one layer; prints read N, loaded M, rejected R (N = M + R)."""
    check_reject_file(file, reject_file or default_reject_path(file))
    if file.is_file():
        check_table_file(file, encoding)  # before the store is opened: refused in milliseconds
    config = settings()
    unit_kind = None
    record_kind = kind
    if kind not in {k.value for k in RecordKind}:
        unit_kind = UnitKind.parse(kind)
        record_kind = RecordKind.UNIT.value
    with open_store(config) as store:
        report, reject_path = import_layer(
            store,
            file,
            record_kind,
            source=source,
            reject_file=reject_file,
            layer=layer,
            crs=crs,
            encoding=encoding,
            lon_col=lon_col,
            lat_col=lat_col,
            id_col=id_col,
            name_col=name_col,
            columns=parse_mapping(map_),
            unit_kind=unit_kind,
            sheet=sheet,
            header_row=header_row,
            max_field_chars=config.ingest.max_field_chars,
        )
    _print_report([report], reject_path)
