"""Atomic state files and the save-on-change rule."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hvsim.persistence import StatePersister, atomic_write_json, read_json


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.exports = 0

    def generation(self) -> int:
        return self.value

    def export_state(self) -> dict[str, Any]:
        self.exports += 1
        return {"value": self.value}


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"b": [1, 2]})
    assert read_json(target) == {"b": [1, 2]}
    assert os.listdir(tmp_path) == ["state.json"]


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_json(target, {"good": True})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})  # not JSON-able: fails mid-serialisation
    assert json.loads(target.read_text()) == {"good": True}
    assert os.listdir(tmp_path) == ["state.json"]


def test_persister_saves_only_when_the_generation_moved(tmp_path: Path) -> None:
    fleet = Counter()
    persister = StatePersister(fleet, tmp_path / "state.json")
    assert persister.save_if_changed() is True
    assert persister.save_if_changed() is False
    fleet.value = 7
    assert persister.save_if_changed() is True
    assert read_json(tmp_path / "state.json") == {"value": 7}
    assert fleet.exports == 2


def test_forced_save_writes_even_without_change(tmp_path: Path) -> None:
    fleet = Counter()
    persister = StatePersister(fleet, tmp_path / "state.json")
    persister.save()
    (tmp_path / "state.json").unlink()
    persister.save()
    assert read_json(tmp_path / "state.json") == {"value": 0}
