"""Organisations name their units by source id: found, ambiguous, qualified or missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gridmap.ingest import _refs
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

UNITS = "source_id,name,kind,lon,lat\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _units(store: Store, tmp_path: Path) -> dict[tuple[str, str], int]:
    town_a = (
        UNITS
        + "1,甲公司,firm,117.20,28.29\n2,乙公司,firm,117.21,28.29\nx:3,丙公司,firm,117.22,28.29\n"
    )
    town_b = UNITS + "1,丁公司,firm,117.20,28.30\n4,戊公司,firm,117.21,28.30\n"
    ingest_layer(store, _write(tmp_path / "a" / "units.csv", town_a), "unit", source="townA")
    ingest_layer(store, _write(tmp_path / "b" / "units.csv", town_b), "unit", source="townB")
    with store.session() as s:
        rows = s.execute(select(models.Unit.source, models.Unit.source_id, models.Unit.id))
        return {(str(a), str(b)): int(i) for a, b, i in rows}


@pytest.mark.parametrize("per_source", [8, 1], ids=["by-source", "by-scan"])
def test_references_resolve_by_id_or_source_and_id_and_reject_the_rest(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_source: int
) -> None:
    monkeypatch.setattr(_refs, "_PER_SOURCE", per_source, raising=False)
    units = _units(store, tmp_path)
    orgs = _write(
        tmp_path / "orgs.csv",
        "source_id,name,kind,own_unit,covers,lon,lat\n"
        'O1,一支部,branch,2," 2; townB:1 ;x:3",117.2,28.3\n'
        "O2,二支部,branch,1,,117.2,28.3\n"  # 1 is in both towns: ambiguous
        "O3,三支部,branch,townA:1,4,117.2,28.3\n"
        "O4,四支部,branch,,9,117.2,28.3\n"  # no unit 9 anywhere
        "O5,五支部,branch,townC:4,,117.2,28.3\n",  # no source townC
    )
    report = ingest_layer(store, orgs, "org")

    assert (report.n_read, report.loaded, report.rejected) == (5, 2, 3)
    reasons = dict(zip(report.rejects["source_id"], report.rejects["reason"], strict=True))
    assert "ambiguous" in reasons["O2"] and "SOURCE:ID" in reasons["O2"]
    assert "'9' not found in the store" in reasons["O4"]
    assert "'townC:4' not found in the store" in reasons["O5"]
    with store.session() as s:
        owners = dict(
            s.execute(select(models.PartyOrg.source_id, models.PartyOrg.own_unit_id)).all()
        )
        links = set(
            s.execute(
                select(models.PartyOrg.source_id, models.OrgUnit.unit_id).join(
                    models.OrgUnit, models.OrgUnit.org_id == models.PartyOrg.id
                )
            ).all()
        )
    assert owners == {"O1": units[("townA", "2")], "O3": units[("townA", "1")]}
    assert links == {
        ("O1", units[("townA", "2")]),
        ("O1", units[("townB", "1")]),
        ("O1", units[("townA", "x:3")]),
        ("O3", units[("townB", "4")]),
    }


def test_an_id_with_a_colon_is_ambiguous_with_a_source_of_that_name(
    store: Store, tmp_path: Path
) -> None:
    units = _units(store, tmp_path)
    ingest_layer(
        store,
        _write(tmp_path / "x" / "units.csv", UNITS + "3,己公司,firm,117.2,28.3\n"),
        "unit",
        source="x",
    )
    orgs = _write(
        tmp_path / "orgs.csv",
        "source_id,name,kind,own_unit,lon,lat\n"
        "O1,一支部,branch,x:3,117.2,28.3\n"  # townA's id "x:3" and source x's id "3"
        "O2,二支部,branch,townA:x:3,117.2,28.3\n",
    )
    report = ingest_layer(store, orgs, "org")

    assert (report.loaded, report.rejected) == (1, 1)
    assert "ambiguous" in report.rejects["reason"].iloc[0]
    with store.session() as s:
        owner = s.scalars(select(models.PartyOrg.own_unit_id)).one()
    assert owner == units[("townA", "x:3")]
