"""Coordinates that parse but lie far away: swapped pairs and strays are rejected.

The case seen: a Helsinki-region firm written as ``60.522079, 26.963671`` (longitude and
latitude exchanged) loaded, landed in Iran 4,500 km away and shifted the projected zone.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from gridmap.ingest import read_layer
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

#: Firms along the Gulf of Finland (lon, lat), as a department list would hold them.
FINNISH_FIRMS = [
    ("Helsinki Oy", 24.9384, 60.1699),
    ("Espoo Oy", 24.6559, 60.2055),
    ("Vantaa Oy", 25.0378, 60.2934),
    ("Porvoo Oy", 25.6651, 60.3932),
    ("Kotka Oy", 26.9458, 60.4664),
    ("Hamina Oy", 27.1979, 60.5697),
]


def _csv(path: Path, rows: list[tuple[str, float, float]]) -> Path:
    lines = ["name,kind,lon,lat"] + [f"{name},firm,{lon},{lat}" for name, lon, lat in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_swapped_pair_among_the_files_rows_is_rejected_as_swapped(tmp_path: Path) -> None:
    rows = [*FINNISH_FIRMS, ("Kymi Oy", 60.522079, 26.963671), ("Stray Oy", 117.2, 28.2)]

    result = read_layer(_csv(tmp_path / "firms.csv", rows), "unit")

    reasons = dict(zip(result.rejects["name"], result.rejects["reason"], strict=True))
    assert set(reasons) == {"Kymi Oy", "Stray Oy"}
    assert reasons["Kymi Oy"].startswith("疑似经纬度颠倒 / longitude and latitude look swapped")
    assert "the other rows of the file" in reasons["Kymi Oy"]
    assert reasons["Stray Oy"].startswith("远离其他数据 / far from the other rows")
    assert len(result.records) == len(FINNISH_FIRMS)


def test_a_small_file_is_checked_against_the_stores_areas(store: Store, tmp_path: Path) -> None:
    """Two rows are too few to judge by spread; the store's township decides (Loviisa lies
    outside it, 40 km west, and is kept)."""
    area = {
        "type": "Feature",
        "properties": {"name": "Kotka", "level": "township", "code": "246"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[26.8, 60.4], [27.1, 60.4], [27.1, 60.6], [26.8, 60.6], [26.8, 60.4]]],
        },
    }
    areas = tmp_path / "areas.geojson"
    areas.write_text(json.dumps({"type": "FeatureCollection", "features": [area]}))
    ingest_layer(store, areas, "area")
    firms = _csv(
        tmp_path / "firms.csv",
        [
            ("Kotka Oy", 26.9458, 60.4664),
            ("Kymi Oy", 60.522079, 26.963671),
            ("Loviisa Oy", 26.2348, 60.4567),
        ],
    )

    report = ingest_layer(store, firms, "unit", reject_file=tmp_path / "rejects.csv")

    reasons = dict(zip(report.rejects["name"], report.rejects["reason"], strict=True))
    assert (report.n_read, report.loaded, report.rejected) == (3, 2, 1)
    assert "look swapped" in reasons["Kymi Oy"]
    assert "the store's areas and cells" in reasons["Kymi Oy"]
    with store.session() as s:
        assert set(s.scalars(select(models.Unit.name))) == {"Kotka Oy", "Loviisa Oy"}


def test_areas_of_another_place_are_not_held_to_the_store(store: Store, tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "level": "township", "code": code},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]],
            },
        }
        for name, code, x, y in (("Kotka", "246", 26.8, 60.4), ("贵溪", "360681", 117.2, 28.2))
    ]
    for number, feature in enumerate(features):
        path = tmp_path / f"area{number}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        report = ingest_layer(store, path, "area")
        assert report.rejected == 0
