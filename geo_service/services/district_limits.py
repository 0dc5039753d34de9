"""Callers limited to one district (``Caller.district``) write only there: signs, inspections and facilities.

Each writer raises its own 403 (a message naming the caller's district and the thing's); this module only says
whether a write falls outside. Reads are not limited (a limited account reads what staff read); lists of work
to do start from the caller's district. The naming workflow keeps its own check (``place_name_workflow``).
"""

from __future__ import annotations

from geo_service.services.keys import Caller

#: A district code is the first six digits of any division code (codes nest).
DISTRICT_DIGITS = 6


def acts_outside(caller: Caller, *codes: str | None) -> bool:
    """Whether a limited caller would act on something that lies in none of ``codes`` (codes of any level).

    Something in no district at all is left to the rule that refuses it (outside every district: 422)."""
    if caller.district is None:
        return False
    known = [code[:DISTRICT_DIGITS] for code in codes if code]
    return bool(known) and caller.district not in known


def district_of(code: str | None) -> str | None:
    """The district a division code lies in."""
    return code[:DISTRICT_DIGITS] if code else None


def default_district(caller: Caller | None, district: str | None) -> str | None:
    """The district a list of work shows: the one asked for, else the caller's own when it is limited to one."""
    if district is not None or caller is None:
        return district
    return caller.district
