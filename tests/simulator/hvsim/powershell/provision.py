"""script_name "provision": win_nested_vm_provision's script (docs/internals/provisioning.md).

Each Hyper-V cmdlet the real script (plugins/plugin_utils/powershell/provision.ps1) calls is bound
against its documented signature with the parameters that script passes, then applied to the
model (model/provisioning.py); the Storage cmdlets and .NET file calls around Mount-VHD are
modelled as the step they serve.
"""
from __future__ import annotations

import time
from typing import Any

from ..model import lifecycle, provisioning
from ..model.errors import HyperVError
from ..model.objects import VM
from ..model.platform import default_version, host_build, supported_versions
from .cmdlets import adapter_ref, admit, as_ps_error, run_cmdlet, vm_ref
from .errors import PSError, hyperv_permission_denied
from .executor import OpFailed
from .probe import probe
from .session import Session
from .signatures import ObjectRef, bind

MARK = "hyperv.nested: created by win_nested_vm_provision"
ALLOWED_CMDLETS = {"Set-VMMemory", "Set-VMProcessor", "Set-VMFirmware"}
UNATTEND_FILE = "Windows\\Panther\\unattend.xml"


def _call(session: Session, cmdlet: str, parameters: dict[str, Any]) -> Any:
    """Bind `cmdlet` as the script calls it and admit it (module present, rights, injected faults)."""
    bound = bind(cmdlet, {**parameters, "ErrorAction": "Stop"})
    admit(session, cmdlet)
    return bound


def _ours(vm: VM) -> bool:
    return (vm.notes.splitlines() or [""])[0].strip() == MARK


def _resolve(session: Session, name: Any) -> VM:
    if session.host.os_state.hyperv_feature != "Enabled":
        raise OpFailed("The term 'Hyper-V\\Get-VM' is not recognized as the name of a cmdlet.")
    if not session.rights.hyperv_administrator:
        raise hyperv_permission_denied("Get-VM", session.computer_name)
    matches = [vm for vm in session.host.vms if vm.name.lower() == str(name).lower()]
    if not matches:
        raise OpFailed(f"No virtual machine named '{name}' exists on this host.")
    if len(matches) > 1:
        raise OpFailed(f"More than one virtual machine is named '{name}' on this host.")
    return matches[0]


def _vm_report(session: Session, vm: VM, vms_section: dict[str, Any] | None) -> dict[str, Any]:
    probed = next((v for v in (vms_section or {}).get("vms") or [] if v["id"] == vm.id), {})
    firmware = provisioning.vm_firmware(session.host, vm)
    heartbeat = next((s for s in probed.get("integration_services") or [] if s["name"] == "Heartbeat"), None)
    return {
        "name": vm.name, "id": vm.id.lower(), "state": vm.state, "generation": vm.generation, "version": vm.version,
        "processor_count": vm.processor_count, "expose_virtualization_extensions": vm.expose_virtualization_extensions,
        "dynamic_memory_enabled": vm.dynamic_memory_enabled, "startup_memory_bytes": vm.startup_memory_bytes,
        "notes": vm.notes,
        "adapters": [{"name": a["name"], "switch_name": a["switch_name"], "mac_address": a["mac_address"],
                      "mac_address_spoofing": a["mac_address_spoofing"], "ip_addresses": a["ip_addresses"]}
                     for a in probed.get("adapters") or []],
        "hard_drives": provisioning.vm_disks(session.host, vm),
        "secure_boot": firmware["secure_boot"], "secure_boot_template": firmware["secure_boot_template"],
        "heartbeat": (heartbeat or {}).get("primary_status") if (heartbeat or {}).get("enabled") else None,
    }


