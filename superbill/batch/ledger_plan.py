"""What an export does with each claim, decided against what the ledger says was sent.

`classify` is pure: one candidate claim and the ledger rows of the same claim id (sent or pending,
oldest first) give one `Decision`:

* pending in another live run: "busy" (skipped);
* a replacement (frequency 7) or void (8): "refused" when the claim was never exported (nothing to
  correct) or, for a void, when it changed since it was sent (a void carries the claim as the payer has
  it); "already" when the same correction with the same payer claim number and content was sent;
  otherwise "send", in the formats that carry a frequency code (837P, CMS-1500);
* never exported: "send" (an original);
* named by `--resubmit-claim`: "send" again as a new original (a resubmission);
* changed since it was last sent: "send" as a resubmission with `--resubmit`, else "changed";
* unchanged: "send" the formats not written yet for this content, else "skip".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

# The formats that say whether a claim is an original, a replacement or a void.
CORRECTION_FORMATS = ("837p", "cms1500")
FREQUENCY_NAMES = {"7": "replacement", "8": "void"}


@dataclass(frozen=True)
class Candidate:
    """A claim the export could send, with the formats asked for."""

    claim_id: str
    content_hash: str
    patient_id: str
    date_of_service: str
    total_charge: str
    frequency: str = "1"  # "7" to replace, "8" to void the claim the payer holds
    payer_claim_number: str | None = None  # the payer's number of that claim (7 and 8)
    resend: bool = False  # --resubmit-claim: send again even when unchanged


@dataclass
class Decision:
    claim_id: str
    action: str  # "send", "skip" (already exported), "changed", "busy", "already", "refused"
    formats: tuple[str, ...] = ()  # for "send": the formats to write
    resubmission: bool = False
    previous_run: int | None = None
    previous_time: str | None = None
    previous_interchange: str | None = None
    frequency: str = "1"
    payer_claim_number: str | None = None
    reason: str = ""  # for "refused": why, in words for the clerk


@dataclass
class RunPlan:
    run_id: int | None
    control_number: int | None
    decisions: dict[str, Decision] = field(default_factory=dict)

    def to_send(self) -> list[Decision]:
        return [d for d in self.decisions.values() if d.action == "send"]

    def refused(self) -> list[Decision]:
        return [d for d in self.decisions.values() if d.action == "refused"]


def classify(cand: Candidate, rows: list, formats: list[str], *, resubmit: bool) -> Decision:
    pending = [r for r in rows if r["status"] == "pending"]
    sent = [r for r in rows if r["status"] == "sent"]
    if pending:
        last = pending[-1]
        return Decision(cand.claim_id, "busy", previous_run=last["run_id"], previous_time=last["run_started"],
                        previous_interchange=last["interchange"])
    if cand.frequency in FREQUENCY_NAMES:
        return _correction(cand, sent, formats)
    if not sent:
        return Decision(cand.claim_id, "send", tuple(formats))
    last = sent[-1]
    previous = _previous(last)
    if cand.resend or (resubmit and last["content_hash"] != cand.content_hash):
        return Decision(cand.claim_id, "send", tuple(formats), resubmission=True, **previous)
    if last["content_hash"] != cand.content_hash:
        return Decision(cand.claim_id, "changed", **previous)
    done: set[str] = set()
    for row in sent:
        if row["content_hash"] == cand.content_hash:
            done |= set(json.loads(row["formats"]))
    missing = tuple(f for f in formats if f not in done)
    if missing:
        return Decision(cand.claim_id, "send", missing, **previous)
    return Decision(cand.claim_id, "skip", **previous)


def _previous(row) -> dict:
    return dict(previous_run=row["run_id"], previous_time=row["exported_at"], previous_interchange=row["interchange"])


def _correction(cand: Candidate, sent: list, formats: list[str]) -> Decision:
    what = FREQUENCY_NAMES[cand.frequency]
    base = Decision(cand.claim_id, "send", frequency=cand.frequency, payer_claim_number=cand.payer_claim_number)
    if not sent:
        verb = "replace" if cand.frequency == "7" else "void"
        return replace(base, action="refused", reason=f"was never exported: nothing to {verb} (export it first; "
                                                      f"a {what} corrects a claim the payer has)")
    for row in reversed(sent):
        if (row["frequency_code"], row["payer_claim_number"], row["content_hash"]) == \
                (cand.frequency, cand.payer_claim_number, cand.content_hash):
            return replace(base, action="already", **_previous(row))
    last = sent[-1]
    if cand.frequency == "8" and last["content_hash"] != cand.content_hash:
        return replace(base, action="refused", **_previous(last),
                       reason=f"changed since it was exported in run {last['run_id']}: a void carries the claim "
                              "as it was sent (undo the change, or send --replace with the corrected claim)")
    return replace(base, formats=tuple(f for f in formats if f in CORRECTION_FORMATS), **_previous(last))
