"""The scripts and stylesheets of the map pages, served by the service or inlined into written files.

Folium links Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs; with no internet (or behind a
blocked CDN) the page stays blank. Pages here link only vendored copies under ``/static``; files written by
the CLI carry them inline (images as data URIs), so they open from disk with no network at all, and name the
hashes of all their scripts in a ``<meta>`` Content-Security-Policy.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from geo_service.services import csp

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/static"

LEAFLET = "vendor/leaflet-1.9.4"
CLUSTER = "vendor/leaflet.markercluster-1.5.3"

MAP_JS = [("leaflet", f"{LEAFLET}/leaflet.js")]
MAP_CSS = [("leaflet_css", f"{LEAFLET}/leaflet.css"), ("geo_service_css", "maps.css")]
CLUSTER_JS = [("markerclusterjs", f"{CLUSTER}/leaflet.markercluster.js")]
CLUSTER_CSS = [
    ("markerclustercss", f"{CLUSTER}/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{CLUSTER}/MarkerCluster.Default.css"),
]


def urls(assets: list[tuple[str, str]], base: str = STATIC_URL) -> list[tuple[str, str]]:
    """Folium's (name, url) pairs for assets under the static base URL."""
    return [(name, f"{base}/{path}") for name, path in assets]


@cache
def _data_uri(path: Path) -> str:
    mime = {"png": "image/png", "svg": "image/svg+xml", "gif": "image/gif"}[path.suffix[1:]]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


@cache
def _inline_css(rel: str) -> str:
    path = STATIC_DIR / rel
    css = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        target = match.group(1).strip("'\"")
        if target.startswith(("data:", "http:", "https:", "#")):
            return match.group(0)
        return f"url({_data_uri((path.parent / target).resolve())})"

    return re.sub(r"url\(([^)]+)\)", embed, css)


@cache
def _inline_js(rel: str) -> str:
    return re.sub("</(script)", r"<\\/\1", (STATIC_DIR / rel).read_text(encoding="utf-8"), flags=re.I)


def _default_icons() -> str:
    """Leaflet finds its marker images through a CSS URL; with data URIs it must be told them directly."""
    images = STATIC_DIR / LEAFLET / "images"
    urls_js = ", ".join(
        f"{key}: '{_data_uri(images / name)}'"
        for key, name in (
            ("iconUrl", "marker-icon.png"),
            ("iconRetinaUrl", "marker-icon-2x.png"),
            ("shadowUrl", "marker-shadow.png"),
        )
    )
    return f"L.Icon.Default.imagePath = ''; L.Icon.Default.mergeOptions({{{urls_js}}});"


def saved(page: csp.Page, base: str = STATIC_URL) -> str:
    """A page as a file: the static assets inline, the hashes of their scripts beside the page's own in a CSP."""
    prefix = re.escape(base + "/")
    hashes = list(page.script_hashes)

    def script(match: re.Match[str]) -> str:
        bodies = [_inline_js(match.group(1))]
        if match.group(1).endswith("leaflet.js"):
            bodies.append(_default_icons())
        hashes.extend(csp.script_hash(body) for body in bodies)
        return "".join(f"<script>{body}</script>" for body in bodies)

    html = re.sub(rf'<script src="{prefix}([^"]+\.js)"></script>', script, page.html)
    html = re.sub(
        rf'<link rel="stylesheet" href="{prefix}([^"]+\.css)"\s*/?>',
        lambda m: f"<style>{_inline_css(m.group(1))}</style>",
        html,
    )
    return csp.with_meta(html, tuple(dict.fromkeys(hashes)))
