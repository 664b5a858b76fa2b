"""`superbill codes search` and `codes show`: the shipped tables and ICD-10-CM in one look-up.

Clinic-relevant rows come first: procedures, drugs, medications, the curated pain and mood
diagnoses, then the rest of ICD-10-CM.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from superbill.paths import CODES_DIR

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Row:
    table: str
    code: str
    label: str
    note: str = ""

    def line(self) -> str:
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.code:<9} {self.table:<11} {self.label}{note}"


def _words_match(query: str, *texts: str) -> bool:
    haystack = " ".join(texts).lower()
    return all(word in haystack for word in query.lower().split())


@lru_cache(maxsize=1)
def _curated() -> list[tuple[str, str]]:
    path = CODES_DIR / "icd10cm-pain-mood.yaml"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        doc = yaml.load(handle, Loader=_Loader)
    rows = doc.get("codes", [])
    if isinstance(rows, dict):
        return [(code, (v or {}).get("title", "") if isinstance(v, dict) else str(v)) for code, v in rows.items()]
    return [(r["code"], r.get("title", "")) for r in rows]


def code_set(code: str) -> str:
    """Which code set a procedure code belongs to: five digits (or four and F/T/U) are CPT; a letter
    and four digits are HCPCS Level II (G2082, J3490), which CMS maintains."""
    return "HCPCS" if code[:1].isalpha() else "CPT"


def _table_rows() -> list[Row]:
    from superbill.tables.codebook import shipped_tables

    procedures, drugs, medications, _ = shipped_tables()
    rows = [Row(code_set(p.code), p.code, p.label, ("add-on to " + "/".join(p.addon_of)) if p.addon_of else "")
            for p in procedures.values()]
    rows += [Row("HCPCS", d.code, d.label, "unclassified: 1 unit, NDC and description required" if d.unclassified else "")
             for d in drugs.values()]
    rows += [Row("medication", row["hcpcs"], f"{key}: {row.get('name', key)}",
                 f"NDC {row['ndc']}" if row.get("ndc") else "NDC set by the clinic")
             for key, row in medications.items()]
    return rows


# each table's file and the key its rows sit under
_SMALL_TABLES = (("place_of_service.yaml", "POS", "codes"), ("modifiers.yaml", "modifier", "modifiers"))


@lru_cache(maxsize=1)
def _pos_and_modifier_rows() -> tuple[Row, ...]:
    rows = []
    for name, table, key in _SMALL_TABLES:
        with open(CODES_DIR / name, encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=_Loader)
        for code, value in doc[key].items():
            label = (value.get("name") or value.get("label", "")) if isinstance(value, dict) else str(value)
            note = f"{value['set']} modifier" if isinstance(value, dict) and value.get("set") else ""
            rows.append(Row(table, str(code), label, note))
    return tuple(rows)


def search(query: str, limit: int = 25) -> list[Row]:
    from superbill.tables import icd10cm_index

    query = query.strip()
    compact = query.upper().replace(".", "")
    found: list[Row] = []
    seen: set[tuple[str, str]] = set()

    def add(row: Row) -> None:
        key = (row.table, row.code)
        if key not in seen:
            seen.add(key)
            found.append(row)

    for row in _table_rows() + list(_pos_and_modifier_rows()):
        if row.code.upper() == compact or row.code.upper().startswith(compact) or _words_match(query, row.label, row.note):
            add(row)
    for code, title in _curated():
        if code.replace(".", "").startswith(compact) or _words_match(query, title):
            add(Row("ICD-10-CM", code, title, "pain/mood list"))
    if len(found) < limit:
        for entry in icd10cm_index.search(query, limit=limit * 2):
            add(Row("ICD-10-CM", entry.code, entry.title, "" if entry.billable else "not billable: has subcodes"))
    return found[:limit]


def show(code: str) -> list[str]:
    from superbill.tables import icd10cm_index
    from superbill.tables.codebook import shipped_tables

    procedures, drugs, medications, meta = shipped_tables()
    key = code.strip().upper()
    out: list[str] = []
    if key in procedures:
        p = procedures[key]
        heading = ("CPT (label in our own words, not the AMA descriptor)" if code_set(p.code) == "CPT"
                   else "HCPCS Level II (CMS; label in our own words)")
        out += [f"{p.code}  {heading}", f"  {p.label}", f"  kind: {p.kind}"]
        if p.addon_of:
            out.append("  add-on to: " + ", ".join(p.addon_of))
        if p.time_rule:
            out.append(f"  time rule: {p.time_rule}")
        out.append(f"  source: {meta['procedures.yaml']['edition']}")
    if key in drugs:
        d = drugs[key]
        unit = ("1 unit per line (unclassified)" if d.unclassified else
                f"{d.unit_mg} mg per unit" if d.unit_mg else f"{d.unit_ml} mL per unit")
        out += [f"{d.code}  HCPCS Level II", f"  {d.label}", f"  billing unit: {unit}"]
        if d.verify:
            out.append("  unit size not verified against the CMS file: check before relying on it")
        out.append(f"  source: {meta['hcpcs-drugs.yaml']['edition']}")
        for name, row in medications.items():
            if row.get("hcpcs") == key:
                out.append(f"  medication {name}: {row.get('name', name)}"
                           + (f", NDC {row['ndc']}" if row.get("ndc") else ", NDC set by the clinic"))
    for row in _pos_and_modifier_rows():
        if row.code.upper() == key:
            out += [f"{row.code}  {row.note or 'place of service (CMS POS code set)'}", f"  {row.label}"]
    entry = icd10cm_index.lookup(key)
    if entry is not None:
        out += [f"{entry.code}  ICD-10-CM {icd10cm_index.EDITION}", f"  {entry.title}", _billable_text(entry)]
    return out


def _billable_text(entry) -> str:
    """Whether an ICD-10-CM code is billable, and since or until when (the shipped editions)."""
    from superbill.tables import icd10cm_editions, icd10cm_index

    spans = icd10cm_editions.spans(icd10cm_index.normalize(entry.code))
    if spans is None:
        return "  billable" if entry.billable else \
            "  not billable: use one of " + ", ".join(icd10cm_index.children(entry.code)[:12])
    if not spans:
        return "  not billable in any shipped edition: use one of " + ", ".join(icd10cm_index.children(entry.code)[:12])
    periods = []
    for span in spans:
        start = span.valid_from.isoformat() if span.valid_from else "FY2021 or earlier"
        periods.append(f"from {start} to {span.valid_to.isoformat()}" if span.valid_to else f"from {start}")
    kids = icd10cm_index.children(entry.code)
    now = f"; now use one of {', '.join(kids[:12])}" if kids and not entry.billable else ""
    return "  billable on dates of service " + "; ".join(periods) + now
