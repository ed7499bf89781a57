"""Reading a lab file: the Fleet's part of it, and the inventory's view of its machines.

The lab schema is DESIGN.md's, plus one optional key per VM, `inventory:`:

    inventory: {name: lab-hv1, nested_network_mode: nat}    # any further keys become host vars

and one optional top-level key, `timing_model:` (model/timing.py, TIMING.md):

    timing_model: realistic                                 # or fast, the default
    timing_model: {profile: realistic, scale: 0.1, figures: {feature:install: 60}}

A machine's name is `guest.nested_host.name`, else `inventory.name`, else the VM name in lower
case: the same rule as hvsim.model.lab, so inventory names and Fleet host names agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # generated labs are big: libyaml when present


class LabError(ValueError):
    pass


@dataclass(frozen=True)
class Machine:
    """One inventory host: an L0 host, an L1 VM that is a Hyper-V host, or an L2 guest."""

    name: str
    level: int                      # 0, 1 or 2
    username: str
    password: str
    parent: str | None = None       # inventory name of the host running this VM
    vm_name: str | None = None
    address: str | None = None      # endpoint bind address; None for L2 (reached through L1)
    port: int = 0
    extra_vars: dict[str, Any] = field(default_factory=dict)

    @property
    def has_endpoint(self) -> bool:
        return self.address is not None


def timing_model_config(lab: dict[str, Any]) -> dict[str, Any]:
    """The lab's `timing_model` as {profile, scale, figures}, checked (LabError names the key)."""
    from .model.timing import FIGURES, LIFECYCLE, PROFILES
    raw = lab.get("timing_model", "fast")
    config = {"profile": raw} if isinstance(raw, str) else raw
    if not isinstance(config, dict):
        raise LabError("timing_model: give a profile name (fast, realistic) or a mapping "
                       "{profile, scale, figures}")
    unknown = sorted(set(config) - {"profile", "scale", "figures"})
    if unknown:
        raise LabError(f"timing_model: unknown key(s) {', '.join(unknown)}; use profile, scale, figures")
    profile = config.get("profile", "fast")
    if profile not in PROFILES:
        raise LabError(f"timing_model.profile: {profile!r} is not one of {', '.join(PROFILES)}")
    scale = config.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
        raise LabError(f"timing_model.scale: {scale!r} is not a positive number")
    figures = config.get("figures") or {}
    known = {f.key for f in FIGURES} | {f.key for f in LIFECYCLE}
    if not isinstance(figures, dict):
        raise LabError("timing_model.figures: give a mapping of figure key to seconds")
    for key, value in figures.items():
        if key not in known:
            raise LabError(f"timing_model.figures: unknown figure {key!r} (known: {', '.join(sorted(known))})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise LabError(f"timing_model.figures.{key}: {value!r} is not a number of seconds")
    return {"profile": profile, "scale": float(scale), "figures": {k: float(v) for k, v in figures.items()}}


def load_lab(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        lab = yaml.load(handle, Loader=_LOADER)
    if not isinstance(lab, dict) or not isinstance(lab.get("hosts"), list):
        raise LabError(f"{path}: a lab is a mapping with a 'hosts' list")
    return lab


def machines(lab: dict[str, Any]) -> list[Machine]:
    """Every machine of the lab, parents before children, in lab order."""
    found: list[Machine] = []
    for host in lab["hosts"]:
        try:
            found.append(Machine(name=host["name"], level=0, username=host["username"],
                                 password=host["password"], address=host.get("address", "127.0.0.1"),
                                 port=int(host.get("port", 0))))
        except KeyError as missing:
            raise LabError(f"host {host.get('name', '?')}: missing {missing}") from None
        _collect_vms(found, host["name"], host.get("vms") or [], level=1)
        _collect_planned(found, host["name"], host.get("planned_vms") or [])
    names = [machine.name for machine in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LabError(f"inventory names used twice: {', '.join(duplicates)}")
    return found


def _collect_vms(found: list[Machine], parent: str, vms: list[dict[str, Any]], level: int) -> None:
    for vm in vms:
        guest = vm.get("guest")
        if not guest:
            continue  # a VM we cannot log into is not an inventory host
        inventory = dict(vm.get("inventory") or {})
        nested = guest.get("nested_host")
        name = str((nested or {}).get("name") or inventory.pop("name", None) or vm["name"].lower())
        inventory.pop("name", None)
        found.append(Machine(
            name=name, level=level, username=guest["username"], password=guest["password"],
            parent=parent, vm_name=vm["name"],
            address=nested.get("address", "127.0.0.1") if nested else None,
            port=int(nested.get("port", 0)) if nested else 0,
            extra_vars=inventory,
        ))
        if nested:
            _collect_vms(found, name, nested.get("vms") or [], level + 1)


def _collect_planned(found: list[Machine], parent: str, planned: list[dict[str, Any]], level: int = 1) -> None:
    """`planned_vms:` of a host: VMs the inventory creates (model/provisioning.py). Their endpoints
    listen from `up` and answer once the VM's first boot made it a Windows host with WinRM."""
    for vm in planned:
        inventory = dict(vm.get("inventory") or {})
        name = str(inventory.pop("name", None) or vm["name"].lower())
        nested = vm.get("nested_host")
        try:
            found.append(Machine(name=name, level=level, username=vm["username"], password=vm["password"],
                                 parent=parent, vm_name=vm["name"],
                                 address=nested.get("address", "127.0.0.1") if nested is not None else None,
                                 port=int((nested or {}).get("port", 0)), extra_vars=inventory))
        except KeyError as missing:
            raise LabError(f"planned VM {vm.get('name', '?')} of host {parent}: missing {missing}") from None
        if nested is not None:
            _collect_planned(found, name, nested.get("planned_vms") or [], level + 1)
