"""Rules on one claim line: its code, modifiers, units, pointers, charge and drug data.

Each rule is `rule(ctx, line)`; `each_line` runs them line by line so a line's problems stay together.
"""

from __future__ import annotations

from collections.abc import Iterator

from superbill.engine.claims import ClaimLine
from superbill.engine.lines import number_text
from superbill.engine.scrub.context import ScrubContext, label
from superbill.ids import hcpcs, modifier
from superbill.problems import Problem


def code_valid(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if not hcpcs.is_valid(line.code):
        yield ctx.error(line.source, f"{line.code} is not a CPT/HCPCS code (5 characters)")


def at_most_four_modifiers(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if len(line.modifiers) > 4:
        yield ctx.error(line.source, f"{label(line)}: at most 4 modifiers per line")


def modifiers_well_formed(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    for mod in line.modifiers:
        if not modifier.is_valid(mod):
            yield ctx.error(line.source, f"{line.code}: modifier {mod!r} must be 2 letters or digits")


def not_both_jw_and_jz(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if "JW" in line.modifiers and "JZ" in line.modifiers:
        yield ctx.error(line.source, f"{line.code}: JW and JZ cannot be on the same line")


def units_positive(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.units < 1:
        yield ctx.error(line.source, f"{line.code}: units must be more than 0")


def one_to_four_pointers(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if not 1 <= len(line.pointers) <= 4:
        yield ctx.error(line.source, f"{line.code}: a line points to 1 to 4 diagnoses")


def pointers_within_diagnoses(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    count = len(ctx.claim.diagnoses)
    for pointer in line.pointers:
        if not 1 <= pointer <= count:
            yield ctx.error(line.source, f"{line.code}: diagnosis pointer {pointer} points past the {count} diagnoses")


def charge_known_and_not_negative(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.charge is None:
        yield ctx.error(line.source, f"{line.code} has no fee in clinic.yaml fees and no charge on the line")
    elif line.charge < 0:
        yield ctx.error(line.source, f"{line.code}: a charge cannot be negative")


def drug_has_ndc(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.kind != "drug" or line.ndc:
        return
    if line.drug:
        yield ctx.error(line.source, f"{line.what} needs an NDC: set ndc on the medication in clinic.yaml or on the session")
    else:  # a drug or supply code given as a service: payers differ on requiring its NDC
        yield ctx.warning(line.source, f"{line.code} has no NDC: payers that require one on drug and supply codes "
                                       "deny the line (give ndc on the service, with ndc_quantity and ndc_unit)")


def drug_has_ndc_quantity(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.kind != "drug" or (not line.drug and not line.ndc):
        return
    if line.ndc_quantity is None:
        yield ctx.error(line.source, f"{line.what}: cannot compute the NDC quantity (set mg_per_ml, or mg_per_unit for UN)")
    elif line.ndc_quantity <= 0:
        yield ctx.error(line.source, f"{line.what}: NDC quantity must be more than 0")


def ndc_only_on_drug_codes(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.ndc and line.kind != "drug":
        yield ctx.error(line.source, f"{line.code}: an NDC belongs on a HCPCS drug or supply code, not on this line")


def jw_jz_single_dose_only(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.kind == "drug" and ("JW" in line.modifiers or "JZ" in line.modifiers) and line.single_dose is False:
        yield ctx.error(line.source, f"{line.what}: JW/JZ are for single-dose containers only; this drug is multi-dose")


def waste_billed(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    """Discarded drug that could not become JW units: JZ would falsely attest nothing was discarded."""
    if line.unbilled_waste_mg is not None:
        yield ctx.error(line.source + ".wasted_mg",
                        f"{line.what}: {number_text(line.unbilled_waste_mg)} mg discarded cannot be turned into JW units "
                        "(set mg_per_ml on the medication); JZ would attest that nothing was discarded")


def dose_within_max(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    medication = ctx.book.medications.get(line.drug) if line.drug else None
    limit = medication.max_dose_mg if medication else None
    if limit is not None and line.dose_mg is not None and line.dose_mg > limit:
        yield ctx.warning(line.source, f"{line.what}: {number_text(line.dose_mg)} mg is above the medication's "
                                       f"max_dose_mg of {number_text(limit)} mg: check the dose")


def addon_with_primary(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    procedure = ctx.book.procedures.get(line.code)
    if procedure is not None and procedure.is_addon:
        parents = procedure.addon_of
        if not any(code in parents for code in ctx.codes):
            yield ctx.error(line.source, f"add-on code {line.code} is billed without its primary code ({', '.join(parents)})")


def no_separate_iv_start(ctx: ScrubContext, line: ClaimLine) -> Iterator[Problem]:
    if line.code == "36000" and ctx.has_administration:
        yield ctx.error(line.source, "36000 (IV start) is included in the administration codes; do not bill it")


LINE_RULES = (
    code_valid,
    at_most_four_modifiers,
    modifiers_well_formed,
    not_both_jw_and_jz,
    units_positive,
    one_to_four_pointers,
    pointers_within_diagnoses,
    charge_known_and_not_negative,
    drug_has_ndc,
    drug_has_ndc_quantity,
    ndc_only_on_drug_codes,
    jw_jz_single_dose_only,
    waste_billed,
    dose_within_max,
    addon_with_primary,
    no_separate_iv_start,
)
