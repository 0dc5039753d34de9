"""OGC API – Features Part 1 (core, GeoJSON, OpenAPI 3.0): landing page, conformance, collections, items."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any
from urllib.parse import quote, quote_from_bytes, unquote_plus

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.datastructures import URL

from geo_service.api import ogc_html
from geo_service.api.auth import OPTIONAL_KEY, Reader, read_caller
from geo_service.api.deps import ConnDep
from geo_service.api.identity import CHALLENGE
from geo_service.api.response_models import ItemsAnswer, documented
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.db.sql import Sql
from geo_service.domain import naming_warnings, ogc_crs
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.domain.ogc_crs import CRS84
from geo_service.domain.words import listing
from geo_service.i18n import t
from geo_service.services import collections, cql, features_query, queryables

router = APIRouter(tags=["OGC API – Features"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]
#: Parameters of the items endpoint; any other is an equality filter on a property.
RESERVED = {
    "limit",
    "offset",
    "bbox",
    "after",
    "crs",
    "f",
    "bbox-crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "datetime",
}


@functools.lru_cache(maxsize=64)
def _origin(scheme: str, host: bytes | None, server: tuple[str, int] | None) -> str:
    """``scheme://host[:port]`` as Starlette derives it (kept: validating the Host header is slow)."""
    headers = [(b"host", host)] if host is not None else []
    return str(URL(scope={"scheme": scheme, "server": server, "path": "", "headers": headers}))


def _request_origin(request: Request) -> str:
    scope = request.scope
    host = None
    for key, value in scope["headers"]:
        if key == b"host":
            host = value
            break
    server = scope.get("server")
    return _origin(scope.get("scheme", "http"), host, tuple(server) if server else None)


def _public_url(request: Request) -> str | None:
    app = request.scope.get("app")  # absent from a scope built by hand
    public: str | None = app.state.settings.public_url if app is not None else None
    return public


def _base(request: Request) -> str:
    """The service's URL without the trailing slash: the configured public one, else from the request."""
    public = _public_url(request)
    if public:
        return public
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return (_request_origin(request) + root).rstrip("/")


def service_base(request: Request) -> str:
    """The service's URL without the trailing slash (for the other OGC routers' links)."""
    return _base(request)


async def collection_of(request: Request, conn: ConnDep, collection_id: str) -> collections.Collection:
    """The collection of that id as the caller may read it; NotFound naming the known ones."""
    return await _collection(request, conn, collection_id)


def request_url(request: Request) -> str:
    """The URL of the request (as ``str(request.url)``), under the configured public URL when there is one."""
    scope = request.scope
    public = _public_url(request)
    if public:
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and (path == root or path.startswith(root + "/")):  # the path below the service's root
            path = path[len(root) :]
        origin = public
    else:
        origin, path = _request_origin(request), scope["path"]
        if not origin:
            return str(request.url)
    path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    # A query string's bytes as sent, escaped where they are not URL characters (raw non-ASCII bytes).
    query = quote_from_bytes(scope.get("query_string", b""), safe="!$&'()*+,/:;=?@[]~%")
    return f"{origin}{path}?{query}" if query else origin + path


