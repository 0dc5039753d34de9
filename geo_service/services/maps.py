"""Folium map pages: coverage for planners, boundaries and markers, and the facility finder.

Every layer is one GeoJSON layer (facilities clustered on the client), polygons are simplified to what the
map needs, and with the AMap basemap (drawn in GCJ-02) every geometry is converted to GCJ-02 first, or it
would sit ~600 m off. Numbers come from the same services as the API.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import folium
import orjson
from folium.plugins import MarkerCluster
from folium.utilities import JsCode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import versions
from geo_service.domain.crs import convert_geojson, from_wgs84
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.services import coverage, csp, facility_types, map_tiles, nearest
from geo_service.services.geojson import dumps
from geo_service.services.lru import LRU
from geo_service.services.map_assets import CLUSTER_CSS, CLUSTER_JS, MAP_CSS, MAP_JS, STATIC_URL, urls

BASEMAPS = ("osm", "amap")
#: Simplification tolerance in degrees per level (~50 m, ~20 m, ~10 m): invisible at the zooms each is seen at.
SIMPLIFY = {"district": 0.0005, "township": 0.0002, "village": 0.0001}
STATUS_COLOURS = {"intact": "#1a9850", "damaged": "#fd8d3c", "missing": "#d73027", "moved": "#7b3294"}
STATUS_LABELS = {
    "intact": "完好 intact",
    "damaged": "损坏 damaged",
    "missing": "缺失 missing",
    "moved": "移位 moved",
}
#: Covered-share classes of the choropleth: (upper bound, colour, label).
CLASSES = [
    (0.0, "#f7f7f7", "0%"),
    (0.25, "#d9f0d3", "< 25%"),
    (0.5, "#a6dba0", "25–50%"),
    (0.75, "#5aae61", "50–75%"),
    (0.999999, "#1b7837", "75–100%"),
    (1.0, "#00441b", "100%"),
]


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


def _check_basemap(basemap: str) -> None:
    if basemap not in BASEMAPS:
        raise InvalidInput(f"unknown basemap {basemap!r}: use osm or amap")


def _geometry(geojson: str, basemap: str) -> dict[str, Any]:
    geom = orjson.loads(geojson)
    return convert_geojson(geom, "gcj02") if basemap == "amap" else geom


def _xy(lon: float, lat: float, basemap: str) -> tuple[float, float]:
    if basemap == "amap":
        x, y = from_wgs84("gcj02", lon, lat)
        return float(x), float(y)
    return lon, lat


# Every text a page shows is escaped here, where the page is built: Folium passes texts on as they are and
# Leaflet inserts popups, tooltips and layer names as HTML. (Folium's own JSON escapes < > & ' only so that
# the data cannot end its <script>; inside it, the texts are still HTML to Leaflet.)


def _safe(props: dict[str, Any]) -> dict[str, Any]:
    """Popups and tooltips insert values as HTML: escape every text value."""
    return {k: html.escape(v) if isinstance(v, str) else ("" if v is None else v) for k, v in props.items()}


def _layer(name: str) -> str:
    """A layer's name as the layer control shows it (as HTML)."""
    return html.escape(name)


def _page(m: folium.Map) -> csp.Page:
    # Folium writes two inline scripts: its switches in <head>, the map's code after <body>.
    return csp.page(m.get_root().render(), inline_scripts=2)


def _base_map(
    title: str, bounds: list[list[float]], basemap: str, tiles: Tiles, static_url: str
) -> folium.Map:
    m = folium.Map(location=None, tiles=None, control_scale=True, prefer_canvas=True, zoom_start=10)
    m.default_js = urls(MAP_JS, static_url)
    m.default_css = urls(MAP_CSS, static_url)
    if basemap == "amap":
        folium.TileLayer(tiles=tiles.amap_url, attr=tiles.amap_attribution, name="高德地图 AMap",
                         subdomains=tiles.amap_subdomains, max_zoom=18).add_to(m)  # fmt: skip
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


def _panel(m: folium.Map, css_class: str, inner_html: str) -> None:
    root: Any = m.get_root()
    root.html.add_child(folium.Element(f'<div class="gs-panel {css_class}">{inner_html}</div>'))


