"""Column-wise ingest (issue 16): the same promises, decided for whole columns at once.

A re-import decides which rows change nothing for all rows at once and merges only the
others one by one; new rows get their provenance built per column; a bulk insert packs
the spatial index (SpatiaLite) or rebuilds it (PostGIS) and a failure leaves the store,
its triggers and its index as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select, text

import gridmap.ingest._plan as plan_module
from gridmap.errors import StoreError
from gridmap.ingest import _bulk, load
from gridmap.ingest._headers import read_provenance
from gridmap.ingest.pipeline import ingest_layer
from gridmap.ingest.provenance import (
    decoded,
    first,
    first_stored,
    parse_stored,
    present_patterns,
)
from gridmap.store import Store, models, table_of

N = 3000  # above the size from which inserts go in bulk and the index is built after
WEST, SOUTH = 117.20, 28.29


def _frame(n: int = N, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"U{i}" for i in range(n)],
            "name": [f"楼{i}" for i in range(n)],
            "kind": "building",
            "households": rng.integers(1, 100, n),
            "lon": np.round(WEST + rng.uniform(0.0001, 0.0099, n), 6),
            "lat": np.round(SOUTH + rng.uniform(0.0001, 0.0099, n), 6),
        }
    )


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The source ids of the rows merged one by one (``provenance.merge`` calls)."""
    seen: list[str] = []
    original = plan_module.merge

    def counted(old: Any, provenance: Any, new: Any, **kwargs: Any) -> Any:
        seen.append(str(new.get("name")))
        return original(old, provenance, new, **kwargs)

    monkeypatch.setattr(plan_module, "merge", counted)
    yield seen


def _provenance(store: Store, source: str = "unit") -> dict[str, Any]:
    """Each record's provenance, decoded, by source id."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(models.Unit.id, models.Unit.source_id).where(models.Unit.source == source)
        ).all()
        decoded = read_provenance(conn, table_of(models.Unit), [i for i, _ in rows])
        return {str(sid): decoded[i] for i, sid in rows}


def _audits(store: Store, action: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(models.AuditLog.detail).where(
                models.AuditLog.action == action, models.AuditLog.entity == "unit"
            )
        )
        return [dict(d) for (d,) in rows]


def test_stored_provenance_decodes_to_first_for_every_row() -> None:
    columns: dict[str, list[Any]] = {
        "kind": ["building", "firm", None, "building"],
        "name": ["金港1号楼", None, "b%s", "c"],
        "households": [1, None, 3, 0],
        "established": [dt.date(2020, 1, 1), None, None, None],
        "covers": [["U1"], [], None, ["U2", "U3"]],
        "geom": [shapely.Point(117.2, 28.3), None, shapely.box(0, 0, 1, 1), None],
    }
    at = "2026-12-01T09:00:00"
    for origin in ("月报/企业名单_#年#月.csv", 'a%s/b%%"\\.csv'):
        patterns = present_patterns(columns, range(4), origin=origin, at=at)
        ids = {header: 10 + n for n, header in enumerate(patterns)}
        headers = {i: json.loads(h) for h, i in ids.items()}
        texts = first_stored(columns, origin=origin, at=at, header_ids=ids)
        for i, made in enumerate(texts):
            row = {k: v[i] for k, v in columns.items()}
            header_id, digests = parse_stored(made)
            assert decoded(headers[header_id], digests) == first(row, origin=origin, at=at)
        assert len(texts[0]) == len("13:") + 8 * 6  # six digests of 6 bytes in base64


def test_reimporting_the_same_file_merges_no_row_and_changes_nothing(
    store: Store, tmp_path: Path, merges: list[str]
) -> None:
    file = _write(_frame(), tmp_path / "town" / "units.csv")
    ingest_layer(store, file, "unit")
    before = _provenance(store)
    merges.clear()

    again = ingest_layer(store, file, "unit")

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, N)
    assert merges == []  # decided for the whole column, not record by record
    assert _provenance(store) == before
    assert _audits(store, "update") == []


def test_a_changed_large_file_updates_only_its_changed_rows_with_history(
    store: Store, tmp_path: Path, merges: list[str]
) -> None:
    frame = _frame()
    ingest_layer(store, _write(frame, tmp_path / "town" / "units.csv"), "unit")
    changed = frame.copy()
    changed.loc[10, "households"] = 500
    changed["households"] = changed["households"].astype("Int64")
    changed.loc[20, "households"] = pd.NA  # this file set it: emptying it clears it
    changed.loc[30, "lon"] = round(float(changed.loc[30, "lon"]) + 0.001, 6)
    merges.clear()

    report = ingest_layer(store, _write(changed, tmp_path / "town" / "units.csv"), "unit")

    assert (report.inserted, report.updated, report.unchanged) == (0, 3, N - 3)
    assert sorted(merges) == ["楼10", "楼20", "楼30"]  # only the rows that differ
    history = {d["source_id"]: d for d in _audits(store, "update")}
    assert history["U10"]["before"] == {"households": int(frame.loc[10, "households"])}
    assert history["U10"]["after"] == {"households": 500}
    assert history["U20"]["after"] == {"households": None}
    assert set(history["U30"]["after"]) == {"geom"}
    with store.engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(models.Unit.source_id, models.Unit.households).where(
                    models.Unit.source_id.in_(["U10", "U20", "U11"])
                )
            ).all()
        )
        x = conn.execute(text("SELECT ST_X(geom) FROM unit WHERE source_id = 'U30'")).scalar()
    assert stored == {"U10": 500, "U20": None, "U11": int(frame.loc[11, "households"])}
    assert x == pytest.approx(float(changed.loc[30, "lon"]))


def _history(store: Store, source: str) -> dict[str, Any]:
    """Each record's provenance with its time stamps left out, by source id."""
    stamp = re.compile(r'"at": "[^"]*"')
    return {k: stamp.sub('"at": ""', json.dumps(v)) for k, v in _provenance(store, source).items()}


