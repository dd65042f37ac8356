"""The shape the code keeps: short functions, one reader of the posterior's attrs, a thin CLI."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "rosetta"
MAX_FUNCTION_LINES = 80
MAX_CLI_LINES = 600
#: Only these modules read or write a posterior's attrs (everything else asks a `rosetta.Fit`).
ATTRS_OWNERS = {"io.py", "fitted.py", "scale.py"}


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _length_without_docstring(node) -> int:
    """Lines from ``def`` to the end, the docstring's lines left out."""
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        length -= first.end_lineno - first.lineno + 1
    return length


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _functions(ast.parse(path.read_text())):
            length = _length_without_docstring(node)
            if length > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(PACKAGE)}::{node.name} ({length} lines)")
    assert not long, long


def test_only_io_and_the_fit_read_posterior_attrs():
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ATTRS_OWNERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "attrs":
                readers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not readers, readers


def test_the_command_line_stays_thin():
    assert len((PACKAGE / "cli.py").read_text().splitlines()) < MAX_CLI_LINES
