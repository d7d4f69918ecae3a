"""The trend of an area's rates across runs as the numbers of a small SVG line chart
(drawn by the template, server-side: no script, nothing inline for the CSP to refuse)."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["RATES", "trend_chart"]

#: (rate key, catalogue key, line colour): the rates the dashboard shows, in order.
RATES: Final = (
    ("org_rate", "rate.org", "#a4161a"),
    ("work_rate", "rate.work", "#6b4500"),
    ("combined_rate", "rate.combined", "#0b4f9c"),
    ("service_rate", "rate.service", "#14532d"),
    ("service_population_rate", "rate.service_pop", "#5b2a86"),
)
_W, _H, _LEFT, _TOP, _BOTTOM, _RIGHT = 560, 200, 44, 12, 36, 12


def _x(i: int, n: int) -> float:
    span = _W - _LEFT - _RIGHT
    return _LEFT + (span / 2 if n == 1 else span * i / (n - 1))


def _y(value: float) -> float:
    return _TOP + (_H - _TOP - _BOTTOM) * (1 - max(0.0, min(1.0, value)))


def trend_chart(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Lines (one per rate) over the runs that have the area, oldest first."""
    n = len(points)
    lines = []
    for key, label, colour in RATES:
        dots = [
            {"x": round(_x(i, n), 1), "y": round(_y(float(p[key])), 1), "value": float(p[key]),
             "run": p["run"]}
            for i, p in enumerate(points)
            if p.get(key) is not None
        ]  # fmt: skip
        path = " ".join(f"{d['x']},{d['y']}" for d in dots)
        lines.append({"key": key, "label": label, "colour": colour, "dots": dots, "path": path})
    ticks = [{"y": round(_y(v / 100), 1), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    xs = [
        {"x": round(_x(i, n), 1), "label": f"#{p['run']} {p['as_of']}"}
        for i, p in enumerate(points)
    ]
    return {
        "runs": n, "lines": lines, "ticks": ticks, "xs": xs, "width": _W, "height": _H,
        "left": _LEFT, "right": _W - _RIGHT, "base": _H - _BOTTOM, "step": max(1, -(-n // 6)),
    }  # fmt: skip