def parse_bbox(
    value: str | None, crs: ogc_crs.OgcCrs | None = None
) -> tuple[float, float, float, float] | None:
    """bbox=minLon,minLat,maxLon,maxLat (or 6 numbers with heights), in WGS84; or in ``crs``, its axis order."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput(
            t("bbox needs 4 numbers (minLon,minLat,maxLon,maxLat), got {count}", count=len(parts))
        )
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(t("bbox values must be numbers: minLon,minLat,maxLon,maxLat")) from None
    if not all(math.isfinite(n) for n in nums):
        raise InvalidInput(t("bbox values must be finite numbers"))
    box = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else (nums[0], nums[1], nums[2], nums[3])
    if crs is not None and (crs.lat_first or crs.srid != 4326):
        if box[0] > box[2] or box[1] > box[3]:
            raise InvalidInput(t("bbox minimum exceeds maximum: give the lower corner first"))
        try:
            box, _ = ogc_crs.bbox_to_wgs84(box, crs)
        except Exception:  # pyproj's errors for points it cannot project
            box = (math.inf,) * 4
        if not all(math.isfinite(n) for n in box):
            raise InvalidInput(t("bbox lies outside the area of {crs}", crs=crs.uri))
    minx, miny, maxx, maxy = box
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(t("bbox is out of range: longitudes within ±180, latitudes within ±90"))
    if minx > maxx or miny > maxy:
        raise InvalidInput(t("bbox minimum exceeds maximum: give minLon,minLat,maxLon,maxLat"))
    return (minx, miny, maxx, maxy)


def next_href(url: str, after: str) -> str:
    """The URL of the page after ``url``: its parameters as sent, without offset/after, then ``after``."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in ("offset", "after")]
    kept.append("after=" + quote(after, safe=""))
    return f"{path}?{'&'.join(kept)}"


def next_offset_href(url: str, offset: int) -> str:
    """The URL of a sorted page's next page: its parameters as sent, with the next offset."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in ("offset", "after")]
    kept.append(f"offset={offset}")
    return f"{path}?{'&'.join(kept)}"


def output_crs(value: str | None) -> ogc_crs.OgcCrs:
    """The CRS a ``crs`` parameter asks for; InvalidInput for one not offered."""
    try:
        return ogc_crs.parse(value)
    except ogc_crs.UnsupportedCrs as exc:
        message = str(exc)  # already in the reader's language (ogc_crs words it with t)
        raise InvalidInput(message) from None


def crs_headers(crs: ogc_crs.OgcCrs) -> dict[str, str] | None:
    """``Content-Crs`` of an answer in ``crs`` (Part 2), when that CRS has a URI."""
    return {"Content-Crs": f"<{crs.uri}>"} if crs.uri else None


Format = Annotated[str | None, Query(description="Format: json (default) or html.")]


def _format(f: str | None, *allowed: str) -> str:
    """The answer's format: json unless ``f`` names another one offered."""
    if f in (None, "json", *allowed):
        return f or "json"
    raise InvalidInput(t("f must be one of json, {allowed}", allowed=listing(allowed)))


def _tiles_url(request: Request) -> str:
    app = request.scope.get("app")
    return str(app.state.settings.tiles_osm_url) if app is not None else ""


@router.get("/", summary="Landing page")
async def read_landing(request: Request, f: Format = None) -> Any:
    base = _base(request)
    landing = _landing(base)
    if _format(f, "html") == "html":
        return ogc_html.page(
            base,
            "landing.html",
            landing["title"],
            request_url(request),
            [],
            description=landing["description"],
            links=landing["links"],
        )
    return landing


def _landing(base: str) -> dict[str, Any]:
    return {
        "title": "geo_service",
        "description": "Administrative divisions, boundaries, place names and civil-affairs facilities",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "this document"},
            {
                "href": f"{base}/?f=html",
                "rel": "alternate",
                "type": "text/html",
                "title": "this document as HTML",
            },
            {
                "href": f"{base}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "title": "the API definition",
            },
            {
                "href": f"{base}/docs",
                "rel": "service-doc",
                "type": "text/html",
                "title": "the API documentation",
            },
            {
                "href": f"{base}/conformance",
                "rel": "conformance",
                "type": "application/json",
                "title": "OGC API conformance classes implemented",
            },
            {
                "href": f"{base}/collections",
                "rel": "data",
                "type": "application/json",
                "title": "the collections",
            },
            {
                "href": f"{base}/tiles",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": "application/json",
                "title": "vector tiles of all layers",
            },
        ],
    }


@router.get("/conformance", summary="Conformance classes")
async def read_conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


