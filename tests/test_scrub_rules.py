"""Each scrub rule on its own, on both sides; and the rule list itself (every rule named, tested).

`test_scrub.py` checks the scrubber end to end; here each rule function is called alone so a rule
that stops firing (or fires on a clean claim) is caught by name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from engine import claim_for, claims_for, loaded_clinic, session

from superbill.engine import scrub as scrubber
from superbill.engine.scrub import claim_rules as c
from superbill.engine.scrub import day_rules as d
from superbill.engine.scrub import line_rules as ln
from superbill.engine.scrub.context import ScrubContext


def run(rule, claim, **options):
    ctx = ScrubContext(claim, loaded_clinic().book, file="p.yaml", **options)
    return [(p.severity, p.path, p.message) for p in rule(ctx)]


def run_line(rule, claim, line):
    ctx = ScrubContext(claim, loaded_clinic().book, file="p.yaml")
    return [(p.severity, p.path, p.message) for p in rule(ctx, line)]


def with_line(claim, index, **changes):
    lines = list(claim.lines)
    lines[index] = replace(lines[index], **changes)
    return replace(claim, lines=tuple(lines))


def test_rule_list_names_every_rule_once_and_each_is_tested():
    names = []
    for rule in scrubber.RULES:
        names += [r.__name__ for r in getattr(rule, "rules", (rule,))]
    assert len(names) == len(set(names))
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_scrub*.py"))
    untested = [name for name in names if not re.search(rf"\.{name}\b", tests)]
    assert untested == []


def test_billing_npi_valid():
    claim = claim_for()
    assert run(c.billing_npi_valid, claim, billing_npi="1234567890") == [
        ("error", "practice.npi", "billing NPI fails the NPI check (10 digits, Luhn with the 80840 prefix)")]
    assert run(c.billing_npi_valid, claim, billing_npi="1003000126") == []


def test_rendering_provider_valid():
    claim = claim_for()
    assert run(c.rendering_provider_valid, replace(claim, provider=None)) == [
        ("error", "sessions[0].provider", "no rendering provider")]
    assert run(c.rendering_provider_valid, claim) == []


def test_date_rules():
    old = replace(claim_for(), date_of_service=dt.date(2015, 9, 30))
    assert run(c.date_in_icd10_era, old)[0][2].startswith("date of service is before 2015-10-01")
    assert run(c.date_in_icd10_era, replace(old, date_of_service=dt.date(2015, 10, 1))) == []
    claim = claim_for()
    assert run(c.date_not_in_future, claim, today=dt.date(2026, 11, 1)) == [
        ("error", "sessions[0].date", "date of service is in the future")]
    assert run(c.date_not_in_future, claim, today=dt.date(2026, 11, 2)) == []


def test_diagnosis_rules():
    claim = claim_for()
    assert run(c.diagnosis_count, replace(claim, diagnoses=())) == [
        ("error", "sessions[0].diagnoses", "a claim carries 1 to 12 diagnoses, not 0")]
    assert run(c.diagnosis_count, claim) == []
    twice = replace(claim, diagnoses=("G90.511", "G90.511"))
    assert run(c.diagnoses_distinct, twice) == [("error", "sessions[0].diagnoses[1]", "G90.511 is listed twice")]
    assert run(c.diagnoses_distinct, claim) == []
    header = replace(claim, diagnoses=("G90.51", "F33.1"))
    [(severity, path, message)] = run(c.diagnoses_valid_icd10cm, header)
    assert (severity, path) == ("error", "sessions[0].diagnoses[0]") and message.startswith("G90.51 is not billable")
    assert run(c.diagnoses_valid_icd10cm, claim) == []
    both = replace(claim, diagnoses=("F32.1", "F33.1"))
    assert [m for _, _, m in run(c.diagnoses_excludes1, both)] == [
        "F32.1 and F33.1 cannot be reported together (ICD-10-CM Excludes1: recurrent depressive disorder (F33.-))"]
    assert run(c.diagnoses_excludes1, claim) == []


def test_place_of_service_and_lines_present():
    claim = claim_for()
    assert run(c.place_of_service_valid, replace(claim, place_of_service="00")) == [
        ("error", "sessions[0].place_of_service", "00 is not a CMS place of service code")]
    assert run(c.place_of_service_valid, claim) == []
    assert run(c.has_lines, replace(claim, lines=())) == [
        ("error", "sessions[0]", "the session produces no claim lines")]
    assert run(c.has_lines, claim) == []


def test_totals_rules():
    claim = claim_for()
    doubled = replace(claim, lines=claim.lines + claim.lines[2:3], total_charge=claim.total_charge + Decimal(450))
    assert run(c.repeated_codes, doubled) == [("warning", "sessions[0]", "96365 appears on more than one line")]
    drugs = replace(claim, lines=claim.lines + claim.lines[-1:])
    assert run(c.repeated_codes, drugs) == []  # HCPCS drug codes repeat (JW lines)
    assert run(c.repeated_codes, claim) == []
    assert run(c.total_is_sum_of_lines, replace(claim, total_charge=Decimal("1.00"))) == [
        ("error", "sessions[0]", "total 1.00 is not the sum of the lines 1035.00")]
    assert run(c.total_is_sum_of_lines, claim) == []
    free = replace(claim, lines=tuple(replace(line, charge=Decimal("0.00")) for line in claim.lines),
                   total_charge=Decimal("0.00"))
    assert run(c.total_above_zero, free) == [
        ("error", "sessions[0]", "the claim's total charge is 0: a chargeable claim needs a total above 0")]
    assert run(c.total_above_zero, claim) == []
    assert run(c.payments_within_total, replace(claim, amount_paid=Decimal("1035.01"))) == [
        ("warning", "sessions[0].payments", "payments exceed the total charge")]
    assert run(c.payments_within_total, replace(claim, amount_paid=Decimal("1035.00"))) == []


def test_medicare_assignment():
    claim = claim_for()  # the SPEC example: drug lines, rendered by an MD
    assert run(c.medicare_assignment, replace(claim, assigned=True)) == [(
        "warning", "sessions[0]", "Medicare requires assignment for drug lines: the claim is sent assigned, so "
        "Medicare pays the clinic, not the patient; refund what the patient paid for the covered services once "
        "Medicare has paid")]
    assert run(c.medicare_assignment, claim) == []  # not assigned (commercial): no warning


def test_line_code_modifiers_units():
    claim = claim_for()
    em = claim.lines[0]
    assert run_line(ln.code_valid, claim, replace(em, code="9921")) == [
        ("error", "sessions[0].protocol", "9921 is not a CPT/HCPCS code (5 characters)")]
    assert run_line(ln.code_valid, claim, em) == []
    five = replace(em, modifiers=("25", "59", "XU", "GT", "95"))
    assert run_line(ln.at_most_four_modifiers, claim, five) == [
        ("error", "sessions[0].protocol", "99214-25-59-XU-GT-95: at most 4 modifiers per line")]
    assert run_line(ln.at_most_four_modifiers, claim, replace(em, modifiers=("25", "59", "XU", "GT"))) == []
    assert run_line(ln.modifiers_well_formed, claim, replace(em, modifiers=("2",))) == [
        ("error", "sessions[0].protocol", "99214: modifier '2' must be 2 letters or digits")]
    assert run_line(ln.modifiers_well_formed, claim, em) == []
    drug = claim.lines[-1]
    assert run_line(ln.not_both_jw_and_jz, claim, replace(drug, modifiers=("JW", "JZ"))) == [
        ("error", drug.source, "J2405: JW and JZ cannot be on the same line")]
    assert run_line(ln.not_both_jw_and_jz, claim, drug) == []
    assert run_line(ln.units_positive, claim, replace(em, units=0)) == [
        ("error", "sessions[0].protocol", "99214: units must be more than 0")]
    assert run_line(ln.units_positive, claim, em) == []


def test_line_pointers_and_charge():
    claim = claim_for()
    line = claim.lines[1]
    assert run_line(ln.one_to_four_pointers, claim, replace(line, pointers=())) == [
        ("error", "sessions[0].services[0]", "93000: a line points to 1 to 4 diagnoses")]
    assert run_line(ln.one_to_four_pointers, claim, line) == []
    assert run_line(ln.pointers_within_diagnoses, claim, replace(line, pointers=(3,))) == [
        ("error", "sessions[0].services[0]", "93000: diagnosis pointer 3 points past the 2 diagnoses")]
    assert run_line(ln.pointers_within_diagnoses, claim, replace(line, pointers=(2,))) == []
    assert run_line(ln.charge_known_and_not_negative, claim, replace(line, charge=None)) == [
        ("error", "sessions[0].services[0]", "93000 has no fee in clinic.yaml fees and no charge on the line")]
    assert run_line(ln.charge_known_and_not_negative, claim, replace(line, charge=Decimal("-1"))) == [
        ("error", "sessions[0].services[0]", "93000: a charge cannot be negative")]
    assert run_line(ln.charge_known_and_not_negative, claim, line) == []


def test_line_drug_data():
    claim = claim_for()
    ketamine = next(line for line in claim.lines if line.code == "J3490")
    assert run_line(ln.drug_has_ndc, claim, replace(ketamine, ndc=None)) == [
        ("error", ketamine.source, "J3490 (ketamine) needs an NDC: set ndc on the medication in clinic.yaml or on the session")]
    assert run_line(ln.drug_has_ndc, claim, ketamine) == []
    assert run_line(ln.drug_has_ndc_quantity, claim, replace(ketamine, ndc_quantity=None)) == [
        ("error", ketamine.source, "J3490 (ketamine): cannot compute the NDC quantity (set mg_per_ml, or mg_per_unit for UN)")]
    assert run_line(ln.drug_has_ndc_quantity, claim, replace(ketamine, ndc_quantity=Decimal(0))) == [
        ("error", ketamine.source, "J3490 (ketamine): NDC quantity must be more than 0")]
    assert run_line(ln.drug_has_ndc_quantity, claim, ketamine) == []
    assert run_line(ln.jw_jz_single_dose_only, claim, replace(ketamine, modifiers=("JW",))) == [
        ("error", ketamine.source, "J3490 (ketamine): JW/JZ are for single-dose containers only; this drug is multi-dose")]
    assert run_line(ln.jw_jz_single_dose_only, claim, ketamine) == []


def test_line_addon_and_iv_start():
    claim = claim_for()
    addon = next(line for line in claim.lines if line.code == "96366")
    alone = replace(claim, lines=tuple(line for line in claim.lines if line.code != "96365"))
    assert run_line(ln.addon_with_primary, alone, addon) == [
        ("error", "sessions[0].infusion", "add-on code 96366 is billed without its primary code (96365, 96367)")]
    assert run_line(ln.addon_with_primary, claim, addon) == []
    iv = replace(claim.lines[1], code="36000")
    assert run_line(ln.no_separate_iv_start, claim, iv) == [
        ("error", "sessions[0].services[0]", "36000 (IV start) is included in the administration codes; do not bill it")]
    visit = claim_for(protocol=None, infusion=None, medications=[], services=[{"code": "36000", "charge": 25}])
    assert run_line(ln.no_separate_iv_start, visit, visit.lines[0]) == []


def test_one_initial_administration_rule():
    two = claim_for(services=[{"code": "96374"}])
    assert [m for _, _, m in run(d.one_initial_administration, two)] == [
        "more than one initial administration code (96374, 96365); a second needs a documented second IV site and modifier 59 or XU"]
    assert run(d.one_initial_administration, claim_for()) == []


def test_em_rules():
    loaded = loaded_clinic(extra_fees=(("99211", 40.0),))
    low = claim_for(loaded=loaded, protocol=None, services=[{"code": "99211"}])
    assert run_line(d.em_99211_with_administration, low, low.lines[0]) == [
        ("warning", "sessions[0].services[0]", "99211 is not paid with drug administration codes on the same day (CMS)")]
    medicare = replace(low, filing_indicator="MB")
    assert run_line(d.em_99211_with_administration, medicare, low.lines[0])[0][0] == "error"
    claim = claim_for()
    assert run_line(d.em_99211_with_administration, claim, claim.lines[0]) == []
    bare = replace(claim.lines[0], modifiers=())
    assert run_line(d.em_needs_25_with_administration, claim, bare) == [
        ("error", "sessions[0].protocol", "99214 on a day with drug administration needs modifier 25")]
    assert run_line(d.em_needs_25_with_administration, claim, claim.lines[0]) == []
    visit = claim_for(protocol=None, infusion=None, medications=[], services=[{"code": "99214", "modifiers": ["25"]}])
    assert run(d.modifier_25_without_procedure, visit) == [
        ("warning", "sessions[0].services[0]", "99214-25: modifier 25 without a procedure that day")]
    assert run(d.modifier_25_without_procedure, claim) == []


def test_bundling_and_setting_rules():
    loaded = loaded_clinic(extra_fees=(("94760", 20.0),))
    during = claim_for(loaded=loaded, services=[{"code": "94760"}])
    ox = during.lines[1]
    assert run_line(d.bundled_with_infusion, during, ox) == [
        ("warning", "sessions[0].services[0]", "94760: pulse oximetry is bundled into the infusion by most payers")]
    alone = claim_for(loaded=loaded, protocol=None, infusion=None, medications=[], services=[{"code": "94760"}])
    assert run_line(d.bundled_with_infusion, alone, alone.lines[0]) == []
    claim = claim_for()
    assert run(d.administration_in_facility, replace(claim, place_of_service="22")) == [
        ("warning", "sessions[0].place_of_service",
         "place of service 22 is a facility: the hospital bills the administration codes, not the physician")]
    assert run(d.administration_in_facility, claim) == []
    push = replace(claim.lines[2], code="96376")
    assert run_line(d.facility_only_96376, claim, push) == [
        ("warning", "sessions[0].infusion", "96376 is defined for the facility setting; not for place of service 11")]
    assert run_line(d.facility_only_96376, replace(claim, place_of_service="22"), push) == []


# ---------------------------------------------------------------- issue 14


def test_no_drugs_by_telehealth():
    claim = claim_for()
    assert run(d.no_drugs_by_telehealth, replace(claim, place_of_service="02")) == [
        ("error", "sessions[0].place_of_service", "an infusion cannot be billed with telehealth place of service 02")]
    push = claim_for(place_of_service="10", infusion={"start": "09:00", "end": "09:10"})
    assert run(d.no_drugs_by_telehealth, push) == [
        ("error", "sessions[0].place_of_service",
         "drug administration and drug lines (96374, J3490, J2405) cannot be billed with telehealth place of service 10")]
    drug_only = claim_for(place_of_service="02", protocol=None, infusion=None, services=[{"code": "99214"}])
    assert run(d.no_drugs_by_telehealth, drug_only) == [
        ("error", "sessions[0].place_of_service",
         "drug administration and drug lines (J3490) cannot be billed with telehealth place of service 02")]
    visit = claim_for(place_of_service="10", protocol=None, infusion=None, medications=[], services=[{"code": "99214"}])
    assert run(d.no_drugs_by_telehealth, visit) == []
    assert run(d.no_drugs_by_telehealth, claim) == []  # POS 11


def test_infusion_within_six_hours():
    long = claim_for(infusion={"start": "09:05", "end": "23:45"})
    assert run(d.infusion_within_six_hours, long) == [
        ("warning", "sessions[0].infusion", "the infusion runs 14 h 40 min, over six hours: check its start and end times")]
    six = claim_for(infusion={"start": "08:00", "end": "14:00"})
    assert run(d.infusion_within_six_hours, six) == []
    just_over = claim_for(infusion={"start": "08:00", "end": "14:01"})
    assert [m for _, _, m in run(d.infusion_within_six_hours, just_over)] == [
        "the infusion runs 6 h 01 min, over six hours: check its start and end times"]


def test_one_initial_administration_per_date():
    morning = session(infusion={"start": "08:00", "end": "09:00"})
    afternoon = session(infusion={"start": "14:00", "end": "14:10"}, protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 4}])
    first, second = claims_for(morning, afternoon)
    assert run(d.one_initial_administration_per_date, second, claims=(first, second)) == [
        ("warning", "sessions[1].infusion",
         "96374 is a second initial administration code for the patient on 2026-11-02 (96365 on claim P0001-20261102): "
         "a separate encounter's initial code needs modifier XE or 59")]
    assert run(d.one_initial_administration_per_date, first, claims=(first, second)) == []
    assert run(d.one_initial_administration_per_date, second) == []  # alone: nothing to compare
    marked = session(protocol=None, infusion=None, medications=[{"drug": "ondansetron", "dose_mg": 4}],
                     services=[{"code": "96374", "modifiers": ["XE"]}])
    first, second = claims_for(morning, marked)
    assert run(d.one_initial_administration_per_date, second, claims=(first, second)) == []
    other_day = claims_for(morning, {**afternoon, "date": "2026-11-03"})
    assert run(d.one_initial_administration_per_date, other_day[1], claims=tuple(other_day)) == []


def test_em_25_is_decided_over_the_day_across_claims():
    infusion = session(protocol=None, services=[], time="08:00")
    visit = session(protocol=None, infusion=None, medications=[], services=[{"code": "99214"}], time="15:00")
    first, second = claims_for(infusion, visit)
    assert second.lines[0].modifiers == ("25",)
    day = (first, second)
    assert run(d.modifier_25_without_procedure, second, claims=day) == []
    assert run(d.modifier_25_without_procedure, second) == [
        ("warning", "sessions[1].services[0]", "99214-25: modifier 25 without a procedure that day")]
    bare = replace(second, lines=(replace(second.lines[0], modifiers=()),))
    assert run_line_day(d.em_needs_25_with_administration, bare, bare.lines[0], (first, bare)) == [
        ("error", "sessions[1].services[0]", "99214 on a day with drug administration needs modifier 25")]
    assert run_line_day(d.em_needs_25_with_administration, bare, bare.lines[0], (bare,)) == []


def test_modifier_25_never_a_fifth_modifier():
    full = claim_for(services=[{"code": "99214", "modifiers": ["GT", "95", "GA", "KX"]}], protocol=None)
    em = full.lines[0]
    assert em.modifiers == ("GT", "95", "GA", "KX")  # the engine does not add a fifth
    assert run_line(d.em_needs_25_with_administration, full, em) == [
        ("error", "sessions[0].services[0]", "99214-GT-95-GA-KX: needs modifier 25 (drug administration that day) "
                                             "but already has 4 modifiers, the most a line carries: remove one")]
    three = claim_for(services=[{"code": "99214", "modifiers": ["GT", "95", "GA"]}], protocol=None)
    assert three.lines[0].modifiers == ("25", "GT", "95", "GA")
    assert run_line(d.em_needs_25_with_administration, three, three.lines[0]) == []


def test_ndc_only_on_drug_codes():
    claim = claim_for(protocol=None, services=[{"code": "99214", "ndc": "0409-4888-02"}])
    assert run_line(ln.ndc_only_on_drug_codes, claim, claim.lines[0]) == [
        ("error", "sessions[0].services[0]", "99214: an NDC belongs on a HCPCS drug or supply code, not on this line")]
    saline = claim_for(protocol=None, services=[{"code": "J7050", "ndc": "0409-4888-02", "charge": 25}])
    assert run_line(ln.ndc_only_on_drug_codes, saline, saline.lines[0]) == []


def test_supply_code_as_a_service_without_ndc_is_a_warning():
    saline = claim_for(protocol=None, services=[{"code": "J7050", "units": 1, "charge": 25}])
    line = saline.lines[0]
    assert run_line(ln.drug_has_ndc, saline, line) == [
        ("warning", "sessions[0].services[0]", "J7050 has no NDC: payers that require one on drug and supply codes "
                                               "deny the line (give ndc on the service, with ndc_quantity and ndc_unit)")]
    assert run_line(ln.drug_has_ndc_quantity, saline, line) == []
    given = claim_for(protocol=None, services=[{"code": "J7050", "charge": 25, "ndc": "0409-4888-02"}])
    assert run_line(ln.drug_has_ndc, given, given.lines[0]) == []
    assert run_line(ln.drug_has_ndc_quantity, given, given.lines[0]) == []


def test_waste_billed():
    loaded = loaded_clinic(extra_fees=(("J7050", 25.0),),
                           extra_meds=(("drug-in-bag", (("hcpcs", "J7050"), ("name", "Test drug"), ("single_dose", True),
                                                        ("ndc", "0409-4888-02"))),))
    claim = claim_for(loaded=loaded, protocol=None, medications=[{"drug": "drug-in-bag", "volume_ml": 200, "wasted_mg": 5}])
    line = next(line for line in claim.lines if line.code == "J7050")
    assert line.modifiers == () and line.unbilled_waste_mg == Decimal(5)
    ctx = ScrubContext(claim, loaded.book, file="p.yaml")
    assert [(p.severity, p.path, p.message) for p in ln.waste_billed(ctx, line)] == [
        ("error", "sessions[0].medications[0].wasted_mg",
         "J7050 (drug-in-bag): 5 mg discarded cannot be turned into JW units (set mg_per_ml on the medication); "
         "JZ would attest that nothing was discarded")]
    fine = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 3, "wasted_mg": 1}])
    assert all(list(ln.waste_billed(ScrubContext(fine, loaded_clinic().book), line)) == [] for line in fine.lines)


def test_dose_within_max():
    high = claim_for(medications=[{"drug": "ketamine", "dose_mg": 700}])
    ketamine = next(line for line in high.lines if line.code == "J3490")
    assert run_line(ln.dose_within_max, high, ketamine) == [
        ("warning", "sessions[0].medications[0]",
         "J3490 (ketamine): 700 mg is above the medication's max_dose_mg of 500 mg: check the dose")]
    at_max = claim_for(medications=[{"drug": "ketamine", "dose_mg": 500}])
    assert run_line(ln.dose_within_max, at_max, next(line for line in at_max.lines if line.code == "J3490")) == []
    loaded = loaded_clinic(extra_meds=(("ketamine", (("max_dose_mg", 60),)),))
    clinic_limit = claim_for(loaded=loaded)
    line = next(line for line in clinic_limit.lines if line.code == "J3490")
    ctx = ScrubContext(clinic_limit, loaded.book, file="p.yaml")
    assert [p.message for p in ln.dose_within_max(ctx, line)] == [
        "J3490 (ketamine): 70 mg is above the medication's max_dose_mg of 60 mg: check the dose"]


def run_line_day(rule, claim, line, claims):
    ctx = ScrubContext(claim, loaded_clinic().book, file="p.yaml", claims=claims)
    return [(p.severity, p.path, p.message) for p in rule(ctx, line)]


def test_starter_placeholders_named_once_and_only_for_the_starter_values():
    from helpers import example_clinic

    from superbill.engine.scrub import clinic_rules
    from superbill.inputs.models import Clinic

    starter = example_clinic()
    assert (starter["practice"]["npi"], starter["practice"]["tax_id"].replace("-", ""), starter["providers"][0]["npi"]) == (
        clinic_rules.STARTER_PRACTICE_NPI, clinic_rules.STARTER_TAX_ID, *clinic_rules.STARTER_PROVIDER_NPIS)
    [problem] = clinic_rules.starter_placeholders(Clinic.model_validate(starter), "clinic.yaml")
    assert (problem.file, problem.path, problem.severity, problem.message) == (
        "clinic.yaml", "practice", "warning",
        "the starter clinic's placeholder identifiers are still in use (practice.npi 1234567893, practice.tax_id 12-3456789, "
        "providers[0].npi 1003000126): put the practice's own before sending claims")
    starter["practice"]["npi"] = "1558598797"
    starter["practice"]["tax_id"] = "98-7654321"
    [problem] = clinic_rules.starter_placeholders(Clinic.model_validate(starter), "clinic.yaml")
    assert "(providers[0].npi 1003000126)" in problem.message
    starter["providers"][0]["npi"] = "1987654328"
    assert clinic_rules.starter_placeholders(Clinic.model_validate(starter), "clinic.yaml") == []


def test_no_message_prints_none():
    odd = [
        claim_for(protocol=None, services=[{"code": "J7050", "units": 1}]),  # no fee, no NDC
        claim_for(protocol=None, services=[{"code": "J9999"}, {"code": "J7050", "ndc": "0338-0049-02"}]),
        claim_for(place_of_service="10", protocol=None, infusion=None, services=[{"code": "J7050"}]),
        claim_for(medications=[{"drug": "ketorolac", "dose_mg": 30}]),  # no NDC, no strength
    ]
    for claim in odd:
        ctx = ScrubContext(claim, loaded_clinic().book, file="p.yaml")
        messages = [p.message for rule in scrubber.RULES for p in rule(ctx)]
        assert messages and all("None" not in message for message in messages), messages
