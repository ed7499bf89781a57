"""Who runs a command: the accounts of a machine's OS and what their groups let them do (RULES #31-#36).

The OS's main account (`username` of the host, or of a VM's guest) is the built-in Administrator
and may do everything. A lab adds further local accounts per OS:

    accounts: [{username: hvop, password: ..., groups: [hyperv_administrators, remote_management_users]}]

Groups are the local groups that matter here: `administrators` (S-1-5-32-544),
`hyperv_administrators` (S-1-5-32-578) and `remote_management_users` (S-1-5-32-580). A local
account in Administrators other than the built-in one gets a filtered token over the network
(UAC remote restrictions) unless the OS sets `local_account_token_filter_policy: true`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .objects import OSState

ADMINISTRATORS = "administrators"
HYPERV_ADMINISTRATORS = "hyperv_administrators"
REMOTE_MANAGEMENT_USERS = "remote_management_users"
GROUPS = (ADMINISTRATORS, HYPERV_ADMINISTRATORS, REMOTE_MANAGEMENT_USERS)


@dataclass
class Account:
    username: str
    password: str
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rights:
    """What the account's (network logon) token carries."""

    username: str
    administrator: bool           # elevated member of Administrators
    hyperv_administrator: bool    # member of Hyper-V Administrators, or an administrator
    remote_management: bool       # passes WinRM's access check (Administrators or Remote Management Users)


def full_rights(username: str) -> Rights:
    return Rights(username, administrator=True, hyperv_administrator=True, remote_management=True)


NO_RIGHTS = Rights("", administrator=False, hyperv_administrator=False, remote_management=False)


def accounts_from_spec(spec: Any, main_username: str) -> list[Account]:
    """The `accounts:` list of a lab host or guest, checked: names unique, groups known."""
    if spec is None:
        return []
    if not isinstance(spec, list):
        raise ValueError(f"accounts must be a list, not {type(spec).__name__}")
    seen = {_bare(main_username)}
    found: list[Account] = []
    for entry in spec:
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str) or not isinstance(entry.get("password"), str):
            raise ValueError(f"an account needs a username and a password (strings): {entry!r}")
        groups = entry.get("groups") or []
        if not isinstance(groups, list) or any(group not in GROUPS for group in groups):
            raise ValueError(f"account {entry['username']}: groups must be a list of {', '.join(GROUPS)}, not {groups!r}")
        name = _bare(entry["username"])
        if name in seen:
            raise ValueError(f"account {entry['username']} is defined twice (or is the main account)")
        seen.add(name)
        found.append(Account(entry["username"], entry["password"], list(dict.fromkeys(groups))))
    return found


def _bare(username: str) -> str:
    """A local account's name without its domain (".", the machine name), case-folded."""
    return username.replace("/", "\\").rpartition("\\")[2].casefold()


def credentials(os_state: OSState) -> list[tuple[str, str]]:
    """(username, password) of every account that can log on: the main one first."""
    return [(os_state.username, os_state.password)] + [(a.username, a.password) for a in os_state.accounts]


def find_account(os_state: OSState, username: str) -> Account | None:
    """The extra account named `username` (None for the main account or an unknown name)."""
    wanted = _bare(username)
    return next((a for a in os_state.accounts if _bare(a.username) == wanted), None)


def is_main(os_state: OSState, username: str) -> bool:
    return _bare(username) == _bare(os_state.username)


def rights_of(os_state: OSState, username: str | None) -> Rights:
    """The rights of `username` on this OS; None means the main account. Unknown names get none."""
    if username is None or is_main(os_state, username):
        return full_rights(os_state.username if username is None else username)
    account = find_account(os_state, username)
    if account is None:
        return NO_RIGHTS
    groups = set(account.groups)
    administrator = ADMINISTRATORS in groups and os_state.local_account_token_filter_policy
    hyperv_administrator = administrator or HYPERV_ADMINISTRATORS in groups
    remote_management = administrator or REMOTE_MANAGEMENT_USERS in groups
    return Rights(account.username, administrator, hyperv_administrator, remote_management)


def check_password(os_state: OSState, username: Any, password: Any) -> Rights | None:
    """A logon with a password (PowerShell Direct's -Credential): the account's rights, or None."""
    # Exact names, as the simulator always compared them for PowerShell Direct (stricter than
    # Windows, which also takes other cases and a domain prefix).
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if username == os_state.username:
        return full_rights(username) if password == os_state.password else None
    account = next((a for a in os_state.accounts if a.username == username), None)
    if account is None or password != account.password:
        return None
    return rights_of(os_state, username)
