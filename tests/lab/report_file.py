"""Reading a report the role wrote, checked against its published schema (docs/report.schema.json)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text(encoding="utf-8"))


def load_report(directory: Path) -> dict[str, t.Any]:
    """nested-report.json of `directory`, after checking it against the schema; its Markdown must exist too."""
    report = t.cast(dict[str, t.Any], json.loads((directory / "nested-report.json").read_text(encoding="utf-8")))
    jsonschema.validate(report, SCHEMA)
    assert (directory / "nested-report.md").is_file()
    return report
