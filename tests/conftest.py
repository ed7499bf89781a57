"""Make the working tree importable as ansible_collections.hyperv.nested for every test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS_ROOT = REPO / "build" / "collections"
LINK = COLLECTIONS_ROOT / "ansible_collections" / "hyperv" / "nested"


def _link_collection() -> None:
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if not LINK.is_symlink():
        try:
            LINK.symlink_to(REPO, target_is_directory=True)
        except FileExistsError:
            pass
    if str(COLLECTIONS_ROOT) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS_ROOT))
    # ansible-playbook subprocesses started by integration tests find the collection here.
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    if str(COLLECTIONS_ROOT) not in paths.split(os.pathsep):
        os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in (str(COLLECTIONS_ROOT), paths) if p)


_link_collection()
