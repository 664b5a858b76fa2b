"""The input files as pydantic models: the clinic profile and a patient file.

Field names and shapes follow docs/reference.md "Input files" exactly; unknown keys are rejected everywhere so a typo
never silently drops data. The value types (identifiers, money, doses) are in `inputs.fields`; the
prior-authorization request is in `inputs.request_models`, the Good Faith Estimate in `inputs.estimate_models`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from superbill.inputs.fields import (
    EIN,
    NDC,
    NPI,
    POS,
    Address,
    ClockTime,
    Concentration,
    Diagnosis,
    Key,
    Milligrams,
    Modifier,
    Money,
    Name,
    Phone,
    Pointer,
    PositiveMoney,
    ProcedureCode,
    Sex,
    Strict,
    Taxonomy,
    Text,
    TextOf,
    Units,
    WasteMilligrams,
    _as_text,
)

# ---------------------------------------------------------------- clinic profile


class Practice(Strict):
    name: Annotated[str, TextOf(60)]
    npi: NPI
    tax_id: EIN
    taxonomy: Taxonomy
    address: Address
    phone: Phone
    fax: Phone | None = None
    email: Annotated[str, TextOf(80)] | None = None
    logo: Annotated[str, TextOf(255)] | None = None

    @field_validator("address")
    @classmethod
    def _physical_address(cls, address: Address) -> Address:
        street = re.sub(r"[^A-Z0-9 ]", "", address.street.upper())
        if re.search(r"\b(P ?O ?BOX|POST OFFICE BOX|LOCKBOX|PMB)\b", street):
            raise ValueError("the billing address must be a physical street address, not a PO Box or lockbox")
        return address


class Provider(Strict):
    id: Key
    first_name: Name
    last_name: Name
    middle_name: Name | None = None
    credentials: Annotated[str, TextOf(30)]
    npi: NPI
    taxonomy: Taxonomy
    specialty: Text | None = None
    signature: Annotated[str, TextOf(255)] | None = None  # image path, relative to clinic.yaml

    @property
    def display_name(self) -> str:
        middle = f" {self.middle_name}" if self.middle_name else ""
        return f"{self.first_name}{middle} {self.last_name}, {self.credentials}"


class MedicationRow(Strict):
    """A medication the clinic gives: how it is billed and how its NDC quantity is computed.

    A clinic row is merged over the shipped row of the same key, so every field is optional
    here; the merged row is checked by `codebook.complete_medication`.
    """

    hcpcs: ProcedureCode | None = None
    name: Annotated[str, TextOf(60)] | None = None
    unit_mg: Concentration | None = None
    unit_ml: Concentration | None = None  # fluids billed per volume (J7030 1000 mL, J7050 250 mL)
    ndc: NDC | None = None
    mg_per_ml: Concentration | None = None
    mg_per_unit: Concentration | None = None  # for NDC unit UN (tablets, devices)
    ndc_unit: Literal["ML", "UN", "ME", "GR"] | None = None
    single_dose: bool | None = None
    fee: Money | None = None  # per billing unit; wins over `fees` (J3490 carries many drugs)
    max_dose_mg: Milligrams | None = None  # a session dose above it is a warning (a typo'd 700 for 70)


class ServiceInput(Strict):
    code: ProcedureCode
    modifiers: Annotated[list[Modifier], Field(max_length=4)] = []
    units: Units | None = None
    charge: Money | None = None
    pointers: Annotated[list[Pointer], Field(min_length=1, max_length=4)] | None = None
    description: Annotated[str, TextOf(80)] | None = None
    # A HCPCS drug or supply code billed as a service (J7050 as the carrier bag) may carry its NDC.
    ndc: NDC | None = None
    ndc_quantity: Annotated[Decimal, Field(gt=0, le=Decimal("99999"), decimal_places=3, allow_inf_nan=False)] | None = None
    ndc_unit: Literal["ML", "UN", "ME", "GR"] | None = None  # default UN when ndc is given

    @model_validator(mode="after")
    def _ndc_given_with_its_quantity(self):
        if self.ndc is None and (self.ndc_quantity is not None or self.ndc_unit is not None):
            raise ValueError("ndc_quantity and ndc_unit describe an NDC: give ndc too")
        return self

    @field_validator("modifiers")
    @classmethod
    def _distinct_modifiers(cls, modifiers: list[str]) -> list[str]:
        if len(set(modifiers)) != len(modifiers):
            raise ValueError("a modifier is repeated")
        if "JW" in modifiers and "JZ" in modifiers:
            raise ValueError("JW and JZ cannot be on the same line")
        return modifiers

    @field_validator("pointers")
    @classmethod
    def _distinct_pointers(cls, pointers):
        if pointers is not None and len(set(pointers)) != len(pointers):
            raise ValueError("a diagnosis pointer is repeated")
        return pointers


class MedicationInput(Strict):
    drug: Key
    dose_mg: Milligrams | None = None
    volume_ml: Concentration | None = None  # fluids: J7030/J7040/J7050
    ndc: NDC | None = None
    wasted_mg: WasteMilligrams | None = None
    route: Literal["IV", "IM", "SC", "PO", "IN"] | None = None
    charge: Money | None = None
    pointers: Annotated[list[Pointer], Field(min_length=1, max_length=4)] | None = None

    @model_validator(mode="after")
    def _amount_given(self):
        if self.dose_mg is None and self.volume_ml is None:
            raise ValueError("give dose_mg (or volume_ml for fluids)")
        return self


class Protocol(Strict):
    services: list[ServiceInput] = []
    medications: list[MedicationInput] = []


class Contact(Strict):
    name: Name
    phone: Phone
    email: Annotated[str, TextOf(80)] | None = None


X12Id = Annotated[str, BeforeValidator(_as_text), StringConstraints(pattern=r"^[A-Za-z0-9 ]{2,15}$")]


class X12Settings(Strict):
    submitter_id: X12Id
    submitter_name: Annotated[str, TextOf(60)]
    receiver_id: X12Id
    receiver_name: Annotated[str, TextOf(60)]
    contact: Contact
    usage: Literal["T", "P"] = "T"


_LENGTH = re.compile(r"(-?(?:\d+(?:\.\d*)?|\.\d+))\s*(in|mm|pt)")
_POINTS_PER = {"in": 72.0, "mm": 72.0 / 25.4, "pt": 1.0}


def _length_points(value) -> float:
    """A printer offset such as "0.04in", "-1mm" or "2pt", in points; a bare 0 needs no unit."""
    if isinstance(value, bool):
        raise ValueError("give a length with its unit: in, mm or pt (e.g. 0.04in)")
    if isinstance(value, int | float) and value == 0:
        return 0.0
    match = _LENGTH.fullmatch(str(value).strip().lower()) if isinstance(value, str) else None
    if not match:
        raise ValueError("give a length with its unit: in, mm or pt (e.g. 0.04in)")
    points = float(match.group(1)) * _POINTS_PER[match.group(2)]
    if abs(points) > 72.0:
        raise ValueError("an offset of more than 1 inch is not a printer's drift: check the value and its unit")
    return points


Length = Annotated[float, BeforeValidator(_length_points)]


class Cms1500Offset(Strict):
    left: Length = 0.0  # points; positive moves the print to the right
    top: Length = 0.0  # points; positive moves the print down


class Cms1500Settings(Strict):
    """`cms1500:` in clinic.yaml: the printer's drift on pre-printed forms; how multi-page claims total."""

    offset: Cms1500Offset = Cms1500Offset()
    # per-page: every page totals its own lines (item 28); continued: "CONTINUED" in item 28 of every
    # page but the last, which carries the claim's total (some payers, e.g. HMSA and TMHP, want this)
    multipage: Literal["per-page", "continued"] = "per-page"


