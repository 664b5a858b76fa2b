"""CMS-1500 pages drawn directly with reportlab: the red form once, the data on top of it.

The form (templates/cms1500-form.yaml) becomes one PDF form XObject, drawn once and placed on every
page of the facsimile; data-only pages leave it out and print nothing but the data. Data is 12 pt
Courier, whose characters are exactly 0.1 in wide: the form's 10 characters per inch. Courier and
Helvetica are PDF standard fonts, so nothing is embedded or subset.
"""

from __future__ import annotations

import io

from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from superbill.documents.cms1500_layout import COLUMN, LINE, PAGE_HEIGHT, PAGE_WIDTH, Grid

DATA_FONT, DATA_SIZE = "Courier", 12.0  # 0.6 em advance x 12 pt = 7.2 pt = 0.1 in
DATA_BASELINE = 9.0  # points below a line's top: capitals from 2 pt to 9 pt, descenders to 11.5 pt
RULE_INSET = 0.6  # a rule "before column c" sits this far left of the column's first character
LABEL_FONT, LABEL_SCALE = "Helvetica", 82  # a narrow sans serif, as on the printed form
LABEL_SIZES = {"": (5.2, 6.0), "small": (4.4, 5.0), "big": (6.0, 6.0)}  # font size, line height
NOTE_GREY = HexColor("#333333")
FORM_NAME = "cms1500form"

# Compressed streams stay binary: ASCII85 on top of Flate makes them a quarter larger and costs as
# much time as drawing the form (superbill is reportlab's only user in the process).
rl_config.useA85 = 0


def font_ref(canvas: Canvas, font: str) -> str:
    """The document's resource name of a standard font (registering it), for operators written here.

    The text operators are formatted by this module rather than one reportlab call per label and
    value: reportlab formats each number in Python, which made drawing the form cost more than a
    whole page of data."""
    return canvas._doc.getInternalFontName(font)


_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)"})


def pdf_string(text: str) -> str:
    """A PDF literal string's inside: ASCII (the form's text and data are), \\ ( ) escaped."""
    return text.encode("ascii", "replace").decode("ascii").translate(_ESCAPES)


def _y(top: float) -> float:
    return PAGE_HEIGHT - top


def _baseline(top: float, size: float, line_height: float) -> float:
    """Where a label's baseline falls when its line box starts at `top` (half-leading, sans ascent)."""
    return top + (line_height - 1.117 * size) / 2 + 0.905 * size


