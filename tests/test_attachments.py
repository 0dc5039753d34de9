"""Attachments over real HTTP with real files: kinds decided by bytes, size limit, content-addressed storage on
disk and in an S3-compatible bucket (moto's server), EXIF kept for staff and out of thumbnails, staff-only reads."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from geo_service.api.app import create_app
from tests.conftest import free_port, settings_for
from tests.conftest import sql as query
from tests.media_helpers import GPS_IFD, MAKE, jpeg_with_gps, noise_png, pdf, png, webp
from tests.writes_helpers import auth, make_keys


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def client(fresh_url: str, store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(fresh_url, attachments_dir=store))) as c:
        yield c


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _upload(c: TestClient, key: str, data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg") -> Any:
    return c.post("/v1/attachments", headers=auth(key), files={"file": (name, data, ctype)})


def _stored_files(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file()) if store.exists() else []


def test_a_photo_is_stored_once_by_content_and_read_by_staff_only(
    client: TestClient, fresh_url: str, store: Path, keys: dict[str, str]
) -> None:
    photo = jpeg_with_gps()
    sha = hashlib.sha256(photo).hexdigest()
    resp = _upload(client, keys["surveyor"], photo)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert sorted(body) == ["bytes", "content_type", "id", "sha256"]
    assert body["content_type"] == "image/jpeg" and body["bytes"] == len(photo) and body["sha256"] == sha
    assert _stored_files(store) == [store / sha[:2] / sha]
    assert (store / sha[:2] / sha).read_bytes() == photo
    again = _upload(client, keys["editor"], photo, name="another-name.jpeg")
    assert again.status_code == 201 and again.json() == body  # the same bytes: the same attachment
    assert _stored_files(store) == [store / sha[:2] / sha]
    assert query(fresh_url, "SELECT count(*), min(uploaded_by) FROM attachments")[0] == (1, "test-surveyor")

    url = f"/v1/attachments/{body['id']}"
    served = client.get(url, headers=auth(keys["reviewer"]))
    assert served.status_code == 200 and served.content == photo  # EXIF and all, for staff
    assert served.headers["content-type"] == "image/jpeg"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["cache-control"] == "private, no-store"
    exif = Image.open(io.BytesIO(served.content)).getexif()
    assert exif[MAKE] == "FieldCam" and exif.get_ifd(GPS_IFD)[1] == "N"
    for path in (url, url + "/thumbnail"):
        public = client.get(path)
        assert public.status_code == 401 and "detail" in public.json()
        assert photo[:64] not in public.content
    thumb = client.get(url + "/thumbnail", headers=auth(keys["surveyor"]))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumb.content))
    assert small.format == "JPEG" and max(small.size) == 320 and small.size == (320, 240)
    assert not small.getexif() and b"Exif" not in thumb.content and b"FieldCam" not in thumb.content
    missing = client.get("/v1/attachments/999999", headers=auth(keys["surveyor"]))
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


def test_a_thumbnail_is_upright(client: TestClient, keys: dict[str, str]) -> None:
    """A phone photo taken in portrait is stored landscape with EXIF orientation 6: the thumbnail is turned."""
    photo = jpeg_with_gps(800, 600, orientation=6)
    attachment = _upload(client, keys["surveyor"], photo).json()["id"]
    thumb = client.get(f"/v1/attachments/{attachment}/thumbnail", headers=auth(keys["surveyor"]))
    assert Image.open(io.BytesIO(thumb.content)).size == (240, 320)


@pytest.mark.parametrize(
    ("data", "name", "declared", "expected"),
    [  # the bytes decide, not the name or the part's declared type
        (png(), "scan.pdf", "application/pdf", "image/png"),
        (png(alpha=True), "map.png", "image/png", "image/png"),
        (webp(), "photo.jpg", "image/jpeg", "image/webp"),
        (pdf(), "批复.pdf", "application/pdf", "application/pdf"),
        (jpeg_with_gps(seed=9), "IMG_0001", "application/octet-stream", "image/jpeg"),
    ],
)
def test_the_kind_is_decided_by_the_bytes(
    client: TestClient, keys: dict[str, str], data: bytes, name: str, declared: str, expected: str
) -> None:
    resp = _upload(client, keys["surveyor"], data, name, declared)
    assert resp.status_code == 201, resp.text
    assert resp.json()["content_type"] == expected
    served = client.get(f"/v1/attachments/{resp.json()['id']}", headers=auth(keys["surveyor"]))
    assert served.headers["content-type"] == expected and served.content == data
    if expected == "application/pdf":
        assert served.headers["content-disposition"].startswith("attachment;")
        thumb = client.get(f"/v1/attachments/{resp.json()['id']}/thumbnail", headers=auth(keys["surveyor"]))
        assert thumb.status_code == 404 and "PDF" in thumb.json()["detail"]
    else:
        thumb = client.get(f"/v1/attachments/{resp.json()['id']}/thumbnail", headers=auth(keys["surveyor"]))
        assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "name", "declared", "status"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg", 415),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "a.png", "image/png", 415),
        (b"MZ\x90\x00" + bytes(200), "report.pdf", "application/pdf", 415),
        (b"GIF89a" + bytes(100), "anim.gif", "image/gif", 415),
        (b"", "empty.jpg", "image/jpeg", 422),
        (jpeg_with_gps()[:3000], "cut.jpg", "image/jpeg", 422),  # truncated in the middle of its pixels
        (b"\xff\xd8\xff\xe0" + bytes(500), "forged.jpg", "image/jpeg", 422),  # a JPEG's magic, nothing behind
        (png()[:-40], "cut.png", "image/png", 422),
        (pdf()[:-200], "cut.pdf", "application/pdf", 422),  # no %%EOF: half a document
    ],
)
def test_other_or_damaged_files_are_refused_in_words(
    client: TestClient,
    fresh_url: str,
    store: Path,
    keys: dict[str, str],
    data: bytes,
    name: str,
    declared: str,
    status: int,
) -> None:
    resp = _upload(client, keys["surveyor"], data, name, declared)
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert detail and "Traceback" not in detail and str(store) not in detail
    assert query(fresh_url, "SELECT count(*) FROM attachments")[0][0] == 0
    assert _stored_files(store) == []


def test_ten_megabytes_at_most(client: TestClient, fresh_url: str, store: Path, keys: dict[str, str]) -> None:
    over = b"\xff\xd8\xff\xe0" + bytes(10 * 1024 * 1024 - 3)  # one byte over 10 MB
    resp = _upload(client, keys["surveyor"], over)
    assert resp.status_code == 413 and "10 MB" in resp.json()["detail"]
    assert query(fresh_url, "SELECT count(*) FROM attachments")[0][0] == 0 and _stored_files(store) == []


def test_the_limit_is_a_setting(fresh_url: str, tmp_path: Path, keys: dict[str, str]) -> None:
    big = noise_png(1_200_000)
    assert 1024 * 1024 < len(big) < 2 * 1024 * 1024
    settings = settings_for(fresh_url, attachments_dir=tmp_path, attachment_max_mb=1)
    with TestClient(create_app(settings)) as c:
        assert _upload(c, keys["surveyor"], big, "big.png", "image/png").status_code == 413
        assert _upload(c, keys["surveyor"], noise_png(900_000), "ok.png", "image/png").status_code == 201
    with TestClient(create_app(settings_for(fresh_url, attachments_dir=tmp_path))) as c:
        assert _upload(c, keys["surveyor"], big, "big.png", "image/png").status_code == 201


def test_the_store_failing_is_a_503_in_words(fresh_url: str, tmp_path: Path, keys: dict[str, str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with TestClient(create_app(settings_for(fresh_url, attachments_dir=blocker))) as c:
        resp = _upload(c, keys["surveyor"], png())
    assert resp.status_code == 503 and "attachment store" in resp.json()["detail"]
    assert str(tmp_path) not in resp.text
    assert query(fresh_url, "SELECT count(*) FROM attachments")[0][0] == 0


# --- an S3-compatible bucket (moto's server on a loopback port) ---------------------------------------------


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _s3(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
    )


def _bucket_settings(url: str, endpoint: str, bucket: str) -> Any:
    return settings_for(
        url,
        attachments_s3_bucket=bucket,
        attachments_s3_endpoint=endpoint,
        attachments_s3_access_key="test",
        attachments_s3_secret_key="test-secret",
        attachments_s3_prefix="field/",
    )


def test_attachments_in_an_s3_bucket(
    fresh_url: str, s3_server: str, tmp_path: Path, keys: dict[str, str]
) -> None:
    s3 = _s3(s3_server)
    s3.create_bucket(Bucket="geo-attachments")
    photo, document = jpeg_with_gps(seed=5), pdf(seed=6)
    with TestClient(create_app(_bucket_settings(fresh_url, s3_server, "geo-attachments"))) as c:
        first = _upload(c, keys["surveyor"], photo)
        assert first.status_code == 201, first.text
        assert _upload(c, keys["surveyor"], photo).json() == first.json()
        doc = _upload(c, keys["surveyor"], document, "批复.pdf", "application/pdf").json()
        served = c.get(f"/v1/attachments/{first.json()['id']}", headers=auth(keys["reviewer"]))
        assert served.status_code == 200 and served.content == photo
        assert c.get(f"/v1/attachments/{doc['id']}", headers=auth(keys["reviewer"])).content == document
        assert c.get(f"/v1/attachments/{first.json()['id']}").status_code == 401
    listed = s3.list_objects_v2(Bucket="geo-attachments")["Contents"]
    sha, doc_sha = hashlib.sha256(photo).hexdigest(), hashlib.sha256(document).hexdigest()
    assert sorted(o["Key"] for o in listed) == sorted(
        [f"field/{sha[:2]}/{sha}", f"field/{doc_sha[:2]}/{doc_sha}"]
    )
    stored = s3.get_object(Bucket="geo-attachments", Key=f"field/{sha[:2]}/{sha}")["Body"].read()
    assert stored == photo
    assert not any(tmp_path.rglob("*"))  # nothing went to disk


def test_a_missing_bucket_is_a_503_and_nothing_is_recorded(
    fresh_url: str, s3_server: str, keys: dict[str, str]
) -> None:
    with TestClient(create_app(_bucket_settings(fresh_url, s3_server, "no-such-bucket"))) as c:
        resp = _upload(c, keys["surveyor"], png())
    assert resp.status_code == 503 and "attachment store" in resp.json()["detail"]
    assert "no-such-bucket" not in resp.text and s3_server not in resp.text
    assert query(fresh_url, "SELECT count(*) FROM attachments")[0][0] == 0
