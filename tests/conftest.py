"""Make the working tree importable as ansible_collections.hyperv.nested for every test."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from tools.collection_link import link_collection  # the repository root is on pytest's pythonpath


def _link_collection() -> None:
    root = str(link_collection())
    # pyproject.toml puts build/collections on sys.path (pytest's `pythonpath`). On a fresh clone
    # it did not exist yet when Python first looked there and cached "nothing here" for it: forget
    # that, so the very first run imports the collection.
    for entry in [entry for entry in sys.path if entry and Path(entry).resolve() == Path(root).resolve()]:
        sys.path_importer_cache.pop(entry, None)
    importlib.invalidate_caches()
    # ansible-playbook subprocesses started by the lab tests find the collection here.
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    if root not in paths.split(os.pathsep):
        os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in (root, paths) if p)


_link_collection()
