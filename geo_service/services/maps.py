"""Folium map pages: boundaries and markers, and the facility finder (the coverage page is ``coverage_map``).

Numbers come from the same services as the API; see ``map_parts`` for what every page shares.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any, NamedTuple

import folium
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import Sql, compose
from geo_service.domain.errors import NotFound
from geo_service.i18n import t
from geo_service.services import collections, csp, facility_types, nearest
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
    region_bounds,
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
        await _check_district(conn, district)
    districts = await _divisions(conn, "district", None, basemap)
    lines = await _line_features(conn, district, basemap)
    markers = await _marker_features(conn, district, basemap)
    shown = [d for d in districts if district is None or d.code == district] or districts
    title = "界线与界桩 Boundaries and markers" + (f" — {shown[0].name}" if district else "")
    bounds = bounds_of([d.geometry for d in shown]) or await region_bounds(conn)
    m = base_map(title, bounds, basemap, tiles, static_url)
    _division_layer(
        m,
        districts,
        "区 Districts",
        {"fillColor": "#ffffff", "fillOpacity": 0.05, "color": "#666", "weight": 1},
    )
    if district:
        towns = await _divisions(conn, "township", district, basemap)
        _division_layer(
            m, towns, "镇街 Townships", {"fill": False, "color": "#999", "weight": 0.8, "dashArray": "4 3"}
        )
    _line_layer(m, lines)
    _marker_layer(m, markers)
    _boundaries_panels(m, title, len(lines), markers)
    folium.LayerControl(collapsed=False).add_to(m)
    return page_of(m)


async def _check_district(conn: AsyncConnection, code: str) -> None:
    query = text("SELECT 1 FROM divisions WHERE code = :c AND level = 'district'")
    if (await conn.execute(query, {"c": code})).first() is None:
        raise NotFound(t("unknown district code {code!r}", code=code))


class _Division(NamedTuple):
    code: str
    name: str
    geometry: dict[str, Any]


async def _divisions(conn: AsyncConnection, level: str, parent: str | None, basemap: str) -> list[_Division]:
    """The divisions of a level (in ``parent``), simplified for the map."""
    rows = (
        await conn.execute(
            text(
                "SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 5) FROM divisions "
                "WHERE level = :level AND (CAST(:parent AS text) IS NULL OR parent_code = :parent) ORDER BY code"
            ),
            {"tol": SIMPLIFY[level], "level": level, "parent": parent},
        )
    ).all()
    return [_Division(r[0], r[1], geometry(r[2], basemap)) for r in rows]


def _on_district_lines(alias: str) -> Sql:
    # Bound :d is the district; without one, every line.
    return compose("(CAST(:d AS text) IS NULL OR {l}.left_code = :d OR {l}.right_code = :d)", l=Sql(alias))


async def _line_features(conn: AsyncConnection, district: str | None, basemap: str) -> list[dict[str, Any]]:
    """Boundary lines with the properties of their OGC collection (one source for both)."""
    lines = collections.STATIC["boundary-lines"]
    query = compose(
        "SELECT t.code, ST_AsGeoJSON(t.geom, 6), {props} FROM boundary_lines t WHERE {on} ORDER BY t.code",
        props=Sql(lines.properties_json_sql),
        on=_on_district_lines("t"),
    )
    features = []
    for code, geojson, props_json in (await conn.execute(text(query), {"d": district})).all():
        props = orjson.loads(props_json)
        shown = {
            "name": props["name"],
            "code": code,
            "length_km": f"{props['length_m'] / 1000:.1f}",
            "marker_count": props["marker_count"],
            "markers_intact": props["markers_intact"],
            "last_inspected_on": props["last_inspected_on"] or "–",
        }
        features.append(
            {"type": "Feature", "id": code, "geometry": geometry(geojson, basemap), "properties": safe(shown)}
        )
    return features


async def _marker_features(conn: AsyncConnection, district: str | None, basemap: str) -> list[dict[str, Any]]:
    """Boundary markers with the properties of their OGC collection, their line's name and inspection history."""
    markers = collections.STATIC["boundary-markers"]
    query = compose(
        "SELECT t.id, ST_AsGeoJSON(t.geom, 6), {props}, l.name, coalesce((SELECT json_agg(json_build_object("
        "'status', i.status, 'on', i.inspected_on) ORDER BY i.inspected_on, i.id) "  # notes: staff only
        "FROM marker_inspections i WHERE i.marker_id = t.id), '[]')::text "
        "FROM boundary_markers t JOIN boundary_lines l ON l.code = t.line_code WHERE {on} ORDER BY t.id",
        props=Sql(markers.properties_json_sql),
        on=_on_district_lines("l"),
    )
    features = []
    for marker_id, geojson, props_json, line_name, history_json in (
        await conn.execute(text(query), {"d": district})
    ).all():
        props = orjson.loads(props_json)
        shown = safe(
            {
                "id": marker_id,
                "number": props["number"],
                "kind": props["kind"],
                "status": STATUS_LABELS.get(props["status"], props["status"]),
                "line": line_name,
                "installed_on": props["installed_on"] or "–",
                "last_inspected_on": props["last_inspected_on"] or "–",
            }
        )
        shown["history"] = _history_html(orjson.loads(history_json))  # already escaped piece by piece
        shown["colour"] = STATUS_COLOURS.get(props["status"], "#333")
        shown["state"] = props["status"]  # the machine value, for the legend's counts
        features.append(
            {"type": "Feature", "id": marker_id, "geometry": geometry(geojson, basemap), "properties": shown}
        )
    return features


