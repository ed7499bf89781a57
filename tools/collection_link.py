"""The one place that makes the working tree the installed collection hyperv.nested.

    build/collections/ansible_collections/hyperv/nested -> ../../../..   (a relative symlink)

ANSIBLE_COLLECTIONS_PATH=build/collections then finds the collection, and Python imports it as
ansible_collections.hyperv.nested. Used by the Makefile (`make link`), tools/run_tests.py,
tests/conftest.py and tests/bench/measure.py (both import it: the repository root is on their path).
Run as a script it prints the collections root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS_ROOT = REPO / "build" / "collections"
LINK = COLLECTIONS_ROOT / "ansible_collections" / "hyperv" / "nested"


def link_collection() -> Path:
    """Create (or repair) the link; return the collections root to put on the search paths."""
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if LINK.is_symlink() and LINK.resolve() == REPO:
        return COLLECTIONS_ROOT
    if LINK.is_symlink() or LINK.exists():
        LINK.unlink()
    try:
        LINK.symlink_to(os.path.relpath(REPO, LINK.parent), target_is_directory=True)
    except FileExistsError:  # another process linked it meanwhile
        pass
    return COLLECTIONS_ROOT


if __name__ == "__main__":
    sys.stdout.write(f"{link_collection()}\n")