class _Form:
    """Draws templates/cms1500-form.yaml onto a canvas, on the grid's geometry."""

    def __init__(self, canvas: Canvas, grid: Grid, spec: dict):
        self.c, self.grid, self.spec = canvas, grid, spec
        self.ink = HexColor(spec.get("colors", {}).get("ink", "#d23a2e"))
        self.shade = HexColor(spec.get("colors", {}).get("shade", "#fbe4e1"))
        self.ops: list[str] = []  # every label in one text object, its operators formatted here
        self.state: tuple = ()

    def rx(self, column: float) -> float:
        return self.grid.x(column) - RULE_INSET

    def _path(self, commands: list[str], shift: int = 0) -> str:
        """The PDF path operators of drawing commands (H, V, B, T), formatted here: the form has some
        400 points, and reportlab's own number formatting would cost more than all the rest."""
        g, ops = self.grid, []
        for command in commands:
            kind, *numbers = command.split()
            a, b, *rest = (float(n) for n in numbers)
            if kind == "H":
                y = _y(g.top(a + shift))
                ops.append(f"{self.rx(b):.2f} {y:.2f} m {self.rx(rest[0]):.2f} {y:.2f} l")
            elif kind == "V":
                x = self.rx(a)
                ops.append(f"{x:.2f} {_y(g.top(b + shift)):.2f} m {x:.2f} {_y(g.top(rest[0] + shift)):.2f} l")
            elif kind == "B":  # a check box around the character cell (line a, column b)
                left, top = g.x(b) + COLUMN / 2 - 4.14, g.top(a + shift) + 1.58
                ops.append(f"{left:.2f} {_y(top + 8.64):.2f} 8.28 8.64 re")
            elif kind == "T":  # a short divider through the middle of column a on line b
                x, top = g.x(a) + COLUMN / 2, g.top(b + shift)
                ops.append(f"{x:.2f} {_y(top + 3.6):.2f} m {x:.2f} {_y(top + 11.52):.2f} l")
            else:
                raise ValueError(f"cms1500-form.yaml: unknown drawing command {command!r}")
        return " ".join(ops)

    def _stroke(self, commands: list[str], width: float, dash=None, shift_each=None):
        if not commands:
            return
        self.c.setLineWidth(width)
        self.c.setDash(dash or [])
        self.c.addLiteral(" ".join(self._path(commands, shift) for shift in shift_each or [0]) + " S")

    def draw(self) -> None:
        c, g, spec = self.c, self.grid, self.spec
        step = g.service_line_step
        lines = [n * step for n in range(6)]
        c.setFillColor(self.shade)
        for l1, c1, l2, c2 in spec.get("shaded", []):
            c.rect(self.rx(c1), _y(g.top(l2)), self.rx(c2) - self.rx(c1), g.top(l2) - g.top(l1), stroke=0, fill=1)
        c.setStrokeColor(self.ink)
        row = spec.get("service_line", {})
        self._stroke(spec.get("dotted", []), 0.6, [0.8, 1.2])
        self._stroke(row.get("dotted", []), 0.6, [0.8, 1.2], lines)
        self._stroke(spec.get("thin", []), 0.6)
        self._stroke(row.get("thin", []), 0.6, None, lines)
        self._stroke(spec.get("thick", []), 1.3)
        c.setFillColor(self.ink)
        for shift in lines:
            for label in row.get("labels", []):
                self.label(label, shift)
        for label in spec.get("labels", []):
            self.label(label)
        for block in spec.get("blocks", []):
            self.block(*block)
        self.headings()
        c.addLiteral("BT " + " ".join(self.ops) + " ET")

    def label(self, entry: list, shift: int = 0) -> None:
        line, column, text, style, dy, dx = (list(entry) + ["", 0.012, 0.03][len(entry) - 3:])[:6]
        size, line_height = LABEL_SIZES[style or ""]
        top = self.grid.top(line + shift) + dy * 72
        self._text(self.rx(column) + dx * 72, _baseline(top, size, line_height), text, size)

    def block(self, line, column, width, text, style="", dy=0.012, align="left") -> None:
        size, line_height = LABEL_SIZES[style or ""]
        left, room = self.rx(column) + 0.02 * 72, width * COLUMN - 0.04 * 72
        top = self.grid.top(line) + dy * 72
        for n, words in enumerate(self._wrap(text, size, room)):
            run = stringWidth(words, LABEL_FONT, size) * LABEL_SCALE / 100
            x = left + (room - run) / 2 if align == "center" else left
            self._text(x, _baseline(top + n * line_height, size, line_height), words, size)

    def _wrap(self, text: str, size: float, room: float) -> list[str]:
        lines, current = [], ""
        for word in text.split():
            trial = f"{current} {word}".strip()
            if current and stringWidth(trial, LABEL_FONT, size) * LABEL_SCALE / 100 > room:
                lines.append(current)
                current = word
            else:
                current = trial
        return lines + ([current] if current else [])

    def _text(self, x: float, baseline: float, text: str, size: float, font: str = LABEL_FONT,
              scale: float = LABEL_SCALE, spacing: float = 0.0, turned: bool = False) -> None:
        ops = self.ops
        if self.state[:2] != (font, size):
            ops.append(f"{font_ref(self.c, font)} {size:g} Tf")
        if not self.state or self.state[2] != scale:
            ops.append(f"{scale:g} Tz")
        if not self.state or self.state[3] != spacing:
            ops.append(f"{spacing:g} Tc")
        self.state = (font, size, scale, spacing)
        turn = "0 -1 1 0" if turned else "1 0 0 1"  # turned: read downwards, tops toward the page's edge
        ops.append(f"{turn} {x:.2f} {_y(baseline):.2f} Tm ({pdf_string(text)}) Tj")

    def headings(self) -> None:
        g, spec = self.grid, self.spec
        if "title" in spec:
            line, column, text = spec["title"]
            self._text(self.rx(column) + 0.02 * 72, g.top(line) + 12.0, text, 13.0, "Helvetica-Bold", 100, 0.4)
        for line, text in spec.get("side", []):  # down the right margin, read with the page turned
            self._text(8.46 * 72 - 5.0, g.top(line), text, 5.5, LABEL_FONT, 100, 0.5, turned=True)
        numbers = spec.get("line_numbers", [])
        for n, text in enumerate(numbers[1:]):
            top = g.top(numbers[0] + n * g.service_line_step)
            self._text(0.13 * 72, _baseline(top, 8.0, LINE), text, 8.0, "Helvetica-Bold", 100)
        for line, column, text, dy, *weight in spec.get("bottom", []):
            font = "Helvetica-Bold" if weight and weight[0] == "bold" else "Helvetica"
            self._text(self.rx(column) + 0.017 * 72, _baseline(g.top(line) + dy * 72, 5.5, 6.4), text, 5.5, font, 100)


def render_pages(pages: list[dict], grid: Grid, form: dict | None, offset: tuple[float, float]) -> bytes:
    """One PDF of form pages. `pages`: dicts with `values` ([(Box, text)]) and `footer`
    (left, right) or None; `form` None prints the data only; `offset` (left, top) in points."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    canvas.setTitle("CMS-1500 claim forms")
    canvas.setCreator("superbill")
    if form is not None:
        canvas.beginForm(FORM_NAME)
        _Form(canvas, grid, form).draw()
        canvas.endForm()
    left, down = offset
    for page in pages:
        canvas.saveState()
        canvas.translate(left, -down)
        if form is not None:
            canvas.doForm(FORM_NAME)
        ops = [f"BT {font_ref(canvas, DATA_FONT)} {DATA_SIZE:g} Tf 0 g"]
        for box, value in page["values"]:
            ops.append(f"1 0 0 1 {grid.x(box.column):.2f} {_y(grid.top(box.line) + DATA_BASELINE):.2f} Tm "
                       f"({pdf_string(value)}) Tj")
        canvas.addLiteral(" ".join(ops) + " ET")
        canvas.restoreState()
        if page.get("footer"):
            _footer(canvas, *page["footer"])
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _footer(canvas: Canvas, left: str, right: str) -> None:
    """The facsimile's note beneath the form (never on data-only pages: it would print on the form)."""
    canvas.setFillColor(NOTE_GREY)
    canvas.setFont("Helvetica", 5.5)
    baseline = _y(10.68 * 72 + 5.1)
    canvas.drawString(0.3 * 72, baseline, left)
    canvas.drawRightString(PAGE_WIDTH - 0.3 * 72, baseline, right)
