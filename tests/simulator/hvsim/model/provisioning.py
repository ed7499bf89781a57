"""Provisioning: virtual disk files and their parents, new VMs, answer files, first boots (RULES #50-#57).

A host's files and the disks attached to its VMs live in `Host.storage` (plain JSON, persisted
with the host):

    {"files":   {<path lower>: {"path", "kind": golden|differencing|copy|dynamic, "identity",
                                "parent", "parent_identity", "image", "contents": {<relative path>: text},
                                "volume_label", "mounted"}},
     "vms":     {<vm id lower>: {"disks": [path, ...], "secure_boot": "On"|"Off", "secure_boot_template",
                                 "first_boot_device": path|None, "answered": bool}},
     "planned": [{"vm_name", "inventory_name", "address", "port"}]}

`image` says what a golden image holds: {"family": windows|linux, "os": {...}, "sysprepped": bool}.
A lab declares golden images (`golden_images:`) and the machines its inventory will create
(`planned_vms:`) per host; a created VM whose first boot applies an answer file that opens WinRM
becomes the planned machine: a nested Hyper-V host with its own endpoint.
"""
from __future__ import annotations

import base64
import ntpath
import re
import uuid
from typing import Any
from xml.etree import ElementTree

import yaml

from .errors import HyperVError
from .lab import DEFAULT_INTEGRATION, dashed, filetime, hyperv_vm_platform
from .objects import VM, Host, NetAdapter, OSState, VMAdapter
from .platform import default_version, host_build, supported_versions

SECURE_BOOT_TEMPLATES = ("MicrosoftWindows", "MicrosoftUEFICertificateAuthority", "OpenSourceShieldedVM")
_UNATTEND_NS = {"u": "urn:schemas-microsoft-com:unattend"}
_UNATTEND_PATH = "windows\\panther\\unattend.xml"


def _storage(host: Host) -> dict[str, Any]:
    storage = host.storage
    storage.setdefault("files", {})
    storage.setdefault("vms", {})
    storage.setdefault("planned", [])
    return storage


def _key(path: str) -> str:
    return ntpath.normpath(path).lower()


def _new_identity() -> str:
    return str(uuid.uuid4())


def load_lab_storage(host: Host, spec: dict[str, Any]) -> None:
    """`golden_images:` and `planned_vms:` of a lab host."""
    storage = _storage(host)
    for image in spec.get("golden_images") or []:
        family = image.get("family", "windows")
        if family not in ("windows", "linux"):
            raise ValueError(f"lab: host {host.name}: golden image {image.get('path')!r}: family must be windows or linux")
        storage["files"][_key(image["path"])] = {
            "path": image["path"], "kind": "golden", "identity": _new_identity(), "parent": None,
            "parent_identity": None, "contents": {}, "volume_label": None, "mounted": False,
            "image": {"family": family, "os": dict(image.get("os") or {}),
                      "sysprepped": bool(image.get("sysprepped", family == "windows"))}}
    for planned in spec.get("planned_vms") or []:
        nested = planned.get("nested_host")
        storage["planned"].append({
            "vm_name": planned["name"],
            "inventory_name": str((planned.get("inventory") or {}).get("name") or planned["name"].lower()),
            # An L1 has an endpoint (and may plan golden images and guests of its own); an L2 has none.
            "endpoint": nested is not None,
            "address": (nested or {}).get("address", "127.0.0.1"), "port": int((nested or {}).get("port", 0)),
            "nested": {"golden_images": list((nested or {}).get("golden_images") or []),
                       "planned_vms": list((nested or {}).get("planned_vms") or [])}})


