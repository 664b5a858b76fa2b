"""Identifier checks: each validator's good values, bad values and exact messages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from superbill.ids import InvalidIdentifier, ein, hcpcs, icd10cm, modifier, ndc, npi, pos, state, taxonomy, zipcode


def rejects(module, value, message):
    with pytest.raises(InvalidIdentifier) as exc:
        module.validate(value)
    assert str(exc.value) == message
    assert module.is_valid(value) is False


def test_invalid_identifier_is_a_value_error():
    assert issubclass(InvalidIdentifier, ValueError)


# --- NPI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1234567893", "1003000126", "1558598797", "2000000002"])
def test_npi_valid(value):
    assert npi.validate(value) == value
    assert npi.is_valid(value) is True
    assert npi.format(value) == value


@pytest.mark.parametrize("value", [" 1234567893 ", "123-456-7893", "123 456 7893"])
def test_npi_separators_and_whitespace_are_stripped(value):
    assert npi.compact(value) == "1234567893"
    assert npi.validate(value) == "1234567893"


def test_npi_yaml_integer_is_accepted():
    assert npi.validate(1234567893) == "1234567893"


@pytest.mark.parametrize("value", ["123456789", "12345678933", "", "12345A7893", "1234567893.0"])
def test_npi_wrong_length_or_characters(value):
    rejects(npi, value, "NPI must be 10 digits")


@pytest.mark.parametrize("value", ["1234567890", "1234567894", "1558598790", "1003000127"])
def test_npi_bad_check_digit(value):
    rejects(npi, value, "NPI check digit is wrong (Luhn with the 80840 prefix)")


@pytest.mark.parametrize("value", ["3234567890", "0123456789", "9999999999"])
def test_npi_must_start_with_1_or_2(value):
    rejects(npi, value, "NPI must start with 1 or 2")


def test_npi_check_digit_matches_the_cms_example():
    # CMS: 123456789 -> check digit 3 (same as adding 24 to the Luhn sum of the 9 digits)
    assert npi.calc_check_digit("123456789") == "3"


def _reference_npi_check(first_nine: str) -> int:
    # docs/reference.md "Identifiers": the constant 24 stands for the "80840" prefix
    total = 24
    for i, ch in enumerate(reversed(first_nine)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


@given(st.from_regex(r"[12][0-9]{8}", fullmatch=True))
def test_npi_agrees_with_the_constant_24_rule(first_nine):
    good = first_nine + str(_reference_npi_check(first_nine))
    assert npi.is_valid(good)
    bad = first_nine + str((_reference_npi_check(first_nine) + 1) % 10)
    assert not npi.is_valid(bad)


def test_npi_rejects_non_text():
    rejects(npi, None, "NPI must be text")
    rejects(npi, True, "NPI must be text")


# --- EIN -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["12-3456789", "123456789", " 12-3456789 ", "12 3456789"])
def test_ein_valid(value):
    assert ein.validate(value) == "123456789"
    assert ein.format(value) == "12-3456789"


@pytest.mark.parametrize("value", ["12-345678", "1234567890", "AB-3456789", ""])
def test_ein_wrong_length(value):
    rejects(ein, value, "EIN must be 9 digits")


def test_ein_unassigned_prefix():
    rejects(ein, "07-1234567", "EIN prefix 07 is not one the IRS assigns")


# --- NDC -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, eleven",
    [
        ("0409-2051-05", "00409205105"),  # 4-4-2
        ("65219-186-05", "65219018605"),  # 5-3-2
        ("71872-7296-1", "71872729601"),  # 5-4-1
        ("00409-2051-05", "00409205105"),  # 5-4-2
        ("00409205105", "00409205105"),  # 11 digits
        (" 0409-2051-05 ", "00409205105"),
        ("0409 - 2051 - 05", "00409205105"),
        ("0409 2051 05", "00409205105"),
    ],
)
def test_ndc_normalizes_to_5_4_2(value, eleven):
    assert ndc.compact(value) == eleven
    assert ndc.validate(value) == eleven
    assert ndc.format(value) == f"{eleven[:5]}-{eleven[5:9]}-{eleven[9:]}"


def test_ndc_format_example():
    assert ndc.format("0409-2051-05") == "00409-2051-05"


def test_ndc_ten_digits_without_hyphens_is_ambiguous():
    rejects(ndc, "0409205105", "a 10-digit NDC without hyphens is ambiguous: write it with hyphens "
            "as printed on the package (4-4-2, 5-3-2 or 5-4-1)")


@pytest.mark.parametrize("value", ["040920510", "004092051055", "1"])
def test_ndc_wrong_length(value):
    rejects(ndc, value, "NDC must be 11 digits, or 10 digits with hyphens (4-4-2, 5-3-2 or 5-4-1)")


@pytest.mark.parametrize("value", ["0409-2051-5", "409-2051-05", "12345-678-9012", "0409-205105", "0409-2051-05-1"])
def test_ndc_bad_hyphen_layout(value):
    rejects(ndc, value, "NDC hyphens must split it 4-4-2, 5-3-2, 5-4-1 or 5-4-2")


@pytest.mark.parametrize("value", ["04O9-2051-05", "N400409205105", ""])
def test_ndc_non_digits(value):
    rejects(ndc, value, "NDC must contain only digits and hyphens")


# --- ICD-10-CM -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, dotted",
    [
        ("G90.511", "G90.511"),
        ("G90511", "G90.511"),  # the dot is optional
        ("g90.511", "G90.511"),
        (" f33.1 ", "F33.1"),
        ("M79.7", "M79.7"),
        ("R52", "R52"),  # a 3-character billable category
        ("F32.A", "F32.A"),
        ("S52.501A", "S52.501A"),  # 7th-character extension
    ],
)
def test_icd10cm_valid(value, dotted):
    assert icd10cm.validate(value) == dotted
    assert icd10cm.format(value) == dotted
    assert icd10cm.compact(value) == dotted.replace(".", "")


def test_icd10cm_compact_and_title():
    assert icd10cm.compact("g90.511") == "G90511"
    assert icd10cm.title("G90511") == "Complex regional pain syndrome I of right upper limb"
    assert icd10cm.title("G90.51") == "Complex regional pain syndrome I of upper limb"  # headers too


def test_icd10cm_header_is_not_billable():
    rejects(icd10cm, "G90.51",
            "G90.51 is not billable: it has subcodes; use one of G90.511, G90.512, G90.513, G90.519")
    rejects(icd10cm, "g9051",
            "G90.51 is not billable: it has subcodes; use one of G90.511, G90.512, G90.513, G90.519")


def test_icd10cm_header_with_many_children_lists_six_then_ellipsis():
    rejects(icd10cm, "F33",
            "F33 is not billable: it has subcodes; use one of F33.0, F33.1, F33.2, F33.3, F33.4, F33.8, …")


def test_icd10cm_myalgia_was_expanded():
    rejects(icd10cm, "M79.1",
            "M79.1 is not billable: it has subcodes; use one of M79.10, M79.11, M79.12, M79.18")


@pytest.mark.parametrize("value, shown", [("Z99.999", "Z99.999"), ("M79.70", "M79.70"), ("U99", "U99")])
def test_icd10cm_unknown(value, shown):
    rejects(icd10cm, value, f"{shown} is not an ICD-10-CM code")


@pytest.mark.parametrize("value", ["338.29", "724.2"])
def test_icd10cm_icd9_code(value):
    rejects(icd10cm, value, f"{value} looks like an ICD-9 code; claims need ICD-10-CM codes")


@pytest.mark.parametrize("value", ["Jane Doe", "G9.0511", "G90.51111", "", "G90..511"])
def test_icd10cm_malformed_does_not_echo_the_input(value):
    rejects(icd10cm, value, "not an ICD-10-CM code: expected a letter, a digit, a letter or digit, "
            "then up to 4 more after the dot (e.g. G90.511)")


def test_icd10cm_unknown_title_raises():
    with pytest.raises(InvalidIdentifier, match="^Z99.999 is not an ICD-10-CM code$"):
        icd10cm.title("Z99.999")


# --- procedure codes (CPT / HCPCS) -----------------------------------------------------------------

LENGTH = ("procedure code must be 5 characters: 5 digits (CPT), 4 digits then F, T or U (CPT category "
          "II/III, PLA), or a letter A-V then 4 digits (HCPCS)")


@pytest.mark.parametrize(
    "value, code, kind",
    [
        ("99214", "99214", "cpt"),
        ("96365", "96365", "cpt"),
        ("3288F", "3288F", "cpt-ii"),
        ("0075T", "0075T", "cpt-iii"),
        ("0001U", "0001U", "pla"),
        ("J3490", "J3490", "hcpcs"),
        ("j2405", "J2405", "hcpcs"),
        (" G2082 ", "G2082", "hcpcs"),
        ("V5010", "V5010", "hcpcs"),
    ],
)
def test_procedure_code_valid(value, code, kind):
    assert hcpcs.validate(value) == code
    assert hcpcs.kind(value) == kind
    assert hcpcs.is_cpt(value) is (kind != "hcpcs")


@pytest.mark.parametrize("value", ["9921", "992144", "", "J34900"])
def test_procedure_code_wrong_length(value):
    rejects(hcpcs, value, LENGTH)


@pytest.mark.parametrize("value", ["W1234", "9921A", "J349A", "0001X"])
def test_procedure_code_bad_format(value):
    rejects(hcpcs, value, f"procedure code {value} is not a CPT or HCPCS code: expected " + LENGTH.split(": ", 1)[1])


# --- modifiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, code", [("25", "25"), ("jz", "JZ"), (" XU ", "XU"), ("95", "95")])
def test_modifier_valid(value, code):
    assert modifier.validate(value) == code


@pytest.mark.parametrize("value", ["2", "255", "", "J-", "J Z Z"])
def test_modifier_must_be_two_characters(value):
    rejects(modifier, value, "modifier must be 2 letters or digits")


def test_modifier_labels():
    assert modifier.label("jz") == "No drug discarded from a single-dose container"
    assert modifier.label("25").startswith("Significant, separately identifiable E/M")
    assert modifier.label("Q9") is None
    for code in ["25", "59", "XE", "XS", "XP", "XU", "JW", "JZ", "95", "GT", "GA", "GZ", "GY", "KX",
                 "76", "77", "91", "LT", "RT"]:
        assert modifier.label(code), code
    assert all(modifier.is_valid(code) for code in modifier.labels())


# --- taxonomy --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["207LP2900X", "207lp2900x", " 207L00000X ", "2084P0800X"])
def test_taxonomy_valid(value):
    assert taxonomy.validate(value) == value.strip().upper()


def test_taxonomy_without_x():
    rejects(taxonomy, "207LP29001", "taxonomy code must end in X")


@pytest.mark.parametrize("value", ["207LP2900", "207LP2900XX", ""])
def test_taxonomy_wrong_length(value):
    rejects(taxonomy, value, "taxonomy code must be 10 characters")


def test_taxonomy_bad_shape():
    rejects(taxonomy, "A07LP2900X", "taxonomy code must be 3 digits, then 6 letters or digits, then X")


# --- place of service ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code, name",
    [
        ("11", "11", "Office"),
        ("02", "02", "Telehealth Provided Other than in Patient's Home"),
        ("2", "02", "Telehealth Provided Other than in Patient's Home"),  # YAML read 02 as 2
        (10, "10", "Telehealth Provided in Patient's Home"),
        ("99", "99", "Other Place of Service"),
        ("19", "19", "Off Campus-Outpatient Hospital"),
        ("22", "22", "On Campus-Outpatient Hospital"),
    ],
)
def test_pos_valid(value, code, name):
    assert pos.validate(value) == code
    assert pos.name(value) == name


@pytest.mark.parametrize("value", ["00", "30", "59", "98"])
def test_pos_unassigned(value):
    rejects(pos, value, f"place of service {value} is not in the CMS code set")


@pytest.mark.parametrize("value", ["111", "1A", ""])
def test_pos_shape(value):
    rejects(pos, value, "place of service must be 2 digits")


def test_pos_sets():
    assert pos.TELEHEALTH == {"02", "10"}
    assert {"19", "21", "22", "23"} <= pos.FACILITY
    assert "11" not in pos.FACILITY and "12" not in pos.FACILITY
    assert not pos.TELEHEALTH & pos.FACILITY
    assert (pos.TELEHEALTH | pos.FACILITY) <= set(pos.codes())


# --- state -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["IL", "il", " ny ", "DC", "PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"])
def test_state_valid(value):
    assert state.validate(value) == value.strip().upper()


def test_state_unknown():
    rejects(state, "XX", "XX is not a USPS state or territory code")


@pytest.mark.parametrize("value", ["I", "ILL", "I1", ""])
def test_state_shape(value):
    rejects(state, value, "state must be a two-letter USPS code")


def test_state_count():
    assert len(state.CODES) == 50 + 1 + 5 + 3 + 3  # states, DC, territories, freely associated, military
    assert state.name("dc") == "District of Columbia"


# --- ZIP -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code, shown",
    [
        ("62701", "62701", "62701"),
        ("62701-1234", "627011234", "62701-1234"),
        ("627011234", "627011234", "62701-1234"),
        (" 62701 ", "62701", "62701"),
        ("02139", "02139", "02139"),
    ],
)
def test_zip_valid(value, code, shown):
    assert zipcode.validate(value) == code
    assert zipcode.format(value) == shown


@pytest.mark.parametrize("value", ["6270", "627012", "6270112345", "62701-123", "ABCDE", ""])
def test_zip_wrong_length(value):
    rejects(zipcode, value, "ZIP code must be 5 or 9 digits")


def test_zip_misplaced_hyphen():
    rejects(zipcode, "6270-11234", "ZIP+4 must be written 12345-6789")


# --- every module has the same shape ---------------------------------------------------------------


@pytest.mark.parametrize("module", [ein, hcpcs, icd10cm, modifier, ndc, npi, pos, state, taxonomy, zipcode])
def test_module_shape(module):
    for name in ("compact", "validate", "is_valid", "format"):
        assert callable(getattr(module, name)), name

