"""Customizing the superbill: `templates list`, `templates copy`, overrides seen in the PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest
import yaml
from click.testing import CliRunner
from helpers import without_edition_note

from superbill.cli import main
from superbill.inputs.starter import write_starter
from superbill.paths import TEMPLATES_DIR

DEFAULT_NOTE = "How to get reimbursed by your plan"


@pytest.fixture
def clinic(tmp_path):
    folder = tmp_path / "clinic"
    write_starter(folder)
    return folder


def run(clinic: Path | None, *args):
    prefix = ["--clinic", str(clinic / "clinic.yaml")] if clinic else []
    return CliRunner().invoke(main, [*prefix, *map(str, args)])


def set_templates(clinic: Path, value: str) -> None:
    data = yaml.safe_load((clinic / "clinic.yaml").read_text())
    data["templates"] = value
    (clinic / "clinic.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def render_example(clinic: Path, out: Path, *extra) -> str:
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    [pdf] = list(out.glob("*.pdf"))
    return pdf_text(pdf)


def shipped() -> list[str]:
    return sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*")
                  if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts)


# ---------------------------------------------------------------- templates copy


def test_copy_writes_every_default_and_the_readme_and_never_overwrites(tmp_path):
    target = tmp_path / "mine"
    result = run(None, "templates", "copy", target)
    assert result.exit_code == 0, result.output
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert copied == shipped()
    assert {"README.md", "base.html", "base.css", "superbill.html", "superbill.css"} <= set(copied)
    for name in copied:
        assert (target / name).read_bytes() == (TEMPLATES_DIR / name).read_bytes()
        assert f"wrote {target / name}" in result.stdout.splitlines()
    readme = (target / "README.md").read_text()
    for block in ("`header`", "`parties`", "`diagnoses`", "`services`", "`totals`", "`notes`", "`notices`"):
        assert block in readme
    assert 'extends "default:superbill.html"' in readme

    (target / "superbill.html").write_text("my edits")
    again = run(None, "templates", "copy", target)
    assert again.exit_code == 0, again.output
    assert f"kept {target / 'superbill.html'} (it exists: not overwritten)" in again.stdout.splitlines()
    assert (target / "superbill.html").read_text() == "my edits"  # nothing was written over
    assert not any(line.startswith("wrote ") for line in again.stdout.splitlines())  # all there already


def test_copy_into_a_folder_restores_the_deleted_defaults_and_keeps_the_rest(tmp_path):
    target = tmp_path / "partial"
    target.mkdir()
    (target / "superbill.css").write_text("/* mine */")
    result = run(None, "templates", "copy", target)
    assert result.exit_code == 0, result.output
    assert (target / "superbill.css").read_text() == "/* mine */"
    lines = result.stdout.splitlines()
    assert f"kept {target / 'superbill.css'} (it exists: not overwritten)" in lines
    assert f"wrote {target / 'superbill.html'}" in lines and f"wrote {target / 'letter.html'}" in lines
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == shipped()

    (target / "letter.html").unlink()  # a default deleted: copying again brings back only that one
    again = run(None, "templates", "copy", target)
    assert [line for line in again.stdout.splitlines() if line.startswith("wrote ")] == [f"wrote {target / 'letter.html'}"]


# ---------------------------------------------------------------- templates list


def test_list_shows_defaults_and_the_clinic_overrides(clinic, tmp_path):
    result = run(clinic, "templates", "list")
    assert result.exit_code == 0, result.output
    rows = {tuple(line.split()) for line in result.stdout.splitlines() if line.startswith("  ")}
    assert ("superbill.html", "default") in rows
    assert ("base.html", "default") in rows
    assert ("superbill.css", "default") in rows
    assert ("cms1500-grid.yaml", "default") in rows  # the CMS-1500's grid and drawing: overridable too
    assert ("cms1500-form.yaml", "default") in rows

    (clinic / "look").mkdir()
    (clinic / "look" / "superbill.css").write_text(".notes { display: none; }")
    (clinic / "look" / "extra.html").write_text("<p>x</p>")
    set_templates(clinic, "look")
    result = run(clinic, "templates", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"clinic templates:  {(clinic / 'look').resolve()} (searched first)" in lines
    rows = {tuple(line.split(None, 1)) for line in lines if line.startswith("  ")}
    assert ("superbill.css", "clinic override") in rows
    assert ("superbill.html", "default") in rows
    assert ("extra.html", "clinic") in rows

    result = run(clinic, "templates", "list", "--templates", tmp_path / "missing")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{tmp_path / 'missing'}: error: templates folder not found"


# ---------------------------------------------------------------- overrides in the PDF


def test_edited_copy_of_a_block_shows_in_the_pdf(clinic, tmp_path):
    assert run(None, "templates", "copy", clinic / "templates").exit_code == 0
    page = clinic / "templates" / "superbill.html"
    source = page.read_text()
    start = source.index("{% block notes %}\n")
    end = source.index("{% endblock %}", start)
    page.write_text(source[:start] + "{% block notes %}\n<section class=\"notes\"><h2>Mail this to your plan</h2>"
                    "<p>Send it to {{ insurance.payer_name }} with form EX-12 within 180 days.</p></section>\n"
                    + source[end:])
    set_templates(clinic, "./templates")
    text = render_example(clinic, tmp_path / "out")
    assert "MAIL THIS TO YOUR PLAN" in text  # the heading style upper-cases it
    assert "Send it to Example Health Plan with form EX-12 within 180 days." in text
    assert DEFAULT_NOTE.upper() not in text
    assert "Total charges $1,035.00" in text  # the rest of the document is the default


def test_extending_the_default_replaces_one_block_and_templates_option_wins(clinic, tmp_path):
    ours = clinic / "ours"
    ours.mkdir()
    (ours / "superbill.html").write_text(
        '{% extends "default:superbill.html" %}\n'
        '{% block notices %}{{ super() }}<p>Practice policy: pay at the visit.</p>{% endblock %}\n')
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "superbill.html").write_text(
        '{% extends "default:superbill.html" %}\n{% block notes %}<p>From the --templates folder.</p>{% endblock %}\n')
    set_templates(clinic, "ours")

    text = render_example(clinic, tmp_path / "a")
    assert "Practice policy: pay at the visit." in text
    assert "CPT® is a registered trademark of the American Medical Association." in text  # super() kept it
    assert DEFAULT_NOTE.upper() in text

    text = render_example(clinic, tmp_path / "b", "--templates", theirs)
    assert "From the --templates folder." in text
    assert "Practice policy" not in text
    assert DEFAULT_NOTE.upper() not in text


def test_a_copied_stylesheet_is_the_one_used(clinic, tmp_path):
    look = clinic / "look"
    look.mkdir()
    css = (TEMPLATES_DIR / "superbill.css").read_text() + "\n.notes { display: none; }\n"
    (look / "superbill.css").write_text(css)
    set_templates(clinic, "look")
    text = render_example(clinic, tmp_path / "out")
    assert DEFAULT_NOTE.upper() not in text
    assert re.search(r"Balance due \$385\.00", text)


def test_clinic_templates_folder_that_does_not_exist_is_an_error(clinic, tmp_path):
    set_templates(clinic, "nowhere")
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{clinic / 'clinic.yaml'}: templates: error: templates folder 'nowhere' not found (relative to clinic.yaml)"]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the template data, documented


def _documented(section: str) -> dict[str, list[str]]:
    """{path: [field, ...]} from one "## The data a ... template sees" section of templates/README.md:
    the bullets before the first ### are the top-level names (path "")."""
    readme = (TEMPLATES_DIR / "README.md").read_text(encoding="utf-8")
    text = readme.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    out: dict[str, list[str]] = {"": []}
    path = ""
    for line in text.splitlines():
        heading = re.fullmatch(r"### `([^`]+)`.*", line)
        if heading:
            path = heading.group(1)
            assert path not in out, f"{path} documented twice"
            out[path] = []
        elif bullet := re.match(r"- `([a-z_0-9]+)`:", line):
            out[path].append(bullet.group(1))
    return out


