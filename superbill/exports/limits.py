"""What the exports refuse in one patient file, for `export` and for `check` to report up front
(docs/reference.md "Claim checks": formats).

The CMS-1500 and the 837P refuse a patient payment above a claim's charge; the 837P also refuses more
than 50 lines in a claim, a claim id (CLM01) over 38 characters, and any value X12 cannot carry
(`x12.patient_problems`), and warns about a CLM01 longer than payers keep in the remittance. `check`
applies the 837P's limits when the clinic can export it (clinic.yaml has an `x12` block). Each problem
is reported once, with the message the export itself gives.
"""

from __future__ import annotations

from superbill.engine.format_limits import limit_problems
from superbill.problems import Problem


def export_problems(loaded, patient_file, claims, file: str, formats) -> list[Problem]:
    """What the formats asked for cannot carry in these claims of one patient file."""
    problems = limit_problems(patient_file.patient.id, claims, file, ("cms1500",)) if "cms1500" in formats else []
    if "837p" in formats:
        from superbill.exports.x12 import patient_problems

        seen = {(p.path, p.message) for p in problems}
        problems += [p for p in patient_problems(patient_file, claims, file, loaded.book)
                     if (p.path, p.message) not in seen]
    return problems


def format_problems(loaded, patient_file, claims, file: str) -> list[Problem]:
    """For `check`: every format the clinic can export (the 837P needs clinic.yaml's `x12` block)."""
    formats = ("cms1500", "837p") if loaded.clinic.x12 is not None else ("cms1500",)
    return export_problems(loaded, patient_file, claims, file, formats)


def clinic_format_problems(loaded) -> list[Problem]:
    """For `check`, once per clinic profile: what keeps the 837P from being written at all (its
    envelope, the submitter and the billing provider: `x12.clinic_problems`), when the clinic exports it."""
    if loaded.clinic.x12 is None:
        return []
    from superbill.exports.x12 import clinic_problems

    return clinic_problems(loaded)
