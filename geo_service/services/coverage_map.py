"""The coverage map for planners: divisions shaded by covered share and named at zooms where names fit, the
dissolved service area and the uncovered areas clipped to the area shown, facilities, proposed sites when asked,
and panels (figures, legend, downloads) that fold away on a phone.

Numbers come from the same services as the API (coverage, uncovered areas, siting).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import folium
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw, versions
from geo_service.domain.division_names import short_village_name
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import coverage, csp, division_names, facility_types, map_tiles, siting
from geo_service.services.map_assets import STATIC_URL
from geo_service.services.map_parts import (
    SIMPLIFY,
    Tiles,
    base_map,
    bounds_of,
    check_basemap,
    facility_layer,
    geometry,
    kept,
    layer_name,
    page_of,
    region_bounds,
    safe,
    xy,
)

#: Covered-share classes of the choropleth: (upper bound, colour, label).
CLASSES = [
    (0.0, "#f7f7f7", "0%"),
    (0.25, "#d9f0d3", "< 25%"),
    (0.5, "#a6dba0", "25–50%"),
    (0.75, "#5aae61", "50–75%"),
    (0.999999, "#1b7837", "75–100%"),
    (1.0, "#00441b", "100%"),
]
#: A division's name is shown once the division is as wide as the name (pixels a character, and a margin).
CHAR_PIXELS, LABEL_MARGIN = 12, 10
#: Leaflet's Web Mercator: metres per pixel at zoom 0 on the equator.
METRES_PER_PIXEL_Z0 = 156_543.03
#: Most proposed sites a page draws (the API's siting takes more; a page is for looking at a few).
MAX_SITES = 20
#: Narrower screens (CSS pixels) get the panels and the layer list folded.
PHONE_WIDTH = 640

POPUP_FIELDS = {
    "name": "名称 Name",
    "parent_name": "上级 Parent",
    "code": "代码 Code",
    "facilities": "设施 Facilities",
    "area_km2": "面积 Area (km²)",
    "covered_area_pct": "覆盖面积 Covered area",
    "population": "人口 Population",
    "covered_population": "覆盖人口 Covered people",
    "covered_population_pct": "人口覆盖率 Covered people (%)",
}
#: Labels: each a marker whose icon is the (escaped) name; hidden below the zoom where names fit (CSS class).
_LABEL = JsCode("""function (feature, layer) {
    layer.setIcon(L.divIcon({className: 'gs-label', html: '<span>' + feature.properties.label + '</span>',
                             iconSize: null}));
}""")
#: Proposed sites: a numbered marker each, with its gain; the values are escaped already.
_SITE = JsCode("""function (feature, layer) {
    const p = feature.properties, row = (label, value) => '<tr><th>' + label + '</th><td>' + value + '</td></tr>';
    layer.setIcon(L.divIcon({className: 'gs-site', html: '<span>' + p.rank + '</span>', iconSize: null}));
    layer.bindPopup('<table>' + row('建议选址 Site', '#' + p.rank) + row('新增覆盖人口 People gained', p.gain)
                    + row('所在区划 Division', p.division) + row('候选点 Candidate', p.candidate) + '</table>',
                    {className: 'gs-popup'});
}""")


class _PageBehaviour(MacroElement):
    """Each name shown from its own zoom on (where its division is wide enough for it); panels folded on a
    phone."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function (map, names) {
    const show = () => {
        const zoom = map.getZoom();
        names.eachLayer(l => {
            const el = l.getElement();
            if (el) el.style.display = zoom >= l.feature.properties.zoom ? '' : 'none';
        });
    };
    map.on('zoomend', show);
    names.on('add', show);
    show();
    if (window.matchMedia('(max-width: {{ this.phone_width }}px)').matches) {
        document.querySelectorAll('details.gs-panel').forEach(d => { d.open = false; });
    }
})({{ this._parent.get_name() }}, {{ this.names.get_name() }});
{% endmacro %}"""
    )

    def __init__(self, names: folium.GeoJson) -> None:
        super().__init__()
        self._name = "PageBehaviour"
        self.names = names
        self.phone_width = PHONE_WIDTH


def label_zoom(area_km2: float, lat: float, label: str) -> int:
    """The zoom from which a division of this area is as wide as its name on the screen."""
    side_m = math.sqrt(max(area_km2, 1e-6)) * 1000
    pixels = CHAR_PIXELS * len(label) + LABEL_MARGIN
    metres_per_pixel = METRES_PER_PIXEL_Z0 * math.cos(math.radians(lat))
    return max(0, min(19, math.ceil(math.log2(pixels * metres_per_pixel / side_m))))


def _colour(ratio: float) -> str:
    for bound, colour, _ in CLASSES:
        if ratio <= bound:
            return colour
    return CLASSES[-1][1]


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _legend(mode: str, sites: bool) -> str:
    rows = "".join(f'<div><i style="background:{c}"></i>{label}</div>' for _, c, label in CLASSES)
    rows += '<div><i style="background:none;border:2px solid #d7301f"></i>未覆盖区划 uncovered division</div>'
    if mode == "radius":
        rows += '<div><i style="background:rgba(49,130,189,0.25);border-color:#3182bd"></i>服务范围 service area</div>'
        rows += '<div><i class="gs-hatch"></i>未覆盖区域 uncovered area</div>'
    if sites:
        rows += '<div><i style="background:#7b3294;border-radius:50%"></i>建议选址 proposed site</div>'
    return (
        '<details class="gs-panel gs-legend" open><summary>图例 Legend</summary>'
        f"<b>覆盖面积比例 Covered share</b>{rows}</details>"
    )


async def default_type(conn: AsyncConnection, preferred: str) -> str:
    """The type a map shows when none is asked for: ``preferred`` if it exists, else the first type."""
    types = await facility_types.all_types(conn)
    if not types:
        raise InvalidInput(t("no facility types are defined yet"))
    return preferred if any(t.code == preferred for t in types) else types[0].code


@dataclass(frozen=True)
class PageOptions:
    """How a coverage page is drawn (besides what it measures): basemap and tiles, where its assets are,
    ``downloads`` (link the tables and files for the same parameters: served pages), ``sites`` (also the n
    best new sites), ``vector_tiles`` (draw a type with many facilities from the service's tiles: served
    pages; services/map_tiles.py)."""

    basemap: str = "osm"
    tiles: Tiles = field(default_factory=Tiles)
    static_url: str = STATIC_URL
    downloads: bool = False
    sites: int | None = None
    siting_time_limit_s: float = siting.DEFAULT_TIME_LIMIT_S
    vector_tiles: bool = False


async def coverage_map(
    conn: AsyncConnection, params: coverage.CoverageParams, options: PageOptions | None = None
) -> csp.Page:
    """The coverage page of a coverage request, kept per request, options and data versions."""
    options = options or PageOptions()
    check_basemap(options.basemap)
    info = await facility_types.get_type(conn, params.ftype)
    if options.sites is not None and not 1 <= options.sites <= MAX_SITES:
        raise InvalidInput(t("sites must be between 1 and {limit}", limit=MAX_SITES))
    return await kept(
        conn,
        ("coverage", info, params, options),
        ("divisions", versions.facility_type(info.code)),
        lambda: _page(conn, info, params, options),
    )


async def _shapes(conn: AsyncConnection, q: coverage.CoverageQuery) -> dict[str, tuple[str, float, float]]:
    """Each division's simplified outline and representative point (for its name)."""
    rows = await raw.fetch(
        conn,
        "SELECT code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, $1), $2), ST_X(p), ST_Y(p) FROM "
        "(SELECT code, geom, ST_PointOnSurface(geom) AS p FROM divisions WHERE level = $3 AND code LIKE $4) s",
        SIMPLIFY[q.level],
        5 if q.within else 4,
        q.level,
        q.under,
    )
    return {r[0]: (r[1], float(r[2]), float(r[3])) for r in rows}


