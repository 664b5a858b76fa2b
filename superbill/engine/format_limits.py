"""Limits of the claim formats that the billing rules themselves do not impose (docs/reference.md "Claim checks").

A claim can be right and still not fit a format: an 837P claim carries at most 50 service lines and a
claim id (CLM01) of at most 38 characters; neither the 837P (`AMT*F5`) nor the CMS-1500 (item 29)
carries a patient payment above the claim's charge (docs/reference.md "A patient file": money on a session). These are errors for
those formats only: the superbill of an overpaid visit still shows the credit. Pure: `check` reports
them up front and the exports refuse the same claims with the same messages.
"""

from __future__ import annotations

from decimal import Decimal

from superbill.engine.claims import money
from superbill.problems import ERROR, WARNING, Problem

MAX_LINES_837P = 50  # 2400 repeats at most 50 times per claim (TR3)
MAX_CLAIM_ID_837P = 38  # CLM01 is AN 1..38
REMITTANCE_CLAIM_ID = 20  # many payers return only 20 characters of CLM01 in the 835 (CLP01)
FORMATS = ("837p", "cms1500")


def overpaid_problem(claim, file: str = "") -> Problem | None:
    """The payments of a session above its charges: neither claim format can carry them."""
    if claim.amount_paid <= claim.total_charge:
        return None
    return Problem(file, f"sessions[{claim.session_index}].payments", ERROR,
                   f"the payments ({money(claim.amount_paid)}) are more than the session's charges "
                   f"({money(claim.total_charge)}): neither the 837P (AMT*F5) nor the CMS-1500 (item 29) "
                   "carries a patient payment above the claim's charge; record a prepayment for a series "
                   "across its sessions (the superbill shows the credit)")


def too_many_lines_problem(claim, file: str = "") -> Problem | None:
    count = len(claim.lines)
    if count <= MAX_LINES_837P:
        return None
    return Problem(file, f"sessions[{claim.session_index}]", ERROR,
                   f"has {count} service lines; an 837P claim carries at most {MAX_LINES_837P}: "
                   "split the services into a second session of the same day")


def claim_id_problems(patient_id: str, claims, file: str = "") -> list[Problem]:
    """CLM01 (the claim id: patient id, '-', the date, '-2' for a second session that day) too long
    for the 837P (an error), or longer than payers keep in the remittance (a warning); once per
    patient, for its longest claim id: the patient id is the part to shorten."""
    if not claims:
        return []
    longest = max((claim.claim_id for claim in claims), key=len)
    rest = len(longest) - len(patient_id)  # '-YYYYMMDD' and any '-N'
    if len(longest) > MAX_CLAIM_ID_837P:
        return [Problem(file, "patient.id", ERROR,
                        f"is {len(patient_id)} characters, so the 837P claim id (CLM01: patient id, '-', date "
                        f"of service) {'is' if len(claims) == 1 else 'reaches'} {len(longest)} characters, over "
                        f"the {MAX_CLAIM_ID_837P} an 837P carries: use a patient id of at most "
                        f"{MAX_CLAIM_ID_837P - rest} characters")]
    if len(longest) > REMITTANCE_CLAIM_ID:
        return [Problem(file, "patient.id", WARNING,
                        f"the 837P claim id (CLM01) {'is' if len(claims) == 1 else 'reaches'} {len(longest)} "
                        f"characters; many payers return only {REMITTANCE_CLAIM_ID} in the remittance, so the "
                        f"payment may not match the claim (a patient id of at most {REMITTANCE_CLAIM_ID - rest} "
                        "characters avoids it)")]
    return []


MAX_CMS1500_AMOUNT = Decimal("99999.99")  # items 24F, 28 and 29: five dollar digits | two cents digits


def cms1500_amount_problem(claim, file: str = "") -> Problem | None:
    """A charge the CMS-1500's amount boxes cannot hold: cut, it would print a wrong number."""
    if claim.total_charge <= MAX_CMS1500_AMOUNT:
        return None
    return Problem(file, f"sessions[{claim.session_index}]", ERROR,
                   f"the claim's charges ({money(claim.total_charge)}) do not fit the CMS-1500's amount boxes "
                   f"(items 24F, 28 and 29 hold at most {MAX_CMS1500_AMOUNT}): send it as an 837P or split the "
                   "services into a second session of the same day")


def limit_problems(patient_id: str, claims, file: str = "", formats=FORMATS) -> list[Problem]:
    """Every format limit the claims of one patient file break, for the formats asked for."""
    problems: list[Problem] = []
    formats = set(formats)
    if formats & {"837p", "cms1500"}:
        problems += [p for p in (overpaid_problem(c, file) for c in claims) if p is not None]
    if "cms1500" in formats:
        problems += [p for p in (cms1500_amount_problem(c, file) for c in claims) if p is not None]
    if "837p" in formats:
        problems += [p for p in (too_many_lines_problem(c, file) for c in claims) if p is not None]
        problems += claim_id_problems(patient_id, claims, file)
    return problems
