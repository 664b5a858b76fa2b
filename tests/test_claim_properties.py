"""Properties of the billing engine over generated sessions (hypothesis).

total = sum of lines; every pointer valid; every unit >= 1; every line charged; the claims do not
depend on the order of sessions in the file; the scrubber accepts what the engine builds from
clean input.
"""

from __future__ import annotations

import os
from decimal import Decimal

from engine import TODAY, claims_for, problems_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from superbill.tables import icd10cm_index

EXAMPLES = int(os.environ.get("SUPERBILL_FUZZ_EXAMPLES", "60"))

CANDIDATES = ["G90.511", "F33.1", "M79.7", "G43.709", "G54.6", "M79.2", "G62.9", "Z79.891",
              "B02.29", "G50.1", "E11.42", "I73.9", "M54.50", "G89.4", "R52", "Z79.899"]


def _compatible(codes):
    """Keep codes greedily so that no two of them form an ICD-10-CM Excludes1 pair."""
    kept = []
    for code in codes:
        if not icd10cm_index.excludes1_conflicts(kept + [code]):
            kept.append(code)
    return kept


COMPATIBLE_DIAGNOSES = _compatible(CANDIDATES)


@st.composite
def sessions(draw):
    diagnoses = draw(st.lists(st.sampled_from(COMPATIBLE_DIAGNOSES), min_size=1, max_size=12, unique=True))
    count = len(diagnoses)
    pointers = st.lists(st.integers(1, count), min_size=1, max_size=min(4, count), unique=True)
    services = draw(st.lists(st.fixed_dictionaries(
        {"code": st.sampled_from(["99214", "93000"])}, optional={"pointers": pointers,
                                                                  "charge": st.integers(0, 2000)}),
        max_size=3))
    # E/M at most once; ECG may repeat (warned, not fatal)
    em = [s for s in services if s["code"] == "99214"]
    services = [s for s in services if s["code"] != "99214"] + em[:1]
    start = draw(st.integers(6 * 60, 12 * 60))
    minutes = draw(st.integers(1, 11 * 60))
    medications = []
    if draw(st.booleans()):
        medications.append({"drug": "ketamine", "dose_mg": str(draw(st.decimals("0.5", "600", places=2)))})
    if draw(st.booleans()):
        dose = draw(st.decimals("0.5", "16", places=1))
        medications.append({"drug": "ondansetron", "dose_mg": str(dose),
                            "wasted_mg": str(draw(st.decimals("0", "4", places=1)))})
    day = draw(st.integers(1, 21))
    return {
        "date": f"2026-11-{day:02d}",
        "provider": "dr-lee",
        "protocol": draw(st.sampled_from([None, "ketamine-infusion"])),
        "diagnoses": diagnoses,
        "infusion": {"start": f"{start // 60:02d}:{start % 60:02d}",
                     "end": f"{(start + minutes) // 60:02d}:{(start + minutes) % 60:02d}"},
        "medications": medications,
        "services": services,
        "payments": [],
    }


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sessions(), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_claim_invariants(generated, rnd):
    assert len(COMPATIBLE_DIAGNOSES) >= 12
    claims = claims_for(*generated)
    assert len(claims) == len(generated)
    for claim in claims:
        assert claim.total_charge == sum(line.charge for line in claim.lines)
        assert claim.total_charge == Decimal(claim.as_json()["total_charge"])
        for line in claim.lines:
            assert line.units >= 1
            assert line.charge is not None and line.charge >= 0
            assert 1 <= len(line.pointers) <= 4
            assert all(1 <= p <= len(claim.diagnoses) for p in line.pointers)
            assert not ({"JW", "JZ"} <= set(line.modifiers))
            if line.code == "J3490":
                assert line.units == 1 and line.modifiers == ()
        assert [p for p in problems_of(claim, today=TODAY) if p.severity == "error"] == []
    shuffled = list(generated)
    rnd.shuffle(shuffled)
    assert [c.as_json() for c in claims_for(*shuffled)] == [c.as_json() for c in claims]
    ids = [c.claim_id for c in claims]
    assert len(set(ids)) == len(ids)
