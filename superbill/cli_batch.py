"""`superbill export` and `superbill ledger`: the batch export's command line (a thin shell over
`superbill.batch`), registered on the `superbill` group by `superbill.cli`."""

from __future__ import annotations

import json
import os
import re
import sys

import click

from superbill.cli_common import _Command, _date, _fail, _Group


def _formats(ctx, param, value):
    from superbill.exports.formats import FORMATS

    names = [part.strip().lower() for part in (value or "").split(",") if part.strip()]
    if not names:
        raise click.BadParameter(f"give at least one of {', '.join(FORMATS)}")
    for name in names:
        if name not in FORMATS:
            raise click.BadParameter(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
    return tuple(dict.fromkeys(names))


_PAYER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,49}$")


def _corrections(ctx, param, values) -> dict[str, str]:
    """ID=PAYER_CLAIM_NUMBER pairs of --replace / --void: claim id -> the payer's claim number."""
    out: dict[str, str] = {}
    for value in values:
        claim_id, sep, number = (part.strip() for part in value.partition("="))
        if not sep or not claim_id or not number:
            raise click.BadParameter(f"{value!r}: give ID=PAYER_CLAIM_NUMBER, e.g. P0001-20261102=2026123456789")
        if not _PAYER_NUMBER.match(number):
            raise click.BadParameter(f"{claim_id}: the payer's claim number is 1 to 50 letters, digits, '-', '.' "
                                     "or '/', as on the payer's remittance")
        if out.get(claim_id, number) != number:
            raise click.BadParameter(f"{claim_id}: given twice with different payer claim numbers")
        out[claim_id] = number
    return out


def _check_named_claims(resubmit_claims, replacements: dict, voids: dict, formats) -> None:
    """One instruction per claim; replacements and voids need a format that carries them."""
    seen: dict[str, str] = {}
    for flag, ids in (("--resubmit-claim", dict.fromkeys(resubmit_claims)), ("--replace", replacements),
                      ("--void", voids)):
        for claim_id in ids:
            if claim_id in seen:
                _fail([f"{claim_id}: given to both {seen[claim_id]} and {flag}: choose one"], 2)
            seen[claim_id] = flag
    if (replacements or voids) and not {"837p", "cms1500"} & set(formats):
        _fail(["--replace and --void are sent as an 837P or a CMS-1500: add 837p or cms1500 to --format"], 2)


@click.command(cls=_Command)
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the exported files (created when missing).")
@click.option("--format", "formats", default="837p", show_default=True, callback=_formats, metavar="F[,F...]",
              help="Comma list of 837p, cms1500, csv, xlsx, superbill.")
@click.option("--from", "date_from", callback=_date, metavar="DATE", help="First date of service (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=_date, metavar="DATE", help="Last date of service (YYYY-MM-DD).")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, metavar="N",
              help="Worker processes for reading and checking files (default: the number of cores).")
@click.option("--resubmit", is_flag=True,
              help="Send again the claims that changed since they were exported, as new originals "
                   "(frequency code 1) with new control numbers; unchanged claims are not re-sent.")
@click.option("--resubmit-claim", "resubmit_claims", multiple=True, metavar="ID",
              help="Send this claim again as a new original, changed or not (repeatable).")
@click.option("--replace", "replacements", multiple=True, callback=_corrections, metavar="ID=PAYER_CLAIM_NUMBER",
              help="Send a replacement (frequency code 7) of an exported claim, with the payer's claim number "
                   "(repeatable; 837P and CMS-1500).")
@click.option("--void", "voids", multiple=True, callback=_corrections, metavar="ID=PAYER_CLAIM_NUMBER",
              help="Send a void (frequency code 8) of an exported claim, with the payer's claim number "
                   "(repeatable; 837P and CMS-1500).")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="The export ledger (default: superbill-ledger.sqlite3 beside the clinic profile).")
