"""The `superbill` command: a thin click shell over the library.

Heavy modules (pydantic models, WeasyPrint, the ICD-10-CM index) are imported inside the commands
so `superbill --help` starts instantly. Exit codes: 0 success, 1 input rejected or a check failed,
2 usage error.
"""

from __future__ import annotations

import json
import sys

import click

from superbill.cli_batch import export, ledger
from superbill.cli_common import _date, _fail, _Group, _load_clinic, _read_clinic


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--clinic", "clinic", metavar="PATH", help="The clinic profile (default: $SUPERBILL_CLINIC, else ./clinic.yaml).")
@click.version_option(package_name="superbill")
@click.pass_context
def main(ctx, clinic):
    """Superbills, prior-authorization letters and claim exports, checked on your machine.

    \b
    Start with:   superbill init my-clinic
    Then:         cd my-clinic && superbill check patients/example.yaml
    """
    ctx.ensure_object(dict)
    ctx.obj["clinic"] = clinic


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory):
    """Write a starter clinic folder: clinic.yaml, patients/example.yaml, requests/example.yaml, gfe/example.yaml."""
    from superbill.inputs.starter import write_starter

    try:
        written = write_starter(directory)
    except FileExistsError as exc:
        _fail([f"{exc.filename}: already exists; not overwriting (choose an empty folder)"])
    except OSError as exc:  # e.g. a parent that is a file
        _fail([f"{exc.filename or directory}: error: cannot write: {exc.strerror or exc}"])
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {directory} && superbill check patients/example.yaml requests/example.yaml")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(), metavar="FILE_OR_DIR...")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="The ledger whose Good Faith Estimates the bills are compared with (default: "
                   "superbill-ledger.sqlite3 beside the clinic profile).")
@click.pass_context
def check(ctx, files, as_json, ledger_path):
    """Validate patient, request, GFE or clinic files and scrub every claim they produce.

    Folders are searched as `export` searches them (*.yaml, *.yml, *.json; hidden folders and
    clinic.yaml skipped).

    A patient billed $400 or more above a Good Faith Estimate in the ledger for its period is a warning.
    """
    from superbill.batch.estimates import lookup_for
    from superbill.batch.ledger import LedgerError
    from superbill.engine.checking import check_files
    from superbill.exports.limits import clinic_format_problems, format_problems
    from superbill.inputs.load import find_clinic

    estimates = lookup_for(find_clinic(ctx.obj.get("clinic")), ledger_path)
    try:
        report = check_files(files, ctx.obj.get("clinic"), estimates=estimates, format_checks=format_problems,
                             clinic_format_checks=clinic_format_problems)
    except LedgerError as exc:
        _fail([str(exc)])
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        for problem in report.problems:
            click.echo(problem.line(), err=problem.severity == "error")
        click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON, exactly what would be billed.")
@click.option("--from", "date_from", callback=_date, metavar="DATE", help="First date of service (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=_date, metavar="DATE", help="Last date of service (YYYY-MM-DD).")
@click.pass_context
def claims(ctx, files, as_json, date_from, date_to):
    """Print the claims that the sessions produce."""
    from superbill.engine.checking import collect_claims
    from superbill.exports.claimtable import claims_table
    from superbill.problems import InputRejected

    try:
        loaded = _read_clinic(ctx)
    except InputRejected as exc:
        if as_json:  # the one object also when the clinic profile is refused (SPEC: claims --json)
            click.echo(json.dumps({"claims": [], "problems": [p.as_dict() for p in exc.problems]}, indent=2))
        _fail([p.line() for p in exc.problems])
    for problem in loaded.problems:  # a provider entry held back: its claims' problems say so below
        click.echo(problem.line(), err=True)
    results = collect_claims(files, loaded, date_from=date_from, date_to=date_to)
    all_claims = [claim for result in results for claim in result.claims]
    problems = [p for result in results for p in result.problems]
    if as_json:
        click.echo(json.dumps({"claims": [c.as_json() for c in all_claims],
                               "problems": [p.as_dict() for p in problems]}, indent=2))
    else:
        for claim in all_claims:
            click.echo(claims_table(claim, loaded.book))
        for problem in problems:
            click.echo(problem.line(), err=True)
    sys.exit(0 if all(r.ok and not r.held_claims for r in results) and not loaded.problems else 1)


@main.command()
@click.argument("kind", type=click.Choice(["clinic", "patient", "request", "gfe"]))
def schema(kind):
    """Print the JSON Schema of a file kind (for editors that validate YAML)."""
    from superbill.inputs import estimate_models, models, request_models

    kinds: dict[str, type[models.Strict]] = {"clinic": models.Clinic, "patient": models.PatientFile,
                                             "request": request_models.Request, "gfe": estimate_models.EstimateFile}
    model = kinds[kind]
    click.echo(json.dumps(model.model_json_schema(), indent=2))


@main.group(cls=_Group)
def codes():
    """Look codes up in the shipped tables and ICD-10-CM."""


@codes.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=25, show_default=True, help="At most this many results.")
def codes_search(text, limit):
    """Find codes whose label or title contains every word of TEXT."""
    from superbill.tables.codesearch import search

    rows = search(" ".join(text), limit=limit)
    if not rows:
        _fail([f"no code matches {' '.join(text)!r}"])
    for row in rows:
        click.echo(row.line())


