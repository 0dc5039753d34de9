"""Folium map pages: boundaries and markers, and the facility finder (the coverage page is ``coverage_map``).

Numbers come from the same services as the API; see ``map_parts`` for what every page shares.
"""

from __future__ import annotations

import html

import folium
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.domain.errors import NotFound
from geo_service.services import csp, facility_types, nearest
from geo_service.services.geojson import dumps
from geo_service.services.map_assets import STATIC_URL
from geo_service.services.map_parts import (
    SIMPLIFY,
    Tiles,
    base_map,
    bounds_of,
    check_basemap,
    geometry,
    kept,
    layer_name,
    page_of,
    panel,
    safe,
    xy,
)

STATUS_COLOURS = {"intact": "#1a9850", "damaged": "#fd8d3c", "missing": "#d73027", "moved": "#7b3294"}
STATUS_LABELS = {
    "intact": "完好 intact",
    "damaged": "损坏 damaged",
    "missing": "缺失 missing",
    "moved": "移位 moved",
}


async def boundaries_map(
    conn: AsyncConnection,
    district: str | None = None,
    basemap: str = "osm",
    tiles: Tiles | None = None,
    static_url: str = STATIC_URL,
) -> csp.Page:
    """Boundary lines with their names and markers coloured by status, with inspection histories."""
    check_basemap(basemap)
    tiles = tiles or Tiles()
    key = ("boundaries", district, basemap, tiles, static_url)
    return await kept(
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
    district_features = [{"type": "Feature", "id": d[0], "properties": safe({"name": d[1], "code": d[0]}),
                          "geometry": geometry(d[2], basemap)} for d in districts]  # fmt: skip
    title = "界线与界桩 Boundaries and markers" + (f" — {shown[0][1]}" if district else "")
    m = base_map(title, bounds_of([geometry(d[2], basemap) for d in shown]), basemap, tiles, static_url)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": district_features},
        name=layer_name("区 Districts"),
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
                {"type": "Feature", "id": t[0], "properties": safe({"name": t[1], "code": t[0]}),
                 "geometry": geometry(t[2], basemap)} for t in towns]},
            name=layer_name("镇街 Townships"),
            style_function=lambda f: {"fill": False, "color": "#999", "weight": 0.8, "dashArray": "4 3"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""]),
        ).add_to(m)  # fmt: skip
    line_features = [
        {"type": "Feature", "id": r[0], "geometry": geometry(r[2], basemap),
         "properties": safe({"name": r[1], "code": r[0], "length_km": f"{float(r[3]) / 1000:.1f}",
                              "marker_count": r[4], "markers_intact": r[5],
                              "last_inspected_on": r[6].isoformat() if r[6] else "–"})}
        for r in lines
    ]  # fmt: skip
    folium.GeoJson(
        {"type": "FeatureCollection", "features": line_features},
        name=layer_name("界线 Boundary lines"),
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
        props = safe({"id": r[0], "number": r[2], "kind": r[3], "status": STATUS_LABELS.get(r[4], r[4]),
                       "line": r[6], "installed_on": r[7].isoformat() if r[7] else "–",
                       "last_inspected_on": r[8].isoformat() if r[8] else "–"})  # fmt: skip
        props["history"] = history_html  # already escaped piece by piece
        props["colour"] = STATUS_COLOURS.get(r[4], "#333")
        marker_features.append(
            {"type": "Feature", "id": r[0], "geometry": geometry(r[1], basemap), "properties": props}
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": marker_features},
        name=layer_name(f"界桩 Markers ({len(marker_features)})"),
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
    panel(m, "gs-title", f"<h1>{html.escape(title)}</h1><div>{len(line_features)} 条界线 lines, "
                          f"{len(marker_features)} 个界桩 markers</div>")  # fmt: skip
    panel(m, "gs-legend", f"<b>界桩状态 Marker status</b>{legend}")
    folium.LayerControl(collapsed=False).add_to(m)
    return page_of(m)


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
    check_basemap(basemap)
    tiles = tiles or Tiles()
    info = await facility_types.get_type(conn, ftype)
    answer = await nearest.nearest(conn, lon, lat, ftype, k, None, "gcj02" if basemap == "amap" else "wgs84")
    feats = orjson.loads(dumps(answer))["features"]
    px, py = xy(lon, lat, basemap)
    geoms = [{"type": "Point", "coordinates": [px, py]}] + [f["geometry"] for f in feats]
    title = f"最近的{info.name_zh} Nearest {info.name_en.lower()}s"
    m = base_map(title, bounds_of(geoms), basemap, tiles, static_url)
    folium.Marker([py, px], tooltip="查询位置 Query point",
                  icon=folium.DivIcon(html='<div style="width:14px;height:14px;border-radius:50%;background:#d7301f;'
                                           'border:2px solid #fff;box-shadow:0 0 3px #000"></div>',
                                      icon_size=(18, 18), icon_anchor=(9, 9))).add_to(m)  # fmt: skip
    lines = folium.FeatureGroup(name=layer_name("距离 Distances")).add_to(m)
    points = []
    for rank, f in enumerate(feats, start=1):
        props = f["properties"]
        fx, fy = f["geometry"]["coordinates"]
        dist = props["distance_m"]
        label = f"{dist:,.0f} m" if dist < 10_000 else f"{dist / 1000:,.1f} km"
        points.append({"type": "Feature", "id": f["id"], "geometry": f["geometry"],
                       "properties": safe({"rank": rank, "label": f"#{rank} {props['name']}", "name": props["name"],
                                            "address": props.get("address") or "–", "distance": f"{dist:,.1f} m"})})  # fmt: skip
        # Folium writes a Tooltip's text raw into a JS template literal: only this number goes there.
        folium.PolyLine([[py, px], [fy, fx]], color="#3182bd", weight=2.5, opacity=0.8,
                        tooltip=folium.Tooltip(label, permanent=True, direction="center",
                                               class_name="gs-distance")).add_to(lines)  # fmt: skip
    folium.GeoJson(
        {"type": "FeatureCollection", "features": points},
        name=layer_name(f"{info.name_zh} Facilities ({len(points)})"),
        tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=[""]),
        popup=folium.GeoJsonPopup(fields=["rank", "name", "address", "distance"],
                                  aliases=["#", "名称 Name", "地址 Address", "距离 Distance"], class_name="gs-popup"),
    ).add_to(m)  # fmt: skip
    nearest_txt = (
        f"{html.escape(feats[0]['properties']['name'])}, {feats[0]['properties']['distance_m']:,.0f} m"
        if feats
        else "–"
    )
    panel(m, "gs-title", f"<h1>{html.escape(title)}</h1><div>查询位置 Query point: {lon:.6f}, {lat:.6f} "
                          f"(WGS84)</div><div>最近 Nearest: {nearest_txt}</div>")  # fmt: skip
    folium.LayerControl(collapsed=False).add_to(m)
    return page_of(m)