def _fields(root) -> dict[str, list[str]]:
    """{path: [field, ...]} of a context dataclass and of every dataclass inside it, each at the first
    path it is reached by (breadth first): `providers[]`, `insurance.subscriber`, `lines[].ndc`."""
    import dataclasses
    import typing

    out: dict[str, list[str]] = {}
    seen: set[type] = set()
    queue: list[tuple[str, type]] = [("", root)]
    while queue:
        path, cls = queue.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        out[path] = [f.name for f in dataclasses.fields(cls)]
        for name, hint in typing.get_type_hints(cls).items():
            suffix = ""
            if typing.get_origin(hint) is list:
                hint, suffix = typing.get_args(hint)[0], "[]"
            inner = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
            if len(inner) == 1 and dataclasses.is_dataclass(inner[0]):
                queue.append((f"{path}.{name}{suffix}".lstrip("."), inner[0]))
    return out


@pytest.mark.parametrize("section, context", [
    ("The data a superbill template sees", "superbill"),
    ("The data a letter template sees", "letter"),
])
def test_readme_documents_exactly_the_template_data(section, context):
    from superbill.documents.letter_context import LetterContext
    from superbill.documents.superbill_context import SuperbillContext

    root = {"superbill": SuperbillContext, "letter": LetterContext}[context]
    assert _documented(section) == _fields(root)