def _bounds(geoms: list[dict[str, Any]]) -> list[list[float]]:
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
        return [[22.5, 112.9], [24.0, 114.1]]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def _colour(ratio: float) -> str:
    for bound, colour, _ in CLASSES:
        if ratio <= bound:
            return colour
    return CLASSES[-1][1]


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _legend_coverage(mode: str) -> str:
    rows = "".join(f'<div><i style="background:{c}"></i>{label}</div>' for _, c, label in CLASSES)
    rows += '<div><i style="background:none;border:2px solid #d7301f"></i>未覆盖 uncovered</div>'
    if mode == "radius":
        rows += '<div><i style="background:rgba(49,130,189,0.25);border-color:#3182bd"></i>服务范围 service area</div>'
    return f"<b>覆盖面积比例 Covered share</b>{rows}"


async def coverage_map(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
    basemap: str = "osm",
    tiles: Tiles | None = None,
    static_url: str = STATIC_URL,
    downloads: bool = False,
    vector_tiles: bool = False,
) -> csp.Page:
    """The coverage page: divisions shaded by covered share, uncovered outlined, clustered facilities, discs.

    ``downloads``: link the coverage table and gaps downloads for the same parameters (served pages).
    ``vector_tiles``: draw a type with many facilities from the service's tiles (served pages; services/map_tiles.py).
    """
    _check_basemap(basemap)
    tiles = tiles or Tiles()
    info = await facility_types.get_type(conn, ftype)
    key = (
        "coverage",
        info,
        radius_m,
        level,
        within,
        mode,
        basemap,
        tiles,
        static_url,
        downloads,
        vector_tiles,
    )
    return await _kept(
        conn,
        key,
        ("divisions", versions.facility_type(ftype)),
        lambda: _coverage_page(
            conn, info, radius_m, level, within, mode, basemap, tiles, static_url, downloads, vector_tiles
        ),
    )


#: Rendered pages by parameters and the versions of the data they show: a planner's second look at a map is
#: instant (and the same page, so its ETag holds), and a write to that data changes its version at once.
_pages: LRU[tuple[Any, ...], csp.Page] = LRU(8)


