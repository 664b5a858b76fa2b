"""A note about a whole patient file: dates of service in an ICD-10-CM edition that is not shipped.

Not a claim rule: it is said once per file and edition (on the first such session), not once per
claim, because every claim of those months would repeat it.
"""

from __future__ import annotations

from collections.abc import Iterable

from superbill.engine.claims import Claim
from superbill.problems import WARNING, Problem
from superbill.tables import icd10cm_editions


def edition_notes(claims: Iterable[Claim], file: str = "") -> list[Problem]:
    """One warning per edition that is not shipped, naming the edition the diagnoses were checked against."""
    notes: list[Problem] = []
    seen: set[int] = set()
    for claim in claims:
        in_force = icd10cm_editions.edition_for(claim.date_of_service)
        if not in_force.shipped and in_force.fiscal_year not in seen:
            seen.add(in_force.fiscal_year)
            notes.append(Problem(file, f"sessions[{claim.session_index}].date", WARNING, in_force.note()))
    return notes
