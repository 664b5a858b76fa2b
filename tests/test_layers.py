"""The package's layers: data flows one way, and a test fails when an import points the wrong way.

    problems, paths, outfiles   shared plumbing
    ids, tables                 identifiers and code tables
    inputs                      reading and validating files
    engine                      the billing rules (pure) and running a file through them
    documents                   superbill, letter, CMS-1500, Good Faith Estimate
    exports                     837P, CSV, XLSX and the format registry
    batch                       the export run, its workers and the ledger
    cli, cli_batch, cli_common, __main__   the command line

A module may import its own layer and the layers below it, at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import superbill

PACKAGE = Path(superbill.__file__).resolve().parent
LAYERS = [
    {"__init__", "problems", "paths", "outfiles"},
    {"ids", "tables"},
    {"inputs"},
    {"engine"},
    {"documents"},
    {"exports"},
    {"batch"},
    {"cli", "cli_batch", "cli_common", "__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def part_of(module: str) -> str:
    """The top-level part of `superbill.x.y` ("x"), or of a module path relative to the package."""
    parts = module.split(".")
    return parts[1] if parts[0] == "superbill" and len(parts) > 1 else parts[0]


def imported(source: str) -> list[str]:
    """Every superbill module a source text imports, anywhere in it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "superbill":
            found += [f"superbill.{a.name}" for a in node.names] if node.module == "superbill" else [node.module]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "superbill"]
    return found


def violations(owner: str, source: str) -> list[str]:
    """The imports of a module in part `owner` that point to a higher layer."""
    return [f"{owner} imports {name}" for name in imported(source)
            if RANK.get(part_of(name), 0) > RANK[owner]]


def test_every_part_of_the_package_has_a_layer():
    parts = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.glob("*")
             if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists())}
    assert parts - set(RANK) == set()


def test_imports_point_down_the_layers():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        owner = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        found += [f"{path.relative_to(PACKAGE)}: {v}" for v in violations(owner, path.read_text(encoding="utf-8"))]
    assert found == []


def test_a_forbidden_import_is_caught():
    assert violations("engine", "def f():\n    from superbill.documents import pdf\n") == [
        "engine imports superbill.documents"]
    assert violations("engine", "import superbill.batch.ledger\n") == ["engine imports superbill.batch.ledger"]
    assert violations("inputs", "from superbill import engine\n") == ["inputs imports superbill.engine"]
    assert violations("inputs", "from superbill.tables.codebook import CodeBook\n") == []
    assert violations("batch", "from superbill.engine.claims import Claim\n") == []


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def test_modules_and_functions_stay_small():
    """No module over 450 lines, no function over 80: a newcomer reads a rule in one sitting."""
    big_modules, big_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(PACKAGE))
        if source.count("\n") > MAX_MODULE_LINES:
            big_modules.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big_functions.append(f"{name}: {node.name} is {length} lines")
    assert big_modules == []
    assert big_functions == []
