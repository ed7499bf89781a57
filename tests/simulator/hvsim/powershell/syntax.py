"""PowerShell text -> a tree-sitter syntax tree, and where a node sits in the original text.

The text is first read the way PowerShell reads pasted text (pasted.py: typographic dashes and
quotes); tree-sitter-powershell then parses it. Error messages quote the original line, as
PowerShell does ("At line:2 char:1").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tree_sitter
import tree_sitter_powershell

from .errors import PSError
from .pasted import normalize

Node = tree_sitter.Node


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


@dataclass(frozen=True)
class Script:
    """A parsed script: the original text, the text tree-sitter read, and the tree."""

    original: str
    normalized: str
    root: Node

    @property
    def lines(self) -> list[str]:
        return self.original.splitlines() or [""]

    def text(self, node: Node) -> str:
        return node.text.decode("utf-8") if node.text is not None else ""

    def position(self, node: Node) -> tuple[int, int]:
        """(line, char), both from 1, of a node's start in the original text."""
        row, byte_column = node.start_point
        line_bytes = self.normalized.splitlines()[row].encode("utf-8") if self.normalized.splitlines() else b""
        return row + 1, len(line_bytes[:byte_column].decode("utf-8", errors="replace")) + 1

    def line_of(self, node: Node) -> str:
        row = node.start_point[0]
        lines = self.lines
        return lines[row] if row < len(lines) else ""


class NotInterpreted(Exception):
    """A construct the simulator does not run: it says so instead of pretending (never a silent success)."""

    def __init__(self, what: str, line: int | None = None) -> None:
        where = f" (line {line})" if line is not None else ""
        self.line = line
        super().__init__(f"hvsim does not interpret {what}{where}: the simulated host runs only the Hyper-V, "
                         "NetNat, NetTCPIP, NetAdapter, DnsClient and ServerManager cmdlets of its documented "
                         "subset, with plain PowerShell around them (tests/simulator/README.md, \"Plain "
                         "PowerShell\").")
        self.what = what


def parse(text: str) -> Script:
    normalized = normalize(text)
    tree = _parser().parse(normalized.encode("utf-8"))
    script = Script(text, normalized, tree.root_node)
    error = _first_error(tree.root_node)
    if error is not None:
        line, char = script.position(error)
        raise PSError(f"At line:{line} char:{char}\r\n+ {script.line_of(error)}\r\nUnexpected token or incomplete "
                      "statement: the script cannot be parsed.", "ParserError", "ParseException",
                      "System.Management.Automation.ParseException")
    return script


def _bareword_array(node: Node) -> bool:
    """`-Name A,B`: tree-sitter-powershell 0.26 reads `,B` as a second token after a missing
    separator; PowerShell reads one array argument (interpreter.py joins them)."""
    parent = node.parent
    if parent is None or parent.type != "command_argument_sep":
        return False
    after = parent.next_sibling
    return after is not None and after.type == "generic_token" and (after.text or b"").startswith(b",")


def _first_error(node: Node) -> Node | None:
    if node.is_missing and _bareword_array(node):
        return None
    if node.type == "ERROR" or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return None
