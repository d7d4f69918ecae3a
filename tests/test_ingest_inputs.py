"""Inputs that must not hurt: binary files named .csv, huge fields, Infinity, lost inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.ingest import IngestError, read_layer
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

MEASURE = """
import json, resource, sys, time
from gridmap.ingest import IngestError, read_layer
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    result = read_layer(sys.argv[1], "unit")
    outcome = {"loaded": len(result.records), "reasons": result.rejects["reason"].tolist(),
               "longest": int(result.records["name"].str.len().max())}
except IngestError as exc:
    outcome = {"error": str(exc)}
outcome["seconds"] = time.perf_counter() - start
outcome["grown_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(outcome))
"""


def _measure(path: Path) -> dict[str, object]:
    """Read ``path`` in a fresh interpreter; its peak memory growth and time."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    outcome: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return outcome


def _run(store: Store, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"GRIDMAP_DATABASE_URL": store.url, **(env or {})}
    )
    return result.exit_code, " ".join(result.output.split())  # unwrapped


def test_nul_bytes_named_csv_are_refused_at_once_without_reading_the_file(tmp_path: Path) -> None:
    nul = tmp_path / "units.csv"
    with nul.open("wb") as handle:  # 256 MB of NUL bytes (sparse: costs no disk)
        handle.truncate(256 * 1024 * 1024)

    outcome = _measure(nul)

    assert "not a text table" in str(outcome["error"])
    assert "NUL" in str(outcome["error"])
    assert float(str(outcome["seconds"])) < 1.0
    assert float(str(outcome["grown_mb"])) < 50


def test_nul_file_exits_2_with_one_line_before_the_store_is_opened(
    store: Store, tmp_path: Path
) -> None:
    nul = tmp_path / "units.csv"
    with nul.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024)
    before = store.counts()

    code, output = _run(store, "ingest", "layer", str(nul), "--kind", "firm")

    assert code == 2
    assert output.startswith("error: units.csv is not a text table")
    assert "Traceback" not in output
    assert store.counts() == before


def test_a_100_mb_field_is_rejected_and_memory_stays_near_one_copy(tmp_path: Path) -> None:
    big = tmp_path / "firms.csv"
    with big.open("w", encoding="utf-8") as handle:
        handle.write("name,kind,lon,lat\n甲公司,firm,117.2,28.2\n")
        handle.write("x" * 100_000_000 + ",firm,117.21,28.21\n乙公司,firm,117.3,28.3\n")
    size_mb = big.stat().st_size / 1024 / 1024

    outcome = _measure(big)

    assert outcome["loaded"] == 2
    assert outcome["longest"] == 3
    (reason,) = outcome["reasons"]  # type: ignore[misc]
    assert "100,000,000 characters" in reason
    assert "GRIDMAP_INGEST__MAX_FIELD_CHARS" in reason
    # the old reader held the bytes, the decoded text and a UCS-4 copy: 6.7 x the file
    assert float(str(outcome["grown_mb"])) < 3 * size_mb


def test_field_limit_is_a_setting(store: Store, tmp_path: Path) -> None:
    firms = tmp_path / "firms.csv"
    firms.write_text(
        "name,kind,lon,lat\n甲公司,firm,117.2,28.2\n一家名字很长很长的公司,firm,117.3,28.3\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "out.csv"

    code, output = _run(
        store,
        "ingest",
        "layer",
        str(firms),
        "--kind",
        "unit",
        "--reject-file",
        str(rejects),
        env={"GRIDMAP_INGEST__MAX_FIELD_CHARS": "5"},
    )

    assert code == 0, output
    assert "read 2, loaded 1, rejected 1" in output
    assert "more than the 5 allowed" in pd.read_csv(rejects)["reason"].iloc[0]
    assert store.counts()["unit"] == 1


def test_reject_file_naming_the_input_is_refused_before_reading(
    store: Store, tmp_path: Path
) -> None:
    firms = tmp_path / "firms.csv"
    text = "name,kind,lon,lat\n甲公司,firm,117.2,28.2\n乙公司,firm,,\n"
    firms.write_text(text, encoding="utf-8")
    other_spelling = tmp_path / "." / "firms.csv"

    code, output = _run(
        store, "ingest", "layer", str(firms), "--kind", "unit", "--reject-file", str(other_spelling)
    )

    assert code == 2
    assert "is the input file itself" in output
    assert "Traceback" not in output
    assert firms.read_text(encoding="utf-8") == text
    assert store.counts()["unit"] == 0


def _feature(name: str, coordinates: str, kind: str = "Point") -> str:
    properties = json.dumps({"name": name, "kind": "firm"}, ensure_ascii=False)
    geometry = f'{{"type": "{kind}", "coordinates": {coordinates}}}'
    return f'{{"type": "Feature", "properties": {properties}, "geometry": {geometry}}}'


def test_infinite_and_nan_coordinates_reject_their_feature_only(
    store: Store, tmp_path: Path
) -> None:
    features = [
        _feature("甲公司", "[117.2, 28.2]"),
        _feature("无穷点", "[Infinity, 28.2]"),
        _feature(
            "无穷面",
            "[[[117.2, 28.2], [117.3, 28.2], [-Infinity, 28.3], [117.2, 28.2]]]",
            "Polygon",
        ),
        _feature("缺失点", "[NaN, 28.2]"),
    ]
    path = tmp_path / "firms.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [' + ",".join(features) + "]}",
        encoding="utf-8",
    )

    report = ingest_layer(store, path, "unit", reject_file=tmp_path / "r.csv")

    assert (report.n_read, report.loaded, report.rejected) == (4, 1, 3)
    reasons = dict(zip(report.rejects["name"], report.rejects["reason"], strict=True))
    assert "infinite coordinates" in reasons["无穷点"]
    assert "infinite coordinates" in reasons["无穷面"]
    assert "NaN" in reasons["缺失点"]
    assert report.reject_file is not None
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(models.Unit)) == 1


def test_zip_named_csv_and_text_named_xlsx_say_what_they_are(tmp_path: Path) -> None:
    book = tmp_path / "firms.xlsx"
    pd.DataFrame({"name": ["甲"], "kind": ["firm"], "lon": [117.2], "lat": [28.2]}).to_excel(
        book, index=False
    )
    renamed = tmp_path / "firms.csv"
    renamed.write_bytes(book.read_bytes())
    text = tmp_path / "list.xlsx"
    text.write_text("name,kind,lon,lat\n甲,firm,117.2,28.2\n", encoding="utf-8")

    with pytest.raises(IngestError, match="ZIP archive"):
        read_layer(renamed, "unit")
    with pytest.raises(IngestError, match=r"rename it to \.csv"):
        read_layer(text, "unit")


def test_utf16_text_is_named_and_read_when_the_encoding_is_given(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("name,kind,lon,lat\n甲公司,firm,117.2,28.2\n", encoding="utf-16")

    with pytest.raises(IngestError, match="UTF-16 text"):
        read_layer(path, "unit")
    assert read_layer(path, "unit", encoding="utf-16").records["name"].tolist() == ["甲公司"]


def test_osm_reject_file_naming_the_extract_is_refused(store: Store, tmp_path: Path) -> None:
    extract = tmp_path / "town.osm"
    extract.write_text('<?xml version="1.0"?><osm version="0.6"></osm>\n', encoding="utf-8")

    code, output = _run(store, "ingest", "osm", str(extract), "--reject-file", str(extract))

    assert code == 2
    assert "is the input file itself" in output
    assert extract.read_text(encoding="utf-8").startswith("<?xml")
