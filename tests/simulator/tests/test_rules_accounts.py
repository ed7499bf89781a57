"""Least-privilege accounts (RULES #31-#36): who may connect, what the probe reports for them, which
cmdlets and ansible.windows emulations refuse them, and the WinRM plumbing that runs a command as
the account that opened the shell."""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import winrm
from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot
from ansible_payloads import FleetConnection, module_invocation
from hvsim.fleet import Fleet
from hvsim.powershell.cmdlets import run_cmdlet
from hvsim.powershell.errors import PSError, error_record_lines
from hvsim.winrm import Endpoint
from lab_dicts import COMMAND_LINE, basic_lab, cmdlet, fleet_of, l0, lab, nested_ready_lab, vm, windows_guest
from winrm.exceptions import InvalidCredentialsError, WSManFaultError
from winrm.protocol import Protocol

PROBE_SCRIPT = Path(__file__).resolve().parents[3] / "plugins" / "plugin_utils" / "powershell" / "probe.ps1"
PASSWORD = "Op-Passw0rd!"
DENIED = ("You do not have the required permission to complete this task. Contact the administrator of the "
          "authorization policy for the computer '{}'.")
SHELL_NOT_FOUND = 2150858843

HVOP = {"username": "hvop", "password": PASSWORD, "groups": ["hyperv_administrators", "remote_management_users"]}
VIEWER = {"username": "viewer", "password": PASSWORD, "groups": ["remote_management_users"]}
NOBODY = {"username": "nobody", "password": PASSWORD, "groups": []}
HV_ONLY = {"username": "hvonly", "password": PASSWORD, "groups": ["hyperv_administrators"]}
LOCAL_ADMIN = {"username": "localadmin", "password": PASSWORD, "groups": ["administrators"]}
ACCOUNTS = [HVOP, VIEWER, NOBODY, HV_ONLY, LOCAL_ADMIN]


@pytest.fixture(autouse=True)
def quick_reboot_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_reboot, "time", SimpleNamespace(sleep=lambda seconds: time.sleep(min(seconds, 0.05))))


