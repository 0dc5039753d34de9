"""Place names: public search, reads and the register; proposals, checks, renames, reviews, withdrawals and
resubmissions with credentials; the review queue for staff."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api.auth import OPTIONAL_KEY, Reader, Reviewer, Surveyor
from geo_service.api.conditional import IfMatchDep, versioned_feature
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.identity import CHALLENGE
from geo_service.api.params import Crs, DistrictCode, DivisionCode, Id, point_wgs84
from geo_service.api.responses import GeoJSONBody, JSONBody, download_responses
from geo_service.api.schemas import (
    Category,
    PlaceNameCheck,
    PlaceNameCreate,
    PlaceNameRename,
    PlaceNameResubmit,
    PlaceNameReview,
    Statuses,
)
from geo_service.domain.errors import Forbidden, InvalidInput, PreconditionRequired
from geo_service.domain.geometry_input import parse_geometry
from geo_service.domain.words import listing, status_word
from geo_service.i18n import t
from geo_service.services import attachments, exports, place_name_workflow, place_names, register
from geo_service.services.keys import Caller
from geo_service.services.naming_check import Proposal, dry_run
from geo_service.services.place_name_workflow import Resubmission

router = APIRouter(prefix="/v1/place-names", tags=["place names"])
#: A decimal number in ASCII digits (float() would also read other scripts' digits, "nan" and "1e400").
_DECIMAL = re.compile(r"-?[0-9]{1,4}(\.[0-9]{1,20})?")


def _near(value: str, crs: str) -> tuple[float, float]:
    """``near=lon,lat`` (in the request's CRS) as a WGS84 point."""
    parts = value.split(",")
    if len(parts) != 2 or not all(_DECIMAL.fullmatch(p.strip()) for p in parts):
        raise InvalidInput(t("near must be lon,lat: two decimal numbers, not {value!r}", value=value))
    lon, lat = (float(p) for p in parts)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            t("near must be lon,lat: two numbers in range (lon ±180, lat ±90), not {value!r}", value=value)
        )
    return point_wgs84(lon, lat, crs)


_Q = Annotated[str | None, Query(max_length=100, description="Chinese text, pinyin or a near spelling.")]
_CategoryQ = Annotated[Category | None, Query(description="A category code or its Chinese name.")]
_StatusQ = Annotated[
    Statuses | None,
    Query(
        min_length=1,
        max_length=7,
        description="status=a,b or status=a&status=b (default approved; others need credentials).",
    ),
]
_ProposedBy = Annotated[str | None, Query(max_length=100, description="Who proposed (reviewers).")]
_Since = Annotated[dt.date | None, Query(description="Created on or after (YYYY-MM-DD).")]
_Sort = Annotated[
    Literal["created", "-created", "distance"] | None,
    Query(description="created (oldest first, the default without q), -created, or distance (with near)."),
]
_Mine = Annotated[bool, Query(description="The caller's own proposals, in every status.")]
_Near = Annotated[str | None, Query(max_length=100, description="lon,lat: names near this point.")]
_RadiusM = Annotated[
    float, Query(gt=0, le=50_000, allow_inf_nan=False, description="With near (default 1,000 m).")
]


def _require_access(
    caller: Caller | None, statuses: tuple[str, ...] | None, mine: bool, proposed_by: str | None
) -> None:
    """401 for the public asking for more than approved names; 403 for a surveyor filtering by proposer."""
    if caller is None and (statuses not in (None, ("approved",)) or mine or proposed_by):
        if mine or proposed_by:
            detail = t(
                "only approved names are public: {asked} need credentials",
                asked="mine=true" if mine else "proposed_by",
            )
        else:
            detail = t(
                "only approved names are public: {statuses} names need credentials",
                statuses=listing(status_word(s) for s in statuses or ()),
            )
        raise HTTPException(401, detail, headers=CHALLENGE)
    if caller is not None and proposed_by not in (None, caller.name) and not caller.has("reviewer"):
        raise Forbidden(
            t("a surveyor lists its own proposals (mine=true); filtering by proposer is for reviewers")
        )


