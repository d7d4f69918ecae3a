"""Escaping for the two contexts data reaches in a map page.

* Inside ``<script>``: :func:`script_json` serialises to JSON and escapes the
  characters that could end the script element or start a comment
  (``<``, ``>``, ``&``) and the two line terminators JavaScript rejects
  (U+2028, U+2029). Values stay strings; the page's JS puts them into the DOM
  with ``textContent`` only, never ``innerHTML``.
* Inside HTML: :func:`html_text` (``html.escape`` with quotes).

Both also neutralise Jinja delimiters (``{{``, ``{%``, ``{#``): branca renders
every element's output *again* as a Jinja template, so a name like
``{{ ''.__class__ }}`` would otherwise be evaluated when the page is built.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Final

__all__ = ["html_text", "script_json"]

_SCRIPT_UNSAFE: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
# Outside strings JSON never has "{{", "{%" or "{#", so each match is inside a string.
_JINJA_OPEN: Final = re.compile(r"\{(?=[{%#])")


def script_json(value: Any) -> str:
    """Serialise ``value`` as compact JSON that is safe inside a ``<script>`` element.

    Non-ASCII text stays UTF-8 (a Chinese character is 3 bytes instead of the
    6 of a ``\\uXXXX`` escape).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JINJA_OPEN.sub(r"\\u007b", text.translate(_SCRIPT_UNSAFE))


def html_text(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True).replace("{", "&#123;")
