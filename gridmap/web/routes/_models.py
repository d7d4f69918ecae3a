"""Shared pieces of the route models: strings that never carry NUL, pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, StringConstraints

from gridmap.query import MAX_PAGE


def _no_nul(value: str) -> str:
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    return value


ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_no_nul)]

LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows per page, 1-{MAX_PAGE}")]
OffsetQuery = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip")]
RunQuery = Annotated[
    int | None, Query(alias="run", description="a stored run id (default: the newest run)")
]


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


#: A time the store keeps in UTC (naive), answered with its offset (RFC 3339).
UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]
