"""Guess the text encoding of Shapefile attribute tables and CSV files.

Survey offices in China often ship GBK-encoded Shapefiles without the ``.cpg``
file that names the encoding; GDAL then assumes ISO-8859-1 and every Chinese
name comes out as mojibake (``花园街道`` -> ``»¨Ô°½ÖµÀ``). Rules, in order:

1. an explicit ``encoding=`` wins;
2. a ``.cpg`` file next to the ``.dbf`` is obeyed (``936``/``GBK``/``UTF-8``...);
3. the text bytes of the ``.dbf`` (field names and character fields) are tried
   as strict UTF-8, then as strict GB18030 (a superset of GBK and GB2312);
4. if neither decodes cleanly, :class:`IngestError` asks for ``--encoding``.

CSV files are tried as ``utf-8-sig``, ``utf-8`` and ``gb18030`` in that order.
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gridmap.ingest.records import IngestError

__all__ = [
    "CSV_ENCODINGS",
    "DetectedEncoding",
    "decode_text_file",
    "detect_encoding",
    "detect_text_encoding",
]

CSV_ENCODINGS: Final = ("utf-8-sig", "utf-8", "gb18030")

#: Block size of the streaming decode check: memory stays flat whatever the file's size.
_BLOCK: Final = 1 << 20

#: Code page names written in .cpg files that Python does not know by that name.
_CPG_NAMES: Final = {"936": "gbk", "65001": "utf-8", "950": "big5", "ansi 936": "gbk"}


@dataclass(frozen=True)
class DetectedEncoding:
    """An encoding and, when it was guessed, a note saying why."""

    encoding: str
    note: str | None = None


def _cpg_encoding(cpg: Path) -> str:
    raw = cpg.read_text(encoding="ascii", errors="replace").strip()
    name = _CPG_NAMES.get(raw.lower(), raw)
    try:
        return codecs.lookup(name).name
    except LookupError:
        msg = f"{cpg.name} names encoding {raw!r}, which Python does not know; pass --encoding"
        raise IngestError(msg) from None


def _dbf_text_bytes(dbf: Path) -> bytes:
    """Return the field names and character-field bytes of a dBase file."""
    data = dbf.read_bytes()
    if len(data) < 32:
        msg = f"{dbf.name} is truncated ({len(data)} bytes); the Shapefile cannot be read"
        raise IngestError(msg)
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    chunks: list[bytes] = []
    character_fields: list[tuple[int, int]] = []
    offset, position = 1, 32  # each record starts with a deletion flag byte
    while position + 32 <= header_len and data[position] != 0x0D:
        descriptor = data[position : position + 32]
        chunks.append(descriptor[:11].split(b"\x00", 1)[0])
        length = descriptor[16]
        if descriptor[11:12] == b"C":
            character_fields.append((offset, length))
        offset += length
        position += 32
    for index in range(n_records):
        start = header_len + index * record_len
        record = data[start : start + record_len]
        chunks.extend(record[o : o + n].rstrip(b" \x00") for o, n in character_fields)
    return b"\n".join(chunks)


def detect_encoding(path: str | Path, encoding: str | None = None) -> DetectedEncoding:
    """Choose the encoding of a Shapefile's attribute table (see module docstring).

    Parameters
    ----------
    path
        The ``.shp`` or ``.dbf`` file.
    encoding
        The user's explicit choice, returned unchanged.

    Raises
    ------
    IngestError
        When the ``.dbf`` is missing or its text is neither UTF-8 nor GB18030.
    """
    if encoding:
        return DetectedEncoding(encoding)
    dbf = Path(path).with_suffix(".dbf")
    cpg = dbf.with_suffix(".cpg")
    if cpg.exists():
        return DetectedEncoding(_cpg_encoding(cpg))
    if not dbf.exists():
        msg = f"{dbf.name} is missing: a Shapefile needs its .dbf attribute table next to the .shp"
        raise IngestError(msg)
    text = _dbf_text_bytes(dbf)
    for candidate, note in (
        ("utf-8", None),
        ("gb18030", "decoded as GB18030: no .cpg file and not valid UTF-8"),
    ):
        try:
            text.decode(candidate)
        except UnicodeDecodeError:
            continue
        return DetectedEncoding(candidate, note)
    msg = (
        f"cannot tell the encoding of {dbf.name}: it has no .cpg file and is neither UTF-8 nor "
        "GBK/GB18030; pass --encoding (for example --encoding big5)"
    )
    raise IngestError(msg)


def decode_text_file(path: str | Path, encoding: str | None = None) -> tuple[str, DetectedEncoding]:
    """Read a text file (CSV), trying :data:`CSV_ENCODINGS` unless ``encoding`` is given.

    Raises
    ------
    IngestError
        When the explicit encoding fails, or none of the candidates decodes.
    """
    data = Path(path).read_bytes()
    if encoding:
        try:
            return data.decode(encoding), DetectedEncoding(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"cannot decode {Path(path).name} as {encoding}: {exc}; check --encoding"
            raise IngestError(msg) from exc
    for candidate in CSV_ENCODINGS:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        note = (
            None
            if candidate.startswith("utf-8")
            else (f"decoded as GB18030: {Path(path).name} is not valid UTF-8")
        )
        return text, DetectedEncoding(candidate, note)
    msg = (
        f"cannot decode {Path(path).name}: tried {', '.join(CSV_ENCODINGS)}; "
        "pass --encoding (for example --encoding big5)"
    )
    raise IngestError(msg)


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as ``encoding``, read block by block."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_text_encoding(path: str | Path, encoding: str | None = None) -> DetectedEncoding:
    """Choose the encoding of a text file (CSV) without holding it in memory.

    The same rules as :func:`decode_text_file`: an explicit ``encoding`` must
    decode the whole file; otherwise UTF-8 (with or without BOM), then GB18030.

    Raises
    ------
    IngestError
        When the explicit encoding fails, or none of the candidates decodes.
    """
    file = Path(path)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            msg = f"cannot decode {file.name} as {encoding}: {exc}; check --encoding"
            raise IngestError(msg) from exc
        if not _decodes(file, encoding):
            msg = f"cannot decode {file.name} as {encoding}; check --encoding"
            raise IngestError(msg)
        return DetectedEncoding(encoding)
    if _decodes(file, "utf-8-sig"):
        return DetectedEncoding("utf-8-sig")
    if _decodes(file, "gb18030"):
        return DetectedEncoding("gb18030", f"decoded as GB18030: {file.name} is not valid UTF-8")
    msg = (
        f"cannot decode {file.name}: tried {', '.join(CSV_ENCODINGS)}; "
        "pass --encoding (for example --encoding big5)"
    )
    raise IngestError(msg)
