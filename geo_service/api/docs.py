"""The API's documentation page (Swagger UI) from the vendored copy under /static, with its script hashed.

FastAPI's own /docs loads Swagger UI from a public CDN and its favicon from another site: blank on a closed
network, and outside the pages' Content-Security-Policy. /redoc is not served (it would need the same).
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from geo_service.services import csp
from geo_service.services.map_assets import STATIC_URL

SWAGGER_UI = f"{STATIC_URL}/vendor/swagger-ui-5.35.0"

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
