"""The map's columns, points and polygons encoded at once: what the page always decoded."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import random
from typing import Any

import numpy as np
import pytest
import shapely
from test_maps_build import _decode_column, _decode_ints

from gridmap.maps._by_cell import packed, unit_chunks
from gridmap.maps._columns import encode_chunks, encode_values
from gridmap.maps._encode import encode_point_chunks, encode_points, encode_polygons, polyline


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _column(kind: str, n: int, rng: random.Random) -> list[Any]:
    choices: dict[str, list[Any]] = {
        # 0.35 and 2.675 sit just below .x5 as binary floats: Python rounds them down
        "numbers": [None, float("nan"), 0.35, 2.675, -0.04, 1e17, 3, True, np.float64(3.25)],
        "flags": [None, True, False],
        "codes": ["360681100001", "360681100002", "360681200001", None],
        "labels": ["社区", "村", "企业", None, "", " 空格 "],
        "names": ["上塘村第1网格", "上塘村第12网格", "下坑村", "ab", "abc", "", 'a"\\\n', "😀名"],
        "nul": ["a\x00", "a\x00b", "a", "\x00", None],
        "mixed": [None, "1", 1, 2.5, "abc", float("nan")],
    }
    return [rng.choice(choices[kind]) for _ in range(n)]


@pytest.mark.parametrize("kind", ["numbers", "flags", "codes", "labels", "names", "nul", "mixed"])
def test_a_column_cut_into_chunks_is_each_chunk_encoded_alone(kind: str) -> None:
    rng = random.Random(kind)
    for _ in range(200):
        n = rng.randint(0, 40)
        values = _column(kind, n, rng)
        bounds = [0, *sorted(rng.randint(0, n) for _ in range(rng.randint(0, 5))), n]
        expected = [encode_values(values[a:b]) for a, b in itertools.pairwise(bounds)]
        assert _text(encode_chunks(values, bounds)) == _text(expected), (values, bounds)


def test_numbers_keep_one_decimal_as_python_rounds_it_and_missing_stays_empty() -> None:
    values = [0.35, 2.675, 0.25, 1234.56, -0.04, 7.0, None, float("nan"), 2, True]
    assert encode_chunks(values, [0, len(values)]) == [
        [0.3, 2.7, 0.2, 1234.6, 0, 7, None, None, 2, 1]
    ]
    steps = np.random.default_rng(1).integers(0, 10**7, 100_000) / 200  # many x.x25, x.x75
    encoded = encode_chunks(steps, [0, len(steps)])[0]
    assert encoded == [int(r) if (r := round(v, 1)).is_integer() else r for v in steps.tolist()]


def test_a_cell_with_no_value_in_a_column_shows_empty_texts() -> None:
    assert encode_chunks([1.5, None, None], [0, 1, 3]) == [[1.5], {"d": [""], "i": [0, 0]}]


def test_units_per_cell_decode_to_their_points_and_values() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    codes = np.sort(rng.choice([f"3606811{i:05d}" for i in range(300)], n)).astype(object)
    names = np.array([f"村{i % 97}第{i}户" for i in range(n)], dtype=object)
    names[::13] = None
    metres = np.round(rng.random(n) * 3000, 1).astype(object)
    metres[::7] = None
    lon, lat = 117 + rng.random(n) * 0.5, 28 + rng.random(n) * 0.5
    chunks = unit_chunks(codes, {"name": names, "m": metres}, lon, lat, 5)
    data = json.loads(gzip.decompress(base64.b64decode(packed(chunks))))
    assert data["codes"] == sorted(set(codes.tolist()))
    start = 0
    for code, chunk in zip(data["codes"], data["chunks"], strict=True):
        end = start + chunk["n"]
        assert set(codes[start:end].tolist()) == {code}
        want_names = ["" if v is None else v for v in names[start:end]]
        assert _decode_column(chunk["cols"]["name"]) == want_names
        decoded = _decode_column(chunk["cols"]["m"])
        assert [None if v in ("", None) else v for v in decoded] == list(metres[start:end])
        xy = np.cumsum(np.reshape(_decode_ints(chunk["xy"]), (-1, 2)), axis=0)
        assert np.array_equal(xy[:, 0], np.rint(lon[start:end] * 1e5))
        assert np.array_equal(xy[:, 1], np.rint(lat[start:end] * 1e5))
        start = end
    assert start == n


def test_points_cut_into_chunks_are_each_chunk_encoded_alone() -> None:
    rng = np.random.default_rng(4)
    lon, lat = 117 + rng.random(1000), 28 + rng.random(1000)
    bounds = np.array([0, 1, 1, 200, 201, 1000])
    got = encode_point_chunks(lon, lat, bounds, 6)
    pairs = itertools.pairwise(bounds)
    assert got == [encode_points(lon[a:b], lat[a:b], 6) for a, b in pairs]


def _reference_polygons(geoms: list[Any], precision: int) -> list[Any]:
    """The encoder as it was, ring by ring: what the page has always decoded."""
    scale, cursor, out = 10.0**precision, [0, 0], []

    def ring_text(coords: Any) -> str | None:
        ring = np.rint(np.asarray(coords)[:, :2] * scale).astype(np.int64)
        if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
            ring = ring[:-1]
        if len(ring) > 1:
            ring = ring[np.r_[True, np.any(ring[1:] != ring[:-1], axis=1)]]
        if len(ring) < 3:
            return None
        deltas = np.diff(ring, axis=0, prepend=[cursor])
        cursor[:] = ring[-1].tolist()
        return polyline(deltas.ravel())

    def parts(geom: Any) -> list[Any]:
        if geom is None or geom.is_empty:
            return []
        if geom.geom_type == "Polygon":
            return [geom]
        if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
            return [p for g in geom.geoms for p in parts(g)]
        return []

    for geom in geoms:
        encoded = []
        for polygon in parts(geom):
            exterior = ring_text(polygon.exterior.coords)
            if exterior is None:
                continue
            holes = [ring_text(h.coords) for h in polygon.interiors]
            encoded.append([exterior, *(h for h in holes if h is not None)])
        one = len(encoded) == 1 and len(encoded[0]) == 1
        out.append(encoded[0][0] if one else encoded)
    return out


def _random_geometry(rng: random.Random) -> Any:
    x, y, size = rng.uniform(117, 118), rng.uniform(28, 29), rng.choice([1e-6, 1e-4, 1e-2])
    blob = shapely.Polygon([(x + size * rng.random(), y + size * rng.random()) for _ in range(9)])
    polygon = blob.buffer(0)
    holed = polygon.buffer(size).difference(shapely.Point(x, y).buffer(size / 5))
    return rng.choice(
        [
            None,
            shapely.Polygon(),
            shapely.Point(x, y),
            polygon,
            holed,
            shapely.box(x, y, x + 1e-7, y + 1e-7),  # collapses to one vertex
            shapely.MultiPolygon([shapely.box(x, y, x + size, y + size), holed]),
            shapely.GeometryCollection([shapely.LineString([(x, y), (0, 0)]), polygon]),
        ]
    )


@pytest.mark.parametrize("precision", [0, 3, 5, 6])
def test_polygons_encoded_at_once_are_what_the_ring_by_ring_encoder_wrote(precision: int) -> None:
    rng = random.Random(precision)
    for _ in range(100):
        geoms = [_random_geometry(rng) for _ in range(rng.randint(0, 25))]
        assert encode_polygons(geoms, precision) == _reference_polygons(geoms, precision)


@pytest.mark.parametrize("digits", [0, 2, 5, 8, 12, 17])
def test_long_runs_of_integers_are_coded_as_value_by_value(digits: int) -> None:
    rng = np.random.default_rng(digits)
    values = rng.integers(-(10**digits), 10**digits + 1, 1000, dtype=np.int64)
    values[::97] = 0
    assert polyline(values) == "".join(polyline([v]) for v in values.tolist())
    assert _decode_ints(polyline(values)) == values.tolist()
