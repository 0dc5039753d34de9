"""Entity tags: a strong validator of an answer's bytes (HTTP ETag), one definition for the middleware that
computes it per response and for caches that keep it with a serialised answer."""

from __future__ import annotations

import hashlib


def etag_of(body: bytes) -> str:
    """The quoted ETag of a body: a 128-bit BLAKE2b hash."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