@codes.command("show")
@click.argument("code")
def codes_show(code):
    """Show everything the tables know about one code."""
    from superbill.tables.codesearch import show

    lines = show(code)
    if not lines:
        _fail([f"{code}: not found in the shipped tables or ICD-10-CM"])
    click.echo("\n".join(lines))


@main.command()
@click.argument("request", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(), metavar="FILE.pdf",
              help="Where to write the letter (its folder is created when missing).")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF (to preview a template).")
@click.option("--templates", "templates_dir", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Template overrides (default: templates: in clinic.yaml).")
@click.pass_context
def letter(ctx, request, output, as_html, templates_dir):
    """Write the prior-authorization letter of medical necessity for REQUEST."""
    from pathlib import Path

    from superbill.problems import InputRejected

    target = Path(output)
    if target.is_dir():
        raise click.BadParameter(f"{output} is a folder: give the file to write", param_hint="-o")
    loaded = _load_clinic(ctx)
    from superbill.documents.letter import write_letter

    try:
        written, warnings = write_letter(request, loaded, target, as_html=as_html, templates_dir=templates_dir)
    except InputRejected as exc:
        _fail([p.line() for p in exc.problems])
    for warning in warnings:
        click.echo(warning.line(), err=True)
    click.echo(f"wrote {written}")
    sys.exit(1 if loaded.problems else 0)  # another provider's entry in clinic.yaml was rejected


@main.command()
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(), metavar="FILE.pdf",
              help="Where to write the estimate (its folder is created when missing).")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF (to preview a template).")
