"""OGC API – Features Part 1 (core, GeoJSON, OpenAPI 3.0): landing page, conformance, collections, items."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any
from urllib.parse import quote, quote_from_bytes, unquote_plus

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.datastructures import URL

from geo_service.api.auth import OPTIONAL_KEY, Reader, read_caller
from geo_service.api.deps import ConnDep
from geo_service.api.identity import CHALLENGE
from geo_service.api.responses import GeoJSONBody
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.services import collections, features_query

router = APIRouter(tags=["OGC API – Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
RESERVED = {"limit", "offset", "bbox", "after", "crs", "f", "bbox-crs"}
_CRS_ALIASES = {CRS84: "wgs84", "http://www.opengis.net/def/crs/EPSG/0/4326": "wgs84"}


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


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """bbox=minLon,minLat,maxLon,maxLat (or 6 numbers with heights), in WGS84."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput(f"bbox needs 4 numbers (minLon,minLat,maxLon,maxLat), got {len(parts)}")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput("bbox values must be numbers: minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(n) for n in nums):
        raise InvalidInput("bbox values must be finite numbers")
    minx, miny, maxx, maxy = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else tuple(nums)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput("bbox is out of range: longitudes within ±180, latitudes within ±90")
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox minimum exceeds maximum: give minLon,minLat,maxLon,maxLat")
    return (minx, miny, maxx, maxy)


def next_href(url: str, after: str) -> str:
    """The URL of the page after ``url``: its parameters as sent, without offset/after, then ``after``."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in ("offset", "after")]
    kept.append("after=" + quote(after, safe=""))
    return f"{path}?{'&'.join(kept)}"


def output_crs(value: str | None) -> str:
    if value is None:
        return "wgs84"
    name = _CRS_ALIASES.get(value, value)
    if name not in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        raise InvalidInput(f"unsupported crs {value!r}: use {CRS84}, wgs84, cgcs2000, gcj02 or bd09")
    return name


@router.get("/", summary="Landing page")
async def read_landing(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "title": "geo_service",
        "description": "Administrative divisions, boundaries, place names and civil-affairs facilities",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "this document"},
            {"href": f"{base}/openapi.json", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html", "title": "the API documentation"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json",
             "title": "OGC API conformance classes implemented"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json", "title": "the collections"},
        ],
    }  # fmt: skip


@router.get("/conformance", summary="Conformance classes")
async def read_conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


async def _describe(conn: ConnDep, coll: collections.Collection, base: str) -> dict[str, Any]:
    bbox = await features_query.cached_extent(conn, coll)
    return {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bbox or [-180, -90, 180, 90]], "crs": CRS84}},
        "links": [
            {"href": f"{base}/collections/{coll.id}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{coll.id}/items", "rel": "items", "type": "application/geo+json",
             "title": coll.title},
        ],
    }  # fmt: skip


@router.get("/collections", summary="The collections", openapi_extra=OPTIONAL_KEY)
async def read_collections(request: Request, conn: ConnDep, caller: Reader) -> dict[str, Any]:
    """With credentials (a key, HTTP Basic, a session) also the staff collections: place-name-proposals."""
    base = _base(request)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [
            await _describe(conn, c, base) for c in await collections.all_collections(conn, caller)
        ],
    }


async def _collection(request: Request, conn: ConnDep, collection_id: str) -> collections.Collection:
    """A collection as the caller may read it; 401 for a staff collection without credentials."""
    caller = None
    if collection_id in collections.STAFF:
        # Asked here, not by a dependency: the fast lane calls read_items with a connection alone.
        caller = await read_caller(request, conn, None)
        if caller is None:
            raise HTTPException(
                401,
                f"the collection {collection_id} is for staff: sign in, or send an API key "
                "(QGIS: HTTP Basic with a name and password or a key)",
                headers=CHALLENGE,
            )
    coll = await collections.get_collection(conn, collection_id, caller)
    if coll is None:
        known = ", ".join(c.id for c in await collections.all_collections(conn))
        raise NotFound(f"unknown collection {collection_id!r}: one of {known}")
    return coll


@router.get("/collections/{collection_id}", summary="One collection")
async def read_collection(request: Request, conn: ConnDep, collection_id: str) -> dict[str, Any]:
    return await _describe(conn, await _collection(request, conn, collection_id), _base(request))


@router.get(
    "/collections/{collection_id}/items", summary="Features of a collection", response_class=GeoJSONBody
)
async def read_items(
    request: Request,
    conn: ConnDep,
    collection_id: str,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Features per page (1–10,000).")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip.")] = 0,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat in WGS84.")] = None,
    after: Annotated[
        str | None, Query(max_length=64, description="Keyset cursor (from a next link).")
    ] = None,
    crs: Annotated[
        str | None, Query(description=f"Output CRS: {CRS84} (default) or wgs84/gcj02/bd09.")
    ] = None,
    f: Annotated[str | None, Query(description="Format: json or geojson (the only one).")] = None,
) -> GeoJSONBody:
    """Any other parameter is an equality filter on a property of the collection's features. Staff collections
    (place-name-proposals) need credentials: a key, HTTP Basic or a session."""
    coll = await _collection(request, conn, collection_id)
    if f not in (None, "json", "geojson"):
        raise InvalidInput("f must be json or geojson")
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    out_crs = output_crs(crs)
    result = await features_query.page(conn, coll, out_crs, limit, offset, after, parse_bbox(bbox), filters)
    base = _base(request)
    here = request_url(request)
    links = [
        {"href": here, "rel": "self", "type": "application/geo+json"},
        {"href": f"{base}/collections/{coll.id}", "rel": "collection", "type": "application/json"},
    ]
    if result.next_after is not None:
        links.append(
            {"href": next_href(here, result.next_after), "rel": "next", "type": "application/geo+json"}
        )
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": result.features,
        "numberReturned": len(result.features),
        "links": links,
    }
    if result.number_matched is not None:
        body["numberMatched"] = result.number_matched
    return GeoJSONBody(body)


@router.get(
    "/collections/{collection_id}/items/{feature_id}", summary="One feature", response_class=GeoJSONBody
)
async def read_item(
    request: Request,
    conn: ConnDep,
    collection_id: str,
    feature_id: str,
    crs: Annotated[str | None, Query(description="Output CRS.")] = None,
) -> GeoJSONBody:
    coll = await _collection(request, conn, collection_id)
    feat = await features_query.one(conn, coll, feature_id, output_crs(crs))
    base = _base(request)
    feat["links"] = [
        {
            "href": f"{base}/collections/{coll.id}/items/{feature_id}",
            "rel": "self",
            "type": "application/geo+json",
        },
        {"href": f"{base}/collections/{coll.id}", "rel": "collection", "type": "application/json"},
    ]
    return GeoJSONBody(feat)
