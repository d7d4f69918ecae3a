"""The phone pages as a PWA: the web app manifest and the service worker, served at the root.

The service worker lives at ``/sw.js`` so its scope covers ``/cells`` and everything below
it (a script under ``/static/`` could only control ``/static/``). Its cache name carries a
digest of the assets it keeps, so a new release replaces the old copies on the phone.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gridmap.web.i18n import translator

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent.parent / "static"
#: What the service worker keeps for offline reading, besides the pages it has seen.
ASSETS = (
    "pages/app.css",
    "pages/app.js",
    "pages/cell-map.js",
    "pages/icon.svg",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
)


@functools.cache
def _worker_script() -> bytes:
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update((STATIC / name).read_bytes())
    script = (STATIC / "pages" / "sw.js").read_text(encoding="utf-8")
    digest.update(script.encode())
    return script.replace("__VERSION__", digest.hexdigest()[:12]).encode()


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker (always revalidated, so an update reaches the phone)."""
    return Response(
        _worker_script(),
        media_type="text/javascript",
        headers={"service-worker-allowed": "/", "cache-control": "no-cache"},
    )


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """The web app manifest: installable, opens on *My cells*."""
    t = translator(request.query_params.get("lang") or "zh")
    body = {
        "name": t("app"),
        "short_name": t("cells.title"),
        "lang": "zh-CN",
        "start_url": "/cells",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f5f7",
        "theme_color": "#a4161a",
        "icons": [
            {"src": "/static/pages/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json")
