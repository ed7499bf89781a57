"""The `operations` return value and failure sentence shared by win_nested_vm, win_nested_nat and win_nested_switch."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._executor_outcome import applied_any, failure_sentence, operation_reports

OPERATIONS: list[dict[str, t.Any]] = [
    {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off"},
    {"kind": "cmdlet", "cmdlet": "Set-VMProcessor", "vm": "LAB-HV1", "parameters": {"ExposeVirtualizationExtensions": True}},
    {"kind": "start_vm", "vm": "LAB-HV1"},
]


def outcome(*statuses: str, message: str | None = "The VM is locked.") -> dict[str, t.Any]:
    reports = [{"index": i, "status": status, "message": message if status == "failed" else None, "duration_ms": 7} for i, status in enumerate(statuses)]
    failed = next((i for i, status in enumerate(statuses) if status == "failed"), None)
    return {"operations": reports, "failed_index": failed}


def test_each_operation_gets_its_command_status_message_and_duration() -> None:
    entries = operation_reports(OPERATIONS, outcome("ok", "failed", "not_run"))
    assert entries[1] == {
        "command": "Set-VMProcessor -VM (Get-VM -Name 'LAB-HV1') -ExposeVirtualizationExtensions $true",
        "status": "failed",
        "message": "The VM is locked.",
        "duration_ms": 7,
    }
    assert [entry["status"] for entry in entries] == ["ok", "failed", "not_run"]


def test_operations_the_host_did_not_report_count_as_not_run() -> None:
    entries = operation_reports(OPERATIONS, {"operations": [{"status": "ok"}], "failed_index": None})
    assert [entry["status"] for entry in entries] == ["ok", "not_run", "not_run"]
    assert not applied_any(operation_reports(OPERATIONS, {"operations": []}))


def test_messages_are_scrubbed() -> None:
    entries = operation_reports(OPERATIONS, outcome("failed", message="password s3cret refused"), lambda text: text and text.replace("s3cret", "****"))
    assert entries[0]["message"] == "password **** refused"


def test_the_failure_sentence_names_the_position_the_command_and_what_was_applied() -> None:
    entries = operation_reports(OPERATIONS, outcome("ok", "failed", "not_run"))
    assert failure_sentence(entries, 1) == (
        "Operation 2 of 3 failed: Set-VMProcessor -VM (Get-VM -Name 'LAB-HV1') -ExposeVirtualizationExtensions $true: The VM is locked. "
        "(1 operation(s) before it were applied; the rest were not run)."
    )
    assert applied_any(entries)


def test_a_failure_without_a_message_or_outside_the_plan_is_still_a_sentence() -> None:
    entries = operation_reports(OPERATIONS, outcome("failed", message=None))
    assert failure_sentence(entries, 0).startswith("Operation 1 of 3 failed: Stop-VM -VM (Get-VM -Name 'LAB-HV1') -TurnOff -Force: no reason given.")
    assert failure_sentence(entries, 7) == "The host reported a failure at operation 7 of 3 (0 operation(s) before it were applied; the rest were not run)."
