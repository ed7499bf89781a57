"""Whether the Hyper-V PowerShell module and the Virtual Machine Management service are there
(RULES #43): the module installs with the role (or alone, as management tools); the service runs
only once the role is enabled and the host restarted."""
from __future__ import annotations

from .objects import OSState


def module_present(os_state: OSState) -> bool:
    """Get-Module -ListAvailable Hyper-V finds the module."""
    return os_state.hyperv_feature in ("Enabled", "EnablePending") or os_state.hyperv_management_tools


def vmms_state(os_state: OSState) -> str:
    """(Get-Service vmms).Status, or 'Absent' when the service is not installed."""
    if os_state.hyperv_feature == "Enabled":
        return "Running"
    if os_state.hyperv_feature == "EnablePending":
        return "Stopped"
    return "Absent"


def service_unavailable_message(computer: str) -> str:
    """What a Hyper-V cmdlet says when no Virtual Machine Management service answers
    (realistic, not doc-sourced: the text Hyper-V's cmdlets print on such hosts in public logs)."""
    return (f"Hyper-V encountered an error trying to access an object on computer '{computer}' because the "
            "object was not found. The object might have been deleted. Verify that the Virtual Machine "
            "Management service on the computer is running.")