async def _kept(
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


async def _coverage_page(
    conn: AsyncConnection,
    info: facility_types.FacilityTypeInfo,
    radius_m: float | None,
    level: str | None,
    within: str | None,
    mode: str | None,
    basemap: str,
    tiles: Tiles,
    static_url: str,
    downloads: bool,
    vector_tiles: bool = False,
) -> csp.Page:
    ftype = info.code
    answer = await coverage.coverage(conn, ftype, radius_m, level, within, mode)
    q = coverage.CoverageQuery(ftype, answer["mode"], answer["radius_m"] or 0.0, answer["level"], within)
    shapes: dict[str, str] = dict(
        (
            await conn.execute(
                text("SELECT code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), :digits) FROM divisions "
                     "WHERE level = :level AND code LIKE :prefix"),
                {"tol": SIMPLIFY[q.level], "level": q.level, "prefix": (within or "") + "%",
                 "digits": 5 if within else 4},
            )
        ).all()
    )  # fmt: skip
    features = []
    for row in answer["divisions"]:
        kept = {k: row[k] for k in ("code", "name", "facilities", "area_km2", "covered_area_ratio", "population",
                                    "covered_population")}  # fmt: skip
        props = _safe({**kept, "area_km2": round(row["area_km2"], 3), "covered_area_pct": _pct(row["covered_area_ratio"]),
                       "covered_population_pct": _pct(row["covered_population"] / row["population"])
                       if row["population"] else "–"})  # fmt: skip
        features.append({"type": "Feature", "id": row["code"], "properties": props,
                         "geometry": _geometry(shapes[row["code"]], basemap)})  # fmt: skip
    title = f"{info.name_zh}覆盖 {info.name_en} coverage"
    m = _base_map(title, _bounds([f["geometry"] for f in features]), basemap, tiles, static_url)
    # Service areas first, so that they lie under the divisions.
    if q.mode == "radius":
        area = await coverage.service_area(conn, q, SIMPLIFY["village"])
        if area:
            folium.GeoJson(
                {"type": "Feature", "properties": {}, "geometry": _geometry(area, basemap)},
                name=_layer(f"服务范围 Service areas ({q.radius_m:g} m)"),
                style_function=lambda f: {"fillColor": "#3182bd", "fillOpacity": 0.25, "color": "#3182bd",
                                          "weight": 0.8},
                interactive=False,
            ).add_to(m)  # fmt: skip
    popup_fields = ["name", "code", "facilities", "area_km2", "covered_area_pct", "population",
                    "covered_population", "covered_population_pct"]  # fmt: skip
    popup_aliases = ["名称 Name", "代码 Code", "设施 Facilities", "面积 Area (km²)", "覆盖面积 Covered area",
                     "人口 Population", "覆盖人口 Covered people", "人口覆盖率 Covered people (%)"]  # fmt: skip
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=_layer("覆盖率 Covered share"),
        style_function=lambda f: {"fillColor": _colour(f["properties"]["covered_area_ratio"]), "fillOpacity": 0.6,
                                  "color": "#555", "weight": 0.6},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000"},
        popup=folium.GeoJsonPopup(fields=popup_fields, aliases=popup_aliases, class_name="gs-popup"),
        tooltip=folium.GeoJsonTooltip(fields=["name", "covered_area_pct"], aliases=["", "覆盖 covered"]),
    ).add_to(m)  # fmt: skip
    uncovered = [f for f in features if f["properties"]["covered_area_ratio"] == 0]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": uncovered},
        name=_layer(f"未覆盖 Uncovered ({len(uncovered)})"),
        style_function=lambda f: {"fill": False, "color": "#d7301f", "weight": 2.5},
        interactive=False,
    ).add_to(m)  # fmt: skip
    name = _layer(f"设施 Facilities ({info.name_zh})")
    if not (vector_tiles and await map_tiles.facility_tiles(conn, m, ftype, name, static_url, basemap)):
        await _facility_layer(conn, m, ftype, within, basemap, static_url, name)
    s = answer["summary"]
    params = [("类型 Type", f"{info.name_zh} {ftype}"), ("方式 Mode", q.mode),
              ("半径 Radius", f"{q.radius_m:g} m" if q.mode == "radius" else "–"), ("级别 Level", q.level),
              ("范围 Within", within or "全部 all")]  # fmt: skip
    figures = [("区划 Divisions", f"{s['covered_divisions']:,} / {s['divisions']:,} covered"),
               ("面积 Area", f"{s['covered_area_km2']:,.1f} / {s['area_km2']:,.1f} km² ({_pct(s['covered_area_ratio'])})"),
               ("人口 People", f"{s['covered_population']:,} / {s['population']:,} ({_pct(s['covered_population_ratio'])})")]  # fmt: skip
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in params + figures
    )
    links = ""
    if downloads:
        # The parameters as validated, never the request's query string echoed back.
        asked = {"type": ftype, "radius_m": radius_m, "level": level, "within": within, "mode": mode}
        query = html.escape(urlencode({k: v for k, v in asked.items() if v is not None}))
        links = ('<div class="gs-links">'
                 f'<a href="/v1/coverage?{query}&amp;format=csv" download>CSV</a>'
                 f'<a href="/v1/coverage?{query}&amp;format=xlsx" download>Excel</a>'
                 f'<a href="/v1/coverage/gaps?{query}&amp;format=geojson" download>未覆盖 GeoJSON</a>'
                 f'<a href="/v1/coverage/gaps?{query}&amp;format=gpkg" download>未覆盖 GeoPackage</a></div>')  # fmt: skip
    _panel(m, "gs-title", f'<h1>{html.escape(title)}</h1><table id="gs-summary">{rows}</table>{links}')
    _panel(m, "gs-legend", _legend_coverage(q.mode))
    folium.LayerControl(collapsed=False).add_to(m)
    return _page(m)


#: The cluster takes the markers over from their GeoJSON layer, which is then on no map: a popup bound to the
#: layer never opens. Each marker gets its own; the values are escaped already (_safe).
_FACILITY_POPUP = JsCode("""function (feature, layer) {
    const p = feature.properties, row = (label, value) => '<tr><th>' + label + '</th><td>' + value + '</td></tr>';
    layer.bindPopup('<table>' + row('名称 Name', p.name) + row('地址 Address', p.address)
                    + row('所在区划 Division', p.division) + '</table>', {className: 'gs-popup'});
}""")


