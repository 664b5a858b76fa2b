"""Rules on the clinic profile itself, reported once per run (not once per claim)."""

from __future__ import annotations

from superbill.problems import WARNING, Problem

# The identifiers `superbill init` writes (examples/clinic.yaml): valid-looking, so nothing else
# catches them, but a claim sent with them is paid to nobody. Kept equal to the starter by a test.
STARTER_PRACTICE_NPI = "1234567893"
STARTER_TAX_ID = "123456789"
STARTER_PROVIDER_NPIS = frozenset({"1003000126"})


def starter_placeholders(clinic, file: str) -> list[Problem]:
    """One warning naming every placeholder identifier of the starter clinic still in use."""
    found = []
    if clinic.practice.npi == STARTER_PRACTICE_NPI:
        found.append(f"practice.npi {clinic.practice.npi}")
    if clinic.practice.tax_id == STARTER_TAX_ID:
        found.append("practice.tax_id 12-3456789")
    found += [f"providers[{i}].npi {provider.npi}" for i, provider in enumerate(clinic.providers)
              if provider.npi in STARTER_PROVIDER_NPIS]
    if not found:
        return []
    return [Problem(file, "practice", WARNING,
                    "the starter clinic's placeholder identifiers are still in use (" + ", ".join(found)
                    + "): put the practice's own before sending claims")]
