# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-only probe (docs/internals/wire-protocol.md, section 2). Being written: see win_nested_info."""

from __future__ import annotations

PROBE = r"""
param($Parameters)
throw 'The hyperv.nested probe is not implemented yet.'
"""