@router.get(
    "", summary="Search place names; the review queue", response_class=GeoJSONBody, openapi_extra=OPTIONAL_KEY
)
async def read_place_names(
    conn: ConnDep,
    caller: Reader,
    q: _Q = None,
    division: DivisionCode = None,
    district: DistrictCode = None,
    category: _CategoryQ = None,
    status: _StatusQ = None,
    proposed_by: _ProposedBy = None,
    since: _Since = None,
    sort: _Sort = None,
    mine: _Mine = False,
    near: _Near = None,
    radius_m: _RadiusM = 1000,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """`q` matches the name (substring), its pinyin (case, spaces and tones ignored; homophones too) and
    near spellings (trigram similarity), best match first. Without credentials: approved names only (another
    `status`, `mine` or `proposed_by` → 401), public properties only.

    The review queue (staff): `status=proposed` (a comma list), `district`, `division`, `category`,
    `proposed_by`, `since`, `sort` (oldest first by default); `mine=true` the caller's own proposals;
    `near=lon,lat&radius_m=` names near a point (with `distance_m`)."""
    statuses = tuple(dict.fromkeys(status)) if status is not None else None
    _require_access(caller, statuses, mine, proposed_by)
    query = place_names.PlaceNameQuery(
        q=q,
        division=division,
        district=district,
        category=category,
        statuses=statuses,
        proposed_by=proposed_by,
        since=since,
        sort=sort,
        mine=caller.name if mine and caller else None,
        near=_near(near, crs) if near is not None else None,
        radius_m=radius_m,
        limit=limit,
        offset=offset,
    )
    return GeoJSONBody(await place_names.search(conn, query, crs, caller))


@router.get(
    "/register",
    summary="The place-name register (地名录), as a spreadsheet",
    response_class=Response,
    responses=download_responses(*(exports.MEDIA_TYPES[f] for f in register.FORMATS)),
)
async def read_register(
    conn: ConnDep,
    format: Annotated[Literal["xlsx", "csv"], Query(description="xlsx (default) or csv.")] = "xlsx",
    district: DistrictCode = None,
) -> Response:
    """Every approved name with its category, pinyin, district, township and village, origin (含义), history
    (历史沿革: earlier names and their dates), approval reference (批准文号) and dates. Public. The workbook has
    Chinese headers, a frozen header row and filters; text that a spreadsheet would run as a formula stays text."""
    body = register.file(await register.rows(conn, district), format)
    stem = f"place-name-register_{district}" if district else "place-name-register"
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"'},
    )


@router.post("/check", summary="Check a proposal without proposing it")
async def create_check(engine: EngineDep, caller: Surveyor, body: PlaceNameCheck) -> JSONBody:
    """The dry run of one proposal, always 200: name parts, pinyin, containing division, problems (`rule`,
    `message`), conflicting ids and warnings; `ok` when there is no problem. Nothing is written."""
    props = body.properties
    async with engine.connect() as conn:  # nothing written: the connection's transaction is rolled back
        answer = await dry_run(
            conn,
            props.name,
            props.category,
            body.geometry,
            body.crs,
            props.division_code,
            body.id,
            caller.district,
        )
    return JSONBody(answer)


@router.get(
    "/{place_name_id}",
    summary="One place name with its history",
    response_class=GeoJSONBody,
    openapi_extra=OPTIONAL_KEY,
)
async def read_place_name(
    conn: ConnDep, caller: Reader, place_name_id: Id, crs: Crs = "wgs84"
) -> GeoJSONBody:
    """Without a key: an approved name (else 404), public properties, earlier names with their dates."""
    return versioned_feature(await place_names.get(conn, place_name_id, crs, caller))


@router.post("", status_code=201, summary="Propose a place name", response_class=GeoJSONBody)
async def create_place_name(engine: EngineDep, caller: Surveyor, body: PlaceNameCreate) -> GeoJSONBody:
    """Checked against the naming rules (422 with each violation), uniqueness in scope (409 naming the
    conflicting ids); stored as `proposed` with its romanisation, division, version and warnings."""
    props = body.properties
    proposal = Proposal(
        name=props.name.strip(),
        category=props.category,
        geom=parse_geometry(body.geometry, body.crs),
        division_code=props.division_code,
        origin=props.origin,
        note=props.note,
    )
    async with engine.begin() as conn:
        feature = await place_name_workflow.propose(conn, caller, proposal, body.crs)
        if body.attachment_ids:
            feature = await _with_attachments(conn, caller, feature, body.attachment_ids, body.crs)
    return versioned_feature(feature, status_code=201)