def test_the_column_decision_equals_merging_every_row(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two origins, a later value from the other, emptied and re-supplied values: the rows
    decided for the whole column end exactly as merging each row would leave them."""
    first_file = _frame()
    other = first_file.copy()
    other.loc[:99, "households"] = 7  # another file's later value for 100 units
    other.loc[100:199, "name"] = "改名"
    again = first_file.copy()
    again["households"] = again["households"].astype("Int64")
    again.loc[50:59, "households"] = pd.NA
    again.loc[150:159, "name"] = "又改名"
    again.loc[300:309, "households"] = 99
    yes = lambda _: True  # noqa: E731 - the other file may overwrite

    for source in ("column", "merged"):
        ingest_layer(store, _write(first_file, tmp_path / "a" / "units.csv"), "unit", source=source)
        ingest_layer(
            store, _write(other, tmp_path / "b" / "units.csv"), "unit", source=source, confirm=yes
        )
    reports = {
        "column": ingest_layer(
            store, _write(again, tmp_path / "a" / "units.csv"), "unit", source="column", confirm=yes
        )
    }
    monkeypatch.setattr(
        plan_module,
        "unchanged_rows",
        lambda existing, matched, *a, **k: np.zeros(len(matched), bool),
    )
    reports["merged"] = ingest_layer(
        store, _write(again, tmp_path / "a" / "units.csv"), "unit", source="merged", confirm=yes
    )

    column, merged = reports["column"], reports["merged"]
    assert (column.updated, column.unchanged) == (merged.updated, merged.unchanged)
    assert column.updated > 0
    assert column.unchanged > N - 400
    assert _history(store, "column") == _history(store, "merged")
    with store.engine.connect() as conn:
        values = {
            source: sorted(
                conn.execute(
                    select(models.Unit.source_id, models.Unit.name, models.Unit.households).where(
                        models.Unit.source == source
                    )
                ).all()
            )
            for source in ("column", "merged")
        }
    assert values["column"] == values["merged"]


def _index_state(store: Store) -> tuple[int, Any]:
    """Units indexed, and the index's own check (SQLite) or its definition (PostGIS)."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            count = conn.execute(text("SELECT count(*) FROM idx_unit_geom")).scalar()
            check = conn.execute(text("SELECT rtreecheck('idx_unit_geom')")).scalar()
            return int(count or 0), check
        count = conn.execute(
            text("SELECT count(*) FROM unit WHERE geom && ST_MakeEnvelope(117, 28, 118, 29, 4326)")
        ).scalar()
        found = conn.execute(
            text(
                "SELECT indexdef FROM pg_indexes "
                "WHERE tablename = 'unit' AND indexdef LIKE '%gist%'"
            )
        ).scalars()
        return int(count or 0), sorted(found)


def _triggers(store: Store) -> list[tuple[str, str]]:
    if store.engine.dialect.name != "sqlite":
        return []
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return sorted((str(n), str(q)) for n, q in found)


def test_a_bulk_insert_rebuilds_the_index_and_a_failed_one_leaves_it_as_it_was(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "REBUILD_GIST_ROWS", 1000)  # PostGIS: rebuild at this size too
    triggers = _triggers(store)
    ingest_layer(store, _write(_frame(), tmp_path / "a" / "units.csv"), "unit", source="a")
    indexed, check = _index_state(store)
    assert indexed == N
    assert check == "ok" or any("gist (geom)" in d for d in check)
    assert _triggers(store) == triggers

    def fail(*args: Any, **kwargs: Any) -> None:
        raise StoreError("the disk is full")

    monkeypatch.setattr(load, "_check_geometries", fail)  # after the insert and the index
    bigger = _frame(n=2 * N, seed=2).assign(id=lambda f: "V" + f["id"])
    with pytest.raises(StoreError, match="disk is full"):
        ingest_layer(store, _write(bigger, tmp_path / "b" / "units.csv"), "unit", source="b")

    assert _index_state(store) == (indexed, check)
    assert _triggers(store) == triggers
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit")).scalar() == N


def test_a_large_file_keeps_read_equals_loaded_plus_rejected(store: Store, tmp_path: Path) -> None:
    frame = _frame().astype({"lon": object, "lat": object, "households": object})
    frame.loc[5, ["lon", "lat"]] = [frame.loc[5, "lat"], frame.loc[5, "lon"]]  # swapped
    frame.loc[6, "households"] = "很多"
    frame.loc[7, "lon"] = ""
    frame.loc[8, "id"] = "U9"  # the same id as the next row
    reject_file = tmp_path / "rejects.csv"

    report = ingest_layer(
        store, _write(frame, tmp_path / "units.csv"), "unit", reject_file=reject_file
    )

    assert report.n_read == N == report.loaded + report.rejected
    rejects = pd.read_csv(reject_file, dtype=str, encoding="utf-8-sig")
    reasons = dict(zip(rejects["id"], rejects["reason"], strict=True))
    assert set(reasons) == {"U5", "U6", "U7", "U9"}
    assert "swapped" in reasons["U5"]
    assert "很多" in reasons["U6"]
    assert "empty" in reasons["U7"]
    assert "duplicate source_id 'U9'" in reasons["U9"]
    assert {"id", "name", "kind", "households", "lon", "lat", "reason"} <= set(rejects.columns)
    assert rejects.loc[rejects["id"] == "U6", "households"].item() == "很多"
