"""An account outside Hyper-V Administrators: the probe's `vms` section says access_denied
(wire protocol section 2) and the verdict and the plan say why, instead of "no VM named ..."."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import evaluate
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_planner import check_selection

from ...probe_fixtures import probe_host, vms_section

DENIED = "You do not have the required permission to complete this task. Contact the administrator of the authorization policy for the computer 'HV01'."


def denied_section() -> dict[str, t.Any]:
    return {**vms_section(), "access_denied": DENIED}


def test_the_verdict_blocks_on_the_account_and_invents_no_missing_vm() -> None:
    report = evaluate(probe_host(is_administrator=False, is_hyperv_administrator=False), denied_section(), ["LAB-HV1"])
    assert [finding.code for finding in report.host.blockers] == ["host.not_hyperv_admin"]
    assert report.missing == [] and report.vms == {}
    assert not report.ready


def test_without_access_denied_an_unseen_name_is_still_missing() -> None:
    report = evaluate(probe_host(is_administrator=False, is_hyperv_administrator=False), vms_section(), ["LAB-HV1"])
    assert report.missing == ["LAB-HV1"]


def test_the_plan_names_the_right_it_lacks() -> None:
    (problem,) = check_selection(denied_section(), ["LAB-HV1"], "HV01")
    assert DENIED in problem and "Hyper-V Administrators" in problem