def _history_html(history: list[dict[str, str]]) -> str:
    inspections = (
        f"{html.escape(str(h['on']))} {html.escape(STATUS_LABELS.get(h['status'], h['status']))}"
        for h in history
    )
    return "<br>".join(inspections) or "未联检 not inspected"


def _division_layer(m: folium.Map, divisions: list[_Division], name: str, style: dict[str, Any]) -> None:
    if not divisions:  # Folium refuses a tooltip on a layer without features
        return
    features = [
        {
            "type": "Feature",
            "id": d.code,
            "properties": safe({"name": d.name, "code": d.code}),
            "geometry": d.geometry,
        }
        for d in divisions
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=layer_name(name),
        style_function=lambda f: style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""]),
    ).add_to(m)


def _line_layer(m: folium.Map, features: list[dict[str, Any]]) -> None:
    if not features:  # Folium refuses a popup on a layer without features
        return
    popup = folium.GeoJsonPopup(
        fields=["name", "code", "length_km", "marker_count", "markers_intact", "last_inspected_on"],
        aliases=[
            "界线 Line",
            "代码 Code",
            "长度 Length (km)",
            "界桩 Markers",
            "完好 Intact",
            "最近联检 Last inspected",
        ],
        class_name="gs-popup",
    )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=layer_name("界线 Boundary lines"),
        style_function=lambda f: {"color": "#54278f", "weight": 3.5, "opacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[""], sticky=True),
        popup=popup,
    ).add_to(m)


def _marker_layer(m: folium.Map, features: list[dict[str, Any]]) -> None:
    if not features:  # Folium refuses a popup on a layer without features
        return
    popup = folium.GeoJsonPopup(
        fields=["number", "line", "kind", "status", "installed_on", "last_inspected_on", "history"],
        aliases=[
            "编号 Number",
            "界线 Line",
            "类型 Kind",
            "状态 Status",
            "埋设 Installed",
            "最近联检 Last inspected",
            "联检记录 Inspections",
        ],
        class_name="gs-popup",
    )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=layer_name(f"界桩 Markers ({len(features)})"),
        marker=folium.CircleMarker(radius=6, weight=1.5, fill_opacity=0.9),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#222",
            "fill": True,
            "fillOpacity": 0.9,
        },
        popup=popup,
    ).add_to(m)


