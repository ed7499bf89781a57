"""Windows features the simulator knows: Hyper-V and its management tools, installed by the
ansible.windows modules (ansible_modules.py) and by Install-WindowsFeature (interpreter)."""

from __future__ import annotations

from ..model.objects import Host, OSState
from .session import Session

HYPERV_FEATURES = {"hyper-v"}
HYPERV_OPTIONAL = {"microsoft-hyper-v", "microsoft-hyper-v-all"}
TOOLS = {"hyper-v-powershell", "rsat-hyper-v-tools", "microsoft-hyper-v-management-powershell",
         "microsoft-hyper-v-tools-all", "microsoft-hyper-v-management-clients", "hyper-v-tools"}
# Get-WindowsFeature's names and display names of the features above (Windows Server).
SERVER_FEATURES = {"Hyper-V": "Hyper-V", "RSAT-Hyper-V-Tools": "Hyper-V Management Tools",
                   "Hyper-V-Tools": "Hyper-V GUI Management Tools",
                   "Hyper-V-PowerShell": "Hyper-V Module for Windows PowerShell"}
NO_CAPABILITY = "Hyper-V cannot be installed: The processor does not have required virtualization capabilities."


def install_blocker(session: Session, host: Host) -> str | None:
    """Why Hyper-V cannot be installed here (None when it can): RULES #16."""
    if not host.is_virtual_machine:
        if not host.processor.get("virtualization_firmware_enabled") or not host.processor.get("vmx"):
            return NO_CAPABILITY
        return None
    parent = session.world.parent_of(host)
    if parent is None or not parent[1].expose_virtualization_extensions:
        return NO_CAPABILITY
    return None


def enable_hyperv(session: Session, check_mode: bool) -> tuple[bool, bool, str | None]:
    """(changed, restart_needed, error). Call with session.lock held."""
    os_state: OSState = session.host.os_state
    if os_state.hyperv_feature == "Enabled":
        return False, False, None
    if os_state.hyperv_feature == "EnablePending":
        return False, True, None
    blocker = install_blocker(session, session.host)
    if blocker:
        return False, False, blocker
    if not check_mode:
        os_state.hyperv_feature = "EnablePending"
        session.host.pending_reboot = True
        session.changed()
    return True, True, None


def install_state(os_state: OSState) -> str:
    """Get-WindowsFeature's InstallState of Hyper-V (and of its tools, which come with it here)."""
    return {"Enabled": "Installed", "EnablePending": "InstallPending"}.get(os_state.hyperv_feature, "Available")