class ProcedureRow(Strict):
    label: Annotated[str, TextOf(80)]


class Clinic(Strict):
    practice: Practice
    providers: Annotated[list[Provider], Field(min_length=1)]
    place_of_service: POS = "11"
    fees: dict[ProcedureCode, Money] = {}
    medications: dict[Key, MedicationRow] = {}
    procedures: dict[ProcedureCode, ProcedureRow] = {}  # labels for codes the shipped table lacks
    protocols: dict[Key, Protocol] = {}
    x12: X12Settings | None = None
    templates: Annotated[str, TextOf(255)] | None = None
    cms1500: Cms1500Settings = Cms1500Settings()
    # How the provider signs the superbill's attestation and the letter: "image" (the provider's
    # `signature` image; a line to sign for a provider without one), "on-file" (the words "Signature
    # on file" on the line), "blank" (a line to sign by hand, even when there is an image).
    signature_style: Literal["image", "on-file", "blank"] = "image"

    @field_validator("providers")
    @classmethod
    def _unique_provider_ids(cls, providers: list[Provider]) -> list[Provider]:
        seen = set()
        for provider in providers:
            if provider.id in seen:
                raise ValueError(f"provider id {provider.id!r} is used twice")
            seen.add(provider.id)
        return providers

    def provider(self, provider_id: str) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)


