"""The naming workflow: surveyors propose names and renames, reviewers decide, proposers withdraw or resubmit.

States (API.md, "States of a proposal"): ``proposed`` → ``approved`` | ``rejected`` | ``returned`` (sent back for
changes, with a comment) | ``withdrawn``; ``returned`` → ``proposed`` (resubmitted, checked again by every rule)
| ``withdrawn``. Approving a rename sets the place's other open proposals ``superseded``. A ``proposed`` or
``returned`` proposal holds its name for uniqueness.

Review is optimistic: a decision names the version it was made on (If-Match); the update is conditional on
that version and on the proposal being pending, so of two reviewers deciding at once exactly one wins and
the other gets 412 (stale) or 409 (already decided). No one reviews his own proposal. Approving re-checks
uniqueness against the approved names under the names' locks (``naming_check``). Approving a rename keeps the
place's id, moves the old name into its history with the dates it was valid, keeps the place's protection,
supersedes the place's other open proposals and flags every sign still showing the old name.

A caller limited to a district (``Caller.district``) proposes, resubmits and reviews only inside it (403).

A place has at most one open rename: proposing one, and reviewing one, first lock the place. Every transaction
takes its locks in one order, before its first write: the place, then the names (sorted), then (on writing)
the rows and the data-version counters; so no two wait for each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.models import PlaceName
from geo_service.db.sql import Sql, compose
from geo_service.domain.errors import Conflict, FeatureErrors, Forbidden, InvalidInput, NotFound, StaleVersion
from geo_service.domain.naming_warnings import warning
from geo_service.domain.words import listing, status_word
from geo_service.i18n import t
from geo_service.services import place_names
from geo_service.services.keys import Caller
from geo_service.services.naming_check import (
    OPEN_STATUSES,
    Proposal,
    check_all,
    check_uniqueness,
    lock_names,
    lock_place,
)

#: A decision and the status it gives a pending proposal.
DECISIONS = {"approve": "approved", "reject": "rejected", "return": "returned"}


def outside_district(caller: Caller, district_code: str | None, what: str) -> str | None:
    """Why a caller limited to one district may not act on ``what`` in ``district_code`` (None: it may)."""
    if caller.district is None or district_code is None or district_code == caller.district:
        return None
    return t(
        "{caller!r} acts in district {district} only: {what} lies in district {place}",
        caller=caller.name,
        district=caller.district,
        what=what,
        place=district_code,
    )


def require_district(caller: Caller, district_code: str | None, what: str) -> None:
    """403 when a caller limited to one district would act outside it."""
    reason = outside_district(caller, district_code, what)
    if reason is not None:
        raise Forbidden(reason)


def _columns(p: Proposal) -> dict[str, Any]:
    """The columns a checked proposal sets, as proposed and as resubmitted."""
    return {
        "name": p.name,
        "specific": p.specific,
        "generic": p.generic,
        "category": p.category,
        "pinyin": p.pinyin,
        "pinyin_key": p.pinyin_key,
        "near_key": p.near_key,
        "division_code": p.division_code,
        "district_code": p.district_code,
        "origin": p.origin,
        "note": p.note,
        "rename_of": p.rename_of,
        "justification": p.justification,
        "warnings": p.warnings,
        "status": "proposed",
        "geom": from_shape(p.geom, srid=4326),
    }


def _row(p: Proposal, caller: Caller, submission_id: str | None) -> dict[str, Any]:
    return {
        **_columns(p),
        "geometry_source": "surveyed",
        "submission_id": submission_id,
        "proposed_by": caller.name,
    }


async def insert_proposals(
    conn: AsyncConnection, proposals: list[Proposal], caller: Caller, submission_id: str | None = None
) -> list[int]:
    """Insert checked proposals (status proposed) in batches; their ids, in order."""
    stmt = insert(PlaceName).returning(PlaceName.id, sort_by_parameter_order=True)
    result = await conn.execute(stmt, [_row(p, caller, submission_id) for p in proposals])
    ids = [int(i) for i in result.scalars()]
    return ids


def _raise_for(p: Proposal) -> None:
    if p.conflicts and all(v["rule"] == "duplicate" for v in p.violations):
        message = p.violations[-1]["message"]  # worded by the uniqueness check (naming_check)
        raise Conflict(message, conflicting_ids=sorted(set(p.conflicts)))
    if p.violations:
        raise FeatureErrors(
            t("{name!r} breaks {count} naming rule(s)", name=p.name, count=len(p.violations)), p.violations
        )


async def propose(conn: AsyncConnection, caller: Caller, proposal: Proposal, crs: str) -> dict[str, Any]:
    """Check and store one proposed name; returns it as a feature (with warnings)."""
    await check_all(conn, [proposal])
    require_district(caller, proposal.district_code, t("the proposed place"))
    _raise_for(proposal)
    (pid,) = await insert_proposals(conn, [proposal], caller)
    await audit.record(
        conn,
        caller.name,
        "propose",
        "place_name",
        str(pid),
        None,
        {"name": proposal.name, "category": proposal.category},
    )
    return await place_names.get(conn, pid, crs, caller)


async def _place_to_rename(conn: AsyncConnection, caller: Caller, place_id: int) -> Any:
    """The approved place a rename is about (locked: its renames wait for this transaction)."""
    await lock_place(conn, place_id)
    row = (
        await conn.execute(
            text(
                compose(
                    "SELECT t.name, t.category, t.status, t.division_code, {protected}, "
                    "ST_AsBinary(t.geom), t.district_code FROM place_names t WHERE t.id = :id",
                    protected=place_names.PROTECTED,
                )
            ),
            {"id": place_id},
        )
    ).first()
    if row is None:
        raise NotFound(t("no place name {id}", id=place_id))
    if row[2] != "approved":
        raise Conflict(
            t(
                "only an approved name can be renamed; {id} is {status}",
                id=place_id,
                status=status_word(row[2]),
            )
        )
    require_district(caller, row[6], t("place name {id}", id=place_id))
    return row


async def _checked_rename(
    conn: AsyncConnection,
    place: Any,
    place_id: int,
    new_name: str,
    justification: str | None,
    note: str | None,
    proposal_id: int | None = None,
) -> Proposal:
    """A rename of ``place`` checked by every rule: the place stays where it is (its geometry and division are
    not proposed again); a protected place needs a justification and is flagged."""
    p = Proposal(
        name=new_name,
        category=place[1],
        geom=shapely.from_wkb(bytes(place[5])),
        note=note,
        justification=justification,
        rename_of=place_id,
        id=proposal_id,
    )
    protected = bool(place[4])
    if protected and not (justification and justification.strip()):
        p.violations.append(
            {
                "rule": "protected",
                "message": t(
                    "{name!r} is a protected place name: a rename needs a justification", name=place[0]
                ),
            }
        )
    if new_name == place[0]:
        p.violations.append({"rule": "rename", "message": t("the new name is the current name")})
    await check_all(conn, [p])
    p.division_code = place[3]
    if protected:
        p.warnings.append(warning("protected", name=place[0]))
    return p


async def propose_rename(
    conn: AsyncConnection,
    caller: Caller,
    place_id: int,
    new_name: str,
    justification: str | None,
    note: str | None,
    crs: str,
) -> dict[str, Any]:
    """Propose a new name for an approved place that has no open rename; a protected place needs a
    justification and is flagged."""
    place = await _place_to_rename(conn, caller, place_id)
    await _no_open_rename(conn, place_id)
    p = await _checked_rename(conn, place, place_id, new_name, justification, note)
    _raise_for(p)
    (pid,) = await insert_proposals(conn, [p], caller)
    await audit.record(
        conn,
        caller.name,
        "propose_rename",
        "place_name",
        str(pid),
        {"id": place_id, "name": place[0]},
        {"name": new_name, "justification": justification},
    )
    return await place_names.get(conn, pid, crs, caller)


async def _no_open_rename(conn: AsyncConnection, place_id: int) -> None:
    """409 naming the place's open rename, if it has one (call with the place locked)."""
    open_ids = (
        (
            await conn.execute(
                text("SELECT id FROM place_names WHERE rename_of = :id AND status = ANY(:open) ORDER BY id"),
                {"id": place_id, "open": list(OPEN_STATUSES)},
            )
        )
        .scalars()
        .all()
    )
    if open_ids:
        ids = [int(i) for i in open_ids]
        raise Conflict(
            t(
                "place name {id} has an open rename proposal already ({ids}): it must be decided first",
                id=place_id,
                ids=listing(ids),
            ),
            conflicting_ids=ids,
        )


