"""Ingest into the store on both backends: nothing lost, one transaction, idempotent, history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from gridmap.ingest.pipeline import ingest_layer, ingest_osm
from gridmap.ingest.records import IngestError
from gridmap.store import Store, models

DATA = Path(__file__).parent / "data"


def _unit_names(store: Store) -> dict[str, str | None]:
    with store.session() as s:
        return {u.source_id: u.name for u in s.scalars(select(models.Unit))}


def test_gcj02_csv_loads_with_every_row_accounted_for(store: Store, tmp_path: Path) -> None:
    report = ingest_layer(
        store,
        DATA / "guixi_communities_gcj02.csv",
        "unit",
        crs="gcj02",
        reject_file=tmp_path / "rejects.csv",
    )
    assert (report.n_read, report.loaded, report.rejected) == (16, 16, 0)
    assert report.reject_file is None
    names = _unit_names(store)
    assert names["n5217402618"] == "炼厂社区"
    assert len(names) == 16


def test_rejected_rows_go_to_the_reject_file_with_reasons(store: Store, tmp_path: Path) -> None:
    reject_file = tmp_path / "swapped.rejects.csv"
    report = ingest_layer(store, DATA / "units_swapped.csv", "unit", reject_file=reject_file)
    assert report.n_read == report.loaded + report.rejected
    assert report.rejected >= 3
    assert report.reject_file == reject_file
    rejects = pd.read_csv(reject_file, encoding="utf-8-sig")
    assert len(rejects) == report.rejected
    reasons = " | ".join(rejects["reason"])
    assert "swapped" in reasons
    assert "bogus" in reasons
    assert "名称" in rejects.columns  # original fields kept
    assert store.counts()["unit"] == report.loaded


def test_reimport_is_idempotent_and_changes_are_kept_in_history(
    store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "stations.csv"
    source.write_text(
        "source_id,name,tier,lon,lat,last_activity\n"
        "S1,炼厂社区党群服务站,community,117.23912,28.318058,2026-10-01\n"
        "S2,花园社区党群服务站,community,117.24001,28.290485,2026-09-01\n",
        encoding="utf-8",
    )
    first = ingest_layer(store, source, "station")
    again = ingest_layer(store, source, "station")
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    source.write_text(
        "source_id,name,tier,lon,lat,last_activity\n"
        "S1,炼厂社区党群服务中心,community,117.23912,28.318058,2026-11-01\n"
        "S2,花园社区党群服务站,community,117.24001,28.290485,2026-09-01\n",
        encoding="utf-8",
    )
    changed = ingest_layer(store, source, "station")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    assert store.counts()["station"] == 2
    with store.session() as s:
        history = [
            log.detail
            for log in s.scalars(select(models.AuditLog).where(models.AuditLog.action == "update"))
        ]
    assert history == [
        {
            "source": "station",
            "source_id": "S1",
            "origin": f"{tmp_path.name}/stations.csv",
            "before": {"name": "炼厂社区党群服务站", "last_activity": "2026-10-01"},
            "after": {"name": "炼厂社区党群服务中心", "last_activity": "2026-11-01"},
            "before_by": {
                "name": f"{tmp_path.name}/stations.csv",
                "last_activity": f"{tmp_path.name}/stations.csv",
            },
        }
    ]


def test_unreadable_file_leaves_the_store_as_it_was(store: Store) -> None:
    ingest_layer(store, DATA / "guixi_communities_gcj02.csv", "unit", crs="gcj02")
    before = store.counts()
    with pytest.raises(IngestError):
        ingest_layer(store, DATA / "cells_truncated.geojson", "cell")
    assert store.counts() == before


def test_failure_in_the_middle_of_a_load_rolls_everything_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridmap.ingest import load

    calls = {"n": 0}
    real = load._replace_links

    def crash_after_rows_are_written(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # Ctrl-C half-way through

    ingest_layer(store, DATA / "guixi_communities_gcj02.csv", "unit", crs="gcj02")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "source_id,name,kind,covers\nO1,炼厂社区党支部,branch,n5217402618\n", encoding="utf-8"
    )
    before = store.counts()
    monkeypatch.setattr(load, "_replace_links", crash_after_rows_are_written)
    with pytest.raises(KeyboardInterrupt):
        ingest_layer(store, orgs, "org")
    assert calls["n"] == 1
    assert store.counts() == before
    with store.session() as s:
        assert s.scalars(select(models.OrgUnit)).all() == []


def test_unknown_references_are_rejected_not_dropped(store: Store, tmp_path: Path) -> None:
    ingest_layer(store, DATA / "guixi_communities_gcj02.csv", "unit", crs="gcj02")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "source_id,name,kind,covers\n"
        "O1,炼厂社区党支部,branch,n5217402618\n"
        "O2,不存在单位党支部,branch,n999\n",
        encoding="utf-8",
    )
    report = ingest_layer(store, orgs, "org", reject_file=tmp_path / "r.csv")
    assert (report.n_read, report.loaded, report.rejected) == (2, 1, 1)
    assert report.reject_file is not None
    assert "n999" in pd.read_csv(report.reject_file)["reason"].iloc[0]
    with store.session() as s:
        links = s.execute(select(models.OrgUnit.org_id, models.OrgUnit.unit_id)).all()
    assert len(links) == 1


def test_gbk_shapefile_names_round_trip_through_the_store(store: Store, tmp_path: Path) -> None:
    for part in DATA.glob("guixi_areas_gbk.*"):
        shutil.copy(part, tmp_path / part.name)
    report = ingest_layer(store, tmp_path / "guixi_areas_gbk.shp", "area")
    assert report.rejected == 0
    with store.session() as s:
        names = set(s.scalars(select(models.AdminArea.name)))
    assert {"花园街道", "炼厂社区"} <= names


def test_osm_extract_loads_every_feature_or_reports_it(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    reports = ingest_osm(
        store, shared_data / "osm" / "jiangxi_guixi.osm.pbf", reject_file=tmp_path / "osm.csv"
    )
    by_kind = {r.kind.value: r for r in reports}
    assert by_kind["road"].loaded == 176
    counts = store.counts()
    assert counts["road"] == 176
    assert counts["unit"] == 186  # 165 buildings + 16 communities + 4 villages + 1 park
    assert (
        reports.reject_file is not None and len(pd.read_csv(reports.reject_file)) == 11
    )  # incomplete relations
    again = ingest_osm(
        store, shared_data / "osm" / "jiangxi_guixi.osm.pbf", reject_file=tmp_path / "o.csv"
    )
    assert all(r.inserted == 0 and r.updated == 0 for r in again)