async def _describe(conn: ConnDep, coll: collections.Collection, base: str) -> dict[str, Any]:
    bbox = await features_query.cached_extent(conn, coll)
    here = f"{base}/collections/{coll.id}"
    described: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": list(ogc_crs.SUPPORTED),
        "storageCrs": CRS84,
        "links": [
            {"href": here, "rel": "self", "type": "application/json"},
            {"href": f"{here}/items", "rel": "items", "type": "application/geo+json", "title": coll.title},
            {
                "href": f"{here}/queryables",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": "what the features can be filtered on",
            },
            {
                "href": f"{here}/tiles",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": "application/json",
                "title": "vector tiles",
            },
        ],
    }
    if bbox:  # an empty collection claims no extent (not the whole world)
        described["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    return described


@router.get("/collections", summary="The collections", openapi_extra=OPTIONAL_KEY)
async def read_collections(request: Request, conn: ConnDep, caller: Reader, f: Format = None) -> Any:
    """With credentials (a key, HTTP Basic, a session) also the staff collections: place-name-proposals."""
    base = _base(request)
    document = {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [
            await _describe(conn, c, base) for c in await collections.all_collections(conn, caller)
        ],
    }
    if _format(f, "html") == "html":
        crumbs = [{"href": f"{base}/collections?f=html", "title": "collections"}]
        return ogc_html.page(
            base, "collections.html", "Collections", request_url(request), crumbs, **document
        )
    return document


async def _collection(request: Request, conn: ConnDep, collection_id: str) -> collections.Collection:
    """A collection as the caller may read it; 401 for a staff collection without credentials."""
    caller = None
    if collection_id in collections.STAFF:
        # Asked here, not by a dependency: the fast lane calls read_items with a connection alone.
        caller = await read_caller(request, conn, None)
        if caller is None:
            raise HTTPException(
                401,
                t(
                    "the collection {collection} is for staff: sign in, or send an API key "
                    "(QGIS: HTTP Basic with a name and password or a key)",
                    collection=collection_id,
                ),
                headers=CHALLENGE,
            )
    coll = await collections.get_collection(conn, collection_id, caller)
    if coll is None:
        known = ", ".join(c.id for c in await collections.all_collections(conn))
        raise NotFound(
            t("unknown collection {collection!r}: one of {known}", collection=collection_id, known=known)
        )
    return coll


@router.get("/collections/{collection_id}", summary="One collection")
async def read_collection(request: Request, conn: ConnDep, collection_id: str, f: Format = None) -> Any:
    base = _base(request)
    described = await _describe(conn, await _collection(request, conn, collection_id), base)
    if _format(f, "html") == "html":
        return ogc_html.page(
            base,
            "collection.html",
            described["title"],
            request_url(request),
            _crumbs(base, described),
            collection=described,
        )
    return described


def _crumbs(base: str, coll: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"href": f"{base}/collections?f=html", "title": "collections"},
        {"href": f"{base}/collections/{coll['id']}?f=html", "title": coll["title"]},
    ]


