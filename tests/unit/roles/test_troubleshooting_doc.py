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
    """The findings the roles add themselves (in the filters they use) have a row too."""
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    sources = [*(root / "roles").rglob("*.yml"), *(root / "plugins" / "filter").glob("*.py")]
    own = {code for path in sources for code in re.findall(r"""['"]code['"]: ['"](l1\.[a-z0-9_.]+)['"]""", path.read_text(encoding="utf-8"))}
    assert own == {"l1.mac_spoofing_left_on"}, own
    assert all(f"`{code}`" in text for code in own)