async def _own_open_proposal(
    conn: AsyncConnection,
    caller: Caller,
    place_id: int,
    version: int | None,
    allowed: tuple[str, ...],
    what: str,
) -> Any:
    """A proposal its proposer changes: (status, version, rename_of); 404, 403 (another's), 412 (``version`` is
    not the current one: checked before the status), 409 (not in an ``allowed`` status)."""
    row = (
        await conn.execute(
            text("SELECT proposed_by, status, version, rename_of FROM place_names WHERE id = :id FOR UPDATE"),
            {"id": place_id},
        )
    ).first()
    if row is None:
        raise NotFound(t("no place name {id}", id=place_id))
    if row[0] != caller.name:
        refusal = _not_yours(place_id, caller.name, what)
        raise Forbidden(refusal)
    if version is not None and version != row[2]:
        raise StaleVersion(
            t(
                "place name {id} is at version {current}, not {version}: reload it and try again",
                id=place_id,
                current=row[2],
                version=version,
            ),
            current_version=row[2],
        )
    if row[1] not in allowed:
        refusal = _not_open(place_id, row[1], what)
        raise Conflict(refusal)
    return row[1:]


def _not_yours(place_id: int, caller: str, what: str) -> str:
    if what == "withdraw":
        return t(
            "place name {id} is not a proposal of {caller!r}: only its proposer may withdraw it",
            id=place_id,
            caller=caller,
        )
    return t(
        "place name {id} is not a proposal of {caller!r}: only its proposer may resubmit it",
        id=place_id,
        caller=caller,
    )