def _division_features(
    rows: list[dict[str, Any]], shapes: dict[str, tuple[str, float, float]], basemap: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The divisions (shaded, with popups) and their names (points)."""
    areas, labels = [], []
    for row in rows:
        shown = {k: row[k] for k in POPUP_FIELDS if k in row}
        people = _pct(row["covered_population_ratio"]) if row["population"] else "–"
        props = safe(
            {
                **shown,
                "parent_name": row["parent_name"] or "–",
                "area_km2": round(row["area_km2"], 3),
                "covered_area_pct": _pct(row["covered_area_ratio"]),
                "covered_population_pct": people,
                "covered_area_ratio": row["covered_area_ratio"],
            }
        )
        outline, lon, lat = shapes[row["code"]]
        areas.append(
            {
                "type": "Feature",
                "id": row["code"],
                "properties": props,
                "geometry": geometry(outline, basemap),
            }
        )
        x, y = xy(lon, lat, basemap)
        label = short_village_name(row["name"]) if row["level"] == "village" else row["name"]
        labels.append(
            {
                "type": "Feature",
                "id": f"label-{row['code']}",
                "properties": {**safe({"label": label}), "zoom": label_zoom(row["area_km2"], lat, label)},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
        )
    return areas, labels


async def _area_layers(m: folium.Map, conn: AsyncConnection, q: coverage.CoverageQuery, basemap: str) -> None:
    """The service area and the area outside it (radius mode), dissolved, clipped to the area shown."""
    area = await coverage.service_area(conn, q, SIMPLIFY["village"])
    if area:
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": geometry(area, basemap)},
            name=layer_name(f"服务范围 Service area ({q.radius_m:g} m)"),
            style_function=lambda f: {
                "fillColor": "#3182bd",
                "fillOpacity": 0.25,
                "color": "#3182bd",
                "weight": 0.8,
            },
            interactive=False,
        ).add_to(m)
    outside = await coverage.uncovered_area(conn, q, SIMPLIFY["village"])
    if outside:
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": geometry(outside, basemap)},
            name=layer_name("未覆盖区域 Uncovered areas"),
            style_function=lambda f: {
                "fillColor": "#d7301f",
                "fillOpacity": 0.18,
                "color": "#d7301f",
                "weight": 0.6,
                "dashArray": "3 3",
            },
            interactive=False,
        ).add_to(m)


async def _site_layer(m: folium.Map, answer: dict[str, Any], radius_m: float | None, basemap: str) -> None:
    """The proposed sites, numbered, with their gains, and (radius mode) their service discs."""
    group = folium.FeatureGroup(name=layer_name(f"建议选址 Proposed sites ({len(answer['features'])})"))
    points = []
    for f in answer["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        x, y = xy(lon, lat, basemap)
        points.append(
            {
                "type": "Feature",
                "id": f["id"],
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": safe(
                    {
                        "rank": p["rank"],
                        "gain": f"+{p['gain_population']:,}",
                        "division": p["division_name"] or p["division_code"] or "–",
                        "candidate": p["candidate"],
                    }
                ),
            }
        )
        if radius_m:
            folium.Circle(
                [y, x],
                radius=radius_m,
                color="#7b3294",
                weight=1.5,
                dash_array="5 4",
                fill=False,
                interactive=False,
            ).add_to(group)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": points},
        marker=folium.Marker(keyboard=False),
        on_each_feature=_SITE,
    ).add_to(group)
    group.add_to(m)


def _links(query: str, sites: int | None) -> str:
    """Downloads for the page's own parameters (type, level, area …, as validated: never the query echoed)."""
    links = [
        (f"/v1/coverage?{query}&amp;format=csv", "CSV"),
        (f"/v1/coverage?{query}&amp;format=xlsx", "Excel"),
        (f"/v1/coverage/gaps?{query}&amp;format=geojson", "未覆盖区划 GeoJSON"),
        (f"/v1/coverage/gaps?{query}&amp;format=gpkg", "未覆盖区划 GeoPackage"),
        (f"/v1/coverage/uncovered?{query}&amp;format=geojson", "未覆盖区域 GeoJSON"),
        (f"/v1/coverage/uncovered?{query}&amp;format=gpkg", "未覆盖区域 GeoPackage"),
    ]
    if sites:
        links += [
            (f"/v1/coverage/siting?{query}&amp;n={sites}&amp;format={fmt}", f"选址 {label}")
            for fmt, label in (("csv", "CSV"), ("xlsx", "Excel"), ("geojson", "GeoJSON"))
        ]
    return '<div class="gs-links">' + "".join(f'<a href="{h}" download>{t}</a>' for h, t in links) + "</div>"


async def _page(
    conn: AsyncConnection,
    info: facility_types.FacilityTypeInfo,
    params: coverage.CoverageParams,
    options: PageOptions,
) -> csp.Page:
    q = await coverage.resolve_query(conn, params)
    answer = (await coverage.answer_for(conn, q)).data
    shapes = await _shapes(conn, q)
    areas, labels = _division_features(answer["divisions"], shapes, options.basemap)
    area_name = await division_names.name_of(conn, q.within)
    title = f"{info.name_zh}覆盖 {info.name_en} coverage" + (f" — {area_name}" if area_name else "")
    box = bounds_of([f["geometry"] for f in areas]) or await region_bounds(conn)
    m = base_map(title, box, options.basemap, options.tiles, options.static_url)
    if q.mode == "radius":  # first, so that they lie under the divisions
        await _area_layers(m, conn, q, options.basemap)
    names = _division_layers(m, areas, labels)
    await _facilities(conn, m, info, q, options)
    planned = None
    if options.sites:
        planned = await siting.siting(
            conn, replace(params, level=q.level), options.sites, time_limit_s=options.siting_time_limit_s
        )
        await _site_layer(m, planned, q.radius_m if q.mode == "radius" else None, options.basemap)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in _parameters(info, q) + _figures(answer["summary"], planned)
    )
    links = _links(_query_of(params, q), options.sites) if options.downloads else ""
    root: Any = m.get_root()
    root.html.add_child(
        folium.Element(
            f'<details class="gs-panel gs-title" open><summary><h1>{html.escape(title)}</h1></summary>'
            f'<table id="gs-summary">{rows}</table>{links}</details>'
        )
    )
    root.html.add_child(folium.Element(_legend(q.mode, planned is not None)))
    folded: Any = JsCode(f"window.matchMedia('(max-width: {PHONE_WIDTH}px)').matches")  # a JS value
    folium.LayerControl(collapsed=folded).add_to(m)
    _PageBehaviour(names).add_to(m)
    return page_of(m)


