"""Who bills and who renders a claim (docs/reference.md "The clinic profile": a solo practitioner).

A solo practitioner bills under their own Type 1 NPI: when `practice.npi` is the NPI of one of the
providers, the billing provider is that person (837P `NM1*85*1`, CMS-1500 item 33 with the person's
name) and no separate rendering provider is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from superbill.inputs.models import Clinic, Provider


def solo_provider(clinic: Clinic) -> Provider | None:
    """The provider whose NPI is the practice's own, else None (a group bills under its Type 2 NPI)."""
    return next((p for p in clinic.providers if p.npi == clinic.practice.npi), None)
