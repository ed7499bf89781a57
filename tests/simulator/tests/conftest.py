"""Put tests/simulator on sys.path so the simulator's tests import `hvsim` directly."""

from __future__ import annotations

import sys
from pathlib import Path

SIMULATOR_ROOT = Path(__file__).resolve().parent.parent
if str(SIMULATOR_ROOT) not in sys.path:
    sys.path.insert(0, str(SIMULATOR_ROOT))