def _division_layers(
    m: folium.Map, areas: list[dict[str, Any]], labels: list[dict[str, Any]]
) -> folium.GeoJson:
    """The divisions shaded by covered share, the uncovered ones outlined, and their names (the layer
    returned: the page shows names only at zooms where they fit)."""
    # Folium refuses popup fields that no feature has: a level without divisions here gets none.
    popup = folium.GeoJsonPopup(
        fields=list(POPUP_FIELDS), aliases=list(POPUP_FIELDS.values()), class_name="gs-popup"
    )
    tooltip = folium.GeoJsonTooltip(fields=["name", "covered_area_pct"], aliases=["", "覆盖 covered"])
    folium.GeoJson(
        {"type": "FeatureCollection", "features": areas},
        name=layer_name("覆盖率 Covered share"),
        style_function=lambda f: {
            "fillColor": _colour(f["properties"]["covered_area_ratio"]),
            "fillOpacity": 0.6,
            "color": "#555",
            "weight": 0.6,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000"},
        popup=popup if areas else None,
        tooltip=tooltip if areas else None,
    ).add_to(m)
    uncovered = [f for f in areas if f["properties"]["covered_area_ratio"] == 0]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": uncovered},
        name=layer_name(f"未覆盖区划 Uncovered divisions ({len(uncovered)})"),
        style_function=lambda f: {"fill": False, "color": "#d7301f", "weight": 2.5},
        interactive=False,
    ).add_to(m)
    names = folium.GeoJson(
        {"type": "FeatureCollection", "features": labels},
        name=layer_name("名称 Names"),
        marker=folium.Marker(interactive=False, keyboard=False),
        on_each_feature=_LABEL,
    )
    names.add_to(m)
    return names