def _not_open(place_id: int, status: str, what: str) -> str:
    if what == "withdraw":
        return t(
            "place name {id} is {status}: only a proposed or returned proposal can be withdrawn",
            id=place_id,
            status=status_word(status),
        )
    return t(
        "place name {id} is {status}: only a returned proposal can be changed and resubmitted",
        id=place_id,
        status=status_word(status),
    )


async def withdraw(
    conn: AsyncConnection, caller: Caller, place_id: int, version: int | None, crs: str
) -> dict[str, Any]:
    """The proposer takes back a pending or returned proposal: ``withdrawn``, its name free again."""
    status, current, _ = await _own_open_proposal(conn, caller, place_id, version, OPEN_STATUSES, "withdraw")
    await conn.execute(
        text(
            "UPDATE place_names SET status = 'withdrawn', decided_at = now(), version = version + 1, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": place_id},
    )
    await audit.record(
        conn,
        caller.name,
        "withdraw",
        "place_name",
        str(place_id),
        {"status": status, "version": current},
        {"status": "withdrawn"},
    )
    return await place_names.get(conn, place_id, crs, caller)


@dataclass(frozen=True)
class Resubmission:
    """A returned proposal as its proposer changed it: the whole proposal of a new place (geometry in WGS84,
    category and texts), or for a rename the new name and texts (the place keeps its geometry and category)."""

    name: str
    category: str | None = None
    geom: BaseGeometry | None = None
    division_code: str | None = None
    origin: str | None = None
    note: str | None = None
    justification: str | None = None


async def _resubmitted_rename(
    conn: AsyncConnection, caller: Caller, place_id: int, rename_of: int, change: Resubmission
) -> Proposal:
    """A returned rename as changed, checked: only its name and texts may change (400 otherwise)."""
    place = await _place_to_rename(conn, caller, rename_of)
    if change.geom is not None or change.category not in (None, place[1]):
        raise InvalidInput(
            t(
                "place name {id} renames place {place}: send its new name, justification and note; "
                "the geometry and category are the place's",
                id=place_id,
                place=rename_of,
            )
        )
    p = await _checked_rename(
        conn, place, rename_of, change.name, change.justification, change.note, proposal_id=place_id
    )
    p.origin = change.origin
    return p


async def _resubmitted_place(
    conn: AsyncConnection, caller: Caller, place_id: int, change: Resubmission
) -> Proposal:
    """A returned proposal of a new place as changed, checked: sent whole, as when proposing (400 otherwise)."""
    if change.geom is None or change.category is None:
        raise InvalidInput(
            t(
                "place name {id} proposes a new place: send it whole, as when proposing "
                "(a geometry, and properties with its name and category)",
                id=place_id,
            )
        )
    p = Proposal(
        name=change.name,
        category=change.category,
        geom=change.geom,
        division_code=change.division_code,
        origin=change.origin,
        note=change.note,
        justification=change.justification,
        id=place_id,
    )
    await check_all(conn, [p])
    require_district(caller, p.district_code, t("the proposed place"))
    return p


