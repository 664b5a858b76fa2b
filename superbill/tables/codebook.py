"""The code tables: shipped data files in `codes/`, merged with the clinic's own rows and fees.

Pure data; loaded once per process (the files are small). A `CodeBook` is what the billing rules
consult, so tests can build one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import yaml

from superbill.paths import CODES_DIR

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Procedure:
    code: str
    label: str
    kind: str = "other"
    addon_of: tuple[str, ...] = ()
    time_rule: str = ""

    @property
    def is_addon(self) -> bool:
        return bool(self.addon_of)


@dataclass(frozen=True)
class DrugCode:
    code: str
    label: str
    unit_mg: Decimal | None = None
    unit_ml: Decimal | None = None
    unclassified: bool = False
    verify: bool = False


@dataclass(frozen=True)
class Medication:
    """A complete medication row after the clinic's row is merged over the shipped one."""

    key: str
    hcpcs: str
    name: str
    unit_mg: Decimal | None
    unit_ml: Decimal | None
    ndc: str | None
    mg_per_ml: Decimal | None
    mg_per_unit: Decimal | None
    ndc_unit: str
    single_dose: bool
    fee: Decimal | None
    unclassified: bool
    max_dose_mg: Decimal | None = None  # a dose above it is a plausibility warning


ADMINISTRATION_KINDS = {
    "infusion_initial", "infusion_addon", "push_initial", "push_addon",
    "hydration_initial", "hydration_addon", "injection",
}
INITIAL_KINDS = {"infusion_initial", "push_initial", "hydration_initial"}


@dataclass
class CodeBook:
    procedures: dict[str, Procedure]
    drugs: dict[str, DrugCode]
    medications: dict[str, Medication]
    fees: dict[str, Decimal] = field(default_factory=dict)

    def label(self, code: str) -> str:
        if code in self.procedures:
            return self.procedures[code].label
        if code in self.drugs:
            return self.drugs[code].label
        return ""

    def kind(self, code: str) -> str:
        procedure = self.procedures.get(code)
        if procedure:
            return procedure.kind
        return "drug" if code in self.drugs or code[:1] == "J" else "other"


def _read(name: str) -> dict:
    with open(CODES_DIR / name, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@lru_cache(maxsize=1)
def shipped_tables() -> tuple[dict, dict, dict, dict]:
    """(procedures, drugs, medication rows, table metadata) from `codes/`."""
    procedures_doc = _read("procedures.yaml")
    drugs_doc = _read("hcpcs-drugs.yaml")
    meds_doc = _read("medications.yaml")
    procedures = {
        code: Procedure(code, row["label"], row.get("kind", "other"), tuple(row.get("addon_of", ())),
                        row.get("time_rule", ""))
        for code, row in procedures_doc["codes"].items()
    }
    drugs = {
        code: DrugCode(code, row["label"], _dec(row.get("unit_mg")), _dec(row.get("unit_ml")),
                       bool(row.get("unclassified")), bool(row.get("verify")))
        for code, row in drugs_doc["codes"].items()
    }
    meta = {
        name: {"source": doc.get("source", "").strip(), "edition": doc.get("edition", "")}
        for name, doc in (("procedures.yaml", procedures_doc), ("hcpcs-drugs.yaml", drugs_doc),
                          ("medications.yaml", meds_doc))
    }
    return procedures, drugs, meds_doc["medications"], meta


class IncompleteMedication(ValueError):
    pass


def complete_medication(key: str, row: dict, drugs: dict[str, DrugCode]) -> Medication:
    """Turn a merged row into a Medication, or say which field is missing."""
    hcpcs = row.get("hcpcs")
    if not hcpcs:
        raise IncompleteMedication(f"medication {key!r} has no hcpcs code")
    drug = drugs.get(hcpcs)
    unclassified = drug.unclassified if drug else False
    unit_mg = _dec(row.get("unit_mg")) if row.get("unit_mg") is not None else (drug.unit_mg if drug else None)
    unit_ml = _dec(row.get("unit_ml")) if row.get("unit_ml") is not None else (drug.unit_ml if drug else None)
    if not unclassified and unit_mg is None and unit_ml is None:
        raise IncompleteMedication(
            f"medication {key!r} ({hcpcs}) needs unit_mg: the mg in one HCPCS billing unit")
    return Medication(
        key=key,
        hcpcs=hcpcs,
        name=row.get("name") or key,
        unit_mg=None if unclassified else unit_mg,
        unit_ml=None if unclassified else unit_ml,
        ndc=row.get("ndc"),
        mg_per_ml=_dec(row.get("mg_per_ml")),
        mg_per_unit=_dec(row.get("mg_per_unit")),
        ndc_unit=row.get("ndc_unit") or "ML",
        single_dose=bool(row.get("single_dose", False)),
        fee=_dec(row.get("fee")),
        unclassified=unclassified,
        max_dose_mg=_dec(row.get("max_dose_mg")),
    )


def build_codebook(clinic=None) -> tuple[CodeBook, list[tuple[str, str]]]:
    """The shipped tables with the clinic's rows and fees merged in.

    Returns the code book and a list of (path in clinic.yaml, message) for clinic rows that
    cannot be completed (the caller turns them into problems).
    """
    from superbill.ids import ndc as ndc_id

    procedures, drugs, shipped_meds, _ = shipped_tables()
    procedures = dict(procedures)
    problems: list[tuple[str, str]] = []
    clinic_meds = {}
    if clinic is not None:
        for code, row in clinic.procedures.items():
            base = procedures.get(code)
            procedures[code] = Procedure(code, row.label, base.kind if base else "other",
                                         base.addon_of if base else (), base.time_rule if base else "")
        clinic_meds = {key: row.model_dump(exclude_none=True) for key, row in clinic.medications.items()}
    medications: dict[str, Medication] = {}
    for key in list(shipped_meds) + [k for k in clinic_meds if k not in shipped_meds]:
        row = dict(shipped_meds.get(key) or {})
        if row.get("ndc"):
            row["ndc"] = ndc_id.validate(row["ndc"])
        row.update(clinic_meds.get(key, {}))
        try:
            medications[key] = complete_medication(key, row, drugs)
        except IncompleteMedication as exc:
            if key in clinic_meds:
                problems.append((f"medications.{key}", str(exc)))
    fees = dict(clinic.fees) if clinic is not None else {}
    return CodeBook(procedures, drugs, medications, fees), problems
