"""A benchmark's measures: each a value, its target, and whether it was met (and why not); the table and the
JSON report they make."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MET, MISSED, INFO, NOT_RUN = "met", "missed", "info", "not run"


@dataclass(frozen=True)
class Measure:
    """One row of the table. ``ok``: None for a figure with no target of its own (a ceiling, a detail)."""

    key: str  # stable name in the JSON
    title: str
    value: float | int | None
    unit: str
    target: str  # what is wanted, in words ("none" for a figure that only informs)
    ok: bool | None = None
    why: str = ""  # when missed (or not run): the reason, from what was measured
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.value is None:
            return NOT_RUN
        if self.ok is None:
            return INFO
        return MET if self.ok else MISSED

    def shown(self) -> str:
        if self.value is None:
            return "-"
        if isinstance(self.value, int):
            return f"{self.value:,} {self.unit}".strip()
        precision = 3 if abs(self.value) < 10 else 1 if abs(self.value) < 1000 else 0
        return f"{self.value:,.{precision}f} {self.unit}".strip()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        return data


def render_table(measures: list[Measure]) -> str:
    rows = [("measure", "value", "target", "status", "why")]
    rows += [(m.title, m.shown(), m.target, m.status, m.why if m.status != MET else "") for m in measures]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        lines.append("  ".join(cells) + ("  " + row[4] if row[4] else ""))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ---")
    return "\n".join(line.rstrip() for line in lines)


def write_report(folder: Path, report: dict[str, Any]) -> Path:
    """Write ``bench-<UTC timestamp>.json`` and ``latest.json`` in ``folder``; return the first."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"bench-{stamp}.json"
    text = json.dumps(report, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    (folder / "latest.json").write_text(text, encoding="utf-8")
    return path