@click.option("--cms1500-data-only", is_flag=True, help="CMS-1500: print only the data, for pre-printed red forms.")
@click.option("--usage", type=click.Choice(["T", "P"]), default=None,
              help="837P usage indicator: T test, P production (default: x12.usage in clinic.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def export(ctx, inputs, out_dir, formats, date_from, date_to, jobs, resubmit, resubmit_claims, replacements, voids,
           ledger_path, cms1500_data_only, usage, as_json):
    """Batch export for billing staff: 837P, CMS-1500, CSV, XLSX and superbills, never twice.

    INPUTS are patient files or folders (searched for *.yaml, *.yml, *.json; the clinic profile and
    prior-authorization requests are skipped; finding no patient file is an error). Every claim
    exported is recorded in the ledger: a second export of the same sessions exports nothing new.
    Exit 1 when any file was rejected or any claim held back (the others are still exported); the
    closing summary names them.
    """
    from pathlib import Path

    from superbill.batch.export import ExportOptions, ExportReport, available_formats, export_claims
    from superbill.batch.progress import Progress, TerminalProgress
    from superbill.inputs.load import load_clinic, locate_clinic
    from superbill.problems import InputRejected

    missing = [f for f in formats if f not in available_formats()]
    if missing:
        _fail([f"--format {name}: not available in this installation" for name in missing], 2)
    if date_from and date_to and date_from > date_to:
        _fail(["--from is after --to"], 2)
    _check_named_claims(resubmit_claims, replacements, voids, formats)
    try:
        loaded = load_clinic(locate_clinic(ctx.obj.get("clinic")))
    except InputRejected as exc:  # nothing can be exported, and the summary still says so
        _print_export(ExportReport(fatal=exc.problems), as_json, shown=set())
        sys.exit(1)
    for problem in loaded.problems:
        click.echo(problem.line(), err=True)
    on_terminal = sys.stderr.isatty() and not as_json and os.environ.get("TERM") != "dumb"
    progress = TerminalProgress(sys.stderr) if on_terminal else Progress()
    options = ExportOptions(out_dir=Path(out_dir), formats=formats, date_from=date_from, date_to=date_to,
                            jobs=jobs, resubmit=resubmit, resubmit_claims=tuple(dict.fromkeys(resubmit_claims)),
                            replace=replacements, void=voids, ledger_path=Path(ledger_path) if ledger_path else None,
                            cms1500_data_only=cms1500_data_only, usage=usage, progress=progress)
    try:
        report = export_claims(inputs, loaded, options)
    finally:
        progress.close()
    _print_export(report, as_json, shown=set(loaded.problems) | progress.printed)
    sys.exit(0 if report.ok else 1)


def _print_export(report, as_json: bool, shown: set) -> None:
    """Problems (those the progress display did not print already) and warnings on stderr; the
    summary, or its JSON, on stdout."""
    for problem in report.fatal + report.problems:
        if problem not in shown:
            click.echo(problem.line(), err=True)
    for line in report.warning_lines():
        click.echo(line, err=True)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.summary_lines():
            click.echo(line)


@click.group(cls=_Group)
def ledger():
    """The export ledger: what was sent, when, with which control numbers."""


@ledger.command("list")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="The export ledger (default: superbill-ledger.sqlite3 beside the clinic profile).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs and their claims as JSON.")
@click.pass_context
def ledger_list(ctx, ledger_path, as_json):
    """Every export run (when, its status, interchange control number, files and claims) and every
    Good Faith Estimate (number, patient, period, totals, content hash)."""
    from pathlib import Path

    from superbill.batch.ledger import Ledger, LedgerError, default_path
    from superbill.inputs.load import find_clinic

    path = Path(ledger_path) if ledger_path else default_path(find_clinic(ctx.obj.get("clinic")).resolve().parent)
    if not path.exists():
        if as_json:
            click.echo(json.dumps({"ledger": str(path), "runs": [], "estimates": []}, indent=2))
            return
        click.echo(f"{path}: no exports recorded yet")
        return
    from superbill.batch.estimates import estimate_lines, estimates_json
    from superbill.batch.estimates import estimates as estimate_records

    try:
        with Ledger(path) as book:
            runs = book.runs()
            issued = estimate_records(book)
    except LedgerError as exc:
        _fail([str(exc)])
    if as_json:
        click.echo(json.dumps({"ledger": str(path), "runs": runs, "estimates": estimates_json(issued)}, indent=2))
        return
    from superbill.batch.ledger import run_lines

    for line in run_lines(runs):
        click.echo(line)
    if not runs:
        click.echo(f"{path}: no exports recorded yet")
    for line in estimate_lines(issued):
        click.echo(line)