def _inspect(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    host = session.host
    if host.os_state.hyperv_feature != "Enabled":
        return {"hyperv_module": False, "vms": [], "missing": [], "duplicates": [], "switches": [], "files": []}
    if not session.rights.hyperv_administrator:
        raise hyperv_permission_denied("Get-VM", session.computer_name)
    names = [str(n) for n in parameters.get("vm_names") or []]
    with session.lock:
        session.refresh()
        section = probe(session, {"sections": ["vms"], "vm_names": None})["vms"]
        vms, missing, duplicates = [], [], []
        for name in names:
            found = [vm for vm in host.vms if vm.name.lower() == name.lower()]
            if not found:
                missing.append(name)
            elif len(found) > 1:
                duplicates.append(name)
            else:
                vms.append(_vm_report(session, found[0], section))
        files = []
        for path in parameters.get("paths") or []:
            entry = provisioning.file_entry(host, str(path))
            files.append({"path": str(path), "exists": entry is not None,
                          "parent_path": entry.get("parent") if entry else None})
        build = host_build(host)
        return {"hyperv_module": True, "vms": vms, "missing": missing, "duplicates": duplicates,
                "switches": [s.name for s in host.switches], "supported_versions": supported_versions(build),
                "default_version": default_version(build), "files": files}


def _model(session: Session, cmdlet: str, action: Any) -> Any:
    try:
        result = action()
    except HyperVError as error:
        raise as_ps_error(error, cmdlet) from None
    session.changed()
    return result


def _step_unlocked(session: Session, step: dict[str, Any]) -> VM | None:
    """Run one step with the lock held; returns the VM to wait for when the step is `start`."""
    host = session.host
    kind = step.get("kind")
    vm = None if kind in ("new_disk", "write_unattend", "new_seed_disk", "new_vm") else _resolve(session, step.get("vm"))
    if vm is not None and kind not in ("remove_vm", "turn_off") and not _ours(vm):
        raise OpFailed(f"VM '{vm.name}' was not created by win_nested_vm_provision: it is not changed.")
    if kind == "new_disk":
        path, parent = str(step["path"]), str(step["parent_path"])
        if step.get("mode") == "copy":
            _model(session, "Copy-Item", lambda: provisioning.copy_file(host, parent, path))
        else:
            _call(session, "New-VHD", {"Path": path, "ParentPath": parent, "Differencing": True})
            _model(session, "New-VHD", lambda: provisioning.new_differencing(host, path, parent))
    elif kind == "write_unattend":
        disk = str(step["disk_path"])
        _call(session, "Mount-VHD", {"Path": disk, "PassThru": True})
        _model(session, "Mount-VHD", lambda: provisioning.mount(host, disk))
        try:
            image = provisioning.image_of(host, provisioning.file_entry(host, disk) or {})
            if image is None or image.get("family") != "windows":
                raise OpFailed(f"The image {disk} has no single Windows volume to put the answer file on.")
            provisioning.write_file(host, disk, str(step["file"]), str(step["content"]))
        finally:
            _call(session, "Dismount-VHD", {"Path": disk})
            _model(session, "Dismount-VHD", lambda: provisioning.dismount(host, disk))
    elif kind == "new_seed_disk":
        path = str(step["path"])
        label = str(step.get("label"))
        if provisioning.label_problem(label):
            raise OpFailed(f"Format-Volume: {provisioning.label_problem(label)}.")
        _call(session, "New-VHD", {"Path": path, "SizeBytes": 64 * 1024 * 1024, "Dynamic": True})
        _model(session, "New-VHD", lambda: provisioning.new_dynamic(host, path))
        _call(session, "Mount-VHD", {"Path": path, "PassThru": True})
        _model(session, "Mount-VHD", lambda: provisioning.mount(host, path))
        try:
            provisioning.format_seed(host, path, label)
            for name, content in dict(step.get("files") or {}).items():
                provisioning.write_file(host, path, str(name), str(content))
        finally:
            _call(session, "Dismount-VHD", {"Path": path})
            _model(session, "Dismount-VHD", lambda: provisioning.dismount(host, path))
    elif kind == "new_vm":
        splat: dict[str, Any] = {"Name": str(step["vm"]), "Generation": int(step["generation"]),
                                 "MemoryStartupBytes": int(step["memory_startup_bytes"]), "Path": str(step["path"]),
                                 "NoVHD": True}
        if step.get("switch_name"):
            splat["SwitchName"] = str(step["switch_name"])
        if step.get("version"):
            splat["Version"] = str(step["version"])
        bound = _call(session, "New-VM", splat)
        created = _model(session, "New-VM", lambda: provisioning.new_vm(
            host, bound.get("Name"), int(bound.get("Generation")), bound.get("MemoryStartupBytes"), bound.get("Path"),
            bound.get("SwitchName"), step.get("version")))
        _call(session, "Set-VM", {"VM": [vm_ref(created)], "Notes": str(step["notes"])})
        created.notes = str(step["notes"])
    elif kind == "cmdlet":
        cmdlet = str(step.get("cmdlet"))
        if cmdlet not in ALLOWED_CMDLETS:
            raise OpFailed(f"Cmdlet '{cmdlet}' is not allowed here.")
        assert vm is not None
        parameters = dict(step.get("parameters") or {})
        if cmdlet == "Set-VMFirmware":
            bound = _call(session, cmdlet, {**parameters, "VM": [vm_ref(vm)]})
            _model(session, cmdlet, lambda: provisioning.set_firmware(
                host, vm, bound.get("EnableSecureBoot"), bound.get("SecureBootTemplate"), None))
        else:
            run_cmdlet(session, cmdlet, {**parameters, "VM": [vm_ref(vm)], "ErrorAction": "Stop"})
    elif kind == "add_disk":
        assert vm is not None
        path = str(step["path"])
        _call(session, "Add-VMHardDiskDrive", {"VM": [vm_ref(vm)], "Path": path, "Passthru": True})
        _model(session, "Add-VMHardDiskDrive", lambda: provisioning.add_hard_disk(host, vm, path))
        if step.get("first_boot_device"):
            drive = ObjectRef("HardDiskDrive", path, bases=("VMComponentObject",))
            _call(session, "Set-VMFirmware", {"VM": [vm_ref(vm)], "FirstBootDevice": drive})
            _model(session, "Set-VMFirmware", lambda: provisioning.set_firmware(host, vm, None, None, path))
    elif kind == "adapter":
        assert vm is not None
        if int(step.get("index", 0)) == 0:
            if not vm.adapters:
                raise OpFailed(f"VM '{vm.name}' has no network adapter.")
            adapter = vm.adapters[0]
        else:
            switch = str(step["switch_name"]) if step.get("switch_name") else None
            add: dict[str, Any] = {"VM": [vm_ref(vm)], "Name": str(step["name"]), "Passthru": True}
            if switch is not None:
                add["SwitchName"] = switch
            _call(session, "Add-VMNetworkAdapter", add)
            adapter = _model(session, "Add-VMNetworkAdapter", lambda: provisioning.add_adapter(
                host, vm, str(step["name"]), switch))
        run_cmdlet(session, "Set-VMNetworkAdapter", {"VMNetworkAdapter": adapter_ref(vm, adapter),
                                                     "MacAddressSpoofing": str(step["mac_address_spoofing"]),
                                                     "ErrorAction": "Stop"})
    elif kind == "start":
        assert vm is not None
        run_cmdlet(session, "Start-VM", {"VM": [vm_ref(vm)], "ErrorAction": "Stop"})
        return vm
    elif kind == "turn_off":
        assert vm is not None
        if not _ours(vm):
            raise OpFailed(f"VM '{vm.name}' was not created by win_nested_vm_provision: it is not stopped.")
        run_cmdlet(session, "Stop-VM", {"VM": [vm_ref(vm)], "TurnOff": True, "Force": True, "ErrorAction": "Stop"})
    elif kind == "remove_vm":
        assert vm is not None
        if not _ours(vm):
            raise OpFailed(f"VM '{vm.name}' was not created by win_nested_vm_provision: it is not removed.")
        if vm.id.lower() != str(step.get("vm_id") or "").lower():
            raise OpFailed(f"VM '{vm.name}' changed since it was inspected.")
        _call(session, "Remove-VM", {"VM": [vm_ref(vm)], "Force": True})
        _model(session, "Remove-VM", lambda: provisioning.remove_vm(host, vm))
        for path in step.get("files") or []:
            if provisioning.file_entry(host, str(path)) is not None:
                _model(session, "Remove-Item", lambda p=str(path): provisioning.delete_file(host, p))
    else:
        raise OpFailed(f"Unknown provisioning step '{kind}'.")
    return None


def _wait_heartbeat(session: Session, vm: VM, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with session.lock:
            session.refresh()
            if vm.state == "Running" and lifecycle.guest_booted(vm, session.clock()) and vm.guest is not None:
                return
        if time.monotonic() >= deadline:
            raise OpFailed(f"VM '{vm.name}' did not report a healthy heartbeat within {int(timeout)} seconds.")
        session.sleep()


def _apply(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    steps = parameters.get("steps") or []
    report: list[dict[str, Any]] = []
    failed: int | None = None
    for index, step in enumerate(steps):
        if failed is not None:
            report.append({"index": index, "status": "not_run", "message": None, "duration_ms": 0})
            continue
        started = time.monotonic()
        try:
            if not isinstance(step, dict):
                raise OpFailed("A step must be a JSON object.")
            with session.lock:
                waiting = _step_unlocked(session, step)
            if waiting is not None:
                _wait_heartbeat(session, waiting, float(step.get("timeout_seconds", 900)))
            status, message = "ok", None
        except (PSError, OpFailed) as error:
            status, message, failed = "failed", str(error), index
        report.append({"index": index, "status": status, "message": message,
                       "duration_ms": int((time.monotonic() - started) * 1000)})
    vms: dict[str, Any] = {}
    with session.lock:
        section = probe(session, {"sections": ["vms"], "vm_names": None})["vms"] \
            if session.host.os_state.hyperv_feature == "Enabled" else None
        for step in steps:
            name = step.get("vm") if isinstance(step, dict) else None
            found = [vm for vm in session.host.vms if isinstance(name, str) and vm.name.lower() == name.lower()]
            if len(found) == 1:
                vms[found[0].name] = _vm_report(session, found[0], section)
    return {"steps": report, "failed_index": failed, "vms": vms}


def provision(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    if parameters.get("action") == "apply":
        return _apply(session, parameters)
    return _inspect(session, parameters)
