"""axe-core (vendored in tests/vendor/axe) run on the page a browser test has open.

The script is evaluated through the DevTools protocol, so the pages keep their strict CSP
(no inline script is added to them). A page passes when axe finds no violation of
``serious`` or ``critical`` impact: labels on every field, colour contrast, names of links
and buttons, a page language, valid ARIA.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe" / "axe.min.js"
BLOCKING = ("serious", "critical")


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[str]:
    """The serious and critical axe violations of the open page, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 120))}))"
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}: {v['nodes']}"
        for v in found
        if v["impact"] in BLOCKING
    ]