async def resubmit(
    conn: AsyncConnection, caller: Caller, place_id: int, change: Resubmission, version: int, crs: str
) -> dict[str, Any]:
    """A returned proposal changed by its proposer, checked again by every rule and pending again."""
    _, _, rename_of = await _own_open_proposal(conn, caller, place_id, version, ("returned",), "resubmit")
    if rename_of is not None:
        p = await _resubmitted_rename(conn, caller, place_id, int(rename_of), change)
    else:
        p = await _resubmitted_place(conn, caller, place_id, change)
    _raise_for(p)
    # Pending again: the decision that returned it is history (the audit log keeps it, with its comment),
    # not the proposal's current decision.
    decision = (
        await conn.execute(
            text("SELECT reviewed_by, review_comment FROM place_names WHERE id = :id"), {"id": place_id}
        )
    ).one()
    await conn.execute(
        update(PlaceName)
        .where(PlaceName.id == place_id)
        .values(
            **_columns(p),
            reviewed_by=None,
            review_comment=None,
            decided_at=None,
            version=PlaceName.version + 1,
            updated_at=func.now(),
        )
    )
    await audit.record(
        conn,
        caller.name,
        "resubmit",
        "place_name",
        str(place_id),
        {"version": version, "status": "returned", "reviewed_by": decision[0], "review_comment": decision[1]},
        {"name": p.name, "category": p.category},
    )
    return await place_names.get(conn, place_id, crs, caller)


#: The columns of a proposal a decision needs (see ``_proposal_of``).
_DECIDED = Sql(
    "rename_of, name, specific, generic, pinyin, pinyin_key, near_key, justification, category, district_code, "
    "ST_AsBinary(geom)"
)


def _proposal_of(row: Any) -> Proposal:
    return Proposal(
        name=row[1],
        category=row[8],
        geom=shapely.from_wkb(bytes(row[10])),
        rename_of=row[0],
        specific=row[2],
        generic=row[3],
        pinyin=row[4],
        pinyin_key=row[5],
        near_key=row[6] or "",
        district_code=row[9],
    )


def _decision_problem(decision: str, comment: str | None, approval_ref: str | None) -> str | None:
    """What is wrong with a decision's fields, in words (None when nothing)."""
    if decision not in DECISIONS:
        return t("decision must be one of {decisions}", decisions=", ".join(DECISIONS))
    if decision == "return" and not (comment and comment.strip()):
        return t("a proposal is returned with a comment saying what to change")
    if approval_ref is not None and decision != "approve":
        return t("an approval reference (批准文号) goes with an approval only")
    return None


async def _review_target(conn: AsyncConnection, caller: Caller, place_id: int) -> Any:
    """The proposal to decide: (proposed_by, then the ``_DECIDED`` columns); 404, 403 for its own proposer or
    outside a limited caller's district."""
    target = (
        await conn.execute(
            text(compose("SELECT proposed_by, {decided} FROM place_names WHERE id = :id", decided=_DECIDED)),
            {"id": place_id},
        )
    ).first()
    if target is None:
        raise NotFound(t("no place name {id}", id=place_id))
    if target[0] is not None and target[0] == caller.name:
        raise Forbidden(
            t(
                "place name {id} was proposed by {caller!r}: a proposal is reviewed by "
                "another reviewer, never by the one who proposed it",
                id=place_id,
                caller=caller.name,
            )
        )
    require_district(caller, target[10], t("place name {id}", id=place_id))
    return target


_DECIDE = compose(
    "UPDATE place_names SET status = CAST(:s AS varchar), reviewed_by = :who, review_comment = :c, "
    "decided_at = now(), approval_ref = :ref, version = version + 1, updated_at = now(), "
    "approved_on = CASE WHEN CAST(:s AS text) = 'approved' THEN current_date END "
    "WHERE id = :id AND status = 'proposed' AND version = :v RETURNING {decided}",
    decided=_DECIDED,
)


async def _not_decided(conn: AsyncConnection, place_id: int, version: int) -> Exception:
    """Why a decision on ``version`` changed nothing: 404, 412 (another version) or 409 (decided already)."""
    current = (
        await conn.execute(text("SELECT status, version FROM place_names WHERE id = :id"), {"id": place_id})
    ).first()
    if current is None:
        return NotFound(t("no place name {id}", id=place_id))
    if current[1] != version:
        return StaleVersion(
            t(
                "place name {id} is at version {current}, not {version}: reload and decide again",
                id=place_id,
                current=current[1],
                version=version,
            ),
            current_version=current[1],
        )
    if current[0] == "returned":
        return Conflict(
            t(
                "place name {id} was already decided: it is returned "
                "(sent back to its proposer, who may resubmit it)",
                id=place_id,
            )
        )
    return Conflict(
        t("place name {id} was already decided: it is {status}", id=place_id, status=status_word(current[0]))
    )


