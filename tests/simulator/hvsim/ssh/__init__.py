"""SSH endpoints of the simulated fleet, like Win32-OpenSSH's sshd, on asyncssh."""

from .server import DEFAULT_SHELLS, SSHEndpoints, SSHKeys, SSHOptions

__all__ = ["DEFAULT_SHELLS", "SSHEndpoints", "SSHKeys", "SSHOptions"]
