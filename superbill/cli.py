"""The `superbill` command: a thin click shell over the library.

Heavy modules (pydantic models, WeasyPrint, the ICD-10-CM index) are imported inside the commands
so `superbill --help` starts instantly. Exit codes: 0 success, 1 input rejected or a check failed,
2 usage error.
"""

from __future__ import annotations

import json
import sys

import click


class _Group(click.Group):
    def list_commands(self, ctx):
        return list(self.commands)  # in the order they were declared, not alphabetical


def _fail(lines, code: int = 1):
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def _load_clinic(ctx):
    from superbill.load import find_clinic, load_clinic
    from superbill.problems import InputRejected

    path = find_clinic(ctx.obj.get("clinic"))
    try:
        return load_clinic(path)
    except InputRejected as exc:
        _fail([p.line() for p in exc.problems])


def _date(ctx, param, value):
    if value is None:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be a date, YYYY-MM-DD") from None


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
    """Write a starter clinic folder: clinic.yaml, patients/example.yaml, requests/example.yaml."""
    from superbill.starter import write_starter

    try:
        written = write_starter(directory)
    except FileExistsError as exc:
        _fail([f"{exc.filename}: already exists; not overwriting (choose an empty folder)"])
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {directory} && superbill check patients/example.yaml requests/example.yaml")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def check(ctx, files, as_json):
    """Validate patient, request or clinic files and scrub every claim they produce."""
    from superbill.checking import check_files

    report = check_files(files, ctx.obj.get("clinic"))
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
    from superbill.checking import collect_claims
    from superbill.claimtable import claims_table

    loaded = _load_clinic(ctx)
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
    sys.exit(0 if all(r.ok for r in results) else 1)


@main.command()
@click.argument("kind", type=click.Choice(["clinic", "patient", "request"]))
def schema(kind):
    """Print the JSON Schema of a file kind (for editors that validate YAML)."""
    from superbill import models

    model = {"clinic": models.Clinic, "patient": models.PatientFile, "request": models.Request}[kind]
    click.echo(json.dumps(model.model_json_schema(), indent=2))


@main.group(cls=_Group)
def codes():
    """Look codes up in the shipped tables and ICD-10-CM."""


@codes.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=25, show_default=True, help="At most this many results.")
def codes_search(text, limit):
    """Find codes whose label or title contains every word of TEXT."""
    from superbill.codesearch import search

    rows = search(" ".join(text), limit=limit)
    if not rows:
        _fail([f"no code matches {' '.join(text)!r}"])
    for row in rows:
        click.echo(row.line())


@codes.command("show")
@click.argument("code")
def codes_show(code):
    """Show everything the tables know about one code."""
    from superbill.codesearch import show

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
    from superbill.letter import CitationLibraryError, prepare_letter, render_html, render_letter_pdf, template_folder
    from superbill.outfiles import ensure_folder, write_atomic

    try:
        prepared = prepare_letter(request, loaded)
    except InputRejected as exc:
        _fail([p.line() for p in exc.problems])
    for warning in prepared.warnings:
        click.echo(warning.line(), err=True)
    user_dir = template_folder(loaded, templates_dir)
    import jinja2

    try:
        html = render_html(prepared.context, user_dir)
        data = html if as_html else render_letter_pdf(html, user_dir, prepared.files)
    except jinja2.TemplateSyntaxError as exc:
        _fail([f"{exc.filename or exc.name}: line {exc.lineno}: error: {exc.message}"])
    except jinja2.TemplateNotFound as exc:
        _fail([f"{user_dir or 'templates'}: error: template {exc.name} not found"])
    except (jinja2.TemplateError, CitationLibraryError) as exc:
        _fail([f"letter.html: error: the template cannot be rendered: {exc}"])
    ensure_folder(target.parent)
    write_atomic(target, data)
    click.echo(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
