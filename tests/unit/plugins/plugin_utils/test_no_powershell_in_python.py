"""No PowerShell that runs on a host lives in a Python string: every script the plugins send is
one of the collection's .ps1 files (plugins/plugin_utils/powershell/), loaded by _target_scripts.
Python keeps only what it shows to people (the `commands` an operator would type, fix texts)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
SOURCES = sorted(PLUGINS.rglob("*.py"))
# Calls that run text on a host, and the argument that is the script.
RUNNERS = {"_low_level_execute_command": 0, "_encode_script": 0, "add_script": 0, "exec_command": 0}
# Statements of a script, never of a sentence for people.
SCRIPT_MARKERS = ("$ErrorActionPreference", "ConvertTo-Json", "ConvertFrom-Json", "[ordered]@{", "param($", "$input", "-EncodedCommand ")


def _string_value(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and (_string_value(node.left) or _string_value(node.right))
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PLUGINS)))
def test_nothing_runs_a_script_written_in_python(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS:
            index = RUNNERS[node.func.attr]
            if len(node.args) > index:
                assert not _string_value(node.args[index]), f"{path.name}:{node.lineno}: {node.func.attr} is given a script written in Python"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PLUGINS)))
def test_no_python_string_holds_script_statements(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documentation = {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id in documentation for target in node.targets):
            skipped |= {id(child) for child in ast.walk(node)}
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and ast.get_docstring(node, clean=False):
            skipped.add(id(node.body[0].value))  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if id(node) in skipped or not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        found = [marker for marker in SCRIPT_MARKERS if marker in node.value]
        assert not found, f"{path.name}:{node.lineno}: a script statement in a Python string ({found}): move it to a .ps1 file"
