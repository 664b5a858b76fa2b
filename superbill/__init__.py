"""superbill: superbills, prior-authorization letters and claim exports for cash-pay clinics.

The library is importable on its own; `superbill.cli` is a thin shell over it.
Data flows one way: load and validate records (`superbill.inputs.load`) → build claims with the
billing rules (`superbill.engine.claims`, `superbill.engine.scrub`: pure, no I/O) → render or export.
"""

__version__ = "0.1.0"