async def _facility_layer(
    conn: AsyncConnection,
    m: folium.Map,
    ftype: str,
    within: str | None,
    basemap: str,
    static_url: str,
    name: str,
) -> int:
    """The facilities of a type as one clustered layer; ``name`` is HTML (see _layer)."""
    rows = (
        await conn.execute(
            text("SELECT f.id, ST_AsGeoJSON(f.geom, 5), f.name, f.address, f.village_code, v.name "
                 "FROM facilities f LEFT JOIN divisions v ON v.code = coalesce(f.village_code, f.township_code, f.district_code) "
                 "WHERE f.type = :t AND f.status = 'active' AND coalesce(f.village_code, f.district_code, '') LIKE :p "
                 "ORDER BY f.id"),
            {"t": ftype, "p": (within or "") + "%"},
        )
    ).all()  # fmt: skip
    features = [
        {"type": "Feature", "id": r[0], "geometry": _geometry(r[1], basemap),
         "properties": _safe({"name": r[2], "address": r[3], "division": r[5]})}
        for r in rows
    ]  # fmt: skip
    cluster = MarkerCluster(name=name, show=True)
    cluster.default_js = urls(CLUSTER_JS, static_url)
    cluster.default_css = urls(CLUSTER_CSS, static_url)
    cluster.add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        on_each_feature=_FACILITY_POPUP,
    ).add_to(cluster)
    return len(features)


async def boundaries_map(
    conn: AsyncConnection,
    district: str | None = None,
    basemap: str = "osm",
    tiles: Tiles | None = None,
    static_url: str = STATIC_URL,
) -> csp.Page:
    """Boundary lines with their names and markers coloured by status, with inspection histories."""
    _check_basemap(basemap)
    tiles = tiles or Tiles()
    key = ("boundaries", district, basemap, tiles, static_url)
    return await _kept(
        conn,
        key,
        ("divisions", "boundaries"),
        lambda: _boundaries_page(conn, district, basemap, tiles, static_url),
    )


