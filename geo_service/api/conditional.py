"""Conditional requests on versioned records (RFC 9110 §8.8.3, §13.1.1): their ETags and If-Match.

A versioned record (place name, facility, boundary marker, place-name sign) has the strong ETag ``"<version>"``.
A write that changes one names the version it was made on: ``If-Match`` with that tag, a list of tags, or ``*``;
a bare number (``If-Match: 3``) is still taken from older clients. If-Match compares strongly, so a weak tag
(``W/"3"``) never matches. Missing → 428, not an entity-tag list → 400, no tag matching → 412 (checked before
anything else about the record, such as a proposal being decided already: 409).

Endpoints take ``IfMatchDep`` and call ``check`` inside their transaction, before the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.domain.errors import GeoServiceError, InvalidInput, PreconditionRequired, StaleVersion
from geo_service.i18n import t
from geo_service.services import record_versions
from geo_service.services.record_versions import RecordKind

#: Longest If-Match read (a list of a few hundred tags); longer ones are refused, not parsed.
MAX_LENGTH = 4096
# RFC 9110 §8.8.3: opaque-tag = DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (header values reach us
# decoded as latin-1, so obs-text is \x80-\xff). A bare run of ASCII digits is the legacy form. Only ASCII
# digits: str.isdigit() would also take "²" or "٣".
_OPAQUE = r'"[\x21\x23-\x7e\x80-\xff]*"'
_ELEMENT = rf"(?:W/)?{_OPAQUE}|[0-9]+"
_LIST = re.compile(rf"(?:{_ELEMENT})?(?:[ \t]*,[ \t]*(?:{_ELEMENT})?)*")
_TOKEN = re.compile(rf"(W/)?({_OPAQUE})|([0-9]+)")
#: A version ETag as ``version_etag`` writes it (content-hash ETags are 32 hex digits, never this).
VERSION_ETAG = re.compile(r'"(0|[1-9][0-9]{0,18})"')


def version_etag(version: int) -> str:
    """The strong ETag of a record at ``version``."""
    return f'"{version}"'


@dataclass(frozen=True)
class IfMatch:
    """A parsed If-Match: any current version (``*``), or the strong entity tags it lists.

    ``problem``: the header was missing (428) or malformed (400). The dependency keeps it for ``check`` to raise,
    so that a request whose body is invalid hears about that first (422), as it did before the header mattered.
    """

    any: bool = False
    tags: frozenset[str] = frozenset()  # quoted; weak tags are left out, since they never match
    problem: GeoServiceError | None = None

    def matches(self, version: int) -> bool:
        """Whether the record at ``version`` satisfies the condition (strong comparison)."""
        if self.problem is not None:
            raise self.problem
        return self.any or version_etag(version) in self.tags

    async def check(self, conn: AsyncConnection, kind: RecordKind, record_id: int) -> int:
        """The record's version if the condition holds (the row stays locked for the write); 412 if not."""
        if self.problem is not None:
            raise self.problem
        current = await record_versions.locked_version(conn, kind, record_id)
        if not self.matches(current):
            raise StaleVersion(
                t(
                    "{what} {id} is at version {current} (ETag {etag}), not the one If-Match names: reload it "
                    "and make the change again",
                    what=record_versions.words(kind),
                    id=record_id,
                    current=current,
                    etag=version_etag(current),
                ),
                current_version=current,
            )
        return current


def parse_if_match(value: str) -> IfMatch:
    """An If-Match header value: ``*`` or a comma-separated list of entity tags (or bare version numbers)."""
    text = value.strip(" \t")
    if text == "*":
        return IfMatch(any=True, tags=frozenset())
    if len(text) > MAX_LENGTH:
        raise InvalidInput(
            t("If-Match is longer than {limit} characters", limit=MAX_LENGTH), code="bad_if_match"
        )
    if not _LIST.fullmatch(text):
        raise InvalidInput(
            t('If-Match must be * or a list of entity tags such as "3" (the ETag of the version you saw)'),
            code="bad_if_match",
        )
    tags: set[str] = set()
    seen = False
    for weak, opaque, bare in _TOKEN.findall(text):
        seen = True
        if bare:  # the legacy form: a version number, leading zeros and all
            tags.add(_bare_version(bare))
        elif not weak:
            tags.add(opaque)
    if not seen:
        raise InvalidInput(
            t("If-Match names no entity tag: send the ETag of the version you saw"), code="bad_if_match"
        )
    return IfMatch(any=False, tags=frozenset(tags))


def _bare_version(digits: str) -> str:
    # The ETag a bare version number stands for ("007" → '"7"'), without int(): no digit limit to hit.
    return '"' + (digits.lstrip("0") or "0") + '"'


async def _if_match(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(description='The ETag of the version the change was made on ("3"), a list of them, or *.'),
    ] = None,
) -> IfMatch:
    if if_match is None:
        required = t(
            'If-Match is required: send the ETag of the version you saw (If-Match: "3"; GET the record for it)'
        )
        return IfMatch(problem=PreconditionRequired(required))
    try:
        return parse_if_match(", ".join(request.headers.getlist("if-match")))  # several lines make one list
    except InvalidInput as exc:
        return IfMatch(problem=exc)


#: The parsed If-Match of a write (``check`` answers 400 when it is malformed, 428 when missing).
IfMatchDep = Annotated[IfMatch, Depends(_if_match)]


def etag_headers(version: int) -> dict[str, str]:
    """Response headers naming a record's version."""
    return {"ETag": version_etag(version)}


def versioned_feature(feature: dict[str, Any], status_code: int = 200) -> GeoJSONBody:
    """A record's GeoJSON feature with its version's ETag (none for a view without the version: a surveyor's
    view of another's proposal cannot be changed by him)."""
    properties = feature["properties"]
    if isinstance(properties, orjson.Fragment):  # JSON the database built, spliced unparsed: read it here
        properties = orjson.loads(orjson.dumps(properties))
    version = properties.get("version")
    headers = etag_headers(version) if version is not None else None
    return GeoJSONBody(feature, status_code=status_code, headers=headers)


def versioned_json(body: dict[str, Any], version: int, status_code: int = 200) -> JSONBody:
    """A JSON answer about a record, with the ETag of its ``version``."""
    return JSONBody(body, status_code=status_code, headers=etag_headers(version))
