"""The ``f=html`` views of the OGC API pages: Jinja2 templates (every text escaped), scripts only from /static.

A page's map is drawn by ``static/ogc/map.js`` from the page's own URL with ``f=json``, so the pages carry no
inline script and their Content-Security-Policy allows scripts from this origin only.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote, unquote_plus

import jinja2
import orjson
from fastapi.responses import HTMLResponse

from geo_service.services import csp


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("geo_service", "templates"),
        autoescape=True,  # every stored text (names, addresses, notes) is escaped
        undefined=jinja2.StrictUndefined,
    )


def with_format(url: str, fmt: str) -> str:
    """``url`` with its ``f`` parameter set to ``fmt`` (the other parameters as sent)."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) != "f"]
    kept.append("f=" + quote(fmt, safe=""))
    return f"{path}?{'&'.join(kept)}"


def _alternates(url: str, json_type: str) -> list[dict[str, str]]:
    return [{"href": with_format(url, "json"), "type": json_type, "label": "JSON"}]


def page(
    base: str, template: str, title: str, url: str, crumbs: list[dict[str, str]], **context: Any
) -> HTMLResponse:
    """An OGC view rendered from ``templates/ogc/<template>`` with its strict policy."""
    json_type = "application/geo+json" if template.startswith("item") else "application/json"
    html = (
        _environment()
        .get_template(f"ogc/{template}")
        .render(base=base, title=title, crumbs=crumbs, alternates=_alternates(url, json_type), **context)
    )
    # Scripts only as files from this origin; a stored text that smuggled a <script> in would be escaped.
    return HTMLResponse(html, headers={"Content-Security-Policy": csp.header(csp.page(html, 0))})


def plain(document: Any) -> Any:
    """A document holding pre-serialised JSON fragments (GeoJSON from the database) as plain Python values."""
    return orjson.loads(orjson.dumps(document))
