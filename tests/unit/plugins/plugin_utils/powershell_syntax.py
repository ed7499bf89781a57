"""Parse PowerShell text with tree-sitter-powershell, for tests that check generated scripts."""

from __future__ import annotations

import tree_sitter
import tree_sitter_powershell

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def syntax_errors(script: str) -> list[str]:
    """The (line, text) of every ERROR or MISSING node; empty when the script parses cleanly."""
    tree = _PARSER.parse(script.encode("utf-8"))
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            line = node.start_point[0] + 1
            found.append(f"line {line}: {script.splitlines()[line - 1].strip()!r}")
        stack.extend(node.children)
    return found


def command_names(script: str) -> set[str]:
    """Every command name invoked literally in the script."""
    tree = _PARSER.parse(script.encode("utf-8"))
    names: set[str] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and node.text is not None:
            names.add(node.text.decode("utf-8"))
        stack.extend(node.children)
    return names