# ---------------------------------------------------------------- patient file


def _clock(value: str) -> str:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ValueError("time must be HH:MM (24 h)")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


class Patient(Strict):
    id: Annotated[str, BeforeValidator(_as_text),
                  StringConstraints(strip_whitespace=True, min_length=1, max_length=38, pattern=r"^[^\x00-\x1f\x7f]+$")]
    first_name: Name
    last_name: Name
    middle_name: Name | None = None
    suffix: Annotated[str, TextOf(10)] | None = None
    dob: dt.date
    sex: Sex
    address: Address
    phone: Phone | None = None


class Subscriber(Strict):
    relationship: Literal["spouse", "child", "other"]
    first_name: Name
    last_name: Name
    middle_name: Name | None = None
    dob: dt.date
    sex: Sex
    address: Address


FILING_INDICATORS = {
    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM",
    "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
}


class Insurance(Strict):
    payer_name: Annotated[str, TextOf(60)]
    payer_id: Annotated[str, BeforeValidator(_as_text), StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9]{2,80}$")]
    member_id: Annotated[str, BeforeValidator(_as_text), StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{2,80}$")]
    group_number: Annotated[str, BeforeValidator(_as_text),
                            StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    group_name: Annotated[str, TextOf(60)] | None = None
    filing_indicator: str = "CI"
    payer_address: Address | None = None  # the claims address: 837P 2010BB N3/N4, the CMS-1500 carrier block
    subscriber: Subscriber | None = None

    @field_validator("filing_indicator")
    @classmethod
    def _known_indicator(cls, value: str) -> str:
        value = value.upper()
        if value not in FILING_INDICATORS:
            raise ValueError("unknown claim filing indicator (CI commercial, BL, HM, MB, MC, ...)")
        return value


class Infusion(Strict):
    start: ClockTime
    end: ClockTime

    _check_clock = field_validator("start", "end")(_clock)

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.minutes <= 0:
            raise ValueError("the infusion ends before it starts" if self.minutes < 0 else "the infusion ends when it starts")
        return self

    @property
    def minutes(self) -> int:
        sh, sm = map(int, self.start.split(":"))
        eh, em = map(int, self.end.split(":"))
        return (eh * 60 + em) - (sh * 60 + sm)


class Payment(Strict):
    date: dt.date
    amount: PositiveMoney
    method: Annotated[str, TextOf(30)] | None = None
    reference: Annotated[str, TextOf(40)] | None = None


class Adjustment(Strict):
    """What the clinic wrote off on a session (a package price, a courtesy discount): docs/reference.md "Money on a session"."""

    amount: PositiveMoney
    reason: Annotated[str, TextOf(80)]


class Session(Strict):
    date: dt.date
    provider: Key
    protocol: Key | None = None
    diagnoses: Annotated[list[Diagnosis], Field(min_length=1, max_length=12)]
    infusion: Infusion | None = None
    medications: list[MedicationInput] = []
    services: list[ServiceInput] = []
    payments: list[Payment] = []
    adjustments: list[Adjustment] = []
    place_of_service: POS | None = None
    prior_authorization: Annotated[str, BeforeValidator(_as_text),
                                   StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,50}$")] | None = None
    allow_sedation: bool = False  # moderate sedation on an analgesic infusion needs an explicit opt-in
    time: ClockTime | None = None  # HH:MM the visit began: orders same-day sessions without an infusion

    @field_validator("time")
    @classmethod
    def _visit_time(cls, value: str | None) -> str | None:
        return None if value is None else _clock(value)

    @field_validator("diagnoses")
    @classmethod
    def _distinct_diagnoses(cls, diagnoses: list[str]) -> list[str]:
        seen = set()
        for code in diagnoses:
            if code in seen:
                raise ValueError(f"{code} is listed twice")
            seen.add(code)
        return diagnoses


class PatientFile(Strict):
    patient: Patient
    insurance: Insurance
    sessions: list[Session] = []
