# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Can this host run nested virtualization, and can each VM be a Hyper-V host? The verdict rules.

Input is the probe's `host` and `vms` sections (docs/internals/wire-protocol.md); output is a
verdict per host and per VM with stable reason codes, each explained in docs/reason-codes.md.
Pure functions: no I/O, so every rule is unit-tested on Linux.

Where a reason code is decided: `host.*` in `host` (one function per rule family, run in the
order of HOST_RULES), `vm.*` in `vm` (VM_RULES), and the codes about names (vm.not_found,
vm.duplicate_name, vm.unreadable) in `report`, which also has `evaluate` and `summarize`.
`verdict` holds Finding, Verdict and the registry of codes; `platform` what the host is.
"""

from __future__ import annotations

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.host import HOST_RULES, host_verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.platform import (
    AMD,
    AZURE_ASSET_TAG,
    AZURE_DNS,
    INTEL,
    Platform,
    platform_of,
    required_version,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.report import Report, evaluate, summarize
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.verdict import CODES, Facts, Finding, Verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.vm import (
    NETWORK_MODES,
    RECOMMENDED_MEMORY_BYTES,
    RECOMMENDED_PROCESSORS,
    VCPU_LIMIT_2019_GUESTS,
    VM_RULES,
    vm_verdict,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import version_key

__all__ = [
    "AMD",
    "AZURE_ASSET_TAG",
    "AZURE_DNS",
    "CODES",
    "HOST_RULES",
    "INTEL",
    "NETWORK_MODES",
    "RECOMMENDED_MEMORY_BYTES",
    "RECOMMENDED_PROCESSORS",
    "VCPU_LIMIT_2019_GUESTS",
    "VM_RULES",
    "Facts",
    "Finding",
    "Platform",
    "Report",
    "Verdict",
    "evaluate",
    "host_verdict",
    "platform_of",
    "required_version",
    "summarize",
    "version_key",
    "vm_verdict",
]
