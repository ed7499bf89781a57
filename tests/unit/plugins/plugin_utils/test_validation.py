from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import (
    VM_NAME_MAX_LENGTH,
    validate_vm_name,
    validate_vm_names,
    vm_name_problem,
)


@pytest.mark.parametrize(
    "name",
    ["LAB-HV1", "lab[1]", "a" * VM_NAME_MAX_LENGTH, "Ünïcødé VM", "it's", "x y", "\u2018smart\u2019"],
)
def test_acceptable_names_pass_unchanged(name: str) -> None:
    assert vm_name_problem(name) is None
    assert validate_vm_name("name", name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("a" * (VM_NAME_MAX_LENGTH + 1), "101 characters long"),
        ("bad\x00name", "U+0000"),
        ("line\nbreak", "U+000A"),
        ("tab\there", "U+0009"),
        ("del\x7f", "U+007F"),
        (5, "must be a string, got int"),
        (None, "must be a string, got NoneType"),
    ],
)
def test_bad_names_are_refused_naming_the_option(name: t.Any, fragment: str) -> None:
    with pytest.raises(PlanningError) as caught:
        validate_vm_name("vm", name)
    assert caught.value.msg.startswith("Option 'vm': ")
    assert fragment in caught.value.msg


def test_list_reports_every_bad_item_with_its_position() -> None:
    with pytest.raises(PlanningError) as caught:
        validate_vm_names("name", ["ok", "", "x\x01"])
    msg = caught.value.msg
    assert msg.startswith("Option 'name': ")
    assert "item 2 ('') is empty" in msg
    assert "item 3 ('x\\x01') contains the control character U+0001" in msg
    assert "item 1" not in msg


def test_list_drops_case_insensitive_repeats_keeping_order() -> None:
    assert validate_vm_names("name", ["B", "a", "b", "A", "c"]) == ["B", "a", "c"]


def test_empty_list_is_empty() -> None:
    assert validate_vm_names("name", []) == []
