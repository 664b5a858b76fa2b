"""What an export run did, for the clerk: the summary (stdout), per-claim warnings (stderr), JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from superbill.batch.ledger_listing import when_text
from superbill.batch.ledger_plan import FREQUENCY_NAMES
from superbill.problems import ERROR, WARNING, HeldBack, Problem


@dataclass
class ExportReport:
    files: list[str] = field(default_factory=list)
    run_id: int | None = None
    control_number: int | None = None
    written: list[Path] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    resubmitted: list[str] = field(default_factory=list)
    skipped: list = field(default_factory=list)  # ledger.Decision
    changed: list = field(default_factory=list)
    busy: list = field(default_factory=list)
    already_sent: list = field(default_factory=list)  # a replacement or void sent before, identical
    corrections: list = field(default_factory=list)  # the replacements and voids this run sent
    rejected_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # errors and warnings, per file
    fatal: list[Problem] = field(default_factory=list)  # nothing could be exported
    notes: list[str] = field(default_factory=list)
    ledger_path: Path | None = None
    clinic: list[Problem] = field(default_factory=list)  # errors in providers' entries (those are held back)
    held: dict[str, list[str]] = field(default_factory=dict)  # file: claims held back with their provider
    outside_dates: int = 0  # sessions left out by --from/--to

    @property
    def ok(self) -> bool:
        return not self.rejected_files and not self.fatal and not self.held and not self.clinic

    @property
    def warnings(self) -> int:
        return sum(p.severity == WARNING for p in self.problems)

    def first_errors(self) -> dict[str, Problem]:
        """Each rejected file's first error (what the summary names it by)."""
        firsts: dict[str, Problem] = {}
        for problem in self.problems:
            if problem.severity == ERROR and not isinstance(problem, HeldBack):
                firsts.setdefault(problem.file, problem)
        return {file: firsts[file] for file in self.rejected_files if file in firsts}

    def _closing_lines(self) -> list[str]:
        """Held back, rejected, warnings, dates: the part of the summary that needs the clerk."""
        lines = []
        if self.outside_dates:
            lines.append(f"left out {self.outside_dates} session(s) outside --from/--to")
        if self.held:
            count = sum(len(claims) for claims in self.held.values())
            lines.append(f"held back {count} claim(s) in {len(self.held)} file(s): their provider has errors in the "
                         "clinic profile")
            lines += [f"  {file}: {', '.join(claims)}" for file, claims in self.held.items()]
        if self.rejected_files:
            lines.append(f"rejected {len(self.rejected_files)} file(s) with errors: nothing exported from them")
            firsts = self.first_errors()
            lines += [f"  {firsts[file].line() if file in firsts else file}" for file in self.rejected_files]
        if self.warnings:
            lines.append(f"{self.warnings} warning(s) (printed above)")
        return lines

    def summary_lines(self) -> list[str]:
        lines = list(self.notes)
        if self.fatal:
            lines.append("nothing exported")
            return lines
        for path in self.written:
            lines.append(f"wrote {path}")
        lines += [f"resubmitted {claim_id} as a new original" for claim_id in self.resubmitted]
        lines += [f"sent {FREQUENCY_NAMES[d.frequency]} of {d.claim_id} (payer claim {d.payer_claim_number})"
                  for d in self.corrections]
        if self.exported:
            what = f"exported {len(self.exported)} claim(s) in run {self.run_id} (interchange {self.control_number:09d})"
            if self.resubmitted:
                what += f", {len(self.resubmitted)} of them resubmitted"
            for code, name in FREQUENCY_NAMES.items():
                count = sum(1 for d in self.corrections if d.frequency == code)
                if count:
                    what += f", {count} {name}(s)"
            lines.append(what)
        else:
            lines.append("exported 0 claims")
        if self.already_sent:
            lines.append(f"skipped {len(self.already_sent)} replacement(s) or void(s) already sent (not sent twice)")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} claim(s) already exported (superbill ledger list shows when)")
        if self.busy:
            lines.append(f"skipped {len(self.busy)} claim(s) being exported by another run right now")
        if self.changed:
            lines.append(f"{len(self.changed)} claim(s) changed since they were exported: not re-sent "
                         "(use --resubmit to send them again)")
        return lines + self._closing_lines()

    def warning_lines(self) -> list[str]:
        """Per-claim notices that need the clerk's attention (stderr)."""
        lines = []
        for d in self.changed:
            lines.append(f"{d.claim_id}: warning: changed since it was exported in run {d.previous_run} "
                         f"(interchange {d.previous_interchange}, {when_text(d.previous_time)}); not re-sent "
                         "(use --resubmit to send it again)")
        for d in self.busy:
            lines.append(f"{d.claim_id}: warning: being exported by run {d.previous_run} right now; skipped")
        for d in self.already_sent:
            lines.append(f"{d.claim_id}: warning: this {FREQUENCY_NAMES[d.frequency]} (payer claim "
                         f"{d.payer_claim_number}) was already sent in run {d.previous_run} (interchange "
                         f"{d.previous_interchange}, {when_text(d.previous_time)}); not sent again")
        return lines

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "interchange": None if self.control_number is None else f"{self.control_number:09d}",
            "written": [str(p) for p in self.written],
            "exported": self.exported,
            "resubmitted": self.resubmitted,
            "skipped": [d.claim_id for d in self.skipped],
            "changed": [d.claim_id for d in self.changed],
            "busy": [d.claim_id for d in self.busy],
            "replaced": [{"claim_id": d.claim_id, "payer_claim_number": d.payer_claim_number}
                         for d in self.corrections if d.frequency == "7"],
            "voided": [{"claim_id": d.claim_id, "payer_claim_number": d.payer_claim_number}
                       for d in self.corrections if d.frequency == "8"],
            "already_sent": [d.claim_id for d in self.already_sent],
            "rejected_files": self.rejected_files,
            "rejected": [{"file": file, "first_error": first.as_dict() if first else None}
                         for file, first in ((f, self.first_errors().get(f)) for f in self.rejected_files)],
            "held": [{"file": file, "claims": claims} for file, claims in self.held.items()],
            "outside_dates": self.outside_dates,
            "warnings": self.warnings,
            "problems": [p.as_dict() for p in self.clinic + self.fatal + self.problems],
        }
