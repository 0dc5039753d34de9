"""What every map page shares: basemaps, escaping, the page and its CSP, panels, bounds, the page cache, and the
clustered facility layer.

Every layer is one GeoJSON layer (facilities clustered on the client), polygons are simplified to what the
map needs, and with the AMap basemap (drawn in GCJ-02) every geometry is converted to GCJ-02 first, or it
would sit ~600 m off.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import folium
import orjson
from folium.plugins import MarkerCluster
from folium.utilities import JsCode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import versions
from geo_service.db.sql import compose
from geo_service.domain.crs import convert_geojson, from_wgs84
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import csp
from geo_service.services.feature_properties import FACILITY
from geo_service.services.lru import LRU
from geo_service.services.map_assets import CLUSTER_CSS, CLUSTER_JS, MAP_CSS, MAP_JS, urls

BASEMAPS = ("osm", "amap")
#: Simplification tolerance in degrees per level (~50 m, ~20 m, ~10 m): invisible at the zooms each is seen at.
SIMPLIFY = {"district": 0.0005, "township": 0.0002, "village": 0.0001}


@dataclass(frozen=True)
class Tiles:
    """Basemap tile sources (a deployment may point them at its own tile server)."""

    osm_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    osm_attribution: str = "© OpenStreetMap contributors"
    amap_url: str = (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
    )
    amap_attribution: str = "© 高德地图 AutoNavi"
    amap_subdomains: str = "1234"


def check_basemap(basemap: str) -> None:
    """InvalidInput unless ``basemap`` is one of BASEMAPS."""
    if basemap not in BASEMAPS:
        raise InvalidInput(t("unknown basemap {basemap!r}: use osm or amap", basemap=basemap))


def geometry(geojson: str, basemap: str) -> dict[str, Any]:
    geom = orjson.loads(geojson)
    return convert_geojson(geom, "gcj02") if basemap == "amap" else geom


def xy(lon: float, lat: float, basemap: str) -> tuple[float, float]:
    if basemap == "amap":
        x, y = from_wgs84("gcj02", lon, lat)
        return float(x), float(y)
    return lon, lat


# Every text a page shows is escaped here, where the page is built: Folium passes texts on as they are and
# Leaflet inserts popups, tooltips and layer names as HTML. (Folium's own JSON escapes < > & ' only so that
# the data cannot end its <script>; inside it, the texts are still HTML to Leaflet.)


def safe(props: dict[str, Any]) -> dict[str, Any]:
    """Popups and tooltips insert values as HTML: escape every text value."""
    return {k: html.escape(v) if isinstance(v, str) else ("" if v is None else v) for k, v in props.items()}


def layer_name(name: str) -> str:
    """A layer's name as the layer control shows it (as HTML)."""
    return html.escape(name)


def page_of(m: folium.Map) -> csp.Page:
    # Folium writes two inline scripts: its switches in <head>, the map's code after <body>.
    return csp.page(m.get_root().render(), inline_scripts=2)


def base_map(
    title: str, bounds: list[list[float]], basemap: str, tiles: Tiles, static_url: str
) -> folium.Map:
    m = folium.Map(location=None, tiles=None, control_scale=True, prefer_canvas=True, zoom_start=10)
    m.default_js = urls(MAP_JS, static_url)
    m.default_css = urls(MAP_CSS, static_url)
    if basemap == "amap":
        folium.TileLayer(
            tiles=tiles.amap_url,
            attr=tiles.amap_attribution,
            name="高德地图 AMap",
            subdomains=tiles.amap_subdomains,
            max_zoom=18,
        ).add_to(m)
    else:
        folium.TileLayer(
            tiles=tiles.osm_url, attr=tiles.osm_attribution, name="OpenStreetMap", max_zoom=19
        ).add_to(m)
    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
    root.header.add_child(folium.Element('<link rel="icon" href="data:,">'))  # no favicon request
    root.header.add_child(folium.Element('<meta name="geo-service-basemap" content="' + basemap + '">'))
    m.fit_bounds(bounds)
    return m