def planned_names(hosts: list[Host]) -> list[str]:
    """Inventory names of the planned machines with an endpoint (L1 hosts), at any depth of the plan."""
    found: list[str] = []

    def walk(planned: list[dict[str, Any]]) -> None:
        for entry in planned:
            if entry.get("endpoint", True):
                found.append(entry["inventory_name"])
            for nested in (entry.get("nested") or {}).get("planned_vms") or []:
                if nested.get("nested_host") is not None:
                    found.append(str((nested.get("inventory") or {}).get("name") or nested["name"].lower()))

    for host in hosts:
        walk((host.storage or {}).get("planned", []))
    return list(dict.fromkeys(found))


# -- files -----------------------------------------------------------------------------------

def file_entry(host: Host, path: str) -> dict[str, Any] | None:
    return _storage(host)["files"].get(_key(path))


def _require_absent(host: Host, path: str) -> None:
    if file_entry(host, path) is not None:
        raise HyperVError(f"Failed to create the virtual hard disk. The file '{path}' already exists.",
                          "ResourceExists", "ResourceExists")


def _require_file(host: Host, path: str, what: str = "virtual hard disk") -> dict[str, Any]:
    entry = file_entry(host, path)
    if entry is None:
        raise HyperVError(f"The system cannot find the {what} file '{path}'.", "ObjectNotFound", "ObjectNotFound")
    return entry


def new_differencing(host: Host, path: str, parent: str) -> dict[str, Any]:
    _require_absent(host, path)
    parent_entry = _require_file(host, parent)
    entry = {"path": path, "kind": "differencing", "identity": _new_identity(), "parent": parent_entry["path"],
             "parent_identity": parent_entry["identity"], "image": None, "contents": {}, "volume_label": None,
             "mounted": False}
    _storage(host)["files"][_key(path)] = entry
    return entry


def copy_file(host: Host, source: str, destination: str) -> dict[str, Any]:
    entry = dict(_require_file(host, source, "file"))
    if file_entry(host, destination) is not None:
        raise HyperVError(f"The file '{destination}' already exists.", "WriteError", "CopyFileInfoItemIOError")
    copied = {**entry, "path": destination, "kind": "copy" if entry["kind"] == "golden" else entry["kind"],
              "identity": _new_identity(), "contents": dict(entry.get("contents") or {}), "mounted": False}
    _storage(host)["files"][_key(destination)] = copied
    return copied


def new_dynamic(host: Host, path: str) -> dict[str, Any]:
    _require_absent(host, path)
    entry = {"path": path, "kind": "dynamic", "identity": _new_identity(), "parent": None, "parent_identity": None,
             "image": None, "contents": {}, "volume_label": None, "mounted": False}
    _storage(host)["files"][_key(path)] = entry
    return entry


def _in_use_by(host: Host, path: str) -> VM | None:
    for vm in host.vms:
        if vm.state != "Off" and _key(path) in [_key(d) for d in _vm_record(host, vm)["disks"]]:
            return vm
    return None


def mount(host: Host, path: str) -> dict[str, Any]:
    entry = _require_file(host, path)
    if entry["mounted"]:
        raise HyperVError(f"The virtual hard disk '{path}' is already mounted.", "InvalidOperation", "InvalidOperation")
    if _in_use_by(host, path) is not None:
        raise HyperVError(f"The process cannot access the file '{path}' because it is being used by another process.",
                          "ResourceBusy", "ResourceBusy")
    _check_chain(host, entry)
    entry["mounted"] = True
    return entry


def dismount(host: Host, path: str) -> None:
    entry = _require_file(host, path)
    if not entry["mounted"]:
        raise HyperVError(f"The disk '{path}' is not attached.", "InvalidOperation", "InvalidOperation")
    entry["mounted"] = False