async def _facilities(
    conn: AsyncConnection,
    m: folium.Map,
    info: facility_types.FacilityTypeInfo,
    q: coverage.CoverageQuery,
    options: PageOptions,
) -> None:
    """The type's facilities: from the service's vector tiles when the page may and the type has many, else
    drawn on the page."""
    name = layer_name(f"设施 Facilities ({info.name_zh})")
    tiles, static_url, basemap = options.vector_tiles, options.static_url, options.basemap
    if not (tiles and await map_tiles.facility_tiles(conn, m, info.code, name, static_url, basemap)):
        await facility_layer(conn, m, info.code, q.within, basemap, static_url, name)


def _parameters(info: facility_types.FacilityTypeInfo, q: coverage.CoverageQuery) -> list[tuple[str, str]]:
    """The summary panel's rows saying what was measured."""
    return [
        ("类型 Type", f"{info.name_zh} {info.code}"),
        ("方式 Mode", q.mode),
        ("半径 Radius", f"{q.radius_m:g} m" if q.mode == "radius" else "–"),
        ("级别 Level", q.level),
        ("范围 Within", q.within or "全部 all"),
    ]


def _figures(s: dict[str, Any], planned: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The summary panel's figures: divisions by covered share, area and people covered, and what the
    proposed sites would add."""
    classes = "全覆盖 fully {} · 部分 partly {} · 未覆盖 not {}"
    by_area = classes.format(
        s["fully_covered_divisions"], s["partly_covered_divisions"], s["uncovered_divisions"]
    )
    by_people = classes.format(
        s["fully_covered_divisions_by_population"],
        s["partly_covered_divisions_by_population"],
        s["uncovered_divisions_by_population"],
    )
    area = f"{s['covered_area_km2']:,.1f} / {s['area_km2']:,.1f} km² ({_pct(s['covered_area_ratio'])})"
    people = f"{s['covered_population']:,} / {s['population']:,} ({_pct(s['covered_population_ratio'])})"
    figures = [
        ("区划 Divisions", f"{s['divisions']:,}"),
        ("按面积 By area", by_area),
        ("按人口 By people", by_people),
        ("面积 Area", area),
        ("人口 People", people),
        ("未覆盖人口 Not covered", f"{s['uncovered_population']:,}"),
    ]
    if planned is not None:
        p = planned["summary"]
        figures.append(
            (
                f"建议选址 {len(planned['features'])} sites",
                f"+{p['covered_population_after'] - p['covered_population_before']:,} "
                f"({p['covered_population_before']:,} → {p['covered_population_after']:,}, {p['method']})",
            )
        )
    return figures


def _query_of(params: coverage.CoverageParams, q: coverage.CoverageQuery) -> str:
    """The request's parameters as an HTML-escaped query string, for the download links."""
    asked = {
        "type": q.ftype,
        "radius_m": params.radius_m,
        "level": q.level,
        "within": q.within,
        "mode": params.mode,
    }
    return html.escape(urlencode({k: v for k, v in asked.items() if v is not None}))