@click.option("--templates", "templates_dir", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Template overrides (default: templates: in clinic.yaml).")
@click.option("--scheduled-on", callback=_date, metavar="DATE",
              help="When the care was scheduled (YYYY-MM-DD); needed for a request file, wins over the file's.")
@click.option("--requested-on", callback=_date, metavar="DATE",
              help="When the patient asked for an estimate (YYYY-MM-DD), instead of --scheduled-on.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="The ledger the estimate is numbered in (default: superbill-ledger.sqlite3 beside the clinic profile).")
@click.pass_context
def gfe(ctx, source, output, as_html, templates_dir, scheduled_on, requested_on, ledger_path):
    """Write the Good Faith Estimate (No Surprises Act) for a GFE file or a prior-authorization request.

    \b
    The lines and charges come from the billing engine, per session and for the course; the
    estimate gets a number recorded in the ledger, and its due date (1 or 3 business days after
    scheduling or the request) is printed and checked.
    """
    from pathlib import Path

    from superbill.batch.estimates import issue_estimate
    from superbill.batch.ledger import LedgerError
    from superbill.problems import InputRejected

    if scheduled_on and requested_on:
        raise click.BadParameter("give --scheduled-on or --requested-on, not both", param_hint="--requested-on")
    if Path(output).is_dir():
        raise click.BadParameter(f"{output} is a folder: give the file to write", param_hint="-o")
    loaded = _load_clinic(ctx)
    try:
        issued = issue_estimate(source, loaded, output, as_html=as_html, templates_dir=templates_dir,
                                ledger_path=ledger_path, scheduled_on=scheduled_on, requested_on=requested_on)
    except InputRejected as exc:
        _fail([p.line() for p in exc.problems])
    except LedgerError as exc:
        _fail([str(exc)])
    for warning in issued.warnings:
        click.echo(warning.line(), err=True)
    again = "" if issued.new else " (issued before: same number)"
    due = f", due {issued.due_on}" if issued.due_on else ""
    click.echo(f"wrote {issued.path}: Good Faith Estimate {issued.number}{again}, "
               f"total ${issued.course_total:,.2f}{due}")


main.add_command(export)
main.add_command(ledger)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Folder for the superbills (created when missing).")
@click.option("--from", "date_from", callback=_date, metavar="DATE", help="First date of service (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=_date, metavar="DATE", help="Last date of service (YYYY-MM-DD).")
@click.option("--per-session", is_flag=True, help="One superbill per session instead of one per patient.")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF (to preview a template).")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Template overrides (default: templates: in clinic.yaml).")
@click.pass_context
def render(ctx, files, out_dir, date_from, date_to, per_session, as_html, templates_dir):
    """Write superbill PDFs: one per patient file for its sessions in --from/--to (default: all).

    \b
    Files are named from the patient id and the dates, e.g. P0001_2026-11-02_2026-11-30.pdf
    (--per-session: P0001_2026-11-02.pdf), and are readable by you only.
    """
    if date_from and date_to and date_from > date_to:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    from pathlib import Path

    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise click.BadParameter(f"{out_dir} is a file: give a folder", param_hint="-o")
    loaded = _load_clinic(ctx)
    from superbill.documents.render import render_files

    summary = render_files(list(files), loaded, out_dir, date_from=date_from, date_to=date_to,
                           per_session=per_session, html=as_html, templates_dir=templates_dir)
    for problem in summary.problems:
        click.echo(problem.line(), err=True)
    for path in summary.written:
        click.echo(f"wrote {path}")
    click.echo(summary.line())
    sys.exit(0 if summary.ok and not loaded.problems else 1)


@main.group("templates", cls=_Group)
def templates_group():
    """List the templates, or copy them into a folder to customize."""


@templates_group.command("list")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Your template folder (default: templates: in clinic.yaml, when there is one).")
@click.pass_context
def templates_list(ctx, templates_dir):
    """List the templates: the shipped defaults and your overrides."""
    from pathlib import Path

    from superbill.documents.template_files import template_listing
    from superbill.inputs.load import find_clinic

    user_dir = None
    if templates_dir:
        if not Path(templates_dir).is_dir():
            _fail([f"{templates_dir}: error: templates folder not found"])
        user_dir = Path(templates_dir).resolve()
    elif ctx.obj.get("clinic") or find_clinic(None).is_file():
        from superbill.documents.templating import TemplateProblem, templates_folder

        try:
            user_dir = templates_folder(_load_clinic(ctx, report=False), None)
        except TemplateProblem as exc:
            _fail([exc.problem.line()])
    click.echo("\n".join(template_listing(user_dir)))


@templates_group.command("copy")
@click.argument("directory", type=click.Path(file_okay=False))
def templates_copy(directory):
    """Copy the default templates and their README into DIRECTORY, to edit.

    \b
    Then point clinic.yaml at it (templates: ./DIRECTORY) or pass --templates DIRECTORY.
    Delete the files you do not change: the defaults are used for them. Files that
    exist in DIRECTORY are kept as they are: copying again restores deleted defaults.
    """
    from superbill.documents.template_files import copy_templates

    try:
        written, kept = copy_templates(directory)
    except OSError as exc:
        _fail([f"{directory}: error: cannot write: {exc.strerror}"])
    for path in written:
        click.echo(f"wrote {path}")
    for path in kept:
        click.echo(f"kept {path} (it exists: not overwritten)")
    click.echo(f"next: add 'templates: {directory}' to clinic.yaml (relative to it), or use --templates {directory}")


if __name__ == "__main__":  # pragma: no cover
    main()
