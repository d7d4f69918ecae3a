"""Refuse inputs that cannot be what their name says, before reading them.

A file of NUL bytes named ``.csv`` once pushed memory past 9 GB: the whole
file was decoded and parsed before anything looked at it. These checks read
only the first bytes of a file and answer in milliseconds, whatever its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from gridmap.ingest.records import IngestError

__all__ = ["SNIFF_BYTES", "check_reject_file", "check_table_file"]

#: How much of a file is looked at.
SNIFF_BYTES: Final = 64 * 1024

#: Signatures of common binary files, to say what a mislabelled file really is.
_MAGIC: Final = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook or a zipped file?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (.xls?)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)

_TEXT_SUFFIXES: Final = frozenset({".csv", ".txt"})
_XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
_WIDE: Final = ("utf16", "utf32")

#: Control bytes that never occur in a text table (everything below 0x20 but tab, LF, form
#: feed, CR and the DOS end-of-file mark 0x1A); a few stray ones are tolerated.
_CONTROL: Final = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1A}
_MAX_CONTROL_SHARE: Final = 0.01


def _what(head: bytes) -> str | None:
    return next((what for magic, what in _MAGIC if head.startswith(magic)), None)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def _refuse_binary_text(path: Path, head: bytes) -> None:
    if head.startswith(_UTF16_BOMS):
        msg = (
            f"{path.name} is UTF-16 text; save it as UTF-8 (Excel: 另存为 CSV UTF-8) "
            "or pass --encoding utf-16"
        )
        raise IngestError(msg)
    what = _what(head)
    nuls = head.count(0)
    controls = sum(1 for byte in head if byte in _CONTROL)
    if what is None and not nuls and controls <= _MAX_CONTROL_SHARE * max(len(head), 1):
        return
    found = what or (
        f"binary data ({nuls:,} NUL bytes in its first {len(head):,})"
        if nuls
        else f"binary data ({controls:,} control bytes in its first {len(head):,})"
    )
    msg = (
        f"{path.name} is not a text table: it holds {found}. "
        "Export the list again as CSV (UTF-8) or Excel (.xlsx)"
    )
    raise IngestError(msg)


def _refuse_non_workbook(path: Path, head: bytes) -> None:
    expected = b"PK\x03\x04" if path.suffix.lower() in _XLSX_SUFFIXES else b"\xd0\xcf\x11\xe0"
    if head.startswith(expected):
        return
    what = _what(head) or ("empty" if not head else "text" if b"\x00" not in head else "binary")
    hint = (
        "it looks like a CSV file: rename it to .csv"
        if what == "text"
        else "open it in Excel/WPS and save it again"
    )
    msg = f"{path.name} is not an Excel workbook (the file is {what}): {hint}"
    raise IngestError(msg)


def check_table_file(path: str | Path, encoding: str | None = None) -> None:
    """Refuse a CSV/Excel file whose first bytes show it cannot be one.

    Raises
    ------
    IngestError
        For a ``.csv``/``.txt`` file holding NUL or other binary bytes (or UTF-16
        unless ``encoding`` says so), and for an ``.xlsx``/``.xls`` file
        that is not a workbook.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        if encoding is not None and encoding.lower().replace("-", "").startswith(_WIDE):
            return  # UTF-16/32 text is full of NUL bytes; the user said what it is
        _refuse_binary_text(file, _head(file))
    elif suffix in _XLSX_SUFFIXES or suffix == ".xls":
        _refuse_non_workbook(file, _head(file))


def check_reject_file(source: str | Path, reject_file: str | Path | None) -> None:
    """Refuse a reject file that is the input itself (writing it would destroy the input).

    Raises
    ------
    IngestError
        When ``reject_file`` names the same file as ``source``.
    """
    if reject_file is None:
        return
    first, second = Path(source), Path(reject_file)
    same = first.resolve() == second.resolve()
    if not same and first.exists() and second.exists():
        same = first.samefile(second)
    if same:
        msg = (
            f"{second.name} is the input file itself: writing rejects there would "
            f"overwrite it; name another file, e.g. {first.stem}.rejects.csv"
        )
        raise IngestError(msg, parameter="reject_file")
