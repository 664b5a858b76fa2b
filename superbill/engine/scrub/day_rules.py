"""Rules on what was done that day: administration codes, E/M with them, bundling, setting."""

from __future__ import annotations

from collections.abc import Iterator

from superbill.engine.claims import MAX_MODIFIERS, ClaimLine
from superbill.engine.scrub.context import ScrubContext, label
from superbill.ids import pos as pos_codes
from superbill.problems import Problem
from superbill.tables.codebook import ADMINISTRATION_KINDS, INITIAL_KINDS

MEDICARE_INDICATORS = {"MA", "MB"}
DISTINCT_SITE_MODIFIERS = {"59", "XE", "XS", "XP", "XU"}


def one_initial_administration(ctx: ScrubContext) -> Iterator[Problem]:
    initial = [line for line in ctx.claim.lines if line.kind in INITIAL_KINDS]
    unmarked = [line for line in initial if not DISTINCT_SITE_MODIFIERS & set(line.modifiers)]
    if len(initial) > 1 and len(unmarked) > 1:
        yield ctx.error(f"{ctx.where}", "more than one initial administration code ("
                        + ", ".join(line.code for line in initial)
                        + "); a second needs a documented second IV site and modifier 59 or XU")


def one_initial_administration_per_date(ctx: ScrubContext) -> Iterator[Problem]:
    """A second initial code (96365, 96374, 96360) on another claim of the patient's date needs XE or 59."""
    before = ctx.same_date[:next(i for i, c in enumerate(ctx.same_date) if c is ctx.claim)]
    earlier = next((claim for claim in before if _unmarked_initial(claim)), None)
    if earlier is None:
        return
    first = _unmarked_initial(earlier)[0]
    for line in _unmarked_initial(ctx.claim):
        yield ctx.warning(line.source, f"{line.code} is a second initial administration code for the patient on "
                                       f"{ctx.claim.date_of_service.isoformat()} ({first.code} on claim {earlier.claim_id}): "
                                       "a separate encounter's initial code needs modifier XE or 59")


def _unmarked_initial(claim) -> list[ClaimLine]:
    return [line for line in claim.lines
            if line.kind in INITIAL_KINDS and not DISTINCT_SITE_MODIFIERS & set(line.modifiers)]


# ---------------------------------------------------------------- E/M (line rules; the day is the
# patient's with this provider, across claims: a morning infusion makes an afternoon visit's E/M 25)


def em_99211_with_administration(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.kind == "em" and line.code == "99211" and ctx.day_has_administration:
        severity = ctx.error if ctx.claim.filing_indicator in MEDICARE_INDICATORS else ctx.warning
        yield severity(line.source, "99211 is not paid with drug administration codes on the same day (CMS)")


def em_needs_25_with_administration(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.kind != "em" or not ctx.day_has_administration or "25" in line.modifiers:
        return
    if len(line.modifiers) >= MAX_MODIFIERS:
        yield ctx.error(line.source, f"{label(line)}: needs modifier 25 (drug administration that day) but already "
                                     f"has {MAX_MODIFIERS} modifiers, the most a line carries: remove one")
    else:
        yield ctx.error(line.source, f"{line.code} on a day with drug administration needs modifier 25")


def modifier_25_without_procedure(ctx: ScrubContext) -> Iterator[Problem]:
    if ctx.day_has_administration:
        return
    for line in ctx.claim.lines:
        if line.kind == "em" and "25" in line.modifiers:
            yield ctx.warning(line.source, f"{line.code}-25: modifier 25 without a procedure that day")


# ---------------------------------------------------------------- bundling and setting


def bundled_with_infusion(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if not ctx.has_infusion:
        return
    if line.kind == "oximetry":
        yield ctx.warning(line.source, f"{line.code}: pulse oximetry is bundled into the infusion by most payers")
    elif line.kind == "rhythm_ecg":
        yield ctx.warning(line.source, f"{line.code}: rhythm-strip review during an infusion is part of the infusion; "
                                      "bill only an ordered, separately reported study")
    elif line.kind in {"sedation", "sedation_addon"}:
        if ctx.claim.allow_sedation:
            yield ctx.warning(line.source, f"{line.code}: moderate sedation billed with an analgesic infusion "
                                          "(allowed by allow_sedation); expect review")
        else:
            yield ctx.error(line.source, f"{line.code}: moderate sedation is not billed for an analgesic ketamine infusion "
                                        "(set allow_sedation on the session to override)")


def no_drugs_by_telehealth(ctx: ScrubContext) -> Iterator[Problem]:
    """POS 02/10 is for E/M and similar services: no drug administration and no drug line."""
    pos = ctx.claim.place_of_service
    if pos not in pos_codes.TELEHEALTH:
        return
    if ctx.has_infusion:
        yield ctx.error(f"{ctx.where}.place_of_service", f"an infusion cannot be billed with telehealth place of service {pos}")
        return
    codes = [line.code for line in ctx.claim.lines if line.kind in ADMINISTRATION_KINDS or line.kind == "drug"]
    if codes:
        yield ctx.error(f"{ctx.where}.place_of_service",
                        f"drug administration and drug lines ({', '.join(dict.fromkeys(codes))}) cannot be billed "
                        f"with telehealth place of service {pos}")


def infusion_within_six_hours(ctx: ScrubContext) -> Iterator[Problem]:
    minutes = ctx.claim.infusion_minutes
    if minutes is not None and minutes > 6 * 60:
        yield ctx.warning(f"{ctx.where}.infusion", f"the infusion runs {minutes // 60} h {minutes % 60:02d} min, "
                                                   "over six hours: check its start and end times")


def administration_in_facility(ctx: ScrubContext) -> Iterator[Problem]:
    pos = ctx.claim.place_of_service
    if ctx.has_administration and pos in pos_codes.FACILITY:
        yield ctx.warning(f"{ctx.where}.place_of_service", f"place of service {pos} is a facility: "
                          "the hospital bills the administration codes, not the physician")


def facility_only_96376(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.code == "96376" and ctx.claim.place_of_service == "11":
        yield ctx.warning(line.source, "96376 is defined for the facility setting; not for place of service 11")
