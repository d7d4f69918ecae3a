"""The units of a summed map as typed columns (``_unit_pack``) against the JSON chunks
the page decoded before (``_by_cell.unit_chunks``, read back as the page read them)."""

from __future__ import annotations

import base64
import gzip
import json
import random
from typing import Any

import numpy as np
import pytest
from _synthetic_map import synthetic_map
from test_maps_build import _decode_column, _decode_ints

from gridmap.maps._by_cell import packed, unit_chunks
from gridmap.maps._layers import EncodeOptions, unit_columns
from gridmap.maps._unit_pack import _NAME, _name_parts, pack_units, unpack_units
from gridmap.maps.data import MapData


def realish_map(n_units: int = 12_000, *, seed: int = 5) -> MapData:
    """A synthetic county whose units have the names and gaps of a real one: Chinese
    names with house numbers, names without digits, empty and missing names, NaN
    distances, units in no cell."""
    data = synthetic_map(n_units, n_side=40, seed=seed)
    units = data.layer("units")
    assert units is not None and data.cells is not None
    rng = np.random.default_rng(seed)
    heads = np.array(["金新港", "松北", "下梅金", "湖小桥", "梅溪", "十里村", "B区"], dtype=object)
    tails = np.array(["号楼", "有限公司", "", "组", "号院3栋"], dtype=object)
    number = rng.integers(0, 2_000, n_units)
    names = (
        heads[rng.integers(0, len(heads), n_units)]
        + number.astype(str).astype(object)
        + tails[rng.integers(0, len(tails), n_units)]
    )
    names[::17] = "党群服务中心"  # no number
    names[5::23] = ""
    names[7::29] = None
    names[9::31] = "0"
    names[11::37] = "门牌007号"
    names[13::41] = "x1234567890123"  # more digits than a number holds
    units["name"] = names
    metres = units["nearest_station_m"].to_numpy(dtype=float, copy=True)
    metres[::11] = np.nan
    metres[3::13] = np.inf  # no station reaches it: shown empty
    units["nearest_station_m"] = metres
    station = rng.integers(0, 6_000, n_units).astype(str).astype(object)
    units["nearest_station"] = "党群服务站" + station + "号"
    units.loc[units.index[::19], "nearest_station"] = None
    cell = units["cell_code"].to_numpy(dtype=object, copy=True)
    cell[::53] = None  # units in no cell
    units["cell_code"] = cell
    return MapData(cells=data.cells, units=units, title=data.title)


def realish_units(n_units: int = 12_000, *, seed: int = 5) -> Any:
    return realish_map(n_units, seed=seed).layer("units")


def _shown(value: Any) -> Any:
    """Empty texts and missing values are both shown as '—': compared as None."""
    return None if value in ("", None) else value


def reference_units(
    codes: list[Any], columns: dict[str, Any], lon: Any, lat: Any
) -> dict[str, Any]:
    """:func:`_reference`, public for the browser test."""
    return _reference(codes, columns, lon, lat)


def _reference(codes: list[Any], columns: dict[str, Any], lon: Any, lat: Any) -> dict[str, Any]:
    """Per unit, what the page decoded from the JSON chunks before the typed columns."""
    chunks = unit_chunks(codes, columns, lon, lat, 5)
    data = json.loads(gzip.decompress(base64.b64decode(packed(chunks))))
    out: dict[str, Any] = {"codes": data["codes"], "sizes": [], "x": [], "y": []}
    values: dict[str, list[Any]] = {k: [] for k in columns}
    for chunk in data["chunks"]:
        out["sizes"].append(chunk["n"])
        xy = np.cumsum(np.reshape(_decode_ints(chunk["xy"]), (-1, 2)), axis=0)
        out["x"] += xy[:, 0].tolist()
        out["y"] += xy[:, 1].tolist()
        for key in columns:
            values[key] += [_shown(v) for v in _decode_column(chunk["cols"][key])]
    out["columns"] = values
    return out


def _unpacked(codes: list[Any], columns: dict[str, Any], lon: Any, lat: Any) -> dict[str, Any]:
    got = unpack_units(pack_units(codes, columns, lon, lat, 5))
    return {
        "codes": got["codes"],
        "sizes": got["sizes"].tolist(),
        "x": got["x"].tolist(),
        "y": got["y"].tolist(),
        "columns": {k: [_shown(v) for v in vs] for k, vs in got["columns"].items()},
    }


