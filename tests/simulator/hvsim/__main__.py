"""`python tests/simulator/hvsim ...` and `python -m hvsim ...` both land here."""

import os
import sys

if __package__ in (None, ""):
    # Run as a directory: sys.path[0] is this package directory, where hvsim/winrm would
    # shadow pywinrm's `winrm`. Replace it with the directory that holds the package.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))

from hvsim.cli import main

sys.exit(main())
