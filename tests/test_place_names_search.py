"""Place-name search: Chinese substring, pinyin (tones, case and spaces ignored), homophones, near spellings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys


def _names(client: TestClient, **params: object) -> list[str]:
    body = client.get("/v1/place-names", params=params).json()
    return [f["properties"]["name"] for f in body["features"]]


def _a_road(sample_url: str) -> tuple[int, str, str]:
    return query(
        sample_url,
        "SELECT id, name, pinyin FROM place_names WHERE status = 'approved' AND category = 'road' "
        "AND length(specific) = 2 ORDER BY id LIMIT 1",
    )[0]


def test_chinese_substring(client: TestClient, sample_url: str) -> None:
    _, name, _ = _a_road(sample_url)
    part = query(  # the two characters most often second and third in approved names (so inside them)
        sample_url,
        "SELECT substr(name, 2, 2) FROM place_names WHERE status = 'approved' AND char_length(name) > 3 "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0][0]
    containing = {
        r[0]
        for r in query(
            sample_url,
            "SELECT name FROM place_names WHERE status = 'approved' AND strpos(name, :p) > 0",
            p=part,
        )
    }
    assert 1 < len(containing) < 1000
    found = _names(client, q=part, limit=1000)
    # Every approved name holding the two characters, and all of them ranked before any near spelling.
    assert set(found[: len(containing)]) == containing
    assert not containing & set(found[len(containing) :])
    assert _names(client, q=name)[0] == name


def test_pinyin_with_spaces_case_and_apostrophes(client: TestClient, sample_url: str) -> None:
    pid, _, pinyin = _a_road(sample_url)
    for q in (pinyin, pinyin.lower(), pinyin.upper().replace(" ", ""), pinyin.replace(" ", "  ")):
        body = client.get("/v1/place-names", params={"q": q}).json()
        assert body["features"][0]["id"] == pid, q
    assert _names(client, q=pinyin.split()[0].lower())[:1] != []


def test_near_spellings(client: TestClient, sample_url: str) -> None:
    pid, _, pinyin = _a_road(sample_url)
    typo = pinyin.replace(" ", "").lower()[:-1]  # a letter short
    assert pid in [f["id"] for f in client.get("/v1/place-names", params={"q": typo}).json()["features"][:5]]


def test_filters_and_status(fresh_client: TestClient, fresh_url: str) -> None:
    body = fresh_client.get(
        "/v1/place-names", params={"category": "alley", "division": "440118", "limit": 500}
    ).json()
    assert body["features"]
    assert all(f["properties"]["category"] == "alley" for f in body["features"])
    assert all(f["properties"]["division_code"].startswith("440118") for f in body["features"])
    anonymous = fresh_client.get("/v1/place-names", params={"status": "proposed"})
    assert anonymous.status_code == 401 and "approved" in anonymous.json()["detail"]
    reviewer = auth(make_keys(fresh_url)["reviewer"])
    proposed = fresh_client.get("/v1/place-names", params={"status": "proposed"}, headers=reviewer).json()
    assert proposed["features"] and all(f["properties"]["status"] == "proposed" for f in proposed["features"])
    default = fresh_client.get("/v1/place-names", params={"limit": 1000}).json()["features"]
    approved = query(fresh_url, "SELECT count(*) FROM place_names WHERE status = 'approved'")[0][0]
    assert len(default) == min(approved, 1000) > 0 and all(
        f["properties"]["status"] == "approved" for f in default
    )


def test_one_place_name_with_history(fresh_client: TestClient, fresh_url: str) -> None:
    pid = query(fresh_url, "SELECT min(id) FROM place_names WHERE status = 'approved'")[0][0]
    query(
        fresh_url,
        "INSERT INTO place_name_history (place_name_id, name, pinyin, valid_from, valid_to, reason) "
        "VALUES (:i, '旧村路', 'Jiucun Lu', '1990-01-01', '2023-06-30', '更名')",
        i=pid,
    )
    feat = fresh_client.get(f"/v1/place-names/{pid}").json()
    assert feat["id"] == pid
    earlier = {"name": "旧村路", "pinyin": "Jiucun Lu", "valid_from": "1990-01-01", "valid_to": "2023-06-30"}
    assert feat["properties"]["history"] == [earlier]  # the reason typed by staff is not public
    staff = fresh_client.get(f"/v1/place-names/{pid}", headers=auth(make_keys(fresh_url)["reviewer"])).json()
    assert staff["properties"]["history"] == [{**earlier, "reason": "更名"}]
    assert fresh_client.get("/v1/place-names/99999999").status_code == 404


def test_same_id_everywhere(client: TestClient, sample_url: str) -> None:
    pid, name, _ = _a_road(sample_url)
    from_search = client.get("/v1/place-names", params={"q": name}).json()["features"][0]
    from_ogc = client.get(f"/collections/place-names/items/{pid}").json()
    assert from_search["id"] == from_ogc["id"] == pid
    assert from_search["geometry"] == from_ogc["geometry"]


def test_homophones_in_characters(fresh_client: TestClient, fresh_url: str) -> None:
    query(
        fresh_url,
        "INSERT INTO place_names (name, specific, generic, category, pinyin, pinyin_key, status, "
        "geometry_source, geom) VALUES ('天河路', '天河', '路', 'road', 'Tianhe Lu', 'tianhelu', "
        "'approved', 'test', ST_GeomFromText('LINESTRING(113.32 23.13, 113.33 23.13)', 4326))",
    )
    for q in ("天和路", "tianhe lu", "Tianhe Lu", "TIANHELU", "天河"):
        assert _names(fresh_client, q=q)[0] == "天河路", q