def panel(m: folium.Map, css_class: str, inner_html: str) -> None:
    root: Any = m.get_root()
    root.html.add_child(folium.Element(f'<div class="gs-panel {css_class}">{inner_html}</div>'))


def bounds_of(geoms: list[dict[str, Any]]) -> list[list[float]] | None:
    """The [[south, west], [north, east]] box of GeoJSON geometries, or None when they have no coordinates."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for part in c:
                walk(part)

    for g in geoms:
        walk(g["coordinates"])
    if not xs:
        return None
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


#: The whole map, when nothing at all is loaded.
WORLD = [[-60.0, -180.0], [75.0, 180.0]]
_REGION = text(
    "SELECT ST_YMin(e), ST_XMin(e), ST_YMax(e), ST_XMax(e) FROM (SELECT ST_Extent(geom) AS e FROM ("
    "SELECT geom FROM divisions WHERE level = 'district' UNION ALL "
    "(SELECT geom FROM facilities WHERE NOT EXISTS (SELECT 1 FROM divisions) LIMIT 100000)) g) x"
)


async def region_bounds(conn: AsyncConnection) -> list[list[float]]:
    """The box of the region the data covers (its districts, else its facilities), for a map with nothing of its
    own to show; the whole map when nothing is loaded."""
    south, west, north, east = (await conn.execute(_REGION)).one()
    return WORLD if south is None else [[south, west], [north, east]]


#: Rendered pages by parameters and the versions of the data they show: a planner's second look at a map is
#: instant (and the same page, so its ETag holds), and a write to that data changes its version at once.
_pages: LRU[tuple[Any, ...], csp.Page] = LRU(8)


async def kept(
    conn: AsyncConnection,
    key: tuple[Any, ...],
    data_sets: tuple[str, ...],
    render: Callable[[], Awaitable[csp.Page]],
) -> csp.Page:
    shown = await versions.versions_of(conn, *data_sets)
    full = (conn.engine.url, *key, tuple(shown.values()))
    page = _pages.get(full)
    if page is None:
        page = await render()
        _pages.put(full, page)
    return page


#: The cluster takes the markers over from their GeoJSON layer, which is then on no map: a popup bound to the
#: layer never opens. Each marker gets its own; the values are escaped already (safe).
FACILITY_POPUP = JsCode("""function (feature, layer) {
    const p = feature.properties, row = (label, value) => '<tr><th>' + label + '</th><td>' + value + '</td></tr>';
    layer.bindPopup('<table>' + row('名称 Name', p.name) + row('地址 Address', p.address)
                    + row('所在区划 Division', p.division) + '</table>', {className: 'gs-popup'});
}""")


#: Active facilities of a type in a division (``:p``, a code prefix), with their OGC properties' SQL.
_FACILITIES = text(
    compose(
        "SELECT t.id, ST_AsGeoJSON(t.geom, 5), {name}, {address}, v.name FROM facilities t "
        "LEFT JOIN divisions v ON v.code = coalesce(t.village_code, t.township_code, t.district_code) "
        "WHERE t.type = :t AND t.status = 'active' AND coalesce(t.village_code, t.district_code, '') LIKE :p "
        "ORDER BY t.id",
        name=FACILITY["name"],
        address=FACILITY["address"],
    )
)


async def facility_layer(
    conn: AsyncConnection,
    m: folium.Map,
    ftype: str,
    within: str | None,
    basemap: str,
    static_url: str,
    name: str,
) -> int:
    """The facilities of a type as one clustered layer; ``name`` is HTML (see layer_name)."""
    rows = (await conn.execute(_FACILITIES, {"t": ftype, "p": (within or "") + "%"})).all()
    features = [
        {
            "type": "Feature",
            "id": r[0],
            "geometry": geometry(r[1], basemap),
            "properties": safe({"name": r[2], "address": r[3], "division": r[4]}),
        }
        for r in rows
    ]
    cluster = MarkerCluster(name=name, show=True)
    cluster.default_js = urls(CLUSTER_JS, static_url)
    cluster.default_css = urls(CLUSTER_CSS, static_url)
    cluster.add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        on_each_feature=FACILITY_POPUP,
    ).add_to(cluster)
    return len(features)
