"""PSRP (PowerShell Remoting Protocol over WinRM) for the simulated endpoints, on psrpcore."""

from .runspaces import PsrpRegistry

RESOURCE_PREFIX = "http://schemas.microsoft.com/powershell/"
# The only session configuration the simulated hosts register (Windows' default endpoint).
CONFIGURATIONS = ("microsoft.powershell",)

__all__ = ["CONFIGURATIONS", "RESOURCE_PREFIX", "PsrpRegistry"]
