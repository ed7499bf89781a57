"""Every role documents and types every variable it takes, and its defaults pass its own spec."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROLES_DIR = Path(__file__).resolve().parents[3] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if path.is_dir())
# Inventory variables of the model (design.md) that roles read and document, besides their own.
INVENTORY_VARIABLES = {"nested_parent", "nested_vm_name", "nested_network_mode"}
# Keys of argument_specs options that the Ansible validator does not take.
_DOC_ONLY = {"description", "version_added"}


def load(path: Path) -> t.Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def spec(role: str) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], load(ROLES_DIR / role / "meta" / "argument_specs.yml")["argument_specs"]["main"])


def defaults(role: str) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], load(ROLES_DIR / role / "defaults" / "main.yml") or {})


def validator_spec(options: dict[str, t.Any]) -> dict[str, t.Any]:
    return {name: {key: value for key, value in option.items() if key not in _DOC_ONLY} for name, option in options.items()}


def test_the_five_roles_exist() -> None:
    assert ROLES == ["nested_dhcp", "nested_hyperv", "nested_networking", "nested_prerequisites", "nested_provision",
                     "nested_report", "nested_vm_settings"]


@pytest.mark.parametrize("role", ROLES)
def test_spec_has_descriptions_and_types(role: str) -> None:
    main = spec(role)
    assert main["short_description"] and main["description"] and main["author"]
    for name, option in main["options"].items():
        assert option.get("description"), f"{role}: {name} has no description"
        assert option.get("type") in {"str", "bool", "int", "list", "dict", "raw", "path"}, f"{role}: {name} has no type"
        if option["type"] == "list":
            assert option.get("elements"), f"{role}: {name} is a list without elements"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented_with_the_same_default(role: str) -> None:
    options = spec(role)["options"]
    for name, value in defaults(role).items():
        assert name.startswith(f"{role}_"), f"{role}: default {name} lacks the role prefix"
        assert name in options, f"{role}: default {name} is not in meta/argument_specs.yml"
        if value is None:
            assert "default" not in options[name], f"{role}: {name} defaults to null but documents a default"
        elif not (isinstance(value, str) and "{{" in value):
            assert options[name].get("default") == value, f"{role}: {name} documents {options[name].get('default')!r}, defaults {value!r}"


@pytest.mark.parametrize("role", ROLES)
def test_every_documented_variable_is_a_default_or_an_inventory_variable(role: str) -> None:
    names = set(spec(role)["options"])
    assert names - set(defaults(role)) <= INVENTORY_VARIABLES


@pytest.mark.parametrize("role", ROLES)
def test_defaults_pass_the_spec(role: str) -> None:
    options = spec(role)["options"]
    values = {name: value for name, value in defaults(role).items() if not (isinstance(value, str) and "{{" in value)}
    values.update({name: "x" for name in INVENTORY_VARIABLES & set(options) if options[name].get("required")})
    if "nested_network_mode" in options:
        values["nested_network_mode"] = "nat"
    result = ArgumentSpecValidator(validator_spec(options)).validate(values)
    assert not result.error_messages, result.error_messages


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_used_in_tasks_are_defined(role: str) -> None:
    """A `<role>_...` name in the tasks is a default, a registered result or a fact/var set there."""
    tasks_dir = ROLES_DIR / role / "tasks"
    text = "\n".join(path.read_text(encoding="utf-8") for path in tasks_dir.glob("*.yml"))
    used = set(re.findall(rf"(?<![.\w]){role}_[a-z0-9_]+\b", text))  # not the collection's filters (hyperv.nested.nested_report_row)
    defined = set(defaults(role))
    defined |= set(re.findall(r"register:\s*([a-z0-9_]+)", text))
    defined |= set(re.findall(r"^\s+([a-z0-9_]+):", text, flags=re.MULTILINE))  # set_fact keys and task vars
    assert used <= defined, f"{role}: undefined {sorted(used - defined)}"


@pytest.mark.parametrize(
    ("role", "values", "message"),
    [
        ("nested_vm_settings", {"nested_vm_settings_power": "yank"}, "nested_vm_settings_power"),
        ("nested_vm_settings", {"nested_vm_settings_processor_count": "many"}, "nested_vm_settings_processor_count"),
        ("nested_networking", {"nested_network_mode": "bridge"}, "nested_network_mode"),
        ("nested_networking", {"nested_networking_state": "gone"}, "nested_networking_state"),
        ("nested_prerequisites", {"nested_prerequisites_fail_on_blockers": "perhaps"}, "nested_prerequisites_fail_on_blockers"),
    ],
)
def test_wrong_values_are_refused_naming_the_variable(role: str, values: dict[str, t.Any], message: str) -> None:
    options = spec(role)["options"]
    base = {name: "x" for name in INVENTORY_VARIABLES & set(options) if options[name].get("required")}
    result = ArgumentSpecValidator(validator_spec(options)).validate({**base, **values})
    assert any(message in error for error in result.error_messages), result.error_messages


@pytest.mark.parametrize("role", ["nested_prerequisites", "nested_vm_settings", "nested_networking", "nested_report"])
def test_l1_roles_require_the_inventory_model(role: str) -> None:
    result = ArgumentSpecValidator(validator_spec(spec(role)["options"])).validate({})
    assert any("nested_parent" in error and "nested_vm_name" in error for error in result.error_messages), result.error_messages


@pytest.mark.parametrize("role", ROLES)
def test_meta_main_names_the_platform_and_has_no_dependencies(role: str) -> None:
    meta = load(ROLES_DIR / role / "meta" / "main.yml")
    assert meta["dependencies"] == []
    assert meta["galaxy_info"]["platforms"] == [{"name": "Windows", "versions": ["all"]}]