async def _boundaries_page(
    conn: AsyncConnection, district: str | None, basemap: str, tiles: Tiles, static_url: str
) -> csp.Page:
    if district is not None:
        found = (await conn.execute(text("SELECT 1 FROM divisions WHERE code = :c AND level = 'district'"),
                                    {"c": district})).first()  # fmt: skip
        if not found:
            raise NotFound(f"unknown district code {district!r}")
    districts = (
        await conn.execute(
            text("SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 5) FROM divisions "
                 "WHERE level = 'district' ORDER BY code"),
            {"tol": SIMPLIFY["district"]},
        )
    ).all()  # fmt: skip
    line_filter = "WHERE l.left_code = :d OR l.right_code = :d" if district else ""
    lines = (
        await conn.execute(
            text(f"SELECT l.code, l.name, ST_AsGeoJSON(l.geom, 6), round(CAST(ST_Length(l.geom::geography) AS numeric)), "
                 "(SELECT count(*) FROM boundary_markers m WHERE m.line_code = l.code), "
                 "(SELECT count(*) FROM boundary_markers m WHERE m.line_code = l.code AND m.status = 'intact'), "
                 "(SELECT max(last_inspected_on) FROM boundary_markers m WHERE m.line_code = l.code) "
                 f"FROM boundary_lines l {line_filter} ORDER BY l.code"),
            {"d": district},
        )
    ).all()  # fmt: skip
    markers = (
        await conn.execute(
            text("SELECT m.id, ST_AsGeoJSON(m.geom, 6), m.number, m.kind, m.status, m.line_code, l.name, "
                 "m.installed_on, m.last_inspected_on, coalesce((SELECT json_agg(json_build_object("
                 "'status', i.status, 'on', i.inspected_on) ORDER BY i.inspected_on, i.id) "  # notes: staff only
                 "FROM marker_inspections i WHERE i.marker_id = m.id), '[]') "
                 f"FROM boundary_markers m JOIN boundary_lines l ON l.code = m.line_code {line_filter} ORDER BY m.id"),
            {"d": district},
        )
    ).all()  # fmt: skip
    shown = [d for d in districts if district is None or d[0] == district] or districts
    district_features = [{"type": "Feature", "id": d[0], "properties": _safe({"name": d[1], "code": d[0]}),
                          "geometry": _geometry(d[2], basemap)} for d in districts]  # fmt: skip
    title = "界线与界桩 Boundaries and markers" + (f" — {shown[0][1]}" if district else "")
    m = _base_map(title, _bounds([_geometry(d[2], basemap) for d in shown]), basemap, tiles, static_url)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": district_features},
        name=_layer("区 Districts"),
        style_function=lambda f: {"fillColor": "#ffffff", "fillOpacity": 0.05, "color": "#666", "weight": 1},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""]),
    ).add_to(m)  # fmt: skip
    if district:
        towns = (
            await conn.execute(
                text("SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 5) FROM divisions "
                     "WHERE level = 'township' AND parent_code = :d ORDER BY code"),
                {"tol": SIMPLIFY["township"], "d": district},
            )
        ).all()  # fmt: skip
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": t[0], "properties": _safe({"name": t[1], "code": t[0]}),
                 "geometry": _geometry(t[2], basemap)} for t in towns]},
            name=_layer("镇街 Townships"),
            style_function=lambda f: {"fill": False, "color": "#999", "weight": 0.8, "dashArray": "4 3"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""]),
        ).add_to(m)  # fmt: skip
    line_features = [
        {"type": "Feature", "id": r[0], "geometry": _geometry(r[2], basemap),
         "properties": _safe({"name": r[1], "code": r[0], "length_km": f"{float(r[3]) / 1000:.1f}",
                              "marker_count": r[4], "markers_intact": r[5],
                              "last_inspected_on": r[6].isoformat() if r[6] else "–"})}
        for r in lines
    ]  # fmt: skip
    folium.GeoJson(
        {"type": "FeatureCollection", "features": line_features},
        name=_layer("界线 Boundary lines"),
        style_function=lambda f: {"color": "#54278f", "weight": 3.5, "opacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""], sticky=True),
        popup=folium.GeoJsonPopup(fields=["name", "code", "length_km", "marker_count", "markers_intact",
                                          "last_inspected_on"],
                                  aliases=["界线 Line", "代码 Code", "长度 Length (km)", "界桩 Markers",
                                           "完好 Intact", "最近联检 Last inspected"], class_name="gs-popup"),
    ).add_to(m)  # fmt: skip
    marker_features = []
    for r in markers:
        history = orjson.loads(r[9]) if isinstance(r[9], str) else r[9]
        history_html = (
            "<br>".join(
                f"{html.escape(str(h['on']))} {html.escape(STATUS_LABELS.get(h['status'], h['status']))}"
                for h in history
            )
            or "未联检 not inspected"
        )
        props = _safe({"id": r[0], "number": r[2], "kind": r[3], "status": STATUS_LABELS.get(r[4], r[4]),
                       "line": r[6], "installed_on": r[7].isoformat() if r[7] else "–",
                       "last_inspected_on": r[8].isoformat() if r[8] else "–"})  # fmt: skip
        props["history"] = history_html  # already escaped piece by piece
        props["colour"] = STATUS_COLOURS.get(r[4], "#333")
        marker_features.append(
            {"type": "Feature", "id": r[0], "geometry": _geometry(r[1], basemap), "properties": props}
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": marker_features},
        name=_layer(f"界桩 Markers ({len(marker_features)})"),
        marker=folium.CircleMarker(radius=6, weight=1.5, fill_opacity=0.9),
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#222", "fill": True,
                                  "fillOpacity": 0.9},
        popup=folium.GeoJsonPopup(fields=["number", "line", "kind", "status", "installed_on", "last_inspected_on",
                                          "history"],
                                  aliases=["编号 Number", "界线 Line", "类型 Kind", "状态 Status", "埋设 Installed",
                                           "最近联检 Last inspected", "联检记录 Inspections"], class_name="gs-popup"),
    ).add_to(m)  # fmt: skip
    counts: dict[str, int] = {}
    for r in markers:
        counts[r[4]] = counts.get(r[4], 0) + 1
    legend = "".join(
        f'<div><i style="background:{c};border-radius:50%"></i>{STATUS_LABELS[s]} ({counts.get(s, 0)})</div>'
        for s, c in STATUS_COLOURS.items()
    )
    legend += '<div><i class="gs-line" style="border-color:#54278f"></i>界线 boundary line</div>'
    _panel(m, "gs-title", f"<h1>{html.escape(title)}</h1><div>{len(line_features)} 条界线 lines, "
                          f"{len(marker_features)} 个界桩 markers</div>")  # fmt: skip
    _panel(m, "gs-legend", f"<b>界桩状态 Marker status</b>{legend}")
    folium.LayerControl(collapsed=False).add_to(m)
    return _page(m)


