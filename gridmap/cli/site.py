"""``gridmap site``: where new stations close the blind zones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

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

app = typer.Typer(help="Recommend sites for new service stations.", no_args_is_help=True)


def print_recommendation(rec: object) -> None:
    """The ranked sites and the coverage before and after."""
    from gridmap.siting.recommend import Recommendation

    assert isinstance(rec, Recommendation)
    r = rec.result
    rows = [
        (
            int(s.rank),
            s.name,
            s.source,
            f"{s.marginal_gain:.0f}",
            f"{100 * s.coverage_rate:.1f}%",
            f"{s.lon:.6f}, {s.lat:.6f}",
        )
        for s in rec.sites.itertuples()
    ]
    print_table(
        f"推荐站点 / recommended sites ({r.model}, {r.method}, {r.status})",
        ["rank", "name", "source", f"gain ({rec.weight})", "coverage after", "lon, lat"],
        rows,
    )
    gap = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
    console.print(
        f"coverage by {rec.weight}: {100 * r.coverage_before:.1f}% → {100 * r.coverage_after:.1f}% "
        f"with {r.n_sites} new sites; gap to bound {gap}; {len(rec.uncoverable)} units no "
        f"candidate reaches; solved in {r.solve_seconds:.2f} s"
    )


@app.command()
@handle_errors
def recommend(
    k: Annotated[
        int | None, typer.Option("--k", help="number of new sites (maximal covering)", min=1)
    ] = None,
    cover_all: Annotated[
        bool, typer.Option(help="fewest sites that cover all coverable demand (set covering)")
    ] = False,
    mode: ModeOption = "radius",
    profile: ProfileOption = "walk",
    meters: MetersOption = None,
    minutes: MinutesOption = None,
    weight: Annotated[
        Literal["population", "households", "members", "units"], typer.Option(help="demand weight")
    ] = "population",
    candidates: Annotated[
        Path | None, typer.Option(help="extra candidate sites (any layer)")
    ] = None,
    exclude: Annotated[Path | None, typer.Option(help="polygons where no site may go")] = None,
    method: Annotated[
        Literal["exact", "greedy"], typer.Option(help="MILP (HiGHS) or greedy")
    ] = "exact",
    capacity: Annotated[
        float | None, typer.Option(help="demand weight one new site can serve (e.g. people)")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="seconds; best solution found then")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write sites.csv / sites.geojson here")] = None,
) -> None:
    """Recommend new sites in order, each with the demand it adds."""
    require_positive(meters=meters, minutes=minutes, capacity=capacity, time_limit=time_limit)
    from gridmap.coverage import ReachOptions
    from gridmap.progress import stage_bar
    from gridmap.siting.recommend import recommend_sites

    config = settings()
    options = ReachOptions(mode=mode, profile=profile, meters=meters, minutes=minutes)
    with open_store(config) as store, stage_bar("site recommend"):
        rec = recommend_sites(
            store,
            config.coverage,
            options,
            k=k,
            cover_all=cover_all,
            weight=weight,
            candidates=candidates,
            exclude=exclude,
            method=method,
            time_limit_s=time_limit,
            capacity=capacity,
        )
    print_recommendation(rec)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        from gridmap._spreadsheet import write_csv  # no text cell runs as a formula

        write_csv(rec.sites.drop(columns="geometry"), out / "sites.csv")
        rec.sites.to_file(out / "sites.geojson", driver="GeoJSON")
        write_csv(rec.uncoverable, out / "uncoverable.csv")
        console.print(f"sites: {out / 'sites.csv'}, {out / 'sites.geojson'}")