_Limit = Annotated[int, Query(ge=1, le=10_000, description="Features per page (1–10,000).")]
_Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip.")]
_Bbox = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat in WGS84.")]
_After = Annotated[str | None, Query(max_length=64, description="Keyset cursor (from a next link).")]
_OutputCrs = Annotated[
    str | None,
    Query(
        description=f"Output CRS: {CRS84} (default), the EPSG 4326, 4490 or 4547 URI or EPSG:nnnn "
        "(in that CRS's axis order), or wgs84/cgcs2000/gcj02/bd09 (lon, lat)."
    ),
]
_BboxCrs = Annotated[str | None, Query(alias="bbox-crs", description="CRS of bbox (as crs; default CRS84).")]
_Filter = Annotated[
    str | None,
    Query(max_length=cql.MAX_FILTER_CHARS, description="A CQL2 filter on the queryables (Part 3)."),
]
_FilterLang = Annotated[
    str | None, Query(alias="filter-lang", description="cql2-text (default) or cql2-json.")
]
_FilterCrs = Annotated[
    str | None, Query(alias="filter-crs", description=f"CRS of the filter's geometries: {CRS84} only.")
]
_SortBy = Annotated[
    str | None, Query(max_length=1000, description="Properties to sort by: +name,-population.")
]
_Datetime = Annotated[
    str | None,
    Query(max_length=100, description="An ISO 8601 date or interval (a/b, ../b) on the layer's date."),
]
_ItemsFormat = Annotated[str | None, Query(description="Format: json or geojson (default), or html.")]


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=GeoJSONBody,
    responses=documented(ItemsAnswer, "application/geo+json"),
    response_model=None,
)
async def read_items(
    request: Request,
    conn: ConnDep,
    collection_id: str,
    limit: _Limit = 100,
    offset: _Offset = 0,
    bbox: _Bbox = None,
    after: _After = None,
    crs: _OutputCrs = None,
    bbox_crs: _BboxCrs = None,
    filter: _Filter = None,
    filter_lang: _FilterLang = None,
    filter_crs: _FilterCrs = None,
    sortby: _SortBy = None,
    datetime: _Datetime = None,
    f: _ItemsFormat = None,
) -> Any:
    """Any other parameter is an equality filter on a property of the collection's features. Staff collections
    (place-name-proposals) need credentials: a key, HTTP Basic or a session."""
    coll = await _collection(request, conn, collection_id)
    fmt = _format(f, "geojson", "html")
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    out_crs = output_crs(crs)
    box = parse_bbox(bbox, output_crs(bbox_crs) if bbox_crs else None)
    where, params = await _conditions(conn, coll, filter, filter_lang, filter_crs, datetime, bbox, bbox_crs)
    result = await features_query.page(
        conn,
        coll,
        out_crs.named,
        limit,
        offset,
        after,
        box,
        filters,
        where,
        params,
        features_query.parse_sortby(coll, sortby),
        Sql(out_crs.geometry_sql()),
    )
    if coll.id in collections.STAFF:  # proposals' warnings, worded in the reader's language
        result.features = [naming_warnings.shown_in_feature(f) for f in result.features]
    body = _items_body(request, coll, result)
    if fmt == "html":
        return _items_page(request, coll, body)
    return GeoJSONBody(body, headers=crs_headers(out_crs))


def _items_body(
    request: Request, coll: collections.Collection, result: features_query.Page
) -> dict[str, Any]:
    """An items page as a FeatureCollection with its links (and numberMatched when known)."""
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": result.features,
        "numberReturned": len(result.features),
        "links": _items_links(request, coll, result),
    }
    if result.number_matched is not None:
        body["numberMatched"] = result.number_matched
    return body


def _items_links(
    request: Request, coll: collections.Collection, result: features_query.Page
) -> list[dict[str, str]]:
    """An items page's links: itself, its collection and, when there is one, the next page."""
    here = request_url(request)
    links = [
        {"href": here, "rel": "self", "type": "application/geo+json"},
        {"href": f"{_base(request)}/collections/{coll.id}", "rel": "collection", "type": "application/json"},
    ]
    if result.next_after is not None:
        links.append(
            {"href": next_href(here, result.next_after), "rel": "next", "type": "application/geo+json"}
        )
    elif result.next_offset is not None:
        links.append(
            {
                "href": next_offset_href(here, result.next_offset),
                "rel": "next",
                "type": "application/geo+json",
            }
        )
    return links


def _items_page(request: Request, coll: collections.Collection, body: dict[str, Any]) -> Any:
    base = _base(request)
    here = request_url(request)
    features = ogc_html.plain(body["features"])
    next_url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return ogc_html.page(
        base,
        "items.html",
        f"{coll.title}: items",
        here,
        _crumbs(base, {"id": coll.id, "title": coll.title}),
        collection={"id": coll.id},
        features=features,
        columns=list(coll.properties),
        number_matched=body.get("numberMatched"),
        next_url=next_url,
        geojson_url=ogc_html.with_format(here, "json"),
        tiles_url=_tiles_url(request),
    )


