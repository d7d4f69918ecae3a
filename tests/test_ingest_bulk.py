"""Bulk writes (issue 16): one statement per batch, the spatial index kept, the promises kept."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import event, select, text

from gridmap.grid.stored import assign_units
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

N_UNITS = 3000  # above the size from which SpatiaLite's index is filled after the insert
WEST, SOUTH, SIDE = 117.20, 28.29, 0.01  # a 10 x 10 grid of 0.001-degree cells


def _units_csv(path: Path, n: int = N_UNITS, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    lon = WEST + rng.uniform(0.0001, SIDE - 0.0001, n)
    lat = SOUTH + rng.uniform(0.0001, SIDE - 0.0001, n)
    pd.DataFrame(
        {
            "id": [f"U{i}" for i in range(n)],
            "name": [f"楼{i}" for i in range(n)],
            "kind": "building",
            "households": rng.integers(1, 100, n),
            "lon": lon,
            "lat": lat,
        }
    ).to_csv(path, index=False)
    return path


def _cells_geojson(path: Path) -> Path:
    step = SIDE / 10
    features = [
        {
            "type": "Feature",
            "properties": {"code": f"C{i:02d}{j:02d}"},
            "geometry": shapely.geometry.mapping(
                shapely.box(
                    WEST + i * step, SOUTH + j * step, WEST + (i + 1) * step, SOUTH + (j + 1) * step
                )
            ),
        }
        for i in range(10)
        for j in range(10)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@contextmanager
def _statements(store: Store) -> Iterator[list[tuple[str, int]]]:
    """Every statement sent to the database in the block, with its number of parameter sets."""
    seen: list[tuple[str, int]] = []

    def record(
        _c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        seen.append((" ".join(statement.split()), len(parameters) if many else 1))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def _writes(seen: list[tuple[str, int]], verb: str, table: str) -> list[tuple[str, int]]:
    """The statements that ``verb`` (INSERT INTO, UPDATE) the table itself."""
    pattern = re.compile(rf'^{verb} "?{table}"?[ (]', re.IGNORECASE)
    return [s for s in seen if pattern.match(s[0])]


def _triggers(store: Store) -> list[tuple[str, str]]:
    if store.engine.dialect.name != "sqlite":
        return []
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return sorted((str(n), str(q)) for n, q in found)


def test_units_are_inserted_in_one_statement(store: Store, tmp_path: Path) -> None:
    with _statements(store) as seen:
        report = ingest_layer(store, _units_csv(tmp_path / "units.csv"), "unit")

    assert report.inserted == N_UNITS
    inserts = _writes(seen, "INSERT INTO", "unit")
    # one executemany statement (SQLite), or none at all: PostGIS takes the rows by COPY
    assert sum(n for _, n in inserts) in (0, N_UNITS)
    assert len(inserts) <= 1
    with store.engine.connect() as conn:
        stored = conn.execute(select(models.Unit.households).order_by(models.Unit.id)).scalars()
        households = pd.read_csv(tmp_path / "units.csv")["households"].tolist()
        assert list(stored) == households


def test_the_spatial_index_holds_every_bulk_inserted_unit_and_later_ones(
    store: Store, tmp_path: Path
) -> None:
    triggers = _triggers(store)
    ingest_layer(store, _units_csv(tmp_path / "units.csv"), "unit")
    assert _triggers(store) == triggers
    ingest_layer(store, _units_csv(tmp_path / "more.csv", n=5, seed=2), "unit", source="more")

    probe = "POLYGON((117.2 28.29, 117.205 28.29, 117.205 28.295, 117.2 28.295, 117.2 28.29))"
    with store.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM unit")).scalar()
        exact = set(
            conn.execute(
                text("SELECT id FROM unit WHERE ST_Intersects(geom, ST_GeomFromText(:p, 4326))"),
                {"p": probe},
            ).scalars()
        )
        if store.engine.dialect.name == "sqlite":
            assert conn.execute(text("SELECT CheckSpatialIndex('unit', 'geom')")).scalar() == 1
            indexed = set(
                conn.execute(
                    text(
                        "SELECT pkid FROM idx_unit_geom WHERE xmin <= 117.205 AND xmax >= 117.2 "
                        "AND ymin <= 28.295 AND ymax >= 28.29"
                    )
                ).scalars()
            )
            assert conn.execute(text("SELECT count(*) FROM idx_unit_geom")).scalar() == total
        else:  # the GiST index answers the && query
            indexed = set(
                conn.execute(
                    text("SELECT id FROM unit WHERE geom && ST_GeomFromText(:p, 4326)"),
                    {"p": probe},
                ).scalars()
            )
    assert total == N_UNITS + 5
    # the index (float32 boxes) finds every unit inside, and only units at the probe's edge more
    assert exact <= indexed
    assert len(exact) > 0
    assert len(indexed - exact) <= 5


def test_units_move_into_cells_in_one_update(store: Store, tmp_path: Path) -> None:
    ingest_layer(store, _units_csv(tmp_path / "units.csv"), "unit")
    ingest_layer(store, _cells_geojson(tmp_path / "cells.geojson"), "cell")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE unit SET cell_id = NULL"))

    triggers = _triggers(store)
    with _statements(store) as seen:
        report = assign_units(store)

    assert _triggers(store) == triggers  # lifted for the update, then back

    assert report.assigned == N_UNITS
    updates = _writes(seen, "UPDATE", "unit")
    assert len(updates) == 1
    # SQLite: one executemany over the moved units; PostGIS: one UPDATE ... FROM the
    # temporary table the moves were copied into
    assert updates[0][1] == (N_UNITS if store.engine.dialect.name == "sqlite" else 1)
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT count(*) FROM unit u JOIN grid_cell c ON c.id = u.cell_id "
                "WHERE ST_Within(u.geom, c.geom)"
            )
        ).scalar()
    assert rows == N_UNITS


def test_only_the_units_whose_cell_changed_are_written(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_layer(store, _units_csv(tmp_path / "units.csv"), "unit")
    ingest_layer(store, _cells_geojson(tmp_path / "cells.geojson"), "cell")
    with store.engine.begin() as conn:
        right = dict(conn.execute(text("SELECT id, cell_id FROM unit")).all())
        wrong = sorted(right)[:7]
        other = {u: next(c for c in sorted(set(right.values())) if c != right[u]) for u in wrong}
        for unit, cell in other.items():
            conn.execute(text("UPDATE unit SET cell_id = :c WHERE id = :u"), {"c": cell, "u": unit})
        conn.execute(text("UPDATE unit SET cell_id = NULL WHERE id = :u"), {"u": sorted(right)[-1]})

    with _statements(store) as seen, caplog.at_level(logging.INFO, "gridmap.grid.stored"):
        report = assign_units(store)

    assert report.assigned == N_UNITS
    assert "moved 8 units to another cell" in caplog.text
    updates = _writes(seen, "UPDATE", "unit")
    assert len(updates) == 1
    assert updates[0][1] == (8 if store.engine.dialect.name == "sqlite" else 1)
    with store.engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, cell_id FROM unit")).all()) == right

    with _statements(store) as seen:
        assign_units(store)  # nothing left to move: nothing written
    assert _writes(seen, "UPDATE", "unit") == []
