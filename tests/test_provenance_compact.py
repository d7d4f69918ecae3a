"""Compact stored provenance: the format round-trips, and migration 0010 converts both ways.

Records keep ``"<header id>:<digests>"`` with the shared part in ``provenance_header``
(:mod:`gridmap.ingest.provenance`, *Stored form*). Migration 0010 turns the JSON of
0006-0009 into that form and back, on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from gridmap.ingest._headers import Headers, read_provenance
from gridmap.ingest.pipeline import ingest_layer
from gridmap.ingest.provenance import decoded, encoded, first, merge, parse_stored
from gridmap.store import Store, _alembic_config, models, table_of

AT = "2026-12-01T09:00:00"
ORIGIN = "town/units.csv"

#: Provenances of every shape a 0009 store can hold.
SAMPLES: list[Any] = [
    first({"kind": "building", "name": "金港1号楼", "households": 3}, origin=ORIGIN, at=AT),
    merge(
        {"name": "金港1号楼", "households": 3},
        first({"name": "金港1号楼", "households": 3}, origin=ORIGIN, at=AT),
        {"households": 5, "population": 12},
        origin="survey/units.csv",
        at="2026-12-02T10:00:00",
    ).provenance,
    {"fields": {}, "seen": {}},
    {"fields": {"name": {"by": None, "at": AT}}, "seen": {}},
    {"fields": {"name": {"by": "a", "at": AT}}, "seen": {"a": {"name": "1f0c3a9e"}}},  # short
    {"fields": {"name": {"at": AT, "by": "a"}}, "seen": {}},  # keys in another order
    {"seen": {}},
    {"fields": {}, "seen": {}, "note": "hand-written"},
    ["not", "an", "object"],
]


def test_encoded_and_decoded_are_inverse_for_every_shape() -> None:
    for provenance in SAMPLES:
        header, digests = encoded(provenance)
        assert decoded(json.loads(header), digests) == provenance
        assert json.dumps(decoded(json.loads(header), digests)) == json.dumps(provenance)


def test_records_share_a_header_and_keep_six_bytes_per_digest() -> None:
    one = first({"kind": "building", "name": "a", "households": 1}, origin=ORIGIN, at=AT)
    two = first({"kind": "firm", "name": "b", "households": 2}, origin=ORIGIN, at=AT)
    (h1, d1), (h2, d2) = encoded(one), encoded(two)
    assert h1 == h2
    assert len(d1) == len(d2) == 3 * 6
    assert ORIGIN not in d1.decode("latin-1")


def test_a_wrong_length_of_digests_is_refused() -> None:
    header, digests = encoded(SAMPLES[0])
    with pytest.raises(ValueError, match="do not match"):
        decoded(json.loads(header), digests[:-1])


def test_headers_are_interned_once_and_stored_texts_decode(store: Store) -> None:
    with store.engine.begin() as conn:
        headers = Headers(conn)
        texts = headers.encode_many(SAMPLES + SAMPLES[:1])
        assert texts[0] == texts[-1]
        count = conn.execute(text("SELECT count(*) FROM provenance_header")).scalar()
        assert count == len(SAMPLES)
        fresh = Headers(conn)  # another import: reads the table, adds nothing
        assert [fresh.decode(t) for t in texts] == [*SAMPLES, SAMPLES[0]]
        assert fresh.encode_many(SAMPLES) == texts[:-1]
        assert conn.execute(text("SELECT count(*) FROM provenance_header")).scalar() == count


def _downgrade(store: Store, revision: str) -> None:
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _insert_units(store: Store, values: list[Any]) -> None:
    cast = "CAST(:p AS json)" if store.engine.dialect.name == "postgresql" else ":p"
    with store.engine.begin() as conn:
        for n, provenance in enumerate(values):
            conn.execute(
                text(
                    "INSERT INTO unit (kind, geom, source, source_id, provenance) VALUES "
                    f"('building', ST_GeomFromText('POINT(117.2 28.3)', 4326), 't', :s, {cast})"
                ),
                {"s": f"u{n}", "p": None if provenance is None else json.dumps(provenance)},
            )


def _json_provenance(store: Store) -> dict[str, Any]:
    column = "provenance::text" if store.engine.dialect.name == "postgresql" else "provenance"
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT source_id, {column} FROM unit ORDER BY id"))
        return {sid: None if p is None else json.loads(p) for sid, p in rows}


def test_migration_0010_converts_provenance_and_back(empty_store: Store) -> None:
    store = empty_store
    store.upgrade("0009")
    values = [*SAMPLES, None]
    _insert_units(store, values)
    before = _json_provenance(store)
    assert list(before.values()) == values

    store.upgrade("0010")
    with store.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT source_id, provenance FROM unit")).all())
        ids = dict(conn.execute(text("SELECT source_id, id FROM unit")).all())
        found = read_provenance(conn, table_of(models.Unit))
    assert {sid: found[ids[sid]] for sid in before} == before
    compact = stored["u0"]
    assert compact is not None
    assert len(compact) < 40  # three digests of 6 bytes and a header id
    _, digests = parse_stored(compact)
    assert len(digests) == 18
    assert stored[f"u{len(values) - 1}"] is None

    _downgrade(store, "0009")
    assert _json_provenance(store) == before
    with store.engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = "
                "'provenance_header'"
                if store.engine.dialect.name == "postgresql"
                else "SELECT count(*) FROM sqlite_master WHERE name = 'provenance_header'"
            )
        ).scalar()
    assert tables == 0
    store.upgrade()  # and up again: the headers' ids start anew
    with store.engine.connect() as conn:
        found = read_provenance(conn, table_of(models.Unit))
    assert {sid: found[ids[sid]] for sid in before} == before


def test_an_import_after_the_migration_adds_to_the_migrated_headers(
    empty_store: Store, tmp_path: Path
) -> None:
    """Ids of headers the migration wrote are not taken again (PostGIS: the sequence)."""
    store = empty_store
    store.upgrade("0009")
    _insert_units(store, SAMPLES[:2])
    store.upgrade()
    file = tmp_path / "town" / "units.csv"
    file.parent.mkdir()
    file.write_text("source_id,name,kind,lon,lat\nn1,炼厂社区,community,117.23912,28.318058\n")
    report = ingest_layer(store, file, "unit")
    assert report.inserted == 1
    with store.engine.connect() as conn:
        found = read_provenance(conn, table_of(models.Unit))
        (new_id,) = conn.execute(text("SELECT id FROM unit WHERE source_id = 'n1'")).one()
    assert found[new_id]["fields"]["name"]["by"] == "town/units.csv"
    assert [found[i] for i in sorted(found) if i != new_id] == SAMPLES[:2]


def test_digest_matrix_holds_the_digest_of_every_value() -> None:
    import datetime as dt

    import shapely

    from gridmap.ingest.provenance import digest, digest_matrix

    columns: list[list[Any]] = [
        ["a", None, "金港", "a"],
        [1, None, 3, 1],
        [shapely.Point(1, 2), None, shapely.box(0, 0, 1, 1), shapely.Point(1, 2)],
        [dt.date(2020, 1, 1), None, 1.5, ["x"]],
        [None] * 4,
        [True, None, False, True],
    ]
    for column in columns:
        matrix, present = digest_matrix(column)
        for value, row, has in zip(column, matrix, present, strict=True):
            assert has == (value is not None)
            assert row.tobytes().hex() == (digest(value) if has else "0" * 12)