async def _with_attachments(
    conn: AsyncConnection, caller: Caller, feature: dict[str, Any], ids: list[int], crs: str
) -> dict[str, Any]:
    """The proposal with its photos and documents linked (422 for an unknown id: nothing is written); ids it
    has already are kept once."""
    pid = int(feature["id"])
    has = set((await attachments.linked(conn, "place_name", [pid]))[pid])
    await attachments.link(conn, "place_name", pid, [i for i in ids if i not in has])
    return await place_names.get(conn, pid, crs, caller)


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
        if body.attachment_ids:
            feature = await _with_attachments(conn, caller, feature, body.attachment_ids, crs)
    return versioned_feature(feature, status_code=201)


@router.post(
    "/{place_name_id}/review", summary="Approve, reject or return a proposal", response_class=GeoJSONBody
)
async def create_review(
    engine: EngineDep,
    caller: Reviewer,
    place_name_id: Id,
    body: PlaceNameReview,
    if_match: IfMatchDep,
    crs: Crs = "wgs84",
) -> Any:
    """`approve` (with an optional `approval_ref`, 批准文号), `reject`, or `return` to the proposer for changes (with
    a `comment` saying what to change). If-Match with the proposal's ETag: 412 when it does not match (checked
    first), 409 when already decided (a returned one too, until resubmitted). Approving a rename renames the
    place (the answer is the place, with its ETag)."""
    async with engine.begin() as conn:
        version = await if_match.check(conn, "place_name", place_name_id)
        feature = await place_name_workflow.review(
            conn, caller, place_name_id, body.decision, body.comment, version, crs, body.approval_ref
        )
    return versioned_feature(feature)


@router.post("/{place_name_id}/withdraw", summary="Withdraw one's own proposal", response_class=GeoJSONBody)
async def create_withdrawal(
    engine: EngineDep, caller: Surveyor, place_name_id: Id, if_match: IfMatchDep, crs: Crs = "wgs84"
) -> Any:
    """The proposer takes back its pending or returned proposal (403 for another's, 409 once decided); the
    name is free again. If-Match is optional here (412 when it names another version)."""
    async with engine.begin() as conn:
        version = None
        if not isinstance(if_match.problem, PreconditionRequired):  # sent: it must hold
            version = await if_match.check(conn, "place_name", place_name_id)
        feature = await place_name_workflow.withdraw(conn, caller, place_name_id, version, crs)
    return versioned_feature(feature)


@router.put("/{place_name_id}", summary="Resubmit a returned proposal, changed", response_class=GeoJSONBody)
async def update_place_name(
    engine: EngineDep, caller: Surveyor, place_name_id: Id, body: PlaceNameResubmit, if_match: IfMatchDep
) -> Any:
    """Its proposer sends a returned proposal back, changed: checked again by every rule (422, 409 as when
    proposing) and pending again (`proposed`, the returning decision's comment no longer current: the audit log
    keeps it). A new place is sent whole (geometry and properties, as proposed); a rename sends its new name,
    justification and note. `attachment_ids` adds photos and documents to those it has. If-Match required (428
    without, 412 stale)."""
    props = body.properties
    change = Resubmission(
        name=props.name.strip(),
        category=props.category,
        division_code=props.division_code,
        geom=parse_geometry(body.geometry, body.crs) if body.geometry is not None else None,
        origin=props.origin,
        note=props.note,
        justification=props.justification,
    )
    async with engine.begin() as conn:
        version = await if_match.check(conn, "place_name", place_name_id)
        feature = await place_name_workflow.resubmit(conn, caller, place_name_id, change, version, body.crs)
        if body.attachment_ids:
            feature = await _with_attachments(conn, caller, feature, body.attachment_ids, body.crs)
    return versioned_feature(feature)