async def finder_map(
    conn: AsyncConnection,
    lon: float,
    lat: float,
    ftype: str,
    k: int = 5,
    basemap: str = "osm",
    tiles: Tiles | None = None,
    static_url: str = STATIC_URL,
) -> csp.Page:
    """The query point, its k nearest facilities, and a line to each labelled with the distance in metres."""
    _check_basemap(basemap)
    tiles = tiles or Tiles()
    info = await facility_types.get_type(conn, ftype)
    answer = await nearest.nearest(conn, lon, lat, ftype, k, None, "gcj02" if basemap == "amap" else "wgs84")
    feats = orjson.loads(dumps(answer))["features"]
    px, py = _xy(lon, lat, basemap)
    geoms = [{"type": "Point", "coordinates": [px, py]}] + [f["geometry"] for f in feats]
    title = f"最近的{info.name_zh} Nearest {info.name_en.lower()}s"
    m = _base_map(title, _bounds(geoms), basemap, tiles, static_url)
    folium.Marker([py, px], tooltip="查询位置 Query point",
                  icon=folium.DivIcon(html='<div style="width:14px;height:14px;border-radius:50%;background:#d7301f;'
                                           'border:2px solid #fff;box-shadow:0 0 3px #000"></div>',
                                      icon_size=(18, 18), icon_anchor=(9, 9))).add_to(m)  # fmt: skip
    lines = folium.FeatureGroup(name=_layer("距离 Distances")).add_to(m)
    points = []
    for rank, f in enumerate(feats, start=1):
        props = f["properties"]
        fx, fy = f["geometry"]["coordinates"]
        dist = props["distance_m"]
        label = f"{dist:,.0f} m" if dist < 10_000 else f"{dist / 1000:,.1f} km"
        points.append({"type": "Feature", "id": f["id"], "geometry": f["geometry"],
                       "properties": _safe({"rank": rank, "label": f"#{rank} {props['name']}", "name": props["name"],
                                            "address": props.get("address") or "–", "distance": f"{dist:,.1f} m"})})  # fmt: skip
        # Folium writes a Tooltip's text raw into a JS template literal: only this number goes there.
        folium.PolyLine([[py, px], [fy, fx]], color="#3182bd", weight=2.5, opacity=0.8,
                        tooltip=folium.Tooltip(label, permanent=True, direction="center",
                                               class_name="gs-distance")).add_to(lines)  # fmt: skip
    folium.GeoJson(
        {"type": "FeatureCollection", "features": points},
        name=_layer(f"{info.name_zh} Facilities ({len(points)})"),
        tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=[""]),
        popup=folium.GeoJsonPopup(fields=["rank", "name", "address", "distance"],
                                  aliases=["#", "名称 Name", "地址 Address", "距离 Distance"], class_name="gs-popup"),
    ).add_to(m)  # fmt: skip
    nearest_txt = (
        f"{html.escape(feats[0]['properties']['name'])}, {feats[0]['properties']['distance_m']:,.0f} m"
        if feats
        else "–"
    )
    _panel(m, "gs-title", f"<h1>{html.escape(title)}</h1><div>查询位置 Query point: {lon:.6f}, {lat:.6f} "
                          f"(WGS84)</div><div>最近 Nearest: {nearest_txt}</div>")  # fmt: skip
    folium.LayerControl(collapsed=False).add_to(m)
    return _page(m)
