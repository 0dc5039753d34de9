"""Typed answers of the busiest read endpoints, for the OpenAPI document (generated clients get real types).

They document what the endpoints return; the endpoints keep building their JSON themselves (in the database,
or kept serialised), so declaring these costs nothing per request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DivisionRef(BaseModel):
    code: str = Field(description="The division code (6, 9 or 12 digits).")
    name: str


class LocateAnswer(BaseModel):
    """The divisions containing a point."""

    district: DivisionRef
    township: DivisionRef | None
    village: DivisionRef | None


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: list[float] = Field(description="lon, lat in the requested crs.")


class NearestProperties(BaseModel):
    type: str
    name: str
    address: str | None
    phone: str | None = None
    opening_hours: str | None = None
    district_code: str | None
    township_code: str | None
    village_code: str | None
    distance_m: float = Field(description="Geodesic distance on WGS84, metres.")


class NearestFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: PointGeometry
    properties: NearestProperties


class NearestAnswer(BaseModel):
    """The k nearest active facilities, nearest first."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[NearestFeature]


class CoverageSummary(BaseModel):
    divisions: int
    covered_divisions: int
    area_km2: float
    covered_area_km2: float
    covered_area_ratio: float
    population: int
    covered_population: int
    covered_population_ratio: float


class CoverageRow(BaseModel):
    code: str
    name: str
    level: Literal["district", "township", "village"]
    parent_code: str | None
    facilities: int
    area_km2: float
    covered_area_km2: float
    covered_area_ratio: float
    population: int
    covered_population: int


class CoverageAnswer(BaseModel):
    """Coverage per division and the summary over the rows."""

    type: str
    mode: Literal["radius", "presence"]
    radius_m: float | None
    level: Literal["district", "township", "village"]
    within: str | None
    summary: CoverageSummary
    divisions: list[CoverageRow]


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int | str
    geometry: dict[str, Any] | None = Field(description="A GeoJSON geometry.")
    properties: dict[str, Any]


class ItemsAnswer(BaseModel):
    """A page of a collection's features (OGC API – Features)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberReturned: int
    numberMatched: int | None = Field(default=None, description="Present where cheap to know.")
    links: list[Link]


def documented(
    model: type[BaseModel], media_type: str = "application/json"
) -> dict[int | str, dict[str, Any]]:
    """``responses`` declaring the 200 answer's schema without validating answers against it."""
    return {200: {"model": model, "content": {media_type: {}}, "description": model.__doc__ or "OK"}}
