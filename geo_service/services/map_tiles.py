"""Facility layers drawn from the service's vector tiles on served map pages, for types with many facilities.

A page with a million facilities inline would weigh tens of megabytes; from tiles it loads what the screen
shows (a few tiles, kept per data version, services/tiles.py). protomaps-leaflet (vendored) draws them on a
canvas; clicks are looked up in the tile data (static/ogc/tile_popup.js). Map files written by the CLI stay
self-contained and never use this. AMap basemaps are GCJ-02: the tiles are WGS84, so those pages stay inline.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.elements import JSCSSMixin
from jinja2 import Template
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.services.map_assets import urls
from geo_service.services.tiles import POINT_DETAIL_ZOOM, TILE_MATRIX_SET

#: Facility layers with at least this many active facilities come from tiles (below: inline and clustered).
TILED_FROM = 20_000
PROTOMAPS_JS = [
    ("protomaps_leaflet", "vendor/protomaps-leaflet-5.1.0/protomaps-leaflet.js"),
    ("gs_tile_popup", "ogc/tile_popup.js"),
]


class VectorTileLayer(JSCSSMixin, folium.map.Layer):
    """One MVT layer of the service's tiles as a Leaflet layer (listed in the layer control by its name)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
if (!{{ this._parent.get_name() }}.getPane("gsTiled")) {  // above the divisions, clicks go through
    var gsPane = {{ this._parent.get_name() }}.createPane("gsTiled");
    gsPane.style.zIndex = 450;
    gsPane.style.pointerEvents = "none";
}
var {{ this.get_name() }} = protomapsL.leafletLayer({
    url: {{ this.url|tojson }}, pane: "gsTiled", levelDiff: 0, attribution: "geo_service",
    maxDataZoom: {{ this.max_data_zoom }}, labelRules: [],
    paintRules: [{dataLayer: {{ this.data_layer|tojson }},
        filter: function (z, f) { return f.props.count !== undefined || f.props.status === "active"; },
        symbolizer: new protomapsL.CircleSymbolizer({
        radius: function (z, f) { var n = f && f.props.count; return n ? Math.min(3 + Math.sqrt(n), 14) : 4; },
        fill: "#d7301f", stroke: "#ffffff", width: 1, opacity: 0.85})}]
}).addTo({{ this._parent.get_name() }});
{{ this._parent.get_name() }}.on("preclick", function (e) {
    if ({{ this._parent.get_name() }}.hasLayer({{ this.get_name() }})) {
        gsTilePopup({{ this._parent.get_name() }}, {{ this.get_name() }}, {{ this.data_layer|tojson }}, e);
    }
});
{% endmacro %}"""
    )

    def __init__(self, name: str, url: str, data_layer: str, static_url: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "VectorTileLayer"
        self.url = url
        self.data_layer = data_layer
        self.max_data_zoom = POINT_DETAIL_ZOOM
        self.default_js = urls(PROTOMAPS_JS, static_url)


async def active_count(conn: AsyncConnection, ftype: str) -> int:
    """How many active facilities a type has (the index on type and status answers it)."""
    row = (
        await conn.execute(
            text("SELECT count(*) FROM facilities WHERE type = :t AND status = 'active'"), {"t": ftype}
        )
    ).one()
    return int(row[0])


async def facility_tiles(
    conn: AsyncConnection, m: folium.Map, ftype: str, name: str, static_url: str, basemap: str
) -> int | None:
    """Add the type's facilities to ``m`` from tiles when it has TILED_FROM or more; their count, else None."""
    if basemap != "osm":
        return None
    count = await active_count(conn, ftype)
    if count < TILED_FROM:
        return None
    collection: Any = (
        await conn.execute(text("SELECT collection FROM facility_types WHERE code = :t"), {"t": ftype})
    ).scalar_one()
    url = f"/collections/{collection}/tiles/{TILE_MATRIX_SET}/{{z}}/{{y}}/{{x}}"
    VectorTileLayer(name, url, collection, static_url).add_to(m)
    return count
