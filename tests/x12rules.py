"""A checker of the 837P rules pyx12 does not enforce (issue 13; docs/reference.md "Outputs").

    from x12rules import violations, loops
    assert violations(text) == []                     # every rule below
    assert violations(text, solo=("LEE", "AVERY", "1003000126")) == []

The document is split into loops (2000A, 2010AA, 2000B, 2010BA, 2010BB, 2000C, 2010CA, 2300,
2310B, 2400, 2410) by the segments that open them, the way the implementation guide nests them,
and each rule is read off those loops:

1. dependents: SBR02 18 (patient = subscriber) -> 2010BA has N3, N4 and DMG and no 2000C follows;
   otherwise 2010BA has no N3/N4/DMG and every 2000C has PAT and a 2010CA with N3, N4 and DMG;
2. AMT*F5 never above CLM02;
3. billing provider: NM1*85*1 (a person) has last and first names; no 2310B repeats the 2010AA NPI;
   with `solo` given, 2010AA is exactly that person;
4. every 2400 has exactly one REF*6R, after DTP*472 and before NTE/2410, at most 30 characters, unique
   in the interchange;
5. 2010BB N3/N4 come together, and (with `payer_addresses` given) exactly when expected;
6. Medicare (SBR09 MA/MB) with a drug line (SV101-2 a J code) or an NP/PA renderer (taxonomy
   363L/363A in 2310B, or of the billing provider when there is no 2310B) -> CLM07 A and CLM08 Y;
   every other claim CLM07 C and CLM08 N;
7. ISA13 = IEA02 (9 digits), GS06 = GE02, ST02 = SE02, each unique; (`repeated_isa13` across files);
8. format limits: at most 50 lines a claim, CLM01 at most 38 characters, at most 100 claims under one
   HL, 1 to 12 diagnoses, 1 to 4 pointers a line, each to a listed diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from x12check import segments

NP_PA_TAXONOMY = ("363L", "363A")


@dataclass
class Loop:
    id: str
    segments: list[list[str]] = field(default_factory=list)
    children: list[Loop] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [s[0] for s in self.segments]

    def first(self, seg_id: str, qualifier: str | None = None) -> list[str] | None:
        for s in self.segments:
            if s[0] == seg_id and (qualifier is None or (len(s) > 1 and s[1] == qualifier)):
                return s
        return None

    def child(self, loop_id: str) -> Loop | None:
        return next((c for c in self.children if c.id == loop_id), None)

    def all(self, loop_id: str) -> list[Loop]:
        return [c for c in self.children if c.id == loop_id]


# (segment id, first element) -> (the loop it opens, the loop it nests in)
OPENERS = {
    ("HL", "20"): ("2000A", None), ("HL", "22"): ("2000B", "2000A"), ("HL", "23"): ("2000C", "2000B"),
    ("NM1", "85"): ("2010AA", "2000A"), ("NM1", "IL"): ("2010BA", "2000B"), ("NM1", "PR"): ("2010BB", "2000B"),
    ("NM1", "QC"): ("2010CA", "2000C"), ("CLM", None): ("2300", "subscriber"), ("NM1", "82"): ("2310B", "2300"),
    ("LX", None): ("2400", "2300"), ("LIN", None): ("2410", "2400"),
}
ENVELOPE = ("ISA", "GS", "ST", "BHT", "SE", "GE", "IEA")


def _opener(seg: list[str], current: dict) -> tuple[str, str | None] | None:
    key = (seg[0], seg[3] if seg[0] == "HL" else seg[1] if seg[0] == "NM1" else None)
    found = OPENERS.get(key)
    if found and found[0] == "2310B" and "2400" in current:
        return None  # NM1*82 inside a line is 2420A, not read here
    return found


def loops(text: str) -> tuple[list[list[str]], list[Loop]]:
    """(envelope segments, [2000A loops with their nested loops]) of one 837P."""
    envelope: list[list[str]] = []
    billing: list[Loop] = []
    current: dict[str, Loop] = {}
    for seg in segments(text):
        found = _opener(seg, current)
        if found is not None:
            loop_id, parent = found
            loop = Loop(loop_id, [seg])
            (billing.append if parent is None else current[parent].children.append)(loop)
            if loop_id == "2300":
                current.pop("2400", None)
            current[loop_id] = current["_"] = loop
            if loop_id in ("2000B", "2000C"):
                current["subscriber"] = loop
        elif seg[0] in ENVELOPE or "2000A" not in current:
            envelope.append(seg)
            if seg[0] in ("ST", "SE"):
                current.clear()
        else:
            current["_"].segments.append(seg)
    return envelope, billing


def _subscriber_rules(sub: Loop, out: list[str]) -> None:
    sbr = sub.first("SBR")
    name = sub.child("2010BA")
    patients = sub.all("2000C")
    where = f"HL {sub.segments[0][1]}"
    if sbr is None or name is None:
        out.append(f"{where}: no SBR or 2010BA")
        return
    carried = [s for s in ("N3", "N4", "DMG") if s in name.ids()]
    if len(sbr) > 2 and sbr[2] == "18":
        if carried != ["N3", "N4", "DMG"]:
            out.append(f"{where}: the patient is the subscriber but 2010BA carries {carried}, not N3, N4, DMG")
        if patients:
            out.append(f"{where}: the patient is the subscriber but a 2000C follows")
    else:
        if carried:
            out.append(f"{where}: a dependent's subscriber loop 2010BA carries {carried} (do not send)")
        if not patients:
            out.append(f"{where}: no 2000C patient loop for a dependent")
        for patient in patients:
            if patient.first("PAT") is None:
                out.append(f"{where}: 2000C without PAT")
            loop = patient.child("2010CA")
            if loop is None or [s for s in ("N3", "N4", "DMG") if s in loop.ids()] != ["N3", "N4", "DMG"]:
                out.append(f"{where}: 2010CA without N3, N4 and DMG")


def _payer_rules(sub: Loop, payer_addresses, out: list[str]) -> None:
    payer = sub.child("2010BB")
    if payer is None:
        out.append(f"HL {sub.segments[0][1]}: no 2010BB")
        return
    has = ("N3" in payer.ids(), "N4" in payer.ids())
    if has[0] != has[1]:
        out.append(f"2010BB {payer.segments[0][-1]}: N3 and N4 must come together")
    if payer_addresses is not None:
        expected = payer_addresses.get(payer.segments[0][-1])
        if expected is None and has[0]:
            out.append(f"2010BB {payer.segments[0][-1]}: a payer address that was not given")
        elif expected is not None:
            got = (payer.first("N3") or [None, None])[1], tuple((payer.first("N4") or [None])[1:4])
            if got != (expected[0], tuple(expected[1:4])):
                out.append(f"2010BB {payer.segments[0][-1]}: payer address {got}, expected {expected}")


def _renderer_taxonomy(claim: Loop, billing: Loop) -> str:
    rendering = claim.child("2310B")
    source = rendering if rendering is not None else billing
    prv = source.first("PRV")
    return prv[3] if prv and len(prv) > 3 else ""


def _claim_rules(claim: Loop, sub: Loop, billing: Loop, billing_npi: str, seen_6r: set, out: list[str]) -> None:
    clm = claim.segments[0]
    cid = clm[1]
    if len(cid) > 38:
        out.append(f"{cid}: CLM01 is {len(cid)} characters (at most 38)")
    amt = claim.first("AMT", "F5")
    if amt is not None and Decimal(amt[2]) > Decimal(clm[2]):
        out.append(f"{cid}: AMT*F5 {amt[2]} above CLM02 {clm[2]}")
    rendering = claim.child("2310B")
    if rendering is not None and rendering.segments[0][-1] == billing_npi:
        out.append(f"{cid}: 2310B repeats the billing provider's NPI")
    hi = claim.first("HI")
    diagnoses = len(hi) - 1 if hi else 0
    if not 1 <= diagnoses <= 12:
        out.append(f"{cid}: {diagnoses} diagnoses")
    lines = claim.all("2400")
    if not 1 <= len(lines) <= 50:
        out.append(f"{cid}: {len(lines)} service lines (1 to 50)")
    drugs = False
    for line in lines:
        ids = line.ids()
        sv1 = line.first("SV1")
        drugs = drugs or (sv1 is not None and sv1[1].split(":")[1].startswith("J"))
        pointers = [int(p) for p in sv1[7].split(":")] if sv1 is not None and len(sv1) > 7 else []
        if not 1 <= len(pointers) <= 4 or any(not 1 <= p <= diagnoses for p in pointers):
            out.append(f"{cid} LX {line.segments[0][1]}: pointers {pointers} with {diagnoses} diagnoses")
        refs = [s for s in line.segments if s[:2] == ["REF", "6R"]]
        if len(refs) != 1:
            out.append(f"{cid} LX {line.segments[0][1]}: {len(refs)} REF*6R")
            continue
        at = line.segments.index(refs[0])
        dtp = next((i for i, s in enumerate(line.segments) if s[:2] == ["DTP", "472"]), None)
        if dtp is None or at < dtp or ("NTE" in ids and ids.index("NTE") < at):
            out.append(f"{cid} LX {line.segments[0][1]}: REF*6R out of order {ids}")
        value = refs[0][2]
        if len(value) > 30:
            out.append(f"{cid}: REF*6R {value} longer than 30 characters")
        if value in seen_6r:
            out.append(f"{cid}: REF*6R {value} repeated in the interchange")
        seen_6r.add(value)
    sbr = sub.first("SBR")
    medicare = sbr is not None and len(sbr) > 9 and sbr[9] in ("MA", "MB")
    assigned = medicare and (drugs or _renderer_taxonomy(claim, billing).startswith(NP_PA_TAXONOMY))
    expected = ("A", "Y") if assigned else ("C", "N")
    if tuple(clm[7:9]) != expected:
        out.append(f"{cid}: CLM07/CLM08 {clm[7:9]}, expected {list(expected)}")


def _envelope_rules(envelope: list[list[str]], out: list[str]) -> None:
    by = {}
    for seg in envelope:
        by.setdefault(seg[0], []).append(seg)
    isa, iea = by["ISA"][0], by["IEA"][0]
    if not (len(isa[13]) == 9 and isa[13].isdigit() and iea[2] == isa[13]):
        out.append(f"ISA13 {isa[13]} / IEA02 {iea[2]}")
    for gs, ge in zip(by["GS"], by["GE"], strict=True):
        if gs[6] != ge[2]:
            out.append(f"GS06 {gs[6]} / GE02 {ge[2]}")
    st02 = [s[2] for s in by["ST"]]
    if st02 != [s[2] for s in by["SE"]] or len(set(st02)) != len(st02):
        out.append(f"ST02 {st02} / SE02 {[s[2] for s in by['SE']]}")


def violations(text: str, *, solo: tuple[str, str, str] | None = None, payer_addresses: dict | None = None) -> list[str]:
    """Every rule of the module docstring the document breaks, one line each ([] when none)."""
    out: list[str] = []
    envelope, billing_loops = loops(text)
    _envelope_rules(envelope, out)
    seen_6r: set[str] = set()
    for billing in billing_loops:
        name = billing.child("2010AA")
        nm1 = name.segments[0]
        billing_npi = nm1[-1]
        if nm1[2] == "1" and (len(nm1) < 5 or not nm1[3] or not nm1[4]):
            out.append("2010AA: a person without last and first name")
        if solo is not None and (nm1[2], nm1[3], nm1[4], billing_npi) != ("1", *solo):
            out.append(f"2010AA {nm1}: expected the solo practitioner {solo}")
        for sub in billing.all("2000B"):
            _subscriber_rules(sub, out)
            _payer_rules(sub, payer_addresses, out)
            for holder in [sub, *sub.all("2000C")]:
                claims = holder.all("2300")
                if len(claims) > 100:
                    out.append(f"HL {holder.segments[0][1]}: {len(claims)} claims (at most 100)")
                for claim in claims:
                    _claim_rules(claim, sub, billing, billing_npi, seen_6r, out)
    return out


def repeated_isa13(texts) -> list[str]:
    """ISA13 values that occur in more than one of the documents."""
    numbers = [segments(t)[0][13] for t in texts]
    return sorted({n for n in numbers if numbers.count(n) > 1})
