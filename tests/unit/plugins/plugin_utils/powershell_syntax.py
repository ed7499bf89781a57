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
    """Every command name invoked literally in the script, without its module qualifier
    (`Hyper-V\\Get-VM` is Get-VM)."""
    return {name.rsplit("\\", 1)[-1] for name in qualified_command_names(script)}


def qualified_command_names(script: str) -> set[str]:
    """Every command name invoked literally in the script, as written (`Hyper-V\\Get-VM`)."""
    tree = _PARSER.parse(script.encode("utf-8"))
    names: set[str] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and node.text is not None:
            names.add(node.text.decode("utf-8"))
        stack.extend(node.children)
    return names


def _nodes(script: str, node_type: str) -> list[tree_sitter.Node]:
    tree = _PARSER.parse(script.encode("utf-8"))
    found: list[tree_sitter.Node] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == node_type:
            found.append(node)
        stack.extend(reversed(node.children))
    return found


def function_text(script: str, name: str) -> str:
    """The whole text of the one function named `name` (found by parsing, never by slicing text)."""
    matches = [
        node
        for node in _nodes(script, "function_statement")
        if any(child.type == "function_name" and child.text is not None and child.text.decode("utf-8").lower() == name.lower() for child in node.children)
    ]
    assert len(matches) == 1, f"{len(matches)} functions named {name}"
    text = matches[0].text
    assert text is not None
    return text.decode("utf-8")


def commands(script: str) -> list[tuple[str, list[str]]]:
    """Every command invocation: its name as written and the parameter names it passes (-Name),
    without the dash, in order."""
    found: list[tuple[str, list[str]]] = []
    for node in _nodes(script, "command"):
        name_node = next((child for child in node.children if child.type == "command_name"), None)
        if name_node is None or name_node.text is None:
            continue
        parameters: list[str] = []
        for child in node.children:
            if child.type == "command_elements":
                for element in child.children:
                    if element.type == "command_parameter" and element.text is not None:
                        parameters.append(element.text.decode("utf-8").lstrip("-").split(":", 1)[0])
        found.append((name_node.text.decode("utf-8"), parameters))
    return found


def switch_clause_body(script: str, label: str) -> str:
    """The body of the one switch clause whose condition is the string `label` (`'stop_vm' { ... }`):
    the text after its opening brace, through its closing brace, found by parsing."""
    matches = []
    for node in _nodes(script, "switch_clause"):
        condition = next((child for child in node.children if child.type == "switch_clause_condition"), None)
        if condition is not None and condition.text is not None and condition.text.decode("utf-8").strip("'\"") == label:
            matches.append(node)
    assert len(matches) == 1, f"{len(matches)} switch clauses labelled {label!r}"
    block = next(child for child in matches[0].children if child.type == "statement_block")
    text = block.text
    assert text is not None
    return text.decode("utf-8")[1:]
