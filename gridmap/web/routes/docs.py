"""API documentation pages whose assets come from the package (no CDN, no inline script)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_SWAGGER = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>gridmap API 接口文档</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs/swagger-init.js"></script></body></html>
"""

_REDOC = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>gridmap API 接口文档 (ReDoc)</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/static/vendor/redoc/redoc.standalone.js"></script></body></html>
"""


@router.get("/docs")
def swagger() -> HTMLResponse:
    """Swagger UI."""
    return HTMLResponse(_SWAGGER)


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc."""
    return HTMLResponse(_REDOC)
