"""The claim scrubber: every rule a payer or clearinghouse would reject or question a claim for.

Errors mean the claim would be rejected, so nothing is produced for its file; warnings mean a payer
may deny or bundle a line: they are shown, not fatal. Pure: `scrub(claim, ...)` returns problems.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from superbill.engine.claims import Claim, total_of
from superbill.ids import hcpcs, icd10cm, modifier, npi
from superbill.ids import pos as pos_codes
from superbill.problems import ERROR, WARNING, Problem
from superbill.tables import icd10cm_index
from superbill.tables.codebook import ADMINISTRATION_KINDS, INITIAL_KINDS, CodeBook

ICD10_START = dt.date(2015, 10, 1)
MEDICARE_INDICATORS = {"MA", "MB"}
DISTINCT_SITE_MODIFIERS = {"59", "XE", "XS", "XP", "XU"}
INFUSION_KINDS = {"infusion_initial", "infusion_addon"}


def scrub(claim: Claim, book: CodeBook, *, file: str = "", billing_npi: str | None = None,
          today: dt.date | None = None) -> list[Problem]:
    where = f"sessions[{claim.session_index}]"
    problems: list[Problem] = []

    def error(path: str, message: str) -> None:
        problems.append(Problem(file, path, ERROR, message))

    def warn(path: str, message: str) -> None:
        problems.append(Problem(file, path, WARNING, message))

    # ---- identity
    if billing_npi is not None and not npi.is_valid(billing_npi):
        error("practice.npi", "billing NPI fails the NPI check (10 digits, Luhn with the 80840 prefix)")
    if claim.provider is None:
        error(f"{where}.provider", "no rendering provider")
    elif not npi.is_valid(claim.provider.npi):
        error(f"{where}.provider", "rendering provider NPI fails the NPI check")

    # ---- dates
    if claim.date_of_service < ICD10_START:
        error(f"{where}.date", "date of service is before 2015-10-01: ICD-10-CM codes are not valid then")
    if today is not None and claim.date_of_service > today:
        error(f"{where}.date", "date of service is in the future")

    # ---- diagnoses
    count = len(claim.diagnoses)
    if not 1 <= count <= 12:
        error(f"{where}.diagnoses", f"a claim carries 1 to 12 diagnoses, not {count}")
    seen = set()
    for i, code in enumerate(claim.diagnoses):
        if code in seen:
            error(f"{where}.diagnoses[{i}]", f"{code} is listed twice")
        seen.add(code)
        if not icd10cm.is_valid(code):
            try:
                icd10cm.validate(code)
            except ValueError as exc:
                error(f"{where}.diagnoses[{i}]", str(exc))
    for first, second, note in icd10cm_index.excludes1_conflicts(list(claim.diagnoses)):
        error(f"{where}.diagnoses",
              f"{first} and {second} cannot be reported together (ICD-10-CM Excludes1: {note})")

    # ---- place of service
    if not pos_codes.is_valid(claim.place_of_service):
        error(f"{where}.place_of_service", f"{claim.place_of_service} is not a CMS place of service code")

    codes = [line.code for line in claim.lines]
    kinds = [line.kind for line in claim.lines]
    has_infusion = any(kind in INFUSION_KINDS for kind in kinds)
    has_administration = any(kind in ADMINISTRATION_KINDS for kind in kinds)

    if not claim.lines:
        error(where, "the session produces no claim lines")

    # ---- each line
    for line in claim.lines:
        path = line.source
        label = line.code + ("-" + "-".join(line.modifiers) if line.modifiers else "")
        if not hcpcs.is_valid(line.code):
            error(path, f"{line.code} is not a CPT/HCPCS code (5 characters)")
        if len(line.modifiers) > 4:
            error(path, f"{label}: at most 4 modifiers per line")
        for mod in line.modifiers:
            if not modifier.is_valid(mod):
                error(path, f"{line.code}: modifier {mod!r} must be 2 letters or digits")
        if "JW" in line.modifiers and "JZ" in line.modifiers:
            error(path, f"{line.code}: JW and JZ cannot be on the same line")
        if line.units < 1:
            error(path, f"{line.code}: units must be more than 0")
        if not 1 <= len(line.pointers) <= 4:
            error(path, f"{line.code}: a line points to 1 to 4 diagnoses")
        for pointer in line.pointers:
            if not 1 <= pointer <= count:
                error(path, f"{line.code}: diagnosis pointer {pointer} points past the {count} diagnoses")
        if line.charge is None:
            error(path, f"{line.code} has no fee in clinic.yaml fees and no charge on the line")
        elif line.charge < 0:
            error(path, f"{line.code}: a charge cannot be negative")
        if line.kind == "drug":
            if not line.ndc:
                error(path, f"{line.code} ({line.drug}) needs an NDC: set ndc on the medication in clinic.yaml or on the session")
            if line.ndc_quantity is None:
                error(path, f"{line.code} ({line.drug}): cannot compute the NDC quantity (set mg_per_ml, or mg_per_unit for UN)")
            elif line.ndc_quantity <= 0:
                error(path, f"{line.code} ({line.drug}): NDC quantity must be more than 0")
            if ("JW" in line.modifiers or "JZ" in line.modifiers) and line.single_dose is False:
                error(path, f"{line.code} ({line.drug}): JW/JZ are for single-dose containers only; this drug is multi-dose")
        if line.code in book.procedures and book.procedures[line.code].is_addon:
            parents = book.procedures[line.code].addon_of
            if not any(code in parents for code in codes):
                error(path, f"add-on code {line.code} is billed without its primary code ({', '.join(parents)})")
        if line.code == "36000" and has_administration:
            error(path, "36000 (IV start) is included in the administration codes; do not bill it")

    # ---- one initial administration per encounter
    initial = [line for line in claim.lines if line.kind in INITIAL_KINDS]
    unmarked = [line for line in initial if not DISTINCT_SITE_MODIFIERS & set(line.modifiers)]
    if len(initial) > 1 and len(unmarked) > 1:
        error(f"{where}", "more than one initial administration code ("
              + ", ".join(line.code for line in initial)
              + "); a second needs a documented second IV site and modifier 59 or XU")

    # ---- E/M rules
    for line in claim.lines:
        if line.kind != "em":
            continue
        if line.code == "99211" and has_administration:
            severity = error if claim.filing_indicator in MEDICARE_INDICATORS else warn
            severity(line.source, "99211 is not paid with drug administration codes on the same day (CMS)")
        if has_administration and "25" not in line.modifiers:
            error(line.source, f"{line.code} on a day with drug administration needs modifier 25")
    if not has_administration:
        for line in claim.lines:
            if line.kind == "em" and "25" in line.modifiers:
                warn(line.source, f"{line.code}-25: modifier 25 without a procedure that day")

    # ---- bundling
    if has_infusion:
        for line in claim.lines:
            if line.kind == "oximetry":
                warn(line.source, f"{line.code}: pulse oximetry is bundled into the infusion by most payers")
            elif line.kind == "rhythm_ecg":
                warn(line.source, f"{line.code}: rhythm-strip review during an infusion is part of the infusion; "
                                  "bill only an ordered, separately reported study")
            elif line.kind in {"sedation", "sedation_addon"}:
                if claim.allow_sedation:
                    warn(line.source, f"{line.code}: moderate sedation billed with an analgesic infusion "
                                      "(allowed by allow_sedation); expect review")
                else:
                    error(line.source, f"{line.code}: moderate sedation is not billed for an analgesic ketamine infusion "
                                       "(set allow_sedation on the session to override)")
        if claim.place_of_service in pos_codes.TELEHEALTH:
            error(f"{where}.place_of_service", f"an infusion cannot be billed with telehealth place of service {claim.place_of_service}")
    if has_administration and claim.place_of_service in pos_codes.FACILITY:
        warn(f"{where}.place_of_service", f"place of service {claim.place_of_service} is a facility: "
                                           "the hospital bills the administration codes, not the physician")
    for line in claim.lines:
        if line.code == "96376" and claim.place_of_service == "11":
            warn(line.source, "96376 is defined for the facility setting; not for place of service 11")

    # ---- duplicates and totals
    repeated = {code for code in codes if codes.count(code) > 1 and code[0].isdigit()}
    for code in sorted(repeated):
        warn(where, f"{code} appears on more than one line")
    if claim.total_charge != total_of(claim.lines):
        error(where, f"total {claim.total_charge} is not the sum of the lines {total_of(claim.lines)}")
    if claim.lines and claim.total_charge <= 0 and all(line.charge is not None for line in claim.lines):
        error(where, "the claim's total charge is 0: a chargeable claim needs a total above 0")
    if claim.amount_paid > claim.total_charge and claim.total_charge > Decimal(0):
        warn(f"{where}.payments", "payments exceed the total charge")
    return problems
