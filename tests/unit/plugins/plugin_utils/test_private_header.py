"""Every Python module of plugin_utils says it is private to the collection, as the model collections do."""
from __future__ import annotations

from pathlib import Path

import pytest

PLUGIN_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils"
MODULES = sorted(path for path in PLUGIN_UTILS.rglob("*.py") if path.name != "__init__.py")
HEADER = "# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks."


def test_the_folder_holds_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PLUGIN_UTILS)))
def test_module_says_it_is_private(path: Path) -> None:
    assert HEADER in path.read_text(encoding="utf-8").splitlines()[:6]