def _boundaries_panels(m: folium.Map, title: str, line_count: int, markers: list[dict[str, Any]]) -> None:
    counts = Counter(f["properties"]["state"] for f in markers)
    legend = "".join(
        f'<div><i style="background:{c};border-radius:50%"></i>{STATUS_LABELS[s]} ({counts.get(s, 0)})</div>'
        for s, c in STATUS_COLOURS.items()
    )
    legend += '<div><i class="gs-line" style="border-color:#54278f"></i>界线 boundary line</div>'
    summary = f"<div>{line_count} 条界线 lines, {len(markers)} 个界桩 markers</div>"
    panel(m, "gs-title", f"<h1>{html.escape(title)}</h1>{summary}")
    panel(m, "gs-legend", f"<b>界桩状态 Marker status</b>{legend}")


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
    found = orjson.loads(dumps(answer))["features"]
    px, py = xy(lon, lat, basemap)
    title = f"最近的{info.name_zh} Nearest {info.name_en.lower()}s"
    geoms = [{"type": "Point", "coordinates": [px, py]}] + [f["geometry"] for f in found]
    m = base_map(title, bounds_of(geoms) or await region_bounds(conn), basemap, tiles, static_url)
    _query_point(m, px, py)
    _distance_lines(m, px, py, found)
    _facility_points(m, found, f"{info.name_zh} Facilities ({len(found)})")
    nearest_txt = "–"
    if found:
        first = found[0]["properties"]
        nearest_txt = f"{html.escape(first['name'])}, {first['distance_m']:,.0f} m"
    where = f"<div>查询位置 Query point: {lon:.6f}, {lat:.6f} (WGS84)</div>"
    panel(m, "gs-title", f"<h1>{html.escape(title)}</h1>{where}<div>最近 Nearest: {nearest_txt}</div>")
    folium.LayerControl(collapsed=False).add_to(m)
    return page_of(m)


_QUERY_DOT = (
    '<div style="width:14px;height:14px;border-radius:50%;background:#d7301f;'
    'border:2px solid #fff;box-shadow:0 0 3px #000"></div>'
)


def _query_point(m: folium.Map, px: float, py: float) -> None:
    icon = folium.DivIcon(html=_QUERY_DOT, icon_size=(18, 18), icon_anchor=(9, 9))
    folium.Marker([py, px], tooltip="查询位置 Query point", icon=icon).add_to(m)


def _distance_lines(m: folium.Map, px: float, py: float, found: list[dict[str, Any]]) -> None:
    lines = folium.FeatureGroup(name=layer_name("距离 Distances")).add_to(m)
    for f in found:
        fx, fy = f["geometry"]["coordinates"]
        dist = f["properties"]["distance_m"]
        label = f"{dist:,.0f} m" if dist < 10_000 else f"{dist / 1000:,.1f} km"
        # Folium writes a Tooltip's text raw into a JS template literal: only this number goes there.
        tooltip = folium.Tooltip(label, permanent=True, direction="center", class_name="gs-distance")
        folium.PolyLine(
            [[py, px], [fy, fx]], color="#3182bd", weight=2.5, opacity=0.8, tooltip=tooltip
        ).add_to(lines)


def _facility_points(m: folium.Map, found: list[dict[str, Any]], name: str) -> None:
    points = []
    for rank, f in enumerate(found, start=1):
        props = f["properties"]
        shown = {
            "rank": rank,
            "label": f"#{rank} {props['name']}",
            "name": props["name"],
            "address": props.get("address") or "–",
            "distance": f"{props['distance_m']:,.1f} m",
        }
        points.append(
            {"type": "Feature", "id": f["id"], "geometry": f["geometry"], "properties": safe(shown)}
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": points},
        name=layer_name(name),
        tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=[""]),
        popup=folium.GeoJsonPopup(
            fields=["rank", "name", "address", "distance"],
            aliases=["#", "名称 Name", "地址 Address", "距离 Distance"],
            class_name="gs-popup",
        ),
    ).add_to(m)
