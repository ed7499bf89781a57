"""docs/troubleshooting.md says what to do about every reason code win_nested_info can emit."""

from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import CODES

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_reason_code_has_a_row() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", text, flags=re.MULTILINE))
    assert set(CODES) <= rows, sorted(set(CODES) - rows)
    assert rows - set(CODES) == set(), "rows for codes win_nested_info does not emit"


def test_roles_own_codes_are_documented() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    roles = (Path(__file__).resolve().parents[3] / "roles").rglob("*.yml")
    own = {code for path in roles for code in re.findall(r"'code': '([a-z0-9_.]+)'", path.read_text(encoding="utf-8"))}
    assert own, "the roles emit findings of their own (l1.build_differs)"
    assert all(f"`{code}`" in text for code in own)