async def _conditions(
    conn: ConnDep,
    coll: collections.Collection,
    filter_text: str | None,
    filter_lang: str | None,
    filter_crs: str | None,
    datetime: str | None,
    bbox: str | None,
    bbox_crs: str | None,
) -> tuple[Sql | None, dict[str, Any]]:
    """The SQL condition (and its bound values) of a request's filter, datetime and projected bbox."""
    params: dict[str, Any] = {}
    if filter_text is None and datetime is None and not (bbox and bbox_crs):
        return None, params
    where = []
    translator = cql.Translator(coll, await queryables.property_kinds(conn, coll), params)
    if filter_text is not None:
        if filter_crs is not None and output_crs(filter_crs).uri != CRS84:
            raise InvalidInput(
                t("filter-crs must be {crs}: filter geometries are longitude, latitude", crs=CRS84)
            )
        where.append(translator.condition(cql.parse(filter_text, filter_lang)))
    elif filter_lang is not None and filter_lang not in cql.FILTER_LANGS:
        raise InvalidInput(t("filter-lang must be one of {langs}", langs=", ".join(cql.FILTER_LANGS)))
    if datetime is not None:
        where.append(cql.datetime_condition(translator, datetime))
    if bbox and bbox_crs:
        box_crs = output_crs(bbox_crs)
        if box_crs.srid != 4326:
            # The box's edges are straight in the projection: test against the box itself, not its lon/lat hull.
            parts = [float(p) for p in bbox.split(",")]
            a0, b0, a1, b1 = (parts[0], parts[1], parts[3], parts[4]) if len(parts) == 6 else parts[:4]
            x0, y0, x1, y1 = (b0, a0, b1, a1) if box_crs.lat_first else (a0, b0, a1, b1)
            where.append(translator.projected_box((x0, y0, x1, y1), box_crs.srid))
    return cql.all_of(where), params


@router.get(
    "/collections/{collection_id}/items/{feature_id}", summary="One feature", response_class=GeoJSONBody
)
async def read_item(
    request: Request,
    conn: ConnDep,
    collection_id: str,
    feature_id: str,
    crs: Annotated[str | None, Query(description="Output CRS (as for items).")] = None,
    f: Format = None,
) -> Any:
    coll = await _collection(request, conn, collection_id)
    fmt = _format(f, "geojson", "html")
    out_crs = output_crs(crs)
    feat = await features_query.one(conn, coll, feature_id, out_crs.named, Sql(out_crs.geometry_sql()))
    if coll.id in collections.STAFF:
        feat = naming_warnings.shown_in_feature(feat)
    base = _base(request)
    feat["links"] = [
        {
            "href": f"{base}/collections/{coll.id}/items/{feature_id}",
            "rel": "self",
            "type": "application/geo+json",
        },
        {"href": f"{base}/collections/{coll.id}", "rel": "collection", "type": "application/json"},
    ]
    if fmt == "html":
        here = request_url(request)
        return ogc_html.page(
            base,
            "item.html",
            f"{coll.title}: {feature_id}",
            here,
            _crumbs(base, {"id": coll.id, "title": coll.title}),
            feature=ogc_html.plain(feat),
            geojson_url=ogc_html.with_format(here, "json"),
            tiles_url=_tiles_url(request),
        )
    return GeoJSONBody(feat, headers=crs_headers(out_crs))


@router.get(
    "/collections/{collection_id}/queryables",
    summary="What a collection's features can be filtered and sorted on (JSON Schema)",
    response_class=JSONBody,
)
async def read_queryables(request: Request, conn: ConnDep, collection_id: str) -> JSONBody:
    coll = await _collection(request, conn, collection_id)
    document = queryables.schema(
        coll,
        await queryables.property_kinds(conn, coll),
        f"{_base(request)}/collections/{coll.id}/queryables",
    )
    return JSONBody(document, media_type="application/schema+json")