async def review(
    conn: AsyncConnection,
    caller: Caller,
    place_id: int,
    decision: str,
    comment: str | None,
    version: int,
    crs: str,
    approval_ref: str | None = None,
) -> dict[str, Any]:
    """Approve, reject or return a pending proposal decided on ``version``; returns the resulting place name."""
    problem = _decision_problem(decision, comment, approval_ref)
    if problem is not None:
        raise InvalidInput(problem)
    target = await _review_target(conn, caller, place_id)
    # Locks before the first write: the place, then the names (the order every transaction takes them in).
    if target[1] is not None:
        await lock_place(conn, int(target[1]))
    if decision == "approve":
        await lock_names(conn, [_proposal_of(target[1:])])
    status = DECISIONS[decision]
    values = {
        "s": status,
        "who": caller.name,
        "c": comment,
        "ref": approval_ref,
        "id": place_id,
        "v": version,
    }
    decided = (await conn.execute(text(_DECIDE), values)).first()
    if decided is None:
        raise await _not_decided(conn, place_id, version)
    result_id = place_id
    if status == "approved":
        await _still_unique(conn, place_id, _proposal_of(decided))
        if decided[0] is not None:
            result_id = await _apply_rename(conn, int(decided[0]), place_id, decided, comment, approval_ref)
    await audit.record(
        conn,
        caller.name,
        decision,
        "place_name",
        str(place_id),
        {"version": version},
        {"status": status, "comment": comment, "approval_ref": approval_ref},
    )
    return await place_names.get(conn, result_id, crs, caller)


async def _still_unique(conn: AsyncConnection, place_id: int, p: Proposal) -> None:
    """409 when an approved name now has the proposal's name or romanisation (checked under the names' locks)."""
    await check_uniqueness(
        conn, [p], {place_id} | ({p.rename_of} if p.rename_of else set()), approved_only=True
    )
    if p.conflicts:
        ids = sorted(set(p.conflicts))
        raise Conflict(
            t(
                "{name!r} cannot be approved: it duplicates or sounds the same as the approved place name(s) {ids}",
                name=p.name,
                ids=listing(ids),
            ),
            conflicting_ids=ids,
        )


async def _apply_rename(
    conn: AsyncConnection,
    original: int,
    rename_id: int,
    proposal: Any,
    comment: str | None,
    approval_ref: str | None,
) -> int:
    old = (
        await conn.execute(
            text("SELECT name, pinyin, approved_on FROM place_names WHERE id = :id FOR UPDATE"),
            {"id": original},
        )
    ).first()
    if old is None:
        raise NotFound(t("the place name {id} to rename no longer exists", id=original))
    today = dt.date.today()
    await conn.execute(
        text(
            "INSERT INTO place_name_history (place_name_id, name, pinyin, valid_from, valid_to, reason) "
            "VALUES (:id, :n, :p, :f, :t, :r)"
        ),
        {
            "id": original,
            "n": old[0],
            "p": old[1],
            "f": old[2],
            "t": today,
            "r": comment or proposal[7] or "更名 renamed",
        },
    )
    # The place keeps its protection under its new name (PROTECTED reads the old name here).
    await conn.execute(
        text(
            compose(
                "UPDATE place_names t SET name = :n, specific = :sp, generic = :g, pinyin = :p, pinyin_key = :k, "
                "near_key = :nk, approved_on = :t, approval_ref = :ref, protected = {protected}, "
                "version = version + 1, updated_at = now() WHERE id = :id",
                protected=place_names.PROTECTED,
            )
        ),
        {
            "id": original,
            "n": proposal[1],
            "sp": proposal[2],
            "g": proposal[3],
            "p": proposal[4],
            "k": proposal[5],
            "nk": proposal[6],
            "t": today,
            "ref": approval_ref,
        },
    )
    await conn.execute(
        text(
            "UPDATE place_names SET status = 'superseded', version = version + 1, updated_at = now() "
            "WHERE rename_of = :id AND id <> :rename AND status = ANY(:open)"
        ),
        {"id": original, "rename": rename_id, "open": list(OPEN_STATUSES)},
    )
    # Its standing signs now show an old name (``signs.TO_REPLACE`` derives that): their record changed.
    await conn.execute(
        text(
            "UPDATE place_name_signs SET version = version + 1 WHERE place_name_id = :id AND retired_on IS NULL"
        ),
        {"id": original},
    )
    return original