def image_of(host: Host, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The golden image a disk holds (through its parents), or None for an empty disk."""
    seen = 0
    while entry is not None and seen < 32:
        if entry.get("image"):
            return dict(entry["image"])
        if not entry.get("parent"):
            return None
        entry = file_entry(host, entry["parent"])  # type: ignore[assignment]
        seen += 1
    return None


def write_file(host: Host, disk_path: str, relative: str, content: str) -> None:
    """Write a file onto a mounted disk's volume (the OS volume of an image, or a formatted empty disk)."""
    entry = _require_file(host, disk_path)
    if not entry["mounted"]:
        raise HyperVError(f"The disk '{disk_path}' is not mounted.", "InvalidOperation", "InvalidOperation")
    entry["contents"][relative.replace("/", "\\").lower()] = content


def format_seed(host: Host, path: str, label: str) -> None:
    entry = _require_file(host, path)
    if not entry["mounted"] or entry["kind"] != "dynamic":
        raise HyperVError(f"The disk '{path}' cannot be initialized.", "InvalidOperation", "InvalidOperation")
    entry["volume_label"] = label


def delete_file(host: Host, path: str) -> None:
    entry = _require_file(host, path, "file")
    if entry["kind"] == "golden":
        raise HyperVError(f"Refusing in the model: '{path}' is a golden image.", "PermissionDenied", "PermissionDenied")
    if entry["mounted"] or _in_use_by(host, path) is not None:
        raise HyperVError(f"The process cannot access the file '{path}' because it is being used by another process.",
                          "ResourceBusy", "ResourceBusy")
    del _storage(host)["files"][_key(path)]


def replace_golden(host: Host, path: str) -> None:
    """The operator overwrote a golden image (tests): its identity changes, its children break."""
    _require_file(host, path)["identity"] = _new_identity()


def _check_chain(host: Host, entry: dict[str, Any]) -> None:
    """A differencing disk opens only while its parent exists with the identity it was made from (RULES #52)."""
    while entry.get("kind") == "differencing":
        parent = file_entry(host, entry["parent"])
        if parent is None:
            raise HyperVError(f"The chain of virtual hard disks is broken. The system cannot locate the parent virtual "
                              f"hard disk for the differencing disk '{entry['path']}'.", "ObjectNotFound",
                              "ObjectNotFound")
        if parent["identity"] != entry["parent_identity"]:
            raise HyperVError(f"The chain of virtual hard disks is corrupted. There is a mismatch in the identifiers of "
                              f"the parent virtual hard disk and differencing disk '{entry['path']}'.",
                              "InvalidData", "InvalidData")
        entry = parent


# -- VMs -------------------------------------------------------------------------------------

def _fresh_mac(host: Host) -> str:
    """Hyper-V's dynamic range 00-15-5D-xx-xx-xx; above the lab builder's sequential ones, unique on the host."""
    used = {a.mac_address.upper() for vm in host.vms for a in vm.adapters}
    counter = int(_storage(host).get("next_mac", 0x800000))
    while f"00155D{counter:06X}" in used:
        counter += 1
    _storage(host)["next_mac"] = counter + 1
    return f"00155D{counter:06X}"


def _vm_record(host: Host, vm: VM) -> dict[str, Any]:
    record: dict[str, Any] = _storage(host)["vms"].setdefault(vm.id.lower(), {
        "disks": [], "secure_boot": "On" if vm.generation == 2 else None,
        "secure_boot_template": "MicrosoftWindows" if vm.generation == 2 else None,
        "first_boot_device": None, "answered": False})
    return record


def vm_disks(host: Host, vm: VM) -> list[str]:
    return list(_vm_record(host, vm)["disks"]) if vm.id.lower() in _storage(host)["vms"] else []


def vm_firmware(host: Host, vm: VM) -> dict[str, Any]:
    record = _storage(host)["vms"].get(vm.id.lower())
    if vm.generation != 2:
        return {"secure_boot": None, "secure_boot_template": None}
    if record is None:   # a VM of the lab file: Hyper-V's defaults for a generation 2 VM
        return {"secure_boot": "On", "secure_boot_template": "MicrosoftWindows"}
    return {"secure_boot": record["secure_boot"], "secure_boot_template": record["secure_boot_template"]}


def new_vm(host: Host, name: str, generation: int, memory_bytes: int | None, path: str | None,
           switch_name: str | None, version: str | None) -> VM:
    # Hyper-V allows two VMs of one name (each has its own Id): New-VM does not refuse it.
    if version is not None and version not in supported_versions(host_build(host)):
        raise HyperVError(f"'{name}' failed to create. The version '{version}' is not supported by this host. "
                          "(Get-VMHostSupportedVersion lists them.)", "InvalidArgument", "InvalidParameter")
    if switch_name is not None and not any(s.name.lower() == switch_name.lower() for s in host.switches):
        raise HyperVError(f"Hyper-V was unable to find a virtual switch with name \"{switch_name}\".",
                          "InvalidArgument", "InvalidParameter")
    vm_id = str(uuid.uuid4()).upper()
    vm = VM(name=name, id=vm_id, generation=generation, version=version or default_version(host_build(host)),
            state="Off", processor_count=1, dynamic_memory_enabled=False,
            startup_memory_bytes=memory_bytes or 1024 ** 3, integration_services=dict(DEFAULT_INTEGRATION))
    switch = next((s.name for s in host.switches if switch_name and s.name.lower() == switch_name.lower()), None)
    vm.adapters.append(VMAdapter(name="Network Adapter", id=f"Microsoft:{vm_id}\\{str(uuid.uuid4()).upper()}",
                                 mac_address=_fresh_mac(host), switch_name=switch))
    host.vms.append(vm)
    record = _vm_record(host, vm)
    record["path"] = path
    return vm


def add_adapter(host: Host, vm: VM, name: str | None, switch_name: str | None) -> VMAdapter:
    if switch_name is not None and not any(s.name.lower() == switch_name.lower() for s in host.switches):
        raise HyperVError(f"Hyper-V was unable to find a virtual switch with name \"{switch_name}\".",
                          "InvalidArgument", "InvalidParameter")
    if vm.state != "Off" and vm.generation == 1:
        raise HyperVError(f"'{vm.name}' failed to add device 'Synthetic Ethernet Port'. The operation cannot be "
                          "performed while the virtual machine is in its current state.", "InvalidOperation",
                          "InvalidState")
    switch = next((s.name for s in host.switches if switch_name and s.name.lower() == switch_name.lower()), None)
    adapter = VMAdapter(name=name or "Network Adapter", id=f"Microsoft:{vm.id}\\{str(uuid.uuid4()).upper()}",
                        mac_address=_fresh_mac(host), switch_name=switch)
    vm.adapters.append(adapter)
    return adapter


def add_hard_disk(host: Host, vm: VM, path: str) -> None:
    entry = _require_file(host, path)
    if entry["mounted"]:
        raise HyperVError(f"'{vm.name}' failed to add device 'Virtual Hard Disk'. The process cannot access the file "
                          f"'{path}' because it is being used by another process.", "ResourceBusy", "ResourceBusy")
    for other in host.vms:
        if other is not vm and _key(path) in [_key(d) for d in vm_disks(host, other)]:
            raise HyperVError(f"'{vm.name}' failed to add device 'Virtual Hard Disk'. The file '{path}' is in use by "
                              f"virtual machine '{other.name}'.", "ResourceBusy", "ResourceBusy")
    if vm.state != "Off" and vm.generation == 1:
        raise HyperVError(f"'{vm.name}' failed to add device 'Virtual Hard Disk': IDE drives change only while the VM "
                          "is off.", "InvalidOperation", "InvalidState")
    _vm_record(host, vm)["disks"].append(entry["path"])


def set_firmware(host: Host, vm: VM, secure_boot: str | None, template: str | None, first_boot: str | None) -> None:
    if vm.generation != 2:
        raise HyperVError(f"Set-VMFirmware: '{vm.name}' is a generation 1 virtual machine; only generation 2 virtual "
                          "machines have firmware settings.", "InvalidArgument", "InvalidParameter")
    if template is not None and template not in SECURE_BOOT_TEMPLATES:
        raise HyperVError(f"The Secure Boot template '{template}' was not found.", "ObjectNotFound", "ObjectNotFound")
    if vm.state != "Off" and (secure_boot is not None or template is not None):
        raise HyperVError(f"'{vm.name}' failed to modify firmware settings: the virtual machine must be off.",
                          "InvalidOperation", "InvalidState")
    record = _vm_record(host, vm)
    if secure_boot is not None:
        record["secure_boot"] = secure_boot
    if template is not None:
        record["secure_boot_template"] = template
    if first_boot is not None:
        record["first_boot_device"] = first_boot


def remove_vm(host: Host, vm: VM) -> None:
    if vm.state != "Off":
        raise HyperVError(f"'{vm.name}' failed to delete. The operation cannot be performed while the virtual machine "
                          "is in its current state.", "InvalidOperation", "InvalidState")
    host.vms.remove(vm)
    # Remove-VM deletes the configuration, never the virtual hard disk files (RULES #55).
    _storage(host)["vms"].pop(vm.id.lower(), None)


# -- first boot ------------------------------------------------------------------------------

def _parse_unattend(text: str) -> dict[str, str | None]:
    root = ElementTree.fromstring(text)
    found: dict[str, str | None] = {"computer_name": None, "time_zone": None, "password": None, "winrm_https": None}
    for element in root.iter():
        tag = element.tag.split("}")[-1]
        if tag == "ComputerName":
            found["computer_name"] = (element.text or "").strip()
        elif tag == "TimeZone":
            found["time_zone"] = (element.text or "").strip()
        elif tag == "AdministratorPassword":
            value = element.find("u:Value", _UNATTEND_NS)
            plain = element.find("u:PlainText", _UNATTEND_NS)
            raw = value.text or "" if value is not None else ""
            if plain is not None and (plain.text or "").strip().lower() == "false":
                decoded = base64.b64decode(raw).decode("utf-16-le")
                if not decoded.endswith("AdministratorPassword"):
                    raise ValueError("an encoded AdministratorPassword must end with 'AdministratorPassword'")
                raw = decoded[: -len("AdministratorPassword")]
            found["password"] = raw
        elif tag == "Path" and element.text and "WSMan:\\localhost\\Listener" in element.text \
                and "-Transport HTTPS" in element.text:
            found["winrm_https"] = "on"
    return found


def _seed_files(host: Host, vm: VM) -> dict[str, str] | None:
    for path in vm_disks(host, vm):
        entry = file_entry(host, path)
        if entry is not None and (entry.get("volume_label") or "").lower() == "cidata":
            return dict(entry.get("contents") or {})
    return None


def _guest_adapters(state: OSState, vm: VM) -> None:
    for index, vm_adapter in enumerate(vm.adapters):
        state.adapters.append(NetAdapter(
            name="Ethernet" if index == 0 else f"Ethernet {index + 1}", interface_index=state.next_interface_index,
            mac_address=dashed(vm_adapter.mac_address), dhcp=True))
        state.next_interface_index += 1


def prepare_boot(host: Host, vm: VM, now: float) -> None:
    """Before a VM starts: its disks must open (RULES #52); a first boot applies the image's answer (#53, #54).
    A VM without provisioning records (the lab's own VMs) is left alone."""
    record = _storage(host)["vms"].get(vm.id.lower())
    if record is None:
        return
    for path in record["disks"]:
        entry = file_entry(host, path)
        if entry is None:
            raise HyperVError(f"'{vm.name}' failed to start. (Virtual machine ID {vm.id}) The system cannot find the "
                              f"file '{path}'.", "ObjectNotFound", "ObjectNotFound")
        if entry["mounted"]:
            raise HyperVError(f"'{vm.name}' failed to start. (Virtual machine ID {vm.id}) The process cannot access "
                              f"the file '{path}' because it is being used by another process.", "ResourceBusy",
                              "ResourceBusy")
        try:
            _check_chain(host, entry)
        except HyperVError as error:
            raise HyperVError(f"'{vm.name}' failed to start. (Virtual machine ID {vm.id}) {error.message}",
                              error.category, error.error_id) from None
    if vm.guest is not None or record.get("answered"):
        return
    boot = record["disks"][0] if record["disks"] else None
    entry = file_entry(host, boot) if boot else None
    image = image_of(host, entry) if entry else None
    if image is None:
        return    # no operating system: the VM runs, nothing answers
    if vm.generation == 2 and record.get("secure_boot") == "On" and image["family"] == "linux" \
            and record.get("secure_boot_template") == "MicrosoftWindows":
        return    # Secure Boot refuses the Linux loader (RULES #56): firmware stops, no guest comes up
    record["answered"] = True
    if image["family"] == "windows":
        _first_boot_windows(host, vm, entry or {}, image, now)
    else:
        _first_boot_linux(host, vm, image, now)


def _first_boot_windows(host: Host, vm: VM, entry: dict[str, Any], image: dict[str, Any], now: float) -> None:
    text = (entry.get("contents") or {}).get(_UNATTEND_PATH)
    if not image.get("sysprepped") or text is None:
        return    # without an answer file a generalized image waits at OOBE: nobody can log on
    answer = _parse_unattend(text)
    if not answer["password"]:
        return
    state = OSState(os={**image["os"], "computer_name": answer["computer_name"]}, username="Administrator",
                    password=answer["password"], boot_filetime=filetime(now), boot_count=0)
    _guest_adapters(state, vm)
    vm.guest = state
    planned = next((p for p in _storage(host)["planned"] if p["vm_name"].lower() == vm.name.lower()), None)
    vm.inventory_name = planned["inventory_name"] if planned else (answer["computer_name"] or vm.name).lower()
    if planned is None or not planned.get("endpoint", True) or answer["winrm_https"] != "on":
        return    # a guest only (PowerShell Direct); no endpoint the controller can reach
    nested = Host(
        name=planned["inventory_name"], username=state.username, password=state.password,
        address=planned["address"], port=planned["port"], os_state=state, processor=dict(host.processor),
        logical_processors=vm.processor_count, memory_bytes=vm.startup_memory_bytes, hypervisor_present=False,
        vbs={"configured": False, "running": False}, is_virtual_machine=True, platform=hyperv_vm_platform(vm.id),
        parent=host.name, vm_name=vm.name)
    nested.supported_versions = supported_versions(int(state.os.get("build", 0)))
    # What the image brings for the nested lab: golden images on its disk, the guests its inventory plans.
    load_lab_storage(nested, planned.get("nested") or {})
    vm.nested_host = nested


def _first_boot_linux(host: Host, vm: VM, image: dict[str, Any], now: float) -> None:
    files = _seed_files(host, vm)
    if files is None:
        return    # cloud-init finds no datasource: no user, nothing to log into
    user_data = yaml.safe_load(files.get("user-data") or "") or {}
    meta = yaml.safe_load(files.get("meta-data") or "") or {}
    users = [u for u in user_data.get("users") or [] if isinstance(u, dict)]
    if not users:
        return
    name = str(users[0]["name"])
    password = next((str(u.get("password")) for u in (user_data.get("chpasswd") or {}).get("users") or []
                     if isinstance(u, dict) and u.get("name") == name), "")
    state = OSState(os={**image["os"], "family": "linux", "computer_name": meta.get("local-hostname")},
                    username=name, password=password, boot_filetime=filetime(now), boot_count=0)
    _guest_adapters(state, vm)
    vm.guest = state
    vm.inventory_name = str(meta.get("local-hostname") or vm.name).lower()


_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,11}$")


def label_problem(label: str) -> str | None:
    return None if _SAFE_LABEL.match(label) else "a FAT32 volume label has at most 11 letters, digits, '_' or '-'"
