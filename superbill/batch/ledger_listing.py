"""`superbill ledger list`: the ledger's runs and claims as dictionaries (--json) and as lines."""

from __future__ import annotations

import datetime as dt
import json

from superbill.batch.ledger_plan import FREQUENCY_NAMES


def claim_dict(row) -> dict:
    return {
        "claim_id": row["claim_id"],
        "patient_id": row["patient_id"],
        "date_of_service": row["date_of_service"],
        "total_charge": row["total_charge"],
        "formats": json.loads(row["formats"]),
        "interchange": row["interchange"],
        "group": row["group_control"],
        "transaction": row["transaction_control"],
        "resubmission": bool(row["resubmission"]),
        "frequency_code": row["frequency_code"],
        "payer_claim_number": row["payer_claim_number"],
        "status": row["status"],
        "content_hash": row["content_hash"],
        "exported_at": row["exported_at"],
    }


def run_dict(row, status: str, claims: list) -> dict:
    return {
        "run_id": row["run_id"],
        "started": row["started"],
        "finished": row["finished"],
        "status": status,
        "interchange": row["interchange"],
        "formats": json.loads(row["formats"]),
        "usage": row["usage"],
        "output_dir": row["output_dir"],
        "files": json.loads(row["files"]),
        "note": row["note"],
        "claims": [claim_dict(c) for c in claims],
    }


def when_text(iso: str | None) -> str:
    """A ledger timestamp in local time, to the minute."""
    if not iso:
        return "unknown time"
    try:
        moment = dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M")


def _claim_flag(claim: dict) -> str:
    if claim["frequency_code"] in FREQUENCY_NAMES:
        return f"  {FREQUENCY_NAMES[claim['frequency_code']]} of payer claim {claim['payer_claim_number']}"
    return "  resubmission" if claim["resubmission"] else ""


def run_lines(runs: list[dict]) -> list[str]:
    """A line per run, then its files and claims with control numbers."""
    out = []
    for run in runs:
        sent = [c for c in run["claims"] if c["status"] == "sent"]
        out.append(f"run {run['run_id']}  {when_text(run['started'])}  {run['status']}  interchange {run['interchange']}"
                   f"  {','.join(run['formats'])}  {len(sent)} claim(s)  {run['output_dir']}")
        for name in run["files"] if run["status"] == "done" else ():
            out.append(f"    file {name}")
        for claim in run["claims"]:
            controls = f"ISA13 {claim['interchange']} GS06 {claim['group']}"
            if claim["transaction"]:
                controls += f" ST02 {claim['transaction']}"
            state = "" if claim["status"] == "sent" else f"  ({claim['status']}: not exported)"
            out.append(f"    {claim['claim_id']}  {claim['date_of_service']}  {claim['total_charge']}  "
                       f"{','.join(claim['formats'])}  {controls}{_claim_flag(claim)}{state}")
    return out
