"""``gridmap ingest``: OpenStreetMap extracts and layers in any format users have."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:  # the ingest machinery (pandas, GEOS) loads when a command runs
    from gridmap.ingest.load import ConfirmOverwrite, LoadReport, Overwrite

app = typer.Typer(
    help="Load data into the store; every rejected row is reported.", no_args_is_help=True
)

KIND_HELP = (
    "what the rows are: area, cell, unit, org, instructor, station, worker, road; "
    "or a unit kind (village, community, building, park, firm, social_org) for units"
)


SyncOption = Annotated[
    bool,
    typer.Option(
        "--sync",
        help="close the records this file had before and no longer has (kept as history)",
    ),
]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="overwrite records another file supplied without asking"),
]


class _UseSource(Exception):
    """The user named a source of its own for the file at the overwrite question."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.source = source


def _print_overwrites(overwrites: list[Overwrite]) -> None:
    print_table(
        "将覆盖其他文件导入的记录 / would overwrite records from another file",
        ["id", "name", "from", "field: stored -> new"],
        [
            (
                w.source_id,
                w.name,
                ", ".join(w.origins),
                "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in w.fields.items()),
            )
            for w in overwrites[:20]
        ],
    )
    if len(overwrites) > 20:
        console.print(f"... and {len(overwrites) - 20} more")


def _interactive() -> bool:
    """Whether someone can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def _confirm(yes: bool) -> ConfirmOverwrite:
    """Overwrite with --yes; ask at a terminal; refuse otherwise (one line, exit 2)."""

    def ask(overwrites: list[Overwrite]) -> bool:
        if not yes and not _interactive():
            return False
        _print_overwrites(overwrites)
        if yes:
            return True
        answer = typer.prompt(
            "这些编号已被另一个文件使用。输入 y 覆盖；输入新的来源名（--source）分开保存；"
            "直接回车取消 / these ids belong to another file: y overwrites, a name imports "
            "this file as a source of its own, Enter cancels",
            default="",
            show_default=False,
        ).strip()
        if answer.lower() in {"y", "yes", "是"}:
            return True
        if answer:
            raise _UseSource(answer)
        return False

    return ask


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
        console.print(f"{report.kind.value}: {report}")
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
    sync: SyncOption = False,
) -> None:
    """Load villages, communities, buildings, parks, admin areas and roads from OSM.

    OSM ids are the same in every extract: a newer or larger extract updates the features.
    """
    from gridmap.demo import unit_counts
    from gridmap.ingest.pipeline import default_reject_path, ingest_osm
    from gridmap.ingest.sniff import check_reject_file

    check_reject_file(file, reject_file or default_reject_path(file))
    with open_store() as store:
        reports = ingest_osm(
            store,
            file,
            reject_file=reject_file,
            tags=tags,
            sync=sync,
        )
        kinds = unit_counts(store, source="osm")
    _print_report(list(reports), reports.reject_file)
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
    sync: SyncOption = False,
    yes: YesOption = False,
    sheet: Annotated[
        str | None, typer.Option(help="Excel sheet to read (default: the first; others listed)")
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(help="row number of the header in a CSV/Excel sheet (default: found)"),
    ] = None,
) -> None:
    """Load one layer; prints read N, loaded M, rejected R (N = M + R).

    Records are matched on (source, id); the source defaults to the kind (firm, station,
    ...), so next month's file updates this month's. When ids already belong to records
    another file supplied, the import shows what it would overwrite and asks: overwrite,
    or import under a source name of its own (--source); --yes overwrites without asking.
    """
    from gridmap.ingest.sniff import check_reject_file, check_table_file

    if file.is_file():
        # before pandas is imported or the store opened: refused in milliseconds
        check_table_file(file, encoding)
    from gridmap.ingest.pipeline import default_reject_path, ingest_layer
    from gridmap.ingest.records import RecordKind

    check_reject_file(file, reject_file or default_reject_path(file))

    config = settings()
    unit_kind = None
    record_kind = kind
    if kind not in {k.value for k in RecordKind}:
        unit_kind = UnitKind.parse(kind)
        record_kind = RecordKind.UNIT.value
    read_options: dict[str, Any] = {
        "layer": layer,
        "crs": crs,
        "encoding": encoding,
        "lon_col": lon_col,
        "lat_col": lat_col,
        "id_col": id_col,
        "name_col": name_col,
        "columns": parse_mapping(map_),
        "unit_kind": unit_kind,
        "sheet": sheet,
        "header_row": header_row,
        "max_field_chars": config.ingest.max_field_chars,
    }
    while True:
        try:
            with open_store(config) as store:
                report = ingest_layer(
                    store,
                    file,
                    record_kind,
                    source=source,
                    reject_file=reject_file,
                    sync=sync,
                    confirm=_confirm(yes),
                    **read_options,
                )
            break
        except _UseSource as answer:
            source = answer.source
            console.print(f"importing {file.name} as source {source!r}")
    _print_report([report], report.reject_file)
