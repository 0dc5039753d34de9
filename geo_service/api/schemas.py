"""Request bodies of the write endpoints, named by role (…Create, …Update, …Review)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from geo_service.api.params import DIVISION_CODE_PATTERN
from geo_service.domain.naming import category_code

CrsField = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
#: Ids from ``POST /v1/attachments`` (photos, documents) a record refers to.
AttachmentIds = Annotated[
    list[Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807)]],
    Field(
        default_factory=list, max_length=20, description="Ids of uploaded attachments (POST /v1/attachments)."
    ),
]


def _category(value: object) -> object:
    return category_code(value) if isinstance(value, str) else value


#: A place-name category: its code, or its Chinese name (道路, 巷, 自然村, …), which means the code. The codes are
#: spelled out for OpenAPI and the type checker; a test holds them equal to ``db.models.PLACE_NAME_CATEGORIES``.
Category = Annotated[
    Literal["road", "street", "alley", "village", "community", "natural_village", "bridge", "other"],
    BeforeValidator(_category),
]
#: A place name's status (a test holds them equal to ``db.models.PLACE_NAME_STATUSES``).
PlaceNameStatus = Literal[
    "proposed", "approved", "rejected", "returned", "withdrawn", "retired", "superseded"
]


def _comma_list(value: object) -> object:
    """``status=a,b`` and ``status=a&status=b`` alike: one list of the items, blanks left out."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


#: Statuses asked for, as a comma list or a repeated parameter.
Statuses = Annotated[list[PlaceNameStatus], BeforeValidator(_comma_list)]
DivisionCodeField = Field(default=None, pattern=DIVISION_CODE_PATTERN)


class PlaceNameProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description="The standard name, e.g. 棠下东路.")
    category: Category
    division_code: str | None = DivisionCodeField
    origin: str | None = Field(default=None, max_length=2000, description="命名由来: why the name.")
    note: str | None = Field(default=None, max_length=2000)


class PlaceNameCreate(BaseModel):
    """A GeoJSON Feature proposing a name, with the CRS its coordinates are in."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: PlaceNameProperties
    crs: CrsField = "wgs84"
    id: Any = None
    attachment_ids: AttachmentIds


class PlaceNameRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description="The proposed new name.")
    justification: str | None = Field(
        default=None, max_length=4000, description="Needed for protected names."
    )
    note: str | None = Field(default=None, max_length=2000)
    attachment_ids: AttachmentIds


class PlaceNameReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "return"]
    comment: str | None = Field(
        default=None, max_length=4000, description="Shown to the proposer; needed to return a proposal."
    )
    approval_ref: str | None = Field(
        default=None, min_length=1, max_length=100, description="批准文号, with an approval: in the register."
    )


class PlaceNameResubmitProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    category: Category | None = Field(
        default=None, description="Needed for a new place; a rename keeps its own."
    )
    division_code: str | None = DivisionCodeField
    origin: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    justification: str | None = Field(
        default=None, max_length=4000, description="For a rename of a protected name."
    )


class PlaceNameResubmit(BaseModel):
    """A returned proposal, changed: a new place whole (geometry and properties, as proposed), or a rename's new
    name and texts (no geometry: the place keeps its own)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None = None
    properties: PlaceNameResubmitProperties
    crs: CrsField = "wgs84"
    id: Any = None
    attachment_ids: AttachmentIds


class PlaceNameCheckProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="As typed so far.")
    category: Category | None = None
    division_code: str | None = DivisionCodeField
    origin: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)


class PlaceNameCheck(BaseModel):
    """A proposal to check, as far as it is filled in (no geometry yet is a problem, not an error)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None = None
    properties: PlaceNameCheckProperties
    crs: CrsField = "wgs84"
    id: int | None = Field(
        default=None, ge=1, le=9_223_372_036_854_775_807, description="The proposal being edited, if any."
    )


class Inspector(BaseModel):
    """One person of a joint inspection (联检) and the side of the line they came from."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    side: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$", description="The division code of their side.")


class InspectionCreate(BaseModel):
    """One inspection of a boundary marker or a sign."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["intact", "damaged", "missing", "moved"]
    inspected_on: dt.date
    note: str | None = Field(default=None, max_length=4000)
    position: dict[str, Any] | None = Field(default=None, description="GeoJSON Point where it was found.")
    crs: CrsField = "wgs84"
    confirm_far_move: bool = Field(
        default=False, description="A marker reported moved over 1 km from where it stands: yes, really."
    )
    inspectors: list[Inspector] | None = Field(
        default=None,
        max_length=20,
        description="Markers: a joint inspection's people, from the line's two sides.",
    )
    attachment_ids: AttachmentIds

    def inspector_list(self) -> list[dict[str, str]] | None:
        """The inspectors as plain records, or None when none are named."""
        return [i.model_dump() for i in self.inspectors] if self.inspectors else None


class SignCreate(BaseModel):
    """A place-name sign (地名标志) showing an approved name."""

    model_config = ConfigDict(extra="forbid")

    place_name_id: int = Field(ge=1, le=9_223_372_036_854_775_807)
    position: dict[str, Any] = Field(description="GeoJSON Point.")
    installed_on: dt.date
    text: str = Field(min_length=1, max_length=40)
    pinyin: str = Field(min_length=1, max_length=200)
    crs: CrsField = "wgs84"
    attachment_ids: AttachmentIds


class SignRetire(BaseModel):
    """A sign taken down: replaced by a new one, or removed."""

    model_config = ConfigDict(extra="forbid")

    reason: Literal["replaced", "removed"]
    on: dt.date = Field(description="The day it came down.")


class FacilityProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=50)
    opening_hours: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    attributes: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class FacilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: FacilityProperties
    crs: CrsField = "wgs84"


class FacilityUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=50)
    opening_hours: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    status: Literal["active", "closed"] | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None
    geometry: dict[str, Any] | None = None
    crs: CrsField = "wgs84"


class FacilityTypeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    collection: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,62}$", description="OGC collection id, e.g. elderly-canteens."
    )
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    default_radius_m: float = Field(gt=0, le=100_000)
    default_mode: Literal["radius", "presence"] = "radius"
    presence_level: Literal["district", "township", "village"] = "village"