def with_accounts(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The lab with ACCOUNTS on hv01 and on the L1's guest OS (when it has one)."""
    spec = copy.deepcopy(spec)
    host = spec["hosts"][0]
    host["accounts"] = copy.deepcopy(ACCOUNTS)
    host.update(extra)
    for entry in host.get("vms") or []:
        guest = entry.get("guest") or {}
        if guest.get("nested_host"):
            guest["accounts"] = copy.deepcopy(ACCOUNTS)
            guest.update(extra)
    return spec


def request(fleet: Fleet, host: str, user: str | None, script_name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    payload = {"hyperv_nested_request": 1, "script_name": script_name, "script": "param($p) $p", "parameters": parameters}
    result = fleet.run_command(host, COMMAND_LINE, json.dumps(payload).encode("utf-8"), user=user)
    assert result.rc == 0, result.stderr
    return dict(json.loads(result.stdout))


def probe(fleet: Fleet, host: str, user: str | None, *sections: str, **more: Any) -> dict[str, Any]:
    answer = request(fleet, host, user, "probe", {"sections": list(sections), **more})
    assert answer["ok"], answer
    return dict(answer["result"])


def execute(fleet: Fleet, host: str, user: str | None, *ops: dict[str, Any]) -> dict[str, Any]:
    answer = request(fleet, host, user, "execute", {"operations": list(ops), "on_failure": []})
    assert answer["ok"], answer
    return dict(answer["result"])


def failure(result: dict[str, Any]) -> str:
    assert result["failed_index"] is not None, result
    return str(result["operations"][result["failed_index"]]["message"])


def state(fleet: Fleet, host: str) -> dict[str, Any]:
    """What the host looks like to its administrator (hvsim show)."""
    return fleet.host_state(host)


@pytest.fixture
def fleet() -> Fleet:
    return fleet_of(with_accounts(basic_lab()))


@pytest.fixture
def nested() -> Fleet:
    return fleet_of(with_accounts(nested_ready_lab(l2_state="Running")))


# -- the lab file -----------------------------------------------------------------------------


@pytest.mark.parametrize(("accounts", "complaint"), [
    ([{"username": "x", "password": "p", "groups": ["backup_operators"]}], "groups must be a list"),
    ([{"username": "x", "password": "p"}, {"username": "X", "password": "q"}], "defined twice"),
    ([{"username": "administrator", "password": "p"}], "main account"),
    ([{"username": "x"}], "username and a password"),
    ({"username": "x", "password": "p"}, "must be a list"),
])
def test_a_lab_with_bad_accounts_is_refused(accounts: Any, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        fleet_of(lab(l0(accounts=accounts)))


def test_existing_labs_have_only_the_administrator(fleet: Fleet) -> None:
    plain = fleet_of(basic_lab())
    assert plain.accounts("hv01") == [("Administrator", "Passw0rd!")]
    assert plain.authorize("hv01", "Administrator") and not plain.authorize("hv01", "hvop")
    assert [user for user, _password in fleet.accounts("hv01")] == ["Administrator", *(a["username"] for a in ACCOUNTS)]


def test_accounts_survive_a_save_and_old_state_files_have_none(fleet: Fleet) -> None:
    saved = fleet.export_state()
    again = Fleet.from_state(json.loads(json.dumps(saved)))
    assert again.accounts("hv01") == fleet.accounts("hv01")
    assert probe(again, "hv01", "hvop", "host")["host"]["is_hyperv_administrator"] is True
    for root in saved["roots"]:
        root["os_state"].pop("accounts")
    assert Fleet.from_state(saved).accounts("hv01") == [("Administrator", "Passw0rd!")]


# -- RULES #31: who may use WinRM --------------------------------------------------------------


@pytest.mark.parametrize(("user", "allowed"), [
    ("Administrator", True), ("ADMINISTRATOR", True), ("HV01\\hvop", True), ("viewer", True),
    ("hvonly", False), ("nobody", False), ("localadmin", False), ("stranger", False),
])
def test_winrm_admits_administrators_and_remote_management_users(fleet: Fleet, user: str, allowed: bool) -> None:
    assert fleet.authorize("hv01", user) is allowed


def test_a_local_administrator_gets_a_filtered_token_unless_the_policy_says_otherwise(fleet: Fleet) -> None:
    assert not fleet.authorize("hv01", "localadmin")
    open_policy = fleet_of(with_accounts(basic_lab(), local_account_token_filter_policy=True))
    assert open_policy.authorize("hv01", "localadmin")
    host = probe(open_policy, "hv01", "localadmin", "host")["host"]
    assert (host["is_administrator"], host["is_hyperv_administrator"]) == (True, True)
    # Filtered, it is no administrator at all (were it let in).
    host = probe(fleet, "hv01", "localadmin", "host")["host"]
    assert (host["is_administrator"], host["is_hyperv_administrator"]) == (False, False)


# -- RULES #32, #35: the probe per account -----------------------------------------------------


def test_probe_host_section_per_account(fleet: Fleet) -> None:
    admin = probe(fleet, "hv01", None, "host")["host"]
    hvop = probe(fleet, "hv01", "hvop", "host")["host"]
    viewer = probe(fleet, "hv01", "viewer", "host")["host"]
    assert (admin["is_administrator"], admin["is_hyperv_administrator"]) == (True, True)
    assert (hvop["is_administrator"], hvop["is_hyperv_administrator"]) == (False, True)
    assert (viewer["is_administrator"], viewer["is_hyperv_administrator"]) == (False, False)
    # bcdedit is refused to non-administrators: Get-BcdNestedDisabled answers $null.
    assert admin["bcd_offer_nested_virt_disabled"] is False
    assert hvop["bcd_offer_nested_virt_disabled"] is None and viewer["bcd_offer_nested_virt_disabled"] is None
    # Get-VMHostSupportedVersion needs Hyper-V Administrators.
    assert hvop["supported_versions"] == admin["supported_versions"] != []
    assert admin["default_version"] is not None
    assert hvop["default_version"] == admin["default_version"]
    assert (viewer["supported_versions"], viewer["default_version"]) == ([], None)
    same = {k: v for k, v in admin.items() if k not in ("is_administrator", "is_hyperv_administrator", "bcd_offer_nested_virt_disabled")}
    assert {k: hvop[k] for k in same} == same


def test_the_main_account_reads_a_set_bcd_flag_and_others_read_none() -> None:
    fleet = fleet_of(with_accounts(lab(l0(bcd_offer_nested_virt_disabled=True))))
    assert probe(fleet, "hv01", None, "host")["host"]["bcd_offer_nested_virt_disabled"] is True
    assert probe(fleet, "hv01", "hvop", "host")["host"]["bcd_offer_nested_virt_disabled"] is None


def test_outside_hyperv_administrators_the_vms_section_says_access_denied(fleet: Fleet) -> None:
    answer = request(fleet, "hv01", "viewer", "probe", {"sections": ["host", "vms"], "vm_names": ["LAB-HV1"]})
    assert answer["ok"] is True
    assert answer["result"]["host"]["is_hyperv_administrator"] is False
    assert answer["result"]["vms"] == {
        "hyperv_module": True, "access_denied": DENIED.format("HV01"), "missing": [], "duplicates": [], "all_names": [], "vms": [],
    }
    # The real probe script answers the same way (Get-VMsSection), only for an account outside the group.
    script = PROBE_SCRIPT.read_text(encoding="utf-8")
    assert "if (-not (Test-HyperVAdministrator)) {" in script
    assert "access_denied = $reason" in script
    assert 'throw "Could not list the virtual machines: $reason ($needs)"' in script   # any other failure


def test_outside_hyperv_administrators_the_network_and_guests_sections_fail_with_the_cmdlet_error(nested: Fleet) -> None:
    network = request(nested, "lab-hv1", "viewer", "probe", {"sections": ["network"]})
    assert network["ok"] is False and network["error"]["message"] == DENIED.format("LAB-HV1")
    assert network["error"]["id"] == "Unspecified,Get-VMSwitch"
    guests = request(nested, "lab-hv1", "viewer", "probe", {"sections": ["guests"], "guests": [
        {"vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}]})
    assert guests["ok"] is False and guests["error"]["message"] == DENIED.format("LAB-HV1")
    assert probe(nested, "lab-hv1", "viewer", "guests", guests=[])["guests"] == []   # no guest asked, no Get-VM


def test_a_hyperv_administrator_reads_vms_switches_and_guests_but_no_nat(nested: Fleet) -> None:
    ops = [cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix="192.168.100.0/24")]
    assert execute(nested, "lab-hv1", None, *ops)["failed_index"] is None
    admin = probe(nested, "lab-hv1", None, "vms", "network")
    hvop = probe(nested, "lab-hv1", "hvop", "vms", "network")
    assert hvop["vms"] == admin["vms"]
    assert hvop["network"]["switches"] == admin["network"]["switches"] != []
    assert admin["network"]["nats"] != [] and hvop["network"]["nats"] == []       # Get-NetNat refused (stricter)
    assert hvop["network"]["ip_addresses"] == admin["network"]["ip_addresses"]
    guests = probe(nested, "lab-hv1", "hvop", "guests", guests=[
        {"vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}])["guests"]
    assert guests[0]["reachable"] is True, guests


def test_a_pending_hyperv_install_reads_as_enabled_without_elevation(fleet: Fleet) -> None:
    fleet._world.host("lab-hv1").os_state.hyperv_feature = "EnablePending"   # installed, not restarted yet
    assert probe(fleet, "lab-hv1", None, "host")["host"]["hyperv_feature"] == "EnablePending"
    assert probe(fleet, "lab-hv1", "hvop", "host")["host"]["hyperv_feature"] == "Enabled"


# -- RULES #32-#34: the executor per account ---------------------------------------------------


def test_a_hyperv_administrator_changes_vm_settings_and_power(fleet: Fleet) -> None:
    result = execute(fleet, "hv01", "hvop",
                     {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 5, "mark_for_restart": True},
                     cmdlet("Set-VMMemory", "LAB-HV1", DynamicMemoryEnabled=False),
                     cmdlet("Set-VMProcessor", "LAB-HV1", ExposeVirtualizationExtensions=True, Count=4),
                     cmdlet("Update-VMVersion", "LAB-HV1", Force=True),
                     {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 5},
                     cmdlet("Set-VMNetworkAdapter", "PLAIN", MacAddressSpoofing="On"),
                     cmdlet("Set-VMSecurity", "PLAIN", VirtualizationBasedSecurityOptOut=True))
    assert result["failed_index"] is None, result
    vms = {entry["name"]: entry for entry in state(fleet, "hv01")["vms"]["vms"]}
    hv1 = vms["LAB-HV1"]
    assert (hv1["state"], hv1["expose_virtualization_extensions"], hv1["processor_count"]) == ("Running", True, 4)
    assert hv1["dynamic_memory_enabled"] is False and hv1["restart_mark"] is None
    assert vms["PLAIN"]["adapters"][0]["mac_address_spoofing"] == "On"


def test_a_saved_vm_is_discarded_and_started_by_a_hyperv_administrator() -> None:
    fleet = fleet_of(with_accounts(lab(l0(vms=[vm("SAVED", state="Running", guest=windows_guest())]))))
    assert execute(fleet, "hv01", "hvop", cmdlet("Stop-VM", "SAVED", Save=True))["failed_index"] is None
    result = execute(fleet, "hv01", "hvop", cmdlet("Remove-VMSavedState", "SAVED"),
                     {"kind": "ensure_running", "vm": "SAVED", "timeout_seconds": 5})
    assert result["failed_index"] is None and result["vm_states"] == {"SAVED": "Running"}


def test_restart_marks_are_written_by_one_account_and_removed_by_another(fleet: Fleet) -> None:
    stop = {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off", "timeout_seconds": 5, "mark_for_restart": True}
    assert execute(fleet, "hv01", "hvop", stop)["failed_index"] is None
    assert probe(fleet, "hv01", "hvop", "vms", vm_names=["LAB-HV1"])["vms"]["vms"][0]["restart_mark"] is not None
    assert execute(fleet, "hv01", None, {"kind": "clear_restart_mark", "vm": "LAB-HV1"})["failed_index"] is None
    assert execute(fleet, "hv01", "hvop", stop, {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 5})["failed_index"] is None
    assert probe(fleet, "hv01", None, "vms", vm_names=["LAB-HV1"])["vms"]["vms"][0]["restart_mark"] is None


@pytest.mark.parametrize("op", [
    cmdlet("Set-VMProcessor", "LAB-HV1", Count=4),
    {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off", "timeout_seconds": 5, "mark_for_restart": True},
    {"kind": "start_vm", "vm": "PLAIN", "timeout_seconds": 5},
    {"kind": "clear_restart_mark", "vm": "LAB-HV1"},
    {"kind": "guest", "vm": "LAB-HV1", "username": "Administrator", "password": "Passw0rd!", "operations": []},
])
def test_outside_hyperv_administrators_every_vm_operation_is_refused_at_get_vm(fleet: Fleet, op: dict[str, Any]) -> None:
    before = state(fleet, "hv01")
    assert failure(execute(fleet, "hv01", "viewer", op)) == DENIED.format("HV01")
    assert state(fleet, "hv01") == before


def test_outside_hyperv_administrators_a_cmdlet_by_name_is_refused_too(fleet: Fleet) -> None:
    result = execute(fleet, "hv01", "viewer", cmdlet("Start-VM", Name=["PLAIN"]))
    assert failure(result) == DENIED.format("HV01")


NEW_NAT = cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix="192.168.100.0/24")
NEW_RULE = cmdlet("New-NetFirewallRule", Name="hyperv.nested-nat-TCP-0.0.0.0-50022", DisplayName="TCP 50022",
                  Group="hyperv.nested NAT port mappings", Protocol="TCP", LocalPort=["50022"])


@pytest.mark.parametrize(("setup", "op", "message"), [
    ([], cmdlet("New-VMSwitch", Name="VmNAT2", SwitchType="Internal"),
     "Failed while creating virtual Ethernet switch. General access denied error ('0x80070005')."),
    ([], cmdlet("Remove-VMSwitch", Name=["VmNAT"], Force=True),
     "Failed while removing virtual Ethernet switch. General access denied error ('0x80070005')."),
    ([], NEW_NAT, "Access is denied."),
    ([NEW_NAT], cmdlet("Remove-NetNat", Name=["LocalNAT"], Confirm=False), "Access is denied."),
    ([], cmdlet("New-NetIPAddress", InterfaceAlias="vEthernet (VmNAT)", IPAddress="192.168.100.1", PrefixLength=24),
     "Access is denied."),
    ([NEW_NAT], cmdlet("Add-NetNatStaticMapping", NatName="LocalNAT", Protocol="TCP", ExternalIPAddress="0.0.0.0",
                       ExternalPort=50022, InternalIPAddress="192.168.100.2", InternalPort=22), "Access is denied."),
    # "New-NetFirewallRule ... CategoryInfo : PermissionDenied: (MSFT_NetFirewallRule:root/standardcimv2/MSFT_NetFirewallRule)" (RULES #33)
    ([], NEW_RULE, "Access is denied."),
    ([NEW_RULE], cmdlet("Remove-NetFirewallRule", Name=["hyperv.nested-nat-TCP-0.0.0.0-50022"]), "Access is denied."),
])
def test_host_networking_needs_an_administrator(nested: Fleet, setup: list[dict[str, Any]], op: dict[str, Any], message: str) -> None:
    if setup:
        assert execute(nested, "lab-hv1", None, *setup)["failed_index"] is None
    before = state(nested, "lab-hv1")
    assert failure(execute(nested, "lab-hv1", "hvop", op)) == message
    assert state(nested, "lab-hv1") == before
    assert execute(nested, "lab-hv1", None, op)["failed_index"] is None    # the administrator may


def test_cim_refusals_carry_the_cim_error_record(nested: Fleet) -> None:
    op = cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix="192.168.100.0/24")
    session = nested._session(nested._world.host("lab-hv1"), "hvop")
    with nested._lock, pytest.raises(PSError) as caught:
        run_cmdlet(session, "New-NetNat", dict(op["parameters"]))
    lines = error_record_lines(caught.value)
    assert lines[0] == "New-NetNat : Access is denied."
    assert "PermissionDenied: (MSFT_NetNat:root/StandardCimv2/MSFT_NetNat:String) [New-NetNat], CimException" in lines[-3]
    assert caught.value.fully_qualified_id() == "Windows System Error 5,New-NetNat"


def test_powershell_direct_runs_as_the_guest_account_given(nested: Fleet) -> None:
    guest_spec = with_accounts(nested_ready_lab(l2_state="Running"))
    l2 = guest_spec["hosts"][0]["vms"][0]["guest"]["nested_host"]["vms"][0]
    l2["guest"]["accounts"] = [{"username": "guestuser", "password": PASSWORD, "groups": []}]
    fleet = fleet_of(guest_spec)
    change = [cmdlet("New-NetIPAddress", InterfaceAlias="Ethernet", IPAddress="192.168.100.2", PrefixLength=24)]
    as_user = {"kind": "guest", "vm": "LAB-VM1", "username": "guestuser", "password": PASSWORD, "operations": change}
    assert failure(execute(fleet, "lab-hv1", "hvop", as_user)) == "Access is denied."
    wrong = {**as_user, "password": "nope"}
    assert failure(execute(fleet, "lab-hv1", "hvop", wrong)) == "The credential is invalid."
    as_admin = {**as_user, "username": "Administrator", "password": "Passw0rd!"}
    assert execute(fleet, "lab-hv1", "hvop", as_admin)["failed_index"] is None
    seen = probe(fleet, "lab-hv1", "hvop", "guests", guests=[
        {"vm": "LAB-VM1", "username": "guestuser", "password": PASSWORD}])["guests"][0]
    assert seen["reachable"] is True and seen["adapters"][0]["ipv4"][0]["ip_address"] == "192.168.100.2"


# -- RULES #36: ansible.windows' feature modules and win_reboot --------------------------------


def run_module(fleet: Fleet, host: str, user: str | None, module: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    line, payload = module_invocation(module, args)
    result = fleet.run_command(host, line, payload, user=user)
    return result.rc, json.loads(result.stdout)


def test_installing_hyperv_needs_an_administrator(fleet: Fleet) -> None:
    rc, result = run_module(fleet, "lab-hv1", "hvop", "win_feature", {"name": ["Hyper-V"], "include_management_tools": True})
    assert rc == 1 and result["msg"] == "Failed to install Windows Feature: The requested operation requires elevation."
    rc, result = run_module(fleet, "lab-hv1", "hvop", "win_optional_feature", {"name": ["Microsoft-Hyper-V-All"]})
    assert rc == 1 and result["msg"] == "Failed to find feature 'Microsoft-Hyper-V-All'"
    assert state(fleet, "lab-hv1")["host"]["hyperv_feature"] == "Disabled"
    rc, result = run_module(fleet, "lab-hv1", "hvop", "win_ping", {})
    assert rc == 0 and result["ping"] == "pong"


class UserConnection(FleetConnection):
    def __init__(self, fleet: Fleet, host: str, user: str) -> None:
        super().__init__(fleet, host)
        self.user = user

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        self.commands.append(cmd)
        result = self.fleet.run_command(self.host, cmd, in_data or b"", user=self.user)
        return result.rc, result.stdout, result.stderr


def test_rebooting_needs_an_administrator(fleet: Fleet) -> None:
    outcome = _reboot.reboot_host("win_reboot", UserConnection(fleet, "lab-hv1", "hvop"), pre_reboot_delay=0, reboot_timeout=5)
    assert outcome.get("failed") is True and "Access is denied.(5)" in str(outcome), outcome
    assert fleet.reachable("lab-hv1") and state(fleet, "lab-hv1")["rebooting"] is False


# -- the WinRM plumbing, with the real client ----------------------------------------------------


@pytest.fixture
def endpoint(fleet: Fleet) -> Iterator[Endpoint]:
    with Endpoint("hv01", fleet) as ep:
        yield ep


def probe_over_winrm(url: str, user: str, transport: str) -> dict[str, Any]:
    payload = {"hyperv_nested_request": 1, "script_name": "probe", "script": "param($p) $p",
               "parameters": {"sections": ["host"]}}
    protocol = Protocol(url, transport=transport, username=user, password=PASSWORD if user != "Administrator" else "Passw0rd!",
                        message_encryption="always" if transport == "ntlm" else "auto")
    shell = protocol.open_shell(codepage=65001)
    executable, *arguments = COMMAND_LINE.split()
    command_id = protocol.run_command(shell, executable, arguments)
    protocol.send_command_input(shell, command_id, json.dumps(payload).encode(), end=True)
    stdout, stderr, rc = protocol.get_command_output(shell, command_id)
    protocol.close_shell(shell)
    assert rc == 0, stderr
    return dict(json.loads(stdout)["result"]["host"])


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_commands_run_as_the_account_that_authenticated(endpoint: Endpoint, transport: str) -> None:
    assert probe_over_winrm(endpoint.url, "Administrator", transport)["is_administrator"] is True
    hvop = probe_over_winrm(endpoint.url, "hvop", transport)
    assert (hvop["is_administrator"], hvop["is_hyperv_administrator"]) == (False, True)
    assert probe_over_winrm(endpoint.url, "viewer", transport)["is_hyperv_administrator"] is False


@pytest.mark.parametrize("user", ["hvonly", "nobody", "localadmin"])
@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_authenticated_accounts_winrm_refuses_see_rejected_credentials(endpoint: Endpoint, user: str, transport: str) -> None:
    with pytest.raises(InvalidCredentialsError):
        winrm.Session(endpoint.url, auth=(user, PASSWORD), transport=transport).run_cmd("hostname")


def test_a_wrong_password_of_an_extra_account_is_refused(endpoint: Endpoint) -> None:
    with pytest.raises(InvalidCredentialsError):
        winrm.Session(endpoint.url, auth=("hvop", "Passw0rd!"), transport="ntlm").run_cmd("hostname")


def test_a_shell_belongs_to_the_account_that_opened_it(endpoint: Endpoint) -> None:
    owner = Protocol(endpoint.url, transport="basic", username="hvop", password=PASSWORD)
    other = Protocol(endpoint.url, transport="basic", username="viewer", password=PASSWORD)
    shell = owner.open_shell()
    with pytest.raises(WSManFaultError) as caught:
        other.run_command(shell, "hostname")
    assert caught.value.wsman_fault_code == SHELL_NOT_FOUND
    command_id = owner.run_command(shell, "hostname")
    stdout, _stderr, rc = owner.get_command_output(shell, command_id)
    assert (rc, stdout) == (0, b"HV01\r\n")
    owner.close_shell(shell)
