"""Every module's DOCUMENTATION says what its one argument spec (in its action plugin) accepts.

validate-modules skips doc-only module files, so this test holds the two together for every
module in plugins/modules, and checks that EXAMPLES and RETURN are YAML.
"""

from __future__ import annotations

import importlib
import typing as t
from pathlib import Path

import pytest
import yaml

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
MODULES = sorted(path.stem for path in (PLUGINS / "modules").glob("*.py") if path.stem != "__init__")
SECRET_WORDS = ("password", "secret", "token", "key")


def _documented(options: dict[str, t.Any]) -> dict[str, t.Any]:
    """DOCUMENTATION options as an argument spec (type defaults to str, as in ansible-core)."""
    spec = {}
    for name, doc in options.items():
        entry: dict[str, t.Any] = {"type": doc.get("type", "str")}
        for key in ("default", "choices", "elements", "required", "aliases"):
            if key in doc:
                entry[key] = doc[key]
        if "suboptions" in doc:
            entry["options"] = _documented(doc["suboptions"])
        spec[name] = entry
    return spec


def _comparable(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    """What both sources must agree on: no_log is not documentation, required=false is the default."""
    out = {}
    for name, entry in spec.items():
        item = {key: value for key, value in entry.items() if key not in ("no_log", "options") and value is not None}
        if item.get("required") is False:
            del item["required"]
        item.setdefault("type", "str")
        if "options" in entry:
            item["options"] = _comparable(entry["options"])
        out[name] = item
    return out


def _secret_options(spec: dict[str, t.Any], prefix: str = "") -> list[tuple[str, bool]]:
    found = []
    for name, entry in spec.items():
        if any(word in name for word in SECRET_WORDS):
            deliberate_public_key = "key" in name and entry.get("no_log") is False
            found.append((prefix + name, bool(entry.get("no_log")) or deliberate_public_key))
        found.extend(_secret_options(entry.get("options") or {}, f"{prefix}{name}."))
    return found


def _load(name: str) -> tuple[t.Any, t.Any]:
    module = importlib.import_module(f"ansible_collections.hyperv.nested.plugins.modules.{name}")
    action = importlib.import_module(f"ansible_collections.hyperv.nested.plugins.action.{name}")
    return module, action.ActionModule


def test_every_module_has_its_action_plugin_and_every_action_plugin_its_documentation() -> None:
    actions = sorted(path.stem for path in (PLUGINS / "action").glob("*.py") if path.stem != "__init__")
    assert MODULES == actions


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name: str) -> None:
    module, action = _load(name)
    documented = yaml.safe_load(module.DOCUMENTATION)
    assert documented["module"] == name
    assert _comparable(_documented(documented.get("options") or {})) == _comparable(action.argument_spec)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


@pytest.mark.parametrize("name", MODULES)
def test_every_secret_named_option_declares_no_log(name: str) -> None:
    """As validate-modules asks: no_log=True for a secret, an explicit no_log=False for a public key."""
    _module, action = _load(name)
    assert [option for option, no_log in _secret_options(action.argument_spec) if not no_log] == []


@pytest.mark.parametrize("name", MODULES)
def test_every_module_documents_the_connection_fragment_and_its_modes(name: str) -> None:
    module, _action = _load(name)
    documented = yaml.safe_load(module.DOCUMENTATION)
    assert "hyperv.nested.connection" in documented.get("extends_documentation_fragment", [])
    assert {"check_mode", "diff_mode"} <= set(documented.get("attributes") or {})
