"""``gridmap map`` and ``gridmap report``: maps a planner carries offline, workbooks to file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gridmap.cli._common import console, handle_errors, open_store, settings

if TYPE_CHECKING:
    from gridmap.settings import Settings

app = typer.Typer(
    help="Interactive HTML maps (one offline file) and static images.", no_args_is_help=True
)

RunOption = Annotated[
    int | None,
    typer.Option("--run", help="a stored coverage run (default: the latest)", min=1, max=2**63 - 1),
]
Lang = Literal["zh", "en"]
LangOption = Annotated[
    Lang | None,
    typer.Option(help="labels: Simplified Chinese or English (default: GRIDMAP_LANG, zh)"),
]


#: The unit columns :func:`gridmap.maps.from_coverage.map_data` reads of a run (a test
#: draws the map of a run read with only these and of the whole run: the same layers).
MAP_UNIT_COLUMNS = (
    "unit_id",
    "name",
    "kind",
    "cell_code",
    "org_status",
    "must_have_branch",
    "service_covered",
    "nearest_station_id",
    "nearest_station_m",
    "party_members",
    "geometry",
)


def _prepared(
    config: Settings, run: int | None, with_sites: bool, unit_columns: tuple[str, ...]
) -> tuple[object, object]:
    from gridmap.coverage.stored_run import load_run

    with open_store(config) as store:
        result = load_run(store, config.coverage, run, unit_columns=unit_columns)
        sites = _latest_sites(store) if with_sites else None
    return result, sites


def _latest_sites(store: object) -> object:
    from gridmap.siting.stored import latest_recommendation

    return latest_recommendation(store)  # type: ignore[arg-type]


@app.command("export")
@handle_errors
def export(
    out: Annotated[Path, typer.Argument(help="the HTML file to write")],
    run: RunOption = None,
    basemap: Annotated[
        Literal["none", "osm", "tianditu_vec", "tianditu_img", "amap"],
        typer.Option(help="background tiles (amap shifts every overlay to GCJ-02)"),
    ] = "osm",
    lang: LangOption = None,
    include_personal: Annotated[
        bool, typer.Option(help="include grid workers' phone numbers")
    ] = False,
) -> None:
    """Write the map of a coverage run as ONE self-contained HTML file (no CDN needed)."""
    from gridmap.maps import export_html
    from gridmap.maps._basemaps import check_basemap
    from gridmap.maps.from_coverage import map_data

    config = settings()
    key = config.tianditu_key.get_secret_value() if config.tianditu_key else None
    check_basemap(basemap, key)  # before the run is read
    labels: Lang = lang or config.lang
    result, sites = _prepared(config, run, with_sites=True, unit_columns=MAP_UNIT_COLUMNS)
    data = map_data(result, sites=sites, lang=labels)  # type: ignore[arg-type]
    path = export_html(
        data, out, lang=labels, basemap=basemap, tianditu_key=key, include_personal=include_personal
    )
    console.print(f"map: {path} ({path.stat().st_size / 1e6:.2f} MB)")


@app.command("image")
@handle_errors
def image(
    out: Annotated[Path, typer.Argument(help="the PNG file to write")],
    run: RunOption = None,
    lang: LangOption = None,
    dpi: Annotated[int, typer.Option(help="resolution, dots per inch", min=30, max=1200)] = 150,
) -> None:
    """Draw a static map of a coverage run for documents (no network needed)."""
    from gridmap.maps import render_png
    from gridmap.maps.from_coverage import map_data

    config = settings()
    labels: Lang = lang or config.lang
    result, sites = _prepared(config, run, with_sites=True, unit_columns=MAP_UNIT_COLUMNS)
    data = map_data(result, sites=sites, lang=labels)  # type: ignore[arg-type]
    path = render_png(data, out, lang=labels, dpi=dpi)
    console.print(f"image: {path}")


@handle_errors
def report(
    out: Annotated[Path, typer.Option(help="the .xlsx workbook to write")],
    run: RunOption = None,
    lang: LangOption = None,
) -> None:
    """Write the workbook: roll-up, 应建未建, idle organisations, blind zones, worker sheets."""
    from gridmap.report import UNIT_COLUMNS, write_report

    config = settings()
    result, _ = _prepared(config, run, with_sites=False, unit_columns=UNIT_COLUMNS)
    path = write_report(result, out, lang=lang or config.lang)  # type: ignore[arg-type]
    console.print(f"report: {path}")
