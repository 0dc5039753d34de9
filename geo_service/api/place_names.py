"""Place names: public search and reads; proposals, renames and reviews with a key."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from geo_service.api.auth import OPTIONAL_KEY, Reader, Reviewer, Surveyor
from geo_service.api.conditional import IfMatchDep, versioned_feature
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.params import Crs, DivisionCode, Id
from geo_service.api.responses import GeoJSONBody
from geo_service.api.schemas import PlaceNameCreate, PlaceNameRename, PlaceNameReview
from geo_service.domain.geometry_input import parse_geometry
from geo_service.services import place_name_workflow, place_names
from geo_service.services.naming_check import Proposal

router = APIRouter(prefix="/v1/place-names", tags=["place names"])


@router.get("", summary="Search place names", response_class=GeoJSONBody, openapi_extra=OPTIONAL_KEY)
async def read_place_names(
    conn: ConnDep,
    caller: Reader,
    q: Annotated[
        str | None, Query(max_length=100, description="Chinese text, pinyin or a near spelling.")
    ] = None,
    division: DivisionCode = None,
    category: Literal["road", "street", "alley", "village", "community", "natural_village", "bridge", "other"]
    | None = None,
    status: Literal["proposed", "approved", "rejected", "retired", "superseded"] = "approved",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """`q` matches the name (substring), its pinyin (case, spaces and tones ignored; homophones too) and
    near spellings (trigram similarity), best match first. Without a key: approved names only (another
    `status` → 401), public properties only."""
    if caller is None and status != "approved":
        raise HTTPException(401, f"only approved names are public: {status} ones need an API key",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return GeoJSONBody(
        await place_names.search(conn, q, division, category, status, limit, offset, crs, caller)
    )


@router.get(
    "/{place_name_id}",
    summary="One place name with its history",
    response_class=GeoJSONBody,
    openapi_extra=OPTIONAL_KEY,
)
async def read_place_name(
    conn: ConnDep, caller: Reader, place_name_id: Id, crs: Crs = "wgs84"
) -> GeoJSONBody:
    """Without credentials: an approved name (else 404), public properties, earlier names with their dates; with
    the strong ETag of its version (`"3"`), for If-Match on a review."""
    return versioned_feature(await place_names.get(conn, place_name_id, crs, caller))


@router.post("", status_code=201, summary="Propose a place name", response_class=GeoJSONBody)
async def create_place_name(engine: EngineDep, caller: Surveyor, body: PlaceNameCreate) -> GeoJSONBody:
    """Checked against the naming rules (422 with each violation), uniqueness in scope (409 naming the
    conflicting ids); stored as `proposed` with its romanisation, division, version and warnings."""
    props = body.properties
    proposal = Proposal(name=props.name.strip(), category=props.category,
                        geom=parse_geometry(body.geometry, body.crs),
                        division_code=props.division_code, origin=props.origin, note=props.note)  # fmt: skip
    async with engine.begin() as conn:
        feature = await place_name_workflow.propose(conn, caller, proposal, body.crs)
    return versioned_feature(feature, status_code=201)


@router.post(
    "/{place_name_id}/rename", status_code=201, summary="Propose a new name", response_class=GeoJSONBody
)
async def create_rename(
    engine: EngineDep, caller: Surveyor, place_name_id: Id, body: PlaceNameRename, crs: Crs = "wgs84"
) -> GeoJSONBody:
    """A rename proposal (a new proposed name with `rename_of`); a protected name needs a justification."""
    async with engine.begin() as conn:
        feature = await place_name_workflow.propose_rename(
            conn, caller, place_name_id, body.name.strip(), body.justification, body.note, crs
        )
    return versioned_feature(feature, status_code=201)


@router.post("/{place_name_id}/review", summary="Approve or reject a proposal", response_class=GeoJSONBody)
async def create_review(
    engine: EngineDep,
    caller: Reviewer,
    place_name_id: Id,
    body: PlaceNameReview,
    if_match: IfMatchDep,
    crs: Crs = "wgs84",
) -> Any:
    """If-Match with the proposal's ETag: 412 when it does not match (checked first), 409 when already decided.
    Approving a rename renames the place (the answer is the place, with its ETag)."""
    async with engine.begin() as conn:
        version = await if_match.check(conn, "place_name", place_name_id)
        feature = await place_name_workflow.review(
            conn, caller, place_name_id, body.decision, body.comment, version, crs
        )
    return versioned_feature(feature)
