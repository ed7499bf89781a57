"""script_name "dhcp": win_nested_dhcp's script (plugins/plugin_utils/powershell/dhcp.ps1) over model/dhcp.py;
each DhcpServer cmdlet bound against its documented signature as the script calls it."""
from __future__ import annotations

from typing import Any

from ..model import dhcp
from ..model.errors import HyperVError
from .cmdlets import as_ps_error, check_rights
from .errors import PSError, hyperv_permission_denied
from .executor import OpFailed
from .session import Session
from .signatures import bind

CMDLETS = {"scope": "Add-DhcpServerv4Scope", "options": "Set-DhcpServerv4OptionValue",
           "reservation": "Add-DhcpServerv4Reservation"}


def _inspect(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    host = session.host
    if host.os_state.hyperv_feature == "Enabled" and not session.rights.hyperv_administrator:
        raise hyperv_permission_denied("Get-VM", session.computer_name)
    with session.lock:
        scopes, reservations = [], []
        for scope in dhcp.scopes(host).values():
            scopes.append({key: scope[key] for key in ("scope_id", "name", "subnet_mask", "start_range", "end_range",
                                                       "state", "router", "dns_server")})
            for ip, entry in scope["reservations"].items():
                reservations.append({"scope_id": scope["scope_id"], "ip_address": ip, "client_id": entry["client_id"],
                                     "name": entry["name"]})
        names = {str(n).lower() for n in parameters.get("vm_names") or []}
        vms = [{"name": vm.name,
                "adapters": [{"name": a.name, "mac_address": a.mac_address, "switch_name": a.switch_name or ""}
                             for a in vm.adapters]}
               for vm in host.vms if vm.name.lower() in names]
        return {"dhcp_module": dhcp.installed(host), "scopes": scopes, "reservations": reservations, "vms": vms,
                "all_names": [vm.name for vm in host.vms]}


def _step(session: Session, step: dict[str, Any]) -> None:
    kind = step.get("kind")
    if kind not in CMDLETS:
        raise OpFailed(f"Unknown DHCP step '{kind}'.")
    cmdlet = CMDLETS[str(kind)]
    bound = bind(cmdlet, {**dict(step.get("parameters") or {}), "ErrorAction": "Stop"})
    check_rights(session, cmdlet, session.rights, in_guest=False)
    if not session.rights.administrator:
        raise PSError("Access is denied.", "PermissionDenied", "WIN32 5", command=cmdlet)
    host = session.host
    try:
        if kind == "scope":
            dhcp.add_scope(host, bound.get("Name"), bound.get("StartRange"), bound.get("EndRange"),
                           bound.get("SubnetMask"), bound.get("State"))
        elif kind == "options":
            dhcp.set_options(host, bound.get("ScopeId"), bound.get("Router"), bound.get("DnsServer"))
        else:
            dhcp.add_reservation(host, bound.get("ScopeId"), bound.get("IPAddress"), bound.get("ClientId"),
                                 bound.get("Name"))
    except HyperVError as error:
        raise as_ps_error(error, cmdlet) from None
    session.changed()


def _apply(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    report: list[dict[str, Any]] = []
    failed: int | None = None
    for index, step in enumerate(parameters.get("steps") or []):
        if failed is not None:
            report.append({"index": index, "status": "not_run", "message": None})
            continue
        try:
            if not isinstance(step, dict):
                raise OpFailed("A step must be a JSON object.")
            with session.lock:
                _step(session, step)
            report.append({"index": index, "status": "ok", "message": None})
        except (PSError, OpFailed) as error:
            failed = index
            report.append({"index": index, "status": "failed", "message": str(error)})
    with session.lock:
        if dhcp.renew(session.world):
            session.changed()
    return {"steps": report, "failed_index": failed}


def run_dhcp(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    if parameters.get("action") == "apply":
        return _apply(session, parameters)
    return _inspect(session, parameters)
