"""The library refuses a reject file that is the input itself, like the CLI: a Python user's
``ingest_layer`` / ``ingest_osm`` can no more overwrite their input than ``gridmap ingest``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ingest_osm_features import extract  # noqa: F401 - the fixture

from gridmap.ingest.pipeline import ingest_layer, ingest_osm
from gridmap.ingest.records import IngestError
from gridmap.store import Store

#: One good row and one without coordinates: a reject file would be written.
FIRMS = "name,kind,lon,lat\n甲公司,firm,117.2,28.2\n乙公司,firm,,\n"


@pytest.mark.parametrize("spelling", ["same", "dotted", "relative"])
def test_import_layer_refuses_rejects_into_its_input(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    reject_file = {
        "same": firms,
        "dotted": tmp_path / "." / "firms.csv",
        "relative": Path("firms.csv"),
    }[spelling]

    with pytest.raises(IngestError, match=r"^reject_file=: firms\.csv is the input file itself"):
        ingest_layer(store, firms, "unit", reject_file=reject_file)

    assert firms.read_text(encoding="utf-8") == FIRMS
    assert store.counts()["unit"] == 0  # refused before anything was read or loaded


def test_import_layer_still_writes_rejects_elsewhere(store: Store, tmp_path: Path) -> None:
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS, encoding="utf-8")
    report = ingest_layer(store, firms, "unit", reject_file=tmp_path / "r.csv")
    assert (report.loaded, report.rejected, report.reject_file) == (1, 1, tmp_path / "r.csv")
    assert firms.read_text(encoding="utf-8") == FIRMS


def test_import_osm_refuses_rejects_into_its_extract(
    store: Store,
    extract: Path,  # noqa: F811 - the imported fixture; one feature in it is rejected
) -> None:
    before = extract.read_bytes()

    with pytest.raises(IngestError, match=r"^reject_file=: small\.osm is the input file itself"):
        ingest_osm(store, extract, reject_file=extract)

    assert extract.read_bytes() == before
    assert sum(store.counts().values()) == 0
