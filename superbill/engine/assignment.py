"""Medicare mandatory assignment (docs/reference.md "Billing rules").

Medicare requires drugs and biologicals, and the services of nurse practitioners and physician
assistants, to be billed assigned; a carrier processes such a claim as assigned even when it is sent
unassigned, so Medicare pays the clinic and a patient who already paid would never be reimbursed.
Such claims are therefore sent assigned (837P CLM07 A, CLM08 Y; CMS-1500 items 13 and 27), with a
warning; every other claim stays not assigned (the cash-pay default, docs/reference.md "Outputs"). Pure.
"""

from __future__ import annotations

from superbill.problems import WARNING, Problem

MEDICARE_INDICATORS = frozenset({"MA", "MB"})
# NUCC taxonomy: 363L..... Nurse Practitioner (and its specialties), 363A..... Physician Assistant.
NP_PA_TAXONOMY_PREFIXES = ("363L", "363A")
NP_PA_CREDENTIALS = frozenset({
    "NP", "APRN", "APN", "CNP", "FNP", "ANP", "ACNP", "AGNP", "AGACNP", "AGPCNP", "PNP", "PMHNP", "WHNP",
    "NNP", "DNP", "FNP-C", "FNP-BC", "ANP-C", "ANP-BC", "PMHNP-BC", "PA", "PA-C", "RPA-C",
})


def non_physician_practitioner(provider) -> bool:
    """A nurse practitioner or physician assistant, by taxonomy or by a credential in the list."""
    if provider is None:
        return False
    if str(provider.taxonomy).upper().startswith(NP_PA_TAXONOMY_PREFIXES):
        return True
    credentials = str(getattr(provider, "credentials", "") or "").upper().replace(".", "")
    return any(part.strip() in NP_PA_CREDENTIALS for part in credentials.replace("/", ",").split(","))


def medicare_requires_assignment(filing_indicator: str, lines, provider) -> bool:
    """Medicare primary with a drug line or an NP/PA rendering the service."""
    if filing_indicator not in MEDICARE_INDICATORS:
        return False
    return any(line.kind == "drug" for line in lines) or non_physician_practitioner(provider)


def assignment_warning(claim, file: str = "") -> Problem | None:
    """The clerk's warning for a claim sent assigned: Medicare pays the clinic."""
    if not claim.assigned:
        return None
    reasons = []
    if any(line.kind == "drug" for line in claim.lines):
        reasons.append("drug lines")
    if non_physician_practitioner(claim.provider):
        reasons.append("a nurse practitioner or physician assistant")
    why = " and ".join(reasons) or "this claim"
    return Problem(file, f"sessions[{claim.session_index}]", WARNING,
                   f"Medicare requires assignment for {why}: the claim is sent assigned, so Medicare pays the "
                   "clinic, not the patient; refund what the patient paid for the covered services once "
                   "Medicare has paid")
