"""``gridmap coverage``: run, list and compare coverage runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from gridmap.cli._common import (
    MetersOption,
    MinutesOption,
    ModeOption,
    ProfileOption,
    console,
    handle_errors,
    open_store,
    print_table,
    require_positive,
    settings,
)
from gridmap.domain import StationTier
from gridmap.errors import GridmapError

if TYPE_CHECKING:  # the analysis (pandas, GEOS, numba) loads when a command runs
    import geopandas as gpd

    from gridmap.coverage import CoverageResult

app = typer.Typer(
    help="Who is covered, where the blind zones are, how rates change.", no_args_is_help=True
)


def _pct(value: Any) -> str:
    """A rate as a percentage; ``-`` where there is nothing to divide (None or NaN)."""
    if value is None or value != value:
        return "-"
    return f"{100 * float(value):.1f}%"


#: Rows of the rates table: label, count key, rate key (organisational coverage apart first).
SUMMARY_RATES = (
    ("自有党组织 own branch", "own_covered", "own_rate"),
    ("联合党支部 joint branch", "joint_covered", "joint_rate"),
    ("托管 hosted by a hub", "hosted_covered", "hosted_rate"),
    ("组织覆盖率 organisational", "org_covered", "org_rate"),
    ("工作覆盖率 work (instructor)", "work_covered", "work_rate"),
    ("综合覆盖率 combined", "combined_covered", "combined_rate"),
    ("服务覆盖（单位）service, units", "service_covered", "service_rate"),
)
#: Rows of the rates table that are counts only.
SUMMARY_COUNTS = (
    ("应建未建 must have a branch", "must_have_branch"),
    ("空转 idle own branch", "branch_idle"),
    ("闲置组织 idle organisations", "idle_orgs"),
    ("活动未知组织 organisations, activity unknown", "unknown_orgs"),
    ("闲置站点 idle stations", "idle_stations"),
    ("活动未知站点 stations, activity unknown", "unknown_stations"),
    ("盲区 blind zones", "blind_zones"),
    ("远离道路 far from any road", "far_from_road"),
)


def print_summary(result: CoverageResult) -> None:
    """The rates table every coverage run prints."""
    s = result.summary()
    rows = [
        (label, f"{s.get(count, 0)} / {s['units']}", _pct(s.get(rate)))
        for label, count, rate in SUMMARY_RATES
    ]
    rows.insert(
        len(SUMMARY_RATES),
        (
            "服务覆盖（人口）service, population",
            f"{s['population_covered']} / {s['population']}",
            _pct(s["service_population_rate"]),
        ),
    )
    rows += [(label, str(s.get(key, 0)), "") for label, key in SUMMARY_COUNTS]
    title = f"覆盖情况 / coverage as of {result.as_of} ({result.options.mode})"
    if result.run_id is not None:
        title += f", run {result.run_id}"
    print_table(title, ["指标 measure", "数量 count", "比率 %"], rows)


def _added_stations(path: Path | None, at: list[str]) -> gpd.GeoDataFrame | None:
    """Stations for a what-if: from a layer file, and from ``LON,LAT[,TIER[,NAME]]`` options."""
    if path is None and not at:
        return None
    import geopandas as gpd
    from shapely.geometry import Point

    frames: list[gpd.GeoDataFrame] = []
    if path is not None:
        from gridmap.ingest.readers import read_layer
        from gridmap.ingest.records import RecordKind

        result = read_layer(path, RecordKind.STATION)
        if len(result.rejects):
            first = result.rejects["reason"].iloc[0]
            msg = f"{path}: {len(result.rejects)} station rows rejected, first: {first}"
            raise GridmapError(msg)
        frames.append(result.records)
    rows = []
    for i, spec in enumerate(at):
        parts = [p.strip() for p in spec.split(",")]
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            msg = f"--add-at takes LON,LAT[,TIER[,NAME]] in WGS-84, got {spec!r}"
            raise GridmapError(msg) from None
        tier = StationTier.parse(parts[2]).value if len(parts) > 2 and parts[2] else "community"
        name = parts[3] if len(parts) > 3 else f"新增站点 {i + 1}"
        rows.append(
            {
                "source_id": f"what-if-{i + 1}",
                "name": name,
                "tier": tier,
                "last_activity": None,
                "geometry": Point(lon, lat),
            }
        )
    if rows:
        frames.append(gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"))
    if not frames:
        return None
    import pandas as pd

    merged = pd.concat(frames, ignore_index=True)
    merged["source"] = "what-if"
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


@app.command()
@handle_errors
def run(
    mode: ModeOption = "radius",
    profile: ProfileOption = "walk",
    meters: MetersOption = None,
    minutes: MinutesOption = None,
    idle_days: Annotated[
        int | None, typer.Option(help="days without activity before idle", min=1)
    ] = None,
    as_of: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="evaluate as of this date")
    ] = None,
    add_stations: Annotated[
        Path | None, typer.Option(help="what-if: stations from a file (not stored)")
    ] = None,
    add_at: Annotated[
        list[str] | None, typer.Option(help="what-if: a station at LON,LAT[,TIER[,NAME]]")
    ] = None,
    remove_station: Annotated[
        list[str] | None, typer.Option(help="what-if: leave out a station (id or source id)")
    ] = None,
    label: Annotated[str | None, typer.Option(help="a label for the stored run")] = None,
    out: Annotated[
        Path | None, typer.Option(help="write units/cells/areas/blind zones here")
    ] = None,
    fmt: Annotated[
        Literal["csv", "xlsx"], typer.Option("--format", help="csv files or one workbook")
    ] = "csv",
    engine: Annotated[
        Literal["local", "dask"],
        typer.Option(help="local: this process; dask: partitioned by county on a dask cluster"),
    ] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="dask: an existing scheduler, e.g. tcp://10.0.0.5:8786")
    ] = None,
    workers: Annotated[int, typer.Option(help="dask: local cluster worker processes", min=1)] = 2,
    memory_limit: Annotated[
        str, typer.Option(help="dask: memory limit per local worker, e.g. 2GiB")
    ] = "2GiB",
    exchange: Annotated[
        Path | None,
        typer.Option(help="dask: GeoParquet folder every worker can read (default: temporary)"),
    ] = None,
) -> None:
    """Run coverage, print the rates, and store the run (what-if runs are not stored)."""
    require_positive(meters=meters, minutes=minutes)
    from gridmap.coverage import ReachOptions, run_coverage, write_results
    from gridmap.progress import stage_bar

    config = settings()
    rules = config.coverage
    if idle_days is not None:
        rules = rules.model_copy(update={"idle_days": idle_days})
    options = ReachOptions(mode=mode, profile=profile, meters=meters, minutes=minutes)
    added = _added_stations(add_stations, add_at or [])
    what_if = added is not None or bool(remove_station)
    with (
        open_store(config) as store,
        _engine(engine, scheduler, workers, memory_limit, store.url) as client,
        stage_bar("coverage run"),
    ):
        measure = None
        if client is not None:
            from gridmap.scale import distributed_measure

            measure = distributed_measure(client, options, rules, exchange=exchange, store=store)
        result = run_coverage(
            store,
            rules,
            options,
            as_of=as_of.date() if as_of else None,
            add_stations=added,
            remove_stations=remove_station,
            save=not what_if,
            label=label,
            measure=measure,
        )
    print_summary(result)
    if what_if:
        console.print("what-if run: stored data unchanged, run not saved")
    if out is not None:
        for name, path in write_results(result, out, fmt=fmt).items():
            console.print(f"{name}: {path}")


@contextmanager
def _engine(
    engine: str, scheduler: str | None, workers: int, memory_limit: str, url: str
) -> Iterator[Any]:
    """A dask client for ``--engine dask`` (dask imported only here), else None.

    A local cluster's workers get the store's ``url`` (password included) in their
    environment when they start; the tasks carry it without the password.
    """
    if engine != "dask":
        if scheduler is not None:
            msg = "--scheduler needs --engine dask"
            raise GridmapError(msg)
        yield None
        return
    try:
        from gridmap.scale import ClusterOptions, connect
        from gridmap.scale.store_read import PASSWORD_VARIABLE
    except ModuleNotFoundError as exc:
        msg = (
            f"--engine dask needs dask and distributed ({exc.name} is not installed): "
            "install gridmap with the scale extra, pip install 'gridmap[scale]'"
        )
        raise GridmapError(msg) from None

    cluster = ClusterOptions(
        scheduler=scheduler,
        workers=workers,
        memory_limit=memory_limit,
        worker_env={PASSWORD_VARIABLE: url},
    )
    with connect(cluster) as client:
        yield client


#: Largest run id a store can hold (a signed 64-bit integer).
RUN_ID_MAX = 2**63 - 1

#: Short headers for the rates in ``gridmap coverage runs`` (right-aligned: they end in %).
RUN_RATE_HEADERS = {
    "org_rate": "组织 org %",
    "work_rate": "工作 work %",
    "combined_rate": "综合 all %",
    "service_rate": "服务 unit %",
    "service_population_rate": "服务 pop %",
}


@app.command()
@handle_errors
def runs() -> None:
    """List the stored runs with their headline rates."""
    from gridmap.coverage import list_runs

    with open_store() as store:
        frame = list_runs(store)
    columns = ["run", "时间 created", "as of", "label", "mode", *RUN_RATE_HEADERS.values()]
    rows = [
        (
            r["run"],
            f"{r['created_at']:%Y-%m-%d %H:%M}" if r["created_at"] is not None else None,
            r["as_of"],
            r["label"],
            r["mode"],
            *(_pct(r[key]) for key in RUN_RATE_HEADERS),
        )
        for r in frame.to_dict("records")
    ]
    print_table("coverage runs / 覆盖分析记录", columns, rows)


@app.command()
@handle_errors
def compare(
    run_a: Annotated[int, typer.Argument(help="the earlier run", min=1, max=RUN_ID_MAX)],
    run_b: Annotated[int, typer.Argument(help="the later run", min=1, max=RUN_ID_MAX)],
    out: Annotated[
        Path | None, typer.Option(help="write the comparison as an Excel workbook")
    ] = None,
) -> None:
    """What changed between two runs: rate deltas overall and per area, units that changed."""
    from gridmap.coverage import compare_runs

    with open_store() as store:
        comparison = compare_runs(store, run_a, run_b)
    rows = [
        (
            MEASURE_LABELS.get(str(r.key), str(r.key)),
            _fmt(r.a, str(r.key)),
            _fmt(r.b, str(r.key)),
            _fmt(r.delta, str(r.key), signed=True),
        )
        for r in comparison.rates.itertuples()
    ]
    print_table(
        f"覆盖变化 / run {run_a} → run {run_b}",
        ["指标 measure", f"run {run_a}", f"run {run_b}", "变化 Δ"],
        rows,
    )
    console.print(f"{len(comparison.changed_units)} unit changes")
    if out is not None:
        from gridmap._spreadsheet import write_xlsx  # no text cell runs as a formula

        sheets = {"rates": comparison.rates, "areas": comparison.areas}
        write_xlsx(out, {**sheets, "units": comparison.changed_units})
        console.print(f"comparison: {out}")


#: Bilingual names of the measures ``gridmap coverage compare`` prints.
MEASURE_LABELS = {
    "org_rate": "组织覆盖率 organisational",
    "work_rate": "工作覆盖率 work",
    "combined_rate": "综合覆盖率 combined",
    "service_rate": "服务覆盖率（单位）service, units",
    "service_population_rate": "服务覆盖率（人口）service, population",
    "units": "单位数 units",
    "must_have_branch": "应建未建 must have a branch",
    "branch_idle": "空转 idle own branch",
    "own_rate": "自有党组织 own branch",
    "joint_rate": "联合党支部 joint branch",
    "hosted_rate": "托管 hosted by a hub",
    "unknown_orgs": "活动未知组织 organisations, activity unknown",
    "unknown_stations": "活动未知站点 stations, activity unknown",
    "idle_orgs": "闲置组织 idle organisations",
    "service_covered": "服务覆盖单位 units served",
    "population_covered": "服务覆盖人口 people served",
}


def _fmt(value: Any, key: str, *, signed: bool = False) -> str:
    if value is None or value != value:  # missing, or NaN
        return "-"
    if key.endswith("rate"):
        return f"{100 * value:+.1f} pt" if signed else _pct(value)
    count = round(float(value))  # counts come back as floats from the rates frame
    return f"{count:+d}" if signed else str(count)
