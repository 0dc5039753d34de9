"""OGC API – Tiles (vector tiles, MVT) of each collection and of all of them, with tileset metadata and TileJSON.

Paths follow OGC API – Tiles: ``…/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}``, that is z/y/x.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from geo_service.api.deps import ConnDep
from geo_service.api.ogc import collection_of, service_base
from geo_service.api.responses import JSONBody
from geo_service.domain.errors import NotFound
from geo_service.i18n import t
from geo_service.services import collections, features_query, queryables, tiles
from geo_service.services.tiles import MVT_MEDIA_TYPE, TILE_MATRIX_SET, TILE_MATRIX_SET_URI

router = APIRouter(tags=["OGC API – Tiles"])

TileMatrix = Annotated[int, Path(alias="tileMatrix", description="Zoom level (0–20).")]
TileRow = Annotated[int, Path(alias="tileRow", description="Row from the north (y).")]
TileCol = Annotated[int, Path(alias="tileCol", description="Column from the west (x).")]
_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


def _matrix_set(name: str) -> None:
    if name != TILE_MATRIX_SET:
        raise NotFound(
            t(
                "unknown tile matrix set {name!r}: this service offers {offered}",
                name=name,
                offered=TILE_MATRIX_SET,
            )
        )


def _tileset(base: str, title: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
    here = f"{base}/tiles/{TILE_MATRIX_SET}"
    return {
        "title": title,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": TILE_MATRIX_SET_URI,
        "layers": layers,
        "links": [
            {"href": here, "rel": "self", "type": "application/json"},
            {"href": TILE_MATRIX_SET_URI, "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"},
            {"href": f"{here}/{_TEMPLATE}", "rel": "item", "type": MVT_MEDIA_TYPE, "templated": True},
            {
                "href": f"{here}/tilejson.json",
                "rel": "describedby",
                "type": "application/json",
                "title": "TileJSON",
            },
        ],
    }


async def _layer(conn: ConnDep, coll: collections.Collection) -> dict[str, Any]:
    kinds = await queryables.property_kinds(conn, coll)
    kinds = {"count": "integer", **kinds} if coll.grid else kinds
    return {
        "id": coll.id,
        "title": coll.title,
        "dataType": "points" if coll.grid else "vector",
        "propertiesSchema": {"type": "object", "properties": {k: {"type": v} for k, v in kinds.items()}},
    }


async def _tilejson(conn: ConnDep, base: str, colls: list[collections.Collection]) -> dict[str, Any]:
    extents = [e for c in colls if (e := await features_query.cached_extent(conn, c))]
    bounds = (
        [
            min(e[0] for e in extents),
            min(e[1] for e in extents),
            max(e[2] for e in extents),
            max(e[3] for e in extents),
        ]
        if extents
        else [-180, -85.0511, 180, 85.0511]
    )
    layers = []
    for coll in colls:
        kinds = await queryables.property_kinds(conn, coll)
        fields = {"count": "Number"} if coll.grid else {}
        fields.update({k: "Number" if v in ("integer", "number") else "String" for k, v in kinds.items()})
        layers.append({"id": coll.id, "description": coll.title, "fields": fields})
    return {
        "tilejson": "3.0.0",
        "tiles": [f"{base}/tiles/{TILE_MATRIX_SET}/{{z}}/{{y}}/{{x}}"],
        "vector_layers": layers,
        "minzoom": 0,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 9],
        "scheme": "xyz",
    }


def _mvt(body: bytes) -> Response:
    return Response(content=body, media_type=MVT_MEDIA_TYPE)


@router.get("/collections/{collection_id}/tiles", summary="The vector tilesets of a collection")
async def read_collection_tilesets(request: Request, conn: ConnDep, collection_id: str) -> dict[str, Any]:
    coll = collections.in_tiles(await collection_of(request, conn, collection_id))
    base = f"{service_base(request)}/collections/{coll.id}"
    return {"tilesets": [_tileset(base, coll.title, [await _layer(conn, coll)])]}


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set}", summary="A collection's tileset")
async def read_collection_tileset(
    request: Request, conn: ConnDep, collection_id: str, tile_matrix_set: str
) -> dict[str, Any]:
    _matrix_set(tile_matrix_set)
    coll = collections.in_tiles(await collection_of(request, conn, collection_id))
    return _tileset(f"{service_base(request)}/collections/{coll.id}", coll.title, [await _layer(conn, coll)])


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set}/tilejson.json", summary="TileJSON")
async def read_collection_tilejson(
    request: Request, conn: ConnDep, collection_id: str, tile_matrix_set: str
) -> JSONBody:
    _matrix_set(tile_matrix_set)
    coll = collections.in_tiles(await collection_of(request, conn, collection_id))
    return JSONBody(await _tilejson(conn, f"{service_base(request)}/collections/{coll.id}", [coll]))


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile of a collection (z/y/x)",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"}},
)
async def read_collection_tile(
    request: Request,
    conn: ConnDep,
    collection_id: str,
    tile_matrix_set: str,
    z: TileMatrix,
    y: TileRow,
    x: TileCol,
) -> Response:
    _matrix_set(tile_matrix_set)
    coll = collections.in_tiles(await collection_of(request, conn, collection_id))
    return _mvt(await tiles.tile(conn, [coll], z, y, x))


@router.get("/tiles", summary="The vector tilesets of all layers")
async def read_tilesets(request: Request, conn: ConnDep) -> dict[str, Any]:
    colls = await collections.all_collections(conn)
    return {
        "tilesets": [_tileset(service_base(request), "All layers", [await _layer(conn, c) for c in colls])]
    }


@router.get("/tiles/{tile_matrix_set}", summary="The tileset of all layers")
async def read_tileset(request: Request, conn: ConnDep, tile_matrix_set: str) -> dict[str, Any]:
    _matrix_set(tile_matrix_set)
    colls = await collections.all_collections(conn)
    return _tileset(service_base(request), "All layers", [await _layer(conn, c) for c in colls])


@router.get("/tiles/{tile_matrix_set}/tilejson.json", summary="TileJSON of all layers")
async def read_tilejson(request: Request, conn: ConnDep, tile_matrix_set: str) -> JSONBody:
    _matrix_set(tile_matrix_set)
    return JSONBody(await _tilejson(conn, service_base(request), await collections.all_collections(conn)))


@router.get(
    "/tiles/{tile_matrix_set}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile of all layers (z/y/x), one MVT layer per collection",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"}},
)
async def read_tile(conn: ConnDep, tile_matrix_set: str, z: TileMatrix, y: TileRow, x: TileCol) -> Response:
    _matrix_set(tile_matrix_set)
    return _mvt(await tiles.tile(conn, await collections.all_collections(conn), z, y, x))
