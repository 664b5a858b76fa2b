"""Generate a clinic folder with N patients for the benchmarks (and the perf smoke tests).

    python bench/gen.py DIR --patients 40 --sessions 2

writes the starter clinic (clinic.yaml, ...) into DIR and DIR/bench-patients/pNNNNN.yaml: varied
names and addresses (some non-ASCII), a spouse or child subscriber for every fifth patient, and
`--sessions` sessions per patient on distinct days in the 60 days before today (a superbill refuses
sessions in the future). Deterministic for a given seed. The starter patient and request under
DIR/patients and DIR/requests are left as written by `superbill init`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

import yaml

FIRST = ["Jane", "John", "Maria", "José", "Aisha", "Wei", "Olga", "Liam", "Zoë", "Noah", "Fatima", "Hiro",
         "Chloé", "Mateo", "Priya", "Søren", "Grace", "Omar", "Ingrid", "Kofi"]
LAST = ["Doe", "Smith", "García", "Nguyen", "O'Brien", "Müller", "Kowalski", "Okafor", "Johansson",
        "Rossi", "Haddad", "Tanaka", "Dubois", "Patel", "Ivanova", "Brown", "Lee", "Schmidt", "Moreau",
        "Novak"]
STREETS = ["Elm St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine Rd", "Lincoln Blvd", "Washington St"]
DIAGNOSES = [["G90.511", "F33.1"], ["F33.2"], ["F32.2", "F41.1"], ["F43.10", "F33.1"], ["F33.1"]]


def session(day: dt.date, rng: random.Random) -> dict:
    start = dt.datetime(2000, 1, 1, 9, 0) + dt.timedelta(minutes=5 * rng.randrange(0, 60))
    minutes = rng.choice([40, 55, 75, 105, 130])
    paid = rng.choice([0, 150.00, 300.00])
    out = {
        "date": day.isoformat(),
        "provider": "dr-lee",
        "protocol": "ketamine-infusion",
        "diagnoses": list(rng.choice(DIAGNOSES)),
        "infusion": {"start": start.strftime("%H:%M"), "end": (start + dt.timedelta(minutes=minutes)).strftime("%H:%M")},
        "medications": [{"drug": "ketamine", "dose_mg": rng.choice([35, 50, 70, 90])}],
    }
    if rng.random() < 0.5:
        out["services"] = [{"code": "93000", "pointers": [1]}]
    if paid:
        out["payments"] = [{"date": day.isoformat(), "amount": paid, "method": rng.choice(["card", "cash", "check"])}]
    return out


def patient(i: int, sessions: int, today: dt.date, rng: random.Random) -> dict:
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST) + i) % len(LAST)]
    address = {"street": f"{100 + i} {rng.choice(STREETS)}", "city": "Springfield", "state": "IL",
               "zip": "62702"}
    doc = {
        "patient": {"id": f"P{i:05d}", "first_name": first, "last_name": last,
                    "dob": (dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 20000))).isoformat(),
                    "sex": rng.choice("FM"), "address": address, "phone": f"217555{i % 10000:04d}"},
        "insurance": {"payer_name": "Example Health Plan", "payer_id": "12345", "member_id": f"XYZ{i:09d}",
                      "group_number": "GRP123", "filing_indicator": "CI"},
    }
    if i % 5 == 4:
        doc["insurance"]["subscriber"] = {
            "relationship": rng.choice(["spouse", "child"]), "first_name": "Sam", "last_name": last,
            "dob": "1970-05-05", "sex": "M", "address": {**address, "zip": "627021234"}}
    days = sorted(rng.sample(range(1, 61), min(sessions, 60)))
    doc["sessions"] = [session(today - dt.timedelta(days=d), rng) for d in days[:sessions]]
    doc["sessions"].sort(key=lambda s: s["date"])
    return doc


def generate(folder: str | Path, patients: int, sessions: int = 1, *, seed: int = 7,
             today: dt.date | None = None, subfolder: str = "bench-patients") -> list[Path]:
    """Write the clinic and `patients` patient files; returns the patient file paths."""
    from superbill.inputs.starter import write_starter

    folder = Path(folder)
    if not (folder / "clinic.yaml").exists():
        write_starter(folder)
    today = today or dt.date.today()
    rng = random.Random(seed)
    out = folder / subfolder
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(patients):
        path = out / f"p{i:05d}.yaml"
        path.write_text(yaml.safe_dump(patient(i, sessions, today, rng), sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
        paths.append(path)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=1, help="sessions per patient (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    paths = generate(args.folder, args.patients, args.sessions, seed=args.seed)
    print(f"wrote {len(paths)} patient file(s) under {Path(args.folder) / 'bench-patients'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