def test_a_template_error_names_the_file_and_the_line(clinic, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "superbill.html").write_text('{% extends "default:superbill.html" %}\n{% block notes %}\n<p>\n'
                                         '{{ patient.nickname }}</p>{% endblock %}\n')
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "out", "--templates", mine)
    assert result.exit_code == 1
    assert without_edition_note(result.stderr.splitlines()) == [f"{mine / 'superbill.html'}: line 4: error: template error: "
                                          "'PatientInfo object' has no attribute 'nickname'"]
    (mine / "letter.html").write_text('{% extends "default:letter.html" %}\n{% block closing %}{{ plan.nope }}'
                                      '{% endblock %}\n')
    result = run(clinic, "letter", clinic / "requests/example.yaml", "-o", tmp_path / "l.pdf", "--templates", mine)
    assert result.exit_code == 1
    assert without_edition_note(result.stderr.splitlines()) == [f"{mine / 'letter.html'}: line 2: error: template error: "
                                          "'PlanInfo object' has no attribute 'nope'"]


def test_a_reference_a_document_may_not_load_is_a_warning_naming_template_line_and_reference(clinic, tmp_path):
    mine = tmp_path / "mine"
    (mine / "img").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (20, 10), (0, 0, 0)).save(mine / "img" / "ok.png")
    (mine / "superbill.html").write_text(
        '{% extends "default:superbill.html" %}\n'
        '{% block notes %}<img src="https://example.com/logo.png"><img src="img/ok.png">\n'
        '<img src="img/missing.png"><img src="{{ practice.logo_url }}">\n'
        '<a href="https://example.com/pay">pay online</a>\n'
        '<style>@import url("file:///etc/hosts");</style>{% endblock %}\n')
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "out", "--templates", mine)
    assert result.exit_code == 0, result.output
    template = mine / "superbill.html"
    assert without_edition_note(result.stderr.splitlines()) == [
        f"{template}: line 2: warning: 'https://example.com/logo.png' is not a file in the template folders "
        "(a document loads no web addresses or data URLs); documents are made without it",
        f"{template}: line 3: warning: 'img/missing.png' is not there; documents are made without it",
        f"{template}: line 5: warning: 'file:///etc/hosts' is outside the template folders; documents are made "
        "without it",
    ]  # the image in the folder loads, the computed logo and a plain link are not fetched: no warning
    (mine / "letter.html").write_text('{% extends "default:letter.html" %}\n'
                                      '{% block closing %}<img src="http://example.com/x.png">{% endblock %}\n')
    result = run(clinic, "letter", clinic / "requests/example.yaml", "-o", tmp_path / "l.html", "--html",
                 "--templates", mine)
    assert result.exit_code == 0, result.output
    assert (f"{mine / 'letter.html'}: line 2: warning: 'http://example.com/x.png' is not a file in the template "
            "folders (a document loads no web addresses or data URLs); documents are made without it"
            ) in result.stderr.splitlines()


def test_every_document_refuses_a_templates_folder_that_is_not_there(tmp_path):
    """The one environment factory raises for a missing folder: no document renders with the defaults
    instead, silently (the CMS-1500 once did)."""
    from superbill.documents.templating import TemplateProblem, environment, render

    with pytest.raises(TemplateProblem) as caught:
        environment(tmp_path / "gone")
    assert caught.value.problem.line() == f"{tmp_path / 'gone'}: error: templates folder not found"
    with pytest.raises(TemplateProblem):
        render("superbill.html", {}, tmp_path / "gone")


def test_the_filters_are_the_shared_formatters():
    import datetime as dt
    from decimal import Decimal

    from superbill.documents.templating import environment

    env = environment(None)
    template = env.from_string("{{ a | money }} {{ b | money }} {{ c | money }} {{ d | date }} {{ d | longdate }} "
                               "{{ p | phone }}")
    assert template.render(a=Decimal("2268"), b=Decimal("1234567.891"), c=Decimal("-5"), d=dt.date(2026, 11, 2),
                           p="2175550100") == "$2,268.00 $1,234,567.89 -$5.00 11/02/2026 November 2, 2026 (217) 555-0100"
