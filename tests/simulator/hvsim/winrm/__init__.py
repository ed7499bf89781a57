"""WS-Management (WinRM) endpoint of the simulated fleet; knows nothing of Hyper-V."""

from .backend import CommandBackend, CommandObserver, CommandResult
from .faults import DropWhen, ProtocolFaults
from .server import Endpoint
from .tls import TLSConfig

__all__ = ["CommandBackend", "CommandObserver", "CommandResult", "DropWhen", "Endpoint", "ProtocolFaults", "TLSConfig"]
