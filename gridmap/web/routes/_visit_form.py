"""A visit from the cell page's form (or the phone's offline queue) as a :class:`NewVisit`.

The form carries what ``POST /api/visits`` takes, as flat fields: the note, the client's
idempotency key, the time it was recorded (a visit queued offline is sent later), the phone's
location with its system (WGS-84 unless the phone says GCJ-02 or BD-09; stored as WGS-84),
and an optional reported change, checked by the API's own model.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import ValidationError

from gridmap.crs import to_wgs84
from gridmap.query import NewVisit
from gridmap.web.routes.visits import ChangeIn

__all__ = ["FormProblem", "visit_from_form"]

_CRS = ("wgs84", "gcj02", "bd09")
#: A visit queued offline may be sent days later; older or future times are not believed.
_OLDEST = dt.timedelta(days=30)
#: The largest accuracy (m) a phone's location may report and still be kept with it.
MAX_ACCURACY_M = 100_000.0


class FormProblem(ValueError):
    """The form cannot make a visit; ``key`` names the message shown in the page."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key


def _number(form: dict[str, str], name: str) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormProblem("visit.location_invalid", f"{name} is not a number") from None
    if not math.isfinite(value):
        raise FormProblem("visit.location_invalid", f"{name} is not finite")
    return value


def _accuracy(form: dict[str, str]) -> float | None:
    value = _number(form, "accuracy")
    if value is None or not 0 <= value <= MAX_ACCURACY_M:
        return None  # no figure, or one no phone gives: the location stands without it
    return round(value, 1)


def _location(form: dict[str, str]) -> tuple[float | None, float | None]:
    lon, lat = _number(form, "lon"), _number(form, "lat")
    if lon is None or lat is None:
        return None, None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise FormProblem("visit.location_invalid", f"lon {lon}, lat {lat} out of range")
    crs = form.get("crs") or "wgs84"
    if crs not in _CRS:
        raise FormProblem("visit.location_invalid", f"crs {crs!r} is not one of {_CRS}")
    if crs == "wgs84":
        return lon, lat
    x, y = to_wgs84([lon], [lat], crs)
    return round(float(x[0]), 7), round(float(y[0]), 7)


def _when(form: dict[str, str], now: dt.datetime) -> dt.datetime | None:
    text = form.get("visited_at", "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if not now - _OLDEST <= value <= now + dt.timedelta(minutes=5):
        return None  # a phone's clock far off: the server's time
    return min(value, now)


def _whole(form: dict[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise FormProblem("visit.change_invalid", f"{name} is not a whole number") from None


def _change(
    form: dict[str, str], lon: float | None, lat: float | None
) -> tuple[str | None, dict[str, Any] | None]:
    kind = form.get("change_kind", "").strip()
    if not kind:
        return None, None
    fields: dict[str, Any] = {"kind": kind}
    if kind == "members":
        fields["party_members"] = _whole(form, "party_members")
    elif kind == "branch_set_up":
        fields["members"] = _whole(form, "party_members")
        fields["name"] = form.get("branch_name", "").strip()[:200] or None
    elif kind == "station_active":
        fields["station_id"] = _whole(form, "station_id")
    elif kind == "unit_moved":
        fields["lon"], fields["lat"] = lon, lat
    try:
        change = ChangeIn(**fields)
    except ValidationError as error:
        detail = "; ".join(str(e["msg"]) for e in error.errors())
        raise FormProblem("visit.change_invalid", detail) from None
    return change.kind, change.model_dump(exclude_none=True, exclude={"kind"})


def visit_from_form(form: dict[str, str], now: dt.datetime) -> NewVisit:
    """The visit the form describes; :class:`FormProblem` when it cannot be one."""
    unit_id = int(form.get("unit_id", "0"))  # the page checked it is a number
    note = form.get("note", "").replace("\x00", "").strip()[:4000]
    if not note:
        raise FormProblem("visit.empty")
    lon, lat = _location(form)
    kind, change = _change(form, lon, lat)
    key = form.get("key", "").strip()[:100] or None
    return NewVisit(
        unit_id=unit_id,
        note=note,
        visited_at=_when(form, now),
        lon=lon,
        lat=lat,
        key=key,
        change_kind=kind,
        change=change,
        location_crs=form.get("crs") or "wgs84",
        accuracy_m=_accuracy(form),
    )
