"""Where attachment files live: a folder on disk (default) or an S3-compatible bucket, addressed by content.

A file's key is its SHA-256 (``ab/abcdef…``): the same bytes uploaded twice are stored once, and a stored file
can be checked against its name. Files are written whole or not at all (a temporary file renamed into place on
disk; one PUT to a bucket). The stores are synchronous (boto3 is): callers run them in a thread.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from geo_service.domain.errors import StorageUnavailable
from geo_service.i18n import t
from geo_service.settings import Settings

log = logging.getLogger("geo_service")


def key_of(sha256: str) -> str:
    """The content address of a file: two hex digits of its hash as a folder, then the whole hash."""
    return f"{sha256[:2]}/{sha256}"


class AttachmentStore(Protocol):
    """Stores and returns files by their SHA-256."""

    def put(self, sha256: str, data: bytes) -> bool:
        """Store the file unless it is there already; whether it was written now."""
        ...

    def get(self, sha256: str) -> bytes:
        """The stored file (``FileNotFoundError`` when it is missing)."""
        ...


class FolderStore:
    """Files under a folder of the server's disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / key_of(sha256)

    def put(self, sha256: str, data: bytes) -> bool:
        """Store the file unless it is there already; whether it was written now."""
        path = self._path(sha256)
        if path.exists():
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside its final name and renamed: no reader sees half a file, nor does a crash leave one.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        except OSError as exc:
            raise _unavailable(exc) from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _unavailable(exc) from None
        return True

    def get(self, sha256: str) -> bytes:
        """The stored file (``FileNotFoundError`` when it is missing)."""
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise _unavailable(exc) from None


class BucketStore:
    """Files in an S3-compatible bucket (AWS S3, MinIO, Ceph …), under a key prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, sha256: str) -> str:
        return self.prefix + key_of(sha256)

    def put(self, sha256: str, data: bytes) -> bool:
        """Store the file unless it is there already; whether it was written now."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._exists(sha256):
                return False
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from None
        return True

    def _exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def get(self, sha256: str) -> bytes:
        """The stored file (``FileNotFoundError`` when it is missing)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            data: bytes = answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(self._key(sha256)) from None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return data


def _unavailable(exc: Exception) -> StorageUnavailable:
    # The store's own words name paths, hosts and keys: the client hears only that it cannot be used now.
    log.warning("attachment store failed: %s", exc)
    return StorageUnavailable(
        t(
            "the attachment store cannot be used right now ({error}): nothing was stored; try again later",
            error=type(exc).__name__,
        )
    )


def store_for(settings: Settings) -> AttachmentStore:
    """The store the settings name: a bucket when ``attachments_s3_bucket`` is set, else a folder."""
    if settings.attachments_s3_bucket:
        import boto3  # loaded only where a bucket is used
        from botocore.config import Config

        secret = settings.attachments_s3_secret_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.attachments_s3_endpoint,
            region_name=settings.attachments_s3_region,
            aws_access_key_id=settings.attachments_s3_access_key,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
        )
        return BucketStore(client, settings.attachments_s3_bucket, settings.attachments_s3_prefix)
    return FolderStore(settings.attachments_dir or settings.data_dir / "attachments")