@pytest.fixture(scope="module")
def county() -> tuple[list[Any], dict[str, Any], Any, Any, int]:
    return unit_columns(realish_units(), "zh", EncodeOptions(), False)


def test_every_unit_round_trips_as_the_json_chunks_showed_it(county: Any) -> None:
    codes, columns, lon, lat, precision = county
    assert precision == 5
    want = _reference(codes, columns, lon, lat)
    got = _unpacked(codes, columns, lon, lat)
    assert got["codes"] == want["codes"] and "" in got["codes"]  # the chunk of no cell
    assert got["sizes"] == want["sizes"]
    assert got["x"] == want["x"] and got["y"] == want["y"]
    assert got["columns"].keys() == want["columns"].keys()
    for key, values in want["columns"].items():
        assert got["columns"][key] == values, key
    names = got["columns"]["name"]
    assert "金新港12号楼" in names or any(str(n).startswith("金新港") for n in names)
    assert "门牌007号" in names and "x1234567890123" in names and "0" in names


def test_names_are_split_and_alert_is_a_rule(county: Any) -> None:
    codes, columns, lon, lat, _ = county
    raw = gzip.decompress(base64.b64decode(pack_units(codes, columns, lon, lat, 5)))
    length = int.from_bytes(raw[:4], "little")
    header = json.loads(raw[4 : 4 + length])
    assert header["cols"]["name"]["t"] == "name"  # many distinct names: head, number, tail
    assert header["cols"]["nearest_station"]["t"] == "name"
    assert header["cols"]["kind"]["t"] == "dict"
    assert header["cols"]["_alert"] == {"t": "flag", "of": "must_have_branch"}
    assert "金新港" in header["cols"]["name"]["hd"]


def test_an_alert_that_is_not_the_rule_is_written_as_it_is(county: Any) -> None:
    codes, columns, lon, lat, _ = county
    changed = dict(columns)
    alert = np.array(columns["_alert"], dtype=object)
    alert[::5] = 1 - alert[::5]
    changed["_alert"] = alert
    got = unpack_units(pack_units(codes, changed, lon, lat, 5))["columns"]["_alert"]
    assert got == alert.tolist()


def test_numbers_texts_and_gaps_of_any_kind(county: Any) -> None:
    codes, _, lon, lat, _ = county
    n = len(codes)
    rng = random.Random(2)
    pool: list[Any] = [None, float("nan"), 0.35, 2.675, -0.04, 1e17, 3, True, np.float64(3.25)]
    mixed: list[Any] = [None, 1, True, "1", "True", 2.5, "号"]
    columns = {
        "numbers": np.array([rng.choice(pool) for _ in range(n)], dtype=object),
        "mixed": np.array([rng.choice(mixed) for _ in range(n)], dtype=object),
        "empty": np.full(n, None, dtype=object),
    }
    want = _reference(codes, columns, lon, lat)
    got = _unpacked(codes, columns, lon, lat)
    assert got["columns"]["numbers"] == want["columns"]["numbers"]
    assert got["columns"]["empty"] == want["columns"]["empty"]
    # texts among numbers: every value shown as its text (a chunk of numbers only was shown
    # as numbers before; the units' columns are never mixed, see _layers._column)
    assert got["columns"]["mixed"] == [None if m is None else str(m) for m in columns["mixed"]]


def test_no_units() -> None:
    got = unpack_units(pack_units([], {"name": []}, np.zeros(0), np.zeros(0), 5))
    assert got["codes"] == [] and got["columns"]["name"] == []


def test_the_name_split_is_the_regular_expressions() -> None:
    rng = random.Random(9)
    alphabet = "ab0123456789号楼村 \n\x00٣"
    texts = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20_000)
    ]
    texts += ["", "0", "00", "a0", "a00", "007", "x1234567890123", "a000000000001b", "9" * 12]
    heads, numbers, tails = _name_parts(texts)
    for text, head, number, tail in zip(texts, heads, numbers.tolist(), tails, strict=True):
        m = _NAME.fullmatch(text)
        want = (text, 0, "") if m is None else (m[1], int(m[2]) + 1, m[3])
        assert (head, number, tail) == want, text
