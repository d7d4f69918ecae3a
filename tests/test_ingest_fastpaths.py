"""The whole-column fast paths of ingest (issue 16) against their references.

Each fast path has a reference, the code it replaced or a value-by-value version of it:
texts stripped and matched through Arrow against Python's ``str.strip`` and ``re``,
point geometries written with numpy against shapely, blank required values and ids
decided per distinct value against one by one, the CSV reader's checks against the ones
they replaced. A messy file imported with the fast paths and with the references
(:func:`references`) stores the same rows, provenance and rejects on both stores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gridmap.ingest import _bulk, load, rows, tables, values
from gridmap.ingest._headers import read_provenance
from gridmap.ingest.pipeline import ingest_layer
from gridmap.ingest.provenance import digest_column, digest_matrix
from gridmap.store import Store, models, table_of

#: Characters around and inside texts that the fast paths must treat as Python does.
_EDGES = [" ", "\t", "\u3000", "\xa0", "\x1c", "\x1f", "\x85", "\u2028", "\u200b", "\ufeff", ""]
_TRICKY = [
    "",
    " ",
    "1",
    " 1 ",
    "1.",
    ".5",
    "+1.5",
    "-0",
    "1e5",
    "1E-300",
    "1e400",
    "1e1234",
    "-.5e+3",
    "1,200",
    "12.0",
    "１２",
    "١٢",
    "1\n",
    "\n1",
    "1 2",
    "+",
    "-",
    ".",
    "e5",
    "0x10",
    "nan",
    "inf",
    "116.9536229",
    "000123",
    "1234567890123456",
    "123456789012345",
    "\u30001\u3000",
    "北京",
]


def _old_strip(series: pd.Series) -> pd.Series | None:
    """The reference of :func:`values._texts`: every value stripped by Python."""
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        return None
    texts = series.astype(object).where(series.notna(), "").tolist()
    return pd.Series([v.strip() for v in texts], index=series.index, dtype=object)


@pytest.mark.parametrize("pattern", [values._PLAIN_FLOAT_RE, values._PLAIN_COUNT_RE])
def test_arrow_matches_python_re_on_tricky_texts(pattern: re.Pattern[str]) -> None:
    texts = pd.Series([*_TRICKY, *(e + t + e for t in _TRICKY for e in _EDGES)], dtype=object)
    fast = values._matches(texts, pattern)
    assert fast.tolist() == values._matches_one_by_one(texts, pattern).tolist()
    assert fast.any()
    assert not fast.all()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(values._PLAIN_FLOAT_RE, fullmatch=True),
            st.from_regex(r"[0-9]{1,17}", fullmatch=True),
            st.text(alphabet=st.sampled_from("0123456789+-.eE ,\t\u3000\xa0\x1c１"), max_size=8),
            st.text(max_size=6),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_texts_and_matches_equal_their_references(cells: list[str]) -> None:
    series = pd.Series(cells, dtype=object)
    stripped = values._texts(series)
    reference = _old_strip(series)
    assert stripped is not None
    assert reference is not None
    assert stripped.tolist() == reference.tolist()
    for pattern in (values._PLAIN_FLOAT_RE, values._PLAIN_COUNT_RE):
        fast = values._matches(stripped, pattern)
        assert fast.tolist() == values._matches_one_by_one(stripped, pattern).tolist()


def test_texts_keep_whitespace_python_keeps_and_take_missing_values_as_empty() -> None:
    cells = ["\u200ba\u200b", "\ufeffb", " c\u3000", "\x1cd\x1f", None, float("nan"), "e\u2028"]
    series = pd.Series(cells, dtype=object)
    stripped = values._texts(series)
    assert stripped is not None
    assert stripped.tolist() == ["\u200ba\u200b", "\ufeffb", "c", "d", "", "", "e"]


def test_texts_go_one_by_one_when_arrow_cannot_take_them() -> None:
    series = pd.Series([" a ", "\udc80 b ", "c"], dtype=object)  # a lone surrogate
    stripped = values._texts(series)
    assert stripped is not None
    assert stripped.tolist() == ["a", "\udc80 b", "c"]
    texts = pd.Series(["1", "\udc80"], dtype=object)
    assert values._matches(texts, values._PLAIN_COUNT_RE).tolist() == [
        True,
        False,
    ]


def test_plain_floats_of_a_real_county_column_are_what_python_reads(tmp_path: Path) -> None:
    from benchmarks.county import write_county

    files = write_county(tmp_path / "county", units=3000, seed=3)
    table = pd.read_csv(files["units"], dtype=str, keep_default_na=False)
    for column in ("lon", "lat"):
        numbers, ok = values.plain_floats(table[column])
        assert ok.all()
        assert numbers.tolist() == [float(v) for v in table[column]]


# -- geometries ---------------------------------------------------------------------------


def _points(n: int, seed: int = 2) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    points = shapely.points(rng.uniform(-180, 180, n), rng.uniform(-90, 90, n))
    points[:4] = shapely.points([-0.0, 0.0, 1e300, 116.9536229], [0.0, 5e-324, -1e-300, 28.5])
    return np.asarray(points, dtype=object)


@pytest.mark.parametrize("ewkb_hex", [False, True])
def test_point_blobs_are_the_bytes_shapely_writes(ewkb_hex: bool) -> None:
    points = _points(5000)
    fast = _bulk.point_blobs(points, ewkb_hex=ewkb_hex)
    assert fast is not None
    assert fast == _bulk.shapely_blobs(points, ewkb_hex=ewkb_hex)
    assert _bulk.geometry_blobs(list(points), ewkb_hex=ewkb_hex) == fast


@pytest.mark.parametrize(
    "odd",
    [None, shapely.Point(), shapely.Point(1, 2, 3), shapely.LineString([(0, 0), (1, 1)])],
)
def test_point_blobs_leave_any_other_column_to_shapely(odd: Any) -> None:
    points = _points(10)
    points[5] = odd
    assert _bulk.point_blobs(points, ewkb_hex=True) is None
    blobs = _bulk.geometry_blobs(list(points), ewkb_hex=True)
    assert blobs == _bulk.shapely_blobs(points, ewkb_hex=True)


def test_the_digests_of_a_column_without_values_are_none() -> None:
    matrix, present = digest_matrix([None] * 7)
    assert not present.any()
    assert not matrix.any()
    assert digest_column([None] * 7) == [None] * 7


# -- loader checks ------------------------------------------------------------------------


def test_blank_required_values_per_distinct_value_equal_one_by_one() -> None:
    cells: list[object] = [
        "building",
        " ",
        "",
        None,
        float("nan"),
        pd.NA,
        pd.NaT,
        np.datetime64("NaT"),
        "\u3000",
        "firm",
        ["a"],
        3,
        0,
        "building",
        " ",
    ]
    expected = load._empty_one_by_one(cells)
    assert load._empty_positions(cells) == expected
    assert load._empty_positions([c for c in cells if not isinstance(c, list)]) == (
        load._empty_one_by_one([c for c in cells if not isinstance(c, list)])
    )
    assert expected == [1, 2, 3, 4, 5, 6, 8, 14]


# -- a messy file through both paths, on both stores ---------------------------------------

N = 2600  # above the bulk sizes (DEFER_INDEX_ROWS), so the bulk paths run


#: How every 37th row (by its remainder) is spoiled: column -> new text from the row.
_SPOILS: dict[int, tuple[int, Callable[[list[str]], str]]] = {
    1: (5, lambda r: f" {r[5]} "),
    2: (6, lambda r: "abc"),
    3: (3, lambda r: "1,200"),
    4: (3, lambda r: "12.0"),
    5: (4, lambda r: "-3"),
    6: (2, lambda r: "  firm\u3000"),
    7: (2, lambda r: ""),
    8: (1, lambda r: f"\u3000{r[1]}\xa0"),
    10: (1, lambda r: "长" * 80),
    11: (5, lambda r: r[6]),  # lon and lat swapped (lat is set below)
    12: (5, lambda r: ""),
    13: (3, lambda r: "１２"),
}
#: Spoils of the ids: repeated ones, and missing ones (which make synthetic ids).
_ID_SPOILS: dict[str, dict[int, Callable[[list[str]], str]]] = {
    "unique": {},
    "repeated": {14: lambda r: "U00014"},
    "missing": {14: lambda r: "U00014", 15: lambda r: ""},
}


def _messy(n: int, *, ids: str) -> str:
    rng = np.random.default_rng(5)
    lines = ["id,name,kind,households,population,lon,lat"]
    for i in range(n):
        row = [
            f"U{i:05d}",
            f"楼{i}",
            "building",
            str(int(rng.integers(0, 90))),
            str(int(rng.integers(0, 300))),
            f"{117.2 + rng.uniform(0, 0.05):.7f}",
            f"{28.3 + rng.uniform(0, 0.05):.7f}",
        ]
        bad = i % 37
        if bad in _SPOILS:
            lon = row[5]
            column, spoil = _SPOILS[bad]
            row[column] = spoil(row)
            if bad == 11:
                row[6] = lon
        if bad == 9:
            row.append("surplus")
        if bad in _ID_SPOILS[ids]:
            row[0] = _ID_SPOILS[ids][bad](row)
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def _old_text_lengths(series: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(series, skipna=True) == "string":
        return series.astype(object).str.len().fillna(0)
    return series.map(lambda v: len(v) if isinstance(v, str) else 0)


def _old_without_spare(
    chunk: pd.DataFrame, spare: list[str], width: int, start: int, problems: dict[int, list[str]]
) -> pd.DataFrame:
    extra = chunk[spare].fillna("").astype(str)
    for index in (extra != "").any(axis=1).to_numpy().nonzero()[0]:
        found = [v for v in extra.iloc[int(index)].tolist() if v != ""]
        problems.setdefault(start + int(index), []).append(
            f"行字段多于表头 / the row has more fields than the header's {width} "
            f"(extra values {found!r}): add headers for them or remove them"
        )
    return chunk.drop(columns=spare)


def references(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fast path of this module replaced by its reference."""
    read_csv: Callable[..., Any] = pd.read_csv

    def read_as_str(*args: Any, **kwargs: Any) -> Any:
        return read_csv(*args, **(kwargs | {"dtype": str}))

    monkeypatch.setattr(tables.pd, "read_csv", read_as_str)
    monkeypatch.setattr(tables, "_text_lengths", _old_text_lengths)
    monkeypatch.setattr(tables, "_without_spare", _old_without_spare)
    monkeypatch.setattr(values, "_arrow", lambda texts: None)
    monkeypatch.setattr(_bulk, "point_blobs", lambda array, *, ewkb_hex: None)
    monkeypatch.setattr(load, "_empty_positions", load._empty_one_by_one)
    monkeypatch.setattr(rows, "_identify", rows._identify_one_by_one)


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _stored(store: Store, source: str) -> dict[str, tuple[Any, ...]]:
    """Each unit of ``source`` by source id: values, geometry (WKB), provenance (decoded,
    import time masked)."""
    unit = table_of(models.Unit)
    columns = [unit.c[c] for c in ("kind", "name", "households", "population", "address")]
    with store.engine.connect() as conn:
        found = conn.execute(
            select(unit.c.id, unit.c.source_id, *columns, unit.c.geom.ST_AsBinary()).where(
                unit.c.source == source
            )
        ).all()
        provenance = read_provenance(conn, unit, [r[0] for r in found])
    return {
        str(r[1]): (
            *r[2:-1],
            bytes(r[-1]),
            _STAMP.sub("<at>", json.dumps(provenance[r[0]], sort_keys=True)),
        )
        for r in found
    }


def _rejects(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


@pytest.mark.parametrize("ids", list(_ID_SPOILS))
def test_a_messy_file_stores_the_same_through_fast_paths_and_references(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: str
) -> None:
    file = tmp_path / "units.csv"
    file.write_text(_messy(N, ids=ids), encoding="utf-8")
    options: dict[str, Any] = {"max_field_chars": 50, "reject_file": tmp_path / "fast.csv"}
    fast = ingest_layer(store, file, "unit", source="fast", **options)
    with monkeypatch.context() as patch:
        references(patch)
        options["reject_file"] = tmp_path / "reference.csv"
        reference = ingest_layer(store, file, "unit", source="reference", **options)
    assert fast.n_read == fast.loaded + fast.rejected == N
    assert (fast.loaded, fast.rejected) == (reference.loaded, reference.rejected)
    assert fast.rejected > 10 * (N // 37) // 2  # the messy rows were rejected, not lost
    assert _rejects(fast.rejects) == _rejects(reference.rejects)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "reference.csv").read_bytes()
    stored = _stored(store, "fast")
    assert len(stored) == fast.loaded
    assert stored == _stored(store, "reference")
