"""The API's documentation page (Swagger UI) from the vendored copy under /static, with its script hashed.

FastAPI's own /docs loads Swagger UI from a public CDN and its favicon from another site: blank on a closed
network, and outside the pages' Content-Security-Policy. /redoc is the same documentation in Redoc, also from a
vendored copy: its standalone bundle renders every ``<redoc spec-url>`` element by itself (no inline script), and
searches in a Web Worker it starts from a blob: URL, which its policy allows (and nothing else from outside).
"""

from __future__ import annotations

import html
from functools import cache

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from geo_service.services import csp
from geo_service.services.map_assets import STATIC_URL

SWAGGER_UI = f"{STATIC_URL}/vendor/swagger-ui-5.35.0"
REDOC = f"{STATIC_URL}/vendor/redoc-2.5.0"
REDOC_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)

router = APIRouter(include_in_schema=False)


@cache
def _page(title: str) -> csp.Page:
    html = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{title} – API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url="data:,",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    ).body
    return csp.page(bytes(html).decode(), inline_scripts=1)


@router.get("/docs")
async def read_docs(request: Request) -> HTMLResponse:
    page = _page(request.app.title)
    return HTMLResponse(page.html, headers={"Content-Security-Policy": csp.header(page)})


@router.get("/redoc")
async def read_redoc(request: Request) -> HTMLResponse:
    """The API reference in Redoc, from the vendored bundle (works with no internet)."""
    title = html.escape(f"{request.app.title} – API")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><link rel="icon" href="data:,"><style>body{{margin:0}}</style></head><body>'
        '<redoc spec-url="/openapi.json"></redoc>'
        f'<script src="{REDOC}/redoc.standalone.js"></script></body></html>'
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": REDOC_POLICY})
