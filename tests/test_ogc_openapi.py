"""Typed answers in the OpenAPI document (and real answers that fit them); type codes and collection ids alike."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from geo_service.api.response_models import CoverageAnswer, ItemsAnswer, LocateAnswer, NearestAnswer

NEAREST = {"lon": 113.3245, "lat": 23.1064, "k": 5}


@pytest.mark.parametrize(
    ("path", "media_type", "model", "url", "params"),
    [
        (
            "/v1/divisions/locate",
            "application/json",
            LocateAnswer,
            "/v1/divisions/locate",
            {"lon": 113.3245, "lat": 23.1064},
        ),
        (
            "/v1/facilities/nearest",
            "application/geo+json",
            NearestAnswer,
            "/v1/facilities/nearest",
            {**NEAREST, "type": "elderly_canteen"},
        ),
        ("/v1/coverage", "application/json", CoverageAnswer, "/v1/coverage", {"type": "elderly_canteen"}),
        (
            "/collections/{collection_id}/items",
            "application/geo+json",
            ItemsAnswer,
            "/collections/villages/items",
            {"limit": 3},
        ),
    ],
)
def test_answers_are_typed_in_openapi_and_fit_their_type(
    client: TestClient,
    path: str,
    media_type: str,
    model: type[BaseModel],
    url: str,
    params: dict[str, object],
) -> None:
    doc = client.get("/openapi.json").json()
    schema = doc["paths"][path]["get"]["responses"]["200"]["content"][media_type]["schema"]
    assert schema["$ref"] == f"#/components/schemas/{model.__name__}"
    assert doc["components"]["schemas"][model.__name__]["properties"]
    resp = client.get(url, params=params)
    assert resp.status_code == 200
    model.model_validate(resp.json(), strict=False)


def test_type_codes_and_collection_ids_are_both_accepted(client: TestClient) -> None:
    by_code = client.get("/v1/facilities/nearest", params={**NEAREST, "type": "elderly_canteen"}).json()
    by_id = client.get("/v1/facilities/nearest", params={**NEAREST, "type": "elderly-canteens"}).json()
    assert by_code == by_id and len(by_code["features"]) == 5
    cov_code = client.get("/v1/coverage", params={"type": "elderly_canteen", "level": "district"}).json()
    cov_id = client.get("/v1/coverage", params={"type": "elderly-canteens", "level": "district"}).json()
    assert cov_code == cov_id and cov_id["type"] == "elderly_canteen"
    items_id = client.get("/collections/elderly-canteens/items", params={"limit": 5}).json()
    items_code = client.get("/collections/elderly_canteen/items", params={"limit": 5}).json()
    assert [f["id"] for f in items_id["features"]] == [f["id"] for f in items_code["features"]]
    assert client.get("/collections/elderly_canteen").json()["id"] == "elderly-canteens"
    assert client.get("/v1/facilities/nearest", params={**NEAREST, "type": "canteens"}).status_code == 400
